//! BandwidthShaper — lets pulled packets through no faster than a bandwidth.
//!
//! Ports: 1 input, 1 output.
//! Processing: pull.
//! Arguments: RATE (bandwidth, mandatory), keyword BURST (bytes that may pass back to back,
//! default 2 full frames).
//! Handlers: `rate` (read/write), `count` (read) packets passed.
//!
//! When the next packet would exceed the rate, the pull answers nothing and a timer wakes the
//! task downstream once enough time has passed.

use alloc::string::{String, ToString};

use config_lang::args::{ArgError, ArgValue, Args, Bandwidth};

use super::rate::TokenBucket;
use crate::batch::Batch;
use crate::element::{ConfigureContext, Element, ElementClass, HandlerSpec, InitContext};
use crate::packet::Packet;
use crate::router::Context;

pub const CLASS: ElementClass =
    super::element_class!("BandwidthShaper", "1/1", "l/l", BandwidthShaper);

pub struct BandwidthShaper {
    /// Tokens are bytes.
    bucket: TokenBucket,
    burst: u64,
    /// A packet pulled that the rate did not allow yet.
    held: Option<Packet>,
    count: u64,
}

impl Default for BandwidthShaper {
    fn default() -> Self {
        BandwidthShaper {
            bucket: TokenBucket::new(1, 1),
            burst: 3028,
            held: None,
            count: 0,
        }
    }
}

impl Element for BandwidthShaper {
    fn configure(&mut self, args: &mut Args, _cx: &ConfigureContext<'_>) -> Result<(), ArgError> {
        let rate = args.read_mp::<Bandwidth>("RATE")?.bytes_per_sec();
        self.burst = args.read_or("BURST", 3028u64)?.max(1);
        self.bucket = TokenBucket::new(rate, self.burst);
        Ok(())
    }

    fn initialize(&mut self, cx: &mut crate::element::InitContext<'_>) -> Result<(), String> {
        let _: &mut InitContext<'_> = cx;
        self.bucket.start(cx.now_ns());
        Ok(())
    }

    fn pull(&mut self, _port: usize, max: usize, cx: &mut Context<'_>) -> Option<Batch> {
        let now = cx.now_ns();
        let mut out = cx.new_batch();
        while out.len() < max {
            let p = match self.held.take() {
                Some(p) => p,
                None => match cx.pull(0, 1).and_then(|mut b| b.pop()) {
                    Some(p) => p,
                    None => break,
                },
            };
            if self.bucket.take(now, p.len() as u64) {
                out.push(p);
            } else {
                let at = self.bucket.ready_at(p.len() as u64);
                self.held = Some(p);
                cx.schedule_timer(at);
                break;
            }
        }
        self.count += out.len() as u64;
        if out.is_empty() {
            cx.kill_batch(out);
            None
        } else {
            Some(out)
        }
    }

    fn run_timer(&mut self, cx: &mut Context<'_>) {
        cx.wake_downstream(0);
    }

    fn handlers(&self) -> &'static [HandlerSpec] {
        const H: &[HandlerSpec] = &[HandlerSpec::read_write("rate"), HandlerSpec::read("count")];
        H
    }

    fn read_handler(&self, name: &str) -> Option<String> {
        Some(match name {
            "rate" => alloc::format!("{}Bps", self.bucket.rate()),
            "count" => self.count.to_string(),
            _ => return None,
        })
    }

    fn write_handler(
        &mut self,
        _name: &str,
        value: &str,
        cx: &mut Context<'_>,
    ) -> Result<(), String> {
        self.bucket = TokenBucket::new(Bandwidth::parse_arg(value)?.bytes_per_sec(), self.burst);
        self.bucket.start(cx.now_ns());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{router_with_clock, run_rounds};

    #[test]
    fn passes_bytes_at_the_rate() {
        // 100-byte packets at 10 kB/s: 100 packets a second; a burst of 300 bytes at first.
        let (mut r, clock) = router_with_clock(
            "InfiniteSource(LENGTH 100, LIMIT 1000, BURST 100) -> q :: Queue(2000) -> s :: BandwidthShaper(10kBps, BURST 300) -> u :: Unqueue(BURST 10) -> c :: Counter -> Discard;",
        );
        run_rounds(&mut r, 4);
        assert_eq!(r.read_handler("c.count").unwrap(), "3");
        for _ in 0..100 {
            clock.advance_ns(5_000_000);
            r.run_timers();
            run_rounds(&mut r, 2);
        }
        // Half a second: 50 more packets (within one for timer granularity).
        let n: i64 = r.read_handler("c.count").unwrap().parse().unwrap();
        assert!((52..=54).contains(&n), "{n}");
    }
}
