//! Grant tables, version 1: the entry layout shared with Xen, the hypercall argument structures,
//! and the guest's bookkeeping of its own entries (a free list of references, and the rule for
//! ending access safely).
//!
//! A grant entry is written by two parties: the guest fills `frame` and `domid` and then, after
//! a write barrier, sets `flags` to `GTF_permit_access` (the entry is live from that store on);
//! Xen sets `GTF_reading`/`GTF_writing` in the same word while the peer has the frame mapped or
//! a grant copy in flight. Access may only be ended with a compare-and-swap of the whole flags
//! word from a value without those bits to 0: if the peer maps the frame between our load and
//! our store, the swap fails and we look again. An entry that is still in use is NOT freed —
//! its reference and its frame stay with the peer until a later attempt succeeds.
//!
//! Layouts are checked at compile time against the Debian `libxen-dev` 4.17.7 headers
//! (`grant_table.h`, measured with gcc `offsetof`/`sizeof`).

use alloc::vec;
use alloc::vec::Vec;
use core::mem::{offset_of, size_of};
use core::sync::atomic::{fence, AtomicU16, AtomicU32, Ordering};

/// A grant reference: an index into the guest's grant table.
pub type GrantRef = u32;

/// `GNTTABOP_*` (`grant_table.h`).
pub mod op {
    pub const MAP_GRANT_REF: u64 = 0;
    pub const UNMAP_GRANT_REF: u64 = 1;
    pub const SETUP_TABLE: u64 = 2;
    pub const QUERY_SIZE: u64 = 6;
}

/// Type and sub-flags of `grant_entry_v1.flags`.
pub mod gtf {
    /// Type (bits 0..1): no access.
    pub const INVALID: u16 = 0;
    /// Type: the domain in `domid` may map or copy `frame`.
    pub const PERMIT_ACCESS: u16 = 1;
    pub const TYPE_MASK: u16 = 3;
    /// Set by the guest: the peer may only read.
    pub const READONLY: u16 = 1 << 2;
    /// Set by Xen while the peer reads the frame (mapped or copy in progress).
    pub const READING: u16 = 1 << 3;
    /// Set by Xen while the peer may write the frame.
    pub const WRITING: u16 = 1 << 4;
}

/// `GNTMAP_*` flags of `gnttab_map_grant_ref`.
pub mod gntmap {
    pub const HOST_MAP: u32 = 1 << 1;
    pub const READONLY: u32 = 1 << 2;
}

/// `GNTST_okay`; other statuses are negative.
pub const GNTST_OKAY: i16 = 0;
/// `GNTST_eagain`: the frame is being paged in; try again.
pub const GNTST_EAGAIN: i16 = -12;

/// Entries reserved for the toolstack (0 = console, 1 = Xenstore): never handed out.
pub const NR_RESERVED_ENTRIES: u32 = 8;
/// v1 entries per 4 KiB table frame.
pub const ENTRIES_PER_FRAME: u32 = 512;

/// `struct grant_entry_v1`. Atomics have the layout of the plain integers.
#[repr(C)]
pub struct GrantEntry {
    pub flags: AtomicU16,
    pub domid: AtomicU16,
    pub frame: AtomicU32,
}

/// `struct gnttab_setup_table`: `frame_list` receives `nr_frames` MFNs (PV).
#[repr(C)]
pub struct SetupTable {
    pub dom: u16,
    pub nr_frames: u32,
    pub status: i16,
    pub frame_list: *mut u64,
}

/// `struct gnttab_query_size`.
#[repr(C)]
#[derive(Default)]
pub struct QuerySize {
    pub dom: u16,
    pub nr_frames: u32,
    pub max_nr_frames: u32,
    pub status: i16,
}

/// `struct gnttab_map_grant_ref`.
#[repr(C)]
#[derive(Default)]
pub struct MapGrantRef {
    pub host_addr: u64,
    pub flags: u32,
    pub r#ref: GrantRef,
    pub dom: u16,
    pub status: i16,
    pub handle: u32,
    pub dev_bus_addr: u64,
}

/// `struct gnttab_unmap_grant_ref`.
#[repr(C)]
#[derive(Default)]
pub struct UnmapGrantRef {
    pub host_addr: u64,
    pub dev_bus_addr: u64,
    pub handle: u32,
    pub status: i16,
}

const _: () = {
    assert!(size_of::<GrantEntry>() == 8);
    assert!(offset_of!(GrantEntry, domid) == 2);
    assert!(offset_of!(GrantEntry, frame) == 4);
    assert!(size_of::<SetupTable>() == 24);
    assert!(offset_of!(SetupTable, nr_frames) == 4);
    assert!(offset_of!(SetupTable, status) == 8);
    assert!(offset_of!(SetupTable, frame_list) == 16);
    assert!(size_of::<QuerySize>() == 16);
    assert!(offset_of!(QuerySize, nr_frames) == 4);
    assert!(offset_of!(QuerySize, max_nr_frames) == 8);
    assert!(offset_of!(QuerySize, status) == 12);
    assert!(size_of::<MapGrantRef>() == 32);
    assert!(offset_of!(MapGrantRef, flags) == 8);
    assert!(offset_of!(MapGrantRef, r#ref) == 12);
    assert!(offset_of!(MapGrantRef, dom) == 16);
    assert!(offset_of!(MapGrantRef, status) == 18);
    assert!(offset_of!(MapGrantRef, handle) == 20);
    assert!(offset_of!(MapGrantRef, dev_bus_addr) == 24);
    assert!(size_of::<UnmapGrantRef>() == 24);
    assert!(offset_of!(UnmapGrantRef, dev_bus_addr) == 8);
    assert!(offset_of!(UnmapGrantRef, handle) == 16);
    assert!(offset_of!(UnmapGrantRef, status) == 20);
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantError {
    /// Every reference is in use.
    NoFreeRefs,
    /// The reference is outside the table, reserved, or not granted by us.
    NotGranted(GrantRef),
    /// The peer still has the frame mapped (or a copy in flight): access stays granted, the
    /// reference is not freed; try again later.
    InUse(GrantRef),
}

impl core::fmt::Display for GrantError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            GrantError::NoFreeRefs => write!(f, "no free grant references"),
            GrantError::NotGranted(r) => write!(f, "grant reference {r} is not granted"),
            GrantError::InUse(r) => write!(f, "grant reference {r} is still in use by the peer"),
        }
    }
}

/// The guest's own grant entries over the shared table (`entries`, as mapped from the frames
/// `GNTTABOP_setup_table` returned).
pub struct GrantTable<'a> {
    entries: &'a [GrantEntry],
    /// Free references, used as a stack (LIFO: recently freed entries are reused first).
    free: Vec<GrantRef>,
    /// One bit per entry: granted by us and not yet ended.
    granted: Vec<u64>,
}

impl<'a> GrantTable<'a> {
    /// Takes over `entries`; the reserved ones are never touched, the others are cleared.
    pub fn new(entries: &'a [GrantEntry]) -> Self {
        let n = entries.len() as u32;
        for e in entries.iter().skip(NR_RESERVED_ENTRIES as usize) {
            e.flags.store(gtf::INVALID, Ordering::Relaxed);
        }
        // Pushed in reverse so that the lowest reference comes out first.
        let free: Vec<GrantRef> = (NR_RESERVED_ENTRIES..n).rev().collect();
        GrantTable {
            entries,
            free,
            granted: vec![0; (n as usize).div_ceil(64)],
        }
    }

    pub fn capacity(&self) -> u32 {
        self.entries.len() as u32
    }

    pub fn free_refs(&self) -> usize {
        self.free.len()
    }

    fn is_granted(&self, r: GrantRef) -> bool {
        (r as usize) < self.entries.len() && self.granted[r as usize / 64] & (1 << (r % 64)) != 0
    }

    fn set_granted(&mut self, r: GrantRef, on: bool) {
        let (w, b) = (r as usize / 64, 1u64 << (r % 64));
        if on {
            self.granted[w] |= b;
        } else {
            self.granted[w] &= !b;
        }
    }

    /// Lets domain `domid` access `frame` (an MFN for a PV guest), read-only if `readonly`.
    pub fn grant_access(
        &mut self,
        domid: u16,
        frame: u64,
        readonly: bool,
    ) -> Result<GrantRef, GrantError> {
        let r = self.free.pop().ok_or(GrantError::NoFreeRefs)?;
        let e = &self.entries[r as usize];
        // v1 frames are 32 bits: PV guests on this host have MFNs far below 2^32 (16 TiB).
        e.frame.store(frame as u32, Ordering::Relaxed);
        e.domid.store(domid, Ordering::Relaxed);
        // frame and domid must be visible before the entry becomes valid.
        fence(Ordering::Release);
        let ro = if readonly { gtf::READONLY } else { 0 };
        e.flags.store(gtf::PERMIT_ACCESS | ro, Ordering::Release);
        self.set_granted(r, true);
        Ok(r)
    }

    /// True while the peer has the frame of `r` mapped or a copy in flight.
    pub fn in_use(&self, r: GrantRef) -> bool {
        self.entries
            .get(r as usize)
            .is_some_and(|e| e.flags.load(Ordering::Acquire) & (gtf::READING | gtf::WRITING) != 0)
    }

    /// Ends access through `r` and frees the reference, unless the peer still uses it
    /// ([`GrantError::InUse`]: nothing changes; the frame must not be reused yet).
    pub fn end_access(&mut self, r: GrantRef) -> Result<(), GrantError> {
        if r < NR_RESERVED_ENTRIES || !self.is_granted(r) {
            return Err(GrantError::NotGranted(r));
        }
        let flags = &self.entries[r as usize].flags;
        let mut f = flags.load(Ordering::Acquire);
        loop {
            if f & (gtf::READING | gtf::WRITING) != 0 {
                return Err(GrantError::InUse(r));
            }
            // Xen sets READING/WRITING with its own compare-and-swap: if it mapped the frame
            // since our load, this fails and the loop sees the new bits.
            match flags.compare_exchange(f, gtf::INVALID, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => break,
                Err(now) => f = now,
            }
        }
        self.set_granted(r, false);
        self.free.push(r);
        Ok(())
    }

    /// The entry of `r` as (flags, domid, frame), for diagnostics and tests.
    pub fn entry(&self, r: GrantRef) -> Option<(u16, u16, u32)> {
        self.entries.get(r as usize).map(|e| {
            (
                e.flags.load(Ordering::Acquire),
                e.domid.load(Ordering::Relaxed),
                e.frame.load(Ordering::Relaxed),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(n: usize) -> Vec<GrantEntry> {
        (0..n)
            .map(|_| GrantEntry {
                flags: AtomicU16::new(0x5555),
                domid: AtomicU16::new(0),
                frame: AtomicU32::new(0),
            })
            .collect()
    }

    #[test]
    fn grant_fills_the_entry_and_skips_reserved_refs() {
        let t = table(16);
        // The toolstack's entries (console, Xenstore) are left alone.
        t[0].flags.store(gtf::PERMIT_ACCESS, Ordering::Relaxed);
        let mut g = GrantTable::new(&t);
        assert_eq!(g.free_refs(), 8);
        assert_eq!(t[0].flags.load(Ordering::Relaxed), gtf::PERMIT_ACCESS);
        assert_eq!(t[8].flags.load(Ordering::Relaxed), 0);
        let r = g.grant_access(0, 0x1234, false).unwrap();
        assert_eq!(r, 8);
        assert_eq!(g.entry(r), Some((gtf::PERMIT_ACCESS, 0, 0x1234)));
        let r2 = g.grant_access(3, 0x99, true).unwrap();
        assert_eq!(r2, 9);
        assert_eq!(
            g.entry(r2),
            Some((gtf::PERMIT_ACCESS | gtf::READONLY, 3, 0x99))
        );
    }

    #[test]
    fn refs_run_out_and_come_back() {
        let t = table(10);
        let mut g = GrantTable::new(&t);
        let a = g.grant_access(0, 1, false).unwrap();
        let b = g.grant_access(0, 2, false).unwrap();
        assert_eq!(g.grant_access(0, 3, false), Err(GrantError::NoFreeRefs));
        g.end_access(a).unwrap();
        assert_eq!(g.entry(a).unwrap().0, gtf::INVALID);
        assert_eq!(g.grant_access(0, 4, false), Ok(a));
        assert_eq!(g.entry(b).unwrap().2, 2);
    }

    #[test]
    fn an_entry_in_use_is_not_ended_nor_reused() {
        let t = table(12);
        let mut g = GrantTable::new(&t);
        let r = g.grant_access(0, 7, false).unwrap();
        // The peer maps it: Xen sets the reading and writing bits.
        t[r as usize]
            .flags
            .fetch_or(gtf::READING | gtf::WRITING, Ordering::SeqCst);
        assert!(g.in_use(r));
        assert_eq!(g.end_access(r), Err(GrantError::InUse(r)));
        // Still granted, still not free: new grants get other references.
        assert_eq!(g.entry(r).unwrap().0 & gtf::TYPE_MASK, gtf::PERMIT_ACCESS);
        for _ in 0..3 {
            assert_ne!(g.grant_access(0, 1, false).unwrap(), r);
        }
        // Only writing left: still in use.
        t[r as usize]
            .flags
            .fetch_and(!gtf::READING, Ordering::SeqCst);
        assert_eq!(g.end_access(r), Err(GrantError::InUse(r)));
        // Unmapped: ends, and the reference is reused.
        t[r as usize]
            .flags
            .fetch_and(!gtf::WRITING, Ordering::SeqCst);
        assert!(!g.in_use(r));
        g.end_access(r).unwrap();
        assert_eq!(g.grant_access(0, 1, false), Ok(r));
    }

    #[test]
    fn ending_what_was_not_granted_is_refused() {
        let t = table(12);
        let mut g = GrantTable::new(&t);
        assert_eq!(g.end_access(0), Err(GrantError::NotGranted(0)));
        assert_eq!(g.end_access(9), Err(GrantError::NotGranted(9)));
        assert_eq!(g.end_access(500), Err(GrantError::NotGranted(500)));
        let r = g.grant_access(0, 1, true).unwrap();
        g.end_access(r).unwrap();
        // A double end would put the reference twice on the free list.
        assert_eq!(g.end_access(r), Err(GrantError::NotGranted(r)));
        assert_eq!(g.free_refs(), 4);
    }

    #[test]
    fn one_frame_holds_512_entries() {
        let t = table(ENTRIES_PER_FRAME as usize);
        let mut g = GrantTable::new(&t);
        assert_eq!(g.capacity(), 512);
        let mut n = 0;
        while g.grant_access(0, n, false).is_ok() {
            n += 1;
        }
        assert_eq!(n, 512 - 8);
    }
}
