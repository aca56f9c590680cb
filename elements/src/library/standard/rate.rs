//! A token bucket shared by the rate-limiting elements (RatedSource, RatedUnqueue,
//! BandwidthShaper, RatedSplitter): tokens accrue with time at `rate` per second, up to `burst`.

#[derive(Clone, Copy, Debug)]
pub struct TokenBucket {
    /// Tokens per second.
    rate: u64,
    /// Most tokens that can accumulate.
    burst: u64,
    /// Current tokens, in units of 1/1e9 token (so integer arithmetic loses nothing per tick).
    nano_tokens: u128,
    last_ns: u64,
}

impl TokenBucket {
    pub fn new(rate: u64, burst: u64) -> TokenBucket {
        TokenBucket {
            rate,
            burst: burst.max(1),
            nano_tokens: 0,
            last_ns: 0,
        }
    }

    pub fn rate(&self) -> u64 {
        self.rate
    }

    /// Starts accruing from `now` with a full bucket.
    pub fn start(&mut self, now: u64) {
        self.last_ns = now;
        self.nano_tokens = self.burst as u128 * 1_000_000_000;
    }

    fn refill(&mut self, now: u64) {
        let dt = now.saturating_sub(self.last_ns) as u128;
        self.last_ns = now;
        let cap = self.burst as u128 * 1_000_000_000;
        self.nano_tokens = (self.nano_tokens + dt * self.rate as u128).min(cap);
    }

    /// Takes `n` tokens if there are that many.
    pub fn take(&mut self, now: u64, n: u64) -> bool {
        self.refill(now);
        let need = n as u128 * 1_000_000_000;
        if self.nano_tokens >= need {
            self.nano_tokens -= need;
            true
        } else {
            false
        }
    }

    /// Whole tokens available now.
    pub fn available(&mut self, now: u64) -> u64 {
        self.refill(now);
        (self.nano_tokens / 1_000_000_000) as u64
    }

    /// When `n` tokens will be available (platform time).
    pub fn ready_at(&self, n: u64) -> u64 {
        if self.rate == 0 {
            return u64::MAX;
        }
        let need = (n.min(self.burst) as u128 * 1_000_000_000).saturating_sub(self.nano_tokens);
        self.last_ns + need.div_ceil(self.rate as u128).min(u64::MAX as u128) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accrues_at_the_rate_up_to_the_burst() {
        let mut b = TokenBucket::new(1000, 10); // 1000/s: one per ms
        b.start(0);
        assert_eq!(b.available(0), 10);
        assert!(b.take(0, 10));
        assert!(!b.take(0, 1));
        assert_eq!(b.ready_at(1), 1_000_000);
        assert!(b.take(1_000_000, 1));
        assert_eq!(b.available(1_000_000_000), 10, "capped at the burst");
    }
}
