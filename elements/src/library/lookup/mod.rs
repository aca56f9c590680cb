//! IPv4 route lookup: Click's StaticIPLookup and RadixIPLookup (the IPRouteTable family), sharing
//! one route table and one lookup structure (a multibit trie, at most 7 steps a lookup).

mod radixiplookup;
mod routes;
mod staticiplookup;
mod trie;

use crate::element::Registry;
pub(crate) use crate::library::standard::element_class;

pub fn register(r: &mut Registry) {
    for c in [radixiplookup::CLASS, staticiplookup::CLASS] {
        r.add(c);
    }
}
