//! IPRewriter — rewrites the addresses and ports of TCP and UDP flows (network address and port
//! translation), with a mapping per flow and its replies.
//!
//! Ports: 1 or more inputs, 1 or more outputs.
//! Processing: push.
//! Arguments: one INPUTSPEC per input (`need N arguments, one per input port`), then keywords:
//! - `drop` / `discard`: packets without a mapping are killed.
//! - `pass [OUTPUT]` (also `passthrough`, `nochange`): packets without a mapping leave unchanged
//!   on OUTPUT (default 0); no mapping is made.
//! - `keep FOUTPUT ROUTPUT`: an identity mapping; the flow leaves on FOUTPUT, its replies on
//!   ROUTPUT.
//! - `pattern SADDR SPORT DADDR DPORT FOUTPUT ROUTPUT` (also `xpattern`): the flow is rewritten to
//!   the pattern and leaves on FOUTPUT; replies are rewritten back and leave on ROUTPUT. A field
//!   `-` is left unchanged. SPORT may be a range `L-H`: a port is chosen so that no two mappings
//!   share a reply flow — the flow's own port if the range holds it and it is free, else a random
//!   free one; a `#` suffix (`1024-65535#`) allocates sequentially, a `?` suffix randomly without
//!   trying the flow's own port first. SADDR may be a pool, `A-B` or a prefix `A/LEN` (a prefix
//!   shorter than /31 leaves out its network and broadcast addresses), with the same suffixes; an
//!   address pool combines with a port range (every address/port pair is a candidate).
//! - `pattern NAME FOUTPUT ROUTPUT`: a pattern named by an IPRewriterPatterns element.
//!
//! Keywords: `TCP_TIMEOUT` (or `TIMEOUT`; TCP connections with data seen both ways, default 24 h),
//! `TCP_NODATA_TIMEOUT` (other TCP connections, 5 min), `TCP_DONE_TIMEOUT` (connections closed
//! by FIN both ways or by RST, 4 min), `TCP_GUARANTEE` (or `GUARANTEE`, 5 s), `UDP_TIMEOUT`
//! (5 min), `UDP_STREAMING_TIMEOUT` (flows of 3 or more packets with replies; default
//! UDP_TIMEOUT), `UDP_GUARANTEE` (5 s), `REAP_INTERVAL` (or the old `REAP_TIME`; how often
//! expired mappings are removed, 15 min; 0 = never), `MAPPING_CAPACITY` (or `CAPACITY`; most
//! mappings held, default 2147483647), `DST_ANNO` (bool, default true: set the destination
//! address annotation to the rewritten destination).
//! Handlers: `table`, `tcp_table`, `udp_table` (read) mappings, one line per direction, as
//! Click prints them: `(SA, SP, DA, DP) => (SA', SP', DA', DP') [*FOUT ROUT] iINPUT expSECONDS`,
//! the star on the output that direction uses; `nmappings`, `size` (read) live mappings;
//! `capacity` (read/write; writing evicts down to it); `clear` (write) removes every mapping;
//! `mapping_failures` (read) new flows that got no mapping; `patterns` (read) each input's spec
//! and live mapping count; `drops` (read) packets killed.
//!
//! The table is looked up first, whatever the input: a packet of a known flow (either
//! direction) is rewritten — addresses, ports, and the IP, TCP and UDP checksums updated
//! incrementally (a zero UDP checksum stays zero) — and leaves on the mapping's output. Otherwise
//! the input's spec decides. A mapping lives for its timeout after its last packet, and cannot be
//! evicted during its guarantee; a timer removes expired mappings every REAP_INTERVAL (as in
//! Click, a mapping past its timeout still works until that sweep). When the table is full, a new
//! flow evicts the least recently used mapping whose guarantee has passed (Click evicts the one
//! that would expire first), or is dropped and counted in `mapping_failures` if none has.
//!
//! The IP header is where the network header annotation says, or at the start of the packet
//! when it is unset. Packets IPRewriter does not map — not TCP or UDP, non-first fragments, a TCP
//! header shorter than 20 bytes or a UDP header shorter than 8, or no valid IPv4 header at all —
//! leave unchanged on a `pass` input's output and are killed (and counted in `drops`) on other
//! inputs, as in Click. ICMP errors about mapped flows are not translated: Click leaves that to
//! ICMPRewriter, which ClickOS-rs does not have.
//!
//! Differences from Click: mappings are keyed by the 5-tuple (Click keeps TCP and UDP tables
//! apart, the same thing); `MAPPING_CAPACITY` naming another rewriter (a shared flow set),
//! `ELEMENTNAME` input specs (IPMapper elements such as RoundRobinIPMapper), `REPLY_ANNO`, the
//! per-input `patternN` handlers and the `tcp_lookup` handler are not supported; the first three
//! are configuration errors. Each input has its own copy of a named pattern, so sequential
//! allocation does not continue across inputs sharing one.

use crate::element::ElementClass;

use super::rewriter::{Rewriter, IP};

pub type IPRewriter = Rewriter<IP>;

pub const CLASS: ElementClass =
    crate::library::standard::element_class!("IPRewriter", "1-/1-", "h/h", IPRewriter);

#[cfg(test)]
mod tests {
    use alloc::string::String;
    use alloc::vec::Vec;

    use proptest::prelude::*;

    use crate::batch::Batch;
    use crate::library::nat::testutil::*;
    use crate::packet::Packet;
    use crate::router::Router;
    use crate::testing::{build_errors, captured, inject, router, set_now};

    const SEC: u64 = 1_000_000_000;
    const IN: [u8; 4] = [10, 0, 0, 5];
    const IN2: [u8; 4] = [10, 0, 0, 6];
    const NAT: [u8; 4] = [1, 0, 0, 1];
    const EXT: [u8; 4] = [2, 0, 0, 2];

    /// Input 0 maps outgoing flows, input 1 takes replies; out/back capture outputs 0 and 1.
    fn nat(spec0: &str, keywords: &str) -> Router {
        router(&alloc::format!(
            "Idle -> [0]rw :: IPRewriter({spec0}, drop{keywords}); Idle -> [1]rw;\n\
             rw[0] -> out :: Capture; rw[1] -> back :: Capture;"
        ))
    }

    fn send(r: &mut Router, port: usize, pkts: &[Vec<u8>]) {
        let v: Vec<&[u8]> = pkts.iter().map(Vec::as_slice).collect();
        inject(r, "rw", port, &v);
    }

    fn h(r: &Router, name: &str) -> String {
        r.read_handler(&alloc::format!("rw.{name}")).unwrap()
    }

    #[test]
    fn outbound_flow_gets_a_port_from_the_range_and_replies_map_back() {
        let mut r = nat("pattern 1.0.0.1 1024-65535# - - 0 1", "");
        send(&mut r, 0, &[tcp(IN, 5000, EXT, 80, SYN, b"")]);
        let out = captured(&r, "out");
        assert_eq!(out.len(), 1);
        assert_eq!(fields(&out[0]), (NAT, 1024, EXT, 80));
        assert!(checksums_ok(&out[0]));
        assert_eq!(h(&r, "nmappings"), "1");
        let table = h(&r, "table");
        assert!(table.contains(
            "(10.0.0.5, 5000, 2.0.0.2, 80) => (1.0.0.1, 1024, 2.0.0.2, 80) [*0 1] i0 exp300"
        ));
        assert!(table.contains(
            "(2.0.0.2, 80, 1.0.0.1, 1024) => (2.0.0.2, 80, 10.0.0.5, 5000) [0 *1] i0 exp300"
        ));
        assert_eq!(h(&r, "tcp_table"), table);
        assert_eq!(h(&r, "udp_table"), "");

        // The reply, on the drop input, is found in the table and rewritten back.
        send(&mut r, 1, &[tcp(EXT, 80, NAT, 1024, SYN | ACK, b"hello")]);
        let back = captured(&r, "back");
        assert_eq!(back.len(), 1);
        assert_eq!(fields(&back[0]), (EXT, 80, IN, 5000));
        assert!(checksums_ok(&back[0]));
        assert_eq!(&back[0][40..], b"hello");
        // Later packets of the flow keep the mapping, from either input.
        send(&mut r, 1, &[tcp(IN, 5000, EXT, 80, ACK, b"x")]);
        assert_eq!(fields(&captured(&r, "out")[1]), (NAT, 1024, EXT, 80));
        // A reply to a port nobody has is dropped by the drop input.
        send(&mut r, 1, &[tcp(EXT, 80, NAT, 1025, ACK, b"")]);
        assert_eq!(captured(&r, "back").len(), 1);
        assert_eq!(h(&r, "drops"), "1");
        assert_eq!(h(&r, "patterns"), "1.0.0.1 1024-65535 - - [1]\n<drop>\n");
    }

    #[test]
    fn flows_get_distinct_ports() {
        let mut r = nat("pattern 1.0.0.1 1024-65535# - - 0 1", "");
        send(
            &mut r,
            0,
            &[
                tcp(IN, 5000, EXT, 80, SYN, b""),
                tcp(IN2, 5000, EXT, 80, SYN, b""),
                udp(IN, 5000, EXT, 53, b"q", true),
            ],
        );
        let out = captured(&r, "out");
        assert_eq!(fields(&out[0]).1, 1024);
        assert_eq!(fields(&out[1]).1, 1025);
        assert_eq!(h(&r, "nmappings"), "3");
        // Replies find their own flows.
        send(
            &mut r,
            1,
            &[
                tcp(EXT, 80, NAT, 1025, ACK, b""),
                tcp(EXT, 80, NAT, 1024, ACK, b""),
            ],
        );
        let back = captured(&r, "back");
        assert_eq!(fields(&back[0]), (EXT, 80, IN2, 5000));
        assert_eq!(fields(&back[1]), (EXT, 80, IN, 5000));
    }

    #[test]
    fn own_port_is_kept_when_free() {
        let mut r = nat("pattern 1.0.0.1 1024-65535 - - 0 1", "");
        send(
            &mut r,
            0,
            &[
                tcp(IN, 5000, EXT, 80, SYN, b""),
                tcp(IN2, 5000, EXT, 80, SYN, b""),
                tcp(IN2, 5000, [3, 0, 0, 3], 80, SYN, b""),
            ],
        );
        let out = captured(&r, "out");
        assert_eq!(fields(&out[0]).1, 5000);
        let second = fields(&out[1]).1;
        assert!(second >= 1024 && second != 5000);
        // Another destination: the reply flow differs, so 5000 is free again.
        assert_eq!(fields(&out[2]).1, 5000);
    }

    #[test]
    fn udp_checksums_including_zero() {
        let mut r = nat("pattern 1.0.0.1 1024-65535# - - 0 1", "");
        send(
            &mut r,
            0,
            &[
                udp(IN, 5000, EXT, 53, b"query", true),
                udp(IN, 5001, EXT, 53, b"nocsum", false),
            ],
        );
        let out = captured(&r, "out");
        assert!(checksums_ok(&out[0]));
        assert_ne!(l4_checksum(&out[0]), 0);
        assert_eq!(fields(&out[1]), (NAT, 1025, EXT, 53));
        assert_eq!(l4_checksum(&out[1]), 0, "no checksum stays no checksum");
        assert!(checksums_ok(&out[1]));
        send(&mut r, 1, &[udp(EXT, 53, NAT, 1024, b"answer", true)]);
        let back = captured(&r, "back");
        assert_eq!(fields(&back[0]), (EXT, 53, IN, 5000));
        assert!(checksums_ok(&back[0]));
        assert!(h(&r, "udp_table").contains("(10.0.0.5, 5000, 2.0.0.2, 53)"));
    }

    #[test]
    fn checksums_stay_valid_for_many_rewrites() {
        // Destination rewriting too, IP options, payloads of odd length.
        let mut r = nat("pattern 1.0.0.0/24 60000-60010 3.3.3.3 8080 0 1", "");
        let mut pkts = Vec::new();
        for k in 0..40u8 {
            let src = [10, k, 200 - k, 1 + k];
            let payload = alloc::vec![k; usize::from(k)];
            pkts.push(tcp_opts(
                src,
                1000 + u16::from(k),
                EXT,
                80,
                ACK,
                &payload,
                usize::from(k % 3) * 4,
            ));
            pkts.push(udp(src, 2000 + u16::from(k), EXT, 53, &payload, true));
        }
        send(&mut r, 0, &pkts);
        let out = captured(&r, "out");
        assert_eq!(out.len(), pkts.len());
        for p in &out {
            assert!(checksums_ok(p));
            let (s, sp, d, dp) = fields(p);
            assert_eq!(
                (s[..3].to_vec(), d, dp),
                (alloc::vec![1, 0, 0], [3, 3, 3, 3], 8080)
            );
            assert!((1..=254).contains(&s[3]) && (60000..=60010).contains(&sp));
        }
        // Replies come back with valid checksums to the original hosts.
        let replies: Vec<Vec<u8>> = out
            .iter()
            .map(|p| {
                let (s, sp, _, _) = fields(p);
                if p[9] == TCP {
                    tcp([3, 3, 3, 3], 8080, s, sp, ACK, b"ok")
                } else {
                    udp([3, 3, 3, 3], 8080, s, sp, b"ok", true)
                }
            })
            .collect();
        send(&mut r, 1, &replies);
        let back = captured(&r, "back");
        assert_eq!(back.len(), pkts.len());
        for (b, orig) in back.iter().zip(&pkts) {
            assert!(checksums_ok(b));
            let (s, sp, d, dp) = fields(orig);
            assert_eq!(fields(b), (d, dp, s, sp));
        }
    }

    #[test]
    fn keep_and_pass_inputs() {
        let mut r = router(
            "Idle -> [0]rw :: IPRewriter(keep 0 1, pass 2, drop); Idle -> [1]rw; Idle -> [2]rw;\n\
             rw[0] -> a :: Capture; rw[1] -> b :: Capture; rw[2] -> c :: Capture;",
        );
        let orig = tcp(IN, 5000, EXT, 80, SYN, b"");
        send(&mut r, 0, core::slice::from_ref(&orig));
        assert_eq!(captured(&r, "a"), [orig]);
        // Replies of a kept flow go to ROUTPUT, unchanged, even arriving on the pass input.
        let reply = tcp(EXT, 80, IN, 5000, ACK, b"");
        send(&mut r, 1, core::slice::from_ref(&reply));
        assert_eq!(captured(&r, "b"), [reply]);
        // The pass input sends unmapped packets, and those IPRewriter cannot map, unchanged.
        let other = udp(IN2, 1, EXT, 2, b"", true);
        let ping = icmp(IN, EXT);
        send(&mut r, 1, &[other.clone(), ping.clone(), b"junk".to_vec()]);
        assert_eq!(captured(&r, "c"), [other, ping.clone(), b"junk".to_vec()]);
        assert_eq!(h(&r, "nmappings"), "1");
        // The keep and drop inputs kill what they cannot map.
        send(&mut r, 0, core::slice::from_ref(&ping));
        send(&mut r, 2, &[ping, udp(IN2, 1, EXT, 2, b"", true)]);
        assert_eq!(h(&r, "drops"), "3");
        assert_eq!(h(&r, "patterns"), "<keep> [1]\n<nochange>\n<drop>\n");
    }

    #[test]
    fn non_first_fragments_and_short_headers_are_not_mapped() {
        let mut r = nat("pattern 1.0.0.1 1024-65535# - - 0 1", "");
        let mut frag = udp(IN, 5000, EXT, 53, b"12345678", true);
        frag[6] = 0x00;
        frag[7] = 0x02; // offset 16 bytes
        frag[10] = 0;
        frag[11] = 0;
        let mut short = tcp(IN, 5000, EXT, 80, SYN, b"");
        short.truncate(30);
        short[2..4].copy_from_slice(&30u16.to_be_bytes());
        send(&mut r, 0, &[frag, short]);
        assert!(captured(&r, "out").is_empty());
        assert_eq!(h(&r, "drops"), "2");
        assert_eq!(h(&r, "nmappings"), "0");
    }

    #[test]
    fn network_header_annotation_locates_the_ip_header() {
        let mut r = nat("pattern 1.0.0.1 1024-65535# - - 0 1", "");
        let mut framed = alloc::vec![0xaau8; 14];
        framed.extend(tcp(IN, 5000, EXT, 80, SYN, b""));
        let mut p = Packet::from_slice(&framed);
        p.anno_mut().set_network_offset(14);
        let e = r.find("rw").unwrap();
        r.inject(e, 0, Batch::from_vec(alloc::vec![p]));
        let out = captured(&r, "out");
        assert_eq!(&out[0][..14], &[0xaa; 14]);
        assert_eq!(fields(&out[0][14..]), (NAT, 1024, EXT, 80));
        assert!(checksums_ok(&out[0][14..]));
    }

    #[test]
    fn udp_mappings_time_out() {
        let mut r = nat(
            "pattern 1.0.0.1 1024-65535# - - 0 1",
            ", UDP_TIMEOUT 10s, UDP_GUARANTEE 2s, REAP_INTERVAL 1s",
        );
        send(&mut r, 0, &[udp(IN, 5000, EXT, 53, b"q", true)]);
        set_now(&mut r, 5 * SEC);
        assert_eq!(h(&r, "nmappings"), "1");
        assert!(h(&r, "table").contains("exp5"));
        // A packet at 5 s restarts the timeout.
        send(&mut r, 0, &[udp(IN, 5000, EXT, 53, b"q", true)]);
        set_now(&mut r, 14 * SEC);
        assert_eq!(h(&r, "nmappings"), "1");
        set_now(&mut r, 16 * SEC);
        assert_eq!(h(&r, "nmappings"), "0");
        assert_eq!(h(&r, "table"), "");
        // The reply now has no mapping and is dropped.
        send(&mut r, 1, &[udp(EXT, 53, NAT, 1024, b"a", true)]);
        assert!(captured(&r, "back").is_empty());
        // With no mappings left the sweep stops: nothing keeps the router busy.
        assert_eq!(r.next_timer(), None);
    }

    #[test]
    fn closed_tcp_connections_use_the_done_timeout() {
        let mut r = nat(
            "pattern 1.0.0.1 1024-65535# - - 0 1",
            ", TCP_DONE_TIMEOUT 30s, TCP_NODATA_TIMEOUT 100s, TCP_TIMEOUT 1000s, REAP_INTERVAL 1s",
        );
        // Connection A: data both ways, then FIN both ways. Connection B: data both ways.
        // Connection C: a SYN, no answer.
        let b_src = IN2;
        send(
            &mut r,
            0,
            &[
                tcp(IN, 5000, EXT, 80, ACK, b"req"),
                tcp(b_src, 5000, EXT, 80, ACK, b"req"),
                tcp(IN, 6000, EXT, 80, SYN, b""),
            ],
        );
        send(
            &mut r,
            1,
            &[
                tcp(EXT, 80, NAT, 1024, ACK, b"resp"),
                tcp(EXT, 80, NAT, 1025, ACK, b"resp"),
            ],
        );
        send(&mut r, 0, &[tcp(IN, 5000, EXT, 80, FIN | ACK, b"")]);
        // One FIN is not enough.
        set_now(&mut r, 31 * SEC);
        assert_eq!(h(&r, "nmappings"), "3");
        send(&mut r, 1, &[tcp(EXT, 80, NAT, 1024, FIN | ACK, b"")]);
        set_now(&mut r, 62 * SEC);
        assert_eq!(h(&r, "nmappings"), "2");
        // C had no data both ways: the no-data timeout.
        set_now(&mut r, 132 * SEC);
        assert_eq!(h(&r, "nmappings"), "1");
        assert!(h(&r, "table").contains("(10.0.0.6, 5000, 2.0.0.2, 80)"));
        // An RST ends B at once (done timeout).
        send(&mut r, 1, &[tcp(EXT, 80, NAT, 1025, RST, b"")]);
        set_now(&mut r, 163 * SEC);
        assert_eq!(h(&r, "nmappings"), "0");
    }

    #[test]
    fn capacity_limits_new_flows() {
        let mut r = nat(
            "pattern 1.0.0.1 1024-65535# - - 0 1",
            ", CAPACITY 2, TCP_GUARANTEE 5s",
        );
        send(
            &mut r,
            0,
            &[
                tcp(IN, 1, EXT, 80, SYN, b""),
                tcp(IN, 2, EXT, 80, SYN, b""),
                tcp(IN, 3, EXT, 80, SYN, b""),
            ],
        );
        assert_eq!(captured(&r, "out").len(), 2);
        assert_eq!(h(&r, "mapping_failures"), "1");
        assert_eq!(h(&r, "drops"), "1");
        assert_eq!(h(&r, "capacity"), "2");
        // Packets of known flows still pass.
        send(&mut r, 0, &[tcp(IN, 2, EXT, 80, ACK, b"")]);
        assert_eq!(captured(&r, "out").len(), 3);
        // Past the guarantee, a new flow evicts the least recently used one (flow 1).
        set_now(&mut r, 6 * SEC);
        send(&mut r, 0, &[tcp(IN, 3, EXT, 80, SYN, b"")]);
        assert_eq!(captured(&r, "out").len(), 4);
        assert_eq!(h(&r, "nmappings"), "2");
        let t = h(&r, "table");
        assert!(!t.contains("(10.0.0.5, 1, ") && t.contains("(10.0.0.5, 2, "));
        // Writing the capacity evicts down to it; clear empties the table.
        r.write_handler("rw.capacity", "1").unwrap();
        assert_eq!(h(&r, "nmappings"), "1");
        assert!(r.write_handler("rw.capacity", "lots").is_err());
        r.write_handler("rw.clear", "").unwrap();
        assert_eq!(h(&r, "nmappings"), "0");
        assert_eq!(h(&r, "patterns"), "1.0.0.1 1024-65535 - -\n<drop>\n");
    }

    #[test]
    fn exhausted_port_range_fails_new_flows() {
        let mut r = nat("pattern 1.0.0.1 7000-7001# - - 0 1", "");
        send(
            &mut r,
            0,
            &[
                tcp(IN, 1, EXT, 80, SYN, b""),
                tcp(IN, 2, EXT, 80, SYN, b""),
                tcp(IN, 3, EXT, 80, SYN, b""),
            ],
        );
        assert_eq!(captured(&r, "out").len(), 2);
        assert_eq!(h(&r, "mapping_failures"), "1");
    }

    #[test]
    fn named_patterns() {
        let mut r = router(
            "IPRewriterPatterns(to_nat 1.0.0.1 2000-2010# - -, to_web - - 9.9.9.9 8080);\n\
             Idle -> [0]rw :: IPRewriter(pattern to_nat 0 1, pattern to_web 0 1); Idle -> [1]rw;\n\
             rw[0] -> out :: Capture; rw[1] -> back :: Capture;",
        );
        send(&mut r, 0, &[tcp(IN, 5000, EXT, 80, SYN, b"")]);
        send(&mut r, 1, &[tcp(IN2, 5000, EXT, 80, SYN, b"")]);
        // The table comes first: a known flow keeps its mapping whatever the input.
        send(&mut r, 1, &[tcp(IN, 5000, EXT, 80, ACK, b"")]);
        let out = captured(&r, "out");
        assert_eq!(fields(&out[0]), (NAT, 2000, EXT, 80));
        assert_eq!(fields(&out[1]), (IN2, 5000, [9, 9, 9, 9], 8080));
        assert_eq!(fields(&out[2]), (NAT, 2000, EXT, 80));
        assert!(out.iter().all(|p| checksums_ok(p)));
        assert_eq!(
            h(&r, "patterns"),
            "1.0.0.1 2000-2010 - - [1]\n- - 9.9.9.9 8080 [1]\n"
        );
    }

    #[test]
    fn configuration_errors() {
        let one = |cfg: &str| {
            let e = build_errors(&alloc::format!(
                "Idle -> [0]rw :: IPRewriter({cfg}); Idle -> [1]rw; rw[0] -> Idle; rw[1] -> Idle;"
            ));
            assert_eq!(e.len(), 1, "{cfg}: {e:?}");
            e[0].clone()
        };
        assert!(one("drop").contains("need 2 arguments"));
        assert!(one("drop, drop, drop").contains("need 2 arguments"));
        assert!(one("drop, pattern 1.0.0.1 1024-65535# - - 0 2").contains("out of range"));
        assert!(one("drop, pattern 1.0.0.x 1024 - - 0 1").contains("bad source address"));
        assert!(one("drop, pattern nope 0 1").contains("no such pattern"));
        assert!(one("drop, frobnicate").contains("unknown specification"));
        assert!(one("drop, drop, TIMEOUT soon").contains("TIMEOUT"));
        assert!(one("drop, drop, REPLY_ANNO PAINT").contains("not supported"));
        assert!(one("drop, drop, CAPACITY many").contains("bad MAPPING_CAPACITY"));
        assert!(one("drop, drop, TCP_TIMOUT 5").contains("TCP_TIMOUT"));
        let e = build_errors(
            "Idle -> a :: IPRewriter(pass) -> Idle; Idle -> b :: IPRewriter(pass, MAPPING_CAPACITY a) -> Idle;",
        );
        assert!(
            e[0].contains("sharing the flow set of 'a' is not supported"),
            "{e:?}"
        );
        assert!(build_errors(
            "Idle -> [0]rw :: IPRewriter(pattern 1.0.0.1 1024-65535# - - 0 1, drop, \
             TCP_TIMEOUT 1h, TIMEOUT 2h, TCP_DONE_TIMEOUT 1min, TCP_NODATA_TIMEOUT 5m, \
             TCP_GUARANTEE 1s, GUARANTEE 2s, UDP_TIMEOUT 30s, UDP_STREAMING_TIMEOUT 1min, \
             UDP_GUARANTEE 0, REAP_INTERVAL 10s, REAP_TIME 20s, MAPPING_CAPACITY 100, \
             DST_ANNO false); Idle -> [1]rw; rw[0] -> Idle; rw[1] -> Idle;"
        )
        .is_empty());
    }

    #[test]
    fn corpus_style_configuration_with_comments() {
        let mut r = router(
            "rw :: IPRewriter(\n\
               // input 0: new flows from the LAN\n\
               pattern 192.0.2.1 20000-59999# - - 0 1,\n\
               drop, // input 1: unsolicited traffic\n\
               pattern - - 10.0.0.22 22 1 0,\n\
               pass 0,\n\
               TCP_TIMEOUT 2h, TCP_DONE_TIMEOUT 30s, UDP_TIMEOUT 90s, REAP_INTERVAL 5min,\n\
               MAPPING_CAPACITY 16384);\n\
             Idle -> [0]rw; Idle -> [1]rw; Idle -> [2]rw; Idle -> [3]rw;\n\
             rw[0] -> out :: Capture; rw[1] -> back :: Capture;",
        );
        // Port forward: outside -> 192.0.2.1:2222 becomes -> 10.0.0.22:22, and back.
        send(&mut r, 2, &[tcp(EXT, 4000, [192, 0, 2, 1], 2222, SYN, b"")]);
        assert_eq!(
            fields(&captured(&r, "back")[0]),
            (EXT, 4000, [10, 0, 0, 22], 22)
        );
        send(
            &mut r,
            1,
            &[tcp([10, 0, 0, 22], 22, EXT, 4000, SYN | ACK, b"")],
        );
        let out = captured(&r, "out");
        assert_eq!(fields(&out[0]), ([192, 0, 2, 1], 2222, EXT, 4000));
        assert!(checksums_ok(&out[0]));
        assert_eq!(h(&r, "capacity"), "16384");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(100))]

        /// Any flow through any pattern, and its reply back: checksums computed from scratch
        /// agree with the incremental updates.
        #[test]
        fn rewritten_checksums_are_valid(
            src in any::<[u8; 4]>(), dst in any::<[u8; 4]>(),
            sport in 1u16.., dport in 1u16..,
            payload in proptest::collection::vec(any::<u8>(), 0..64),
            new_src in any::<[u8; 4]>(), new_dport in 1u16..,
            is_udp in any::<bool>(), udp_csum in any::<bool>(),
        ) {
            let spec = alloc::format!(
                "pattern {}.{}.{}.{} 1024-65535 - {} 0 1",
                new_src[0], new_src[1], new_src[2], new_src[3], new_dport
            );
            let mut r = nat(&spec, "");
            let fwd = if is_udp {
                udp(src, sport, dst, dport, &payload, udp_csum)
            } else {
                tcp(src, sport, dst, dport, ACK, &payload)
            };
            send(&mut r, 0, &[fwd]);
            let out = captured(&r, "out");
            prop_assert_eq!(out.len(), 1);
            prop_assert!(checksums_ok(&out[0]));
            let (s, sp, d, dp) = fields(&out[0]);
            prop_assert_eq!((s, d, dp), (new_src, dst, new_dport));
            let reply = if is_udp {
                udp(d, dp, s, sp, &payload, udp_csum)
            } else {
                tcp(d, dp, s, sp, ACK, &payload)
            };
            send(&mut r, 1, &[reply]);
            let back = captured(&r, "back");
            prop_assert_eq!(back.len(), 1);
            prop_assert!(checksums_ok(&back[0]));
            prop_assert_eq!(fields(&back[0]), (dst, dport, src, sport));
            if is_udp && !udp_csum {
                prop_assert_eq!(l4_checksum(&back[0]), 0);
            }
        }
    }

    fn fuzz_router() -> Router {
        router(
            "Idle -> [0]rw :: IPRewriter(pattern 1.0.0.1 1024-1100 - - 0 1, keep 1 0, pass 2, drop,\n\
               pattern 10.1.0.0/30 - 3.3.3.3 - 1 2, CAPACITY 20);\n\
             Idle -> [1]rw; Idle -> [2]rw; Idle -> [3]rw; Idle -> [4]rw;\n\
             rw[0] -> Discard; rw[1] -> Discard; rw[2] -> Discard;",
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Random bytes, and valid packets with random bytes overwritten, into every input:
        /// nothing panics, and every packet leaves or is counted.
        #[test]
        fn malformed_packets_never_panic(
            pkts in proptest::collection::vec(
                (0usize..5, any::<bool>(), proptest::collection::vec(any::<u8>(), 0..80),
                 proptest::collection::vec((0usize..64, any::<u8>()), 0..6), 0u8..4),
                1..40)
        ) {
            let mut r = fuzz_router();
            let e = r.find("rw").unwrap();
            for (port, mutate, bytes, edits, base) in pkts {
                let mut data = if mutate {
                    let mut d = match base {
                        0 => tcp(IN, 1, EXT, 80, SYN, &bytes),
                        1 => udp(EXT, 80, NAT, 1024, &bytes, true),
                        2 => tcp(EXT, 80, IN, 1, ACK, &bytes),
                        _ => udp(IN, 7, [3, 3, 3, 3], 9, &bytes, false),
                    };
                    for (at, v) in edits {
                        if let Some(b) = d.get_mut(at) {
                            *b = v;
                        }
                    }
                    d
                } else {
                    bytes
                };
                if data.len() > 2 && base == 3 {
                    data.truncate(data.len() / 2);
                }
                let mut p = Packet::from_slice(&data);
                if base == 2 {
                    p.anno_mut().set_network_offset(usize::from(data.first().copied().unwrap_or(0) % 4));
                }
                r.inject(e, port, Batch::from_vec(alloc::vec![p]));
                set_now(&mut r, u64::from(data.len() as u32) * SEC);
            }
            let n: usize = h(&r, "nmappings").parse().unwrap();
            prop_assert!(n <= 20);
            let _ = h(&r, "table");
        }
    }
}
