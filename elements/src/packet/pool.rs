//! The packet pool: recycles packet records and buffers so that the data path does not allocate.
//!
//! Each router owns one pool and is single-threaded, so the pool needs no locking: elements get it
//! through their context, make packets from it and kill packets into it.

use alloc::boxed::Box;
use alloc::rc::Rc;
use alloc::vec::Vec;

use super::{Annotations, Inner, Packet, BUFFER_SIZE, DEFAULT_HEADROOM};

/// Counters that show whether the steady state allocates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Packet records allocated from the heap (pool empty).
    pub records_allocated: u64,
    /// Buffers allocated from the heap (pool empty, clone recycled, or jumbo).
    pub buffers_allocated: u64,
    /// Packets made.
    pub made: u64,
    /// Packets killed back into the pool.
    pub recycled: u64,
}

pub struct PacketPool {
    records: Vec<Box<Inner>>,
    /// Unshared buffers released by clones, ready for records that lost theirs.
    buffers: Vec<Rc<[u8]>>,
    limit: usize,
    stats: PoolStats,
}

impl Default for PacketPool {
    fn default() -> Self {
        PacketPool::new(4096)
    }
}

impl PacketPool {
    /// A pool that keeps at most `limit` free packets.
    pub fn new(limit: usize) -> PacketPool {
        PacketPool {
            records: Vec::with_capacity(limit),
            buffers: Vec::new(),
            limit,
            stats: PoolStats::default(),
        }
    }

    pub fn stats(&self) -> PoolStats {
        self.stats
    }

    pub fn free_packets(&self) -> usize {
        self.records.len()
    }

    fn new_buffer(&mut self) -> Rc<[u8]> {
        match self.buffers.pop() {
            Some(b) => b,
            None => {
                self.stats.buffers_allocated += 1;
                Rc::from(alloc::vec![0u8; BUFFER_SIZE].into_boxed_slice())
            }
        }
    }

    #[inline]
    fn record(&mut self) -> Box<Inner> {
        match self.records.pop() {
            Some(r) => r,
            None => {
                self.stats.records_allocated += 1;
                let buf = self.new_buffer();
                Box::new(Inner {
                    buf,
                    head: 0,
                    tail: 0,
                    anno: Annotations::default(),
                })
            }
        }
    }

    /// A packet of `len` bytes (contents unspecified: the caller writes them) with the default
    /// headroom and fresh annotations.
    #[inline]
    pub fn make(&mut self, len: usize) -> Packet {
        self.stats.made += 1;
        if DEFAULT_HEADROOM + len > BUFFER_SIZE {
            return Packet::from_slice(&alloc::vec![0u8; len]);
        }
        let mut r = self.record();
        r.head = DEFAULT_HEADROOM as u32;
        r.tail = (DEFAULT_HEADROOM + len) as u32;
        r.anno.reset();
        Packet(r)
    }

    /// A packet holding a copy of `data`.
    #[inline]
    pub fn make_from(&mut self, data: &[u8]) -> Packet {
        let mut p = self.make(data.len());
        p.data_mut().copy_from_slice(data);
        p
    }

    /// A clone sharing `p`'s buffer, with a record from the pool.
    pub fn clone_packet(&mut self, p: &Packet) -> Packet {
        self.stats.made += 1;
        let mut r = self.record();
        let own = core::mem::replace(&mut r.buf, p.0.buf.clone());
        if own.len() == BUFFER_SIZE && Rc::strong_count(&own) == 1 {
            self.buffers.push(own);
        }
        r.head = p.0.head;
        r.tail = p.0.tail;
        r.anno = p.0.anno.clone();
        Packet(r)
    }

    /// Returns a packet to the pool (Click's `kill`).
    #[inline]
    pub fn recycle(&mut self, p: Packet) {
        self.stats.recycled += 1;
        if self.records.len() >= self.limit {
            return; // dropped: the pool is full
        }
        let mut r = p.0;
        if r.buf.len() != BUFFER_SIZE || Rc::strong_count(&r.buf) != 1 {
            // Shared with a clone, or an odd size: give this record a plain pooled buffer.
            r.buf = self.new_buffer();
        }
        self.records.push(r);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steady_state_allocates_nothing() {
        let mut pool = PacketPool::new(64);
        for _ in 0..3 {
            let ps: Vec<Packet> = (0..32).map(|_| pool.make_from(&[1u8; 60])).collect();
            for p in ps {
                pool.recycle(p);
            }
        }
        let s = pool.stats();
        assert_eq!(s.records_allocated, 32);
        assert_eq!(s.buffers_allocated, 32);
        assert_eq!(s.made, 96);
    }

    #[test]
    fn clones_recycle_their_buffers() {
        let mut pool = PacketPool::new(64);
        for _ in 0..10 {
            let a = pool.make_from(b"abc");
            let b = pool.clone_packet(&a);
            assert_eq!(b.data(), b"abc");
            pool.recycle(a);
            pool.recycle(b);
        }
        let s = pool.stats();
        assert!(s.records_allocated <= 2, "{s:?}");
        assert!(s.buffers_allocated <= 3, "{s:?}");
    }

    #[test]
    fn recycled_packets_have_fresh_annotations() {
        let mut pool = PacketPool::new(4);
        let mut p = pool.make(10);
        p.anno_mut().paint = 7;
        pool.recycle(p);
        assert_eq!(pool.make(10).anno().paint, 0);
    }
}
