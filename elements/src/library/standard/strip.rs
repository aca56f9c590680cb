//! Strip — removes bytes from the front of each packet.
//!
//! Ports: 1 input, 1 output.
//! Processing: agnostic.
//! Arguments: LENGTH (unsigned, mandatory) bytes to remove.
//! Handlers: none.
//!
//! A packet shorter than LENGTH is killed (it has nothing after the header to pass on).

use config_lang::args::{ArgError, Args};

use crate::batch::Batch;
use crate::element::{ConfigureContext, Element, ElementClass};
use crate::router::Context;

pub const CLASS: ElementClass = super::element_class!("Strip", "1/1", "a/a", Strip);

#[derive(Default)]
pub struct Strip {
    len: usize,
}

impl Element for Strip {
    fn configure(&mut self, args: &mut Args, _cx: &ConfigureContext<'_>) -> Result<(), ArgError> {
        self.len = args.read_mp("LENGTH")?;
        Ok(())
    }

    fn push(&mut self, _port: usize, batch: Batch, cx: &mut Context<'_>) {
        let n = self.len;
        cx.classify(batch, |p| p.strip_head(n).ok().map(|()| 0));
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::run_packets;

    #[test]
    fn strips_and_drops_short_packets() {
        let got = run_packets(
            "Idle -> s :: Strip(2) -> c :: Capture;",
            "s",
            &[b"abcd", b"a", b"xy"],
            &["c"],
        );
        assert_eq!(got[0], [b"cd".to_vec(), b"".to_vec()]);
    }
}
