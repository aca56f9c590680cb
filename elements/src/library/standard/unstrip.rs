//! Unstrip — puts back bytes previously stripped from the front of each packet.
//!
//! Ports: 1 input, 1 output.
//! Processing: agnostic.
//! Arguments: LENGTH (unsigned, mandatory) bytes to restore.
//! Handlers: none.
//!
//! The bytes come back from the headroom, so they are the ones Strip removed (no copy). A packet
//! with less headroom than LENGTH gets zero bytes in front instead.

use config_lang::args::{ArgError, Args};

use crate::batch::Batch;
use crate::element::{ConfigureContext, Element, ElementClass};
use crate::router::Context;

pub const CLASS: ElementClass = super::element_class!("Unstrip", "1/1", "a/a", Unstrip);

#[derive(Default)]
pub struct Unstrip {
    len: usize,
}

impl Element for Unstrip {
    fn configure(&mut self, args: &mut Args, _cx: &ConfigureContext<'_>) -> Result<(), ArgError> {
        self.len = args.read_mp("LENGTH")?;
        Ok(())
    }

    fn push(&mut self, _port: usize, mut batch: Batch, cx: &mut Context<'_>) {
        for p in batch.iter_mut() {
            p.unstrip_head(self.len);
        }
        cx.push(0, batch);
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::run_packets;

    #[test]
    fn restores_stripped_bytes() {
        let got = run_packets(
            "Idle -> s :: Strip(2) -> Unstrip(2) -> c :: Capture;",
            "s",
            &[b"abcd"],
            &["c"],
        );
        assert_eq!(got[0], [b"abcd".to_vec()]);
    }
}
