//! The fast path in the guest: at boot, before netfront, every vif whose backend directory offers
//! `feature-clickos-fast` is connected to `clickos-switchd`'s rings instead of Linux netback —
//! the ref page and the ring pages dom0 granted are mapped with `GNTTABOP_map_grant_ref` over
//! pages of the heap (their own frames stay allocated and unused), and the event channel dom0
//! allocated is bound with `EVTCHNOP_bind_interdomain`. The data path is
//! [`crate::fastpath::FastDevice`]. Netback is left in InitWait: the guest never writes `state`
//! for such a vif (netback would otherwise look for netif rings that do not exist). A vif
//! without the feature, or whose fast setup fails, is left to netfront.

use alloc::alloc::{alloc_zeroed, Layout};
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;

use elements::platform::NetDevice;
use elements::{Batch, PacketPool};
use netback_netmap::proto::{self, RefPage};
use vale::ring::Geometry;

use super::cell::GuestCell;
use super::events::{self, EvtchnChannel};
use crate::abi::{evtchnop, PAGE_SIZE};
use crate::arch::hypercall;
use crate::fastpath::{FastDevice, FastNodes};
use crate::gnttab::{gntmap, op, MapGrantRef, GNTST_OKAY};
use crate::xenstore::{Client, Errno, Error, TX_NONE};

/// Most pages per ring the guest maps (64 × 2048-byte rings need 33).
pub const MAX_PAGES_PER_RING: usize = 129;

struct Fast {
    id: u32,
    port: u32,
    dev: FastDevice<EvtchnChannel>,
    /// The ref page: its `alive` byte is cleared when dom0's backend lets go of the pages.
    ref_words: *const [u32; PAGE_SIZE / 4],
    users: u32,
}

static DEVICES: GuestCell<BTreeMap<u32, Rc<RefCell<Fast>>>> = GuestCell::new(BTreeMap::new());

/// `struct evtchn_bind_interdomain`.
#[repr(C)]
struct BindInterdomain {
    remote_dom: u16,
    remote_port: u32,
    local_port: u32,
}

fn bind_interdomain(remote_dom: u16, remote_port: u32) -> Result<u32, String> {
    let mut b = BindInterdomain {
        remote_dom,
        remote_port,
        local_port: 0,
    };
    // SAFETY: evtchn_bind_interdomain, 12 bytes.
    let r = unsafe { hypercall::event_channel_op(evtchnop::BIND_INTERDOMAIN, &mut b) };
    if r < 0 {
        return Err(format!(
            "EVTCHNOP_bind_interdomain(dom {remote_dom}, port {remote_port}): error {r}"
        ));
    }
    Ok(b.local_port)
}

/// `struct mmuext_op` (24 bytes: cmd, then two 8-byte argument unions).
#[repr(C)]
struct MmuextOp {
    cmd: u32,
    _pad: u32,
    arg1: u64,
    arg2: u64,
}
const MMUEXT_TLB_FLUSH_LOCAL: u32 = 6;
const DOMID_SELF: u64 = 0x7FF0;

/// Flushes this vCPU's TLB. Needed after mapping grants over pages we had touched: Xen replaces
/// the PTEs but does not flush a translation this vCPU may still cache, and reads through it
/// would see the old (zeroed) frame — measured here: the ref page read back as zeros.
pub fn flush_tlb_local() -> Result<(), String> {
    let mut op = MmuextOp {
        cmd: MMUEXT_TLB_FLUSH_LOCAL,
        _pad: 0,
        arg1: 0,
        arg2: 0,
    };
    let mut done: u32 = 0;
    // SAFETY: one mmuext_op for ourselves; `done` receives the count.
    let r = unsafe {
        hypercall::hypercall(
            crate::abi::hypercall::MMUEXT_OP,
            &mut op as *mut MmuextOp as u64,
            1,
            &mut done as *mut u32 as u64,
            DOMID_SELF,
            0,
        )
    };
    if r < 0 {
        return Err(format!("MMUEXT_TLB_FLUSH_LOCAL: error {r}"));
    }
    Ok(())
}

/// `pages` zeroed, contiguous, page-aligned heap pages (mapped 1:1): the addresses grants are
/// mapped at. Never freed: the mappings last for the domain's lifetime.
fn heap_pages(pages: usize) -> Result<*mut u8, String> {
    let layout = Layout::from_size_align(pages * PAGE_SIZE, PAGE_SIZE)
        .map_err(|_| String::from("bad layout"))?;
    // SAFETY: non-zero size.
    let p = unsafe { alloc_zeroed(layout) };
    if p.is_null() {
        return Err(format!("no memory for {pages} pages"));
    }
    Ok(p)
}

/// Maps `refs` of domain `dom` at consecutive pages from `va`, in one hypercall.
fn map_at(va: *mut u8, dom: u16, refs: &[u32]) -> Result<(), String> {
    let mut ops: Vec<MapGrantRef> = refs
        .iter()
        .enumerate()
        .map(|(k, &r)| MapGrantRef {
            host_addr: va as u64 + (k * PAGE_SIZE) as u64,
            flags: gntmap::HOST_MAP,
            r#ref: r,
            dom,
            ..MapGrantRef::default()
        })
        .collect();
    // SAFETY: `ops.len()` gnttab_map_grant_ref structs; every host_addr is a page of ours whose
    // PTE Xen replaces.
    let r =
        unsafe { hypercall::grant_table_op(op::MAP_GRANT_REF, ops.as_mut_ptr(), ops.len() as u32) };
    if let Some((k, bad)) = ops.iter().enumerate().find(|(_, m)| m.status != GNTST_OKAY) {
        return Err(format!(
            "GNTTABOP_map_grant_ref(dom {dom}, ref {}): error {r}, status {} (page {k} of {})",
            bad.r#ref,
            bad.status,
            refs.len()
        ));
    }
    if r < 0 {
        return Err(format!("GNTTABOP_map_grant_ref: error {r}"));
    }
    flush_tlb_local()
}

type Xs<C> = Client<C>;

fn read_opt<C: crate::events::Channel>(
    xs: &mut Xs<C>,
    path: &str,
) -> Result<Option<Vec<u8>>, String> {
    match xs.read(TX_NONE, path) {
        Ok(v) => Ok(Some(v)),
        Err(Error::Errno(Errno::ENOENT)) => Ok(None),
        Err(e) => Err(format!("read {path}: {e}")),
    }
}

/// Maps and binds what the backend published for vif `id`.
fn connect(id: u32, backend_id: u16, n: FastNodes) -> Result<Fast, String> {
    let ref_va = heap_pages(1)?;
    map_at(ref_va, backend_id, &[n.ref_page])?;
    let words = ref_va as *const [u32; PAGE_SIZE / 4];
    // SAFETY: the ref page is mapped for the domain's lifetime.
    let rp = RefPage::parse(unsafe { &*words }, MAX_PAGES_PER_RING)
        .map_err(|e| format!("ref page {}: {e:?}", n.ref_page))?;
    if (rp.nslots, rp.buf_size) != (n.nslots, n.buf_size) {
        return Err(format!(
            "ring-geometry {} x {} disagrees with the ref page's {} x {}",
            n.nslots, n.buf_size, rp.nslots, rp.buf_size
        ));
    }
    let pages = rp.pages;
    let to_refs: Vec<u32> = (0..pages).map(|k| rp.to_guest_ref(k)).collect();
    let from_refs: Vec<u32> = (0..pages).map(|k| rp.from_guest_ref(k)).collect();
    let to_guest = heap_pages(pages)?;
    let from_guest = heap_pages(pages)?;
    map_at(to_guest, backend_id, &to_refs)?;
    map_at(from_guest, backend_id, &from_refs)?;
    let port = bind_interdomain(backend_id, n.event_channel)?;
    events::unmask(port);
    let geo = Geometry::new(rp.nslots, rp.buf_size);
    if geo.region_size() > pages * PAGE_SIZE {
        return Err(String::from("rings larger than their pages"));
    }
    // SAFETY: both regions are `pages` mapped pages (≥ the ring size), for the domain's
    // lifetime.
    let dev = unsafe { FastDevice::attach(to_guest, from_guest, geo, EvtchnChannel { port }) }
        .map_err(|e| format!("ring header: {e:?}"))?;
    crate::println!(
        "fastpath {id}: rings {} x {} bytes ({} pages each) from domain {backend_id}, \
         ref page {}, event channel {} -> local port {port}",
        rp.nslots,
        rp.buf_size,
        pages,
        n.ref_page,
        n.event_channel
    );
    Ok(Fast {
        id,
        port,
        dev,
        ref_words: words,
        users: 0,
    })
}

/// Connects every vif whose backend offers the fast path; returns the vif ids it took (netfront
/// must leave them alone). Failures fall back to netfront, with the reason printed.
pub fn connect_all<C: crate::events::Channel>(xs: &mut Xs<C>) -> Vec<u32> {
    let ids: Vec<u32> = match xs.directory(TX_NONE, "device/vif") {
        Ok(v) => v.iter().filter_map(|s| s.parse().ok()).collect(),
        Err(_) => return Vec::new(),
    };
    let mut taken = Vec::new();
    for id in ids {
        let fe = format!("device/vif/{id}");
        let r = (|| -> Result<Option<Fast>, String> {
            let backend = read_opt(xs, &format!("{fe}/backend"))?.ok_or("no backend node")?;
            let backend = String::from(String::from_utf8_lossy(&backend).trim_end_matches('\0'));
            let bid = read_opt(xs, &format!("{fe}/backend-id"))?.ok_or("no backend-id")?;
            let bid: u16 = proto::parse_u32(&String::from_utf8_lossy(&bid))
                .and_then(|d| u16::try_from(d).ok())
                .ok_or("bad backend-id")?;
            let nodes = FastNodes::parse(
                read_opt(xs, &format!("{backend}/{}", proto::FEATURE_NODE))?.as_deref(),
                read_opt(xs, &format!("{backend}/{}", proto::REF_NODE))?.as_deref(),
                read_opt(xs, &format!("{backend}/{}", proto::EVTCHN_NODE))?.as_deref(),
                read_opt(xs, &format!("{backend}/{}", proto::GEOMETRY_NODE))?.as_deref(),
            )?;
            match nodes {
                None => Ok(None),
                Some(n) => connect(id, bid, n).map(Some),
            }
        })();
        match r {
            Ok(Some(f)) => {
                DEVICES.with(|d| d.insert(id, Rc::new(RefCell::new(f))));
                taken.push(id);
            }
            Ok(None) => crate::println!("fastpath {id}: not offered by the backend: netif"),
            Err(e) => crate::println!("fastpath {id}: {e}; falling back to netif"),
        }
    }
    taken
}

/// Whether vif `id` runs on the fast path.
pub fn claimed(id: u32) -> bool {
    DEVICES.with(|d| d.contains_key(&id))
}

/// Device `id` and its event port (the router sleeps on it), if it is on the fast path.
pub fn device(id: u32) -> Option<(Box<dyn NetDevice>, u32)> {
    let dev = DEVICES.with(|d| d.get(&id).cloned())?;
    let port = {
        let mut f = dev.borrow_mut();
        f.users += 1;
        f.port
    };
    Some((Box::new(Handle { dev }), port))
}

fn stats_line(f: &Fast) -> String {
    let s = f.dev.stats;
    format!(
        "fastpath {}: rx {} packets {} bytes; tx {} packets {} bytes, ring full {}, too big {}; \
         kicks {}; ring errors {}",
        f.id,
        s.rx_packets,
        s.rx_bytes,
        s.tx_packets,
        s.tx_bytes,
        s.tx_full,
        s.tx_too_big,
        s.kicks,
        s.ring_errors
    )
}

/// Counters of every fast-path device, one line each.
pub fn report() -> Vec<String> {
    DEVICES.with(|d| d.values().map(|f| stats_line(&f.borrow())).collect())
}

struct Handle {
    dev: Rc<RefCell<Fast>>,
}

impl NetDevice for Handle {
    fn receive(&mut self, pool: &mut PacketPool, out: &mut Batch, max: usize) -> usize {
        let mut f = self.dev.borrow_mut();
        // Before looking at the ring: an event for a frame we are about to miss stays pending.
        events::clear_pending(f.port);
        // SAFETY: the ref page stays mapped.
        if !RefPage::alive(unsafe { &*f.ref_words }) {
            return 0;
        }
        f.dev.receive(max, |d| out.push(pool.make_from(d)))
    }

    fn transmit(&mut self, pool: &mut PacketPool, batch: &mut Batch) -> usize {
        let mut f = self.dev.borrow_mut();
        let pkts: Vec<_> = batch.drain().collect();
        let mut sent = 0;
        let mut rest = pkts.into_iter();
        for p in rest.by_ref() {
            if f.dev.transmit(p.data()) {
                sent += 1;
                pool.recycle(p);
            } else {
                batch.push(p);
                break;
            }
        }
        for p in rest {
            batch.push(p);
        }
        f.dev.flush();
        sent
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        let mut f = self.dev.borrow_mut();
        f.users -= 1;
        if f.users == 0 {
            crate::println!("{}", stats_line(&f));
        }
    }
}
