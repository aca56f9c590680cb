//! Memory at boot: map all of the domain's pages 1:1 (VA = PFN << 12), then a frame allocator
//! over the free frames and a heap for `alloc`.

use super::cell::GuestCell;
use crate::abi::{self, MmuUpdate, StartInfo, M2P_VIRT_START, PAGE_SHIFT, PAGE_SIZE};
use crate::arch::{boot, hypercall};
use crate::paging::{Mapper, PtEnv};
use crate::pfa::FrameAllocator;
use core::ptr::addr_of;
use linked_list_allocator::LockedHeap;

#[global_allocator]
static HEAP: LockedHeap = LockedHeap::empty();

static FRAMES: GuestCell<Option<FrameAllocator<'static>>> = GuestCell::new(None);
static P2M: GuestCell<(usize, u64)> = GuestCell::new((0, 0));

/// Share of the free frames given to the heap (the rest stays in the frame allocator for
/// page-granular users such as grant-shared buffers).
const HEAP_NUM: u64 = 3;
const HEAP_DEN: u64 = 4;

/// What boot did, for the log.
#[derive(Clone, Copy, Debug)]
pub struct MemInfo {
    pub nr_pages: u64,
    /// Frames mapped by the domain builder (from PFN 0).
    pub initially_mapped: u64,
    pub newly_mapped: u64,
    pub tables_made: u64,
    pub frames_total: u64,
    pub frames_free: u64,
    pub heap_start: usize,
    pub heap_size: usize,
}

/// PFN of machine frame `mfn` (read-only M2P table).
pub fn mfn_to_pfn(mfn: u64) -> u64 {
    // SAFETY: Xen maps the M2P read-only for every PV guest.
    unsafe { core::ptr::read_volatile((M2P_VIRT_START as *const u64).add(mfn as usize)) }
}

/// MFN of pseudo-physical frame `pfn` (start_info's p2m list).
pub fn pfn_to_mfn(pfn: u64) -> u64 {
    let (p2m, n) = P2M.with(|p| *p);
    assert!(pfn < n, "pfn {pfn:#x} beyond the p2m ({n} entries)");
    // SAFETY: the p2m list lies in the initial mapping and has `n` entries.
    unsafe { *(p2m as *const u64).add(pfn as usize) }
}

struct XenPt;

impl PtEnv for XenPt {
    fn pfn_to_mfn(&self, pfn: u64) -> u64 {
        pfn_to_mfn(pfn)
    }
    fn mfn_to_pfn(&self, mfn: u64) -> u64 {
        mfn_to_pfn(mfn)
    }
    fn read_entry(&self, table_pfn: u64, index: usize) -> u64 {
        // SAFETY: page tables are mapped read-only at their 1:1 address.
        unsafe { core::ptr::read_volatile(((table_pfn << PAGE_SHIFT) as *const u64).add(index)) }
    }
    fn zero_page(&mut self, pfn: u64) {
        // SAFETY: the mapper only zeroes free, mapped frames it takes for tables.
        unsafe { core::ptr::write_bytes((pfn << PAGE_SHIFT) as *mut u8, 0, PAGE_SIZE) }
    }
    fn mmu_update(&mut self, reqs: &[MmuUpdate]) -> Result<(), i64> {
        hypercall::mmu_update(reqs)
    }
}

/// # Safety
/// Once, at boot, on the bootstrap page tables.
pub unsafe fn init(si: &StartInfo) -> MemInfo {
    let nr_pages = si.nr_pages;
    P2M.with(|p| *p = (si.mfn_list as usize, nr_pages));
    let l4_pfn = si.pt_base >> PAGE_SHIFT;
    // Free from the end of the bootstrap tables (the bootstrap stack page after them is free
    // too: `_start` left it).
    let first_free = l4_pfn + si.nr_pt_frames;

    let mut env = XenPt;
    let mut limit = first_free;
    {
        let probe = Mapper::new(&mut env, l4_pfn, first_free, first_free);
        while limit < nr_pages && probe.lookup(limit << PAGE_SHIFT).is_some() {
            limit += 1;
        }
    }
    let mut mapper = Mapper::new(&mut env, l4_pfn, first_free, limit);
    let newly_mapped = match mapper.map_identity(limit, nr_pages) {
        Ok(n) => n,
        Err(e) => panic!("mapping memory: {e:?}"),
    };
    let tables_made = mapper.tables_made();
    let next = mapper.next_free_pfn();

    // The frame allocator over [next, nr_pages); its bitmap in its own first frames.
    let count = nr_pages - next;
    let words = FrameAllocator::words_for(count);
    let bitmap_pages = (words * 8).div_ceil(PAGE_SIZE) as u64;
    let bits = core::slice::from_raw_parts_mut((next << PAGE_SHIFT) as *mut u64, words);
    let mut frames = FrameAllocator::new(bits, next, count);
    frames.reserve(next, bitmap_pages);

    let heap_pages = frames.free_frames() * HEAP_NUM / HEAP_DEN;
    let heap_pfn = frames
        .alloc_contiguous(heap_pages)
        .expect("no contiguous frames for the heap");
    let heap_start = (heap_pfn << PAGE_SHIFT) as usize;
    let heap_size = (heap_pages as usize) * PAGE_SIZE;
    HEAP.lock().init(heap_start as *mut u8, heap_size);

    let info = MemInfo {
        nr_pages,
        initially_mapped: limit,
        newly_mapped,
        tables_made,
        frames_total: count,
        frames_free: frames.free_frames(),
        heap_start,
        heap_size,
    };
    FRAMES.with(|f| *f = Some(frames));

    // A guard page under the stack: an overflow faults instead of corrupting the bss.
    let guard = addr_of!(boot::boot_stack_guard) as u64;
    if let Err(e) = hypercall::update_va_mapping(guard, 0, abi::uvmf::INVLPG) {
        crate::println!("warning: cannot unmap the stack guard page: {e}");
    }
    info
}

/// One free frame (its PFN; mapped at PFN << 12).
pub fn alloc_frame() -> Option<u64> {
    FRAMES.with(|f| f.as_mut()?.alloc())
}

pub fn free_frame(pfn: u64) {
    FRAMES.with(|f| {
        if let Some(f) = f.as_mut() {
            f.free(pfn, 1)
                .expect("freeing a frame that is not allocated");
        }
    })
}

/// `n` contiguous free frames (the first one's PFN).
pub fn alloc_frames(n: u64) -> Option<u64> {
    FRAMES.with(|f| f.as_mut()?.alloc_contiguous(n))
}

/// Gives back `n` frames from `pfn` (from [`alloc_frames`]).
pub fn free_frames_at(pfn: u64, n: u64) {
    FRAMES.with(|f| {
        if let Some(f) = f.as_mut() {
            f.free(pfn, n)
                .expect("freeing frames that are not allocated");
        }
    })
}

pub fn free_frames() -> u64 {
    FRAMES.with(|f| f.as_ref().map_or(0, |f| f.free_frames()))
}

/// (size, used) of the heap in bytes.
pub fn heap_usage() -> (usize, usize) {
    let h = HEAP.lock();
    (h.size(), h.used())
}
