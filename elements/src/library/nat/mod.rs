//! Network address and port translation: Click's IPRewriter family (`elements/tcpudp`,
//! `elements/ip/iprewriterbase`).
//!
//! IPRewriter, TCPRewriter and UDPRewriter share one engine ([`rewriter`]): a flow table with a
//! forward and a reply entry per mapping, input specs (`drop`, `pass`, `keep`, `pattern`) that
//! decide what happens to a flow's first packet, incremental checksum updates, timeouts swept by a
//! timer, and a capacity. IPRewriterPatterns names patterns the rewriters can share.

mod flow;
mod iprewriter;
mod iprewriterpatterns;
mod pattern;
pub mod rewriter;
mod tcprewriter;
#[cfg(test)]
mod testutil;
mod udprewriter;

use crate::element::Registry;

pub fn register(r: &mut Registry) {
    for c in [
        iprewriter::CLASS,
        iprewriterpatterns::CLASS,
        tcprewriter::CLASS,
        udprewriter::CLASS,
    ] {
        r.add(c);
    }
}
