//! Queue, SimpleQueue — store packets pushed in until pulled out; drop when full.
//!
//! Ports: 1 input, 1 output.
//! Processing: push input, pull output.
//! Arguments: CAPACITY (unsigned, default 1000).
//! Handlers: `length`, `highwater_length`, `drops` (read); `capacity` (read/write); `reset_counts`
//! (write) zeroes drops and the high-water mark; `reset` (write) also empties the queue.
//!
//! Queue wakes the task that drains it when it stops being empty; SimpleQueue is the same element
//! (the notification costs nothing when nobody sleeps).

use alloc::collections::VecDeque;
use alloc::string::{String, ToString};

use config_lang::args::{ArgError, Args};

use crate::batch::Batch;
use crate::element::{ConfigureContext, Element, ElementClass, HandlerSpec};
use crate::packet::Packet;
use crate::router::Context;

pub const CLASS: ElementClass = super::element_class!("Queue", "1/1", "h/l", Queue);
pub const SIMPLE_CLASS: ElementClass = super::element_class!("SimpleQueue", "1/1", "h/l", Queue);

pub struct Queue {
    q: VecDeque<Packet>,
    capacity: usize,
    drops: u64,
    highwater: usize,
}

impl Default for Queue {
    fn default() -> Self {
        Queue {
            q: VecDeque::new(),
            capacity: 1000,
            drops: 0,
            highwater: 0,
        }
    }
}

impl Element for Queue {
    fn configure(&mut self, args: &mut Args, _cx: &ConfigureContext<'_>) -> Result<(), ArgError> {
        self.capacity = args.read_p("CAPACITY")?.unwrap_or(1000);
        // Allocated once: the data path never grows it.
        self.q = VecDeque::with_capacity(self.capacity);
        Ok(())
    }

    fn push(&mut self, _port: usize, mut batch: Batch, cx: &mut Context<'_>) {
        let was_empty = self.q.is_empty();
        for p in batch.drain() {
            if self.q.len() < self.capacity {
                self.q.push_back(p);
            } else {
                self.drops += 1;
                cx.pool().recycle(p);
            }
        }
        cx.kill_batch(batch);
        self.highwater = self.highwater.max(self.q.len());
        if was_empty && !self.q.is_empty() {
            cx.wake_downstream(0);
        }
    }

    fn pull(&mut self, _port: usize, max: usize, cx: &mut Context<'_>) -> Option<Batch> {
        if self.q.is_empty() {
            return None;
        }
        let mut b = cx.new_batch();
        let n = max.min(self.q.len());
        b.pkts.extend(self.q.drain(..n));
        Some(b)
    }

    fn handlers(&self) -> &'static [HandlerSpec] {
        const H: &[HandlerSpec] = &[
            HandlerSpec::read("length"),
            HandlerSpec::read("highwater_length"),
            HandlerSpec::read("drops"),
            HandlerSpec::read_write("capacity"),
            HandlerSpec::write("reset_counts"),
            HandlerSpec::write("reset"),
        ];
        H
    }

    fn read_handler(&self, name: &str) -> Option<String> {
        Some(match name {
            "length" => self.q.len().to_string(),
            "highwater_length" => self.highwater.to_string(),
            "drops" => self.drops.to_string(),
            "capacity" => self.capacity.to_string(),
            _ => return None,
        })
    }

    fn write_handler(
        &mut self,
        name: &str,
        value: &str,
        cx: &mut Context<'_>,
    ) -> Result<(), String> {
        use config_lang::args::ArgValue;
        match name {
            "capacity" => {
                self.capacity = usize::parse_arg(value)?;
                while self.q.len() > self.capacity {
                    let p = self.q.pop_back().expect("longer than capacity");
                    self.drops += 1;
                    cx.kill(p);
                }
                self.q.reserve(self.capacity.saturating_sub(self.q.len()));
            }
            "reset_counts" => {
                self.drops = 0;
                self.highwater = self.q.len();
            }
            "reset" => {
                while let Some(p) = self.q.pop_front() {
                    cx.kill(p);
                }
                self.drops = 0;
                self.highwater = 0;
            }
            _ => return Err("no such handler".into()),
        }
        Ok(())
    }
}
