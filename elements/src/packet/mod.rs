//! Packets: one contiguous buffer with headroom and tailroom, Click's annotations, and cheap
//! clones that share the buffer and copy it on the first write.
//!
//! A [`Packet`] is one pointer wide, so batches move packets by moving pointers. Buffers and packet
//! records come from a [`PacketPool`] and go back to it when an element kills a packet: after
//! warm-up, the data path allocates nothing.

mod anno;
mod pool;

pub use anno::{packet_type, Annotations};
pub use pool::{PacketPool, PoolStats};

use alloc::boxed::Box;
use alloc::rc::Rc;

/// Bytes kept free in front of the data of a new packet, so encapsulation (Ethernet, IP, UDP)
/// prepends without copying.
pub const DEFAULT_HEADROOM: usize = 128;
/// Size of a pooled buffer: room for a 1518-byte frame plus headroom and some tailroom.
pub const BUFFER_SIZE: usize = 2048;

pub(crate) struct Inner {
    pub(crate) buf: Rc<[u8]>,
    /// Data is `buf[head..tail]`.
    pub(crate) head: u32,
    pub(crate) tail: u32,
    pub(crate) anno: Annotations,
}

/// A network packet.
pub struct Packet(pub(crate) Box<Inner>);

impl Packet {
    /// A packet holding a copy of `data`, allocated outside any pool (tests, slow paths).
    pub fn from_slice(data: &[u8]) -> Packet {
        let cap = (DEFAULT_HEADROOM + data.len() + 64).max(BUFFER_SIZE);
        let mut v = alloc::vec![0u8; cap];
        v[DEFAULT_HEADROOM..DEFAULT_HEADROOM + data.len()].copy_from_slice(data);
        Packet(Box::new(Inner {
            buf: Rc::from(v.into_boxed_slice()),
            head: DEFAULT_HEADROOM as u32,
            tail: (DEFAULT_HEADROOM + data.len()) as u32,
            anno: Annotations::default(),
        }))
    }

    #[inline]
    pub fn len(&self) -> usize {
        (self.0.tail - self.0.head) as usize
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.0.tail == self.0.head
    }

    #[inline]
    pub fn data(&self) -> &[u8] {
        &self.0.buf[self.0.head as usize..self.0.tail as usize]
    }

    /// Writable data; copies the buffer first if a clone shares it.
    #[inline]
    pub fn data_mut(&mut self) -> &mut [u8] {
        let (h, t) = (self.0.head as usize, self.0.tail as usize);
        &mut self.unique_buf()[h..t]
    }

    pub fn headroom(&self) -> usize {
        self.0.head as usize
    }

    pub fn tailroom(&self) -> usize {
        self.0.buf.len() - self.0.tail as usize
    }

    pub fn is_shared(&self) -> bool {
        Rc::strong_count(&self.0.buf) > 1
    }

    fn unique_buf(&mut self) -> &mut [u8] {
        if Rc::get_mut(&mut self.0.buf).is_none() {
            // Copy on write: the whole buffer, so stripped headers in the headroom survive for an
            // Unstrip later.
            self.0.buf = Rc::from(&self.0.buf[..]);
        }
        Rc::get_mut(&mut self.0.buf).expect("unique after copy")
    }

    /// Removes `n` bytes from the front (Click's `pull`). Fails, changing nothing, if the packet
    /// is shorter than `n`.
    #[inline]
    pub fn strip_head(&mut self, n: usize) -> Result<(), TooShort> {
        if n > self.len() {
            return Err(TooShort);
        }
        self.0.head += n as u32;
        self.0.anno.shift_headers(n as i32);
        Ok(())
    }

    /// Adds `n` bytes at the front (Click's `push`), uninitialized from the caller's view, and
    /// returns the whole data for writing. Reallocates only if the headroom is too small.
    pub fn push_head(&mut self, n: usize) -> &mut [u8] {
        if self.headroom() < n {
            self.reallocate(n.max(DEFAULT_HEADROOM), 0);
        }
        self.0.head -= n as u32;
        self.0.anno.shift_headers(-(n as i32));
        self.data_mut()
    }

    /// Moves the data start back by `n` bytes, restoring what the headroom holds there (the bytes a
    /// `strip_head` removed). Needs `n <= headroom()`; otherwise adds zero bytes.
    pub fn unstrip_head(&mut self, n: usize) {
        if self.headroom() >= n {
            self.0.head -= n as u32;
            self.0.anno.shift_headers(-(n as i32));
        } else {
            self.push_head(n)[..n].fill(0);
        }
    }

    /// Removes `n` bytes from the end (Click's `take`).
    pub fn trim_tail(&mut self, n: usize) -> Result<(), TooShort> {
        if n > self.len() {
            return Err(TooShort);
        }
        self.0.tail -= n as u32;
        Ok(())
    }

    /// Adds `n` zero bytes at the end (Click's `put`).
    pub fn extend_tail(&mut self, n: usize) -> &mut [u8] {
        if self.tailroom() < n || self.is_shared() {
            self.reallocate(0, n);
        }
        let t = self.0.tail as usize;
        self.unique_buf()[t..t + n].fill(0);
        self.0.tail += n as u32;
        self.data_mut()
    }

    /// Moves the data into a new buffer with at least `front` bytes of headroom and `back` of
    /// tailroom.
    fn reallocate(&mut self, front: usize, back: usize) {
        let len = self.len();
        let head = front.max(self.headroom());
        let cap = (head + len + back.max(self.tailroom())).max(BUFFER_SIZE);
        let mut v = alloc::vec![0u8; cap];
        v[head..head + len].copy_from_slice(self.data());
        self.0.buf = Rc::from(v.into_boxed_slice());
        self.0.head = head as u32;
        self.0.tail = (head + len) as u32;
    }

    #[inline]
    pub fn anno(&self) -> &Annotations {
        &self.0.anno
    }

    #[inline]
    pub fn anno_mut(&mut self) -> &mut Annotations {
        &mut self.0.anno
    }

    /// The bytes from the network header annotation to the end, if it is set.
    pub fn network_header(&self) -> Option<&[u8]> {
        let off = self.0.anno.network_offset()?;
        self.data().get(off..)
    }

    /// The bytes from the transport header annotation to the end, if it is set.
    pub fn transport_header(&self) -> Option<&[u8]> {
        let off = self.0.anno.transport_offset()?;
        self.data().get(off..)
    }

    /// A second packet sharing this one's buffer (Click's `clone`): no copy until either writes.
    /// Prefer [`PacketPool::clone_packet`] on the data path, which recycles the record.
    pub fn share(&self) -> Packet {
        Packet(Box::new(Inner {
            buf: self.0.buf.clone(),
            head: self.0.head,
            tail: self.0.tail,
            anno: self.0.anno.clone(),
        }))
    }
}

impl core::fmt::Debug for Packet {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Packet({} bytes)", self.len())
    }
}

/// A header operation asked for more bytes than the packet has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooShort;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_and_push_headers_without_copying() {
        let mut p = Packet::from_slice(&[1, 2, 3, 4, 5, 6]);
        let before = p.0.buf.as_ptr();
        p.strip_head(2).unwrap();
        assert_eq!(p.data(), [3, 4, 5, 6]);
        p.push_head(2).copy_from_slice(&[9, 9, 3, 4, 5, 6]);
        assert_eq!(p.data(), [9, 9, 3, 4, 5, 6]);
        assert_eq!(p.0.buf.as_ptr(), before, "no reallocation with headroom");
        assert_eq!(p.strip_head(7), Err(TooShort));
        assert_eq!(p.len(), 6);
        p.trim_tail(1).unwrap();
        assert_eq!(p.data(), [9, 9, 3, 4, 5]);
        p.extend_tail(2);
        assert_eq!(p.data(), [9, 9, 3, 4, 5, 0, 0]);
    }

    #[test]
    fn pushing_past_the_headroom_reallocates() {
        let mut p = Packet::from_slice(&[7; 10]);
        let d = p.push_head(DEFAULT_HEADROOM + 10);
        assert_eq!(d.len(), DEFAULT_HEADROOM + 20);
        assert_eq!(&p.data()[DEFAULT_HEADROOM + 10..], [7; 10]);
    }

    #[test]
    fn clones_share_until_written() {
        let mut a = Packet::from_slice(b"hello");
        let b = a.share();
        assert!(a.is_shared() && b.is_shared());
        a.data_mut()[0] = b'j';
        assert_eq!(a.data(), b"jello");
        assert_eq!(b.data(), b"hello");
        assert!(!b.is_shared());
    }

    #[test]
    fn header_annotations_follow_strips() {
        let mut p = Packet::from_slice(&[0u8; 60]);
        p.anno_mut().set_network_offset(14);
        p.anno_mut().set_transport_offset(34);
        p.strip_head(14).unwrap();
        assert_eq!(p.anno().network_offset(), Some(0));
        assert_eq!(p.anno().transport_offset(), Some(20));
        p.push_head(14);
        assert_eq!(p.anno().network_offset(), Some(14));
        // Stripping past the network header clears it.
        p.strip_head(20).unwrap();
        assert_eq!(p.anno().network_offset(), None);
        assert_eq!(p.anno().transport_offset(), Some(14));
    }
}
