//! TCPRewriter — rewrites the addresses and ports of TCP connections (IPRewriter for TCP only).
//!
//! Ports: 1 or more inputs, 1 or more outputs.
//! Processing: push.
//! Arguments: one INPUTSPEC per input, as for IPRewriter (`drop`, `pass [OUTPUT]`,
//! `keep FOUTPUT ROUTPUT`, `pattern SADDR SPORT DADDR DPORT FOUTPUT ROUTPUT`,
//! `pattern NAME FOUTPUT ROUTPUT`), then keywords: `TCP_TIMEOUT` (or `TIMEOUT`; connections with
//! data seen both ways, default 24 h), `TCP_NODATA_TIMEOUT` (others, 5 min), `TCP_DONE_TIMEOUT`
//! (closed by FIN both ways or by RST, 4 min), `TCP_GUARANTEE` (or `GUARANTEE`, 5 s),
//! `REAP_INTERVAL` (or `REAP_TIME`, 15 min), `MAPPING_CAPACITY` (or `CAPACITY`), `DST_ANNO`
//! (bool, default true).
//! Handlers: `table` (read) mappings, one line per direction, as IPRewriter prints them;
//! `nmappings`, `size` (read); `capacity` (read/write); `clear` (write); `mapping_failures`,
//! `patterns`, `drops` (read).
//!
//! Everything else is as for IPRewriter (see `iprewriter.rs`): the table is looked up first, a
//! new flow is handled by its input's spec, checksums are updated incrementally, mappings expire
//! by a timer sweep. Packets that are not TCP (UDP included), non-first fragments, and TCP
//! headers shorter than 20 bytes leave unchanged on a `pass` input and are killed elsewhere.
//!
//! Left out from Click: sequence-number deltas (only FTPPortMapper, which ClickOS-rs does not
//! have, sets them), the `lookup` handler (handlers take no parameters here), REPLY_ANNO, and a
//! MAPPING_CAPACITY naming another rewriter.

use crate::element::ElementClass;

use super::rewriter::{Rewriter, TCP};

pub type TCPRewriter = Rewriter<TCP>;

pub const CLASS: ElementClass =
    crate::library::standard::element_class!("TCPRewriter", "1-/1-", "h/h", TCPRewriter);

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

    fn send(r: &mut Router, port: usize, pkts: &[Vec<u8>]) {
        let v: Vec<&[u8]> = pkts.iter().map(Vec::as_slice).collect();
        inject(r, "rw", port, &v);
    }

    #[test]
    fn maps_tcp_and_leaves_udp_to_the_input_spec() {
        let mut r = router(
            "Idle -> [0]rw :: TCPRewriter(pattern 1.0.0.1 1024-65535# - - 0 1, pass 2);\n\
             Idle -> [1]rw; rw[0] -> out :: Capture; rw[1] -> back :: Capture; rw[2] -> raw :: Capture;",
        );
        let u = udp(IN, 5000, EXT, 53, b"q", true);
        send(&mut r, 0, &[tcp(IN, 5000, EXT, 80, SYN, b""), u.clone()]);
        let out = captured(&r, "out");
        assert_eq!(out.len(), 1);
        assert_eq!(fields(&out[0]), (NAT, 1024, EXT, 80));
        assert!(checksums_ok(&out[0]));
        assert_eq!(r.read_handler("rw.drops").unwrap(), "1");
        // On the pass input, UDP goes through untouched; the TCP reply is mapped back.
        send(
            &mut r,
            1,
            &[u.clone(), tcp(EXT, 80, NAT, 1024, ACK, b"data")],
        );
        assert_eq!(captured(&r, "raw"), [u]);
        let back = captured(&r, "back");
        assert_eq!(fields(&back[0]), (EXT, 80, IN, 5000));
        assert!(checksums_ok(&back[0]));
        let t = r.read_handler("rw.table").unwrap();
        assert_eq!(t.lines().count(), 2);
    }

    #[test]
    fn timeout_keyword_is_the_data_timeout() {
        let mut r = router(
            "Idle -> [0]rw :: TCPRewriter(pattern 1.0.0.1 1024-65535# - - 0 1, drop, \
             TIMEOUT 50s, TCP_NODATA_TIMEOUT 20s, REAP_INTERVAL 1s);\n\
             Idle -> [1]rw; rw[0] -> out :: Capture; rw[1] -> back :: Capture;",
        );
        // Flow 1 carries data both ways; flow 2 only a SYN.
        send(
            &mut r,
            0,
            &[
                tcp(IN, 1, EXT, 80, ACK, b"a"),
                tcp(IN, 2, EXT, 80, SYN, b""),
            ],
        );
        send(&mut r, 1, &[tcp(EXT, 80, NAT, 1024, ACK, b"b")]);
        set_now(&mut r, 21 * SEC);
        assert_eq!(r.read_handler("rw.nmappings").unwrap(), "1");
        set_now(&mut r, 51 * SEC);
        assert_eq!(r.read_handler("rw.nmappings").unwrap(), "0");
    }

    #[test]
    fn rejects_udp_keywords() {
        let e = build_errors("Idle -> rw :: TCPRewriter(drop, UDP_TIMEOUT 5s) -> Idle;");
        assert!(e[0].contains("UDP_TIMEOUT"), "{e:?}");
    }
}
