//! Null — passes packets through unchanged.
//!
//! Ports: 1 input, 1 output.
//! Processing: agnostic.
//! Arguments: none.
//! Handlers: none.

use crate::batch::Batch;
use crate::element::{Element, ElementClass};
use crate::router::Context;

pub const CLASS: ElementClass = super::element_class!("Null", "1/1", "a/a", Null);

#[derive(Default)]
pub struct Null;

impl Element for Null {
    fn push(&mut self, _port: usize, batch: Batch, cx: &mut Context<'_>) {
        cx.push(0, batch);
    }
}
