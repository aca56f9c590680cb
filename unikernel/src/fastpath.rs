//! The guest's side of the ClickOS fast path, in plain Rust: when a vif's backend directory
//! offers `feature-clickos-fast` (`clickos-switchd` attached it), the guest maps the two rings
//! dom0 granted (the [`vale::ring`] layout) and moves packets by copying into a slot and
//! advancing an index — no grant operation per packet, no netback. Otherwise the vif uses the
//! standard netif path ([`crate::netfront`]).
//!
//! - [`FastNodes`]: what the backend published, read and checked before anything is mapped;
//! - [`FastDevice`]: the data path over the mapped rings — burst receive from the "to guest"
//!   ring, transmit into the "from guest" ring, a notification only when the switch said it is
//!   asleep (its `*_wants_kick` flag), and a request for one when this side runs dry.
//!
//! dom0 is the guest's backend, but the guest does not fault on anything it writes either:
//! indices are validated by the ring code (a bad one disables the device and is counted),
//! lengths are clamped, and the geometry must match the ref page the guest checked.
//! `kernel::fastpath` does the mapping (`GNTTABOP_map_grant_ref`) and the event channel.

use alloc::string::String;

use netback_netmap::proto;
use vale::ring::{Geometry, Ring, RingError};

use crate::events::Channel;

/// The fast path's Xenstore nodes of one vif, checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FastNodes {
    pub ref_page: u32,
    pub event_channel: u32,
    pub nslots: u32,
    pub buf_size: u32,
}

impl FastNodes {
    /// From the values of `feature-clickos-fast`, `clickos-fast/ref`, `clickos-fast/event-channel`
    /// and `clickos-fast/ring-geometry` (None for a node that does not exist). `Ok(None)`: no
    /// fast path offered (use netif).
    pub fn parse(
        feature: Option<&[u8]>,
        ref_page: Option<&[u8]>,
        evtchn: Option<&[u8]>,
        geometry: Option<&[u8]>,
    ) -> Result<Option<FastNodes>, String> {
        let text = |v: &[u8]| {
            String::from(
                core::str::from_utf8(v)
                    .unwrap_or("")
                    .trim_end_matches('\0')
                    .trim(),
            )
        };
        match feature.map(text).as_deref() {
            None | Some("0") | Some("") => return Ok(None),
            Some("1") => {}
            Some(other) => return Err(alloc::format!("feature-clickos-fast is {other:?}")),
        }
        let need = |v: Option<&[u8]>, what: &str| {
            v.map(text)
                .ok_or_else(|| alloc::format!("clickos-fast/{what} missing"))
        };
        let r = need(ref_page, "ref")?;
        let e = need(evtchn, "event-channel")?;
        let g = need(geometry, "ring-geometry")?;
        let ref_page = proto::parse_u32(&r).ok_or_else(|| alloc::format!("bad ref {r:?}"))?;
        let event_channel =
            proto::parse_u32(&e).ok_or_else(|| alloc::format!("bad event-channel {e:?}"))?;
        let (nslots, buf_size) =
            proto::parse_geometry(&g).ok_or_else(|| alloc::format!("bad ring-geometry {g:?}"))?;
        if !nslots.is_power_of_two() || nslots < 2 || !(64..=65535).contains(&buf_size) {
            return Err(alloc::format!("unusable ring-geometry {g:?}"));
        }
        Ok(Some(FastNodes {
            ref_page,
            event_channel,
            nslots,
            buf_size,
        }))
    }
}

/// Counters of a fast-path device.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FastStats {
    pub rx_packets: u64,
    pub rx_bytes: u64,
    pub tx_packets: u64,
    pub tx_bytes: u64,
    /// Frames not sent now: the ring to the switch was full (the caller keeps them).
    pub tx_full: u64,
    /// Frames refused: longer than a ring buffer.
    pub tx_too_big: u64,
    /// Notifications sent to the switch.
    pub kicks: u64,
    /// The switch broke the ring protocol (the device is then disabled).
    pub ring_errors: u64,
}

/// One vif on the fast path: `rx` is the "to guest" ring (the switch produces), `tx` the
/// "from guest" ring (this side produces).
pub struct FastDevice<C: Channel> {
    rx: Ring,
    tx: Ring,
    chan: C,
    /// Frames pushed into `tx` and not yet published.
    unpublished: u32,
    pub broken: Option<RingError>,
    pub stats: FastStats,
}

// SAFETY: the rings point into pages mapped for the device's lifetime; one vCPU.
unsafe impl<C: Channel + Send> Send for FastDevice<C> {}

impl<C: Channel> FastDevice<C> {
    /// Attaches to the two rings dom0 formatted, checking their headers against `geo`.
    ///
    /// # Safety
    /// Both pointers must address `geo.region_size()` mapped bytes for the device's lifetime.
    pub unsafe fn attach(
        to_guest: *mut u8,
        from_guest: *mut u8,
        geo: Geometry,
        chan: C,
    ) -> Result<Self, RingError> {
        // SAFETY: per the contract.
        let (rx, tx) = unsafe {
            (
                Ring::attach(to_guest, geo, false)?,
                Ring::attach(from_guest, geo, true)?,
            )
        };
        Ok(FastDevice {
            rx,
            tx,
            chan,
            unpublished: 0,
            broken: None,
            stats: FastStats::default(),
        })
    }

    pub fn channel(&mut self) -> &mut C {
        &mut self.chan
    }

    fn fail(&mut self, e: RingError) {
        if self.broken.is_none() {
            self.stats.ring_errors += 1;
            self.broken = Some(e);
        }
    }

    fn kick(&mut self) {
        self.stats.kicks += 1;
        self.chan.notify();
    }

    /// Hands up to `max` received frames to `f`, then frees their slots. When nothing is
    /// waiting, asks the switch for a notification (and re-checks, so that a frame published
    /// meanwhile is not missed): a guest that sleeps is woken by the next frame, a busy one
    /// costs the switch no notifications.
    pub fn receive(&mut self, max: usize, mut f: impl FnMut(&[u8])) -> usize {
        if self.broken.is_some() || max == 0 {
            return 0;
        }
        let mut n = match self.rx.pending() {
            Ok(n) => n,
            Err(e) => {
                self.fail(e);
                return 0;
            }
        };
        if n == 0 {
            match self.rx.consumer_sleep() {
                Ok(0) => return 0,
                Ok(m) => n = m,
                Err(e) => {
                    self.fail(e);
                    return 0;
                }
            }
        }
        self.rx.consumer_awake();
        let n = n.min(max as u32);
        for k in 0..n {
            self.rx.peek(k, |d| {
                self.stats.rx_bytes += d.len() as u64;
                f(d)
            });
        }
        self.stats.rx_packets += n as u64;
        if self.rx.release(n) {
            self.kick();
        }
        n as usize
    }

    /// Queues a frame for the switch (visible after [`FastDevice::flush`]). False when the
    /// ring is full (keep the frame and retry) or the device is broken.
    pub fn transmit(&mut self, frame: &[u8]) -> bool {
        if self.broken.is_some() {
            return false;
        }
        if frame.len() > self.tx.geometry().buf_size as usize {
            self.stats.tx_too_big += 1;
            return true; // dropped, not retried
        }
        match self.tx.push(frame) {
            Ok(true) => {
                self.unpublished += 1;
                self.stats.tx_packets += 1;
                self.stats.tx_bytes += frame.len() as u64;
                true
            }
            Ok(false) => {
                self.stats.tx_full += 1;
                // Ask to be told when the switch frees slots (re-checked by the next push).
                if let Err(e) = self.tx.producer_sleep() {
                    self.fail(e);
                }
                false
            }
            Err(e) => {
                self.fail(e);
                false
            }
        }
    }

    /// Publishes queued frames; notifies the switch if it is asleep.
    pub fn flush(&mut self) {
        if self.unpublished == 0 {
            return;
        }
        self.unpublished = 0;
        self.tx.producer_awake();
        if self.tx.publish() {
            self.kick();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use core::cell::Cell;
    use std::rc::Rc;
    use vale::ring::OwnedRegion;
    use vale::switch::Port;

    #[derive(Clone, Default)]
    struct Counting(Rc<Cell<u32>>);
    impl Channel for Counting {
        fn notify(&mut self) {
            self.0.set(self.0.get() + 1);
        }
        fn wait(&mut self, _: Option<u64>) -> bool {
            true
        }
        fn now(&self) -> u64 {
            0
        }
    }

    #[test]
    fn nodes_are_checked() {
        let ok = FastNodes::parse(Some(b"1"), Some(b"8"), Some(b"25\0"), Some(b"64 2048"));
        assert_eq!(
            ok,
            Ok(Some(FastNodes {
                ref_page: 8,
                event_channel: 25,
                nslots: 64,
                buf_size: 2048
            }))
        );
        assert_eq!(FastNodes::parse(None, None, None, None), Ok(None));
        assert_eq!(FastNodes::parse(Some(b"0"), None, None, None), Ok(None));
        assert!(FastNodes::parse(Some(b"1"), None, Some(b"25"), Some(b"64 2048")).is_err());
        assert!(FastNodes::parse(Some(b"1"), Some(b"x"), Some(b"25"), Some(b"64 2048")).is_err());
        assert!(FastNodes::parse(Some(b"1"), Some(b"8"), Some(b"25"), Some(b"63 2048")).is_err());
        assert!(FastNodes::parse(Some(b"1"), Some(b"8"), Some(b"25"), Some(b"64 9")).is_err());
        assert!(FastNodes::parse(Some(b"yes"), Some(b"8"), Some(b"25"), Some(b"64 2048")).is_err());
    }

    /// A switch port over two regions, set up by the function dom0 uses
    /// (`guest_ring_port`), and the guest's device over the same memory.
    fn setup(
        geo: Geometry,
    ) -> (
        Vec<OwnedRegion>,
        vale::switch::RingPort,
        FastDevice<Counting>,
        Counting,
    ) {
        let a = OwnedRegion::new(geo);
        let b = OwnedRegion::new(geo);
        // SAFETY: the regions are returned with the port and device; the tests keep them to
        // the end.
        let p = unsafe { vale::switch::guest_ring_port("guest", a.ptr(), b.ptr(), geo, None) };
        let c = Counting::default();
        let d = unsafe { FastDevice::attach(a.ptr(), b.ptr(), geo, c.clone()) }.unwrap();
        (std::vec![a, b], p, d, c)
    }

    fn frame(n: u8) -> Vec<u8> {
        let mut f = std::vec![n; 60];
        f[0..6].copy_from_slice(&[0x02, 0, 0, 0, 0, 0xaa]);
        f[6..12].copy_from_slice(&[0x02, 0, 0, 0, 0, n]);
        f
    }

    #[test]
    fn frames_flow_both_ways_and_kicks_only_when_asked() {
        let geo = Geometry::new(8, 128);
        let (_r, mut port, mut dev, kicks) = setup(geo);
        // Guest -> switch.
        for n in 0..5 {
            assert!(dev.transmit(&frame(n)));
        }
        dev.flush();
        assert_eq!(kicks.0.get(), 0, "the switch did not ask");
        assert_eq!(port.rx_batch(64).unwrap(), 5);
        assert_eq!(port.rx_frame(3), &frame(3)[..]);
        port.rx_release(5);
        // The switch arms (about to sleep): the next flush kicks.
        assert!(!port.arm().unwrap());
        dev.transmit(&frame(9));
        dev.flush();
        assert_eq!(kicks.0.get(), 1);
        port.disarm();
        // Switch -> guest.
        for n in 0..3 {
            assert!(port.tx(&frame(n)).unwrap());
        }
        port.tx_flush();
        let mut got = Vec::new();
        assert_eq!(dev.receive(64, |d| got.push(d.to_vec())), 3);
        assert_eq!(got, [frame(0), frame(1), frame(2)]);
        // Nothing left: the device asks for a kick, which the switch's publish reports.
        assert_eq!(dev.receive(64, |_| ()), 0);
        assert_eq!(dev.stats.rx_packets, 3);
    }

    #[test]
    fn a_full_ring_keeps_frames_and_recovers() {
        let geo = Geometry::new(4, 128);
        let (_r, mut port, mut dev, _k) = setup(geo);
        for n in 0..4 {
            assert!(dev.transmit(&frame(n)));
        }
        assert!(!dev.transmit(&frame(4)), "full: the caller keeps it");
        dev.flush();
        assert_eq!(dev.stats.tx_full, 1);
        assert_eq!(port.rx_batch(64).unwrap(), 4);
        port.rx_release(4);
        assert!(dev.transmit(&frame(4)));
        assert!(dev.transmit(&[0u8; 129]), "too big: dropped, not retried");
        assert_eq!(dev.stats.tx_too_big, 1);
    }

    #[test]
    fn garbage_from_the_switch_disables_the_device_without_panicking() {
        let geo = Geometry::new(8, 128);
        let (r, _port, mut dev, _k) = setup(geo);
        // The "switch" claims 1000 frames in an 8-slot ring.
        // SAFETY: the region is alive; scribble writes header words only.
        let evil = unsafe { Ring::attach(r[0].ptr(), geo, true) }.unwrap();
        evil.scribble(1000, 0, 0xffff_ffff);
        assert_eq!(dev.receive(64, |_| panic!("no frame may be delivered")), 0);
        assert!(matches!(
            dev.broken,
            Some(RingError::BadProducerIndex { .. })
        ));
        assert_eq!(dev.stats.ring_errors, 1);
        assert!(!dev.transmit(&frame(1)));
        // Lengths are clamped: a sane index with absurd lengths gives buffer-sized frames.
        let (r2, _p2, mut dev2, _k2) = setup(geo);
        let evil2 = unsafe { Ring::attach(r2[0].ptr(), geo, true) }.unwrap();
        evil2.scribble(2, 0, 0xffff_ffff);
        let mut lens = Vec::new();
        assert_eq!(dev2.receive(64, |d| lens.push(d.len())), 2);
        assert_eq!(lens, [128, 128]);
        // A switch that wrote a different geometry is refused at attach.
        let bad = OwnedRegion::new(Geometry::new(16, 128));
        let _ = unsafe { Ring::format(bad.ptr(), Geometry::new(16, 128)) };
        assert!(
            unsafe { FastDevice::attach(bad.ptr(), bad.ptr(), geo, Counting::default()) }.is_err()
        );
    }
}
