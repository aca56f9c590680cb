//! The element classes, grouped as in Click: one element, one file. Each file starts with the
//! element's ports, processing, arguments and handlers, in that order.

pub mod classifier;
pub mod ethernet;
pub mod icmp;
pub mod ip;
pub mod lookup;
pub mod names;
pub mod nat;
pub mod netdev;
pub mod standard;
pub mod tcpudp;
#[cfg(feature = "std")]
pub mod userlevel;

use crate::element::Registry;

/// Every element class this build has.
pub fn registry() -> Registry {
    let mut r = Registry::new();
    standard::register(&mut r);
    nat::register(&mut r);
    netdev::register(&mut r);
    classifier::register(&mut r);
    ethernet::register(&mut r);
    lookup::register(&mut r);
    ip::register(&mut r);
    icmp::register(&mut r);
    tcpudp::register(&mut r);
    #[cfg(feature = "std")]
    userlevel::register(&mut r);
    r
}
