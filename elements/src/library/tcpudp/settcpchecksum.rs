//! SetTCPChecksum — computes the TCP checksum of TCP/IP packets.
//!
//! Ports: 1 input, 1 output.
//! Processing: agnostic.
//! Arguments: FIXOFF (boolean: first repair a data offset below 5 words, or past the segment in a
//! non-fragment; default false).
//! Handlers: `drops` (read) packets killed because their lengths are unusable.
//!
//! Needs the network-header annotation; the protocol field is not checked. The segment is the
//! IP length minus the IP header; the checksum covers the pseudo-header and the segment.
//! Packets with no usable IP header, a segment shorter than 20 bytes, or a segment longer than
//! the packet are killed (the first is reported).

use alloc::string::{String, ToString};

use config_lang::args::{ArgError, Args};

use crate::batch::Batch;
use crate::element::{ConfigureContext, Element, ElementClass, HandlerSpec};
use crate::library::ip::{be16, checksum, network_ip_header, put16, IP_MF, IP_OFFMASK};
use crate::packet::Packet;
use crate::router::Context;

pub const CLASS: ElementClass =
    crate::library::ip::element_class!("SetTCPChecksum", "1/1", "a/a", SetTCPChecksum);

#[derive(Default)]
pub struct SetTCPChecksum {
    fixoff: bool,
    drops: u64,
}

fn set(p: &mut Packet, fixoff: bool) -> bool {
    let Some((nh, hlen)) = network_ip_header(p) else {
        return false;
    };
    let d = p.data();
    let t = nh + hlen;
    let ip_len = be16(d, nh + 2) as usize;
    let frag = be16(d, nh + 6) & (IP_MF | IP_OFFMASK) != 0;
    if ip_len < hlen + 20 || d.len() < nh + ip_len {
        return false;
    }
    let plen = ip_len - hlen;
    let b = p.data_mut();
    let (ip, seg) = b[nh..t + plen].split_at_mut(hlen);
    if fixoff {
        let off = ((seg[12] >> 4) as usize) * 4;
        if off < 20 {
            seg[12] = (5 << 4) | (seg[12] & 0x0f);
        } else if off > plen && !frag {
            seg[12] = (((plen >> 2) as u8) << 4) | (seg[12] & 0x0f);
        }
    }
    put16(seg, 16, 0);
    let c = checksum::transport(ip, seg);
    put16(seg, 16, c);
    true
}

impl Element for SetTCPChecksum {
    fn configure(&mut self, args: &mut Args, _cx: &ConfigureContext<'_>) -> Result<(), ArgError> {
        self.fixoff = args.read_p("FIXOFF")?.unwrap_or(false);
        Ok(())
    }

    fn push(&mut self, _port: usize, batch: Batch, cx: &mut Context<'_>) {
        let before = self.drops;
        let (fixoff, drops) = (self.fixoff, &mut self.drops);
        cx.classify(batch, |p| {
            if set(p, fixoff) {
                Some(0)
            } else {
                *drops += 1;
                None
            }
        });
        if before == 0 && self.drops > 0 {
            let line = alloc::format!("{}: bad lengths", cx.name());
            cx.platform().print(&line);
        }
    }

    fn handlers(&self) -> &'static [HandlerSpec] {
        const H: &[HandlerSpec] = &[HandlerSpec::read("drops")];
        H
    }

    fn read_handler(&self, name: &str) -> Option<String> {
        (name == "drops").then(|| self.drops.to_string())
    }
}

#[cfg(test)]
mod tests {
    use crate::library::ip::testutil::*;

    #[test]
    fn computes_checksums() {
        let good = tcp(A, 4000, B, 80, 0x18, b"GET / HTTP/1.0\r\n");
        let mut broken = good.clone();
        broken[36] = 1;
        broken[37] = 2;
        let mut padded = broken.clone();
        padded.extend_from_slice(&[9; 5]);
        let mut h = Harness::new("Idle -> s :: SetTCPChecksum -> ok :: Sink;");
        h.push("s", alloc::vec![with_net(&broken, 0), with_net(&padded, 0)]);
        let g = h.data("ok");
        assert_eq!(g[0], good);
        assert_eq!(&g[1][..good.len()], &good[..]);
        assert!(l4_ok(&g[0]));
    }

    #[test]
    fn fixoff_repairs_offsets() {
        let mut p = tcp(A, 4000, B, 80, 0x10, b"");
        p[32] = 2 << 4;
        let mut h = Harness::new("Idle -> s :: SetTCPChecksum(true) -> ok :: Sink;");
        h.push("s", alloc::vec![with_net(&p, 0)]);
        let d = &h.data("ok")[0];
        assert_eq!(d[32] >> 4, 5);
        assert!(l4_ok(d));
        let mut p = tcp(A, 4000, B, 80, 0x10, b"abcd");
        p[32] = 15 << 4;
        h.push("s", alloc::vec![with_net(&p, 0)]);
        let d = &h.data("ok")[0];
        assert_eq!(d[32] >> 4, 6, "24-byte segment");
        assert!(l4_ok(d));
        // Without FIXOFF the offset is left alone.
        let mut h = Harness::new("Idle -> s :: SetTCPChecksum -> ok :: Sink;");
        h.push("s", alloc::vec![with_net(&p, 0)]);
        assert_eq!(h.data("ok")[0][32] >> 4, 15);
    }

    #[test]
    fn bad_lengths_are_dropped() {
        let p = tcp(A, 4000, B, 80, 0x10, b"abcd");
        let mut short = p.clone();
        short[2..4].copy_from_slice(&39u16.to_be_bytes());
        let mut h = Harness::new("Idle -> s :: SetTCPChecksum -> ok :: Sink;");
        h.push(
            "s",
            alloc::vec![
                with_net(&p[..43], 0),
                with_net(&short, 0),
                crate::packet::Packet::from_slice(&p),
            ],
        );
        assert!(h.data("ok").is_empty());
        assert_eq!(h.read("s.drops"), "3");
        assert_eq!(h.log(), ["s: bad lengths"]);
    }
}
