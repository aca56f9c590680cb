//! ICMP error generation and echo responding: Click's `elements/icmp`.

mod icmperror;
mod icmppingresponder;

use crate::element::Registry;

pub fn register(r: &mut Registry) {
    for c in [icmperror::CLASS, icmppingresponder::CLASS] {
        r.add(c);
    }
}
