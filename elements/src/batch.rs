//! Batches: the unit of work between elements (the FastClick lesson). A batch is a vector of
//! packets whose allocation is reused: the router keeps spare batches and hands them out.

use alloc::vec::Vec;

use crate::packet::Packet;

/// Packets a source or a device takes in one go unless configured otherwise.
pub const DEFAULT_BURST: usize = 32;

#[derive(Debug, Default)]
pub struct Batch {
    pub(crate) pkts: Vec<Packet>,
}

impl Batch {
    pub fn new() -> Batch {
        Batch {
            pkts: Vec::with_capacity(DEFAULT_BURST),
        }
    }

    pub fn from_vec(pkts: Vec<Packet>) -> Batch {
        Batch { pkts }
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.pkts.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.pkts.is_empty()
    }

    #[inline]
    pub fn push(&mut self, p: Packet) {
        self.pkts.push(p);
    }

    #[inline]
    pub fn pop(&mut self) -> Option<Packet> {
        self.pkts.pop()
    }

    pub fn iter(&self) -> core::slice::Iter<'_, Packet> {
        self.pkts.iter()
    }

    pub fn iter_mut(&mut self) -> core::slice::IterMut<'_, Packet> {
        self.pkts.iter_mut()
    }

    /// Takes the packets out in order, leaving the batch empty (and its allocation in place).
    pub fn drain(&mut self) -> alloc::vec::Drain<'_, Packet> {
        self.pkts.drain(..)
    }

    /// Total bytes of all packets.
    pub fn bytes(&self) -> usize {
        self.pkts.iter().map(Packet::len).sum()
    }

    pub fn first(&self) -> Option<&Packet> {
        self.pkts.first()
    }
}
