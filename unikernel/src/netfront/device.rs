//! One netfront's data path over its two rings, in plain Rust: receive and transmit buffers that
//! were granted once at connect and are reused for the device's lifetime, burst receive with
//! notification only when going idle, transmit with "push requests and check notify".
//!
//! The backend is not trusted: every response is checked (id, status, offset + length inside
//! the buffer, flags we did not ask for) and a bad one is dropped and counted; the buffer it
//! names is taken back so that nothing leaks. Nothing here panics on what the backend writes.

use alloc::vec;
use alloc::vec::Vec;

use super::ring::{
    rsp, rxf, BadIndex, FrontRing, RxRequest, RxResponse, TxRequest, TxResponse, RING_SIZE,
    RX_ENTRY, TX_ENTRY,
};
use crate::events::Channel;

/// A buffer shared with the backend: `len` bytes at `ptr`, granted once as `gref`; the data
/// starts `offset` bytes into the granted page (TX buffers are half pages).
#[derive(Clone, Copy, Debug)]
pub struct Buffer {
    pub ptr: *mut u8,
    pub len: usize,
    pub gref: u32,
    pub offset: u16,
}

/// Smallest frame netback accepts on TX (an Ethernet header); shorter ones get an error.
pub const MIN_FRAME: usize = 14;

/// Counters; `*_bad` count backend misbehaviour (dropped, never trusted).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub rx_packets: u64,
    pub rx_bytes: u64,
    /// RX responses with an error status (backend ran out of something).
    pub rx_errors: u64,
    /// RX responses with a wrong id, a length/offset outside the buffer, or flags we did not
    /// negotiate (fragments, extra info).
    pub rx_bad: u64,
    pub tx_packets: u64,
    pub tx_bytes: u64,
    /// TX responses with an error or dropped status.
    pub tx_errors: u64,
    /// TX responses naming an id that is out of range or not in flight.
    pub tx_bad: u64,
    /// Frames not sent: no free TX buffer (ring full).
    pub tx_full: u64,
    /// Frames not sent: shorter than 14 bytes or longer than a TX buffer.
    pub tx_bad_size: u64,
    /// `rsp_prod` published beyond the outstanding requests (responses ignored).
    pub bad_index: u64,
    /// Events sent to the backend.
    pub notifies: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxError {
    /// No TX buffer free (the backend has not answered enough requests yet).
    Full,
    /// The frame does not fit a TX buffer or is shorter than an Ethernet header.
    BadSize(usize),
}

pub struct Netif<C: Channel> {
    tx: FrontRing<TX_ENTRY>,
    rx: FrontRing<RX_ENTRY>,
    rx_bufs: Vec<Buffer>,
    /// Buffer posted in each RX ring slot (Linux netback answers a request in its own slot).
    rx_slot: Vec<u16>,
    /// RX buffers not posted (consumed, waiting to be posted again).
    rx_idle: Vec<u16>,
    tx_bufs: Vec<Buffer>,
    tx_busy: Vec<bool>,
    tx_free: Vec<u16>,
    chan: C,
    pub stats: Stats,
}

// SAFETY: the buffers are owned by the device; one vCPU.
unsafe impl<C: Channel + Send> Send for Netif<C> {}

impl<C: Channel> Netif<C> {
    /// Initialises both shared rings and posts every RX buffer.
    ///
    /// # Safety
    /// `tx_page`/`rx_page` must be as [`FrontRing::init`] requires; every buffer must be valid
    /// memory of its `len` bytes for the device's lifetime and shared only with the backend.
    pub unsafe fn new(
        tx_page: *mut u8,
        rx_page: *mut u8,
        rx_bufs: Vec<Buffer>,
        tx_bufs: Vec<Buffer>,
        chan: C,
    ) -> Self {
        assert!(rx_bufs.len() <= RING_SIZE as usize && tx_bufs.len() <= RING_SIZE as usize);
        let n_tx = tx_bufs.len();
        let mut d = Netif {
            tx: FrontRing::init(tx_page),
            rx: FrontRing::init(rx_page),
            rx_idle: (0..rx_bufs.len() as u16).rev().collect(),
            rx_bufs,
            rx_slot: vec![u16::MAX; RING_SIZE as usize],
            tx_bufs,
            tx_busy: vec![false; n_tx],
            tx_free: (0..n_tx as u16).rev().collect(),
            chan,
            stats: Stats::default(),
        };
        d.refill_rx();
        d
    }

    pub fn channel(&mut self) -> &mut C {
        &mut self.chan
    }

    /// RX buffers currently posted to the backend.
    pub fn rx_posted(&self) -> u32 {
        self.rx.outstanding()
    }

    /// TX buffers free for new frames.
    pub fn tx_free(&self) -> usize {
        self.tx_free.len()
    }

    /// Posts every idle RX buffer and tells the backend if it asked.
    fn refill_rx(&mut self) {
        let mut posted = false;
        while self.rx.free_requests() > 0 {
            let Some(id) = self.rx_idle.pop() else { break };
            let slot = (self.rx.req_prod_pvt() % RING_SIZE) as usize;
            self.rx_slot[slot] = id;
            self.rx.put_request(RxRequest {
                id,
                pad: 0,
                gref: self.rx_bufs[id as usize].gref,
            });
            posted = true;
        }
        if posted && self.rx.push_requests() {
            self.notify();
        }
    }

    fn notify(&mut self) {
        self.stats.notifies += 1;
        self.chan.notify();
    }

    /// Takes up to `max` received frames, handing each to `deliver` (a view of the shared
    /// buffer, valid during the call: copy it), then posts the buffers again. When fewer than
    /// `max` were waiting the ring is going idle: ask for an event at the next response (and
    /// look once more so that none is missed). Returns the frames delivered.
    pub fn receive(&mut self, max: usize, mut deliver: impl FnMut(&[u8])) -> usize {
        self.collect_tx();
        let mut taken = 0usize;
        let mut delivered = 0usize;
        while taken < max {
            let avail = match self.rx.available() {
                Ok(0) => match self.rx.arm_response_event(1) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) => {
                        self.bad_index(e);
                        break;
                    }
                },
                Ok(n) => n,
                Err(e) => {
                    self.bad_index(e);
                    break;
                }
            };
            for _ in 0..avail.min((max - taken) as u32) {
                taken += 1;
                let slot = (self.rx.rsp_cons() % RING_SIZE) as usize;
                let r: RxResponse = self.rx.take_response();
                let id = self.rx_slot[slot];
                self.rx_slot[slot] = u16::MAX;
                if id == u16::MAX {
                    // Cannot happen with a checked rsp_prod; guard anyway.
                    self.stats.rx_bad += 1;
                    continue;
                }
                // Whatever the response says, the buffer posted in this slot comes back.
                self.rx_idle.push(id);
                if r.id != id {
                    self.stats.rx_bad += 1;
                    continue;
                }
                if r.status <= 0 {
                    self.stats.rx_errors += 1;
                    continue;
                }
                let b = self.rx_bufs[id as usize];
                let (off, len) = (r.offset as usize, r.status as usize);
                if r.flags & (rxf::MORE_DATA | rxf::EXTRA_INFO) != 0 || off + len > b.len {
                    self.stats.rx_bad += 1;
                    continue;
                }
                // SAFETY: off + len <= b.len, checked above; the buffer lives as long as self.
                let data = unsafe { core::slice::from_raw_parts(b.ptr.add(off), len) };
                deliver(data);
                delivered += 1;
                self.stats.rx_packets += 1;
                self.stats.rx_bytes += len as u64;
            }
        }
        self.refill_rx();
        delivered
    }

    fn bad_index(&mut self, _e: BadIndex) {
        self.stats.bad_index += 1;
    }

    /// Frees the TX buffers the backend has answered.
    pub fn collect_tx(&mut self) {
        let avail = match self.tx.available() {
            Ok(n) => n,
            Err(e) => {
                self.bad_index(e);
                return;
            }
        };
        for _ in 0..avail {
            let r: TxResponse = self.tx.take_response();
            let id = r.id as usize;
            if id >= self.tx_busy.len() || !self.tx_busy[id] || r.status == rsp::NULL {
                self.stats.tx_bad += 1;
                continue;
            }
            self.tx_busy[id] = false;
            self.tx_free.push(r.id);
            if r.status != rsp::OKAY {
                self.stats.tx_errors += 1;
            }
        }
    }

    /// Copies `frame` into a free TX buffer and writes its request; [`Self::flush_tx`]
    /// publishes it.
    pub fn transmit(&mut self, frame: &[u8]) -> Result<(), TxError> {
        if self.tx_free.is_empty() {
            self.collect_tx();
        }
        let Some(&id) = self.tx_free.last() else {
            self.stats.tx_full += 1;
            // Out of buffers: ask to be told when half of those in flight are answered.
            let ahead = self.tx.outstanding() / 2 + 1;
            if let Err(e) = self.tx.arm_response_event(ahead) {
                self.bad_index(e);
            }
            return Err(TxError::Full);
        };
        let b = self.tx_bufs[id as usize];
        if frame.len() < MIN_FRAME || frame.len() > b.len {
            self.stats.tx_bad_size += 1;
            return Err(TxError::BadSize(frame.len()));
        }
        self.tx_free.pop();
        // SAFETY: frame.len() <= b.len; the buffer is not in flight (it was free).
        unsafe { core::ptr::copy_nonoverlapping(frame.as_ptr(), b.ptr, frame.len()) };
        self.tx_busy[id as usize] = true;
        self.tx.put_request(TxRequest {
            gref: b.gref,
            offset: b.offset,
            flags: 0,
            id,
            size: frame.len() as u16,
        });
        self.stats.tx_packets += 1;
        self.stats.tx_bytes += frame.len() as u64;
        Ok(())
    }

    /// Publishes the written TX requests; notifies the backend only if it is waiting.
    pub fn flush_tx(&mut self) {
        if self.tx.push_requests() {
            self.notify();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::ring::backend::BackRing;
    use super::super::ring::TxRequest;
    use super::*;
    use alloc::boxed::Box;
    use alloc::rc::Rc;
    use core::cell::Cell;

    #[repr(C, align(4096))]
    struct Page([u8; 4096]);

    #[derive(Clone, Default)]
    struct Chan(Rc<Cell<u32>>);
    impl Channel for Chan {
        fn notify(&mut self) {
            self.0.set(self.0.get() + 1);
        }
        fn wait(&mut self, _d: Option<u64>) -> bool {
            true
        }
        fn now(&self) -> u64 {
            0
        }
    }

    struct Rig {
        _pages: Vec<Box<Page>>,
        nf: Netif<Chan>,
        tx: BackRing<TX_ENTRY>,
        rx: BackRing<RX_ENTRY>,
        rx_mem: Vec<*mut u8>,
        tx_mem: Vec<*mut u8>,
        notes: Rc<Cell<u32>>,
    }

    /// `n_rx` one-page RX buffers (gref 100+i) and `n_tx` half-page TX buffers (gref 500+i/2).
    fn rig(n_rx: usize, n_tx: usize) -> Rig {
        let mut pages: Vec<Box<Page>> = (0..2 + n_rx + n_tx.div_ceil(2))
            .map(|_| Box::new(Page([0; 4096])))
            .collect();
        let ptrs: Vec<*mut u8> = pages.iter_mut().map(|p| p.0.as_mut_ptr()).collect();
        let rx_bufs: Vec<Buffer> = (0..n_rx)
            .map(|i| Buffer {
                ptr: ptrs[2 + i],
                len: 4096,
                gref: 100 + i as u32,
                offset: 0,
            })
            .collect();
        let tx_bufs: Vec<Buffer> = (0..n_tx)
            .map(|i| Buffer {
                ptr: unsafe { ptrs[2 + n_rx + i / 2].add((i % 2) * 2048) },
                len: 2048,
                gref: 500 + (i / 2) as u32,
                offset: ((i % 2) * 2048) as u16,
            })
            .collect();
        let rx_mem = rx_bufs.iter().map(|b| b.ptr).collect();
        let tx_mem = tx_bufs.iter().map(|b| b.ptr).collect();
        let chan = Chan::default();
        let notes = chan.0.clone();
        let nf = unsafe { Netif::new(ptrs[0], ptrs[1], rx_bufs, tx_bufs, chan) };
        Rig {
            _pages: pages,
            nf,
            tx: BackRing::new(ptrs[0]),
            rx: BackRing::new(ptrs[1]),
            rx_mem,
            tx_mem,
            notes,
        }
    }

    impl Rig {
        /// netback's RX: copy `frame` into the buffer of the next posted request.
        fn deliver(&mut self, frame: &[u8]) -> bool {
            let req: RxRequest = self.rx.take_request();
            let buf = self.rx_mem[(req.gref - 100) as usize];
            unsafe { core::ptr::copy_nonoverlapping(frame.as_ptr(), buf, frame.len()) };
            self.rx.put_response(RxResponse {
                id: req.id,
                offset: 0,
                flags: rxf::DATA_VALIDATED,
                status: frame.len() as i16,
            });
            self.rx.push_responses()
        }
    }

    fn frame(n: usize, tag: u8) -> Vec<u8> {
        (0..n).map(|i| tag.wrapping_add(i as u8)).collect()
    }

    #[test]
    fn all_rx_buffers_posted_once_with_their_grants() {
        let mut r = rig(8, 4);
        assert_eq!(r.nf.rx_posted(), 8);
        assert_eq!(
            r.notes.get(),
            1,
            "the first push notifies (req_event starts at 1)"
        );
        let mut grefs: Vec<u32> = (0..8)
            .map(|_| r.rx.take_request::<RxRequest>().gref)
            .collect();
        grefs.sort();
        assert_eq!(grefs, (100..108).collect::<Vec<_>>());
    }

    #[test]
    fn receive_in_bursts_and_reuse_the_same_grants() {
        let mut r = rig(8, 4);
        let mut seen: Vec<Vec<u8>> = Vec::new();
        for round in 0..10u8 {
            // The backend needs requests: it takes what was posted (8 at first, then refills).
            for k in 0..5u8 {
                assert!(r.rx.pending_requests() > 0);
                r.deliver(&frame(60 + k as usize, round * 10 + k));
            }
            let n = r.nf.receive(3, |d| seen.push(d.to_vec()));
            assert_eq!(n, 3);
            // Busy (burst full): no event asked for.
            let n = r.nf.receive(32, |d| seen.push(d.to_vec()));
            assert_eq!(n, 2);
            assert_eq!(r.nf.rx_posted(), 8, "every consumed buffer is posted again");
        }
        assert_eq!(seen.len(), 50);
        assert_eq!(seen[7], frame(62, 12));
        // Every request ever posted used one of the 8 grants made at start.
        while r.rx.pending_requests() > 0 {
            let q: RxRequest = r.rx.take_request();
            assert!((100..108).contains(&q.gref));
        }
        assert_eq!(r.nf.stats.rx_packets, 50);
        assert_eq!(r.nf.stats.rx_bad + r.nf.stats.rx_errors, 0);
    }

    #[test]
    fn idle_receive_asks_for_the_next_event_only() {
        let mut r = rig(8, 4);
        assert_eq!(r.nf.receive(32, |_| {}), 0);
        // Armed: the next response notifies.
        assert!(r.deliver(&frame(60, 1)));
        // Not consumed yet: further responses do not notify.
        assert!(!r.deliver(&frame(60, 2)));
        assert_eq!(r.nf.receive(1, |_| {}), 1);
        // A full burst left one waiting: still busy, no new event was asked for.
        assert!(!r.deliver(&frame(60, 3)));
        assert_eq!(r.nf.receive(32, |_| {}), 2);
        assert!(r.deliver(&frame(60, 4)));
    }

    #[test]
    fn hostile_rx_responses_are_dropped_and_counted() {
        let mut r = rig(4, 2);
        let cases = [
            // (id delta, offset, flags, status)
            (1u16, 0u16, 0u16, 60i16), // wrong id
            (0, 4000, 0, 200),         // beyond the page
            (0, 0, 0, -1),             // error status
            (0, 0, rxf::MORE_DATA, 60),
            (0, 0, rxf::EXTRA_INFO, 60),
            (0, 0, 0, i16::MAX),
        ];
        for (did, off, flags, status) in cases {
            let q: RxRequest = r.rx.take_request();
            r.rx.put_response(RxResponse {
                id: q.id.wrapping_add(did),
                offset: off,
                flags,
                status,
            });
            r.rx.push_responses();
            assert_eq!(r.nf.receive(8, |_| panic!("delivered a bad frame")), 0);
            assert_eq!(r.nf.rx_posted(), 4, "the buffer came back");
        }
        assert_eq!(r.nf.stats.rx_bad, 5);
        assert_eq!(r.nf.stats.rx_errors, 1);
        // rsp_prod past what we asked for: ignored, counted.
        r.rx.set_rsp_prod(r.rx.rsp_prod_pvt + 100);
        assert_eq!(r.nf.receive(8, |_| panic!()), 0);
        assert_eq!(r.nf.stats.bad_index, 1);
        // A good frame still goes through afterwards.
        r.rx.set_rsp_prod(r.rx.rsp_prod_pvt);
        r.deliver(&frame(64, 9));
        let mut got = Vec::new();
        assert_eq!(r.nf.receive(8, |d| got = d.to_vec()), 1);
        assert_eq!(got, frame(64, 9));
    }

    #[test]
    fn transmit_copies_into_pre_granted_half_pages() {
        let mut r = rig(2, 4);
        for k in 0..4u8 {
            r.nf.transmit(&frame(100 + k as usize, k)).unwrap();
        }
        assert_eq!(r.nf.transmit(&frame(100, 9)), Err(TxError::Full));
        r.nf.flush_tx();
        let before = r.notes.get();
        let mut seen = Vec::new();
        for _ in 0..4 {
            let q: TxRequest = r.tx.take_request();
            assert!(q.offset == 0 || q.offset == 2048);
            assert!((500..502).contains(&q.gref));
            let mem = r.tx_mem[q.id as usize];
            let data = unsafe { core::slice::from_raw_parts(mem, q.size as usize) };
            seen.push(data.to_vec());
            r.tx.put_response(TxResponse {
                id: q.id,
                status: rsp::OKAY,
            });
        }
        assert_eq!(seen[2], frame(102, 2));
        r.tx.push_responses();
        // The answered buffers come back on the next transmit.
        r.nf.transmit(&frame(60, 7)).unwrap();
        assert_eq!(r.nf.tx_free(), 3);
        // The backend did not re-arm req_event: no notification.
        r.nf.flush_tx();
        assert_eq!(r.notes.get(), before);
        assert_eq!(r.nf.stats.tx_packets, 5);
        assert_eq!(r.nf.stats.tx_full, 1);
    }

    #[test]
    fn transmit_refuses_bad_sizes() {
        let mut r = rig(2, 2);
        assert_eq!(r.nf.transmit(&frame(13, 0)), Err(TxError::BadSize(13)));
        assert_eq!(r.nf.transmit(&frame(2049, 0)), Err(TxError::BadSize(2049)));
        r.nf.transmit(&frame(2048, 0)).unwrap();
        assert_eq!(r.nf.stats.tx_bad_size, 2);
        assert_eq!(r.nf.tx_free(), 1);
    }

    #[test]
    fn hostile_tx_responses_are_counted_and_free_nothing_twice() {
        let mut r = rig(2, 2);
        r.nf.transmit(&frame(60, 0)).unwrap();
        r.nf.flush_tx();
        let q: TxRequest = r.tx.take_request();
        // Unknown id, id of a free buffer, NULL status, then the real answer twice.
        r.tx.put_response(TxResponse { id: 77, status: 0 });
        r.tx.put_response(TxResponse {
            id: q.id ^ 1,
            status: 0,
        });
        r.tx.set_rsp_prod(2);
        // Only one request is outstanding: two responses are one too many.
        r.nf.collect_tx();
        assert_eq!(r.nf.stats.bad_index, 1);
        r.tx.rsp_prod_pvt = 0;
        r.tx.put_response(TxResponse {
            id: q.id,
            status: rsp::ERROR,
        });
        r.tx.push_responses();
        r.nf.collect_tx();
        assert_eq!(r.nf.stats.tx_errors, 1);
        assert_eq!(r.nf.tx_free(), 2);
        // Two more in flight, answered with a bogus id and a duplicate.
        r.nf.transmit(&frame(60, 1)).unwrap();
        r.nf.transmit(&frame(60, 2)).unwrap();
        r.nf.flush_tx();
        let a: TxRequest = r.tx.take_request();
        let _b: TxRequest = r.tx.take_request();
        r.tx.put_response(TxResponse { id: 300, status: 0 });
        r.tx.put_response(TxResponse {
            id: a.id,
            status: 0,
        });
        r.tx.push_responses();
        r.nf.collect_tx();
        assert_eq!(r.nf.stats.tx_bad, 1);
        assert_eq!(r.nf.tx_free(), 1);
    }
}
