//! ICMPPingResponder — turns ICMP echo requests into echo replies.
//!
//! Ports: 1 input, 1 or 2 outputs.
//! Processing: agnostic input and output 0; output 1 push.
//! Arguments: none.
//! Handlers: none.
//!
//! Needs the network-header annotation. An ICMP echo request (type 8, at least 8 bytes of ICMP)
//! leaves on output 0 as the reply, rewritten in place: source and destination swapped, flags
//! and fragment offset cleared, TTL 255, type 0 and code 0, both checksums updated incrementally
//! (RFC 1624). The reply's destination annotation is its new destination, its paint annotation
//! is cleared and its timestamp set to now; other annotations stay. Every other packet,
//! including malformed ones, goes to output 1, or is dropped if output 1 is not connected.

use crate::batch::Batch;
use crate::element::{Element, ElementClass};
use crate::library::ip::{
    addr_at, be16, checksum, network_ip_header, put16, split_good_bad, IP_PROTO_ICMP,
};
use crate::library::names::{ICMP_ECHO, ICMP_ECHO_REPLY};
use crate::packet::Packet;
use crate::router::Context;

pub const CLASS: ElementClass =
    crate::library::ip::element_class!("ICMPPingResponder", "1/1-2", "a/ah", ICMPPingResponder);

#[derive(Default)]
pub struct ICMPPingResponder;

/// Rewrites an echo request into its reply; false (packet untouched) for anything else.
fn reply(p: &mut Packet, now: u64) -> bool {
    let Some((nh, hlen)) = network_ip_header(p) else {
        return false;
    };
    let d = p.data();
    let t = nh + hlen;
    if d[nh + 9] != IP_PROTO_ICMP || d.len() < t + 8 || d[t] != ICMP_ECHO {
        return false;
    }
    // The ICMP message ends at the IP length (or the packet end, if that is shorter).
    let end = (nh + be16(d, nh + 2) as usize).clamp(t + 8, d.len());
    let dst = addr_at(d, nh + 12);

    let b = p.data_mut();
    let ip = &mut b[nh..t];
    // Swapping the addresses leaves the header checksum unchanged.
    let (src, rest) = ip[12..20].split_at_mut(4);
    src.swap_with_slice(rest);
    let mut sum = be16(ip, 10);
    sum = checksum::update16(sum, be16(ip, 6), 0);
    put16(ip, 6, 0);
    let old = be16(ip, 8);
    ip[8] = 255;
    sum = checksum::update16(sum, old, be16(ip, 8));
    put16(ip, 10, sum);

    let icmp = &mut b[t..end];
    let old = be16(icmp, 0);
    icmp[0] = ICMP_ECHO_REPLY;
    icmp[1] = 0;
    let sum = checksum::update16(be16(icmp, 2), old, 0);
    put16(icmp, 2, sum);
    let sum = checksum::fix_zero(sum, icmp);
    put16(icmp, 2, sum);

    let a = p.anno_mut();
    a.dst_ip = dst;
    a.paint = 0;
    a.timestamp_ns = now;
    true
}

impl Element for ICMPPingResponder {
    fn push(&mut self, _port: usize, batch: Batch, cx: &mut Context<'_>) {
        let now = cx.platform().wall_ns();
        split_good_bad(batch, cx, |p, _| reply(p, now));
    }
}

#[cfg(test)]
mod tests {
    use crate::library::ip::testutil::*;
    use crate::packet::Packet;
    use alloc::vec::Vec;

    const CFG: &str = "Idle -> r :: ICMPPingResponder -> out :: Sink; r[1] -> other :: Sink;";

    #[test]
    fn echo_request_becomes_reply() {
        let mut req = echo(A, B, 0x4242, 9, b"abcdefghijklmnop");
        req[6] = 0x40; // DF
        req[8] = 7;
        fix_ip(&mut req);
        let mut p = with_net(&req, 0);
        p.anno_mut().paint = 5;
        p.anno_mut().device = 3;
        let mut h = Harness::new(CFG);
        h.push("r", alloc::vec![p]);
        let g = h.got("out");
        assert_eq!(g.len(), 1);
        let d = &g[0].data;
        assert_eq!(&d[12..16], &B.octets());
        assert_eq!(&d[16..20], &A.octets());
        assert_eq!(&d[6..8], &[0, 0]);
        assert_eq!(d[8], 255);
        assert_eq!(&d[20..22], &[0, 0]);
        assert_eq!(&d[24..], &req[24..], "id, sequence and data kept");
        assert!(ip_ok(d), "IP checksum");
        assert!(l4_ok(d), "ICMP checksum");
        // Same as checksums computed from scratch.
        let mut full = d.clone();
        fix_ip(&mut full);
        fix_l4(&mut full, 2);
        assert_eq!(d, &full);
        let a = &g[0].anno;
        assert_eq!(
            (a.dst_ip, a.paint, a.device, a.timestamp_ns),
            (A, 0, 3, NOW_NS)
        );
        assert!(h.got("other").is_empty());
    }

    #[test]
    fn all_zero_icmp_gets_ffff_checksum() {
        // Request with id 0x0800 and seq 0 ... after the rewrite the ICMP bytes are all zero.
        let mut req = icmp(A, B, 8, 0, [0; 4], &[]);
        req[22] = 0xf7;
        req[23] = 0xff; // correct checksum of 08 00 00 00 00 00 00 00
        assert!(l4_ok(&req));
        let mut h = Harness::new(CFG);
        h.push("r", alloc::vec![with_net(&req, 0)]);
        let d = &h.got("out")[0].data;
        assert_eq!(&d[20..28], &[0, 0, 0xff, 0xff, 0, 0, 0, 0]);
    }

    #[test]
    fn other_packets_go_to_output_1() {
        let ok = echo(A, B, 1, 1, b"");
        let pkts: Vec<Packet> = alloc::vec![
            with_net(&icmp(A, B, 0, 0, [0; 4], b""), 0), // a reply
            with_net(&udp(A, 1, B, 2, b"xxxx"), 0),
            with_net(&ok[..27], 0),  // 7 bytes of ICMP
            Packet::from_slice(&ok), // no network header
            with_net(&ok[..12], 0),
        ];
        let mut h = Harness::new(CFG);
        h.push("r", pkts);
        assert!(h.got("out").is_empty());
        assert_eq!(h.got("other").len(), 5);
        let mut h = Harness::new("Idle -> r :: ICMPPingResponder -> out :: Sink;");
        h.push("r", alloc::vec![with_net(&udp(A, 1, B, 2, b""), 0)]);
        assert!(h.got("out").is_empty());
    }
}
