//! RatedUnqueue — pulls packets from its input and pushes them out at a steady rate.
//!
//! Ports: 1 input, 1 output.
//! Processing: pull input, push output.
//! Arguments: RATE (packet rate, mandatory), keyword BURST (unsigned, default 1): packets that may
//! go out back to back after an idle spell (BURST_SIZE is a synonym), or BURST_DURATION (time
//! interval): the burst as the packets RATE allows in that time; ACTIVE (boolean, default true).
//! Handlers: `count` (read); `rate`, `active` (read/write).

use alloc::string::{String, ToString};

use config_lang::args::{ArgError, ArgValue, Args, PacketRate};

use super::rate::TokenBucket;
use crate::element::{ConfigureContext, Element, ElementClass, HandlerSpec, InitContext};
use crate::router::Context;

pub const CLASS: ElementClass = super::element_class!("RatedUnqueue", "1/1", "l/h", RatedUnqueue);

pub struct RatedUnqueue {
    bucket: TokenBucket,
    burst: u64,
    active: bool,
    count: u64,
}

impl Default for RatedUnqueue {
    fn default() -> Self {
        RatedUnqueue {
            bucket: TokenBucket::new(1, 1),
            burst: 1,
            active: true,
            count: 0,
        }
    }
}

impl Element for RatedUnqueue {
    fn configure(&mut self, args: &mut Args, _cx: &ConfigureContext<'_>) -> Result<(), ArgError> {
        let rate = args.read_mp::<PacketRate>("RATE")?.per_sec;
        self.burst = args.read_or("BURST", 1u64)?.max(1);
        if let Some(b) = args.read::<u64>("BURST_SIZE")? {
            self.burst = b.max(1);
        }
        if let Some(d) = args.read::<core::time::Duration>("BURST_DURATION")? {
            self.burst = ((rate as u128 * d.as_nanos()) / 1_000_000_000).max(1) as u64;
        }
        self.active = args.read_or("ACTIVE", true)?;
        self.bucket = TokenBucket::new(rate, self.burst);
        Ok(())
    }

    fn initialize(&mut self, cx: &mut InitContext<'_>) -> Result<(), String> {
        self.bucket.start(cx.now_ns());
        cx.add_task(self.active);
        Ok(())
    }

    fn run_task(&mut self, cx: &mut Context<'_>) -> bool {
        let now = cx.now_ns();
        let n = self.bucket.available(now);
        if n == 0 {
            cx.sleep();
            cx.schedule_timer(self.bucket.ready_at(1));
            return false;
        }
        match cx.pull(0, n as usize) {
            Some(b) => {
                self.bucket.take(now, b.len() as u64);
                self.count += b.len() as u64;
                cx.push(0, b);
                true
            }
            None => {
                // Woken again when the queue upstream gets a packet.
                cx.sleep();
                false
            }
        }
    }

    fn run_timer(&mut self, cx: &mut Context<'_>) {
        if self.active {
            cx.reschedule();
        }
    }

    fn handlers(&self) -> &'static [HandlerSpec] {
        const H: &[HandlerSpec] = &[
            HandlerSpec::read("count"),
            HandlerSpec::read_write("rate"),
            HandlerSpec::read_write("active"),
        ];
        H
    }

    fn read_handler(&self, name: &str) -> Option<String> {
        Some(match name {
            "count" => self.count.to_string(),
            "rate" => self.bucket.rate().to_string(),
            "active" => self.active.to_string(),
            _ => return None,
        })
    }

    fn write_handler(
        &mut self,
        name: &str,
        value: &str,
        cx: &mut Context<'_>,
    ) -> Result<(), String> {
        match name {
            "rate" => {
                self.bucket = TokenBucket::new(PacketRate::parse_arg(value)?.per_sec, self.burst);
                self.bucket.start(cx.now_ns());
            }
            "active" => self.active = bool::parse_arg(value)?,
            _ => return Err("no such handler".into()),
        }
        if self.active {
            cx.reschedule();
        } else {
            cx.sleep();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{router_with_clock, run_rounds};

    #[test]
    fn drains_a_queue_at_the_rate() {
        let (mut r, clock) =
            router_with_clock("InfiniteSource(LIMIT 100, BURST 100) -> q :: Queue -> u :: RatedUnqueue(1000, BURST 5) -> c :: Counter -> Discard;");
        run_rounds(&mut r, 4);
        assert_eq!(r.read_handler("c.count").unwrap(), "5", "the burst at t=0");
        // 20 ms at 1000/s: 20 more.
        for _ in 0..20 {
            clock.advance_ns(1_000_000);
            r.run_timers();
            run_rounds(&mut r, 2);
        }
        assert_eq!(r.read_handler("c.count").unwrap(), "25");
        assert_eq!(r.read_handler("q.length").unwrap(), "75");
    }
}
