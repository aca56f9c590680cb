//! The port against an imitation of the kernel's side: a region laid out like netmap's (a
//! `netmap_if`, four rings, their buffers) and a `NetmapSync` that does what NIOCRXSYNC and
//! NIOCTXSYNC do to it.

use super::*;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::string::ToString;
use std::vec;

const SLOTS: u32 = 8;
const BUF: usize = 2048;
const TX_AT: usize = 128;
const RX_AT: usize = TX_AT + 2 * 384;
const BUFS_AT: usize = 2048;

/// The region: `netmap_if` at 0 (1 TX, 1 host TX, 1 RX, 1 host RX ring), rings of 8 slots,
/// 8 buffers per ring from `BUFS_AT`.
fn region() -> Vec<u64> {
    let mut m = vec![0u64; (BUFS_AT + 4 * SLOTS as usize * BUF) / 8];
    let p = m.as_mut_ptr() as *mut u8;
    let w32 = |off: usize, v: u32| unsafe { (p.add(off) as *mut u32).write(v) };
    let w64 = |off: usize, v: i64| unsafe { (p.add(off) as *mut i64).write(v) };
    w32(abi::IF_TX_RINGS, 1);
    w32(abi::IF_RX_RINGS, 1);
    w32(abi::IF_HOST_TX_RINGS, 1);
    for k in 0..4 {
        let at = TX_AT + k * 384;
        w64(abi::IF_RING_OFS + 8 * k, at as i64);
        w64(at + abi::RING_BUF_OFS, BUFS_AT as i64 - at as i64);
        w32(at + abi::RING_NUM_SLOTS, SLOTS);
        w32(at + abi::RING_BUF_SIZE, BUF as u32);
        for i in 0..SLOTS as usize {
            w32(
                at + abi::RING_SLOTS + i * abi::SLOT_SIZE,
                (k * SLOTS as usize + i) as u32,
            );
        }
    }
    // TX: every slot but one free; RX: empty.
    w32(TX_AT + abi::RING_TAIL, SLOTS - 1);
    m
}

/// What the kernel does on the two ioctls.
struct FakeKernel {
    p: *mut u8,
    /// Frames waiting to be received.
    wire_in: Rc<RefCell<VecDeque<Vec<u8>>>>,
    /// Frames the port transmitted.
    wire_out: Rc<RefCell<Vec<Vec<u8>>>>,
    tx_hwcur: u32,
}

impl FakeKernel {
    fn r32(&self, off: usize) -> u32 {
        unsafe { (self.p.add(off) as *const u32).read_volatile() }
    }
    fn w32(&self, off: usize, v: u32) {
        unsafe { (self.p.add(off) as *mut u32).write_volatile(v) }
    }
    fn buf(&self, ring: usize, i: u32) -> *mut u8 {
        let idx = self.r32(ring + abi::RING_SLOTS + i as usize * abi::SLOT_SIZE) as usize;
        unsafe { self.p.add(BUFS_AT + idx * BUF) }
    }
}

impl NetmapSync for FakeKernel {
    fn rxsync(&mut self) -> io::Result<()> {
        // Slots up to `head` are back; fill from `tail` up to one before `head`.
        let head = self.r32(RX_AT + abi::RING_HEAD);
        let mut tail = self.r32(RX_AT + abi::RING_TAIL);
        while (tail + 1) % SLOTS != head {
            let Some(f) = self.wire_in.borrow_mut().pop_front() else {
                break;
            };
            unsafe { std::ptr::copy_nonoverlapping(f.as_ptr(), self.buf(RX_AT, tail), f.len()) };
            let s = RX_AT + abi::RING_SLOTS + tail as usize * abi::SLOT_SIZE;
            unsafe { (self.p.add(s + abi::SLOT_LEN) as *mut u16).write(f.len() as u16) };
            tail = (tail + 1) % SLOTS;
        }
        self.w32(RX_AT + abi::RING_TAIL, tail);
        Ok(())
    }
    fn txsync(&mut self) -> io::Result<()> {
        // Send the slots from the last sync up to `head`; all of them complete at once.
        let head = self.r32(TX_AT + abi::RING_HEAD);
        let mut i = self.tx_hwcur;
        while i != head {
            let s = TX_AT + abi::RING_SLOTS + i as usize * abi::SLOT_SIZE;
            let len = unsafe { (self.p.add(s + abi::SLOT_LEN) as *const u16).read() } as usize;
            let f = unsafe { std::slice::from_raw_parts(self.buf(TX_AT, i), len) }.to_vec();
            self.wire_out.borrow_mut().push(f);
            i = (i + 1) % SLOTS;
        }
        self.tx_hwcur = head;
        self.w32(TX_AT + abi::RING_TAIL, (head + SLOTS - 1) % SLOTS);
        Ok(())
    }
    fn fd(&self) -> Option<RawFd> {
        None
    }
}

struct Rig {
    _mem: Vec<u64>,
    port: NetmapPort<FakeKernel>,
    wire_in: Rc<RefCell<VecDeque<Vec<u8>>>>,
    wire_out: Rc<RefCell<Vec<Vec<u8>>>>,
}

fn rig_with(edit: impl FnOnce(*mut u8)) -> io::Result<Rig> {
    let mut mem = region();
    let p = mem.as_mut_ptr() as *mut u8;
    edit(p);
    let wire_in = Rc::new(RefCell::new(VecDeque::new()));
    let wire_out = Rc::new(RefCell::new(Vec::new()));
    let k = FakeKernel {
        p,
        wire_in: wire_in.clone(),
        wire_out: wire_out.clone(),
        tx_hwcur: 0,
    };
    let r = Region {
        ptr: p,
        len: mem.len() * 8,
        mapped: false,
    };
    let port = NetmapPort::from_region("vale0:test", r, 0, k)?;
    Ok(Rig {
        _mem: mem,
        port,
        wire_in,
        wire_out,
    })
}

fn rig() -> Rig {
    rig_with(|_| {}).expect("a well-formed region")
}

fn frame(n: u8, len: usize) -> Vec<u8> {
    (0..len).map(|i| n.wrapping_add(i as u8)).collect()
}

#[test]
fn receives_batches_in_order_across_the_ring_wrap() {
    let mut r = rig();
    assert_eq!(r.port.name(), "netmap:vale0:test");
    for n in 0..20u8 {
        r.wire_in.borrow_mut().push_back(frame(n, 60 + n as usize));
    }
    let mut got = Vec::new();
    for _ in 0..20 {
        let n = r.port.rx_batch(3).unwrap();
        if n == 0 {
            continue;
        }
        assert!(n <= 3);
        for k in 0..n {
            got.push(r.port.rx_frame(k).to_vec());
        }
        r.port.rx_release(n);
    }
    let want: Vec<Vec<u8>> = (0..20u8).map(|n| frame(n, 60 + n as usize)).collect();
    assert_eq!(got, want);
    assert_eq!(r.port.rx_batch(64).unwrap(), 0);
}

#[test]
fn one_rxsync_per_empty_poll_none_while_frames_wait() {
    let mut r = rig();
    for n in 0..5u8 {
        r.wire_in.borrow_mut().push_back(frame(n, 64));
    }
    assert_eq!(r.port.rx_batch(2).unwrap(), 2);
    r.port.rx_release(2);
    let syncs = r.port.rx_syncs;
    // Three more frames are already in the ring: no system call to get them.
    assert_eq!(r.port.rx_batch(64).unwrap(), 3);
    assert_eq!(r.port.rx_syncs, syncs);
}

#[test]
fn transmits_everything_queued_even_past_a_full_ring() {
    let mut r = rig();
    for n in 0..20u8 {
        assert!(
            r.port.tx(&frame(n, 100 + n as usize)).unwrap(),
            "frame {n} taken"
        );
    }
    r.port.tx_flush();
    let want: Vec<Vec<u8>> = (0..20u8).map(|n| frame(n, 100 + n as usize)).collect();
    assert_eq!(*r.wire_out.borrow(), want);
    // Batched: one TXSYNC per full ring (7 free slots), not one per frame.
    assert!(
        r.port.tx_syncs <= 3,
        "{} syncs for 20 frames",
        r.port.tx_syncs
    );
}

#[test]
fn refuses_frames_larger_than_a_buffer() {
    let mut r = rig();
    assert!(!r.port.tx(&vec![0; BUF + 1]).unwrap());
    assert!(r.port.tx(&vec![0; BUF]).unwrap());
}

#[test]
fn slots_pointing_outside_the_region_are_skipped_and_counted() {
    let mut r = rig();
    for n in 0..3u8 {
        r.wire_in.borrow_mut().push_back(frame(n, 60));
    }
    assert_eq!(r.port.rx_batch(64).unwrap(), 3);
    r.port.rx_release(0);
    // The kernel (or a bug) rewrites slot 1's buffer index and slot 2's length.
    let p = r.port.region.ptr;
    unsafe {
        (p.add(RX_AT + abi::RING_SLOTS + abi::SLOT_SIZE) as *mut u32).write(u32::MAX);
        (p.add(RX_AT + abi::RING_SLOTS + 2 * abi::SLOT_SIZE + abi::SLOT_LEN) as *mut u16)
            .write(u16::MAX);
    }
    assert_eq!(r.port.rx_batch(64).unwrap(), 3);
    assert_eq!(r.port.rx_frame(0), &frame(0, 60)[..]);
    assert!(r.port.rx_frame(1).is_empty());
    assert!(r.port.rx_frame(2).is_empty());
    assert_eq!(r.port.bad_slots, 2);
    r.port.rx_release(3);
}

#[test]
fn frames_in_several_slots_are_dropped_whole_also_across_batches() {
    let mut r = rig();
    for n in 0..5u8 {
        r.wire_in.borrow_mut().push_back(frame(n, 60));
    }
    r.port.sync.rxsync().unwrap();
    // Slots 1-2 and 3-4 are two frames of two slots each.
    let p = r.port.region.ptr;
    for i in [1, 3] {
        unsafe {
            (p.add(RX_AT + abi::RING_SLOTS + i * abi::SLOT_SIZE + abi::SLOT_FLAGS) as *mut u16)
                .write(abi::NS_MOREFRAG)
        };
    }
    let mut got = Vec::new();
    // Batches of 2 split the first frame from its second slot, and the second likewise.
    for _ in 0..3 {
        let n = r.port.rx_batch(2).unwrap();
        for k in 0..n {
            got.push(r.port.rx_frame(k).len());
        }
        r.port.rx_release(n);
    }
    assert_eq!(got, [60, 0, 0, 0, 0]);
    assert_eq!(r.port.multi_slot_drops, 2);
}

#[test]
fn a_malformed_region_is_refused_at_open() {
    let set64 = |off: usize, v: i64| move |p: *mut u8| unsafe { (p.add(off) as *mut i64).write(v) };
    let set32 = |off: usize, v: u32| move |p: *mut u8| unsafe { (p.add(off) as *mut u32).write(v) };
    let Err(e) = rig_with(set64(abi::IF_RING_OFS, 1 << 40)) else {
        panic!("a ring offset past the region was accepted")
    };
    assert!(e.to_string().contains("outside"), "{e}");
    assert!(rig_with(set64(abi::IF_RING_OFS, -4096)).is_err());
    assert!(rig_with(set32(TX_AT + abi::RING_NUM_SLOTS, 0)).is_err());
    assert!(rig_with(set32(TX_AT + abi::RING_NUM_SLOTS, 1 << 30)).is_err());
    assert!(rig_with(set32(RX_AT + abi::RING_BUF_SIZE, 1)).is_err());
    assert!(rig_with(set64(RX_AT + abi::RING_BUF_OFS, -(1 << 40))).is_err());
    assert!(rig_with(set32(abi::IF_RX_RINGS, 0)).is_err());
    // A ring offset of 0: the ring is not bound to this descriptor.
    let Err(e) = rig_with(set64(abi::IF_RING_OFS + 16, 0)) else {
        panic!("an unbound RX ring was accepted")
    };
    assert!(e.to_string().contains("not bound"), "{e}");
}

#[test]
fn indices_beyond_the_ring_do_not_escape_it() {
    let mut r = rig();
    // A head/tail of the ring's size or more is taken modulo the ring, never used raw.
    let p = r.port.region.ptr;
    unsafe { (p.add(RX_AT + abi::RING_TAIL) as *mut u32).write(SLOTS * 1000 + 2) };
    let n = r.port.rx_batch(64).unwrap();
    assert_eq!(n, 2);
    for k in 0..n {
        assert_eq!(
            r.port.rx_frame(k).len(),
            0,
            "slots never filled have length 0"
        );
    }
    r.port.rx_release(n);
}

#[test]
fn opening_without_netmap_says_so() {
    // These machines have no netmap module: the error must say what is missing.
    if std::path::Path::new("/dev/netmap").exists() {
        return;
    }
    let e = NetmapPort::open("vale0:x").unwrap_err();
    assert!(e.to_string().contains("/dev/netmap"), "{e}");
    assert!(e.to_string().contains("netmap kernel module"), "{e}");
}
