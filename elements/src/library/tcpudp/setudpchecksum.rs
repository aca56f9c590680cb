//! SetUDPChecksum — computes the UDP checksum of UDP/IP packets.
//!
//! Ports: 1 input, 1 or 2 outputs.
//! Processing: agnostic input and output 0; output 1 push.
//! Arguments: none.
//! Handlers: none.
//!
//! Needs the network-header annotation; the protocol field is not checked. The checksum covers
//! the pseudo-header and the UDP length bytes; a result of zero is sent as `0xFFFF` (RFC 768).
//! Packets that are fragments, that have no usable IP header, or whose UDP length is below 8 or
//! longer than the packet go to output 1, or are dropped (reporting the first) when output 1 is not
//! connected.

use crate::batch::Batch;
use crate::element::{Element, ElementClass};
use crate::library::ip::{
    be16, checksum, network_ip_header, put16, split_good_bad, IP_MF, IP_OFFMASK,
};
use crate::packet::Packet;
use crate::router::Context;

pub const CLASS: ElementClass =
    crate::library::ip::element_class!("SetUDPChecksum", "1/1-2", "a/ah", SetUDPChecksum);

#[derive(Default)]
pub struct SetUDPChecksum {
    reported: bool,
}

/// Sets the checksum; false (packet untouched) when it cannot.
fn set(p: &mut Packet) -> bool {
    let Some((nh, hlen)) = network_ip_header(p) else {
        return false;
    };
    let d = p.data();
    let t = nh + hlen;
    if be16(d, nh + 6) & (IP_MF | IP_OFFMASK) != 0 || d.len() < t + 8 {
        return false;
    }
    let ulen = be16(d, t + 4) as usize;
    if ulen < 8 || d.len() < t + ulen {
        return false;
    }
    let b = p.data_mut();
    let (ip, seg) = b[nh..t + ulen].split_at_mut(hlen);
    put16(seg, 6, 0);
    let c = checksum::transport(ip, seg);
    put16(seg, 6, if c == 0 { 0xffff } else { c });
    true
}

impl Element for SetUDPChecksum {
    fn push(&mut self, _port: usize, batch: Batch, cx: &mut Context<'_>) {
        let reported = &mut self.reported;
        split_good_bad(batch, cx, |p, cx| {
            if set(p) {
                return true;
            }
            if cx.noutputs() < 2 && !*reported {
                *reported = true;
                let line = alloc::format!("{}: fragment or short packet", cx.name());
                cx.platform().print(&line);
            }
            false
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::library::ip::testutil::*;

    const CFG: &str = "Idle -> s :: SetUDPChecksum -> ok :: Sink; s[1] -> bad :: Sink;";

    #[test]
    fn computes_checksums() {
        let good = udp(A, 1234, B, 53, b"some data");
        let mut broken = good.clone();
        broken[26] = 0xde;
        broken[27] = 0xad;
        let mut frame = alloc::vec![0u8; 14];
        frame.extend_from_slice(&broken);
        let mut h = Harness::new(CFG);
        h.push("s", alloc::vec![with_net(&broken, 0), with_net(&frame, 14)]);
        let g = h.data("ok");
        assert_eq!(g[0], good);
        assert_eq!(&g[1][14..], &good[..]);
        assert!(l4_ok(&g[0]));
    }

    #[test]
    fn zero_result_is_sent_as_ffff() {
        // Pick a payload word making the ones'-complement sum 0xFFFF, i.e. checksum 0.
        let mut p = udp(A, 1, B, 2, &[0, 0]);
        p[26] = 0;
        p[27] = 0;
        let mut seg_sum = {
            let mut v = alloc::vec::Vec::new();
            v.extend_from_slice(&p[12..20]);
            v.extend_from_slice(&[0, 17, 0, 10]);
            v.extend_from_slice(&p[20..30]);
            reference_sum(&v)
        };
        // Adding w to the sum: want (sum + w) folded == 0xFFFF.
        seg_sum = 0xffff - seg_sum;
        p[28..30].copy_from_slice(&(seg_sum as u16).to_be_bytes());
        let mut h = Harness::new(CFG);
        h.push("s", alloc::vec![with_net(&p, 0)]);
        let d = &h.data("ok")[0];
        assert_eq!(&d[26..28], &[0xff, 0xff]);
        assert!(l4_ok(d));
    }

    #[test]
    fn fragments_and_short_packets_are_refused() {
        let good = udp(A, 1, B, 2, b"abc");
        let mut frag = good.clone();
        frag[6] = 0x20;
        fix_ip(&mut frag);
        let mut long = good.clone();
        long[24..26].copy_from_slice(&200u16.to_be_bytes());
        let mut tiny = good.clone();
        tiny[24..26].copy_from_slice(&4u16.to_be_bytes());
        let pkts = [frag, long, tiny, good[..25].to_vec()];
        let mut h = Harness::new(CFG);
        h.push("s", pkts.iter().map(|d| with_net(d, 0)).collect());
        assert!(h.data("ok").is_empty());
        assert_eq!(h.data("bad"), pkts);
        assert!(h.log().is_empty());
        let mut h = Harness::new("Idle -> s :: SetUDPChecksum -> ok :: Sink;");
        h.push("s", pkts.iter().map(|d| with_net(d, 0)).collect());
        assert!(h.data("ok").is_empty());
        assert_eq!(h.log(), ["s: fragment or short packet"]);
    }
}
