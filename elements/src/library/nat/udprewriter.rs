//! UDPRewriter — rewrites the addresses and ports of UDP flows (and of TCP packets given to it,
//! with UDP timeouts).
//!
//! Ports: 1 or more inputs, 1 or more outputs.
//! Processing: push.
//! Arguments: one INPUTSPEC per input, as for IPRewriter (`drop`, `pass [OUTPUT]`,
//! `keep FOUTPUT ROUTPUT`, `pattern SADDR SPORT DADDR DPORT FOUTPUT ROUTPUT`,
//! `pattern NAME FOUTPUT ROUTPUT`), then keywords: `UDP_TIMEOUT` (or `TIMEOUT`, default 5 min),
//! `UDP_STREAMING_TIMEOUT` (or `STREAMING_TIMEOUT`; flows of at least 3 packets with traffic both
//! ways; default the timeout), `UDP_GUARANTEE` (or `GUARANTEE`, 5 s), `REAP_INTERVAL` (or
//! `REAP_TIME`, 15 min), `MAPPING_CAPACITY` (or `CAPACITY`), `DST_ANNO` (bool, default true).
//! Handlers: `table` (read) mappings, one line per direction, as IPRewriter prints them;
//! `nmappings`, `size` (read); `capacity` (read/write); `clear` (write); `mapping_failures`,
//! `patterns`, `drops` (read).
//!
//! Everything else is as for IPRewriter (see `iprewriter.rs`). As in Click, UDPRewriter also maps
//! TCP packets (updating the TCP checksum) but times them out like UDP flows. Other protocols,
//! non-first fragments and short headers leave unchanged on a `pass` input and are killed
//! elsewhere. Click also passes DCCP through the table; ClickOS-rs does not (its checksum would
//! not be updated). Mappings are keyed by the 5-tuple, so a TCP and a UDP flow with the same
//! addresses and ports are two mappings (Click's UDPRewriter would share one).

use crate::element::ElementClass;

use super::rewriter::{Rewriter, UDP};

pub type UDPRewriter = Rewriter<UDP>;

pub const CLASS: ElementClass =
    crate::library::standard::element_class!("UDPRewriter", "1-/1-", "h/h", UDPRewriter);

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;

    use crate::library::nat::testutil::*;
    use crate::router::Router;
    use crate::testing::{build_errors, captured, inject, router, set_now};

    const SEC: u64 = 1_000_000_000;
    const IN: [u8; 4] = [10, 0, 0, 5];
    const NAT: [u8; 4] = [1, 0, 0, 1];
    const EXT: [u8; 4] = [2, 0, 0, 2];

    fn nat(keywords: &str) -> Router {
        router(&alloc::format!(
            "Idle -> [0]rw :: UDPRewriter(pattern 1.0.0.1 1024-65535# - - 0 1, drop{keywords});\n\
             Idle -> [1]rw; rw[0] -> out :: Capture; rw[1] -> back :: Capture;"
        ))
    }

    fn send(r: &mut Router, port: usize, pkts: &[Vec<u8>]) {
        let v: Vec<&[u8]> = pkts.iter().map(Vec::as_slice).collect();
        inject(r, "rw", port, &v);
    }

    #[test]
    fn maps_udp_and_tcp() {
        let mut r = nat("");
        send(
            &mut r,
            0,
            &[
                udp(IN, 5000, EXT, 53, b"q", true),
                tcp(IN, 5000, EXT, 80, SYN, b""),
                icmp(IN, EXT),
            ],
        );
        let out = captured(&r, "out");
        assert_eq!(out.len(), 2);
        assert_eq!(fields(&out[0]), (NAT, 1024, EXT, 53));
        assert_eq!(fields(&out[1]), (NAT, 1025, EXT, 80));
        assert!(out.iter().all(|p| checksums_ok(p)));
        assert_eq!(r.read_handler("rw.drops").unwrap(), "1");
        send(&mut r, 1, &[udp(EXT, 53, NAT, 1024, b"a", false)]);
        let back = captured(&r, "back");
        assert_eq!(fields(&back[0]), (EXT, 53, IN, 5000));
        assert_eq!(l4_checksum(&back[0]), 0);
    }

    #[test]
    fn timeout_and_streaming_timeout() {
        let mut r = nat(", TIMEOUT 10s, STREAMING_TIMEOUT 100s, GUARANTEE 1s, REAP_INTERVAL 1s");
        // Flow A: 3 packets, one a reply (streaming). Flow B: one packet.
        send(
            &mut r,
            0,
            &[
                udp(IN, 1, EXT, 53, b"", true),
                udp(IN, 1, EXT, 53, b"", true),
                udp(IN, 2, EXT, 53, b"", true),
            ],
        );
        send(&mut r, 1, &[udp(EXT, 53, NAT, 1024, b"", true)]);
        set_now(&mut r, 11 * SEC);
        assert_eq!(r.read_handler("rw.nmappings").unwrap(), "1");
        set_now(&mut r, 99 * SEC);
        assert_eq!(r.read_handler("rw.nmappings").unwrap(), "1");
        set_now(&mut r, 101 * SEC);
        assert_eq!(r.read_handler("rw.nmappings").unwrap(), "0");
    }

    #[test]
    fn rejects_tcp_keywords() {
        let e = build_errors("Idle -> rw :: UDPRewriter(drop, TCP_TIMEOUT 5s) -> Idle;");
        assert!(e[0].contains("TCP_TIMEOUT"), "{e:?}");
    }
}
