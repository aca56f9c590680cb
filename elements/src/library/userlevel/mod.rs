//! Elements that need an operating system: pcap files. Built with the `std` feature, for
//! `clickos-cli run`.

mod fromdump;
pub mod pcap;
mod todump;

use crate::element::Registry;

pub fn register(r: &mut Registry) {
    r.add(fromdump::CLASS);
    r.add(todump::CLASS);
}
