//! Event channels: the 2-level bitmaps in `shared_info` and the [`Channel`] abstraction that the
//! ring drivers (console, Xenstore) wait on.
//!
//! The guest never takes upcalls (vCPU0 keeps `evtchn_upcall_mask = 1` as Xen left it): it waits
//! with `SCHEDOP_poll`, which wakes on a pending bit regardless of masks. The pending bit must be
//! cleared *before* the ring is looked at again, or a later event finds the bit already set and
//! wakes nobody (`evtchn_2l_set_pending`).

use core::sync::atomic::{AtomicU64, Ordering};

/// Ports of the 2-level ABI on x86_64.
pub const NR_PORTS: u32 = 64 * 64;

/// Word index and bit mask of `port` in the pending/mask bitmaps.
#[inline]
pub fn word_bit(port: u32) -> (usize, u64) {
    debug_assert!(port < NR_PORTS);
    ((port / 64) as usize, 1u64 << (port % 64))
}

/// Atomically clears `port` in `bits`; returns whether it was set.
pub fn test_and_clear(bits: &[AtomicU64], port: u32) -> bool {
    let (w, b) = word_bit(port);
    bits[w].fetch_and(!b, Ordering::SeqCst) & b != 0
}

/// Atomically sets `port` in `bits`; returns whether it was already set.
pub fn test_and_set(bits: &[AtomicU64], port: u32) -> bool {
    let (w, b) = word_bit(port);
    bits[w].fetch_or(b, Ordering::SeqCst) & b != 0
}

pub fn test(bits: &[AtomicU64], port: u32) -> bool {
    let (w, b) = word_bit(port);
    bits[w].load(Ordering::SeqCst) & b != 0
}

/// A way to wait for and signal the peer of one shared ring.
pub trait Channel {
    /// Tells the peer there is something new in the ring (`EVTCHNOP_send`).
    fn notify(&mut self);
    /// Waits until the peer signals (or, with a deadline in Xen system time ns, until then) and
    /// consumes the signal. Returns `false` if the deadline passed first. May return early
    /// (spurious wake-ups are allowed): callers re-check their ring and wait again.
    fn wait(&mut self, deadline: Option<u64>) -> bool;
    /// Xen system time now, in ns (for deadlines).
    fn now(&self) -> u64;
    /// True if something else the guest waits for (a netfront event) fired during the last
    /// wait: a wait for watch events gives up then, so the caller can attend to it.
    fn interrupted(&mut self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_arithmetic() {
        assert_eq!(word_bit(0), (0, 1));
        assert_eq!(word_bit(63), (0, 1 << 63));
        assert_eq!(word_bit(64), (1, 1));
        assert_eq!(word_bit(4095), (63, 1 << 63));
        let bits: [AtomicU64; 64] = core::array::from_fn(|_| AtomicU64::new(0));
        assert!(!test_and_set(&bits, 70));
        assert!(test_and_set(&bits, 70));
        assert!(test(&bits, 70));
        assert_eq!(bits[1].load(Ordering::SeqCst), 1 << 6);
        assert!(test_and_clear(&bits, 70));
        assert!(!test_and_clear(&bits, 70));
        assert!(!test(&bits, 70));
    }
}
