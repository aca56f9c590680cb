//! The learning switch.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use hashbrown::HashMap;

use crate::ring::{Geometry, Ring, RingError};

/// Most frames taken from one port in one pass.
pub const MAX_BURST: usize = 256;

/// A switch port: where frames come from and go to.
pub trait Port {
    /// Makes up to `max` received frames available as `rx_frame(0..n)`; returns n.
    fn rx_batch(&mut self, max: usize) -> Result<usize, RingError>;
    /// Received frame `k` of the current batch.
    fn rx_frame(&self, k: usize) -> &[u8];
    /// Done with the current batch.
    fn rx_release(&mut self, n: usize);
    /// Queues a frame for sending; false when the port cannot take it now (it is dropped).
    fn tx(&mut self, frame: &[u8]) -> Result<bool, RingError>;
    /// Makes queued frames visible to the port's peer (and notifies it if it sleeps).
    fn tx_flush(&mut self);
    fn name(&self) -> &str;

    // ---- sleeping (the defaults suit ports that are simply polled) ------------------------

    /// The switch found nothing to do and is about to sleep: ask to be woken when input
    /// arrives (a ring sets its kick-request flag), then re-check. Returns true when input is
    /// already waiting, so the switch must not sleep.
    fn arm(&mut self) -> Result<bool, RingError> {
        Ok(false)
    }
    /// The switch woke up (or decided not to sleep): withdraw the request and consume the
    /// notification.
    fn disarm(&mut self) {}
    /// Descriptors whose readiness wakes the switch for this port (dom0: eventfds, sockets; a
    /// guest would use event-channel ports). Empty for ports that only become ready by polling.
    fn wake_fds(&self, _out: &mut Vec<i32>) {}
    /// Housekeeping off the fast path, run after every wake-up and a few times a second
    /// (accepting a new peer, ...). Returns true when the port was reset — a new peer is attached
    /// — so the switch clears the port's fault state and forgets the addresses learned on it.
    fn service(&mut self) -> bool {
        false
    }
    /// A finite source (a pcap replay) that has nothing more to give.
    fn exhausted(&self) -> bool {
        false
    }
    /// Counters of this kind of port beyond [`PortCounters`] (kicks sent, kernel drops, ...).
    fn port_stats(&self, _out: &mut Vec<(&'static str, u64)>) {}
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PortCounters {
    pub rx_packets: u64,
    pub rx_bytes: u64,
    pub tx_packets: u64,
    pub tx_bytes: u64,
    /// Frames for this port dropped because its receive side was full.
    pub tx_drops: u64,
    /// Frames from this port that were malformed (shorter than an Ethernet header).
    pub rx_errors: u64,
    /// Times the peer broke the ring protocol; the port is then disabled.
    pub protocol_errors: u64,
}

struct Slot {
    port: Box<dyn Port>,
    counters: PortCounters,
    /// Disabled after a protocol error until re-attached.
    faulty: bool,
    /// MAC entries pointing at this port.
    macs: usize,
}

#[derive(Clone, Copy)]
struct MacEntry {
    port: usize,
    seen: u64,
    /// Configured, not learned (a guest vif's own address): never aged, never moved by a frame
    /// another port sends with it as source.
    fixed: bool,
}

/// Where the frames of one batch go.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dest {
    Port(usize),
    Flood,
    Drop,
}

pub struct Switch {
    ports: Vec<Option<Slot>>,
    macs: HashMap<[u8; 6], MacEntry>,
    /// Entries not refreshed for this long (in the clock's units) are forgotten.
    pub ageing: u64,
    /// Most MAC entries kept (a flood of random source addresses cannot grow the table).
    pub mac_capacity: usize,
    /// Most MAC entries one port may own: a port flooding random source addresses fills its own
    /// share, not the table, so the other ports' addresses are still learned.
    pub mac_per_port: usize,
    burst: usize,
    dests: Vec<Dest>,
    next: usize,
}

impl Switch {
    /// `ageing` in the units of the `now` given to [`Switch::forward`] (the daemon uses ns).
    pub fn new(burst: usize, ageing: u64) -> Switch {
        Switch {
            ports: Vec::new(),
            macs: HashMap::new(),
            ageing,
            mac_capacity: 8192,
            mac_per_port: 1024,
            burst: burst.clamp(1, MAX_BURST),
            dests: Vec::with_capacity(MAX_BURST),
            next: 0,
        }
    }

    pub fn attach(&mut self, port: Box<dyn Port>) -> usize {
        let slot = Slot {
            port,
            counters: PortCounters::default(),
            faulty: false,
            macs: 0,
        };
        match self.ports.iter().position(Option::is_none) {
            Some(k) => {
                self.ports[k] = Some(slot);
                k
            }
            None => {
                self.ports.push(Some(slot));
                self.ports.len() - 1
            }
        }
    }

    /// Removes a port and forgets the addresses learned on it.
    pub fn detach(&mut self, k: usize) -> Option<Box<dyn Port>> {
        self.forget_port(k);
        let slot = self.ports.get_mut(k)?.take()?;
        Some(slot.port)
    }

    /// Forgets the MAC entries that satisfy `drop`, keeping the per-port counts right.
    fn forget(&mut self, mut drop: impl FnMut(&MacEntry) -> bool) {
        let ports = &mut self.ports;
        self.macs.retain(|_, e| {
            if drop(e) {
                if let Some(Some(s)) = ports.get_mut(e.port) {
                    s.macs = s.macs.saturating_sub(1);
                }
                false
            } else {
                true
            }
        });
    }

    fn forget_port(&mut self, k: usize) {
        self.forget(|e| e.port == k);
    }

    /// Records that `mac` was seen on port `src` at `now`.
    fn learn(&mut self, mac: [u8; 6], src: usize, now: u64) {
        let limit = self.mac_per_port;
        let have = self.ports[src].as_ref().map_or(0, |s| s.macs);
        match self.macs.get_mut(&mac) {
            Some(e) if e.port == src => e.seen = now,
            Some(e) if e.fixed => {}
            Some(e) => {
                // The address moved (or is spoofed): follow it if the new port has room.
                if have < limit {
                    let old = e.port;
                    e.port = src;
                    e.seen = now;
                    if let Some(Some(s)) = self.ports.get_mut(old) {
                        s.macs = s.macs.saturating_sub(1);
                    }
                    if let Some(Some(s)) = self.ports.get_mut(src) {
                        s.macs += 1;
                    }
                }
            }
            None => {
                if have < limit && self.macs.len() < self.mac_capacity {
                    self.macs.insert(
                        mac,
                        MacEntry {
                            port: src,
                            seen: now,
                            fixed: false,
                        },
                    );
                    if let Some(Some(s)) = self.ports.get_mut(src) {
                        s.macs += 1;
                    }
                }
            }
        }
    }

    /// Asks every port to wake the switch when input arrives. Returns true when some port
    /// already has input (do not sleep; call [`Switch::disarm`]).
    pub fn arm(&mut self) -> bool {
        let mut ready = false;
        for k in 0..self.ports.len() {
            let Some(s) = self.ports[k].as_mut() else {
                continue;
            };
            if s.faulty {
                continue;
            }
            match s.port.arm() {
                Ok(r) => ready |= r,
                Err(_) => self.fault(k),
            }
        }
        ready
    }

    /// Withdraws the wake-up requests of [`Switch::arm`].
    pub fn disarm(&mut self) {
        for s in self.ports.iter_mut().flatten() {
            s.port.disarm();
        }
    }

    /// The descriptors to wait on while asleep, with the port each belongs to. Faulty ports are
    /// included: their control descriptors are how a new peer gets them reset.
    pub fn wake_fds(&self, out: &mut Vec<(usize, i32)>) {
        out.clear();
        let mut fds = Vec::new();
        for (k, s) in self.ports.iter().enumerate() {
            let Some(s) = s else { continue };
            fds.clear();
            s.port.wake_fds(&mut fds);
            out.extend(fds.iter().map(|&fd| (k, fd)));
        }
    }

    /// Runs every port's housekeeping; a port that was reset gets a clean state. Returns the
    /// number of ports reset.
    pub fn service(&mut self) -> usize {
        (0..self.ports.len())
            .filter(|&k| self.service_port(k))
            .count()
    }

    /// Runs port `k`'s housekeeping; returns whether it was reset.
    pub fn service_port(&mut self, k: usize) -> bool {
        let Some(Some(s)) = self.ports.get_mut(k) else {
            return false;
        };
        if !s.port.service() {
            return false;
        }
        s.faulty = false;
        self.forget_port(k);
        true
    }

    /// Runs `f` on port `k` (for port-specific queries by the owner of the switch).
    pub fn with_port<R>(&mut self, k: usize, f: impl FnOnce(&mut dyn Port) -> R) -> Option<R> {
        let s = self.ports.get_mut(k)?.as_mut()?;
        Some(f(s.port.as_mut()))
    }

    pub fn counters(&self, k: usize) -> Option<PortCounters> {
        self.ports.get(k)?.as_ref().map(|s| s.counters)
    }

    pub fn is_faulty(&self, k: usize) -> bool {
        self.ports
            .get(k)
            .and_then(|s| s.as_ref())
            .is_some_and(|s| s.faulty)
    }

    pub fn port_names(&self) -> Vec<(usize, String)> {
        self.ports
            .iter()
            .enumerate()
            .filter_map(|(k, s)| s.as_ref().map(|s| (k, String::from(s.port.name()))))
            .collect()
    }

    pub fn mac_table_len(&self) -> usize {
        self.macs.len()
    }

    /// One pass over every port, each forwarding up to a burst. Returns frames forwarded.
    pub fn forward(&mut self, now: u64) -> usize {
        let n = self.ports.len();
        let mut moved = 0;
        for i in 0..n {
            let k = (self.next + i) % n;
            moved += self.forward_from(k, now);
        }
        if n > 0 {
            self.next = (self.next + 1) % n;
        }
        moved
    }

    fn fault(&mut self, k: usize) {
        if let Some(s) = self.ports[k].as_mut() {
            s.faulty = true;
            s.counters.protocol_errors += 1;
        }
        self.forget_port(k);
    }

    fn forward_from(&mut self, src: usize, now: u64) -> usize {
        let Some(slot) = self.ports[src].as_mut() else {
            return 0;
        };
        if slot.faulty {
            return 0;
        }
        let count = match slot.port.rx_batch(self.burst) {
            Ok(c) => c.min(self.burst),
            Err(_) => {
                self.fault(src);
                return 0;
            }
        };
        if count == 0 {
            return 0;
        }
        // Pass 1: learn sources and look up every destination of the batch. Bursts are mostly
        // one flow, so the last source learned and the last destination looked up are
        // remembered for the rest of the batch (learning something new forgets the latter).
        self.dests.clear();
        let (mut bytes, mut runts) = (0u64, 0u64);
        let mut last_src: Option<[u8; 6]> = None;
        let mut last_dst: Option<([u8; 6], Dest)> = None;
        for f in 0..count {
            let frame = self.ports[src].as_ref().expect("present").port.rx_frame(f);
            bytes += frame.len() as u64;
            if frame.len() < 14 {
                runts += 1;
                self.dests.push(Dest::Drop);
                continue;
            }
            let dst: [u8; 6] = frame[0..6].try_into().expect("6 bytes");
            let srcmac: [u8; 6] = frame[6..12].try_into().expect("6 bytes");
            if srcmac[0] & 1 == 0 && last_src != Some(srcmac) {
                self.learn(srcmac, src, now);
                last_src = Some(srcmac);
                last_dst = None;
            }
            let d = if dst[0] & 1 != 0 {
                Dest::Flood
            } else if let Some((_, d)) = last_dst.filter(|(m, _)| *m == dst) {
                d
            } else {
                let d = match self.macs.get(&dst) {
                    // A configured address never ages (its `seen` is not kept up to date).
                    Some(e)
                        if (e.fixed || now.saturating_sub(e.seen) <= self.ageing)
                            && self.ports.get(e.port).is_some_and(Option::is_some) =>
                    {
                        if e.port == src {
                            Dest::Drop // it came from there: a switch never sends a frame back
                        } else {
                            Dest::Port(e.port)
                        }
                    }
                    _ => Dest::Flood,
                };
                last_dst = Some((dst, d));
                d
            };
            self.dests.push(d);
        }
        {
            let c = &mut self.ports[src].as_mut().expect("present").counters;
            c.rx_packets += count as u64;
            c.rx_bytes += bytes;
            c.rx_errors += runts;
        }
        // Pass 2: move frames, destination by destination.
        let nports = self.ports.len();
        let mut touched = [false; 64];
        let mut failed = [false; 64];
        for dport in 0..nports {
            if dport == src || self.ports[dport].as_ref().is_none_or(|s| s.faulty) {
                continue;
            }
            for f in 0..count {
                let d = self.dests[f];
                if !(d == Dest::Flood || d == Dest::Port(dport)) {
                    continue;
                }
                // Copy from the source's ring straight into the destination's: the one copy.
                let (a, b) = if src < dport {
                    self.ports.split_at_mut(dport)
                } else {
                    self.ports.split_at_mut(src)
                };
                let (s, d) = if src < dport {
                    (a[src].as_mut(), b[0].as_mut())
                } else {
                    (b[0].as_mut(), a[dport].as_mut())
                };
                let (Some(s), Some(d)) = (s, d) else { continue };
                let frame = s.port.rx_frame(f);
                match d.port.tx(frame) {
                    Ok(true) => {
                        d.counters.tx_packets += 1;
                        d.counters.tx_bytes += frame.len() as u64;
                        if dport < touched.len() {
                            touched[dport] = true;
                        }
                    }
                    Ok(false) => d.counters.tx_drops += 1,
                    Err(_) => {
                        d.faulty = true;
                        d.counters.protocol_errors += 1;
                        if dport < failed.len() {
                            failed[dport] = true;
                        }
                    }
                }
            }
        }
        if let Some(s) = self.ports[src].as_mut() {
            s.port.rx_release(count);
        }
        for (dport, t) in touched.iter().enumerate() {
            if *t {
                if let Some(Some(d)) = self.ports.get_mut(dport) {
                    d.port.tx_flush();
                }
            }
        }
        for (dport, f) in failed.iter().enumerate() {
            if *f {
                self.forget_port(dport);
            }
        }
        // Ports past the touched table are flushed unconditionally.
        for dport in touched.len()..nports {
            if let Some(Some(d)) = self.ports.get_mut(dport) {
                d.port.tx_flush();
            }
        }
        count
    }

    /// Forgets MAC entries older than the ageing time.
    pub fn age(&mut self, now: u64) {
        let ageing = self.ageing;
        self.forget(|e| !e.fixed && now.saturating_sub(e.seen) > ageing);
    }

    /// Binds `mac` to port `k` for as long as the port is attached: frames to it are not flooded
    /// before the port has sent anything, and no other port can take the address over. Used for
    /// a guest vif's configured MAC. Replaces a learned entry; returns false if `k` is not a port.
    pub fn add_static_mac(&mut self, mac: [u8; 6], k: usize) -> bool {
        if !matches!(self.ports.get(k), Some(Some(_))) {
            return false;
        }
        if let Some(old) = self.macs.insert(
            mac,
            MacEntry {
                port: k,
                seen: 0,
                fixed: true,
            },
        ) {
            if let Some(Some(s)) = self.ports.get_mut(old.port) {
                s.macs = s.macs.saturating_sub(1);
            }
        }
        if let Some(Some(s)) = self.ports.get_mut(k) {
            s.macs += 1;
        }
        true
    }
}

/// A port over a pair of shared rings: `rx` carries frames from the peer to the switch, `tx`
/// frames from the switch to the peer. `kick` notifies the peer when it asked for it.
pub struct RingPort {
    name: String,
    rx: Ring,
    tx: Ring,
    kick: Option<Box<dyn FnMut() + Send>>,
    rx_batch: usize,
    /// Frames pushed into `tx` since the last publish: a flush with none publishes nothing and,
    /// above all, sends no kick (the switch flushes every port on every pass, and a peer asleep
    /// with its flag set would otherwise be kicked once per pass).
    unpublished: u32,
    /// Kicks sent (for the notification-vs-polling measurements).
    pub kicks: u64,
}

impl RingPort {
    pub fn new(name: &str, rx: Ring, tx: Ring, kick: Option<Box<dyn FnMut() + Send>>) -> RingPort {
        RingPort {
            name: String::from(name),
            rx,
            tx,
            kick,
            rx_batch: 0,
            unpublished: 0,
            kicks: 0,
        }
    }
}

impl Port for RingPort {
    fn rx_batch(&mut self, max: usize) -> Result<usize, RingError> {
        self.rx_batch = (self.rx.pending()? as usize).min(max);
        self.rx.prefetch_pending(self.rx_batch as u32);
        Ok(self.rx_batch)
    }

    fn rx_frame(&self, k: usize) -> &[u8] {
        // The slice lives in shared memory as long as the slot is not released (rx_release);
        // its bounds were clamped by the ring.
        let mut out: &[u8] = &[];
        self.rx.peek(k as u32, |d| {
            // SAFETY: `d` points into the ring region, which outlives `self`; the slot stays
            // ours until rx_release.
            out = unsafe { core::slice::from_raw_parts(d.as_ptr(), d.len()) };
        });
        out
    }

    fn rx_release(&mut self, n: usize) {
        if n > 0 && self.rx.release(n as u32) {
            if let Some(k) = self.kick.as_mut() {
                k();
                self.kicks += 1;
            }
        }
        self.rx_batch = 0;
    }

    fn tx(&mut self, frame: &[u8]) -> Result<bool, RingError> {
        let pushed = self.tx.push(frame)?;
        self.unpublished += pushed as u32;
        Ok(pushed)
    }

    fn tx_flush(&mut self) {
        if self.unpublished == 0 {
            return;
        }
        self.unpublished = 0;
        if self.tx.publish() {
            if let Some(k) = self.kick.as_mut() {
                k();
                self.kicks += 1;
            }
        }
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn arm(&mut self) -> Result<bool, RingError> {
        Ok(self.rx.consumer_sleep()? > 0)
    }

    fn disarm(&mut self) {
        self.rx.consumer_awake();
    }

    fn port_stats(&self, out: &mut Vec<(&'static str, u64)>) {
        out.push(("kicks", self.kicks));
    }
}

/// Formats the two regions of a guest attachment and returns the switch's port over them:
/// the switch produces into `to_guest` and consumes `from_guest`, which dom0 formats too (so
/// the guest only ever attaches and its view of the geometry is checked).
///
/// # Safety
/// Both pointers must address `geo.region_size()` bytes, page-aligned, that stay mapped while
/// the port exists.
pub unsafe fn guest_ring_port(
    name: &str,
    to_guest: *mut u8,
    from_guest: *mut u8,
    geo: Geometry,
    kick: Option<Box<dyn FnMut() + Send>>,
) -> RingPort {
    // SAFETY: per the contract above.
    let (tx, rx) = unsafe {
        let tx = Ring::format(to_guest, geo);
        let _ = Ring::format(from_guest, geo);
        let rx = Ring::attach(from_guest, geo, false).expect("the geometry just written");
        (tx, rx)
    };
    RingPort::new(name, rx, tx, kick)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ring::{Geometry, OwnedRegion};
    use alloc::vec;

    /// A guest's end of a ring port: it produces into `to_switch` and consumes `from_switch`.
    struct Guest {
        to_switch: Ring,
        from_switch: Ring,
    }

    impl Guest {
        fn send(&mut self, frames: &[Vec<u8>]) {
            for f in frames {
                assert!(self.to_switch.push(f).unwrap());
            }
            self.to_switch.publish();
        }

        fn recv(&mut self) -> Vec<Vec<u8>> {
            let n = self.from_switch.pending().unwrap();
            let v = (0..n)
                .map(|k| self.from_switch.peek(k, |d| d.to_vec()).unwrap())
                .collect();
            self.from_switch.release(n);
            v
        }
    }

    fn port(name: &str, regions: &mut Vec<OwnedRegion>) -> (RingPort, Guest) {
        let g = Geometry::new(64, 2048);
        let a = OwnedRegion::new(g);
        let b = OwnedRegion::new(g);
        // SAFETY: the regions are kept alive in `regions` for the whole test.
        let (guest_tx, sw_rx, sw_tx, guest_rx) = unsafe {
            let gt = Ring::format(a.ptr(), g);
            let sr = Ring::attach(a.ptr(), g, false).unwrap();
            let st = Ring::format(b.ptr(), g);
            let gr = Ring::attach(b.ptr(), g, false).unwrap();
            (gt, sr, st, gr)
        };
        regions.push(a);
        regions.push(b);
        (
            RingPort::new(name, sw_rx, sw_tx, None),
            Guest {
                to_switch: guest_tx,
                from_switch: guest_rx,
            },
        )
    }

    fn frame(dst: u8, src: u8, body: u8) -> Vec<u8> {
        let mut f = vec![0u8; 60];
        f[0..6].copy_from_slice(&[2, 0, 0, 0, 0, dst]);
        f[6..12].copy_from_slice(&[2, 0, 0, 0, 0, src]);
        f[12] = 0x08;
        f[14] = body;
        f
    }

    fn bcast(src: u8) -> Vec<u8> {
        let mut f = frame(0, src, 0);
        f[0..6].copy_from_slice(&[0xff; 6]);
        f
    }

    #[test]
    fn floods_unknown_then_learns() {
        let mut regions = Vec::new();
        let mut sw = Switch::new(32, 1000);
        let mut guests = Vec::new();
        for n in ["a", "b", "c"] {
            let (p, g) = port(n, &mut regions);
            sw.attach(Box::new(p));
            guests.push(g);
        }
        // a -> unknown b: flooded to b and c.
        guests[0].send(&[frame(2, 1, 7)]);
        sw.forward(1);
        assert_eq!(guests[1].recv().len(), 1);
        assert_eq!(guests[2].recv().len(), 1);
        // b answers a: a is known now, so only a gets it.
        guests[1].send(&[frame(1, 2, 8)]);
        sw.forward(2);
        assert_eq!(guests[0].recv(), [frame(1, 2, 8)]);
        assert!(guests[2].recv().is_empty());
        // a -> b: b was learned from its answer.
        guests[0].send(&[frame(2, 1, 9)]);
        sw.forward(3);
        assert_eq!(guests[1].recv(), [frame(2, 1, 9)]);
        assert!(guests[2].recv().is_empty());
        assert_eq!(sw.counters(0).unwrap().rx_packets, 2);
        assert_eq!(sw.counters(1).unwrap().tx_packets, 2);
    }

    #[test]
    fn an_idle_flush_sends_no_kick() {
        use core::sync::atomic::{AtomicU32, Ordering};
        static KICKS: AtomicU32 = AtomicU32::new(0);
        let g = Geometry::new(8, 128);
        let a = OwnedRegion::new(g);
        let b = OwnedRegion::new(g);
        // SAFETY: the regions outlive the port and the peer's rings in this test.
        let mut p = unsafe {
            guest_ring_port(
                "p",
                b.ptr(),
                a.ptr(),
                g,
                Some(Box::new(|| {
                    KICKS.fetch_add(1, Ordering::SeqCst);
                })),
            )
        };
        let peer_rx = unsafe { Ring::attach(b.ptr(), g, false) }.unwrap();
        // The peer sleeps: its flag stays set.
        assert_eq!(peer_rx.consumer_sleep().unwrap(), 0);
        for _ in 0..10 {
            p.tx_flush();
            p.rx_release(0);
        }
        assert_eq!(KICKS.load(Ordering::SeqCst), 0, "nothing new: no kick");
        assert!(p.tx(&[1; 60]).unwrap());
        p.tx_flush();
        p.tx_flush();
        assert_eq!(
            KICKS.load(Ordering::SeqCst),
            1,
            "one kick for the new frame"
        );
    }

    #[test]
    fn static_macs_are_not_flooded_aged_or_stolen() {
        let mut regions = Vec::new();
        let mut sw = Switch::new(32, 10);
        let mut guests = Vec::new();
        for n in ["a", "b", "c"] {
            let (p, g) = port(n, &mut regions);
            sw.attach(Box::new(p));
            guests.push(g);
        }
        assert!(sw.add_static_mac([2, 0, 0, 0, 0, 2], 1));
        assert!(!sw.add_static_mac([2, 0, 0, 0, 0, 9], 7));
        // a -> b before b ever sent: b only.
        guests[0].send(&[frame(2, 1, 7)]);
        sw.forward(0);
        assert_eq!(guests[1].recv().len(), 1);
        assert!(guests[2].recv().is_empty());
        // c claims b's address as its source: the entry stays on b.
        guests[2].send(&[frame(1, 2, 8)]);
        sw.forward(1);
        guests[0].recv();
        guests[0].send(&[frame(2, 1, 9)]);
        sw.forward(2);
        assert_eq!(guests[1].recv().len(), 1);
        assert!(guests[2].recv().is_empty());
        // Not aged, neither by the ageing pass nor when looked up long after the ageing time
        // (a sink port that never sends keeps receiving only what is addressed to it).
        sw.age(1_000_000);
        assert_eq!(sw.mac_table_len(), 1);
        guests[0].send(&[frame(2, 1, 10)]);
        sw.forward(1_000_000);
        assert_eq!(guests[1].recv().len(), 1);
        assert!(
            guests[2].recv().is_empty(),
            "a static address is not flooded after ageing"
        );
        // Forgotten when its port goes (a's address, just learned, stays).
        drop(sw.detach(1));
        assert_eq!(sw.mac_table_len(), 1);
    }

    #[test]
    fn broadcasts_flood_and_entries_age() {
        let mut regions = Vec::new();
        let mut sw = Switch::new(32, 10);
        let mut guests = Vec::new();
        for n in ["a", "b", "c"] {
            let (p, g) = port(n, &mut regions);
            sw.attach(Box::new(p));
            guests.push(g);
        }
        guests[1].send(&[bcast(2)]);
        sw.forward(0);
        assert_eq!(guests[0].recv().len(), 1);
        assert_eq!(guests[2].recv().len(), 1);
        assert!(guests[1].recv().is_empty(), "never back to the sender");
        // b is known at t=0; at t=100 the entry is too old: flooded again.
        guests[0].send(&[frame(2, 1, 1)]);
        sw.forward(100);
        assert_eq!(guests[2].recv().len(), 1);
        sw.age(1000);
        assert_eq!(sw.mac_table_len(), 0);
    }

    #[test]
    fn a_hostile_port_is_disabled_and_others_keep_working() {
        let mut regions = Vec::new();
        let mut sw = Switch::new(32, 1000);
        let mut guests = Vec::new();
        for n in ["evil", "b", "c"] {
            let (p, g) = port(n, &mut regions);
            sw.attach(Box::new(p));
            guests.push(g);
        }
        // The evil guest claims a billion packets.
        guests[0].to_switch.scribble(1_000_000_000, 0, 0xffff);
        sw.forward(1);
        assert!(sw.is_faulty(0));
        assert_eq!(sw.counters(0).unwrap().protocol_errors, 1);
        // b and c still talk.
        guests[1].send(&[frame(3, 2, 5)]);
        sw.forward(2);
        assert_eq!(guests[2].recv(), [frame(3, 2, 5)]);
    }

    #[test]
    fn a_guest_that_stops_consuming_only_loses_its_own_packets() {
        let mut regions = Vec::new();
        let mut sw = Switch::new(64, 1000);
        let mut guests = Vec::new();
        for n in ["a", "stuck", "c"] {
            let (p, g) = port(n, &mut regions);
            sw.attach(Box::new(p));
            guests.push(g);
        }
        // Teach the switch where c and stuck are.
        guests[2].send(&[bcast(3)]);
        guests[1].send(&[bcast(2)]);
        sw.forward(0);
        sw.forward(0);
        let _ = guests[0].recv();
        let _ = guests[2].recv();
        for round in 0..6u8 {
            let burst: Vec<Vec<u8>> = (0..30)
                .map(|k| {
                    if k % 2 == 0 {
                        frame(2, 1, round)
                    } else {
                        frame(3, 1, round)
                    }
                })
                .collect();
            guests[0].send(&burst);
            sw.forward(1);
            assert_eq!(guests[2].recv().len(), 15, "c keeps receiving");
        }
        // 1 broadcast + 90 unicast frames for a 64-slot ring that is never consumed.
        let c = sw.counters(1).unwrap();
        assert_eq!(c.tx_packets, 64);
        assert_eq!(c.tx_drops, 27, "the rest were dropped, and counted");
    }

    #[test]
    fn a_port_spraying_source_addresses_only_fills_its_own_share() {
        let mut regions = Vec::new();
        let mut sw = Switch::new(64, 1000);
        sw.mac_per_port = 16;
        let mut guests = Vec::new();
        for n in ["spray", "b", "c"] {
            let (p, g) = port(n, &mut regions);
            sw.attach(Box::new(p));
            guests.push(g);
        }
        for round in 0..4u8 {
            let burst: Vec<Vec<u8>> = (0..40u8)
                .map(|k| {
                    let mut f = frame(9, 0, 0);
                    f[6..12].copy_from_slice(&[2, 0, 0, 1, round, k]);
                    f
                })
                .collect();
            guests[0].send(&burst);
            sw.forward(1);
        }
        assert_eq!(sw.mac_table_len(), 16);
        // b and c are still learned and get unicast frames, not floods.
        guests[1].send(&[bcast(2)]);
        guests[2].send(&[bcast(3)]);
        sw.forward(2);
        sw.forward(2);
        assert_eq!(sw.mac_table_len(), 18);
        let _ = guests[1].recv();
        let _ = guests[2].recv();
        let _ = guests[0].recv();
        guests[1].send(&[frame(3, 2, 1)]);
        sw.forward(3);
        assert_eq!(guests[2].recv().len(), 1);
        assert!(guests[0].recv().is_empty(), "not flooded");
        // Ageing and faults keep the per-port counts right: spray's share is freed.
        sw.age(1000 + 2);
        assert_eq!(sw.mac_table_len(), 2);
    }

    #[test]
    fn arming_reports_waiting_input_and_sets_the_kick_flag() {
        let mut regions = Vec::new();
        let mut sw = Switch::new(32, 1000);
        let (pa, mut ga) = port("a", &mut regions);
        let (pb, _gb) = port("b", &mut regions);
        sw.attach(Box::new(pa));
        sw.attach(Box::new(pb));
        assert!(!sw.arm(), "nothing waiting");
        ga.to_switch.push(&bcast(1)).unwrap();
        assert!(ga.to_switch.publish(), "the switch asked for a kick");
        sw.disarm();
        ga.to_switch.push(&bcast(1)).unwrap();
        assert!(!ga.to_switch.publish(), "no kick once disarmed");
        assert!(sw.arm(), "input waiting: do not sleep");
        sw.disarm();
        assert_eq!(sw.forward(0), 2);
    }

    #[test]
    fn learning_within_a_batch_changes_later_lookups_of_the_same_batch() {
        let mut regions = Vec::new();
        let mut sw = Switch::new(32, 1000);
        let mut guests = Vec::new();
        for n in ["a", "b", "c"] {
            let (p, g) = port(n, &mut regions);
            sw.attach(Box::new(p));
            guests.push(g);
        }
        guests[1].send(&[bcast(2)]);
        sw.forward(0);
        let _ = guests[0].recv();
        let _ = guests[2].recv();
        // From a: to b (known: unicast), then a frame claiming b's address (b moved to a), then
        // to b again: now "b" is on a itself, so the last frame goes nowhere.
        guests[0].send(&[frame(2, 1, 1), frame(9, 2, 2), frame(2, 1, 3)]);
        sw.forward(1);
        assert_eq!(
            guests[1].recv(),
            [frame(2, 1, 1), frame(9, 2, 2)],
            "the third frame is not sent to b"
        );
        assert_eq!(guests[2].recv(), [frame(9, 2, 2)], "unknown 9: flooded");
    }

    #[test]
    fn runt_frames_are_counted_and_dropped() {
        let mut regions = Vec::new();
        let mut sw = Switch::new(32, 1000);
        let (pa, mut ga) = port("a", &mut regions);
        let (pb, mut gb) = port("b", &mut regions);
        sw.attach(Box::new(pa));
        sw.attach(Box::new(pb));
        ga.send(&[vec![1, 2, 3]]);
        sw.forward(0);
        assert!(gb.recv().is_empty());
        assert_eq!(sw.counters(0).unwrap().rx_errors, 1);
    }
}
