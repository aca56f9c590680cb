//! Byte-stream rings shared with another domain: the console ring (`io/console.h`) and the
//! Xenstore ring (`io/xs_wire.h`) are both a power-of-two byte array with free-running `u32`
//! consumer/producer indices. Each side owns one index and only reads the other.
//!
//! A message may be larger than the ring: callers treat a ring as a stream, moving as many bytes
//! as fit and waiting for the peer for the rest.

use core::ptr;
use core::sync::atomic::{fence, Ordering};

/// The peer left indices that cannot be right (more bytes in flight than the ring holds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RingCorrupt {
    pub cons: u32,
    pub prod: u32,
}

/// Bytes in flight between `cons` and `prod`, or an error if that exceeds `size`.
#[inline]
pub fn used(cons: u32, prod: u32, size: u32) -> Result<u32, RingCorrupt> {
    let n = prod.wrapping_sub(cons);
    if n > size {
        Err(RingCorrupt { cons, prod })
    } else {
        Ok(n)
    }
}

/// Splits a transfer of `len` bytes starting at free-running index `idx` into the two
/// contiguous pieces `(offset, first_len, second_len)` of a ring of `size` (a power of two).
#[inline]
pub fn split(idx: u32, len: u32, size: u32) -> (usize, usize, usize) {
    debug_assert!(size.is_power_of_two() && len <= size);
    let off = idx & (size - 1);
    let first = len.min(size - off);
    (off as usize, first as usize, (len - first) as usize)
}

/// One direction of a shared byte ring, seen from one side.
///
/// Holds raw pointers into a page shared with another domain (or, in tests, into ordinary
/// memory). The indices are read and written with volatile accesses and ordered with fences as
/// the Xen ring protocol requires.
pub struct ByteRing {
    buf: *mut u8,
    size: u32,
    cons: *mut u32,
    prod: *mut u32,
}

impl ByteRing {
    /// # Safety
    /// `buf` must point to `size` bytes and `cons`/`prod` to `u32`s that stay valid (and are only
    /// written by the protocol's two parties) for the life of the value. `size` must be a power
    /// of two.
    pub const unsafe fn new(buf: *mut u8, size: u32, cons: *mut u32, prod: *mut u32) -> Self {
        assert!(size.is_power_of_two());
        ByteRing {
            buf,
            size,
            cons,
            prod,
        }
    }

    pub fn size(&self) -> u32 {
        self.size
    }

    fn indices(&self) -> (u32, u32) {
        // SAFETY: valid pointers (constructor contract).
        unsafe { (ptr::read_volatile(self.cons), ptr::read_volatile(self.prod)) }
    }

    /// Bytes waiting to be consumed.
    pub fn available(&self) -> Result<u32, RingCorrupt> {
        let (c, p) = self.indices();
        used(c, p, self.size)
    }

    /// Room for more bytes.
    pub fn space(&self) -> Result<u32, RingCorrupt> {
        Ok(self.size - self.available()?)
    }

    /// Producer side: copies as much of `data` as fits and publishes it. Returns the count.
    pub fn produce(&self, data: &[u8]) -> Result<usize, RingCorrupt> {
        let (cons, prod) = self.indices();
        // The consumer must be done reading the slots before we overwrite them.
        fence(Ordering::SeqCst);
        let free = self.size - used(cons, prod, self.size)?;
        let n = (data.len() as u64).min(free as u64) as u32;
        if n == 0 {
            return Ok(0);
        }
        let (off, a, b) = split(prod, n, self.size);
        // SAFETY: off + a <= size and b <= size (split), buffer is `size` bytes.
        unsafe {
            ptr::copy_nonoverlapping(data.as_ptr(), self.buf.add(off), a);
            ptr::copy_nonoverlapping(data.as_ptr().add(a), self.buf, b);
        }
        // The data must be visible before the index that publishes it.
        fence(Ordering::Release);
        // SAFETY: valid pointer.
        unsafe { ptr::write_volatile(self.prod, prod.wrapping_add(n)) };
        Ok(n as usize)
    }

    /// Consumer side: copies up to `out.len()` waiting bytes out and releases their room.
    pub fn consume(&self, out: &mut [u8]) -> Result<usize, RingCorrupt> {
        let (cons, prod) = self.indices();
        // Read the producer index before the data it covers.
        fence(Ordering::Acquire);
        let avail = used(cons, prod, self.size)?;
        let n = (out.len() as u64).min(avail as u64) as u32;
        if n == 0 {
            return Ok(0);
        }
        let (off, a, b) = split(cons, n, self.size);
        // SAFETY: as in produce.
        unsafe {
            ptr::copy_nonoverlapping(self.buf.add(off), out.as_mut_ptr(), a);
            ptr::copy_nonoverlapping(self.buf, out.as_mut_ptr().add(a), b);
        }
        // Finish reading the data before handing the room back.
        fence(Ordering::SeqCst);
        // SAFETY: valid pointer.
        unsafe { ptr::write_volatile(self.cons, cons.wrapping_add(n)) };
        Ok(n as usize)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::vec::Vec;

    /// A ring in ordinary memory with both ends, for tests.
    pub struct TestRing {
        pub buf: Vec<u8>,
        pub cons: u32,
        pub prod: u32,
    }

    impl TestRing {
        pub fn new(size: usize, start: u32) -> Box<Self> {
            Box::new(TestRing {
                buf: vec![0; size],
                cons: start,
                prod: start,
            })
        }
        pub fn end(&mut self) -> ByteRing {
            let size = self.buf.len() as u32;
            unsafe { ByteRing::new(self.buf.as_mut_ptr(), size, &mut self.cons, &mut self.prod) }
        }
    }

    #[test]
    fn used_and_corrupt() {
        assert_eq!(used(0, 0, 16), Ok(0));
        assert_eq!(used(u32::MAX, 3, 16), Ok(4));
        assert_eq!(used(5, 22, 16), Err(RingCorrupt { cons: 5, prod: 22 }));
        // prod behind cons is also corrupt (huge wrapped difference).
        assert!(used(10, 9, 16).is_err());
    }

    #[test]
    fn split_wraps() {
        assert_eq!(split(0, 16, 16), (0, 16, 0));
        assert_eq!(split(14, 5, 16), (14, 2, 3));
        assert_eq!(split(u32::MAX, 2, 1024), (1023, 1, 1));
        assert_eq!(split(16, 0, 16), (0, 0, 0));
    }

    #[test]
    fn produce_consume_in_random_chunks_across_index_wrap() {
        for start in [0u32, 1000, u32::MAX - 40, u32::MAX] {
            let mut r = TestRing::new(32, start);
            let ring = r.end();
            let data: Vec<u8> = (0..5000u32).map(|i| (i * 7 + 3) as u8).collect();
            let mut out = Vec::new();
            let mut sent = 0;
            let mut seed = start as u64 | 1;
            let mut rnd = move |m: usize| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (seed as usize) % m
            };
            while out.len() < data.len() {
                let want = rnd(40);
                let end = (sent + want).min(data.len());
                sent += ring.produce(&data[sent..end]).unwrap();
                assert!(ring.available().unwrap() <= 32);
                let mut tmp = vec![0; rnd(50)];
                let n = ring.consume(&mut tmp).unwrap();
                out.extend_from_slice(&tmp[..n]);
            }
            assert_eq!(out, data);
            assert_eq!(ring.available().unwrap(), 0);
            assert_eq!(ring.space().unwrap(), 32);
        }
    }

    #[test]
    fn full_ring_takes_nothing_and_empty_gives_nothing() {
        let mut r = TestRing::new(8, 6);
        let ring = r.end();
        assert_eq!(ring.produce(&[1; 20]).unwrap(), 8);
        assert_eq!(ring.produce(&[2; 3]).unwrap(), 0);
        let mut o = [0; 20];
        assert_eq!(ring.consume(&mut o).unwrap(), 8);
        assert_eq!(ring.consume(&mut o).unwrap(), 0);
        assert_eq!(r.prod, 14);
        assert_eq!(r.cons, 14);
    }

    #[test]
    fn corrupt_indices_are_reported() {
        let mut r = TestRing::new(8, 0);
        r.prod = 100;
        let ring = r.end();
        assert!(ring.produce(&[1]).is_err());
        assert!(ring.consume(&mut [0; 4]).is_err());
    }
}
