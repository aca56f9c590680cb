//! Idle — never sends a packet; drops whatever it is given.
//!
//! Ports: any number of inputs and outputs.
//! Processing: agnostic.
//! Arguments: none.
//! Handlers: none.

use crate::element::{Element, ElementClass};

pub const CLASS: ElementClass = super::element_class!("Idle", "-/-", "a/a", Idle);

#[derive(Default)]
pub struct Idle;

impl Element for Idle {}
