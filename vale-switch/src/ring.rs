//! A single-producer, single-consumer packet ring in shared memory: the fast path between a
//! ClickOS guest and the switch (pages granted by dom0), and between processes in the benchmarks.
//!
//! Layout of a ring region (all little-endian, 4096-byte aligned):
//!
//! ```text
//! offset 0     RingHeader (64 bytes): prod, cons, prod_wants_kick, cons_wants_kick, nslots, buf_size
//! offset 64    nslots × Slot { len: u16, flags: u16 }
//! offset P     nslots × buf_size bytes of packet buffers; slot i always uses buffer i
//! ```
//!
//! The slot-to-buffer mapping is fixed, so a peer can never point the other side at memory outside
//! the region. Indices are free-running `u32`s (slot = index % nslots). The side reading a value
//! the peer writes — the consumer reading `prod` and lengths, the producer reading `cons` —
//! validates it before use: a peer that writes garbage corrupts only its own traffic, and the
//! ring reports it as [`RingError`].
//!
//! Notifications: a side about to sleep sets its `*_wants_kick` flag, then re-checks the ring; the
//! other side sends a kick (an event channel, an eventfd) only when the flag is set. So a busy
//! ring costs no notifications at all.

use core::sync::atomic::{fence, AtomicU32, Ordering};

pub const HEADER_SIZE: usize = 64;
pub const SLOT_SIZE: usize = 4;
pub const PAGE_SIZE: usize = 4096;
/// How far ahead of the slot being filled the producer prefetches buffers for writing.
const PREFETCH_AHEAD: u32 = 8;

/// The peer wrote something impossible; the ring is unusable until the peer is reset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RingError {
    /// The producer index is more than `nslots` ahead of the consumer's (or behind it).
    BadProducerIndex { prod: u32, cons: u32 },
    /// The consumer index is ahead of the producer's, or behind by more than the ring.
    BadConsumerIndex { prod: u32, cons: u32 },
    /// The header disagrees with the geometry this side set up.
    BadGeometry,
}

/// Where the parts of a ring of `nslots` buffers of `buf_size` bytes lie, and its total size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    pub nslots: u32,
    pub buf_size: u32,
}

impl Geometry {
    pub fn new(nslots: u32, buf_size: u32) -> Geometry {
        assert!(
            nslots.is_power_of_two() && nslots >= 2,
            "nslots must be a power of two"
        );
        assert!((64..=65535).contains(&buf_size), "buffer size out of range");
        Geometry { nslots, buf_size }
    }

    pub fn buffers_offset(&self) -> usize {
        (HEADER_SIZE + self.nslots as usize * SLOT_SIZE).next_multiple_of(PAGE_SIZE)
    }

    /// Bytes of the whole region, a whole number of pages.
    pub fn region_size(&self) -> usize {
        (self.buffers_offset() + self.nslots as usize * self.buf_size as usize)
            .next_multiple_of(PAGE_SIZE)
    }
}

/// One end's view of a ring region. `Ring` holds a raw pointer into memory shared with a peer that
/// may change it at any time; every access is a volatile or atomic one.
pub struct Ring {
    base: *mut u8,
    geo: Geometry,
    /// This side's copy of its own index (the peer cannot change what we believe).
    mine: u32,
    /// Producer only: free slots known from the last (validated) read of the consumer's index.
    /// `push` uses it up before reading `cons` again, so a busy producer does not pull the
    /// consumer's cache line over for every packet.
    room: u32,
}

// SAFETY: a Ring is one end of an SPSC ring; it may move to another thread (the switch thread).
unsafe impl Send for Ring {}

impl Ring {
    /// Initializes a zeroed region as a new ring and returns the producer end's view.
    ///
    /// # Safety
    /// `base` must point to `geo.region_size()` writable bytes that stay mapped while any `Ring`
    /// over them exists, aligned to 4096.
    pub unsafe fn format(base: *mut u8, geo: Geometry) -> Ring {
        let r = Ring {
            base,
            geo,
            mine: 0,
            room: 0,
        };
        r.word(0).store(0, Ordering::Relaxed);
        r.word(1).store(0, Ordering::Relaxed);
        r.word(2).store(0, Ordering::Relaxed);
        r.word(3).store(0, Ordering::Relaxed);
        r.word(4).store(geo.nslots, Ordering::Relaxed);
        r.word(5).store(geo.buf_size, Ordering::Release);
        r
    }

    /// Attaches to an existing ring, checking the header against the geometry expected.
    ///
    /// # Safety
    /// As for [`Ring::format`].
    pub unsafe fn attach(base: *mut u8, geo: Geometry, producer: bool) -> Result<Ring, RingError> {
        let mut r = Ring {
            base,
            geo,
            mine: 0,
            room: 0,
        };
        if r.word(4).load(Ordering::Acquire) != geo.nslots
            || r.word(5).load(Ordering::Acquire) != geo.buf_size
        {
            return Err(RingError::BadGeometry);
        }
        r.mine = if producer {
            r.word(0).load(Ordering::Acquire)
        } else {
            r.word(1).load(Ordering::Acquire)
        };
        Ok(r)
    }

    pub fn geometry(&self) -> Geometry {
        self.geo
    }

    fn word(&self, k: usize) -> &AtomicU32 {
        // SAFETY: the header's first six words are inside the region and 4-aligned.
        unsafe { &*(self.base.add(k * 4) as *const AtomicU32) }
    }

    fn slot_len(&self, slot: u32) -> &AtomicU32 {
        // SAFETY: slot < nslots, so the slot word is inside the slot table.
        unsafe { &*(self.base.add(HEADER_SIZE + (slot as usize) * SLOT_SIZE) as *const AtomicU32) }
    }

    fn buffer(&self, slot: u32) -> *mut u8 {
        // SAFETY (for callers): slot < nslots keeps the buffer inside the region.
        unsafe {
            self.base
                .add(self.geo.buffers_offset() + slot as usize * self.geo.buf_size as usize)
        }
    }

    fn mask(&self) -> u32 {
        self.geo.nslots - 1
    }

    /// Starts bringing the buffer of slot `slot` into this core's cache (for writing when
    /// `write`), so that the misses of a batch overlap instead of stalling one after the other.
    /// Only a hint: it never faults, and does nothing off x86-64.
    #[inline(always)]
    fn prefetch_slot(&self, slot: u32, write: bool) {
        #[cfg(target_arch = "x86_64")]
        {
            use core::arch::x86_64::{_mm_prefetch, _MM_HINT_ET0, _MM_HINT_T0};
            let p = self.buffer(slot & self.mask()) as *const i8;
            // SAFETY: prefetching is a hint and never faults; the address is inside the region.
            unsafe {
                if write {
                    _mm_prefetch::<_MM_HINT_ET0>(p);
                } else {
                    _mm_prefetch::<_MM_HINT_T0>(p);
                }
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = (slot, write);
    }

    /// Consumer: hints that packets `0..n` (counted from the next one) are about to be read.
    #[inline]
    pub fn prefetch_pending(&self, n: u32) {
        for k in 0..n.min(self.geo.nslots) {
            self.prefetch_slot(self.mine.wrapping_add(k), false);
        }
    }

    // ---- producer side -------------------------------------------------------------------

    /// Free slots, judged from the consumer's index (validated).
    pub fn space(&self) -> Result<u32, RingError> {
        let cons = self.word(1).load(Ordering::Acquire);
        let used = self.mine.wrapping_sub(cons);
        if used > self.geo.nslots {
            return Err(RingError::BadConsumerIndex {
                prod: self.mine,
                cons,
            });
        }
        Ok(self.geo.nslots - used)
    }

    /// Copies `data` into the next free slot (not yet visible: see [`Ring::publish`]). Returns
    /// false when the ring is full or `data` does not fit a buffer.
    pub fn push(&mut self, data: &[u8]) -> Result<bool, RingError> {
        if data.len() > self.geo.buf_size as usize || data.len() > u16::MAX as usize {
            return Ok(false);
        }
        if self.room == 0 {
            self.room = self.space()?;
            if self.room == 0 {
                return Ok(false);
            }
        }
        self.room -= 1;
        let slot = self.mine & self.mask();
        // Ask for the buffers a few slots ahead now: the consumer's core holds them, and each
        // write to a line it holds would otherwise wait for that line on its own.
        self.prefetch_slot(self.mine.wrapping_add(PREFETCH_AHEAD), true);
        // SAFETY: the buffer of a slot we own (between cons and prod) holds buf_size bytes.
        unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), self.buffer(slot), data.len()) };
        self.slot_len(slot)
            .store(data.len() as u32, Ordering::Relaxed);
        self.mine = self.mine.wrapping_add(1);
        Ok(true)
    }

    /// Makes pushed slots visible to the consumer. Returns whether the consumer asked to be
    /// kicked (it was about to sleep).
    pub fn publish(&mut self) -> bool {
        self.word(0).store(self.mine, Ordering::Release);
        // The store above must be visible before we read the flag (the consumer sets the flag,
        // then re-reads prod: one of the two sees the other).
        fence(Ordering::SeqCst);
        self.word(3).load(Ordering::Relaxed) != 0
    }

    // ---- consumer side -------------------------------------------------------------------

    /// Packets waiting, judged from the producer's index (validated).
    pub fn pending(&self) -> Result<u32, RingError> {
        let prod = self.word(0).load(Ordering::Acquire);
        let n = prod.wrapping_sub(self.mine);
        if n > self.geo.nslots {
            return Err(RingError::BadProducerIndex {
                prod,
                cons: self.mine,
            });
        }
        Ok(n)
    }

    /// Hands the next waiting packet to `f` (its length clamped to the buffer), without releasing
    /// its slot. Returns `None` when empty.
    pub fn peek<R>(&self, k: u32, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        let slot = self.mine.wrapping_add(k) & self.mask();
        // A length the producer wrote: clamp, never trust.
        let len =
            (self.slot_len(slot).load(Ordering::Relaxed) & 0xffff).min(self.geo.buf_size) as usize;
        // SAFETY: the slot is inside the region; its buffer holds buf_size >= len bytes. The
        // producer could still scribble on it, which changes bytes, not bounds.
        let data = unsafe { core::slice::from_raw_parts(self.buffer(slot), len) };
        Some(f(data))
    }

    /// Releases `n` consumed slots to the producer. Returns whether it asked to be kicked.
    pub fn release(&mut self, n: u32) -> bool {
        self.mine = self.mine.wrapping_add(n);
        self.word(1).store(self.mine, Ordering::Release);
        fence(Ordering::SeqCst);
        self.word(2).load(Ordering::Relaxed) != 0
    }

    /// The consumer is going to sleep: ask for a kick, then re-check (returns pending packets;
    /// if any, do not sleep).
    pub fn consumer_sleep(&self) -> Result<u32, RingError> {
        self.word(3).store(1, Ordering::Relaxed);
        fence(Ordering::SeqCst);
        self.pending()
    }

    pub fn consumer_awake(&self) {
        self.word(3).store(0, Ordering::Relaxed);
    }

    /// The producer is going to sleep until there is space: ask for a kick, then re-check.
    pub fn producer_sleep(&self) -> Result<u32, RingError> {
        self.word(2).store(1, Ordering::Relaxed);
        fence(Ordering::SeqCst);
        self.space()
    }

    pub fn producer_awake(&self) {
        self.word(2).store(0, Ordering::Relaxed);
    }

    /// Writes arbitrary values where the peer's indices live (tests of hostile peers only).
    #[doc(hidden)]
    pub fn scribble(&self, prod: u32, cons: u32, len_all: u32) {
        self.word(0).store(prod, Ordering::Relaxed);
        self.word(1).store(cons, Ordering::Relaxed);
        for s in 0..self.geo.nslots {
            self.slot_len(s).store(len_all, Ordering::Relaxed);
        }
    }
}

/// A ring region in this process's memory (tests, in-process ports).
pub struct OwnedRegion {
    ptr: *mut u8,
    layout: alloc::alloc::Layout,
}

impl OwnedRegion {
    pub fn new(geo: Geometry) -> OwnedRegion {
        let layout = alloc::alloc::Layout::from_size_align(geo.region_size(), PAGE_SIZE)
            .expect("valid layout");
        // SAFETY: non-zero size.
        let ptr = unsafe { alloc::alloc::alloc_zeroed(layout) };
        assert!(!ptr.is_null(), "out of memory");
        OwnedRegion { ptr, layout }
    }

    pub fn ptr(&self) -> *mut u8 {
        self.ptr
    }
}

impl Drop for OwnedRegion {
    fn drop(&mut self) {
        // SAFETY: allocated with this layout.
        unsafe { alloc::alloc::dealloc(self.ptr, self.layout) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(geo: Geometry) -> (OwnedRegion, Ring, Ring) {
        let region = OwnedRegion::new(geo);
        // SAFETY: the region outlives both views within each test.
        let p = unsafe { Ring::format(region.ptr(), geo) };
        let c = unsafe { Ring::attach(region.ptr(), geo, false) }.unwrap();
        (region, p, c)
    }

    #[test]
    fn geometry_is_page_aligned() {
        let g = Geometry::new(256, 2048);
        assert_eq!(g.buffers_offset(), 4096);
        assert_eq!(g.region_size(), 4096 + 256 * 2048);
        assert_eq!(Geometry::new(2048, 2048).buffers_offset(), 12288);
    }

    #[test]
    fn packets_go_through_in_order_and_wrap() {
        let (_r, mut p, mut c) = pair(Geometry::new(4, 128));
        for round in 0..10u8 {
            for k in 0..3u8 {
                assert!(p.push(&[round, k, 7]).unwrap());
            }
            p.publish();
            assert_eq!(c.pending().unwrap(), 3);
            for k in 0..3u32 {
                assert_eq!(c.peek(k, |d| d.to_vec()).unwrap(), [round, k as u8, 7]);
            }
            c.release(3);
        }
    }

    #[test]
    fn full_ring_and_oversized_packets_are_refused() {
        let (_r, mut p, _c) = pair(Geometry::new(2, 64));
        assert!(p.push(&[0; 64]).unwrap());
        assert!(!p.push(&[0; 65]).unwrap());
        assert!(p.push(&[1]).unwrap());
        assert!(!p.push(&[2]).unwrap(), "full");
    }

    #[test]
    fn kicks_only_when_asked() {
        let (_r, mut p, c) = pair(Geometry::new(8, 64));
        p.push(&[1]).unwrap();
        assert!(!p.publish(), "consumer awake: no kick");
        assert_eq!(c.consumer_sleep().unwrap(), 1, "re-check finds the packet");
        p.push(&[2]).unwrap();
        assert!(p.publish(), "consumer asleep: kick");
        c.consumer_awake();
    }

    #[test]
    fn hostile_indices_are_detected_not_trusted() {
        let (_r, p, c) = pair(Geometry::new(8, 64));
        // The producer claims 1000 packets in an 8-slot ring.
        p.scribble(1000, 0, 0);
        assert_eq!(
            c.pending(),
            Err(RingError::BadProducerIndex {
                prod: 1000,
                cons: 0
            })
        );
        // The consumer claims to have consumed more than was produced.
        p.scribble(0, 5, 0);
        assert!(matches!(p.space(), Err(RingError::BadConsumerIndex { .. })));
    }

    #[test]
    fn hostile_lengths_are_clamped() {
        let (_r, mut p, c) = pair(Geometry::new(8, 64));
        p.push(&[9; 10]).unwrap();
        p.publish();
        p.scribble(1, 0, 0xffff_ffff);
        assert_eq!(c.peek(0, |d| d.len()), Some(64));
    }

    #[test]
    fn wrong_geometry_is_refused() {
        let g = Geometry::new(8, 64);
        let region = OwnedRegion::new(g);
        // SAFETY: region is live.
        let _p = unsafe { Ring::format(region.ptr(), g) };
        assert!(matches!(
            unsafe { Ring::attach(region.ptr(), Geometry::new(16, 64), false) },
            Err(RingError::BadGeometry)
        ));
    }
}
