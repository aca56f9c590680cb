//! The netif shared rings (`io/ring.h`, `io/netif.h`) from the frontend's side: the page layout,
//! the request/response formats, and the free-running indices with Xen's notification rules.
//!
//! Page: `req_prod`, `req_event`, `rsp_prod`, `rsp_event` (u32 each), padding up to 64 bytes,
//! then the entries; a request and its response share a slot. Indices run freely and wrap at
//! 2^32; slot = index mod ring size. Everything the backend writes (`rsp_prod`, `req_event`,
//! responses) is read once into a local and checked before use: a backend that claims more
//! responses than there are outstanding requests gets nothing consumed and is counted.

use core::mem::{offset_of, size_of};
use core::sync::atomic::{fence, AtomicU32, Ordering};

/// Offset of the first entry in the shared page.
pub const RING_HEADER: usize = 64;
/// Entries of both netif rings in one 4 KiB page (`__CONST_RING_SIZE`: (4096-64)/entry, rounded
/// down to a power of two: 336 → 256 for TX, 504 → 256 for RX).
pub const RING_SIZE: u32 = 256;

/// `netif_tx_request`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TxRequest {
    pub gref: u32,
    pub offset: u16,
    pub flags: u16,
    pub id: u16,
    pub size: u16,
}

/// `netif_tx_response`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TxResponse {
    pub id: u16,
    pub status: i16,
}

/// `netif_rx_request`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RxRequest {
    pub id: u16,
    pub pad: u16,
    pub gref: u32,
}

/// `netif_rx_response`: `status` > 0 is the length of the data at `offset`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RxResponse {
    pub id: u16,
    pub offset: u16,
    pub flags: u16,
    pub status: i16,
}

/// `NETIF_RSP_*`.
pub mod rsp {
    pub const DROPPED: i16 = -2;
    pub const ERROR: i16 = -1;
    pub const OKAY: i16 = 0;
    /// Filler response for an extra-info slot.
    pub const NULL: i16 = 1;
}

/// `NETTXF_*`.
pub mod txf {
    pub const CSUM_BLANK: u16 = 1 << 0;
    pub const DATA_VALIDATED: u16 = 1 << 1;
    pub const MORE_DATA: u16 = 1 << 2;
    pub const EXTRA_INFO: u16 = 1 << 3;
}

/// `NETRXF_*`.
pub mod rxf {
    pub const DATA_VALIDATED: u16 = 1 << 0;
    pub const CSUM_BLANK: u16 = 1 << 1;
    pub const MORE_DATA: u16 = 1 << 2;
    pub const EXTRA_INFO: u16 = 1 << 3;
}

/// Slot sizes: the union of request and response.
pub const TX_ENTRY: usize = 12;
pub const RX_ENTRY: usize = 8;

const _: () = {
    assert!(size_of::<TxRequest>() == 12);
    assert!(offset_of!(TxRequest, offset) == 4);
    assert!(offset_of!(TxRequest, flags) == 6);
    assert!(offset_of!(TxRequest, id) == 8);
    assert!(offset_of!(TxRequest, size) == 10);
    assert!(size_of::<TxResponse>() == 4);
    assert!(offset_of!(TxResponse, status) == 2);
    assert!(size_of::<RxRequest>() == 8);
    assert!(offset_of!(RxRequest, gref) == 4);
    assert!(size_of::<RxResponse>() == 8);
    assert!(offset_of!(RxResponse, offset) == 2);
    assert!(offset_of!(RxResponse, flags) == 4);
    assert!(offset_of!(RxResponse, status) == 6);
    assert!(RING_HEADER + RING_SIZE as usize * TX_ENTRY <= 4096);
    assert!(RING_HEADER + 2 * RING_SIZE as usize * TX_ENTRY > 4096);
    assert!(RING_HEADER + RING_SIZE as usize * RX_ENTRY <= 4096);
    assert!(RING_HEADER + 2 * RING_SIZE as usize * RX_ENTRY > 4096);
};

/// Header field offsets (`struct netif_*_sring`).
const REQ_PROD: usize = 0;
const REQ_EVENT: usize = 4;
const RSP_PROD: usize = 8;
const RSP_EVENT: usize = 12;

/// The backend published responses for requests we never made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadIndex {
    pub rsp_prod: u32,
}

/// The frontend's end of one shared ring on the 4 KiB page at `page`, with `ENTRY`-byte slots.
pub struct FrontRing<const ENTRY: usize> {
    page: *mut u8,
    /// Requests written, published or not.
    req_prod_pvt: u32,
    /// Responses consumed.
    rsp_cons: u32,
}

// SAFETY: the ring owns its view of the page; the guest has one vCPU.
unsafe impl<const E: usize> Send for FrontRing<E> {}

impl<const ENTRY: usize> FrontRing<ENTRY> {
    /// Initialises the shared page (`SHARED_RING_INIT`: indices 0, events 1).
    ///
    /// # Safety
    /// `page` must be a writable, 4096-byte, 4-byte-aligned page that lives as long as the ring
    /// and is shared only with the backend.
    pub unsafe fn init(page: *mut u8) -> Self {
        core::ptr::write_bytes(page, 0, 4096);
        let r = FrontRing {
            page,
            req_prod_pvt: 0,
            rsp_cons: 0,
        };
        r.word(REQ_EVENT).store(1, Ordering::Relaxed);
        r.word(RSP_EVENT).store(1, Ordering::Relaxed);
        fence(Ordering::SeqCst);
        r
    }

    fn word(&self, off: usize) -> &AtomicU32 {
        // SAFETY: the header words lie in the page, 4-byte aligned (see `init`).
        unsafe { &*(self.page.add(off) as *const AtomicU32) }
    }

    fn slot(&self, idx: u32) -> *mut u8 {
        // SAFETY: slot < RING_SIZE; the page holds RING_SIZE entries after the header.
        unsafe {
            self.page
                .add(RING_HEADER + (idx & (RING_SIZE - 1)) as usize * ENTRY)
        }
    }

    /// Requests the frontend may still write (outstanding = written - consumed responses).
    pub fn free_requests(&self) -> u32 {
        RING_SIZE - self.req_prod_pvt.wrapping_sub(self.rsp_cons)
    }

    /// Requests written and not yet answered.
    pub fn outstanding(&self) -> u32 {
        self.req_prod_pvt.wrapping_sub(self.rsp_cons)
    }

    pub fn req_prod_pvt(&self) -> u32 {
        self.req_prod_pvt
    }

    pub fn rsp_cons(&self) -> u32 {
        self.rsp_cons
    }

    /// Writes the next request (not yet visible to the backend). The caller checks
    /// [`Self::free_requests`] first.
    pub fn put_request<T: Copy>(&mut self, req: T) {
        debug_assert!(size_of::<T>() <= ENTRY);
        assert!(self.free_requests() > 0, "ring overrun");
        // SAFETY: the slot has room for T (size checked above); unaligned-safe write.
        unsafe { core::ptr::write_volatile(self.slot(self.req_prod_pvt) as *mut T, req) };
        self.req_prod_pvt = self.req_prod_pvt.wrapping_add(1);
    }

    /// `RING_PUSH_REQUESTS_AND_CHECK_NOTIFY`: publishes the written requests; true if the
    /// backend asked to be told (its `req_event` lies in the newly published range).
    pub fn push_requests(&mut self) -> bool {
        let old = self.word(REQ_PROD).load(Ordering::Relaxed);
        let new = self.req_prod_pvt;
        if old == new {
            return false;
        }
        // The requests before the index (write barrier), the index before reading req_event
        // (full barrier: the backend sets req_event, then re-reads req_prod).
        fence(Ordering::Release);
        self.word(REQ_PROD).store(new, Ordering::Relaxed);
        fence(Ordering::SeqCst);
        let event = self.word(REQ_EVENT).load(Ordering::Relaxed);
        new.wrapping_sub(event) < new.wrapping_sub(old)
    }

    /// Responses published and not consumed, after checking `rsp_prod`: the backend cannot
    /// answer more requests than were written.
    pub fn available(&self) -> Result<u32, BadIndex> {
        let prod = self.word(RSP_PROD).load(Ordering::Relaxed);
        // Responses are read after the index (read barrier).
        fence(Ordering::Acquire);
        let n = prod.wrapping_sub(self.rsp_cons);
        if n > self.outstanding() {
            return Err(BadIndex { rsp_prod: prod });
        }
        Ok(n)
    }

    /// Reads the next response and consumes it. Only after [`Self::available`] said so.
    pub fn take_response<T: Copy>(&mut self) -> T {
        debug_assert!(size_of::<T>() <= ENTRY);
        // SAFETY: as in put_request.
        let r = unsafe { core::ptr::read_volatile(self.slot(self.rsp_cons) as *const T) };
        self.rsp_cons = self.rsp_cons.wrapping_add(1);
        r
    }

    /// Asks for an event when the response `ahead` past the consumed ones arrives (1 = the
    /// next one), then looks again (`RING_FINAL_CHECK_FOR_RESPONSES`): returns what is
    /// available, so the caller never sleeps on a response that slipped in before the event
    /// was armed.
    pub fn arm_response_event(&mut self, ahead: u32) -> Result<u32, BadIndex> {
        self.word(RSP_EVENT)
            .store(self.rsp_cons.wrapping_add(ahead.max(1)), Ordering::Relaxed);
        fence(Ordering::SeqCst);
        self.available()
    }

    /// The `rsp_event` we last asked for (for tests and diagnostics).
    pub fn rsp_event(&self) -> u32 {
        self.word(RSP_EVENT).load(Ordering::Relaxed)
    }

    pub fn page(&self) -> *mut u8 {
        self.page
    }
}

/// The backend's end, for host tests (a model of netback's use of the ring).
#[cfg(test)]
pub mod backend {
    use super::*;

    pub struct BackRing<const ENTRY: usize> {
        pub page: *mut u8,
        pub req_cons: u32,
        pub rsp_prod_pvt: u32,
    }

    impl<const ENTRY: usize> BackRing<ENTRY> {
        pub fn new(page: *mut u8) -> Self {
            BackRing {
                page,
                req_cons: 0,
                rsp_prod_pvt: 0,
            }
        }
        fn word(&self, off: usize) -> &AtomicU32 {
            unsafe { &*(self.page.add(off) as *const AtomicU32) }
        }
        fn slot(&self, idx: u32) -> *mut u8 {
            unsafe {
                self.page
                    .add(RING_HEADER + (idx & (RING_SIZE - 1)) as usize * ENTRY)
            }
        }
        pub fn pending_requests(&self) -> u32 {
            self.word(REQ_PROD)
                .load(Ordering::SeqCst)
                .wrapping_sub(self.req_cons)
        }
        pub fn take_request<T: Copy>(&mut self) -> T {
            let r = unsafe { core::ptr::read_volatile(self.slot(self.req_cons) as *const T) };
            self.req_cons = self.req_cons.wrapping_add(1);
            r
        }
        /// Writes a response in the slot of the next response index.
        pub fn put_response<T: Copy>(&mut self, rsp: T) {
            unsafe { core::ptr::write_volatile(self.slot(self.rsp_prod_pvt) as *mut T, rsp) };
            self.rsp_prod_pvt = self.rsp_prod_pvt.wrapping_add(1);
        }
        /// `RING_PUSH_RESPONSES_AND_CHECK_NOTIFY`.
        pub fn push_responses(&mut self) -> bool {
            let old = self.word(RSP_PROD).load(Ordering::SeqCst);
            let new = self.rsp_prod_pvt;
            self.word(RSP_PROD).store(new, Ordering::SeqCst);
            let ev = self.word(RSP_EVENT).load(Ordering::SeqCst);
            new.wrapping_sub(ev) < new.wrapping_sub(old)
        }
        /// Asks for an event at the next request (`RING_FINAL_CHECK_FOR_REQUESTS`).
        pub fn arm_request_event(&mut self) {
            self.word(REQ_EVENT)
                .store(self.req_cons.wrapping_add(1), Ordering::SeqCst);
        }
        /// A hostile backend: publish any rsp_prod.
        pub fn set_rsp_prod(&mut self, v: u32) {
            self.word(RSP_PROD).store(v, Ordering::SeqCst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::backend::BackRing;
    use super::*;
    use alloc::boxed::Box;

    #[repr(C, align(4096))]
    pub struct Page(pub [u8; 4096]);

    pub fn page() -> Box<Page> {
        Box::new(Page([0xAA; 4096]))
    }

    #[test]
    fn init_sets_events_to_one() {
        let mut p = page();
        let f = unsafe { FrontRing::<TX_ENTRY>::init(p.0.as_mut_ptr()) };
        assert_eq!(
            &p.0[0..16],
            &[0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]
        );
        assert_eq!(f.free_requests(), 256);
        assert!(p.0[16..].iter().all(|&b| b == 0));
    }

    #[test]
    fn requests_and_responses_round_trip_across_the_wrap() {
        let mut p = page();
        let mut f = unsafe { FrontRing::<RX_ENTRY>::init(p.0.as_mut_ptr()) };
        let mut b = BackRing::<RX_ENTRY>::new(p.0.as_mut_ptr());
        // Start just below 2^32 so the indices wrap during the test.
        f.req_prod_pvt = u32::MAX - 100;
        f.rsp_cons = u32::MAX - 100;
        b.req_cons = u32::MAX - 100;
        b.rsp_prod_pvt = u32::MAX - 100;
        b.set_rsp_prod(u32::MAX - 100);
        unsafe {
            (p.0.as_mut_ptr() as *mut u32).write(u32::MAX - 100);
        }
        for round in 0..4u16 {
            for i in 0..200u16 {
                f.put_request(RxRequest {
                    id: i,
                    pad: 0,
                    gref: 1000 + i as u32,
                });
            }
            assert_eq!(f.free_requests(), 56);
            f.push_requests();
            assert_eq!(b.pending_requests(), 200);
            for i in 0..200u16 {
                let r: RxRequest = b.take_request();
                assert_eq!((r.id, r.gref), (i, 1000 + i as u32));
                b.put_response(RxResponse {
                    id: r.id,
                    offset: 0,
                    flags: 0,
                    status: 60 + round as i16,
                });
            }
            b.push_responses();
            assert_eq!(f.available(), Ok(200));
            for i in 0..200u16 {
                let r: RxResponse = f.take_response();
                assert_eq!((r.id, r.status), (i, 60 + round as i16));
            }
            assert_eq!(f.available(), Ok(0));
        }
        assert!(f.req_prod_pvt() < 1000, "indices wrapped");
    }

    #[test]
    fn push_notifies_only_when_the_backend_asked() {
        let mut p = page();
        let mut f = unsafe { FrontRing::<TX_ENTRY>::init(p.0.as_mut_ptr()) };
        let mut b = BackRing::<TX_ENTRY>::new(p.0.as_mut_ptr());
        // req_event = 1 at init: the first request notifies.
        f.put_request(TxRequest::default());
        assert!(f.push_requests());
        // The backend is busy (has not re-armed): no notification.
        f.put_request(TxRequest::default());
        f.put_request(TxRequest::default());
        assert!(!f.push_requests());
        // Nothing new: nothing to say.
        assert!(!f.push_requests());
        // The backend consumed everything and armed for the next request.
        while b.pending_requests() > 0 {
            let _: TxRequest = b.take_request();
        }
        b.arm_request_event();
        f.put_request(TxRequest::default());
        f.put_request(TxRequest::default());
        assert!(f.push_requests());
    }

    #[test]
    fn rsp_prod_beyond_the_requests_is_rejected() {
        let mut p = page();
        let mut f = unsafe { FrontRing::<TX_ENTRY>::init(p.0.as_mut_ptr()) };
        let mut b = BackRing::<TX_ENTRY>::new(p.0.as_mut_ptr());
        for _ in 0..3 {
            f.put_request(TxRequest::default());
        }
        f.push_requests();
        b.set_rsp_prod(4);
        assert_eq!(f.available(), Err(BadIndex { rsp_prod: 4 }));
        b.set_rsp_prod(u32::MAX); // "negative": far behind
        assert!(f.available().is_err());
        b.set_rsp_prod(3);
        assert_eq!(f.available(), Ok(3));
    }

    #[test]
    fn arming_sees_a_response_that_raced_in() {
        let mut p = page();
        let mut f = unsafe { FrontRing::<RX_ENTRY>::init(p.0.as_mut_ptr()) };
        let mut b = BackRing::<RX_ENTRY>::new(p.0.as_mut_ptr());
        f.put_request(RxRequest::default());
        f.put_request(RxRequest::default());
        f.push_requests();
        let _: RxRequest = b.take_request();
        b.put_response(RxResponse::default());
        // The backend publishes before the frontend arms: no event (rsp_event still 1 → the
        // first response does notify at init, as in ring.h).
        assert!(b.push_responses());
        let _: RxResponse = f.take_response();
        assert_eq!(f.arm_response_event(1), Ok(0));
        assert_eq!(f.rsp_event(), 2);
        let _: RxRequest = b.take_request();
        b.put_response(RxResponse::default());
        assert!(b.push_responses(), "armed: the next response notifies");
        // While busy the frontend leaves rsp_event behind: no more events.
        assert_eq!(f.available(), Ok(1));
    }
}
