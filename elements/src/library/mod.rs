//! The element classes, grouped as in Click: one element, one file. Each file starts with the
//! element's ports, processing, arguments and handlers, in that order.

pub mod ethernet;
pub mod lookup;
pub mod standard;

use crate::element::Registry;

/// Every element class this build has.
pub fn registry() -> Registry {
    let mut r = Registry::new();
    standard::register(&mut r);
    ethernet::register(&mut r);
    lookup::register(&mut r);
    r
}
