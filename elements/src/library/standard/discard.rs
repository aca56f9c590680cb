//! Discard — drops every packet.
//!
//! Ports: any number of inputs, no outputs.
//! Processing: push (inputs may also be pull: then a task pulls and drops, as Click does).
//! Arguments: none.
//! Handlers: `count` (read) packets dropped; `reset_counts` (write) zeroes it.

use alloc::string::{String, ToString};

use crate::batch::Batch;
use crate::element::{Element, ElementClass, HandlerSpec};
use crate::router::Context;

pub const CLASS: ElementClass = super::element_class!("Discard", "-/0", "a/a", Discard);

#[derive(Default)]
pub struct Discard {
    count: u64,
}

impl Element for Discard {
    fn push(&mut self, _port: usize, batch: Batch, cx: &mut Context<'_>) {
        self.count += batch.len() as u64;
        cx.kill_batch(batch);
    }

    fn handlers(&self) -> &'static [HandlerSpec] {
        const H: &[HandlerSpec] = &[
            HandlerSpec::read("count"),
            HandlerSpec::write("reset_counts"),
        ];
        H
    }

    fn read_handler(&self, name: &str) -> Option<String> {
        (name == "count").then(|| self.count.to_string())
    }

    fn write_handler(
        &mut self,
        _name: &str,
        _value: &str,
        _cx: &mut Context<'_>,
    ) -> Result<(), String> {
        self.count = 0;
        Ok(())
    }
}
