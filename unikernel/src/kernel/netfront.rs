//! The guest's netfront devices: connected once at boot, for the domain's lifetime, to the
//! backends the toolstack created (`device/vif/<n>`), and handed to FromNetfront/ToNetfront as
//! [`NetDevice`]s. Both elements of a router — and the routers that come later — share one
//! device: its pages and grants are made once here and never revoked.
//!
//! Memory per device: 2 ring pages, [`RX_BUFFERS`] receive pages (netback copies a frame to
//! offset 0 of a whole page) and [`TX_BUFFERS`] transmit half pages (a frame of up to 1514 bytes
//! fits 2048; netback maps the page read-only and reads `offset..offset+size`).

use alloc::alloc::{alloc_zeroed, Layout};
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;

use elements::batch::TxOutcome;
use elements::platform::NetDevice;
use elements::{Batch, PacketPool};

use super::cell::GuestCell;
use super::events::{self, EvtchnChannel};
use super::{gnttab, mm, time};
use crate::abi::{PAGE_SHIFT, PAGE_SIZE};
use crate::arch::hypercall;
use crate::netfront::device::{Buffer, Netif, Stats, TxError};
use crate::netfront::xenbus::{self, Step, VifInfo};
use crate::xenstore::{Client, Errno, Error, TX_NONE};

/// Receive buffers posted per device (the ring has 256 slots).
pub const RX_BUFFERS: usize = 128;
/// Transmit buffers per device (two per page).
pub const TX_BUFFERS: usize = 128;
/// Bytes of one TX buffer.
pub const TX_BUFFER_SIZE: usize = PAGE_SIZE / 2;
/// Pages one device takes.
pub const PAGES_PER_DEVICE: usize = 2 + RX_BUFFERS + TX_BUFFERS / 2;
/// How long to wait for the backends to connect.
pub const CONNECT_TIMEOUT_NS: u64 = 20_000_000_000;

type Xs = Client<super::ThreadChannel>;

pub struct Netfront {
    pub id: u32,
    pub info: VifInfo,
    pub port: u32,
    nif: Netif<EvtchnChannel>,
    /// Open handles (elements holding the device).
    users: u32,
}

enum Slot {
    Up(Rc<RefCell<Netfront>>),
    Failed(String),
}

static DEVICES: GuestCell<BTreeMap<u32, Slot>> = GuestCell::new(BTreeMap::new());

/// Pages from the frame allocator while it has some, else from the heap.
#[derive(Default)]
struct PageSource {
    frames: usize,
    heap: usize,
}

impl PageSource {
    fn page(&mut self) -> Result<*mut u8, String> {
        if let Some(pfn) = mm::alloc_frame() {
            let va = (pfn << PAGE_SHIFT) as *mut u8;
            // SAFETY: a free frame, mapped 1:1.
            unsafe { core::ptr::write_bytes(va, 0, PAGE_SIZE) };
            self.frames += 1;
            return Ok(va);
        }
        let layout = Layout::from_size_align(PAGE_SIZE, PAGE_SIZE).expect("page layout");
        // SAFETY: non-zero size.
        let va = unsafe { alloc_zeroed(layout) };
        if va.is_null() {
            return Err(format!(
                "out of memory after {} pages (each device needs {PAGES_PER_DEVICE})",
                self.frames + self.heap
            ));
        }
        self.heap += 1;
        Ok(va)
    }
}

fn read(xs: &mut Xs, path: &str) -> Result<Vec<u8>, String> {
    xs.read(TX_NONE, path)
        .map_err(|e| format!("read {path}: {e}"))
}

/// Everything up to writing `state` = 4: pages, grants, event channel, Xenstore keys.
fn setup(xs: &mut Xs, id: u32) -> Result<Netfront, String> {
    let fe = xenbus::frontend_dir(id);
    let info = VifInfo::parse(
        &read(xs, &format!("{fe}/backend"))?,
        &read(xs, &format!("{fe}/backend-id"))?,
        &read(xs, &format!("{fe}/mac"))?,
    )?;
    let be = info.backend_id;
    let grant = |va: *const u8, ro: bool| {
        gnttab::grant_page(be, va, ro).map_err(|e| format!("granting a page: {e}"))
    };
    let mut src = PageSource::default();
    let tx_page = src.page()?;
    let rx_page = src.page()?;
    let tx_ring_ref = grant(tx_page, false)?;
    let rx_ring_ref = grant(rx_page, false)?;
    let mut rx_bufs = Vec::with_capacity(RX_BUFFERS);
    for _ in 0..RX_BUFFERS {
        let va = src.page()?;
        rx_bufs.push(Buffer {
            ptr: va,
            len: PAGE_SIZE,
            gref: grant(va, false)?,
            offset: 0,
        });
    }
    let mut tx_bufs = Vec::with_capacity(TX_BUFFERS);
    for _ in 0..TX_BUFFERS.div_ceil(2) {
        let va = src.page()?;
        // Netback only reads what we send.
        let gref = grant(va, true)?;
        for half in 0..2 {
            if tx_bufs.len() < TX_BUFFERS {
                tx_bufs.push(Buffer {
                    // SAFETY: within the page.
                    ptr: unsafe { va.add(half * TX_BUFFER_SIZE) },
                    len: TX_BUFFER_SIZE,
                    gref,
                    offset: (half * TX_BUFFER_SIZE) as u16,
                });
            }
        }
    }
    let port = hypercall::evtchn_alloc_unbound(be)
        .map_err(|e| format!("EVTCHNOP_alloc_unbound for domain {be}: error {e}"))?;
    events::unmask(port);
    // SAFETY: the pages are ours for the domain's lifetime, shared only with the backend.
    let nif = unsafe { Netif::new(tx_page, rx_page, rx_bufs, tx_bufs, EvtchnChannel { port }) };
    let keys = xenbus::connect_keys(tx_ring_ref, rx_ring_ref, port);
    xs.transaction(|xs, tx| {
        for (k, v) in &keys {
            xs.write(tx, &format!("{fe}/{k}"), v.as_bytes())?;
        }
        Ok(())
    })
    .map_err(|e| format!("writing {fe}: {e}"))?;
    crate::println!(
        "netfront {id}: mac {} backend {} (domain {be}); rings tx {tx_ring_ref} rx {rx_ring_ref}, \
         event channel {port}; {} pages ({} KiB: {} from the frame allocator, {} from the heap), \
         {RX_BUFFERS} rx buffers posted, {TX_BUFFERS} tx buffers",
        mac_str(&info.mac),
        info.backend,
        src.frames + src.heap,
        (src.frames + src.heap) * 4,
        src.frames,
        src.heap,
    );
    Ok(Netfront {
        id,
        info,
        port,
        nif,
        users: 0,
    })
}

fn mac_str(m: &[u8; 6]) -> String {
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        m[0], m[1], m[2], m[3], m[4], m[5]
    )
}

/// Connects every vif the toolstack created. Failures are logged and remembered: the elements
/// that ask for such a device get the reason.
pub fn connect_all(xs: &mut Xs, own_domid: u16) {
    let ids: Vec<u32> = match xs.directory(TX_NONE, "device/vif") {
        Ok(v) => v.iter().filter_map(|s| s.parse().ok()).collect(),
        Err(Error::Errno(Errno::ENOENT)) => Vec::new(),
        Err(e) => {
            crate::println!("netfront: cannot list device/vif: {e}");
            return;
        }
    };
    // Vifs on the ClickOS fast path are not netfront's (netback stays in InitWait).
    let ids: Vec<u32> = ids
        .into_iter()
        .filter(|&id| !super::fastpath::claimed(id))
        .collect();
    if ids.is_empty() {
        crate::println!("netfront: no vif");
        return;
    }
    match gnttab::init() {
        Ok(n) => crate::println!("gnttab: {n} entries"),
        Err(e) => {
            crate::println!("gnttab: {e}");
            DEVICES.with(|d| {
                for id in &ids {
                    d.insert(*id, Slot::Failed(format!("no grant table: {e}")));
                }
            });
            return;
        }
    }
    match gnttab::self_test(own_domid) {
        Ok(()) => crate::println!("gnttab: self-test ok (grant, map, in use, unmap, end)"),
        Err(e) => crate::println!("gnttab: self-test FAILED: {e}"),
    }
    let t0 = time::now();
    let mut pending: Vec<Netfront> = Vec::new();
    for &id in &ids {
        match setup(xs, id) {
            Ok(nf) => pending.push(nf),
            Err(e) => {
                crate::println!("netfront {id}: {e}");
                DEVICES.with(|d| d.insert(id, Slot::Failed(e)));
            }
        }
    }
    // Every frontend is Connected: wait for each backend (bounded).
    let deadline = t0 + CONNECT_TIMEOUT_NS;
    for nf in pending {
        let path = format!("{}/state", nf.info.backend);
        let outcome = loop {
            let state = match xs.read(TX_NONE, &path) {
                Ok(v) => Some(v),
                Err(Error::Errno(Errno::ENOENT)) => None,
                Err(e) => break Err(format!("read {path}: {e}")),
            };
            match xenbus::backend_step(state.as_deref()) {
                Step::Connected => break Ok(()),
                Step::Failed(e) => break Err(e),
                Step::Wait => {}
            }
            if time::now() >= deadline {
                break Err(format!(
                    "the backend did not connect within {} s ({path} = {:?})",
                    CONNECT_TIMEOUT_NS / 1_000_000_000,
                    state.map(|s| String::from_utf8_lossy(&s).into_owned())
                ));
            }
            // A 5 ms pause (the poll's own timeout ends it; the backend does not signal).
            events::poll(&[nf.port], Some(time::now() + 5_000_000));
        };
        let id = nf.id;
        match outcome {
            Ok(()) => {
                crate::println!(
                    "netfront {id}: connected ({} ms after the first write)",
                    (time::now() - t0) / 1_000_000
                );
                DEVICES.with(|d| d.insert(id, Slot::Up(Rc::new(RefCell::new(nf)))));
            }
            Err(e) => {
                crate::println!("netfront {id}: {e}");
                DEVICES.with(|d| d.insert(id, Slot::Failed(e)));
            }
        }
    }
    let (size, used) = mm::heap_usage();
    let (free_refs, refs) = gnttab::usage();
    crate::println!(
        "netfront: after connecting: heap {} KiB used of {} KiB, {} frames free, grant refs \
         {} free of {refs}",
        used / 1024,
        size / 1024,
        mm::free_frames(),
        free_refs
    );
}

/// Device `id` for an element; FromNetfront(N) and ToNetfront(N) get the same device.
pub fn device(id: u32) -> Result<Box<dyn NetDevice>, String> {
    let dev = DEVICES.with(|d| match d.get(&id) {
        Some(Slot::Up(nf)) => Ok(nf.clone()),
        Some(Slot::Failed(e)) => Err(format!("netfront {id}: {e}")),
        None => Err(format!(
            "no network device {id}: the domain has no vif {id} (xl config: vif = [...])"
        )),
    })?;
    dev.borrow_mut().users += 1;
    Ok(Box::new(Handle { dev }))
}

/// The event channel of device `id` (the router using it sleeps on it), if connected.
pub fn port(id: u32) -> Option<u32> {
    DEVICES.with(|d| match d.get(&id) {
        Some(Slot::Up(nf)) => Some(nf.borrow().port),
        _ => None,
    })
}

/// Counters of every connected device, one line each.
pub fn report() -> Vec<String> {
    DEVICES.with(|d| {
        d.values()
            .filter_map(|s| match s {
                Slot::Up(nf) => Some(stats_line(&nf.borrow())),
                Slot::Failed(_) => None,
            })
            .collect()
    })
}

fn stats_line(nf: &Netfront) -> String {
    let s: Stats = nf.nif.stats;
    format!(
        "netfront {}: rx {} packets {} bytes, errors {}, bad {}; tx {} packets {} bytes, \
         errors {}, bad {}, ring full {}, bad size {}; bad indices {}; notifies {}",
        nf.id,
        s.rx_packets,
        s.rx_bytes,
        s.rx_errors,
        s.rx_bad,
        s.tx_packets,
        s.tx_bytes,
        s.tx_errors,
        s.tx_bad,
        s.tx_full,
        s.tx_bad_size,
        s.bad_index,
        s.notifies
    )
}

/// One element's hold on a device. (The router thread that uses it sleeps on the device's
/// port: `click::GuestPlatform::net_device` records it.)
struct Handle {
    dev: Rc<RefCell<Netfront>>,
}

impl NetDevice for Handle {
    fn receive(&mut self, pool: &mut PacketPool, out: &mut Batch, max: usize) -> usize {
        let mut d = self.dev.borrow_mut();
        // Before looking at the ring, so that an event for what we are about to miss stays.
        events::clear_pending(d.port);
        d.nif.receive(max, |data| out.push(pool.make_from(data)))
    }

    fn transmit(&mut self, pool: &mut PacketPool, batch: &mut Batch) -> usize {
        let mut d = self.dev.borrow_mut();
        let sent = batch.transmit_with(pool, |p| match d.nif.transmit(p.data()) {
            Ok(()) => TxOutcome::Sent,
            Err(TxError::Full) => TxOutcome::Full,
            // Too short or too long: it leaves the router unsent.
            Err(TxError::BadSize(_)) => TxOutcome::Refused,
        });
        d.nif.flush_tx();
        sent
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        let mut d = self.dev.borrow_mut();
        d.users -= 1;
        if d.users == 0 {
            crate::println!("{}", stats_line(&d));
        }
    }
}
