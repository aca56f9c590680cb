//! Unqueue — pulls packets from its input and pushes them out, from a task.
//!
//! Ports: 1 input, 1 output.
//! Processing: pull input, push output.
//! Arguments: BURST (unsigned, packets per task run; default 1), keyword LIMIT (integer, -1 = no
//! limit), ACTIVE (boolean, default true).
//! Handlers: `count` (read); `reset` (write); `active`, `burst` (read/write).
//!
//! When its input has nothing, the task sleeps until the queue upstream wakes it.

use alloc::string::{String, ToString};

use config_lang::args::{ArgError, ArgValue, Args};

use crate::element::{ConfigureContext, Element, ElementClass, HandlerSpec, InitContext};
use crate::router::Context;

pub const CLASS: ElementClass = super::element_class!("Unqueue", "1/1", "l/h", Unqueue);

pub struct Unqueue {
    burst: usize,
    limit: i64,
    active: bool,
    count: u64,
}

impl Default for Unqueue {
    fn default() -> Self {
        Unqueue {
            burst: 1,
            limit: -1,
            active: true,
            count: 0,
        }
    }
}

impl Element for Unqueue {
    fn configure(&mut self, args: &mut Args, _cx: &ConfigureContext<'_>) -> Result<(), ArgError> {
        self.burst = args.read_p::<usize>("BURST")?.unwrap_or(1).max(1);
        self.limit = args.read_or("LIMIT", -1)?;
        self.active = args.read_or("ACTIVE", true)?;
        Ok(())
    }

    fn initialize(&mut self, cx: &mut InitContext<'_>) -> Result<(), String> {
        cx.add_task(self.active);
        Ok(())
    }

    fn run_task(&mut self, cx: &mut Context<'_>) -> bool {
        let mut n = self.burst;
        if self.limit >= 0 {
            n = n.min((self.limit as u64).saturating_sub(self.count) as usize);
            if n == 0 {
                cx.sleep();
                return false;
            }
        }
        match cx.pull(0, n) {
            Some(b) => {
                self.count += b.len() as u64;
                cx.push(0, b);
                true
            }
            None => {
                cx.sleep();
                false
            }
        }
    }

    fn handlers(&self) -> &'static [HandlerSpec] {
        const H: &[HandlerSpec] = &[
            HandlerSpec::read("count"),
            HandlerSpec::write("reset"),
            HandlerSpec::read_write("active"),
            HandlerSpec::read_write("burst"),
        ];
        H
    }

    fn read_handler(&self, name: &str) -> Option<String> {
        Some(match name {
            "count" => self.count.to_string(),
            "active" => self.active.to_string(),
            "burst" => self.burst.to_string(),
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
            "reset" => self.count = 0,
            "active" => self.active = bool::parse_arg(value)?,
            "burst" => self.burst = usize::parse_arg(value)?.max(1),
            _ => return Err("no such handler".into()),
        }
        if self.active {
            cx.reschedule();
        } else {
            cx.sleep();
        }
        Ok(())
    }
}
