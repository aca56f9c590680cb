//! Sources, sinks, counters, queues, switches, schedulers: Click's `elements/standard`.

mod averagecounter;
mod bandwidthshaper;
mod checkpaint;
mod counter;
mod discard;
mod dropbroadcasts;
mod hashswitch;
mod idle;
mod infinitesource;
mod meter;
mod null;
mod paint;
mod paintswitch;
mod painttee;
mod print;
mod priosched;
mod queue;
mod rate;
mod ratedsource;
mod ratedsplitter;
mod ratedunqueue;
mod roundrobinsched;
mod roundrobinswitch;
mod strip;
mod striptonetworkheader;
mod switch;
mod tee;
mod unqueue;
mod unstrip;

use crate::element::Registry;

pub fn register(r: &mut Registry) {
    for c in [
        averagecounter::CLASS,
        bandwidthshaper::CLASS,
        checkpaint::CLASS,
        counter::CLASS,
        discard::CLASS,
        dropbroadcasts::CLASS,
        hashswitch::CLASS,
        idle::CLASS,
        infinitesource::CLASS,
        meter::CLASS,
        null::CLASS,
        paint::CLASS,
        paintswitch::CLASS,
        painttee::CLASS,
        print::CLASS,
        priosched::CLASS,
        queue::CLASS,
        queue::SIMPLE_CLASS,
        ratedsource::CLASS,
        ratedsplitter::CLASS,
        ratedunqueue::CLASS,
        roundrobinsched::CLASS,
        roundrobinswitch::CLASS,
        strip::CLASS,
        striptonetworkheader::CLASS,
        switch::CLASS,
        tee::CLASS,
        unqueue::CLASS,
        unstrip::CLASS,
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
