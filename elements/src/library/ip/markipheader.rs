//! MarkIPHeader — marks where the IP header is, without checking it.
//!
//! Ports: 1 input, 1 output.
//! Processing: agnostic.
//! Arguments: OFFSET (unsigned, where the IP header starts; default 0).
//! Handlers: `drops` (read) packets killed because they end before OFFSET + 1 (an addition to
//! Click, which reads past the end).
//!
//! Sets the network-header annotation to OFFSET and the transport-header annotation to OFFSET
//! plus the header length in the IHL field. Does not check lengths, trim, or set the destination
//! address annotation: CheckIPHeader does all that.

use alloc::string::{String, ToString};

use config_lang::args::{ArgError, Args};

use crate::batch::Batch;
use crate::element::{ConfigureContext, Element, ElementClass, HandlerSpec};
use crate::router::Context;

pub const CLASS: ElementClass = super::element_class!("MarkIPHeader", "1/1", "a/a", MarkIPHeader);

#[derive(Default)]
pub struct MarkIPHeader {
    offset: usize,
    drops: u64,
}

impl Element for MarkIPHeader {
    fn configure(&mut self, args: &mut Args, _cx: &ConfigureContext<'_>) -> Result<(), ArgError> {
        self.offset = args.read_p("OFFSET")?.unwrap_or(0);
        Ok(())
    }

    fn push(&mut self, _port: usize, batch: Batch, cx: &mut Context<'_>) {
        let off = self.offset;
        let drops = &mut self.drops;
        cx.classify(batch, |p| match p.data().get(off) {
            Some(&b) => {
                let hlen = ((b & 0x0f) as usize) * 4;
                let a = p.anno_mut();
                a.set_network_offset(off);
                a.set_transport_offset(off + hlen);
                Some(0)
            }
            None => {
                *drops += 1;
                None
            }
        });
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
    fn marks_headers_at_offset() {
        let ip = ipv4_opts(A, B, 17, &[1, 1, 1, 0], b"abcdefgh");
        let mut frame = alloc::vec![0u8; 14];
        frame.extend_from_slice(&ip);
        let mut h = Harness::new("Idle -> m :: MarkIPHeader(14) -> s :: Sink;");
        h.push_bytes("m", &[&frame, &frame[..14], &frame[..15]]);
        let g = h.got("s");
        assert_eq!(g.len(), 2);
        assert_eq!(g[0].data, frame);
        assert_eq!(g[0].anno.network_offset(), Some(14));
        assert_eq!(g[0].anno.transport_offset(), Some(14 + 24));
        // No checks, no destination annotation.
        assert_eq!(g[0].anno.dst_ip, core::net::Ipv4Addr::UNSPECIFIED);
        assert_eq!(h.read("m.drops"), "1");
    }

    #[test]
    fn default_offset_is_zero() {
        let mut h = Harness::new("Idle -> m :: MarkIPHeader -> s :: Sink;");
        h.push_bytes("m", &[&[0x45, 0, 0]]);
        let g = h.got("s");
        assert_eq!(g[0].anno.network_offset(), Some(0));
        assert_eq!(g[0].anno.transport_offset(), Some(20));
    }
}
