//! AverageCounter — counts packets and measures their average rate since the first one.
//!
//! Ports: 1 input, 1 output.
//! Processing: agnostic.
//! Arguments: IGNORE (time interval, default 0): packets in the first IGNORE are not
//! counted, so a warm-up does not skew the rate.
//! Handlers: `count`, `byte_count`, `rate` (packets/s), `byte_rate` (bytes/s), `time` (seconds
//! measured) (read); `reset` (write).

use alloc::format;
use alloc::string::{String, ToString};
use core::time::Duration;

use config_lang::args::{ArgError, Args};

use crate::batch::Batch;
use crate::element::{ConfigureContext, Element, ElementClass, HandlerSpec};
use crate::router::Context;

pub const CLASS: ElementClass =
    super::element_class!("AverageCounter", "1/1", "a/a", AverageCounter);

#[derive(Default)]
pub struct AverageCounter {
    ignore_ns: u64,
    first_ns: Option<u64>,
    last_ns: u64,
    count: u64,
    bytes: u64,
}

impl AverageCounter {
    fn seconds(&self) -> f64 {
        match self.first_ns {
            Some(f) => (self.last_ns.saturating_sub(f + self.ignore_ns)) as f64 / 1e9,
            None => 0.0,
        }
    }
}

impl Element for AverageCounter {
    fn configure(&mut self, args: &mut Args, _cx: &ConfigureContext<'_>) -> Result<(), ArgError> {
        self.ignore_ns = args
            .read_p::<Duration>("IGNORE")?
            .unwrap_or(Duration::ZERO)
            .as_nanos() as u64;
        Ok(())
    }

    fn push(&mut self, _port: usize, batch: Batch, cx: &mut Context<'_>) {
        let now = cx.now_ns();
        let first = *self.first_ns.get_or_insert(now);
        self.last_ns = now;
        if now >= first + self.ignore_ns {
            self.count += batch.len() as u64;
            self.bytes += batch.bytes() as u64;
        }
        cx.push(0, batch);
    }

    fn handlers(&self) -> &'static [HandlerSpec] {
        const H: &[HandlerSpec] = &[
            HandlerSpec::read("count"),
            HandlerSpec::read("byte_count"),
            HandlerSpec::read("rate"),
            HandlerSpec::read("byte_rate"),
            HandlerSpec::read("time"),
            HandlerSpec::write("reset"),
        ];
        H
    }

    fn read_handler(&self, name: &str) -> Option<String> {
        let t = self.seconds();
        let per = |n: u64| {
            if t > 0.0 {
                format!("{:.0}", n as f64 / t)
            } else {
                "0".to_string()
            }
        };
        Some(match name {
            "count" => self.count.to_string(),
            "byte_count" => self.bytes.to_string(),
            "rate" => per(self.count),
            "byte_rate" => per(self.bytes),
            "time" => format!("{t:.6}"),
            _ => return None,
        })
    }

    fn write_handler(
        &mut self,
        _name: &str,
        _value: &str,
        _cx: &mut Context<'_>,
    ) -> Result<(), String> {
        *self = AverageCounter {
            ignore_ns: self.ignore_ns,
            ..AverageCounter::default()
        };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{inject, router_with_clock};

    #[test]
    fn measures_the_average_rate() {
        let (mut r, clock) = router_with_clock("Idle -> a :: AverageCounter -> Discard;");
        inject(&mut r, "a", 0, &[&[0u8; 100][..]]);
        for _ in 0..10 {
            clock.advance_ns(100_000_000);
            inject(&mut r, "a", 0, &[&[0u8; 100][..], &[0u8; 100][..]]);
        }
        assert_eq!(r.read_handler("a.count").unwrap(), "21");
        assert_eq!(r.read_handler("a.time").unwrap(), "1.000000");
        assert_eq!(r.read_handler("a.rate").unwrap(), "21");
        assert_eq!(r.read_handler("a.byte_rate").unwrap(), "2100");
        r.write_handler("a.reset", "").unwrap();
        assert_eq!(r.read_handler("a.count").unwrap(), "0");
    }
}
