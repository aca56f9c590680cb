//! Test support for the IP, ICMP and TCP/UDP groups: packet builders with checksums computed by
//! a naive reference implementation (independent of `checksum.rs`), a router harness whose
//! platform log and sinks the tests can read, and a `Sink` element that keeps annotations.

extern crate std;

use alloc::boxed::Box;
use alloc::rc::Rc;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::cell::RefCell;
use core::net::Ipv4Addr;
use std::collections::HashMap;

use crate::batch::Batch;
use crate::element::{Element, ElementClass, Registry};
use crate::packet::{Annotations, Packet};
use crate::platform::Platform;
use crate::router::{build, Context, Router};

// ---------------------------------------------------------------------------------------------
// Reference checksums: the plainest possible RFC 1071.

/// Ones'-complement sum of `data` in `0..=0xFFFF` (zero only for all-zero data).
pub fn reference_sum(data: &[u8]) -> u32 {
    let mut total: u64 = 0;
    for pair in data.chunks(2) {
        let hi = pair[0] as u64;
        let lo = pair.get(1).copied().unwrap_or(0) as u64;
        total += (hi << 8) | lo;
    }
    if total == 0 {
        0
    } else {
        ((total - 1) % 0xffff + 1) as u32
    }
}

pub fn reference_checksum(data: &[u8]) -> u16 {
    !(reference_sum(data) as u16)
}

/// Whether `data` (a header or segment with its checksum field in place) sums to all ones.
pub fn reference_ok(data: &[u8]) -> bool {
    reference_sum(data) == 0xffff
}

/// Whether the IPv4 header at the start of `pkt` has a correct checksum.
pub fn ip_ok(pkt: &[u8]) -> bool {
    let hl = ((pkt[0] & 15) as usize) * 4;
    reference_ok(&pkt[..hl])
}

fn pseudo(pkt: &[u8], len: usize) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&pkt[12..20]);
    v.extend_from_slice(&[0, pkt[9]]);
    v.extend_from_slice(&(len as u16).to_be_bytes());
    v
}

/// Whether the TCP/UDP/ICMP message after the IPv4 header of `pkt` (up to the IP length) has a
/// correct checksum (with the pseudo-header unless `icmp`).
pub fn l4_ok(pkt: &[u8]) -> bool {
    let hl = ((pkt[0] & 15) as usize) * 4;
    let len = u16::from_be_bytes([pkt[2], pkt[3]]) as usize;
    let seg = &pkt[hl..len];
    if pkt[9] == 1 {
        return reference_ok(seg);
    }
    let mut v = pseudo(pkt, seg.len());
    v.extend_from_slice(seg);
    reference_ok(&v)
}

// ---------------------------------------------------------------------------------------------
// Packet builders.

pub const A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
pub const B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

/// An IPv4 packet: TTL 64, id 0x1234, no flags, the given options (a multiple of 4 bytes) and
/// payload, correct header checksum.
pub fn ipv4_opts(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, opts: &[u8], payload: &[u8]) -> Vec<u8> {
    assert!(opts.len() & 3 == 0 && opts.len() <= 40);
    let hl = 20 + opts.len();
    let len = hl + payload.len();
    let mut v = alloc::vec![0u8; len];
    v[0] = 0x40 | (hl / 4) as u8;
    v[2..4].copy_from_slice(&(len as u16).to_be_bytes());
    v[4..6].copy_from_slice(&0x1234u16.to_be_bytes());
    v[8] = 64;
    v[9] = proto;
    v[12..16].copy_from_slice(&src.octets());
    v[16..20].copy_from_slice(&dst.octets());
    v[20..hl].copy_from_slice(opts);
    v[hl..].copy_from_slice(payload);
    fix_ip(&mut v);
    v
}

pub fn ipv4(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, payload: &[u8]) -> Vec<u8> {
    ipv4_opts(src, dst, proto, &[], payload)
}

/// Recomputes the header checksum of the IPv4 packet `v`.
pub fn fix_ip(v: &mut [u8]) {
    let hl = ((v[0] & 15) as usize) * 4;
    v[10] = 0;
    v[11] = 0;
    let c = reference_checksum(&v[..hl]);
    v[10..12].copy_from_slice(&c.to_be_bytes());
}

/// Recomputes the transport checksum (at `at` within the segment) of IPv4 packet `v`.
pub fn fix_l4(v: &mut [u8], at: usize) {
    let hl = ((v[0] & 15) as usize) * 4;
    let len = u16::from_be_bytes([v[2], v[3]]) as usize;
    v[hl + at] = 0;
    v[hl + at + 1] = 0;
    let c = if v[9] == 1 {
        reference_checksum(&v[hl..len])
    } else {
        let mut s = pseudo(v, len - hl);
        s.extend_from_slice(&v[hl..len]);
        reference_checksum(&s)
    };
    v[hl + at..hl + at + 2].copy_from_slice(&c.to_be_bytes());
}

pub fn udp(src: Ipv4Addr, sport: u16, dst: Ipv4Addr, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut seg = alloc::vec![0u8; 8 + payload.len()];
    seg[0..2].copy_from_slice(&sport.to_be_bytes());
    seg[2..4].copy_from_slice(&dport.to_be_bytes());
    let ulen = seg.len() as u16;
    seg[4..6].copy_from_slice(&ulen.to_be_bytes());
    seg[8..].copy_from_slice(payload);
    let mut v = ipv4(src, dst, 17, &seg);
    fix_l4(&mut v, 6);
    v
}

/// A TCP segment with a 20-byte header, given flags, seq 1000, ack 2000, window 512.
pub fn tcp(
    src: Ipv4Addr,
    sport: u16,
    dst: Ipv4Addr,
    dport: u16,
    flags: u8,
    payload: &[u8],
) -> Vec<u8> {
    let mut seg = alloc::vec![0u8; 20 + payload.len()];
    seg[0..2].copy_from_slice(&sport.to_be_bytes());
    seg[2..4].copy_from_slice(&dport.to_be_bytes());
    seg[4..8].copy_from_slice(&1000u32.to_be_bytes());
    seg[8..12].copy_from_slice(&2000u32.to_be_bytes());
    seg[12] = 5 << 4;
    seg[13] = flags;
    seg[14..16].copy_from_slice(&512u16.to_be_bytes());
    seg[20..].copy_from_slice(payload);
    let mut v = ipv4(src, dst, 6, &seg);
    fix_l4(&mut v, 16);
    v
}

/// An ICMP message of the given type and code, with 4 bytes of "rest of header" and `body`.
pub fn icmp(src: Ipv4Addr, dst: Ipv4Addr, ty: u8, code: u8, rest: [u8; 4], body: &[u8]) -> Vec<u8> {
    let mut m = alloc::vec![ty, code, 0, 0];
    m.extend_from_slice(&rest);
    m.extend_from_slice(body);
    let mut v = ipv4(src, dst, 1, &m);
    fix_l4(&mut v, 2);
    v
}

pub fn echo(src: Ipv4Addr, dst: Ipv4Addr, id: u16, seq: u16, body: &[u8]) -> Vec<u8> {
    let [a, b] = id.to_be_bytes();
    let [c, d] = seq.to_be_bytes();
    icmp(src, dst, 8, 0, [a, b, c, d], body)
}

/// A packet whose network header annotation is at `net` (e.g. behind a 14-byte link header).
pub fn with_net(data: &[u8], net: usize) -> Packet {
    let mut p = Packet::from_slice(data);
    p.anno_mut().set_network_offset(net);
    p
}

// ---------------------------------------------------------------------------------------------
// Harness.

/// What a Sink saw of one packet.
#[derive(Clone, Debug)]
pub struct Got {
    pub data: Vec<u8>,
    pub anno: Annotations,
}

std::thread_local! {
    static SINKS: RefCell<HashMap<String, Vec<Got>>> = RefCell::new(HashMap::new());
}

/// Sink — keeps each packet and its annotations where the test thread can read them.
#[derive(Default)]
pub struct Sink;

impl Element for Sink {
    fn push(&mut self, _port: usize, mut batch: Batch, cx: &mut Context<'_>) {
        let name = cx.name().to_string();
        let got: Vec<Got> = batch
            .drain()
            .map(|p| Got {
                data: p.data().to_vec(),
                anno: p.anno().clone(),
            })
            .collect();
        SINKS.with(|s| s.borrow_mut().entry(name).or_default().extend(got));
        cx.kill_batch(batch);
    }
}

/// A platform that keeps printed lines where the test can read them.
pub struct LogPlatform {
    pub log: Rc<RefCell<Vec<String>>>,
}

/// Wall time the harness's platform reports: 1500000000.123456789 s.
pub const NOW_NS: u64 = 1_500_000_000_123_456_789;

impl Platform for LogPlatform {
    fn now_ns(&self) -> u64 {
        NOW_NS
    }
    fn print(&mut self, line: &str) {
        self.log.borrow_mut().push(line.to_string());
    }
}

pub struct Harness {
    pub router: Router,
    log: Rc<RefCell<Vec<String>>>,
}

pub fn registry() -> Registry {
    let mut r = crate::library::registry();
    r.add(ElementClass {
        name: "Sink",
        ports: "1/0",
        processing: "h/h",
        make: || Box::new(Sink),
    });
    r
}

impl Harness {
    /// Builds `cfg`; panics with the diagnostics if it does not build.
    pub fn new(cfg: &str) -> Harness {
        SINKS.with(|s| s.borrow_mut().clear());
        let loaded = config_lang::load("t.click", cfg, &[]);
        assert!(!loaded.has_errors(), "{}", loaded.render_diagnostics());
        let log = Rc::new(RefCell::new(Vec::new()));
        let platform = LogPlatform { log: log.clone() };
        let router = match build(
            loaded.graph.as_ref().unwrap(),
            &registry(),
            Some(Box::new(platform)),
            cfg,
        ) {
            Ok(r) => r,
            Err(e) => panic!(
                "{}",
                config_lang::diag::render_all(&e.diagnostics, &loaded.sources)
            ),
        };
        Harness { router, log }
    }

    /// Pushes packets into input 0 of element `name` and runs until idle.
    pub fn push(&mut self, name: &str, packets: Vec<Packet>) {
        let e = self.router.find(name).expect("element exists");
        self.router.inject(e, 0, Batch::from_vec(packets));
        self.router.run_until_idle(2);
    }

    /// Pushes copies of `data` (no annotations set).
    pub fn push_bytes(&mut self, name: &str, data: &[&[u8]]) {
        self.push(name, data.iter().map(|d| Packet::from_slice(d)).collect());
    }

    /// Pushes copies of `data` with the network header annotation at 0.
    pub fn push_ip(&mut self, name: &str, data: &[&[u8]]) {
        self.push(name, data.iter().map(|d| with_net(d, 0)).collect());
    }

    /// Everything Sink `name` received so far (and forgets it).
    pub fn got(&self, name: &str) -> Vec<Got> {
        SINKS.with(|s| s.borrow_mut().remove(name).unwrap_or_default())
    }

    /// The data of what Sink `name` received.
    pub fn data(&self, name: &str) -> Vec<Vec<u8>> {
        self.got(name).into_iter().map(|g| g.data).collect()
    }

    pub fn read(&self, handler: &str) -> String {
        self.router
            .read_handler(handler)
            .unwrap_or_else(|e| panic!("{handler}: {e}"))
    }

    pub fn write(&mut self, handler: &str, value: &str) -> Result<(), String> {
        self.router
            .write_handler(handler, value)
            .map_err(|e| e.to_string())
    }

    pub fn log(&self) -> Vec<String> {
        self.log.borrow().clone()
    }
}

/// The one-line diagnostics of building `cfg` (empty if it builds).
pub fn errors(cfg: &str) -> Vec<String> {
    crate::testing::build_errors(cfg)
}
