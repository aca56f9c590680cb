//! RoundRobinSched — on each pull, takes from its inputs in turn, skipping empty ones.
//!
//! Ports: at least 1 input, 1 output.
//! Processing: pull.
//! Arguments: none.
//! Handlers: none.

use crate::batch::Batch;
use crate::element::{Element, ElementClass};
use crate::router::Context;

pub const CLASS: ElementClass =
    super::element_class!("RoundRobinSched", "1-/1", "l/l", RoundRobinSched);

#[derive(Default)]
pub struct RoundRobinSched {
    next: usize,
}

impl Element for RoundRobinSched {
    fn pull(&mut self, _port: usize, max: usize, cx: &mut Context<'_>) -> Option<Batch> {
        // One packet per input per turn keeps the inputs fair even with big pulls.
        let _ = max;
        let n = cx.ninputs();
        for k in 0..n {
            let i = (self.next + k) % n;
            if let Some(b) = cx.pull(i, 1) {
                self.next = (i + 1) % n;
                return Some(b);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{captured, inject, router};

    #[test]
    fn alternates_between_inputs() {
        let mut r = router(
            "Idle -> q0 :: Queue; Idle -> q1 :: Queue; s :: RoundRobinSched; q0 -> [0] s; q1 -> [1] s;\n\
             s -> u :: Unqueue(BURST 8) -> c :: Capture;",
        );
        r.write_handler("u.active", "false").unwrap();
        inject(&mut r, "q0", 0, &[b"a1", b"a2"]);
        inject(&mut r, "q1", 0, &[b"b1", b"b2"]);
        r.write_handler("u.active", "true").unwrap();
        r.run_until_idle(10);
        assert_eq!(
            captured(&r, "c"),
            [
                b"a1".to_vec(),
                b"b1".to_vec(),
                b"a2".to_vec(),
                b"b2".to_vec()
            ]
        );
    }
}
