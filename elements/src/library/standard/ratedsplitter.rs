//! RatedSplitter — sends packets to output 0 up to a rate, the rest to output 1.
//!
//! Ports: 1 input, 2 outputs.
//! Processing: push.
//! Arguments: RATE (packet rate, mandatory).
//! Handlers: `rate` (read/write).

use alloc::string::{String, ToString};

use config_lang::args::{ArgError, ArgValue, Args, PacketRate};

use super::rate::TokenBucket;
use crate::batch::Batch;
use crate::element::{ConfigureContext, Element, ElementClass, HandlerSpec, InitContext};
use crate::router::Context;

pub const CLASS: ElementClass = super::element_class!("RatedSplitter", "1/2", "h/h", RatedSplitter);

pub struct RatedSplitter {
    bucket: TokenBucket,
}

impl Default for RatedSplitter {
    fn default() -> Self {
        RatedSplitter {
            bucket: TokenBucket::new(1, 1),
        }
    }
}

impl Element for RatedSplitter {
    fn configure(&mut self, args: &mut Args, _cx: &ConfigureContext<'_>) -> Result<(), ArgError> {
        let r = args.read_mp::<PacketRate>("RATE")?.per_sec;
        self.bucket = TokenBucket::new(r, 1);
        Ok(())
    }

    fn initialize(&mut self, cx: &mut InitContext<'_>) -> Result<(), String> {
        self.bucket.start(cx.now_ns());
        Ok(())
    }

    fn push(&mut self, _port: usize, batch: Batch, cx: &mut Context<'_>) {
        let now = cx.now_ns();
        let b = &mut self.bucket;
        cx.classify(batch, |_| Some(if b.take(now, 1) { 0 } else { 1 }));
    }

    fn handlers(&self) -> &'static [HandlerSpec] {
        const H: &[HandlerSpec] = &[HandlerSpec::read_write("rate")];
        H
    }

    fn read_handler(&self, name: &str) -> Option<String> {
        (name == "rate").then(|| self.bucket.rate().to_string())
    }

    fn write_handler(
        &mut self,
        _name: &str,
        value: &str,
        cx: &mut Context<'_>,
    ) -> Result<(), String> {
        self.bucket = TokenBucket::new(PacketRate::parse_arg(value)?.per_sec, 1);
        self.bucket.start(cx.now_ns());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::run_packets;

    #[test]
    fn splits_over_the_rate() {
        // The test clock stands still: one token, then everything is over the rate.
        let got = run_packets(
            "Idle -> s :: RatedSplitter(1000); s[0] -> a :: Capture; s[1] -> b :: Capture;",
            "s",
            &[b"1", b"2", b"3"],
            &["a", "b"],
        );
        assert_eq!(got[0].len(), 1);
        assert_eq!(got[1].len(), 2);
    }
}
