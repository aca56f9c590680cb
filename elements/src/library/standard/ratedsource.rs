//! RatedSource — generates copies of one packet at a steady rate.
//!
//! Ports: no inputs, 1 output.
//! Processing: push.
//! Arguments: DATA (string, default 64 bytes), RATE (packet rate, default 10 per second), LIMIT
//! (integer, -1 = no limit), ACTIVE (boolean, default true), keyword LENGTH (pad or cut DATA),
//! STOP (boolean: stop the router after LIMIT packets).
//! Handlers: `count` (read); `rate`, `active`, `limit` (read/write); `reset` (write).
//!
//! Between packets the task sleeps on a timer, so an idle RatedSource costs nothing.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use config_lang::args::{ArgError, ArgValue, Args, HexData, PacketRate};

use super::rate::TokenBucket;
use crate::element::{ConfigureContext, Element, ElementClass, HandlerSpec, InitContext};
use crate::router::Context;

pub const CLASS: ElementClass = super::element_class!("RatedSource", "0/1", "h/h", RatedSource);

pub struct RatedSource {
    data: Vec<u8>,
    bucket: TokenBucket,
    limit: i64,
    active: bool,
    stop: bool,
    count: u64,
}

impl Default for RatedSource {
    fn default() -> Self {
        RatedSource {
            data: alloc::vec![0; 64],
            bucket: TokenBucket::new(10, 1),
            limit: -1,
            active: true,
            stop: false,
            count: 0,
        }
    }
}

impl RatedSource {
    fn left(&self) -> u64 {
        if self.limit < 0 {
            u64::MAX
        } else {
            (self.limit as u64).saturating_sub(self.count)
        }
    }
}

impl Element for RatedSource {
    fn configure(&mut self, args: &mut Args, _cx: &ConfigureContext<'_>) -> Result<(), ArgError> {
        if let Some(d) = args.read_p::<HexData>("DATA")? {
            self.data = d.0;
        }
        let rate = args.read_p::<PacketRate>("RATE")?.map_or(10, |r| r.per_sec);
        self.limit = args.read_p::<i64>("LIMIT")?.unwrap_or(-1);
        self.active = args.read_p::<bool>("ACTIVE")?.unwrap_or(true);
        self.stop = args.read_or("STOP", false)?;
        if let Some(len) = args.read::<usize>("LENGTH")? {
            self.data.resize(len, 0);
        }
        // A burst of a tenth of a second's worth keeps timers coarse at high rates.
        self.bucket = TokenBucket::new(rate, (rate / 10).clamp(1, 32));
        Ok(())
    }

    fn initialize(&mut self, cx: &mut InitContext<'_>) -> Result<(), String> {
        self.bucket.start(cx.now_ns());
        cx.add_task(self.active);
        Ok(())
    }

    fn run_task(&mut self, cx: &mut Context<'_>) -> bool {
        if self.left() == 0 {
            cx.sleep();
            if self.stop {
                cx.stop_router();
            }
            return false;
        }
        let now = cx.now_ns();
        let n = self.bucket.available(now).min(self.left()).min(32);
        if n == 0 {
            cx.sleep();
            cx.schedule_timer(self.bucket.ready_at(1));
            return false;
        }
        self.bucket.take(now, n);
        let mut b = cx.new_batch();
        for _ in 0..n {
            let mut p = cx.pool().make_from(&self.data);
            p.anno_mut().timestamp_ns = now;
            b.push(p);
        }
        self.count += n;
        cx.push(0, b);
        true
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
            HandlerSpec::read_write("limit"),
            HandlerSpec::write("reset"),
        ];
        H
    }

    fn read_handler(&self, name: &str) -> Option<String> {
        Some(match name {
            "count" => self.count.to_string(),
            "rate" => self.bucket.rate().to_string(),
            "active" => self.active.to_string(),
            "limit" => self.limit.to_string(),
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
                let r = PacketRate::parse_arg(value)?.per_sec;
                self.bucket = TokenBucket::new(r, (r / 10).clamp(1, 32));
                self.bucket.start(cx.now_ns());
            }
            "active" => self.active = bool::parse_arg(value)?,
            "limit" => self.limit = i64::parse_arg(value)?,
            "reset" => self.count = 0,
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
    fn sends_at_the_rate_and_sleeps_between() {
        let (mut r, clock) = router_with_clock(
            "s :: RatedSource(LENGTH 60, RATE 100, LIMIT 50) -> c :: Counter -> Discard;",
        );
        run_rounds(&mut r, 4);
        let first: u64 = r.read_handler("c.count").unwrap().parse().unwrap();
        assert!(first <= 10, "only the initial burst at t=0: {first}");
        // One second later, 100 more packets are allowed (capped by LIMIT 50 in total).
        for _ in 0..100 {
            clock.advance_ns(10_000_000);
            r.run_timers();
            run_rounds(&mut r, 2);
        }
        assert_eq!(r.read_handler("c.count").unwrap(), "50");
        assert!(!r.has_scheduled_tasks(), "done: the task sleeps");
    }
}
