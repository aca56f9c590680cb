//! Xen system time: nanoseconds since the host booted, extrapolated from `vcpu_time_info`
//! (a seqlock-protected snapshot Xen updates) with the TSC. The same time base is used by
//! `set_timer_op` and by `SCHEDOP_poll` timeouts.

use crate::abi::VcpuTimeInfo;
use core::ptr::{addr_of, read_volatile};
use core::sync::atomic::{fence, Ordering};

pub const NS_PER_US: u64 = 1_000;
pub const NS_PER_MS: u64 = 1_000_000;
pub const NS_PER_SEC: u64 = 1_000_000_000;

/// Converts a TSC delta to ns: `((delta << shift) * mul) >> 32`, with a negative shift meaning a
/// right shift (the pvclock formula; `tsc_to_system_mul` is a 32.32 fixed-point fraction).
#[inline]
pub fn scale_delta(delta: u64, mul: u32, shift: i8) -> u64 {
    let d = if shift >= 0 {
        delta << shift
    } else {
        delta >> (-(shift as i32))
    };
    ((d as u128 * mul as u128) >> 32) as u64
}

/// System time at TSC value `tsc`, from a consistent snapshot.
#[inline]
pub fn system_time_at(info: &VcpuTimeInfo, tsc: u64) -> u64 {
    // A TSC read before the snapshot (another pCPU's view) counts as no time elapsed.
    let delta = tsc.saturating_sub(info.tsc_timestamp);
    info.system_time
        .wrapping_add(scale_delta(delta, info.tsc_to_system_mul, info.tsc_shift))
}

/// The TSC frequency the scaling factors describe, in Hz.
pub fn tsc_hz(info: &VcpuTimeInfo) -> u64 {
    if info.tsc_to_system_mul == 0 {
        return 0;
    }
    let hz = ((NS_PER_SEC as u128) << 32) / info.tsc_to_system_mul as u128;
    let hz = if info.tsc_shift >= 0 {
        hz >> info.tsc_shift
    } else {
        hz << (-(info.tsc_shift as i32))
    };
    hz as u64
}

/// Reads a consistent copy of `*p` with the version seqlock: an odd version means Xen is
/// updating it; a version that changed while copying means the copy may be torn.
///
/// # Safety
/// `p` must point to a live `vcpu_time_info`.
pub unsafe fn read_consistent(p: *const VcpuTimeInfo) -> VcpuTimeInfo {
    read_with(p, || ()).0
}

/// Like [`read_consistent`], and also calls `f` (e.g. to read the TSC) inside the same seqlock
/// section: if Xen updated the snapshot meanwhile (for instance because the vCPU moved to
/// another physical CPU, whose TSC may differ), both are read again. This is how a TSC value
/// and the snapshot it is scaled with are kept together (Linux `pvclock_clocksource_read`).
///
/// # Safety
/// `p` must point to a live `vcpu_time_info`.
pub unsafe fn read_with<T>(p: *const VcpuTimeInfo, mut f: impl FnMut() -> T) -> (VcpuTimeInfo, T) {
    loop {
        let v1 = read_volatile(addr_of!((*p).version));
        if v1 & 1 != 0 {
            core::hint::spin_loop();
            continue;
        }
        fence(Ordering::Acquire);
        let copy = read_volatile(p);
        let extra = f();
        fence(Ordering::Acquire);
        let v2 = read_volatile(addr_of!((*p).version));
        if v1 == v2 && copy.version == v1 {
            return (copy, extra);
        }
    }
}

/// Keeps a clock from going backwards: Xen's per-CPU snapshots are only guaranteed to agree
/// when it sets `XEN_PVCLOCK_TSC_STABLE_BIT`; otherwise two readings on different physical
/// CPUs can disagree slightly (Linux keeps the same "last value" guard).
#[derive(Default)]
pub struct Monotonic {
    last: core::sync::atomic::AtomicU64,
}

impl Monotonic {
    pub const fn new() -> Self {
        Monotonic {
            last: core::sync::atomic::AtomicU64::new(0),
        }
    }

    /// `t`, or the largest value returned so far if that is later.
    pub fn clamp(&self, t: u64) -> u64 {
        let prev = self.last.fetch_max(t, Ordering::SeqCst);
        prev.max(t)
    }
}

/// Splits ns into (seconds, microseconds) for printing.
pub fn secs_micros(ns: u64) -> (u64, u64) {
    (ns / NS_PER_SEC, (ns % NS_PER_SEC) / NS_PER_US)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(mul: u32, shift: i8) -> VcpuTimeInfo {
        VcpuTimeInfo {
            version: 2,
            tsc_timestamp: 1_000_000,
            system_time: 5 * NS_PER_SEC,
            tsc_to_system_mul: mul,
            tsc_shift: shift,
            ..Default::default()
        }
    }

    #[test]
    fn scaling_matches_the_pvclock_formula() {
        // mul = 2^31 and shift 0: 0.5 ns per tick (a 2 GHz TSC).
        assert_eq!(scale_delta(1000, 1 << 31, 0), 500);
        // shift -1 halves first.
        assert_eq!(scale_delta(1000, 1 << 31, -1), 250);
        // shift +1 doubles first.
        assert_eq!(scale_delta(1000, 1 << 31, 1), 1000);
        // Large deltas do not overflow (u128 product).
        assert_eq!(
            scale_delta(u64::MAX >> 1, u32::MAX, 0),
            (((u64::MAX >> 1) as u128 * u32::MAX as u128) >> 32) as u64
        );
    }

    #[test]
    fn system_time_and_frequency() {
        // A 3 GHz TSC: 1/3 ns per tick = (2^32/3) / 2^32 ... Xen would use shift -1 or so; take
        // mul = 2^32 * 2/3 with shift -1.
        let i = info(((1u64 << 32) * 2 / 3) as u32, -1);
        let hz = tsc_hz(&i);
        assert!((2_999_999_000..=3_000_001_000).contains(&hz), "{hz}");
        // 3e9 ticks later: one second later.
        let t = system_time_at(&i, 1_000_000 + 3_000_000_000);
        assert!((t as i64 - 6 * NS_PER_SEC as i64).abs() < 10, "{t}");
        // A TSC before the snapshot gives the snapshot time.
        assert_eq!(system_time_at(&i, 0), 5 * NS_PER_SEC);
        assert_eq!(tsc_hz(&info(0, 0)), 0);
    }

    #[test]
    fn seqlock_read_returns_the_stable_copy() {
        let i = info(1 << 31, 0);
        assert_eq!(unsafe { read_consistent(&i) }, i);
    }

    #[test]
    fn read_with_keeps_the_extra_reading_in_the_section() {
        let i = info(1 << 31, 0);
        let mut calls = 0;
        let (copy, v) = unsafe {
            read_with(&i, || {
                calls += 1;
                42
            })
        };
        assert_eq!((copy, v, calls), (i, 42, 1));
    }

    #[test]
    fn monotonic_never_goes_back() {
        let m = Monotonic::new();
        assert_eq!(m.clamp(10), 10);
        assert_eq!(m.clamp(5), 10);
        assert_eq!(m.clamp(11), 11);
    }

    #[test]
    fn secs_micros_splits() {
        assert_eq!(secs_micros(1_234_567_891), (1, 234_567));
    }
}
