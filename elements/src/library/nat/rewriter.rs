//! The mapping engine shared by IPRewriter, TCPRewriter and UDPRewriter: configuration, the flow
//! table, packet rewriting, expiry, and handlers. The element files hold each class's
//! documentation and tests.
//!
//! The table is a hash map from a flow's 5-tuple to a slot in a slab of [`Flow`]s; each flow has
//! two entries, its forward key and its reply key (the reverse of the rewritten flow). Live flows
//! are also on a least-recently-used list, so the one to evict when the table is full is found in
//! constant time; free slots are chained through the same links. Everything is allocated when
//! the element is configured, up to a first size; beyond it the slab and the map grow only when a
//! new flow is created, never for a packet of a known flow.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt::Write;
use core::net::Ipv4Addr;
use core::time::Duration;

use config_lang::args::{ArgError, ArgValue, Args};
use hashbrown::HashMap;
use smoltcp::wire::{Ipv4Packet, TcpPacket, UdpPacket};

use super::flow::{csum_adjust, Flow, FlowKey, NIL, TCP_BOTH_DATA, TCP_BOTH_DONE};
use super::pattern::{find_named, InputSpec};
use crate::batch::Batch;
use crate::element::{ConfigureContext, Element, HandlerSpec, InitContext};
use crate::packet::Packet;
use crate::router::Context;

/// Which class a [`Rewriter`] is.
pub const IP: u8 = 0;
pub const TCP: u8 = 1;
pub const UDP: u8 = 2;

const PROTO_TCP: u8 = 6;
const PROTO_UDP: u8 = 17;

/// Click's default capacity: no practical limit.
const DEFAULT_CAPACITY: usize = 0x7FFF_FFFF;
/// Flows allocated up front when the capacity does not say otherwise.
const DEFAULT_PRESIZE: usize = 1024;
/// The most flows allocated up front however large the capacity.
const MAX_PRESIZE: usize = 65536;

const SEC: u64 = 1_000_000_000;

/// Timeouts in nanoseconds.
#[derive(Clone, Copy, Debug)]
struct Timeouts {
    /// TCP connections without data seen both ways (Click's TCP_NODATA_TIMEOUT).
    tcp_nodata: u64,
    /// TCP connections with data seen both ways (TCP_TIMEOUT).
    tcp_data: u64,
    /// TCP connections closed both ways or reset (TCP_DONE_TIMEOUT).
    tcp_done: u64,
    tcp_guarantee: u64,
    udp: u64,
    /// UDP flows of at least 3 packets with traffic both ways.
    udp_streaming: u64,
    udp_guarantee: u64,
    /// Period of the expiry sweep; 0 = never sweep.
    reap: u64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            tcp_nodata: 300 * SEC,
            tcp_data: 86400 * SEC,
            tcp_done: 240 * SEC,
            tcp_guarantee: 5 * SEC,
            udp: 300 * SEC,
            udp_streaming: 300 * SEC,
            udp_guarantee: 5 * SEC,
            reap: 900 * SEC,
        }
    }
}

/// IPRewriter (`KIND` = [`IP`]), TCPRewriter ([`TCP`]) or UDPRewriter ([`UDP`]).
pub struct Rewriter<const KIND: u8> {
    inputs: Vec<InputSpec>,
    /// Live flows each input's spec created (Click shows them as `[N]` in `patterns`).
    input_counts: Vec<u32>,
    /// Flow key -> (slot << 1 | 1 if it is the reply entry).
    map: HashMap<FlowKey, u32>,
    flows: Vec<Flow>,
    free_head: u32,
    lru_head: u32,
    lru_tail: u32,
    nflows: usize,
    capacity: usize,
    t: Timeouts,
    dst_anno: bool,
    /// New flows that got no mapping: no free source port, or the table full of guaranteed flows.
    failures: u64,
    /// Packets killed: drop inputs, failures, unusable packets not on a pass input.
    drops: u64,
    rng: u64,
    /// The expiry sweep is scheduled; or should be, once the current batch is done.
    timer_pending: bool,
    want_timer: bool,
    /// The platform time when the element last ran (handlers have no clock of their own).
    clock: u64,
}

impl<const KIND: u8> Default for Rewriter<KIND> {
    fn default() -> Self {
        Rewriter {
            inputs: Vec::new(),
            input_counts: Vec::new(),
            map: HashMap::new(),
            flows: Vec::new(),
            free_head: NIL,
            lru_head: NIL,
            lru_tail: NIL,
            nflows: 0,
            capacity: DEFAULT_CAPACITY,
            t: Timeouts::default(),
            dst_anno: true,
            failures: 0,
            drops: 0,
            rng: 0,
            timer_pending: false,
            want_timer: false,
            clock: 0,
        }
    }
}

fn ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Reads the last given of several keyword spellings of one timeout (later names win, as the
/// order Click reads them makes them).
fn read_time(args: &mut Args, names: &[&str], into: &mut u64) -> Result<bool, ArgError> {
    let mut found = false;
    for n in names {
        if let Some(d) = args.read::<Duration>(n)? {
            *into = ns(d);
            found = true;
        }
    }
    Ok(found)
}

impl<const KIND: u8> Rewriter<KIND> {
    fn class_name() -> &'static str {
        match KIND {
            IP => "IPRewriter",
            TCP => "TCPRewriter",
            _ => "UDPRewriter",
        }
    }

    /// Whether this class maps packets of IP protocol `proto`.
    #[inline]
    fn handles(proto: u8) -> bool {
        match KIND {
            TCP => proto == PROTO_TCP,
            _ => proto == PROTO_TCP || proto == PROTO_UDP,
        }
    }

    // ---- the flow table ----

    #[inline]
    fn timeout(&self, f: &Flow) -> u64 {
        let t = if f.tcp {
            if f.state & TCP_BOTH_DONE == TCP_BOTH_DONE {
                self.t.tcp_done
            } else if f.state & TCP_BOTH_DATA == TCP_BOTH_DATA {
                self.t.tcp_data
            } else {
                self.t.tcp_nodata
            }
        } else if f.udp_streaming() {
            self.t.udp_streaming
        } else {
            self.t.udp
        };
        t.max(self.guarantee(f))
    }

    #[inline]
    fn guarantee(&self, f: &Flow) -> u64 {
        if f.tcp {
            self.t.tcp_guarantee
        } else {
            self.t.udp_guarantee
        }
    }

    fn expiry(&self, f: &Flow) -> u64 {
        f.last_ns.saturating_add(self.timeout(f))
    }

    fn lru_unlink(&mut self, i: u32) {
        let (prev, next) = {
            let f = &self.flows[i as usize];
            (f.prev, f.next)
        };
        match prev {
            NIL => self.lru_head = next,
            p => self.flows[p as usize].next = next,
        }
        match next {
            NIL => self.lru_tail = prev,
            n => self.flows[n as usize].prev = prev,
        }
    }

    fn lru_push_tail(&mut self, i: u32) {
        let tail = self.lru_tail;
        {
            let f = &mut self.flows[i as usize];
            f.prev = tail;
            f.next = NIL;
        }
        match tail {
            NIL => self.lru_head = i,
            t => self.flows[t as usize].next = i,
        }
        self.lru_tail = i;
    }

    /// Marks flow `i` used now: to the back of the eviction order.
    #[inline]
    fn touch(&mut self, i: u32, now: u64) {
        self.flows[i as usize].last_ns = now;
        if self.lru_tail != i {
            self.lru_unlink(i);
            self.lru_push_tail(i);
        }
    }

    /// Removes entries of `key` that point at flow `i` (another flow may have taken the key).
    fn unmap(&mut self, key: &FlowKey, i: u32) {
        if self.map.get(key).is_some_and(|&v| v >> 1 == i) {
            self.map.remove(key);
        }
    }

    fn destroy(&mut self, i: u32) {
        let (orig, rkey, input) = {
            let f = &self.flows[i as usize];
            if !f.live {
                return;
            }
            (f.orig, f.rew.reverse(), f.input as usize)
        };
        self.unmap(&orig, i);
        self.unmap(&rkey, i);
        self.lru_unlink(i);
        if let Some(c) = self.input_counts.get_mut(input) {
            *c = c.saturating_sub(1);
        }
        self.nflows -= 1;
        let free = self.free_head;
        let f = &mut self.flows[i as usize];
        f.live = false;
        f.prev = NIL;
        f.next = free;
        self.free_head = i;
    }

    /// Makes room for one flow by evicting the least recently used one, unless it is still within
    /// its guarantee (then the table is full of guaranteed flows and the new one loses).
    fn evict_one(&mut self, now: u64) -> bool {
        let h = self.lru_head;
        if h == NIL {
            return false;
        }
        let f = &self.flows[h as usize];
        if now < f.last_ns.saturating_add(self.guarantee(f)) {
            return false;
        }
        self.destroy(h);
        true
    }

    fn clear(&mut self) {
        while self.lru_head != NIL {
            self.destroy(self.lru_head);
        }
    }

    /// Removes expired flows.
    fn reap(&mut self, now: u64) {
        for i in 0..self.flows.len() {
            let f = &self.flows[i];
            if f.live && now >= self.expiry(f) {
                self.destroy(i as u32);
            }
        }
    }

    /// Evicts flows, least recently used first, until at most `capacity` remain.
    fn shrink(&mut self, now: u64) {
        self.reap(now);
        while self.nflows > self.capacity && self.lru_head != NIL {
            self.destroy(self.lru_head);
        }
    }

    /// Installs a mapping for new flow `key` arriving on `port`, if its input spec makes one.
    /// Returns the flow's slot.
    fn create(&mut self, port: usize, key: FlowKey, now: u64) -> Option<u32> {
        let map = &self.map;
        let (rew, foutput, routput) = match self.inputs.get_mut(port)? {
            InputSpec::Keep { foutput, routput } => (key, *foutput, *routput),
            InputSpec::Pattern {
                pattern,
                foutput,
                routput,
            } => match pattern.rewrite(&key, &mut self.rng, |k| map.contains_key(k)) {
                Some(r) => (r, *foutput, *routput),
                None => {
                    self.failures += 1;
                    return None;
                }
            },
            InputSpec::Drop | InputSpec::Pass { .. } => return None,
        };
        if self.nflows >= self.capacity && !self.evict_one(now) {
            self.failures += 1;
            return None;
        }
        let rkey = rew.reverse();
        // A fixed pattern may produce a reply key another flow holds: the new flow wins, as in
        // Click.
        if let Some(&v) = self.map.get(&rkey) {
            self.destroy(v >> 1);
        }
        let mut f = Flow::new(key, rew);
        f.last_ns = now;
        f.foutput = foutput as u32;
        f.routput = routput as u32;
        f.input = port as u32;
        f.tcp = KIND != UDP && key.proto == PROTO_TCP;
        f.live = true;
        let i = match self.free_head {
            NIL => {
                if self.flows.len() >= (NIL >> 1) as usize {
                    self.failures += 1;
                    return None;
                }
                self.flows.push(f);
                (self.flows.len() - 1) as u32
            }
            i => {
                self.free_head = self.flows[i as usize].next;
                self.flows[i as usize] = f;
                i
            }
        };
        self.map.insert(key, i << 1);
        if rkey != key {
            self.map.insert(rkey, (i << 1) | 1);
        }
        self.lru_push_tail(i);
        self.nflows += 1;
        if let Some(c) = self.input_counts.get_mut(port) {
            *c += 1;
        }
        if !self.timer_pending && self.t.reap > 0 {
            self.want_timer = true;
        }
        Some(i)
    }

    // ---- packets ----

    /// A packet this class does not map, or cannot read: pass inputs let it through unchanged,
    /// the others kill it.
    #[inline]
    fn unhandled(&mut self, port: usize) -> Option<usize> {
        match self.inputs.get(port) {
            Some(InputSpec::Pass { output }) => Some(*output),
            _ => {
                self.drops += 1;
                None
            }
        }
    }

    /// Looks a packet up, makes a mapping if it is new and the input says so, rewrites it, and
    /// returns its output (`None`: kill it).
    fn process(&mut self, port: usize, p: &mut Packet, now: u64) -> Option<usize> {
        // The IP header is where the annotation says, or at the start.
        let off = p.anno().network_offset().unwrap_or(0);
        let (key, hl, has_payload, tcp_flags) = {
            let Some(bytes) = p.data().get(off..) else {
                return self.unhandled(port);
            };
            let ip = match Ipv4Packet::new_checked(bytes) {
                Ok(ip) if ip.version() == 4 => ip,
                _ => return self.unhandled(port),
            };
            let proto = u8::from(ip.next_header());
            let hl = usize::from(ip.header_len());
            let tl = usize::from(ip.total_len());
            if hl < 20 {
                return self.unhandled(port);
            }
            let l4 = &bytes[hl..tl];
            let min = if proto == PROTO_TCP { 20 } else { 8 };
            // Non-first fragments carry no ports: they are not this element's business.
            if !Self::handles(proto) || ip.frag_offset() != 0 || l4.len() < min {
                return self.unhandled(port);
            }
            let (tcp_flags, has_payload) = if proto == PROTO_TCP {
                let doff = usize::from(l4[12] >> 4) * 4;
                (l4[13], hl + doff < tl)
            } else {
                (0, false)
            };
            let key = FlowKey {
                saddr: ip.src_addr().into(),
                daddr: ip.dst_addr().into(),
                sport: u16::from_be_bytes([l4[0], l4[1]]),
                dport: u16::from_be_bytes([l4[2], l4[3]]),
                proto,
            };
            (key, hl, has_payload, tcp_flags)
        };

        let (i, reply) = match self.map.get(&key) {
            Some(&v) => (v >> 1, v & 1 == 1),
            None => match self.inputs.get(port) {
                Some(InputSpec::Pass { output }) => return Some(*output),
                Some(InputSpec::Keep { .. } | InputSpec::Pattern { .. }) => {
                    match self.create(port, key, now) {
                        Some(i) => (i, false),
                        None => {
                            self.drops += 1;
                            return None;
                        }
                    }
                }
                _ => {
                    self.drops += 1;
                    return None;
                }
            },
        };

        let f = &mut self.flows[i as usize];
        // What the packet becomes, and the checksum changes that takes.
        let (new, ip_delta, l4_delta, out) = if reply {
            (f.orig.reverse(), !f.ip_delta, !f.l4_delta, f.routput)
        } else {
            (f.rew, f.ip_delta, f.l4_delta, f.foutput)
        };
        // Both zeros of one's-complement arithmetic mean "no change" (an identity mapping).
        let (ip_unchanged, l4_unchanged) = (
            f.ip_delta == 0 || f.ip_delta == 0xFFFF,
            f.l4_delta == 0 || f.l4_delta == 0xFFFF,
        );
        if key.proto == PROTO_TCP && f.tcp {
            f.track_tcp(reply, tcp_flags, has_payload);
        } else {
            f.track_udp(reply);
        }
        self.touch(i, now);

        let data = &mut p.data_mut()[off..];
        {
            let mut ip = Ipv4Packet::new_unchecked(&mut *data);
            ip.set_src_addr(Ipv4Addr::from(new.saddr));
            ip.set_dst_addr(Ipv4Addr::from(new.daddr));
            if !ip_unchanged {
                let c = ip.checksum();
                ip.set_checksum(csum_adjust(c, ip_delta));
            }
        }
        let l4 = &mut data[hl..];
        if key.proto == PROTO_TCP {
            let mut tcp = TcpPacket::new_unchecked(l4);
            tcp.set_src_port(new.sport);
            tcp.set_dst_port(new.dport);
            if !l4_unchanged {
                let c = tcp.checksum();
                tcp.set_checksum(csum_adjust(c, l4_delta));
            }
        } else {
            let mut udp = UdpPacket::new_unchecked(l4);
            udp.set_src_port(new.sport);
            udp.set_dst_port(new.dport);
            // A zero UDP checksum means "none" and stays so; a computed zero is sent as 0xFFFF.
            let c = udp.checksum();
            if c != 0 && !l4_unchanged {
                let n = csum_adjust(c, l4_delta);
                udp.set_checksum(if n == 0 { 0xFFFF } else { n });
            }
        }
        if self.dst_anno {
            p.anno_mut().dst_ip = Ipv4Addr::from(new.daddr);
        }
        Some(out as usize)
    }

    // ---- handlers ----

    fn table_text(&self, proto: Option<u8>, now: u64) -> String {
        let mut s = String::new();
        for f in &self.flows {
            if !f.live || proto.is_some_and(|p| p != f.orig.proto) {
                continue;
            }
            let exp = self.expiry(f).saturating_sub(now).saturating_add(SEC / 2) / SEC;
            let _ = writeln!(
                s,
                "{} => {} [*{} {}] i{} exp{}",
                f.orig, f.rew, f.foutput, f.routput, f.input, exp
            );
            let _ = writeln!(
                s,
                "{} => {} [{} *{}] i{} exp{}",
                f.rew.reverse(),
                f.orig.reverse(),
                f.foutput,
                f.routput,
                f.input,
                exp
            );
        }
        s
    }

    fn patterns_text(&self) -> String {
        let mut s = String::new();
        for (k, spec) in self.inputs.iter().enumerate() {
            s += &spec.describe();
            let n = self.input_counts.get(k).copied().unwrap_or(0);
            if n > 0 {
                let _ = write!(s, " [{n}]");
            }
            s.push('\n');
        }
        s
    }
}

impl<const KIND: u8> Element for Rewriter<KIND> {
    fn configure(&mut self, args: &mut Args, cx: &ConfigureContext<'_>) -> Result<(), ArgError> {
        // Keywords first, as Click takes them out before reading the input specs.
        let cap = {
            let a = args.read::<String>("CAPACITY")?;
            let b = args.read::<String>("MAPPING_CAPACITY")?;
            b.or(a)
        };
        if let Some(w) = cap {
            self.capacity = match usize::parse_arg(&w) {
                Ok(n) => n,
                Err(_) => {
                    let shared = cx.find_element(w.trim()).is_some_and(|e| {
                        matches!(
                            e.class.as_str(),
                            "IPRewriter" | "TCPRewriter" | "UDPRewriter"
                        )
                    });
                    return Err(ArgError::new(
                        "MAPPING_CAPACITY",
                        if shared {
                            format!(
                                "sharing the flow set of '{}' is not supported: give each \
                                 rewriter its own capacity",
                                w.trim()
                            )
                        } else {
                            format!("bad MAPPING_CAPACITY '{}': expected a number of flows", w)
                        },
                        None,
                    ));
                }
            };
        }
        read_time(args, &["REAP_INTERVAL", "REAP_TIME"], &mut self.t.reap)?;
        self.dst_anno = args.read_or("DST_ANNO", true)?;
        if args.read::<String>("REPLY_ANNO")?.is_some() {
            return Err(ArgError::new(
                "REPLY_ANNO",
                "not supported: ClickOS-rs packets have no byte-addressed annotation area",
                None,
            ));
        }
        let t = &mut self.t;
        match KIND {
            UDP => {
                read_time(args, &["UDP_TIMEOUT", "TIMEOUT"], &mut t.udp)?;
                t.udp_streaming = t.udp;
                read_time(
                    args,
                    &["UDP_STREAMING_TIMEOUT", "STREAMING_TIMEOUT"],
                    &mut t.udp_streaming,
                )?;
                read_time(args, &["UDP_GUARANTEE", "GUARANTEE"], &mut t.udp_guarantee)?;
            }
            _ => {
                if KIND == IP {
                    read_time(args, &["UDP_TIMEOUT"], &mut t.udp)?;
                    t.udp_streaming = t.udp;
                    read_time(args, &["UDP_STREAMING_TIMEOUT"], &mut t.udp_streaming)?;
                    read_time(args, &["UDP_GUARANTEE"], &mut t.udp_guarantee)?;
                }
                read_time(args, &["TCP_NODATA_TIMEOUT"], &mut t.tcp_nodata)?;
                read_time(args, &["TIMEOUT", "TCP_TIMEOUT"], &mut t.tcp_data)?;
                read_time(args, &["TCP_DONE_TIMEOUT"], &mut t.tcp_done)?;
                read_time(args, &["TCP_GUARANTEE", "GUARANTEE"], &mut t.tcp_guarantee)?;
            }
        }

        let specs = args.rest_positional();
        if specs.len() != cx.ninputs {
            return Err(ArgError::new(
                "INPUTSPEC",
                format!(
                    "need {} argument{}, one per input port (got {})",
                    cx.ninputs,
                    if cx.ninputs == 1 { "" } else { "s" },
                    specs.len()
                ),
                None,
            ));
        }
        let named = |name: &str| {
            find_named(
                cx.elements_of_class("IPRewriterPatterns")
                    .map(|e| e.config.as_str()),
                name,
            )
        };
        self.inputs.clear();
        for (k, raw) in specs.iter().enumerate() {
            let spec = InputSpec::parse(&raw.text, cx.noutputs, &named).map_err(|e| {
                ArgError::new(
                    "INPUTSPEC",
                    format!("input spec {k}: {e}"),
                    Some(raw.range.clone()),
                )
            })?;
            self.inputs.push(spec);
        }
        self.input_counts = alloc::vec![0; self.inputs.len()];

        // Allocate the table now, so packets of known flows never allocate.
        let presize = if self.capacity == DEFAULT_CAPACITY {
            DEFAULT_PRESIZE
        } else {
            self.capacity.min(MAX_PRESIZE)
        };
        self.flows = Vec::with_capacity(presize);
        self.map = HashMap::with_capacity(presize * 2);
        Ok(())
    }

    fn initialize(&mut self, cx: &mut InitContext<'_>) -> Result<(), String> {
        // Seed the port chooser from the clocks and the name: different elements and runs
        // spread their choices differently.
        let mut seed = cx.now_ns() ^ cx.platform().wall_ns().rotate_left(32);
        for b in cx.name().bytes() {
            seed = (seed ^ u64::from(b)).wrapping_mul(0x100_0000_01B3);
        }
        self.rng = seed | 1;
        Ok(())
    }

    fn push(&mut self, port: usize, batch: Batch, cx: &mut Context<'_>) {
        let now = cx.now_ns();
        self.clock = now;
        cx.classify(batch, |p| self.process(port, p, now));
        if self.want_timer {
            self.want_timer = false;
            self.timer_pending = true;
            cx.schedule_housekeeping_timer(now.saturating_add(self.t.reap));
        }
    }

    fn run_timer(&mut self, cx: &mut Context<'_>) {
        let now = cx.now_ns();
        self.clock = now;
        self.reap(now);
        if self.nflows > 0 && self.t.reap > 0 {
            cx.schedule_housekeeping_timer(now.saturating_add(self.t.reap));
        } else {
            self.timer_pending = false;
        }
    }

    fn handlers(&self) -> &'static [HandlerSpec] {
        const COMMON: &[HandlerSpec] = &[
            HandlerSpec::read("table"),
            HandlerSpec::read("nmappings"),
            HandlerSpec::read("size"),
            HandlerSpec::read_write("capacity"),
            HandlerSpec::write("clear"),
            HandlerSpec::read("mapping_failures"),
            HandlerSpec::read("patterns"),
            HandlerSpec::read("drops"),
        ];
        const WITH_TABLES: &[HandlerSpec] = &[
            HandlerSpec::read("table"),
            HandlerSpec::read("tcp_table"),
            HandlerSpec::read("udp_table"),
            HandlerSpec::read("nmappings"),
            HandlerSpec::read("size"),
            HandlerSpec::read_write("capacity"),
            HandlerSpec::write("clear"),
            HandlerSpec::read("mapping_failures"),
            HandlerSpec::read("patterns"),
            HandlerSpec::read("drops"),
        ];
        if KIND == IP {
            WITH_TABLES
        } else {
            COMMON
        }
    }

    fn read_handler(&self, name: &str) -> Option<String> {
        let now = self.clock;
        match name {
            "table" => Some(self.table_text(None, now)),
            "tcp_table" => Some(self.table_text(Some(PROTO_TCP), now)),
            "udp_table" => Some(self.table_text(Some(PROTO_UDP), now)),
            "nmappings" | "size" => Some(self.nflows.to_string()),
            "capacity" => Some(self.capacity.to_string()),
            "mapping_failures" => Some(self.failures.to_string()),
            "patterns" => Some(self.patterns_text()),
            "drops" => Some(self.drops.to_string()),
            _ => None,
        }
    }

    fn write_handler(
        &mut self,
        name: &str,
        value: &str,
        cx: &mut Context<'_>,
    ) -> Result<(), String> {
        let now = cx.now_ns();
        self.clock = now;
        match name {
            "clear" => {
                self.clear();
                Ok(())
            }
            "capacity" => {
                self.capacity = usize::parse_arg(value)
                    .map_err(|e| format!("{}: capacity: {e}", Self::class_name()))?;
                self.shrink(now);
                Ok(())
            }
            _ => Err(format!("handler '{name}' is not writable")),
        }
    }
}

/// Used by IPRewriterPatterns to check its patterns with the rewriters' parser.
pub(crate) fn check_pattern(words: &[&str]) -> Result<(), String> {
    super::pattern::Pattern::parse(words).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::library::nat::testutil::{fields, tcp, SYN};

    fn configured(cfg: &str) -> Rewriter<IP> {
        let mut r = Rewriter::<IP>::default();
        let cx = ConfigureContext {
            name: "rw",
            ninputs: 1,
            noutputs: 2,
            graph: None,
        };
        let mut a = Args::new(cfg);
        r.configure(&mut a, &cx).unwrap();
        a.complete().unwrap();
        r
    }

    #[test]
    fn destination_annotation_follows_the_rewrite() {
        for (dst_anno, want) in [("", [9, 9, 9, 9]), (", DST_ANNO false", [0, 0, 0, 0])] {
            let mut r = configured(&format!("pattern - - 9.9.9.9 8080 1 0{dst_anno}"));
            let mut p = Packet::from_slice(&tcp([10, 0, 0, 1], 1, [2, 0, 0, 2], 80, SYN, b""));
            assert_eq!(r.process(0, &mut p, 0), Some(1));
            assert_eq!(p.anno().dst_ip, Ipv4Addr::from(want));
            assert_eq!(fields(p.data()).2, [9, 9, 9, 9]);
        }
    }

    #[test]
    fn table_is_presized_and_slots_are_reused() {
        let mut r = configured("pattern 1.0.0.1 1024-65535# - - 0 1, CAPACITY 8");
        assert!(r.flows.capacity() >= 8 && r.map.capacity() >= 16);
        let cap = (r.flows.capacity(), r.map.capacity());
        for round in 0..50u16 {
            for k in 0..8u16 {
                let mut p =
                    Packet::from_slice(&tcp([10, 0, 0, 1], 100 + k, [2, 0, 0, 2], 80, SYN, b""));
                assert_eq!(r.process(0, &mut p, u64::from(round) * 100 * SEC), Some(0));
            }
            assert_eq!(r.nflows, 8);
            // Old flows are evicted (their guarantee is long past), slots reused.
            assert_eq!(r.flows.len(), 8);
        }
        assert_eq!((r.flows.capacity(), r.map.capacity()), cap);
        r.clear();
        assert_eq!((r.nflows, r.map.len()), (0, 0));
    }
}
