//! SetIPChecksum — recomputes the IP header checksum.
//!
//! Ports: 1 input, 1 output.
//! Processing: agnostic.
//! Arguments: none.
//! Handlers: `drops` (read) malformed packets killed.
//!
//! The header is at the network-header annotation, or at the start of the packet when that is
//! unset. Packets with fewer than 20 bytes there, a header length below 20, or a header longer
//! than the packet are killed (the first one is reported).

use alloc::string::{String, ToString};

use crate::batch::Batch;
use crate::element::{Element, ElementClass, HandlerSpec};
use crate::router::Context;

use super::{checksum, header_len_at};

pub const CLASS: ElementClass = super::element_class!("SetIPChecksum", "1/1", "a/a", SetIPChecksum);

#[derive(Default)]
pub struct SetIPChecksum {
    drops: u64,
}

impl Element for SetIPChecksum {
    fn push(&mut self, _port: usize, batch: Batch, cx: &mut Context<'_>) {
        let before = self.drops;
        let drops = &mut self.drops;
        cx.classify(batch, |p| {
            let off = p.anno().network_offset().unwrap_or(0);
            match header_len_at(p.data(), off) {
                Some(hlen) => {
                    checksum::set_ip_header(&mut p.data_mut()[off..off + hlen]);
                    Some(0)
                }
                None => {
                    *drops += 1;
                    None
                }
            }
        });
        if before == 0 && self.drops > 0 {
            let line = alloc::format!("{}: bad input packet", cx.name());
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
    use super::super::testutil::*;

    #[test]
    fn sets_checksums_with_and_without_annotation() {
        let good = ipv4_opts(A, B, 6, &[1, 1, 1, 1], b"data");
        let mut broken = good.clone();
        broken[10] = 0x12;
        broken[11] = 0x34;
        let mut frame = alloc::vec![0xee; 14];
        frame.extend_from_slice(&broken);
        let mut h = Harness::new("Idle -> c :: SetIPChecksum -> s :: Sink;");
        h.push(
            "c",
            alloc::vec![
                crate::packet::Packet::from_slice(&broken),
                with_net(&frame, 14)
            ],
        );
        let g = h.data("s");
        assert_eq!(g[0], good);
        assert_eq!(&g[1][14..], &good[..]);
        assert_eq!(&g[1][..14], &[0xee; 14]);
    }

    #[test]
    fn malformed_packets_are_dropped() {
        let good = ipv4(A, B, 6, b"");
        let mut short_ihl = good.clone();
        short_ihl[0] = 0x43;
        let mut long_ihl = good.clone();
        long_ihl[0] = 0x46;
        let mut h = Harness::new("Idle -> c :: SetIPChecksum -> s :: Sink;");
        h.push_bytes("c", &[&good[..19], &short_ihl, &long_ihl, &[]]);
        assert!(h.data("s").is_empty());
        assert_eq!(h.read("c.drops"), "4");
        assert_eq!(h.log(), ["c: bad input packet"]);
    }
}
