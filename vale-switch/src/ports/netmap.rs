//! netmap ports (feature `netmap`, Linux): a switch port on a port of the host's netmap — a NIC
//! in netmap mode (`netmap:eth0`), a port of a kernel VALE switch (`vale0:clickos`), a netmap
//! pipe — so that `clickos-switchd` can sit next to (or in front of) netmap on hosts that have it.
//!
//! The data path is netmap's own: the kernel's rings and buffers are mapped once; a receive
//! batch is the slots between `head` and `tail` (one `NIOCRXSYNC` per batch, none per frame), a
//! transmitted frame is copied straight into the next free slot's buffer and the whole batch is
//! handed over with one `NIOCTXSYNC`. Every value read from the shared region (ring offsets,
//! indices, buffer indices, lengths) is checked against the mapping before use: a kernel bug
//! cannot make the switch read or write outside it.
//!
//! Why not `netmap-sys`: every netmap binding crate (`netmap_sys`, `netmap-min-sys`) needs
//! netmap's C headers installed to build, and Debian packages neither the headers nor the kernel
//! module; the feature would then never be built by CI. The ABI used here is small and stable
//! (`NETMAP_API` 14: one request, three structures, three ioctls), so it is written out in
//! [`abi`] with its layout asserted at compile time, and the ring logic is tested against an
//! in-memory region laid out the way the kernel lays it out.

use std::ffi::CString;
use std::format;
use std::io;
use std::os::fd::RawFd;
use std::string::{String, ToString};
use std::sync::atomic::{fence, AtomicU32, Ordering};
use std::vec::Vec;

use super::os_err;
use crate::ring::RingError;
use crate::switch::{Port, MAX_BURST};

/// netmap's user ABI (net/netmap.h, API version 14), the parts a port needs.
pub mod abi {
    /// `NETMAP_API`: the request version the kernel checks.
    pub const NETMAP_API: u16 = 14;
    /// `NETMAP_REQ_REGISTER`: bind the descriptor to a port's rings.
    pub const NETMAP_REQ_REGISTER: u16 = 1;
    /// `NR_REG_ALL_NIC`: all hardware rings of the port (not the host stack's).
    pub const NR_REG_ALL_NIC: u32 = 1;
    /// Size of `nmreq_header.nr_name`.
    pub const NETMAP_REQ_IFNAMSIZ: usize = 64;

    /// `_IOWR('i', 151, struct nmreq_header)`: every request of the current API.
    pub const NIOCCTRL: u64 = ioc(3, b'i', 151, core::mem::size_of::<NmreqHeader>());
    /// `_IO('i', 148)`: hand transmitted slots to the kernel, reclaim completed ones.
    pub const NIOCTXSYNC: u64 = ioc(0, b'i', 148, 0);
    /// `_IO('i', 149)`: give consumed slots back, learn of newly received ones.
    pub const NIOCRXSYNC: u64 = ioc(0, b'i', 149, 0);

    /// Linux's `_IOC(dir, type, nr, size)` on x86_64.
    const fn ioc(dir: u64, ty: u8, nr: u8, size: usize) -> u64 {
        (dir << 30) | ((size as u64) << 16) | ((ty as u64) << 8) | nr as u64
    }

    /// `struct nmreq_header`.
    #[repr(C)]
    pub struct NmreqHeader {
        pub nr_version: u16,
        pub nr_reqtype: u16,
        pub nr_reserved: u32,
        pub nr_name: [u8; NETMAP_REQ_IFNAMSIZ],
        pub nr_options: u64,
        pub nr_body: u64,
    }

    /// `struct nmreq_register`: in, the mode; out, where the port's `netmap_if` is in the
    /// region the descriptor maps, and the region's size.
    #[repr(C)]
    #[derive(Default)]
    pub struct NmreqRegister {
        pub nr_offset: u64,
        pub nr_memsize: u64,
        pub nr_tx_slots: u32,
        pub nr_rx_slots: u32,
        pub nr_tx_rings: u16,
        pub nr_rx_rings: u16,
        pub nr_host_tx_rings: u16,
        pub nr_host_rx_rings: u16,
        pub nr_mem_id: u16,
        pub nr_ringid: u16,
        pub nr_mode: u32,
        pub nr_extra_bufs: u32,
        pub nr_flags: u64,
    }

    const _: () = assert!(core::mem::size_of::<NmreqHeader>() == 88);
    const _: () = assert!(core::mem::size_of::<NmreqRegister>() == 56);
    const _: () = assert!(NIOCCTRL == 0xc058_6997);
    const _: () = assert!(NIOCTXSYNC == 0x6994 && NIOCRXSYNC == 0x6995);

    // `struct netmap_if` (offsets from its start).
    pub const IF_TX_RINGS: usize = 24;
    pub const IF_RX_RINGS: usize = 28;
    pub const IF_HOST_TX_RINGS: usize = 36;
    /// `ring_ofs[]`: signed offsets from the `netmap_if` to each ring: the hardware TX rings, the
    /// host TX rings, the hardware RX rings, the host RX rings.
    pub const IF_RING_OFS: usize = 56;

    // `struct netmap_ring` (offsets from its start).
    pub const RING_BUF_OFS: usize = 0; // i64: buffers, from the ring
    pub const RING_NUM_SLOTS: usize = 8; // u32
    pub const RING_BUF_SIZE: usize = 12; // u32
    pub const RING_HEAD: usize = 20; // u32, written by the user
    pub const RING_CUR: usize = 24; // u32, written by the user
    pub const RING_TAIL: usize = 28; // u32, written by the kernel
    /// The slot array: after the fixed fields and the 128-byte, 128-aligned `sem` area.
    pub const RING_SLOTS: usize = 256;

    // `struct netmap_slot`: 16 bytes.
    pub const SLOT_SIZE: usize = 16;
    pub const SLOT_BUF_IDX: usize = 0; // u32
    pub const SLOT_LEN: usize = 4; // u16
    pub const SLOT_FLAGS: usize = 6; // u16
    /// `NS_MOREFRAG`: the frame goes on in the next slot (VALE ports, some NICs).
    pub const NS_MOREFRAG: u16 = 0x0020;
}

/// The shared region: netmap's mmap, or a test's buffer.
struct Region {
    ptr: *mut u8,
    len: usize,
    /// munmap on drop (the real mapping).
    mapped: bool,
}

impl Drop for Region {
    fn drop(&mut self) {
        if self.mapped {
            // SAFETY: our own mapping, unmapped once.
            unsafe { libc::munmap(self.ptr as *mut libc::c_void, self.len) };
        }
    }
}

impl Region {
    fn fits(&self, off: usize, n: usize) -> bool {
        off.checked_add(n).is_some_and(|end| end <= self.len)
    }
    fn u32(&self, off: usize) -> u32 {
        debug_assert!(self.fits(off, 4) && off % 4 == 0);
        // SAFETY: inside the region (checked by the callers' geometry) and 4-aligned.
        unsafe { (*(self.ptr.add(off) as *const AtomicU32)).load(Ordering::Acquire) }
    }
    fn set_u32(&self, off: usize, v: u32) {
        debug_assert!(self.fits(off, 4) && off % 4 == 0);
        // SAFETY: as above.
        unsafe { (*(self.ptr.add(off) as *const AtomicU32)).store(v, Ordering::Release) }
    }
    fn u16(&self, off: usize) -> u16 {
        // SAFETY: inside the region, 2-aligned (slot fields).
        unsafe { (self.ptr.add(off) as *const u16).read_volatile() }
    }
    fn set_u16(&self, off: usize, v: u16) {
        // SAFETY: as above.
        unsafe { (self.ptr.add(off) as *mut u16).write_volatile(v) }
    }
    fn i64(&self, off: usize) -> i64 {
        // SAFETY: inside the region, 8-aligned (ring and netmap_if fields).
        unsafe { (self.ptr.add(off) as *const i64).read_volatile() }
    }
}

/// One ring of the region, its fixed geometry read and checked once.
#[derive(Clone, Copy, Debug)]
struct RingGeo {
    /// Offset of the `netmap_ring` in the region.
    at: usize,
    slots: u32,
    /// Offset of buffer 0 in the region, and each buffer's size.
    bufs: usize,
    buf_size: usize,
}

impl RingGeo {
    fn read(r: &Region, at: usize) -> io::Result<RingGeo> {
        let bad = |what: &str| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("netmap ring at {at:#x}: {what}"),
            )
        };
        if at % 8 != 0 || !r.fits(at, abi::RING_SLOTS) {
            return Err(bad("outside the mapped region"));
        }
        let slots = r.u32(at + abi::RING_NUM_SLOTS);
        let buf_size = r.u32(at + abi::RING_BUF_SIZE) as usize;
        if slots == 0 || !r.fits(at + abi::RING_SLOTS, slots as usize * abi::SLOT_SIZE) {
            return Err(bad("slot array outside the mapped region"));
        }
        if !(64..=65536).contains(&buf_size) {
            return Err(bad("implausible buffer size"));
        }
        let bufs = (at as i64).checked_add(r.i64(at + abi::RING_BUF_OFS));
        let bufs = match bufs {
            Some(b) if b >= 0 && (b as usize) <= r.len => b as usize,
            _ => return Err(bad("buffers outside the mapped region")),
        };
        Ok(RingGeo {
            at,
            slots,
            bufs,
            buf_size,
        })
    }

    fn next(&self, i: u32) -> u32 {
        if i + 1 == self.slots {
            0
        } else {
            i + 1
        }
    }

    fn slot(&self, i: u32) -> usize {
        self.at + abi::RING_SLOTS + i as usize * abi::SLOT_SIZE
    }

    /// Offset of slot `i`'s buffer, if its index and `len` stay inside the region.
    fn buf(&self, r: &Region, i: u32, len: usize) -> Option<usize> {
        let idx = r.u32(self.slot(i) + abi::SLOT_BUF_IDX) as usize;
        let off = idx.checked_mul(self.buf_size)?.checked_add(self.bufs)?;
        (len <= self.buf_size && r.fits(off, self.buf_size)).then_some(off)
    }

    /// Slots from `from` up to (not including) `to`, going round.
    fn distance(&self, from: u32, to: u32) -> u32 {
        if to >= from {
            to - from
        } else {
            to + self.slots - from
        }
    }
}

/// The two netmap system calls a port makes, behind a trait so that tests can stand in for the
/// kernel.
pub trait NetmapSync {
    fn txsync(&mut self) -> io::Result<()>;
    fn rxsync(&mut self) -> io::Result<()>;
    /// The descriptor to poll for input (none in tests).
    fn fd(&self) -> Option<RawFd>;
}

/// The kernel's side: ioctls on the `/dev/netmap` descriptor.
pub struct NetmapFd(RawFd);

impl NetmapSync for NetmapFd {
    fn txsync(&mut self) -> io::Result<()> {
        // SAFETY: an ioctl without argument on our descriptor.
        if unsafe { libc::ioctl(self.0, abi::NIOCTXSYNC as _) } < 0 {
            return Err(os_err("NIOCTXSYNC"));
        }
        Ok(())
    }
    fn rxsync(&mut self) -> io::Result<()> {
        // SAFETY: as above.
        if unsafe { libc::ioctl(self.0, abi::NIOCRXSYNC as _) } < 0 {
            return Err(os_err("NIOCRXSYNC"));
        }
        Ok(())
    }
    fn fd(&self) -> Option<RawFd> {
        Some(self.0)
    }
}

impl Drop for NetmapFd {
    fn drop(&mut self) {
        // SAFETY: our descriptor, closed once.
        unsafe { libc::close(self.0) };
    }
}

/// A switch port on a netmap port.
pub struct NetmapPort<S: NetmapSync = NetmapFd> {
    name: String,
    // Field order: the region is unmapped before the descriptor is closed.
    region: Region,
    sync: S,
    tx: RingGeo,
    rx: Vec<RingGeo>,
    /// The RX ring the next batch is looked for in first (round robin over the rings).
    rx_next: usize,
    /// The current receive batch: ring, first slot, and each frame's (offset, length).
    batch_ring: usize,
    batch_head: u32,
    batch: Vec<(usize, usize)>,
    /// Next TX slot to fill (the kernel sees slots up to it at `tx_flush`).
    tx_cur: u32,
    tx_queued: u32,
    /// Per RX ring: the last slot seen had `NS_MOREFRAG` (the next one continues its frame).
    rx_in_frag: Vec<bool>,
    /// Frames that came in several slots: dropped.
    multi_slot_drops: u64,
    /// Slots the kernel gave with an index or length outside the region: skipped.
    bad_slots: u64,
    rx_syncs: u64,
    tx_syncs: u64,
    sync_errors: u64,
}

impl NetmapPort<NetmapFd> {
    /// Opens a netmap port by the kernel's name for it: `eth0` (a NIC in netmap mode, all of its
    /// hardware rings), `vale0:p1` (a port of the kernel VALE switch `vale0`, created if new).
    pub fn open(name: &str) -> io::Result<NetmapPort<NetmapFd>> {
        if name.len() >= abi::NETMAP_REQ_IFNAMSIZ {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "netmap port name '{name}' is longer than {} bytes",
                    abi::NETMAP_REQ_IFNAMSIZ - 1
                ),
            ));
        }
        let dev = CString::new("/dev/netmap").expect("no NUL");
        // SAFETY: plain open of a NUL-terminated path.
        let fd = unsafe { libc::open(dev.as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) };
        if fd < 0 {
            let e = io::Error::last_os_error();
            return Err(io::Error::new(
                e.kind(),
                format!("/dev/netmap: {e} (is the netmap kernel module loaded?)"),
            ));
        }
        let sync = NetmapFd(fd);
        let mut reg = abi::NmreqRegister {
            nr_mode: abi::NR_REG_ALL_NIC,
            ..Default::default()
        };
        let mut hdr = abi::NmreqHeader {
            nr_version: abi::NETMAP_API,
            nr_reqtype: abi::NETMAP_REQ_REGISTER,
            nr_reserved: 0,
            nr_name: [0; abi::NETMAP_REQ_IFNAMSIZ],
            nr_options: 0,
            nr_body: &mut reg as *mut abi::NmreqRegister as u64,
        };
        hdr.nr_name[..name.len()].copy_from_slice(name.as_bytes());
        // SAFETY: the header and the body it points to live across the call.
        if unsafe { libc::ioctl(fd, abi::NIOCCTRL as _, &mut hdr as *mut abi::NmreqHeader) } < 0 {
            return Err(os_err(&format!("netmap register '{name}'")));
        }
        let len = reg.nr_memsize as usize;
        // SAFETY: maps the region the kernel just sized for this descriptor.
        let ptr = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(os_err(&format!("mmap of netmap port '{name}'")));
        }
        let region = Region {
            ptr: ptr as *mut u8,
            len,
            mapped: true,
        };
        NetmapPort::from_region(name, region, reg.nr_offset as usize, sync)
    }
}

impl<S: NetmapSync> NetmapPort<S> {
    /// Finds the rings of the `netmap_if` at `nifp` in `region` and checks their geometry.
    fn from_region(name: &str, region: Region, nifp: usize, sync: S) -> io::Result<NetmapPort<S>> {
        let bad = |what: String| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("netmap port '{name}': {what}"),
            )
        };
        if nifp % 8 != 0 || !region.fits(nifp, abi::IF_RING_OFS) {
            return Err(bad(format!(
                "netmap_if at {nifp:#x} outside the {} byte region",
                region.len
            )));
        }
        let tx_rings = region.u32(nifp + abi::IF_TX_RINGS) as usize;
        let rx_rings = region.u32(nifp + abi::IF_RX_RINGS) as usize;
        let host_tx = region.u32(nifp + abi::IF_HOST_TX_RINGS) as usize;
        if tx_rings == 0 || rx_rings == 0 || tx_rings > 1024 || rx_rings > 1024 || host_tx > 1024 {
            return Err(bad(format!("{tx_rings} TX and {rx_rings} RX rings")));
        }
        let ring_at = |k: usize| -> io::Result<RingGeo> {
            let slot = nifp + abi::IF_RING_OFS + 8 * k;
            if !region.fits(slot, 8) {
                return Err(bad(format!("ring_ofs[{k}] outside the region")));
            }
            let ofs = region.i64(slot);
            if ofs == 0 {
                return Err(bad(format!(
                    "ring_ofs[{k}] is 0: that ring is not bound to the descriptor"
                )));
            }
            let at = (nifp as i64).checked_add(ofs);
            match at {
                Some(a) if a >= 0 => RingGeo::read(&region, a as usize),
                _ => Err(bad(format!("ring_ofs[{k}] points before the region"))),
            }
        };
        let tx = ring_at(0)?;
        let rx = (0..rx_rings)
            .map(|k| ring_at(tx_rings + host_tx + k))
            .collect::<io::Result<Vec<_>>>()?;
        let tx_cur = region.u32(tx.at + abi::RING_CUR) % tx.slots;
        Ok(NetmapPort {
            // As the switch's port spec names it: `netmap:eth0`, `netmap:vale0:p`.
            name: format!("netmap:{name}"),
            region,
            sync,
            tx,
            rx,
            rx_next: 0,
            batch_ring: 0,
            batch_head: 0,
            batch: Vec::with_capacity(MAX_BURST),
            tx_cur,
            tx_queued: 0,
            rx_in_frag: std::vec![false; rx_rings],
            multi_slot_drops: 0,
            bad_slots: 0,
            rx_syncs: 0,
            tx_syncs: 0,
            sync_errors: 0,
        })
    }

    /// Received slots waiting in RX ring `k` (between its `head` and `tail`).
    fn rx_ready(&self, k: usize) -> (u32, u32) {
        let g = &self.rx[k];
        let head = self.region.u32(g.at + abi::RING_HEAD) % g.slots;
        let tail = self.region.u32(g.at + abi::RING_TAIL) % g.slots;
        (head, g.distance(head, tail))
    }

    /// Free TX slots from `tx_cur` (up to the ring's `tail`, which the kernel moves).
    fn tx_room(&self) -> u32 {
        let tail = self.region.u32(self.tx.at + abi::RING_TAIL) % self.tx.slots;
        self.tx.distance(self.tx_cur, tail)
    }

    fn rxsync(&mut self) {
        self.rx_syncs += 1;
        if self.sync.rxsync().is_err() {
            self.sync_errors += 1;
        }
    }

    fn txsync(&mut self) {
        self.tx_syncs += 1;
        if self.sync.txsync().is_err() {
            self.sync_errors += 1;
        }
    }

    fn any_rx_ready(&self) -> bool {
        (0..self.rx.len()).any(|k| self.rx_ready(k).1 > 0)
    }
}

impl<S: NetmapSync> Port for NetmapPort<S> {
    fn rx_batch(&mut self, max: usize) -> Result<usize, RingError> {
        self.batch.clear();
        if !self.any_rx_ready() {
            // One system call per batch, and only when the rings look empty.
            self.rxsync();
        }
        let n_rings = self.rx.len();
        for step in 0..n_rings {
            let k = (self.rx_next + step) % n_rings;
            let (head, ready) = self.rx_ready(k);
            if ready == 0 {
                continue;
            }
            let g = self.rx[k];
            let mut i = head;
            for _ in 0..(ready as usize).min(max).min(MAX_BURST) {
                let len = self.region.u16(g.slot(i) + abi::SLOT_LEN) as usize;
                let more = self.region.u16(g.slot(i) + abi::SLOT_FLAGS) & abi::NS_MOREFRAG != 0;
                // A frame spread over several slots (jumbo frames on VALE ports): every slot of
                // it is dropped, also when its end comes in a later batch; never forwarded as
                // pieces. A slot dropped still goes back to the kernel with the batch.
                let fragment = more || self.rx_in_frag[k];
                if fragment && !self.rx_in_frag[k] {
                    self.multi_slot_drops += 1;
                }
                self.rx_in_frag[k] = more;
                match g.buf(&self.region, i, len) {
                    Some(off) if !fragment => self.batch.push((off, len)),
                    Some(_) => self.batch.push((0, 0)),
                    None => {
                        self.bad_slots += 1;
                        self.batch.push((0, 0));
                    }
                }
                i = g.next(i);
            }
            self.batch_ring = k;
            self.batch_head = head;
            self.rx_next = (k + 1) % n_rings;
            return Ok(self.batch.len());
        }
        Ok(0)
    }

    fn rx_frame(&self, k: usize) -> &[u8] {
        match self.batch.get(k) {
            // SAFETY: checked against the region in rx_batch; the slot stays ours until
            // rx_release moves `head` past it.
            Some(&(off, len)) if len > 0 => unsafe {
                std::slice::from_raw_parts(self.region.ptr.add(off), len)
            },
            _ => &[],
        }
    }

    fn rx_release(&mut self, n: usize) {
        let n = n.min(self.batch.len()) as u32;
        if n == 0 {
            return;
        }
        let g = self.rx[self.batch_ring];
        let new_head = (self.batch_head + n) % g.slots;
        // The kernel takes the slots back at the next NIOCRXSYNC (or poll).
        self.region.set_u32(g.at + abi::RING_CUR, new_head);
        self.region.set_u32(g.at + abi::RING_HEAD, new_head);
        self.batch.clear();
    }

    fn tx(&mut self, frame: &[u8]) -> Result<bool, RingError> {
        if frame.len() > self.tx.buf_size || frame.len() > u16::MAX as usize {
            return Ok(false);
        }
        if self.tx_room() == 0 {
            // Full: hand over what is queued and let the kernel reclaim finished slots.
            self.tx_flush();
            if self.tx_room() == 0 {
                return Ok(false);
            }
        }
        let i = self.tx_cur;
        let Some(off) = self.tx.buf(&self.region, i, frame.len()) else {
            self.bad_slots += 1;
            return Ok(false);
        };
        // SAFETY: the buffer is inside the region (checked) and owned by us until `head`
        // passes this slot.
        unsafe {
            std::ptr::copy_nonoverlapping(frame.as_ptr(), self.region.ptr.add(off), frame.len())
        };
        let s = self.tx.slot(i);
        self.region.set_u16(s + abi::SLOT_LEN, frame.len() as u16);
        self.region.set_u16(s + abi::SLOT_FLAGS, 0);
        self.tx_cur = self.tx.next(i);
        self.tx_queued += 1;
        Ok(true)
    }

    fn tx_flush(&mut self) {
        if self.tx_queued == 0 {
            return;
        }
        fence(Ordering::Release);
        self.region.set_u32(self.tx.at + abi::RING_CUR, self.tx_cur);
        self.region
            .set_u32(self.tx.at + abi::RING_HEAD, self.tx_cur);
        self.tx_queued = 0;
        self.txsync();
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn arm(&mut self) -> Result<bool, RingError> {
        // netmap wakes a poll() on the descriptor when a ring has input: nothing to arm, but
        // frames that came in meanwhile must not be slept on.
        self.rxsync();
        Ok(self.any_rx_ready())
    }

    fn wake_fds(&self, out: &mut Vec<i32>) {
        out.extend(self.sync.fd());
    }

    fn port_stats(&self, out: &mut Vec<(&'static str, u64)>) {
        out.push(("netmap_bad_slots", self.bad_slots));
        out.push(("netmap_multi_slot_drops", self.multi_slot_drops));
        out.push(("netmap_rx_syncs", self.rx_syncs));
        out.push(("netmap_tx_syncs", self.tx_syncs));
        out.push(("netmap_sync_errors", self.sync_errors));
    }
}

impl<S: NetmapSync> core::fmt::Debug for NetmapPort<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("NetmapPort")
            .field("name", &self.name.to_string())
            .field("tx", &self.tx)
            .field("rx", &self.rx)
            .finish()
    }
}

#[cfg(test)]
mod tests;
