//! PaintSwitch — sends each packet to the output numbered by its paint annotation.
//!
//! Ports: 1 input, any number of outputs.
//! Processing: push.
//! Arguments: none.
//! Handlers: none.
//!
//! Packets painted with a color that has no output are dropped.

use crate::batch::Batch;
use crate::element::{Element, ElementClass};
use crate::router::Context;

pub const CLASS: ElementClass = super::element_class!("PaintSwitch", "1/-", "h/h", PaintSwitch);

#[derive(Default)]
pub struct PaintSwitch;

impl Element for PaintSwitch {
    fn push(&mut self, _port: usize, batch: Batch, cx: &mut Context<'_>) {
        cx.classify(batch, |p| Some(p.anno().paint as usize));
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{captured, inject, router};

    #[test]
    fn routes_by_paint() {
        let mut r = router(
            "Idle -> p :: Paint(1) -> s :: PaintSwitch; s[0] -> a :: Capture; s[1] -> b :: Capture;\n\
             Idle -> q :: Paint(0) -> s; Idle -> z :: Paint(7) -> s;",
        );
        inject(&mut r, "p", 0, &[b"1"]);
        inject(&mut r, "q", 0, &[b"0"]);
        inject(&mut r, "z", 0, &[b"7"]);
        assert_eq!(captured(&r, "a"), [b"0".to_vec()]);
        assert_eq!(captured(&r, "b"), [b"1".to_vec()]);
    }
}
