//! FromNetfront — receives packets from a network device, polling it in bursts from a task.
//!
//! Ports: no inputs, 1 output.
//! Processing: push.
//! Arguments: DEVID (netfront number, or an interface name on Linux; mandatory), BURST (unsigned,
//! packets per poll, default 32), keyword ACTIVE (boolean, default true).
//! Handlers: `count` (read) packets received; `reset_counts` (write); `active` (read/write).
//!
//! This is the ClickOS receive path: no interrupt per packet; the task polls the ring and takes up
//! to BURST packets each time it runs. FromDevice is the same element.

use alloc::boxed::Box;
use alloc::string::{String, ToString};

use config_lang::args::{ArgError, ArgValue, Args, Word};

use super::DeviceRef;
use crate::element::{ConfigureContext, Element, ElementClass, HandlerSpec, InitContext};
use crate::platform::NetDevice;
use crate::router::Context;

pub const CLASS: ElementClass =
    crate::library::standard::element_class!("FromNetfront", "0/1", "h/h", FromNetfront);
pub const DEVICE_CLASS: ElementClass =
    crate::library::standard::element_class!("FromDevice", "0/1", "h/h", FromNetfront);

pub struct FromNetfront {
    dev: DeviceRef,
    device: Option<Box<dyn NetDevice>>,
    burst: usize,
    active: bool,
    count: u64,
}

impl Default for FromNetfront {
    fn default() -> Self {
        FromNetfront {
            dev: DeviceRef::None,
            device: None,
            burst: 32,
            active: true,
            count: 0,
        }
    }
}

impl Element for FromNetfront {
    fn configure(&mut self, args: &mut Args, _cx: &ConfigureContext<'_>) -> Result<(), ArgError> {
        let Word(d) = args.read_mp::<Word>("DEVID")?;
        self.dev = DeviceRef::parse(&d);
        self.burst = args.read_p::<usize>("BURST")?.unwrap_or(32).max(1);
        self.active = args.read_or("ACTIVE", true)?;
        // Click's userlevel FromDevice keywords that have no meaning here are accepted and ignored.
        let _ = args.read::<bool>("PROMISC")?;
        let _ = args.read::<u32>("SNAPLEN")?;
        let _ = args.read::<Word>("METHOD")?;
        let _ = args.read::<bool>("SNIFFER")?;
        Ok(())
    }

    fn initialize(&mut self, cx: &mut InitContext<'_>) -> Result<(), String> {
        self.device = Some(self.dev.open(cx.platform())?);
        cx.add_task(self.active);
        Ok(())
    }

    fn run_task(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(dev) = self.device.as_mut() else {
            return false;
        };
        let mut b = cx.new_batch();
        let n = dev.receive(cx.pool(), &mut b, self.burst);
        if n == 0 {
            let done = dev.exhausted();
            cx.kill_batch(b);
            if done {
                cx.sleep();
            }
            return false;
        }
        self.count += n as u64;
        cx.push(0, b);
        true
    }

    fn handlers(&self) -> &'static [HandlerSpec] {
        const H: &[HandlerSpec] = &[
            HandlerSpec::read("count"),
            HandlerSpec::write("reset_counts"),
            HandlerSpec::read_write("active"),
        ];
        H
    }

    fn read_handler(&self, name: &str) -> Option<String> {
        Some(match name {
            "count" => self.count.to_string(),
            "active" => self.active.to_string(),
            _ => return None,
        })
    }

    fn write_handler(
        &mut self,
        name: &str,
        value: &str,
        cx: &mut Context<'_>,
    ) -> Result<(), String> {
        match name {
            "reset_counts" => self.count = 0,
            "active" => {
                self.active = bool::parse_arg(value)?;
                if self.active {
                    cx.reschedule();
                } else {
                    cx.sleep();
                }
            }
            _ => return Err("no such handler".into()),
        }
        Ok(())
    }
}
