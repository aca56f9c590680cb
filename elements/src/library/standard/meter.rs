//! Meter — classifies packets by the measured arrival rate: under each threshold to the
//! corresponding output, over all thresholds to the last.
//!
//! Ports: 1 input, 2 or more outputs (one more than the thresholds).
//! Processing: push.
//! Arguments: RATE1, RATE2, ... (bandwidths, ascending; Click's unitless numbers are bytes/s).
//! Handlers: `rate` (read) the measured rate in bytes/s.
//!
//! The rate is an exponentially weighted moving average over about 100 ms.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use config_lang::args::{ArgError, ArgValue, Args, Bandwidth};

use crate::batch::Batch;
use crate::element::{ConfigureContext, Element, ElementClass, HandlerSpec};
use crate::router::Context;

pub const CLASS: ElementClass = super::element_class!("Meter", "1/2-", "h/h", Meter);

/// Averaging time constant.
const TAU_NS: f64 = 100e6;

#[derive(Default)]
pub struct Meter {
    thresholds: Vec<f64>,
    rate: f64,
    last_ns: Option<u64>,
}

impl Element for Meter {
    fn configure(&mut self, args: &mut Args, cx: &ConfigureContext<'_>) -> Result<(), ArgError> {
        for a in args.rest() {
            let b = Bandwidth::parse_arg(&a.text)
                .map_err(|e| ArgError::new("RATE", e, Some(a.range.clone())))?;
            self.thresholds.push(b.bytes_per_sec() as f64);
        }
        if self.thresholds.is_empty() {
            return Err(ArgError::new("RATE", "missing mandatory argument", None));
        }
        if self.thresholds.windows(2).any(|w| w[0] >= w[1]) {
            return Err(ArgError::new("RATE", "rates must increase", None));
        }
        if cx.noutputs != self.thresholds.len() + 1 {
            return Err(ArgError::new(
                "RATE",
                alloc::format!(
                    "{} rates need {} outputs, but {} are connected",
                    self.thresholds.len(),
                    self.thresholds.len() + 1,
                    cx.noutputs
                ),
                None,
            ));
        }
        Ok(())
    }

    fn push(&mut self, _port: usize, batch: Batch, cx: &mut Context<'_>) {
        let now = cx.now_ns();
        let (thr, rate, last) = (&self.thresholds, &mut self.rate, &mut self.last_ns);
        cx.classify(batch, |p| {
            // EWMA of bytes/s: decay by elapsed time, add this packet's contribution.
            let dt = last.map_or(0, |l| now.saturating_sub(l)) as f64;
            *last = Some(now);
            let decay = libm_exp(-dt / TAU_NS);
            *rate = *rate * decay + p.len() as f64 * 1e9 / TAU_NS;
            Some(thr.iter().position(|t| *rate <= *t).unwrap_or(thr.len()))
        });
    }

    fn handlers(&self) -> &'static [HandlerSpec] {
        const H: &[HandlerSpec] = &[HandlerSpec::read("rate")];
        H
    }

    fn read_handler(&self, name: &str) -> Option<String> {
        (name == "rate").then(|| (self.rate as u64).to_string())
    }
}

/// e^x for x <= 0 without libm (no_std): halve x until tiny, a short Taylor series, then square
/// back up.
fn libm_exp(x: f64) -> f64 {
    if x < -50.0 {
        return 0.0;
    }
    let mut k = 0;
    let mut y = x;
    while y < -1.0 / 1024.0 {
        y /= 2.0;
        k += 1;
    }
    let mut r = 1.0 + y * (1.0 + y / 2.0 * (1.0 + y / 3.0 * (1.0 + y / 4.0)));
    for _ in 0..k {
        r *= r;
    }
    r
}

#[cfg(test)]
mod tests {
    use super::libm_exp;
    use crate::testing::{build_errors, run_packets};

    #[test]
    fn exp_is_close() {
        for (x, e) in [(0.0, 1.0), (-1.0, 0.367_879_441), (-5.0, 0.006_737_947)] {
            assert!((libm_exp(x) - e).abs() < 1e-6, "{x}");
        }
    }

    #[test]
    fn bursts_go_over_the_threshold() {
        // All packets arrive at once on the still test clock: the rate climbs past 10 kB/s.
        let pkts: alloc::vec::Vec<&[u8]> = (0..20).map(|_| &[0u8; 100][..]).collect();
        let got = run_packets(
            "Idle -> m :: Meter(10kBps); m[0] -> a :: Capture; m[1] -> b :: Capture;",
            "m",
            &pkts,
            &["a", "b"],
        );
        assert_eq!(got[0].len() + got[1].len(), 20);
        // Each 100-byte packet adds 1000 B/s to the average: the first ten stay at or under.
        assert_eq!(got[1].len(), 10);
    }

    #[test]
    fn output_count_must_match() {
        assert!(build_errors(
            "Idle -> m :: Meter(1kBps, 2kBps); m[0] -> Discard; m[1] -> Discard;"
        )[0]
        .contains("need 3 outputs"));
    }
}
