//! Sources, sinks, counters, queues, switches, schedulers: Click's `elements/standard`.

mod counter;
mod discard;
mod idle;
mod infinitesource;
mod null;
mod queue;
mod tee;
mod unqueue;

use crate::element::Registry;

pub fn register(r: &mut Registry) {
    for c in [
        counter::CLASS,
        discard::CLASS,
        idle::CLASS,
        infinitesource::CLASS,
        null::CLASS,
        queue::CLASS,
        queue::SIMPLE_CLASS,
        tee::CLASS,
        unqueue::CLASS,
    ] {
        r.add(c);
    }
}

/// Registry entries are built the same way everywhere.
#[macro_export]
macro_rules! element_class {
    ($name:literal, $ports:literal, $processing:literal, $ty:ty) => {
        ElementClass {
            name: $name,
            ports: $ports,
            processing: $processing,
            make: || alloc::boxed::Box::new(<$ty>::default()),
        }
    };
}
pub(crate) use element_class;
