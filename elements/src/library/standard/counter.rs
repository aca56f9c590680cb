//! Counter — counts packets and bytes passing through.
//!
//! Ports: 1 input, 1 output.
//! Processing: agnostic.
//! Arguments: none.
//! Handlers: `count` (read) packets; `byte_count` (read) bytes; `reset` / `reset_counts` (write)
//! zero both.

use alloc::string::{String, ToString};

use crate::batch::Batch;
use crate::element::{Element, ElementClass, HandlerSpec};
use crate::router::Context;

pub const CLASS: ElementClass = super::element_class!("Counter", "1/1", "a/a", Counter);

#[derive(Default)]
pub struct Counter {
    count: u64,
    bytes: u64,
}

impl Element for Counter {
    fn push(&mut self, _port: usize, batch: Batch, cx: &mut Context<'_>) {
        self.count += batch.len() as u64;
        self.bytes += batch.bytes() as u64;
        cx.push(0, batch);
    }

    fn handlers(&self) -> &'static [HandlerSpec] {
        const H: &[HandlerSpec] = &[
            HandlerSpec::read("count"),
            HandlerSpec::read("byte_count"),
            HandlerSpec::write("reset"),
            HandlerSpec::write("reset_counts"),
        ];
        H
    }

    fn read_handler(&self, name: &str) -> Option<String> {
        match name {
            "count" => Some(self.count.to_string()),
            "byte_count" => Some(self.bytes.to_string()),
            _ => None,
        }
    }

    fn write_handler(
        &mut self,
        _name: &str,
        _value: &str,
        _cx: &mut Context<'_>,
    ) -> Result<(), String> {
        self.count = 0;
        self.bytes = 0;
        Ok(())
    }
}
