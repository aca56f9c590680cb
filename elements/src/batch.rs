//! Batches: the unit of work between elements (the FastClick lesson). A batch is a vector of
//! packets whose allocation is reused: the router keeps spare batches and hands them out.

use alloc::vec::Vec;

use crate::packet::{Packet, PacketPool};

/// What a device did with one packet offered by [`Batch::transmit_with`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxOutcome {
    Sent,
    /// The device cannot take more now: this packet and the rest stay in the batch.
    Full,
    /// Refused for good (too short, too long): the packet leaves the router unsent.
    Refused,
}

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

    /// A device's transmit loop without allocation: offers the packets in order to `send` until
    /// it answers [`TxOutcome::Full`]; the packets it took (sent or refused) leave the batch
    /// and go back to `pool`, the others stay in order. Returns how many were sent.
    pub fn transmit_with(
        &mut self,
        pool: &mut PacketPool,
        mut send: impl FnMut(&Packet) -> TxOutcome,
    ) -> usize {
        let mut sent = 0;
        let mut taken = 0;
        for p in self.pkts.iter() {
            match send(p) {
                TxOutcome::Sent => sent += 1,
                TxOutcome::Refused => {}
                TxOutcome::Full => break,
            }
            taken += 1;
        }
        for p in self.pkts.drain(..taken) {
            pool.recycle(p);
        }
        sent
    }

    /// Total bytes of all packets.
    pub fn bytes(&self) -> usize {
        self.pkts.iter().map(Packet::len).sum()
    }

    pub fn first(&self) -> Option<&Packet> {
        self.pkts.first()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transmit_with_keeps_what_a_full_device_left_in_order() {
        let mut pool = PacketPool::default();
        let mut b = Batch::new();
        for i in 0..5u8 {
            b.push(pool.make_from(&[i; 60]));
        }
        // Takes packets 0 and 1, refuses 2 for good, is full at 3.
        let mut offered = 0;
        let sent = b.transmit_with(&mut pool, |p| {
            offered += 1;
            match p.data()[0] {
                0 | 1 => TxOutcome::Sent,
                2 => TxOutcome::Refused,
                _ => TxOutcome::Full,
            }
        });
        assert_eq!((sent, offered), (2, 4));
        let left: Vec<u8> = b.iter().map(|p| p.data()[0]).collect();
        assert_eq!(left, [3, 4]);
        // Then everything goes.
        assert_eq!(b.transmit_with(&mut pool, |_| TxOutcome::Sent), 2);
        assert!(b.is_empty());
    }
}
