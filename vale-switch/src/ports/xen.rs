//! ClickOS guests on the fast path: a switch port over the two rings dom0 granted to the guest
//! (`netback-netmap`), with the guest's event channel instead of eventfds.
//!
//! The port is a [`RingPort`] built by [`guest_ring_port`] — the one function that turns a pair
//! of guest-visible regions into a port, used here over granted pages and by the hostile-guest
//! tests over plain memory — so everything the guest writes goes through the same validation as
//! for every other ring peer: indices checked against the ring, lengths clamped, buffers fixed
//! per slot. A guest that breaks the protocol gets its port disabled until it is detached.

use std::boxed::Box;
use std::format;
use std::io;
use std::string::String;
use std::vec::Vec;

use netback_netmap::evtchn::{drain_raw, notify_raw};
use netback_netmap::{Attachment, RingSize, Store};

use crate::ring::{Geometry, RingError};
pub use crate::switch::guest_ring_port;
use crate::switch::{Port, RingPort};

/// A guest vif on the fast path.
pub struct XenGuestPort {
    // Declared first: dropped before the memory it points into.
    inner: RingPort,
    att: Attachment,
    name: String,
    mac: [u8; 6],
}

impl XenGuestPort {
    /// Allocates and grants the rings for vif `domid`.`devid` and publishes them under its
    /// backend directory. The guest finds them when it connects.
    pub fn attach(
        domid: u16,
        devid: u32,
        mac: [u8; 6],
        size: RingSize,
        store: &mut dyn Store,
    ) -> io::Result<XenGuestPort> {
        let geo = Geometry::new(size.nslots, size.buf_size);
        let mut att = Attachment::new(domid, devid, size)?;
        let (fd, port) = (att.event_channel().fd(), att.event_channel().port());
        let name = format!("xen:{domid}.{devid}");
        let kick: Box<dyn FnMut() + Send> = Box::new(move || {
            let _ = notify_raw(fd, port);
        });
        // SAFETY: both regions are `geo.region_size()` bytes of granted pages owned by `att`,
        // which the port outlives (field order).
        let inner =
            unsafe { guest_ring_port(&name, att.to_guest(), att.from_guest(), geo, Some(kick)) };
        att.publish(store)?;
        Ok(XenGuestPort {
            inner,
            att,
            name,
            mac,
        })
    }

    pub fn domid(&self) -> u16 {
        self.att.domid
    }
    pub fn devid(&self) -> u32 {
        self.att.devid
    }
    pub fn mac(&self) -> [u8; 6] {
        self.mac
    }
    pub fn grant_count(&self) -> usize {
        self.att.grant_count()
    }

    /// Removes the Xenstore nodes; the memory, grants and event channel go when the port is
    /// dropped.
    pub fn unpublish(&mut self, store: &mut dyn Store) -> io::Result<()> {
        self.att.unpublish(store)
    }
}

impl Port for XenGuestPort {
    fn rx_batch(&mut self, max: usize) -> Result<usize, RingError> {
        self.inner.rx_batch(max)
    }
    fn rx_frame(&self, k: usize) -> &[u8] {
        self.inner.rx_frame(k)
    }
    fn rx_release(&mut self, n: usize) {
        self.inner.rx_release(n)
    }
    fn tx(&mut self, frame: &[u8]) -> Result<bool, RingError> {
        self.inner.tx(frame)
    }
    fn tx_flush(&mut self) {
        self.inner.tx_flush()
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn arm(&mut self) -> Result<bool, RingError> {
        self.inner.arm()
    }
    fn disarm(&mut self) {
        self.inner.disarm();
        drain_raw(self.att.event_channel().fd());
    }
    fn wake_fds(&self, out: &mut Vec<i32>) {
        out.push(self.att.event_channel().fd());
    }
    fn port_stats(&self, out: &mut Vec<(&'static str, u64)>) {
        out.push(("kicks", self.inner.kicks));
        out.push(("domid", self.att.domid as u64));
        out.push(("grants", self.att.grant_count() as u64));
        out.push(("evtchn", self.att.event_channel().port() as u64));
    }
}
