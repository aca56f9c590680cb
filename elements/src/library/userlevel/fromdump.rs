//! FromDump — reads packets from a pcap or pcapng file.
//!
//! Ports: no inputs, 1 output.
//! Processing: push.
//! Arguments: FILENAME (string, mandatory), keywords STOP (boolean: stop the router at the end of
//! the file; default false), ACTIVE (boolean, default true), BURST (unsigned, packets per task
//! run, default 32), TIMING (boolean; only false is supported: packets go out as fast as the
//! router takes them), FORCE_IP (boolean, default false: emit only IPv4 packets — Ethernet frames
//! with type 0x0800 — with their network-header annotation set after the Ethernet header).
//! Handlers: `count` (read) packets read; `filename` (read); `active` (read/write).

use std::string::{String, ToString};

use config_lang::args::{ArgError, ArgValue, Args};

use super::pcap::PcapSource;
use crate::element::{ConfigureContext, Element, ElementClass, HandlerSpec, InitContext};
use crate::router::Context;

pub const CLASS: ElementClass =
    crate::library::standard::element_class!("FromDump", "0/1", "h/h", FromDump);

pub struct FromDump {
    filename: String,
    source: Option<PcapSource>,
    stop: bool,
    active: bool,
    burst: usize,
    force_ip: bool,
    count: u64,
}

impl Default for FromDump {
    fn default() -> Self {
        FromDump {
            filename: String::new(),
            source: None,
            stop: false,
            active: true,
            burst: 32,
            force_ip: false,
            count: 0,
        }
    }
}

impl Element for FromDump {
    fn configure(&mut self, args: &mut Args, _cx: &ConfigureContext<'_>) -> Result<(), ArgError> {
        self.filename = args.read_mp("FILENAME")?;
        self.stop = args.read_or("STOP", false)?;
        self.active = args.read_or("ACTIVE", true)?;
        self.burst = args.read_or("BURST", 32usize)?.max(1);
        self.force_ip = args.read_or("FORCE_IP", false)?;
        if args.read_or("TIMING", false)? {
            return Err(ArgError::new(
                "TIMING",
                "replaying at the recorded pace is not supported; use TIMING false",
                None,
            ));
        }
        Ok(())
    }

    fn initialize(&mut self, cx: &mut InitContext<'_>) -> Result<(), String> {
        self.source = Some(PcapSource::open(&self.filename)?);
        cx.add_task(self.active);
        Ok(())
    }

    fn run_task(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(src) = self.source.as_mut() else {
            return false;
        };
        let mut b = cx.new_batch();
        let mut ended = false;
        while b.len() < self.burst {
            match src.next(cx.pool()) {
                Some(mut p) => {
                    if self.force_ip {
                        let d = p.data();
                        if d.len() < 34 || d[12..14] != [0x08, 0x00] {
                            cx.kill(p);
                            continue;
                        }
                        p.anno_mut().set_network_offset(14);
                    }
                    b.push(p)
                }
                None => {
                    ended = true;
                    break;
                }
            }
        }
        let n = b.len();
        self.count += n as u64;
        if ended {
            // End of file.
            cx.sleep();
            if self.stop {
                cx.stop_router();
            }
        }
        cx.push(0, b);
        n > 0
    }

    fn handlers(&self) -> &'static [HandlerSpec] {
        const H: &[HandlerSpec] = &[
            HandlerSpec::read("count"),
            HandlerSpec::read("filename"),
            HandlerSpec::read_write("active"),
        ];
        H
    }

    fn read_handler(&self, name: &str) -> Option<String> {
        Some(match name {
            "count" => self.count.to_string(),
            "filename" => self.filename.clone(),
            "active" => self.active.to_string(),
            _ => return None,
        })
    }

    fn write_handler(
        &mut self,
        _name: &str,
        value: &str,
        cx: &mut Context<'_>,
    ) -> Result<(), String> {
        self.active = bool::parse_arg(value)?;
        if self.active {
            cx.reschedule();
        } else {
            cx.sleep();
        }
        Ok(())
    }
}
