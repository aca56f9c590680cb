//! The page-frame allocator: a bitmap over a contiguous range of pseudo-physical frames (PFNs).
//! A set bit means "in use". Allocation is first-fit from a rotating hint; runs of contiguous
//! frames can be asked for (the heap is one such run).

/// A bitmap frame allocator over `[base, base + count)`.
pub struct FrameAllocator<'a> {
    bits: &'a mut [u64],
    base: u64,
    count: u64,
    free: u64,
    hint: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FreeError {
    OutOfRange,
    NotAllocated,
}

impl<'a> FrameAllocator<'a> {
    /// Words of bitmap needed for `count` frames.
    pub const fn words_for(count: u64) -> usize {
        count.div_ceil(64) as usize
    }

    /// An allocator with every frame of `[base, base + count)` free. `bits` must have at least
    /// [`Self::words_for`]`(count)` words.
    pub fn new(bits: &'a mut [u64], base: u64, count: u64) -> Self {
        let words = Self::words_for(count);
        assert!(bits.len() >= words, "frame bitmap too small");
        let bits = &mut bits[..words];
        bits.fill(0);
        // Frames past `count` in the last word are permanently used.
        let tail = count % 64;
        if tail != 0 {
            bits[words - 1] = !0u64 << tail;
        }
        FrameAllocator {
            bits,
            base,
            count,
            free: count,
            hint: 0,
        }
    }

    pub fn base(&self) -> u64 {
        self.base
    }
    pub fn total(&self) -> u64 {
        self.count
    }
    pub fn free_frames(&self) -> u64 {
        self.free
    }

    fn used(&self, i: u64) -> bool {
        self.bits[(i / 64) as usize] & (1 << (i % 64)) != 0
    }
    fn set(&mut self, i: u64, v: bool) {
        let w = &mut self.bits[(i / 64) as usize];
        if v {
            *w |= 1 << (i % 64);
        } else {
            *w &= !(1 << (i % 64));
        }
    }

    /// Marks `[pfn, pfn + n)` used (e.g. frames taken before the allocator existed).
    pub fn reserve(&mut self, pfn: u64, n: u64) {
        for p in pfn..pfn + n {
            if p >= self.base && p < self.base + self.count && !self.used(p - self.base) {
                self.set(p - self.base, true);
                self.free -= 1;
            }
        }
    }

    /// One frame.
    pub fn alloc(&mut self) -> Option<u64> {
        self.alloc_contiguous(1)
    }

    /// `n` contiguous frames; returns the first PFN.
    pub fn alloc_contiguous(&mut self, n: u64) -> Option<u64> {
        if n == 0 || n > self.free {
            return None;
        }
        // Two passes: from the hint to the end, then from 0.
        for (from, to) in [(self.hint, self.count), (0, self.count)] {
            let mut i = from;
            while i + n <= to {
                // Skip full words quickly.
                if i % 64 == 0 && self.bits[(i / 64) as usize] == !0 {
                    i += 64;
                    continue;
                }
                match (i..i + n).rev().find(|&j| self.used(j)) {
                    Some(j) => i = j + 1,
                    None => {
                        for j in i..i + n {
                            self.set(j, true);
                        }
                        self.free -= n;
                        self.hint = i + n;
                        return Some(self.base + i);
                    }
                }
            }
        }
        None
    }

    /// Frees `[pfn, pfn + n)`; all of it must be allocated.
    pub fn free(&mut self, pfn: u64, n: u64) -> Result<(), FreeError> {
        if pfn < self.base || pfn + n > self.base + self.count {
            return Err(FreeError::OutOfRange);
        }
        let i0 = pfn - self.base;
        if (i0..i0 + n).any(|i| !self.used(i)) {
            return Err(FreeError::NotAllocated);
        }
        for i in i0..i0 + n {
            self.set(i, false);
        }
        self.free += n;
        self.hint = self.hint.min(i0);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocates_every_frame_once() {
        let mut bits = vec![0u64; FrameAllocator::words_for(130)];
        let mut a = FrameAllocator::new(&mut bits, 1000, 130);
        let mut got: Vec<u64> = (0..130).map(|_| a.alloc().unwrap()).collect();
        assert_eq!(a.alloc(), None);
        assert_eq!(a.free_frames(), 0);
        got.sort();
        assert_eq!(got, (1000..1130).collect::<Vec<_>>());
    }

    #[test]
    fn contiguous_runs_skip_holes() {
        let mut bits = vec![0u64; 4];
        let mut a = FrameAllocator::new(&mut bits, 0, 200);
        a.reserve(10, 1);
        a.reserve(70, 3);
        let r = a.alloc_contiguous(60).unwrap();
        assert_eq!(r, 73); // [0,10) and [11,70) are too short
        assert_eq!(a.alloc_contiguous(80), None);
        // Next fit: continues after the last allocation...
        assert_eq!(a.alloc_contiguous(59).unwrap(), 133);
        // ...and wraps around to the start when the end is full.
        assert_eq!(a.alloc_contiguous(59).unwrap(), 11);
        assert_eq!(a.free_frames(), 200 - 1 - 3 - 60 - 59 - 59);
        a.free(73, 60).unwrap();
        assert_eq!(a.alloc_contiguous(61), None);
        assert_eq!(a.alloc_contiguous(60).unwrap(), 73);
    }

    #[test]
    fn free_checks() {
        let mut bits = vec![0u64; 1];
        let mut a = FrameAllocator::new(&mut bits, 50, 10);
        let p = a.alloc().unwrap();
        assert_eq!(a.free(p, 1), Ok(()));
        assert_eq!(a.free(p, 1), Err(FreeError::NotAllocated));
        assert_eq!(a.free(49, 1), Err(FreeError::OutOfRange));
        assert_eq!(a.free(55, 6), Err(FreeError::OutOfRange));
        assert_eq!(a.alloc_contiguous(0), None);
        assert_eq!(a.alloc_contiguous(11), None);
        assert_eq!(a.alloc_contiguous(10), Some(50));
    }

    #[test]
    fn reserve_is_idempotent_and_ignores_outside() {
        let mut bits = vec![0u64; 1];
        let mut a = FrameAllocator::new(&mut bits, 0, 8);
        a.reserve(2, 2);
        a.reserve(3, 10);
        assert_eq!(a.free_frames(), 2);
        assert_eq!(a.alloc(), Some(0));
        assert_eq!(a.alloc(), Some(1));
        assert_eq!(a.alloc(), None);
    }
}
