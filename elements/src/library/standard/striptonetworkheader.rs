//! StripToNetworkHeader — removes everything before the network header annotation.
//!
//! Ports: 1 input, 1 output.
//! Processing: agnostic.
//! Arguments: none.
//! Handlers: none.
//!
//! Packets without a network header annotation pass unchanged (as in Click).

use crate::batch::Batch;
use crate::element::{Element, ElementClass};
use crate::router::Context;

pub const CLASS: ElementClass =
    super::element_class!("StripToNetworkHeader", "1/1", "a/a", StripToNetworkHeader);

#[derive(Default)]
pub struct StripToNetworkHeader;

impl Element for StripToNetworkHeader {
    fn push(&mut self, _port: usize, mut batch: Batch, cx: &mut Context<'_>) {
        for p in batch.iter_mut() {
            if let Some(off) = p.anno().network_offset() {
                // The offset is inside the data by construction of the annotation.
                let _ = p.strip_head(off);
            }
        }
        cx.push(0, batch);
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{captured, inject, router};

    #[test]
    fn strips_to_the_annotation() {
        let mut r = router("Idle -> p :: Paint(1) -> s :: StripToNetworkHeader -> c :: Capture;");
        // No annotation: unchanged.
        inject(&mut r, "s", 0, &[b"abcdef"]);
        assert_eq!(captured(&r, "c"), [b"abcdef".to_vec()]);
    }
}
