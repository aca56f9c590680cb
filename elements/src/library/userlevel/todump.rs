//! ToDump — writes packets to a pcap file (tcpdump and Wireshark read it).
//!
//! Ports: 1 input, 0 or 1 outputs.
//! Processing: agnostic: pushed packets are written and passed on (if there is an output); with a
//! pull input, a task pulls them.
//! Arguments: FILENAME (string, mandatory), SNAPLEN (unsigned, default 65535), ENCAP (`ETHER`
//! (default) or `IP`).
//! Handlers: `count` (read) packets written; `filename` (read).
//!
//! The file is flushed when the router stops.

use std::string::{String, ToString};

use config_lang::args::{ArgError, Args, Word};

use super::pcap::{Encap, PcapSink};
use crate::batch::Batch;
use crate::element::{ConfigureContext, Element, ElementClass, HandlerSpec, InitContext};
use crate::router::Context;

pub const CLASS: ElementClass =
    crate::library::standard::element_class!("ToDump", "1/0-1", "a/a", ToDump);

pub struct ToDump {
    filename: String,
    snaplen: u32,
    encap: Encap,
    sink: Option<PcapSink>,
    count: u64,
    errors: u64,
}

impl Default for ToDump {
    fn default() -> Self {
        ToDump {
            filename: String::new(),
            snaplen: 65535,
            encap: Encap::Ethernet,
            sink: None,
            count: 0,
            errors: 0,
        }
    }
}

impl ToDump {
    fn write(&mut self, b: &Batch) {
        let Some(sink) = self.sink.as_mut() else {
            return;
        };
        for p in b.iter() {
            match sink.write(p) {
                Ok(()) => self.count += 1,
                Err(_) => self.errors += 1,
            }
        }
    }
}

impl Element for ToDump {
    fn configure(&mut self, args: &mut Args, _cx: &ConfigureContext<'_>) -> Result<(), ArgError> {
        self.filename = args.read_mp("FILENAME")?;
        self.snaplen = args.read_p("SNAPLEN")?.unwrap_or(65535);
        if let Some(Word(e)) = args.read_p::<Word>("ENCAP")? {
            self.encap = match e.as_str() {
                "ETHER" => Encap::Ethernet,
                "IP" => Encap::Ip,
                other => {
                    return Err(ArgError::new(
                        "ENCAP",
                        std::format!("'{other}' is not ETHER or IP"),
                        None,
                    ))
                }
            };
        }
        let _ = args.read::<bool>("USE_ENCAP_FROM")?;
        Ok(())
    }

    fn initialize(&mut self, cx: &mut InitContext<'_>) -> Result<(), String> {
        self.sink = Some(PcapSink::create(&self.filename, self.snaplen, self.encap)?);
        if !cx.input_is_push(0) {
            cx.add_task(true);
        }
        Ok(())
    }

    fn push(&mut self, _port: usize, batch: Batch, cx: &mut Context<'_>) {
        self.write(&batch);
        if cx.noutputs() > 0 {
            cx.push(0, batch);
        } else {
            cx.kill_batch(batch);
        }
    }

    fn run_task(&mut self, cx: &mut Context<'_>) -> bool {
        match cx.pull(0, 32) {
            Some(b) => {
                self.push(0, b, cx);
                true
            }
            None => {
                cx.sleep();
                false
            }
        }
    }

    fn handlers(&self) -> &'static [HandlerSpec] {
        const H: &[HandlerSpec] = &[HandlerSpec::read("count"), HandlerSpec::read("filename")];
        H
    }

    fn read_handler(&self, name: &str) -> Option<String> {
        Some(match name {
            "count" => self.count.to_string(),
            "filename" => self.filename.clone(),
            _ => return None,
        })
    }

    fn cleanup(&mut self, _cx: &mut Context<'_>) {
        if let Some(s) = self.sink.as_mut() {
            s.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::router;

    #[test]
    fn dump_and_read_back() {
        let dir = std::env::temp_dir().join(std::format!("clickos-todump-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("out.pcap");
        let f = f.to_str().unwrap();
        let mut r = router(&std::format!(
            "InfiniteSource(LENGTH 60, LIMIT 25, BURST 8, STOP true) -> d :: ToDump(\"{f}\");"
        ));
        r.run_until_idle(10);
        r.cleanup();
        assert_eq!(r.read_handler("d.count").unwrap(), "25");
        let mut r2 = router(&std::format!(
            "FromDump(\"{f}\", STOP true) -> c :: Counter -> Discard;"
        ));
        r2.run_until_idle(10);
        assert_eq!(r2.read_handler("c.count").unwrap(), "25");
        assert_eq!(r2.read_handler("c.byte_count").unwrap(), "1500");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
