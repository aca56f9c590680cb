//! ToNetfront — sends packets out of a network device.
//!
//! Ports: 1 input, no outputs.
//! Processing: agnostic: pushed packets are sent at once; with a pull input a task pulls up to
//! BURST packets at a time.
//! Arguments: DEVID (netfront number, or an interface name on Linux; mandatory), BURST (unsigned,
//! default 32).
//! Handlers: `count` (read) packets sent; `drops` (read) packets the device could not take;
//! `reset_counts` (write).
//!
//! When the device's ring is full, pushed packets are dropped and counted (a push element cannot
//! wait); in pull mode they stay queued upstream. ToDevice is the same element.

use alloc::boxed::Box;
use alloc::string::{String, ToString};

use config_lang::args::{ArgError, Args, Word};

use super::DeviceRef;
use crate::batch::Batch;
use crate::element::{ConfigureContext, Element, ElementClass, HandlerSpec, InitContext};
use crate::platform::NetDevice;
use crate::router::Context;

pub const CLASS: ElementClass =
    crate::library::standard::element_class!("ToNetfront", "1/0", "a/a", ToNetfront);
pub const DEVICE_CLASS: ElementClass =
    crate::library::standard::element_class!("ToDevice", "1/0", "a/a", ToNetfront);

pub struct ToNetfront {
    dev: DeviceRef,
    device: Option<Box<dyn NetDevice>>,
    burst: usize,
    count: u64,
    drops: u64,
}

impl Default for ToNetfront {
    fn default() -> Self {
        ToNetfront {
            dev: DeviceRef::None,
            device: None,
            burst: 32,
            count: 0,
            drops: 0,
        }
    }
}

impl ToNetfront {
    fn send(&mut self, mut b: Batch, cx: &mut Context<'_>) -> usize {
        let Some(dev) = self.device.as_mut() else {
            cx.kill_batch(b);
            return 0;
        };
        let sent = dev.transmit(cx.pool(), &mut b);
        self.count += sent as u64;
        self.drops += b.len() as u64;
        cx.kill_batch(b);
        sent
    }
}

impl Element for ToNetfront {
    fn configure(&mut self, args: &mut Args, _cx: &ConfigureContext<'_>) -> Result<(), ArgError> {
        let Word(d) = args.read_mp::<Word>("DEVID")?;
        self.dev = DeviceRef::parse(&d);
        self.burst = args.read_p::<usize>("BURST")?.unwrap_or(32).max(1);
        let _ = args.read::<Word>("METHOD")?;
        let _ = args.read::<bool>("DEBUG")?;
        Ok(())
    }

    fn initialize(&mut self, cx: &mut InitContext<'_>) -> Result<(), String> {
        self.device = Some(self.dev.open(cx.platform())?);
        if !cx.input_is_push(0) {
            cx.add_task(true);
        }
        Ok(())
    }

    fn push(&mut self, _port: usize, batch: Batch, cx: &mut Context<'_>) {
        self.send(batch, cx);
    }

    fn run_task(&mut self, cx: &mut Context<'_>) -> bool {
        match cx.pull(0, self.burst) {
            Some(b) => self.send(b, cx) > 0,
            None => {
                cx.sleep();
                false
            }
        }
    }

    fn handlers(&self) -> &'static [HandlerSpec] {
        const H: &[HandlerSpec] = &[
            HandlerSpec::read("count"),
            HandlerSpec::read("drops"),
            HandlerSpec::write("reset_counts"),
        ];
        H
    }

    fn read_handler(&self, name: &str) -> Option<String> {
        Some(match name {
            "count" => self.count.to_string(),
            "drops" => self.drops.to_string(),
            _ => return None,
        })
    }

    fn write_handler(
        &mut self,
        _name: &str,
        _value: &str,
        _cx: &mut Context<'_>,
    ) -> Result<(), String> {
        self.count = 0;
        self.drops = 0;
        Ok(())
    }

    fn cleanup(&mut self, _cx: &mut Context<'_>) {
        if let Some(d) = self.device.as_mut() {
            d.flush();
        }
    }
}
