//! A peer that scribbles arbitrary values anywhere over its own ring region while the switch
//! runs: the switch never panics, never reads or writes outside the regions, and the traffic
//! between two well-behaved guests is delivered whole and in order (or counted as dropped).
//!
//! The proptest interleaves scribbles, forwarding passes and good traffic deterministically (so
//! failures shrink and replay); the threaded test scribbles truly concurrently.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;

use proptest::prelude::*;
use vale::ring::{Geometry, OwnedRegion, Ring};
use vale::switch::{guest_ring_port, Switch};

const G1: [u8; 6] = [0x02, 0xa7, 0x3c, 0x91, 0x5e, 0x01];
const G2: [u8; 6] = [0x02, 0xa7, 0x3c, 0x91, 0x5e, 0x02];

fn geo() -> Geometry {
    Geometry::new(64, 256)
}

/// A guest's end: produces into `to_switch`, consumes `from_switch`.
struct Guest {
    to_switch: Ring,
    from_switch: Ring,
}

struct Net {
    sw: Switch,
    guests: Vec<Guest>,
    // Kept alive for the rings; [2 * k] is guest k's to-switch ring, [2 * k + 1] its from-switch.
    regions: Vec<OwnedRegion>,
}

fn net() -> Net {
    let g = geo();
    let mut sw = Switch::new(32, u64::MAX / 2);
    let mut guests = Vec::new();
    let mut regions = Vec::new();
    for name in ["g1", "g2", "evil"] {
        let a = OwnedRegion::new(g);
        let b = OwnedRegion::new(g);
        // The port is built the way clickos-switchd builds a Xen guest's port over the pages
        // it granted (`guest_ring_port`: b is "to guest", a "from guest"), so the hostile
        // guest exercises exactly the production path.
        // SAFETY: the regions live in `regions` as long as the rings (Net owns both).
        let (port, gt, gr) = unsafe {
            let port = guest_ring_port(name, b.ptr(), a.ptr(), g, None);
            let gt = Ring::attach(a.ptr(), g, true).unwrap();
            let gr = Ring::attach(b.ptr(), g, false).unwrap();
            (port, gt, gr)
        };
        sw.attach(Box::new(port));
        guests.push(Guest {
            to_switch: gt,
            from_switch: gr,
        });
        regions.push(a);
        regions.push(b);
    }
    Net {
        sw,
        guests,
        regions,
    }
}

fn frame(dst: &[u8; 6], src: &[u8; 6], seq: u32) -> Vec<u8> {
    let mut f = vec![0u8; 64];
    f[0..6].copy_from_slice(dst);
    f[6..12].copy_from_slice(src);
    f[12..14].copy_from_slice(&[0x88, 0xb5]);
    f[14..18].copy_from_slice(&seq.to_le_bytes());
    f[18..].fill(seq as u8);
    f
}

/// What g2 saw from g1.
#[derive(Default, Debug)]
struct Seen {
    from_g1: u64,
    corrupt: u64,
    reordered: u64,
    next: u32,
}

fn g2_receive(net: &mut Net, seen: &mut Seen) {
    let r = &mut net.guests[1].from_switch;
    let n = r
        .pending()
        .expect("the switch never breaks a good guest's ring");
    for k in 0..n {
        r.peek(k, |d| {
            if d.len() == 64 && d[6..12] == G1 {
                seen.from_g1 += 1;
                let seq = u32::from_le_bytes(d[14..18].try_into().unwrap());
                if d[..6] != G2 || d[18..].iter().any(|&b| b != seq as u8) {
                    seen.corrupt += 1;
                }
                if seq < seen.next {
                    seen.reordered += 1;
                }
                seen.next = seq + 1;
            }
        });
    }
    r.release(n);
}

fn drain(r: &mut Ring) {
    if let Ok(n) = r.pending() {
        r.release(n);
    }
}

#[derive(Clone, Debug)]
enum Op {
    Forward,
    /// g1 sends this many frames to g2.
    Send(u8),
    Recv,
    /// The evil guest writes `value` at byte `offset` (4-aligned, modulo the size) of its
    /// to-switch (false) or from-switch (true) region.
    Scribble {
        from_switch: bool,
        offset: usize,
        value: u32,
    },
    /// The evil guest sends a few frames the honest way (so garbage lands in live slots).
    EvilSend(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => Just(Op::Forward),
        2 => (1u8..16).prop_map(Op::Send),
        2 => Just(Op::Recv),
        4 => (any::<bool>(), 0usize..1 << 20, any::<u32>()).prop_map(|(from_switch, offset, value)| Op::Scribble { from_switch, offset, value }),
        1 => (1u8..8).prop_map(Op::EvilSend),
        // Header words specifically: indices, flags, geometry.
        2 => (any::<bool>(), 0usize..6, any::<u32>()).prop_map(|(from_switch, w, value)| Op::Scribble { from_switch, offset: w * 4, value }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn scribbling_over_a_ring_region_never_hurts_other_guests(ops in prop::collection::vec(op(), 1..200)) {
        let mut net = net();
        let size = geo().region_size();
        // g2 announces itself so g1's frames are unicast to it.
        net.guests[1].to_switch.push(&frame(&[0xff; 6], &G2, u32::MAX)).unwrap();
        net.guests[1].to_switch.publish();
        net.sw.forward(0);
        let mut seq = 0u32;
        let mut seen = Seen::default();
        let mut t = 1;
        for op in ops {
            match op {
                Op::Forward => {
                    net.sw.forward(t);
                    t += 1;
                }
                Op::Send(n) => {
                    for _ in 0..n {
                        if net.guests[0].to_switch.push(&frame(&G2, &G1, seq)).unwrap() {
                            seq += 1;
                        }
                    }
                    net.guests[0].to_switch.publish();
                }
                Op::Recv => {
                    g2_receive(&mut net, &mut seen);
                    drain(&mut net.guests[0].from_switch);
                }
                Op::Scribble { from_switch, offset, value } => {
                    let region = &net.regions[4 + from_switch as usize];
                    let off = (offset % size) & !3;
                    // SAFETY: a 4-aligned word inside the evil guest's own region.
                    unsafe { (*(region.ptr().add(off) as *const AtomicU32)).store(value, Ordering::Relaxed) };
                }
                Op::EvilSend(n) => {
                    let evil = &mut net.guests[2].to_switch;
                    for k in 0..n {
                        let _ = evil.push(&frame(&[0xff; 6], &[2, 0, 0, 0, 0x66, k], 0));
                    }
                    evil.publish();
                }
            }
        }
        // Let everything in flight arrive.
        for _ in 0..8 {
            net.sw.forward(t);
            g2_receive(&mut net, &mut seen);
            drain(&mut net.guests[0].from_switch);
        }
        let c1 = net.sw.counters(0).unwrap();
        let c2 = net.sw.counters(1).unwrap();
        prop_assert_eq!(c1.rx_packets, seq as u64, "the switch took every frame g1 sent");
        prop_assert_eq!(c1.protocol_errors + c2.protocol_errors, 0);
        prop_assert!(!net.sw.is_faulty(0) && !net.sw.is_faulty(1));
        prop_assert_eq!(seen.corrupt, 0);
        prop_assert_eq!(seen.reordered, 0);
        prop_assert!(seen.from_g1 + c2.tx_drops >= seq as u64, "{:?} {:?}", seen, c2);
        prop_assert!(seen.from_g1 <= seq as u64);
    }
}

/// A thread scribbles over the evil guest's region as fast as it can while the switch forwards
/// g1 → g2 on this thread.
#[test]
fn concurrent_scribbler() {
    let mut net = net();
    let size = geo().region_size();
    let stop = Arc::new(AtomicBool::new(false));
    let targets: Vec<usize> = vec![net.regions[4].ptr() as usize, net.regions[5].ptr() as usize];
    let scribbler = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut x: u64 = 0x1234_5678_9abc_def1;
            let mut writes = 0u64;
            while !stop.load(Ordering::Relaxed) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let base = targets[(x >> 63) as usize];
                let off = ((x >> 20) as usize % size) & !3;
                // Half the writes go to the header words.
                let off = if x & 1 == 0 { off % 24 } else { off };
                // SAFETY: a 4-aligned word inside a region the main thread keeps alive until
                // this thread is joined.
                unsafe { (*((base + off) as *const AtomicU32)).store(x as u32, Ordering::Relaxed) };
                writes += 1;
            }
            writes
        })
    };
    net.guests[1]
        .to_switch
        .push(&frame(&[0xff; 6], &G2, u32::MAX))
        .unwrap();
    net.guests[1].to_switch.publish();
    let mut seq = 0u32;
    let mut seen = Seen::default();
    let total = 200_000u32;
    let mut t = 0;
    while seq < total {
        for _ in 0..16 {
            if seq < total && net.guests[0].to_switch.push(&frame(&G2, &G1, seq)).unwrap() {
                seq += 1;
            }
        }
        net.guests[0].to_switch.publish();
        net.sw.forward(t);
        t += 1;
        g2_receive(&mut net, &mut seen);
        drain(&mut net.guests[0].from_switch);
    }
    for _ in 0..4 {
        net.sw.forward(t);
        g2_receive(&mut net, &mut seen);
    }
    stop.store(true, Ordering::Relaxed);
    let writes = scribbler.join().unwrap();
    let c2 = net.sw.counters(1).unwrap();
    eprintln!(
        "concurrent scribbler: {writes} writes; g2 got {} of {seq} from g1 ({} dropped); evil port faulty: {}",
        seen.from_g1,
        c2.tx_drops,
        net.sw.is_faulty(2)
    );
    assert!(writes > 0);
    assert_eq!(seen.corrupt, 0);
    assert_eq!(seen.reordered, 0);
    assert!(seen.from_g1 + c2.tx_drops >= seq as u64);
    assert!(seen.from_g1 <= seq as u64);
    assert_eq!(net.sw.counters(0).unwrap().protocol_errors, 0);
}

/// A guest that stops consuming and floods frames from ever-new source addresses, next to two
/// well-behaved guests, all attached the way Xen guests are (`guest_ring_port`): the good
/// traffic arrives whole and in order without a single drop, the stalled guest only loses its
/// own frames, and the flood fills only its own share of the MAC table.
#[test]
fn stalled_flooding_guest_hurts_only_itself() {
    let mut net = net();
    net.sw.mac_per_port = 32;
    // Both good guests announce themselves (60-byte broadcasts, which g2's check of g1's
    // numbered 64-byte frames ignores; the evil guest gets them too).
    for (k, mac) in [(0usize, G1), (1, G2)] {
        let mut hello = frame(&[0xff; 6], &mac, 0);
        hello.truncate(60);
        net.guests[k].to_switch.push(&hello).unwrap();
        net.guests[k].to_switch.publish();
    }
    net.sw.forward(0);
    drain(&mut net.guests[0].from_switch);
    let mut seen = Seen::default();
    g2_receive(&mut net, &mut seen);
    let mut seq = 0u32;
    let mut src = 0u32;
    for t in 1..2000u64 {
        for _ in 0..16 {
            if net.guests[0].to_switch.push(&frame(&G2, &G1, seq)).unwrap() {
                seq += 1;
            }
        }
        if t % 10 == 0 {
            // A broadcast now and then: the stalled guest's ring fills up with these.
            let mut b = frame(&[0xff; 6], &G1, 0);
            b.truncate(60);
            net.guests[0].to_switch.push(&b).unwrap();
        }
        net.guests[0].to_switch.publish();
        // The flood: as many frames as fit, each from a new address, to g1 and to everyone.
        let evil = &mut net.guests[2].to_switch;
        loop {
            src += 1;
            let s = src.to_be_bytes();
            let dst = if src % 8 == 0 { [0xff; 6] } else { G1 };
            if !evil
                .push(&frame(&dst, &[0x02, 0x66, s[0], s[1], s[2], s[3]], 0))
                .unwrap()
            {
                break;
            }
        }
        evil.publish();
        net.sw.forward(t);
        g2_receive(&mut net, &mut seen);
        drain(&mut net.guests[0].from_switch);
        // The evil guest never consumes `from_switch`.
    }
    net.sw.forward(2000);
    g2_receive(&mut net, &mut seen);
    let (c1, c2, ce) = (
        net.sw.counters(0).unwrap(),
        net.sw.counters(1).unwrap(),
        net.sw.counters(2).unwrap(),
    );
    eprintln!(
        "stall+flood: g1 sent {seq}, g2 got {}; evil sent {} frames, {} dropped towards it; mac table {}",
        seen.from_g1,
        ce.rx_packets,
        ce.tx_drops,
        net.sw.mac_table_len()
    );
    assert_eq!(seen.from_g1, seq as u64, "every good frame arrived");
    assert_eq!((seen.corrupt, seen.reordered), (0, 0));
    assert_eq!(c2.tx_drops, 0, "nothing dropped towards the good receiver");
    assert_eq!(c1.tx_drops, 0, "g1 drains: nothing dropped towards it");
    assert!(ce.tx_drops > 0, "the stalled guest loses its own frames");
    assert!(
        ce.rx_packets > 10_000,
        "the flood was taken, a burst per pass"
    );
    assert!(
        net.sw.mac_table_len() <= 2 + 32,
        "the flood filled only its share"
    );
    assert!(!net.sw.is_faulty(0) && !net.sw.is_faulty(1) && !net.sw.is_faulty(2));
}
