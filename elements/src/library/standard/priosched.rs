//! PrioSched — on each pull, takes from the first input that has a packet.
//!
//! Ports: at least 1 input, 1 output.
//! Processing: pull.
//! Arguments: none.
//! Handlers: none.

use crate::batch::Batch;
use crate::element::{Element, ElementClass};
use crate::router::Context;

pub const CLASS: ElementClass = super::element_class!("PrioSched", "1-/1", "l/l", PrioSched);

#[derive(Default)]
pub struct PrioSched;

impl Element for PrioSched {
    fn pull(&mut self, _port: usize, max: usize, cx: &mut Context<'_>) -> Option<Batch> {
        (0..cx.ninputs()).find_map(|i| cx.pull(i, max))
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::router;

    #[test]
    fn high_priority_first() {
        let mut r = router(
            "hi :: InfiniteSource(LIMIT 3, ACTIVE true) -> q0 :: Queue; lo :: InfiniteSource(LIMIT 3) -> q1 :: Queue;\n\
             s :: PrioSched; q0 -> [0] s; q1 -> [1] s; s -> u :: Unqueue(BURST 1) -> c :: Counter -> Discard;",
        );
        r.run_until_idle(20);
        assert_eq!(r.read_handler("c.count").unwrap(), "6");
    }
}
