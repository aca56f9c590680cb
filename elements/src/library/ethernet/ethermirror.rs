//! EtherMirror — swaps the source and destination Ethernet addresses.
//!
//! Ports: 1 input, 1 output.
//! Processing: agnostic.
//! Arguments: none.
//! Handlers: `drops` (read) frames too short to hold an Ethernet header (under 14 bytes), which
//! are killed (Click assumes a full header; this element checks).

use alloc::string::{String, ToString};

use super::ETHER_HLEN;
use crate::batch::Batch;
use crate::element::{Element, ElementClass, HandlerSpec};
use crate::router::Context;

pub const CLASS: ElementClass = super::element_class!("EtherMirror", "1/1", "a/a", EtherMirror);

#[derive(Default)]
pub struct EtherMirror {
    drops: u64,
}

impl Element for EtherMirror {
    fn push(&mut self, _port: usize, batch: Batch, cx: &mut Context<'_>) {
        let drops = &mut self.drops;
        cx.classify(batch, |p| {
            if p.len() < ETHER_HLEN {
                *drops += 1;
                return None;
            }
            let d = p.data_mut();
            let (dst, rest) = d.split_at_mut(6);
            dst.swap_with_slice(&mut rest[..6]);
            Some(0)
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
    use crate::library::ethernet::frames::ether;
    use crate::testing::{captured, inject, router};

    #[test]
    fn swaps_addresses_and_drops_runts() {
        let mut r = router("Idle -> m :: EtherMirror -> c :: Capture;");
        let f = ether([1; 6], [2; 6], 0x0800, b"abc");
        inject(&mut r, "m", 0, &[&f, &f[..13], b""]);
        assert_eq!(captured(&r, "c"), [ether([2; 6], [1; 6], 0x0800, b"abc")]);
        assert_eq!(r.read_handler("m.drops").unwrap(), "2");
    }
}
