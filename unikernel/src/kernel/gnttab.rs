//! The guest's grant table: `GNTTABOP_setup_table` gives the machine frames of the table, which
//! are mapped over pages taken from the heap (their own frames stay allocated and unused); the
//! plain-Rust [`crate::gnttab::GrantTable`] keeps the bookkeeping. Also mapping a foreign
//! domain's grant into our address space (`map_grant_ref`/`unmap_grant_ref`).

use alloc::alloc::{alloc_zeroed, dealloc, Layout};
use alloc::format;
use alloc::string::String;

use super::cell::GuestCell;
use super::mm;
use crate::abi::{self, pte, PAGE_SHIFT, PAGE_SIZE};
use crate::arch::hypercall;
use crate::gnttab::{
    gntmap, op, GrantEntry, GrantError, GrantRef, GrantTable, MapGrantRef, QuerySize, SetupTable,
    UnmapGrantRef, ENTRIES_PER_FRAME, GNTST_OKAY,
};

/// Table frames asked for: 4 × 512 entries, as Mini-OS; two netfronts use ~400.
pub const WANT_FRAMES: u32 = 4;

static TABLE: GuestCell<Option<GrantTable<'static>>> = GuestCell::new(None);

fn page_layout() -> Layout {
    Layout::from_size_align(PAGE_SIZE, PAGE_SIZE).expect("page layout")
}

/// Sets the table up; returns its number of entries. Idempotent.
pub fn init() -> Result<u32, String> {
    if let Some(n) = TABLE.with(|t| t.as_ref().map(|t| t.capacity())) {
        return Ok(n);
    }
    let mut q = QuerySize {
        dom: abi::DOMID_SELF,
        ..QuerySize::default()
    };
    // SAFETY: one gnttab_query_size.
    let r = unsafe { hypercall::grant_table_op(op::QUERY_SIZE, &mut q, 1) };
    if r < 0 || q.status != GNTST_OKAY {
        return Err(format!(
            "GNTTABOP_query_size: error {r}, status {}",
            q.status
        ));
    }
    let n = WANT_FRAMES.min(q.max_nr_frames).max(1);
    let mut frames = [0u64; WANT_FRAMES as usize];
    let mut s = SetupTable {
        dom: abi::DOMID_SELF,
        nr_frames: n,
        status: 0,
        frame_list: frames.as_mut_ptr(),
    };
    // SAFETY: one gnttab_setup_table; frame_list has room for n entries.
    let r = unsafe { hypercall::grant_table_op(op::SETUP_TABLE, &mut s, 1) };
    // The hypercall itself succeeds even when the operation fails: the status tells.
    if r < 0 || s.status != GNTST_OKAY {
        return Err(format!(
            "GNTTABOP_setup_table({n} frames): error {r}, status {}",
            s.status
        ));
    }
    // Contiguous virtual pages from the heap, remapped onto the table's frames.
    let layout = Layout::from_size_align(n as usize * PAGE_SIZE, PAGE_SIZE).expect("layout");
    // SAFETY: non-zero size.
    let va = unsafe { alloc_zeroed(layout) };
    if va.is_null() {
        return Err(String::from("no memory for the grant table mapping"));
    }
    for (i, &mfn) in frames.iter().take(n as usize).enumerate() {
        let page_va = va as u64 + (i * PAGE_SIZE) as u64;
        // SAFETY: the page is ours (heap, never freed); nothing else uses its old mapping.
        let r = unsafe {
            hypercall::update_va_mapping(
                page_va,
                (mfn << PAGE_SHIFT) | pte::L1_PROT | pte::DIRTY,
                abi::uvmf::INVLPG,
            )
        };
        if let Err(e) = r {
            return Err(format!(
                "mapping grant table frame {i} (mfn {mfn:#x}): error {e}"
            ));
        }
    }
    // SAFETY: n frames of 512 eight-byte entries, mapped for the guest's lifetime.
    let entries: &'static [GrantEntry] = unsafe {
        core::slice::from_raw_parts(va as *const GrantEntry, (n * ENTRIES_PER_FRAME) as usize)
    };
    let cap = entries.len() as u32;
    TABLE.with(|t| *t = Some(GrantTable::new(entries)));
    Ok(cap)
}

fn with_table<R>(f: impl FnOnce(&mut GrantTable<'static>) -> R) -> R {
    TABLE.with(|t| f(t.as_mut().expect("grant table not initialised")))
}

/// Grants `domid` access to the page at `va` (a 1:1-mapped page of ours).
pub fn grant_page(domid: u16, va: *const u8, readonly: bool) -> Result<GrantRef, GrantError> {
    let mfn = mm::pfn_to_mfn(va as u64 >> PAGE_SHIFT);
    grant_access(domid, mfn, readonly)
}

/// Grants `domid` access to machine frame `mfn`.
pub fn grant_access(domid: u16, mfn: u64, readonly: bool) -> Result<GrantRef, GrantError> {
    with_table(|t| t.grant_access(domid, mfn, readonly))
}

/// Ends access through `r`; fails (and keeps it granted) while the peer still uses it.
pub fn end_access(r: GrantRef) -> Result<(), GrantError> {
    with_table(|t| t.end_access(r))
}

/// (free references, capacity).
pub fn usage() -> (usize, u32) {
    TABLE.with(|t| t.as_ref().map_or((0, 0), |t| (t.free_refs(), t.capacity())))
}

/// A foreign grant mapped into our address space.
pub struct MappedGrant {
    pub va: *mut u8,
    handle: u32,
}

/// Maps grant `gref` of domain `domid` over a fresh heap page.
pub fn map_grant_ref(domid: u16, gref: GrantRef, readonly: bool) -> Result<MappedGrant, String> {
    // SAFETY: non-zero size.
    let va = unsafe { alloc_zeroed(page_layout()) };
    if va.is_null() {
        return Err(String::from("no memory for a mapping"));
    }
    let mut m = MapGrantRef {
        host_addr: va as u64,
        flags: gntmap::HOST_MAP | if readonly { gntmap::READONLY } else { 0 },
        r#ref: gref,
        dom: domid,
        ..MapGrantRef::default()
    };
    // SAFETY: one gnttab_map_grant_ref; host_addr is a page of ours whose PTE Xen replaces.
    let r = unsafe { hypercall::grant_table_op(op::MAP_GRANT_REF, &mut m, 1) };
    if r < 0 || m.status != GNTST_OKAY {
        // Nothing was mapped: the page is still ours.
        // SAFETY: allocated above with this layout.
        unsafe { dealloc(va, page_layout()) };
        return Err(format!(
            "GNTTABOP_map_grant_ref(dom {domid}, ref {gref}): error {r}, status {}",
            m.status
        ));
    }
    Ok(MappedGrant {
        va,
        handle: m.handle,
    })
}

/// Unmaps a foreign grant and gives the page back to the heap (with its own frame mapped again).
pub fn unmap_grant_ref(m: MappedGrant) -> Result<(), String> {
    let mut u = UnmapGrantRef {
        host_addr: m.va as u64,
        dev_bus_addr: 0,
        handle: m.handle,
        status: 0,
    };
    // SAFETY: one gnttab_unmap_grant_ref for a mapping we made.
    let r = unsafe { hypercall::grant_table_op(op::UNMAP_GRANT_REF, &mut u, 1) };
    if r < 0 || u.status != GNTST_OKAY {
        return Err(format!(
            "GNTTABOP_unmap_grant_ref: error {r}, status {}",
            u.status
        ));
    }
    // Xen leaves the PTE empty: put our own frame back before the heap reuses the page.
    let pfn = m.va as u64 >> PAGE_SHIFT;
    // SAFETY: the VA is ours and nothing maps it now.
    unsafe {
        hypercall::update_va_mapping(
            m.va as u64,
            (mm::pfn_to_mfn(pfn) << PAGE_SHIFT) | pte::L1_PROT,
            abi::uvmf::INVLPG,
        )
        .map_err(|e| format!("restoring the mapping of {:#x}: error {e}", m.va as u64))?;
        dealloc(m.va, page_layout());
    }
    Ok(())
}

/// Grants one of our pages to ourselves, maps that grant at another address, checks that both
/// addresses see the same bytes, then unmaps and ends access. A boot-time check of the whole
/// grant path (setup, grant, map, unmap, end) on the real hypervisor.
pub fn self_test(own_domid: u16) -> Result<(), String> {
    // SAFETY: non-zero size.
    let page = unsafe { alloc_zeroed(page_layout()) };
    if page.is_null() {
        return Err(String::from("no memory"));
    }
    let mut leak = false;
    let result = self_test_on(own_domid, page, &mut leak);
    if !leak {
        // SAFETY: allocated above; no grant or mapping of it is left.
        unsafe { dealloc(page, page_layout()) };
    }
    result
}

fn self_test_on(own_domid: u16, page: *mut u8, leak: &mut bool) -> Result<(), String> {
    let r = grant_page(own_domid, page, false).map_err(|e| format!("{e}"))?;
    let m = match map_grant_ref(own_domid, r, false) {
        Ok(m) => m,
        Err(e) => {
            *leak = end_access(r).is_err();
            return Err(e);
        }
    };
    // SAFETY: both are mapped pages of 4096 bytes.
    let same = unsafe {
        core::ptr::write_volatile(page.add(100), 0xA5);
        core::ptr::write_volatile(m.va.add(200), 0x5A);
        core::ptr::read_volatile(m.va.add(100)) == 0xA5
            && core::ptr::read_volatile(page.add(200)) == 0x5A
    };
    let in_use = with_table(|t| t.in_use(r));
    let refused = end_access(r) == Err(GrantError::InUse(r));
    if let Err(e) = unmap_grant_ref(m) {
        // Still mapped and granted: the page must never be reused.
        *leak = true;
        return Err(e);
    }
    if let Err(e) = end_access(r) {
        *leak = true;
        return Err(format!("after unmap: {e}"));
    }
    if !same {
        return Err(String::from("the mapped grant shows different bytes"));
    }
    if !(in_use && refused) {
        return Err(format!(
            "a mapped grant was not reported in use (in_use {in_use}, end refused {refused})"
        ));
    }
    Ok(())
}
