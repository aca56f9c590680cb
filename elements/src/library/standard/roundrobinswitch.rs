//! RoundRobinSwitch — sends packets to its outputs in turn.
//!
//! Ports: 1 input, at least 1 output.
//! Processing: push.
//! Arguments: none.
//! Handlers: none.

use crate::batch::Batch;
use crate::element::{Element, ElementClass};
use crate::router::Context;

pub const CLASS: ElementClass =
    super::element_class!("RoundRobinSwitch", "1/1-", "h/h", RoundRobinSwitch);

#[derive(Default)]
pub struct RoundRobinSwitch {
    next: usize,
}

impl Element for RoundRobinSwitch {
    fn push(&mut self, _port: usize, batch: Batch, cx: &mut Context<'_>) {
        let n = cx.noutputs();
        let mut next = self.next;
        cx.classify(batch, |_| {
            let o = next;
            next = (next + 1) % n;
            Some(o)
        });
        self.next = next;
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::run_packets;

    #[test]
    fn alternates() {
        let got = run_packets(
            "Idle -> s :: RoundRobinSwitch; s[0] -> a :: Capture; s[1] -> b :: Capture;",
            "s",
            &[b"1", b"2", b"3"],
            &["a", "b"],
        );
        assert_eq!(got[0], [b"1".to_vec(), b"3".to_vec()]);
        assert_eq!(got[1], [b"2".to_vec()]);
    }
}
