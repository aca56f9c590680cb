//! One guest's fast-path attachment: the granted ring regions, the ref page, the event channel,
//! and the Xenstore nodes that tell the guest where they are.
//!
//! Order on attach: allocate (everything zeroed), let the caller format the two rings, then
//! [`Attachment::publish`] — the guest can only find the pages once they are valid. On detach:
//! [`Attachment::unpublish`], then drop: the ring mappings go first, then the ref page (whose
//! unmap notification clears `alive` and signals the guest), then the event channel and the
//! gntalloc descriptor. Every resource is owned by one value, so an early return anywhere
//! cannot leak one.

use std::format;
use std::io;
use std::string::String;
use std::vec::Vec;

use crate::evtchn::EventChannel;
use crate::gntalloc::{Gntalloc, GrantedPages, UNMAP_NOTIFY_CLEAR_BYTE, UNMAP_NOTIFY_SEND_EVENT};
use crate::proto;

/// The few Xenstore operations the backend needs; dom0's Xenstore client implements it.
pub trait Store {
    fn write(&mut self, path: &str, value: &str) -> io::Result<()>;
    /// Removes a node and its children; a node already gone is not an error.
    fn remove(&mut self, path: &str) -> io::Result<()>;
}

/// Ring sizes for guests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RingSize {
    pub nslots: u32,
    pub buf_size: u32,
}

impl RingSize {
    pub fn pages(&self) -> usize {
        proto::region_bytes(self.nslots, self.buf_size) / proto::PAGE_SIZE
    }
}

/// The backend directory of a vif: `/local/domain/0/backend/vif/DOMID/DEVID`.
pub fn backend_path(domid: u16, devid: u32) -> String {
    format!("/local/domain/0/backend/vif/{domid}/{devid}")
}

pub struct Attachment {
    pub domid: u16,
    pub devid: u32,
    pub size: RingSize,
    // Field order is drop order: rings, then the ref page (its unmap notification goes out
    // while the event channel is still bound), then the channel, then the gntalloc descriptor.
    to_guest: GrantedPages,
    from_guest: GrantedPages,
    ref_page: GrantedPages,
    evtchn: EventChannel,
    gnt: Gntalloc,
    published: bool,
}

impl Attachment {
    /// Allocates and grants the ref page and both ring regions to `domid`, and an event channel
    /// for it. The regions are zeroed: format them before [`Attachment::publish`].
    pub fn new(domid: u16, devid: u32, size: RingSize) -> io::Result<Attachment> {
        let pages = size.pages();
        if pages > proto::MAX_PAGES_PER_RING {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "rings of {} x {} bytes need {pages} pages each, more than {}",
                    size.nslots,
                    size.buf_size,
                    proto::MAX_PAGES_PER_RING
                ),
            ));
        }
        let gnt = Gntalloc::open()?;
        let evtchn = EventChannel::bind_unbound(domid)?;
        let ref_page = gnt.alloc(domid, 1)?;
        let to_guest = gnt.alloc(domid, pages)?;
        let from_guest = gnt.alloc(domid, pages)?;
        // SAFETY: the ref page is one mapped, page-aligned page of ours.
        let words = unsafe { &mut *(ref_page.ptr() as *mut [u32; proto::PAGE_SIZE / 4]) };
        proto::write_ref_page(
            words,
            size.nslots,
            size.buf_size,
            to_guest.refs(),
            from_guest.refs(),
        );
        ref_page.set_unmap_notify(
            proto::ALIVE_OFFSET,
            UNMAP_NOTIFY_CLEAR_BYTE | UNMAP_NOTIFY_SEND_EVENT,
            evtchn.port(),
        )?;
        Ok(Attachment {
            domid,
            devid,
            size,
            to_guest,
            from_guest,
            ref_page,
            evtchn,
            gnt,
            published: false,
        })
    }

    /// The region dom0 produces into (the guest's receive ring).
    pub fn to_guest(&self) -> *mut u8 {
        self.to_guest.ptr()
    }

    /// The region the guest produces into (dom0 consumes).
    pub fn from_guest(&self) -> *mut u8 {
        self.from_guest.ptr()
    }

    pub fn event_channel(&self) -> &EventChannel {
        &self.evtchn
    }

    pub fn event_channel_mut(&mut self) -> &mut EventChannel {
        &mut self.evtchn
    }

    pub fn ref_page_ref(&self) -> u32 {
        self.ref_page.refs()[0]
    }

    /// Grants held: the ref page and both regions.
    pub fn grant_count(&self) -> usize {
        1 + self.to_guest.refs().len() + self.from_guest.refs().len()
    }

    /// Descriptors held (gntalloc, evtchn): for leak checks.
    pub fn fds(&self) -> [i32; 2] {
        [self.gnt.fd(), self.evtchn.fd()]
    }

    /// Writes the nodes under the backend directory; `feature-clickos-fast` last, so a guest
    /// that sees it finds the rest.
    pub fn publish(&mut self, store: &mut dyn Store) -> io::Result<()> {
        let be = backend_path(self.domid, self.devid);
        store.write(
            &format!("{be}/{}", proto::GEOMETRY_NODE),
            &format!("{} {}", self.size.nslots, self.size.buf_size),
        )?;
        store.write(
            &format!("{be}/{}", proto::REF_NODE),
            &format!("{}", self.ref_page_ref()),
        )?;
        store.write(
            &format!("{be}/{}", proto::EVTCHN_NODE),
            &format!("{}", self.evtchn.port()),
        )?;
        store.write(&format!("{be}/{}", proto::FEATURE_NODE), "1")?;
        self.published = true;
        Ok(())
    }

    /// Removes the nodes (the backend directory may already be gone: libxl removes it on
    /// destroy).
    pub fn unpublish(&mut self, store: &mut dyn Store) -> io::Result<()> {
        if !self.published {
            return Ok(());
        }
        self.published = false;
        unpublish(store, self.domid, self.devid)
    }
}

/// Removes the fast path's nodes of vif `domid`.`devid` (feature flag first, so a guest never
/// sees the flag without the rest).
pub fn unpublish(store: &mut dyn Store, domid: u16, devid: u32) -> io::Result<()> {
    let be = backend_path(domid, devid);
    store.remove(&format!("{be}/{}", proto::FEATURE_NODE))?;
    store.remove(&format!("{be}/{}", proto::DIR))
}

/// Open descriptors of this process that point at gntalloc or evtchn devices (leak checks).
pub fn count_xen_fds() -> io::Result<(usize, usize)> {
    let (mut gnt, mut evt) = (0, 0);
    for e in std::fs::read_dir("/proc/self/fd")? {
        let Ok(e) = e else { continue };
        if let Ok(t) = std::fs::read_link(e.path()) {
            let t: Vec<u8> = t.into_os_string().into_encoded_bytes();
            if t.ends_with(b"gntalloc") {
                gnt += 1;
            } else if t.ends_with(b"evtchn") {
                evt += 1;
            }
        }
    }
    Ok((gnt, evt))
}
