//! ARPQuerier — puts Ethernet headers on IP packets, finding the destination's Ethernet address
//! with ARP.
//!
//! Ports: 2 inputs (0: IP packets with the destination IP annotation set; 1: ARP replies, with
//! their Ethernet header), 1 or 2 outputs (0: Ethernet frames; 1, if present: ARP queries, which
//! otherwise leave on output 0).
//! Processing: push.
//! Arguments: IP (mandatory) this host's address, optionally as a prefix (`10.0.0.1/24`), which
//! sets the default BROADCAST; ETH (mandatory) this host's Ethernet address. Both may be given
//! positionally (`ARPQuerier(10.0.0.1, 02:00:00:00:00:01)`) or by keyword. Keywords: CAPACITY
//! (unsigned, default 2048, 0 = unlimited) packets waiting for replies, in all; ENTRY_CAPACITY
//! (unsigned, default 0 = unlimited) table entries; ENTRY_PACKET_CAPACITY (unsigned, default 0 =
//! unlimited) packets waiting for one address; TIMEOUT (time, default 5 min, 0 = never) how long
//! an entry lives after its last reply; POLL_TIMEOUT (time, default 1 min, 0 = never) after which
//! a known entry is refreshed by a new query while still in use; BROADCAST (IP address) the local
//! broadcast address (default: from the IP prefix, else 255.255.255.255); BROADCAST_POLL (bool,
//! default false) send refresh queries to the broadcast address instead of the known one.
//! Handlers: `table` (read) one `IP OK ETH AGE` line per entry, oldest first (OK is 1 when the
//! address is known and not expired; AGE, in seconds, is measured at the element's last activity
//! — handlers are not given the clock); `stats` (read) drops and queries; `count` (read) entries;
//! `length` (read) waiting packets; `queries`, `responses`, `drops` (read) counters; `ipaddr`
//! (read/write) this host's IP address; `broadcast` (read); `insert` (write) `IP ETH` adds a known
//! entry, sending any packets waiting for it; `delete` (write) `IP` removes an entry, dropping its
//! waiting packets; `clear` (write) removes every entry.
//!
//! Behaviour on input 0, by destination annotation:
//! - a known, unexpired address: the packet gets a header (from ETH to the known address, type
//!   0x0800) and leaves on output 0. If the entry is older than POLL_TIMEOUT, a refresh query
//!   goes out too (rate-limited as below).
//! - 0.0.0.0: dropped. 255.255.255.255 and BROADCAST: sent to ff:ff:ff:ff:ff:ff. Multicast
//!   (224.0.0.0/4): sent to 01:00:5e plus the low 23 bits of the address (RFC 1112).
//! - anything else: the packet waits in the entry's queue and a broadcast query goes out, at most
//!   10 a second per address (every 2 s once 10 queries went unanswered), as in Click. A full
//!   queue (CAPACITY or ENTRY_PACKET_CAPACITY) drops the new packet. While packets wait, a timer
//!   re-sends the query each second (every 2 s after 10 unanswered), and an entry still unanswered
//!   TIMEOUT after it was created expires with its packets.
//!
//! On input 1, an Ethernet/IPv4 ARP reply from a unicast address records (or refreshes) the
//! sender's entry and releases its waiting packets, in arrival order; every input-1 frame is then
//! killed. When ENTRY_CAPACITY is reached, expired entries go first, then the oldest entry.
//!
//! Expiry is lazy: an expired entry counts as unknown when used, and expired entries are swept
//! when the table has doubled since the last sweep, when it is full, and by the retry timer. The
//! timer runs only while packets wait, so an idle ARPQuerier schedules nothing.
//!
//! Not supported from Click: the one-argument NAME form and TABLE (there are no AddressInfo or
//! ARPTable elements), and the VLAN annotation on queries. Click drops the oldest waiting packets
//! when CAPACITY is exceeded; this element drops the new one (no scan on the data path). Click's
//! `insert` handler leaves waiting packets queued; here they are sent.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::net::Ipv4Addr;
use core::time::Duration;

use config_lang::args::{ArgError, ArgValue, Args, EtherAddr, Ipv4Prefix};
use hashbrown::HashMap;

use super::{
    eth_text, is_group, parse_arp_frame, write_arp_frame, write_ether_header, Arp, ARP_FRAME_LEN,
    ETHERTYPE_IP, ETHER_BROADCAST, ETHER_HLEN,
};
use crate::batch::Batch;
use crate::element::{ConfigureContext, Element, ElementClass, HandlerSpec};
use crate::packet::{Packet, PacketPool};
use crate::router::Context;

pub const CLASS: ElementClass = super::element_class!("ARPQuerier", "2/1-2", "h/h", ARPQuerier);

const SEC: u64 = 1_000_000_000;
/// Minimum gap between queries for one address, before and after 10 unanswered ones.
const POLL_GAP: u64 = SEC / 10;
const POLL_GAP_SLOW: u64 = 2 * SEC;
/// Retry period of the timer while packets wait, before and after 10 unanswered queries.
const RETRY: u64 = SEC;
const RETRY_SLOW: u64 = 2 * SEC;
/// Queries without an answer before slowing down.
const FAST_POLLS: u8 = 10;

const NIL: u32 = u32::MAX;

/// Packets waiting for one address: a linked list through the slab.
#[derive(Clone, Copy)]
struct Queue {
    head: u32,
    tail: u32,
    len: u32,
}

impl Default for Queue {
    fn default() -> Self {
        Queue {
            head: NIL,
            tail: NIL,
            len: 0,
        }
    }
}

struct Slot {
    pkt: Option<Packet>,
    next: u32,
}

/// Storage for waiting packets: slots reused through a free list, so queueing does not allocate
/// once the slab has grown to the peak number of waiting packets.
#[derive(Default)]
struct Slab {
    slots: Vec<Slot>,
    free: Vec<u32>,
    /// Packets stored, in all queues.
    len: usize,
}

impl Slab {
    fn enqueue(&mut self, q: &mut Queue, p: Packet) {
        let slot = Slot {
            pkt: Some(p),
            next: NIL,
        };
        let k = match self.free.pop() {
            Some(k) => {
                self.slots[k as usize] = slot;
                k
            }
            None => {
                self.slots.push(slot);
                (self.slots.len() - 1) as u32
            }
        };
        if q.tail == NIL {
            q.head = k;
        } else {
            self.slots[q.tail as usize].next = k;
        }
        q.tail = k;
        q.len += 1;
        self.len += 1;
    }

    /// Takes every packet of `q`, oldest first.
    fn drain(&mut self, q: &mut Queue, mut f: impl FnMut(Packet)) {
        let mut k = q.head;
        while k != NIL {
            let s = &mut self.slots[k as usize];
            let next = s.next;
            if let Some(p) = s.pkt.take() {
                f(p);
            }
            self.free.push(k);
            k = next;
        }
        self.len -= q.len as usize;
        *q = Queue::default();
    }
}

struct Entry {
    eth: [u8; 6],
    known: bool,
    /// Creation or last reply.
    live_at: u64,
    polled_at: Option<u64>,
    polls_since_reply: u8,
    queue: Queue,
}

impl Entry {
    fn new(now: u64) -> Entry {
        Entry {
            eth: ETHER_BROADCAST,
            known: false,
            live_at: now,
            polled_at: None,
            polls_since_reply: 0,
            queue: Queue::default(),
        }
    }

    #[inline]
    fn expired(&self, now: u64, timeout: u64) -> bool {
        timeout != 0 && now.saturating_sub(self.live_at) > timeout
    }

    #[inline]
    fn usable(&self, now: u64, timeout: u64) -> bool {
        self.known && !self.expired(now, timeout)
    }

    /// Whether a query may go out now (Click's rate limit).
    fn allow_poll(&self, now: u64) -> bool {
        let gap = if self.polls_since_reply >= FAST_POLLS {
            POLL_GAP_SLOW
        } else {
            POLL_GAP
        };
        self.polled_at.is_none_or(|t| now >= t.saturating_add(gap))
    }

    /// When the retry timer should query again for this entry's waiting packets.
    fn retry_at(&self) -> u64 {
        let gap = if self.polls_since_reply >= FAST_POLLS {
            RETRY_SLOW
        } else {
            RETRY
        };
        self.polled_at.map_or(0, |t| t.saturating_add(gap))
    }

    fn mark_poll(&mut self, now: u64) {
        self.polled_at = Some(now);
        self.polls_since_reply = self.polls_since_reply.saturating_add(1);
    }
}

/// Where the element's output goes while it handles a batch: frames to output 0, queries to
/// output 1 when there are two outputs, otherwise into the same batch in order.
struct Sink {
    out: Batch,
    queries: Option<Batch>,
}

impl Sink {
    fn query(&mut self, p: Packet) {
        self.queries.as_mut().unwrap_or(&mut self.out).push(p);
    }

    fn flush(self, cx: &mut Context<'_>) {
        cx.push(0, self.out);
        if let Some(q) = self.queries {
            cx.push(1, q);
        }
    }
}

pub struct ARPQuerier {
    my_ip: Ipv4Addr,
    my_eth: [u8; 6],
    bcast: Ipv4Addr,
    capacity: usize,
    entry_capacity: usize,
    entry_packet_capacity: u32,
    timeout: u64,
    poll_timeout: u64,
    broadcast_poll: bool,
    table: HashMap<u32, Entry>,
    slab: Slab,
    /// Table size after the last sweep of expired entries.
    swept_len: usize,
    timer_at: Option<u64>,
    /// The clock at the last push, timer or handler write (read handlers get no clock).
    last_now: u64,
    queries: u64,
    responses: u64,
    drops: u64,
}

impl Default for ARPQuerier {
    fn default() -> Self {
        ARPQuerier {
            my_ip: Ipv4Addr::UNSPECIFIED,
            my_eth: [0; 6],
            bcast: Ipv4Addr::BROADCAST,
            capacity: 2048,
            entry_capacity: 0,
            entry_packet_capacity: 0,
            timeout: 300 * SEC,
            poll_timeout: 60 * SEC,
            broadcast_poll: false,
            table: HashMap::new(),
            slab: Slab::default(),
            swept_len: 0,
            timer_at: None,
            last_now: 0,
            queries: 0,
            responses: 0,
            drops: 0,
        }
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl ARPQuerier {
    /// Builds an ARP request for `target`, to `dst` (broadcast, or the known address for a
    /// refresh).
    fn make_query(&mut self, pool: &mut PacketPool, target: Ipv4Addr, dst: [u8; 6]) -> Packet {
        let mut q = pool.make(ARP_FRAME_LEN);
        let arp = Arp {
            request: true,
            sha: self.my_eth,
            spa: self.my_ip,
            tha: [0; 6],
            tpa: target,
        };
        write_arp_frame(q.data_mut(), dst, self.my_eth, &arp);
        self.queries += 1;
        q
    }

    #[inline]
    fn encapsulate(&self, p: &mut Packet, dst: [u8; 6]) {
        let d = p.push_head(ETHER_HLEN);
        write_ether_header(d, dst, self.my_eth, ETHERTYPE_IP);
    }

    fn drop_queue(slab: &mut Slab, q: &mut Queue, pool: &mut PacketPool, drops: &mut u64) {
        *drops += q.len as u64;
        slab.drain(q, |p| pool.recycle(p));
    }

    /// Removes expired entries, dropping their waiting packets.
    fn sweep(&mut self, now: u64, pool: &mut PacketPool) {
        let (slab, drops, timeout) = (&mut self.slab, &mut self.drops, self.timeout);
        self.table.retain(|_, e| {
            if e.expired(now, timeout) {
                Self::drop_queue(slab, &mut e.queue, pool, drops);
                false
            } else {
                true
            }
        });
        self.swept_len = self.table.len();
    }

    /// The entry for `ip`, created if missing (making room under ENTRY_CAPACITY).
    fn ensure(&mut self, ip: u32, now: u64, pool: &mut PacketPool) -> &mut Entry {
        if !self.table.contains_key(&ip) {
            let n = self.table.len();
            if self.entry_capacity != 0 && n >= self.entry_capacity {
                self.sweep(now, pool);
                if self.table.len() >= self.entry_capacity {
                    let oldest = self
                        .table
                        .iter()
                        .min_by_key(|(k, e)| (e.live_at, **k))
                        .map(|(k, _)| *k);
                    if let Some(k) = oldest {
                        let mut e = self.table.remove(&k).expect("present");
                        Self::drop_queue(&mut self.slab, &mut e.queue, pool, &mut self.drops);
                    }
                }
            } else if n >= 64 && n >= 2 * self.swept_len {
                self.sweep(now, pool);
            }
        }
        self.table.entry(ip).or_insert_with(|| Entry::new(now))
    }

    fn handle_ip(&mut self, mut p: Packet, now: u64, pool: &mut PacketPool, sink: &mut Sink) {
        let dst = p.anno().dst_ip;
        let a = u32::from(dst);
        if let Some(e) = self.table.get_mut(&a) {
            if e.usable(now, self.timeout) {
                let eth = e.eth;
                let poll = self.poll_timeout != 0
                    && now.saturating_sub(e.live_at) >= self.poll_timeout
                    && e.allow_poll(now);
                if poll {
                    e.mark_poll(now);
                }
                self.encapsulate(&mut p, eth);
                sink.out.push(p);
                if poll {
                    let to = if self.broadcast_poll {
                        ETHER_BROADCAST
                    } else {
                        eth
                    };
                    let q = self.make_query(pool, dst, to);
                    sink.query(q);
                }
                return;
            }
        }
        if a == 0 {
            self.drops += 1;
            pool.recycle(p);
            return;
        }
        if a == u32::MAX || dst == self.bcast {
            self.encapsulate(&mut p, ETHER_BROADCAST);
            sink.out.push(p);
            return;
        }
        if dst.is_multicast() {
            let o = dst.octets();
            self.encapsulate(&mut p, [0x01, 0x00, 0x5e, o[1] & 0x7f, o[2], o[3]]);
            sink.out.push(p);
            return;
        }
        let (timeout, epc, cap) = (self.timeout, self.entry_packet_capacity, self.capacity);
        self.ensure(a, now, pool);
        let e = self.table.get_mut(&a).expect("just ensured");
        if e.expired(now, timeout) {
            // An old entry (known or not): start over.
            Self::drop_queue(&mut self.slab, &mut e.queue, pool, &mut self.drops);
            *e = Entry::new(now);
        }
        if (epc != 0 && e.queue.len >= epc) || (cap != 0 && self.slab.len >= cap) {
            self.drops += 1;
            pool.recycle(p);
            return;
        }
        self.slab.enqueue(&mut e.queue, p);
        if e.allow_poll(now) {
            e.mark_poll(now);
            let q = self.make_query(pool, dst, ETHER_BROADCAST);
            sink.query(q);
        }
    }

    /// Records `ip` at `eth` and sends the packets that waited for it.
    fn insert(
        &mut self,
        ip: Ipv4Addr,
        eth: [u8; 6],
        now: u64,
        pool: &mut PacketPool,
        out: &mut Batch,
    ) {
        self.ensure(u32::from(ip), now, pool);
        let e = self.table.get_mut(&u32::from(ip)).expect("just ensured");
        e.eth = eth;
        e.known = eth != ETHER_BROADCAST;
        e.live_at = now;
        e.polled_at = None;
        e.polls_since_reply = 0;
        let mut q = core::mem::take(&mut e.queue);
        let me = self.my_eth;
        self.slab.drain(&mut q, |mut p| {
            let d = p.push_head(ETHER_HLEN);
            write_ether_header(d, eth, me, ETHERTYPE_IP);
            out.push(p);
        });
    }

    fn handle_reply(&mut self, p: Packet, now: u64, pool: &mut PacketPool, out: &mut Batch) {
        if let Some(arp) = parse_arp_frame(p.data()) {
            if !arp.request && !is_group(&arp.sha) && !arp.spa.is_unspecified() {
                self.responses += 1;
                self.insert(arp.spa, arp.sha, now, pool, out);
            }
        }
        pool.recycle(p);
    }

    /// Schedules the retry timer for `at` unless it already fires sooner.
    fn arm(&mut self, at: u64, cx: &mut Context<'_>) {
        if self.timer_at.is_none_or(|t| at < t) {
            self.timer_at = Some(at);
            cx.schedule_housekeeping_timer(at);
        }
    }

    fn next_retry(&self) -> Option<u64> {
        self.table
            .values()
            .filter(|e| e.queue.len > 0)
            .map(|e| {
                let r = e.retry_at();
                if self.timeout == 0 {
                    r
                } else {
                    r.min(e.live_at.saturating_add(self.timeout).saturating_add(1))
                }
            })
            .min()
    }

    fn clear(&mut self, pool: &mut PacketPool) {
        for (_, mut e) in self.table.drain() {
            Self::drop_queue(&mut self.slab, &mut e.queue, pool, &mut self.drops);
        }
        self.swept_len = 0;
    }
}

impl Element for ARPQuerier {
    fn configure(&mut self, args: &mut Args, _cx: &ConfigureContext<'_>) -> Result<(), ArgError> {
        let capacity: u32 = args.read_or("CAPACITY", 2048)?;
        let entry_capacity: u32 = args.read_or("ENTRY_CAPACITY", 0)?;
        self.entry_packet_capacity = args.read_or("ENTRY_PACKET_CAPACITY", 0)?;
        self.timeout = nanos(args.read_or("TIMEOUT", Duration::from_secs(300))?);
        self.poll_timeout = nanos(args.read_or("POLL_TIMEOUT", Duration::from_secs(60))?);
        let bcast: Option<Ipv4Addr> = args.read("BROADCAST")?;
        self.broadcast_poll = args.read_or("BROADCAST_POLL", false)?;
        let ip: Ipv4Prefix = args.read_mp("IP")?;
        self.my_eth = args.read_mp::<EtherAddr>("ETH")?.0;
        self.my_ip = ip.addr;
        self.bcast = bcast.unwrap_or_else(|| {
            let b = Ipv4Addr::from(u32::from(ip.addr) | !u32::from(ip.mask()));
            if b == ip.addr {
                Ipv4Addr::BROADCAST
            } else {
                b
            }
        });
        self.capacity = capacity as usize;
        self.entry_capacity = entry_capacity as usize;
        // Room for the usual number of waiting packets, allocated once.
        self.slab.slots.reserve(self.capacity.min(4096));
        Ok(())
    }

    fn push(&mut self, port: usize, mut batch: Batch, cx: &mut Context<'_>) {
        let now = cx.now_ns();
        self.last_now = now;
        let mut sink = Sink {
            out: cx.new_batch(),
            queries: (cx.noutputs() > 1).then(|| cx.new_batch()),
        };
        if port == 0 {
            for p in batch.drain() {
                self.handle_ip(p, now, cx.pool(), &mut sink);
            }
        } else {
            for p in batch.drain() {
                self.handle_reply(p, now, cx.pool(), &mut sink.out);
            }
        }
        cx.kill_batch(batch);
        sink.flush(cx);
        if self.slab.len > 0 && self.timer_at.is_none() {
            if let Some(at) = self.next_retry() {
                self.arm(at.max(now + 1), cx);
            }
        }
    }

    fn run_timer(&mut self, cx: &mut Context<'_>) {
        let now = cx.now_ns();
        self.last_now = now;
        if self.timer_at.is_some_and(|t| t <= now) {
            self.timer_at = None;
        }
        self.sweep(now, cx.pool());
        let mut sink = Sink {
            out: cx.new_batch(),
            queries: (cx.noutputs() > 1).then(|| cx.new_batch()),
        };
        let due: Vec<u32> = self
            .table
            .iter()
            .filter(|(_, e)| e.queue.len > 0 && !e.known && e.retry_at() <= now)
            .map(|(k, _)| *k)
            .collect();
        for k in due {
            if let Some(e) = self.table.get_mut(&k) {
                e.mark_poll(now);
            }
            let q = self.make_query(cx.pool(), Ipv4Addr::from(k), ETHER_BROADCAST);
            sink.query(q);
        }
        sink.flush(cx);
        if let Some(at) = self.next_retry() {
            self.arm(at.max(now + 1), cx);
        }
    }

    fn handlers(&self) -> &'static [HandlerSpec] {
        const H: &[HandlerSpec] = &[
            HandlerSpec::read("table"),
            HandlerSpec::read("stats"),
            HandlerSpec::read("count"),
            HandlerSpec::read("length"),
            HandlerSpec::read("queries"),
            HandlerSpec::read("responses"),
            HandlerSpec::read("drops"),
            HandlerSpec::read_write("ipaddr"),
            HandlerSpec::read("broadcast"),
            HandlerSpec::write("insert"),
            HandlerSpec::write("delete"),
            HandlerSpec::write("clear"),
        ];
        H
    }

    fn read_handler(&self, name: &str) -> Option<String> {
        Some(match name {
            "table" => {
                let mut v: Vec<(&u32, &Entry)> = self.table.iter().collect();
                v.sort_by_key(|(k, e)| (e.live_at, **k));
                let now = self.last_now;
                v.into_iter()
                    .map(|(k, e)| {
                        let age = now.saturating_sub(e.live_at);
                        format!(
                            "{} {} {} {}.{:06}\n",
                            Ipv4Addr::from(*k),
                            u8::from(e.usable(now, self.timeout)),
                            eth_text(e.eth),
                            age / SEC,
                            (age % SEC) / 1000
                        )
                    })
                    .collect()
            }
            "stats" => format!(
                "{} packets killed\n{} ARP queries sent\n",
                self.drops, self.queries
            ),
            "count" => self.table.len().to_string(),
            "length" => self.slab.len.to_string(),
            "queries" => self.queries.to_string(),
            "responses" => self.responses.to_string(),
            "drops" => self.drops.to_string(),
            "ipaddr" => self.my_ip.to_string(),
            "broadcast" => self.bcast.to_string(),
            _ => return None,
        })
    }

    fn write_handler(
        &mut self,
        name: &str,
        value: &str,
        cx: &mut Context<'_>,
    ) -> Result<(), String> {
        let now = cx.now_ns();
        self.last_now = now;
        match name {
            "ipaddr" => {
                self.my_ip = Ipv4Addr::parse_arg(value)
                    .map_err(|_| String::from("'ipaddr' expects IP address"))?;
            }
            "insert" => {
                let words: Vec<&str> = value.split_whitespace().collect();
                let [ip, eth] = words[..] else {
                    return Err("expected 'IP ETH'".into());
                };
                let ip = Ipv4Addr::parse_arg(ip)?;
                let eth = EtherAddr::parse_arg(eth)?.0;
                let mut out = cx.new_batch();
                self.insert(ip, eth, now, cx.pool(), &mut out);
                cx.push(0, out);
            }
            "delete" => {
                let ip = Ipv4Addr::parse_arg(value)?;
                if let Some(mut e) = self.table.remove(&u32::from(ip)) {
                    Self::drop_queue(&mut self.slab, &mut e.queue, cx.pool(), &mut self.drops);
                }
            }
            "clear" => self.clear(cx.pool()),
            _ => return Err(format!("no write handler '{name}'")),
        }
        Ok(())
    }

    fn cleanup(&mut self, cx: &mut Context<'_>) {
        self.clear(cx.pool());
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;
    use core::net::Ipv4Addr;

    use crate::library::ethernet::frames::{arp_reply, arp_request, ether};
    use crate::packet::Packet;
    use crate::testing::{
        build_errors, captured, inject, inject_packets, router, router_with_clock, TestClock,
    };
    use crate::Router;

    const ME: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
    const PEER: [u8; 6] = [0x02, 0, 0, 0, 0, 0x02];
    const SEC: u64 = 1_000_000_000;

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    fn ip_packet(dst: &str, payload: &[u8]) -> Packet {
        let mut p = Packet::from_slice(payload);
        p.anno_mut().dst_ip = ip(dst);
        p
    }

    fn send(r: &mut Router, dst: &str, payload: &[u8]) {
        inject_packets(r, "q", 0, alloc::vec![ip_packet(dst, payload)]);
    }

    fn h(r: &Router, name: &str) -> alloc::string::String {
        r.read_handler(&alloc::format!("q.{name}")).unwrap()
    }

    /// Input 1 fed by the test, queries captured on output 1.
    fn querier(args: &str) -> (Router, TestClock) {
        router_with_clock(&alloc::format!(
            "Idle -> q :: ARPQuerier({args}); Idle -> [1]q; q[0] -> out :: Capture; q[1] -> qc :: Capture;"
        ))
    }

    #[test]
    fn round_trip_with_arpresponder() {
        let mut r = router(
            "Idle -> q :: ARPQuerier(10.0.0.1, 02:00:00:00:00:01);
             q[0] -> out :: Capture;
             q[1] -> t :: Tee(2);
             t[0] -> qc :: Capture;
             t[1] -> ARPResponder(10.0.0.2 02:00:00:00:00:02) -> [1]q;",
        );
        send(&mut r, "10.0.0.2", b"\x45first");
        assert_eq!(
            captured(&r, "qc"),
            [arp_request(ME, ip("10.0.0.1"), ip("10.0.0.2"))]
        );
        assert_eq!(captured(&r, "out"), [ether(PEER, ME, 0x0800, b"\x45first")]);
        // Now known: no second query.
        send(&mut r, "10.0.0.2", b"\x45second");
        assert_eq!(captured(&r, "qc").len(), 1);
        assert_eq!(
            captured(&r, "out")[1],
            ether(PEER, ME, 0x0800, b"\x45second")
        );
        assert_eq!(h(&r, "queries"), "1");
        assert_eq!(h(&r, "responses"), "1");
        assert_eq!(h(&r, "table"), "10.0.0.2 1 02-00-00-00-00-02 0.000000\n");
    }

    #[test]
    fn waiting_packets_are_released_in_order_by_the_reply() {
        let (mut r, _clock) = querier("10.0.0.1, 02:00:00:00:00:01");
        for k in 0..3u8 {
            send(&mut r, "10.0.0.9", &[k]);
        }
        // One query: the others are within 100 ms of it.
        assert_eq!(
            captured(&r, "qc"),
            [arp_request(ME, ip("10.0.0.1"), ip("10.0.0.9"))]
        );
        assert!(captured(&r, "out").is_empty());
        assert_eq!(h(&r, "length"), "3");
        assert_eq!(h(&r, "count"), "1");
        assert_eq!(h(&r, "table"), "10.0.0.9 0 FF-FF-FF-FF-FF-FF 0.000000\n");
        inject(
            &mut r,
            "q",
            1,
            &[&arp_reply(PEER, ip("10.0.0.9"), ME, ip("10.0.0.1"))],
        );
        assert_eq!(
            captured(&r, "out"),
            [
                ether(PEER, ME, 0x0800, &[0]),
                ether(PEER, ME, 0x0800, &[1]),
                ether(PEER, ME, 0x0800, &[2])
            ]
        );
        assert_eq!(h(&r, "length"), "0");
        assert_eq!(h(&r, "drops"), "0");
    }

    #[test]
    fn the_timer_retries_until_the_entry_expires() {
        let (mut r, clock) = querier("10.0.0.1, 02:00:00:00:00:01, TIMEOUT 30s");
        send(&mut r, "10.0.0.9", b"x");
        assert_eq!(captured(&r, "qc").len(), 1);
        assert!(r.next_timer().is_some());
        clock.advance_ns(SEC / 2);
        r.run_timers();
        assert_eq!(captured(&r, "qc").len(), 1);
        clock.advance_ns(SEC / 2);
        r.run_timers();
        assert_eq!(captured(&r, "qc").len(), 2);
        // Ten unanswered queries, then one every 2 s.
        for _ in 0..8 {
            clock.advance_secs(1);
            r.run_timers();
        }
        assert_eq!(captured(&r, "qc").len(), 10);
        clock.advance_secs(1);
        r.run_timers();
        assert_eq!(captured(&r, "qc").len(), 10);
        clock.advance_secs(1);
        r.run_timers();
        assert_eq!(captured(&r, "qc").len(), 11);
        assert_eq!(h(&r, "drops"), "0");
        // 30 s after creation the entry and its packet go.
        while clock.now_ns() <= 31 * SEC {
            clock.advance_secs(1);
            r.run_timers();
        }
        assert_eq!(h(&r, "drops"), "1");
        assert_eq!(h(&r, "length"), "0");
        assert_eq!(h(&r, "count"), "0");
        let queries = captured(&r, "qc").len();
        assert!((20..=22).contains(&queries), "{queries}");
        assert_eq!(r.next_timer(), None, "nothing waits, so no timer");
        assert!(captured(&r, "out").is_empty());
    }

    #[test]
    fn known_entries_expire_and_are_polled_before() {
        let (mut r, clock) = querier("10.0.0.1, 02:00:00:00:00:01, TIMEOUT 10s, POLL_TIMEOUT 4s");
        r.write_handler("q.insert", "10.0.0.2 02:00:00:00:00:02")
            .unwrap();
        clock.set_ns(3 * SEC);
        send(&mut r, "10.0.0.2", b"a");
        assert_eq!(captured(&r, "out").len(), 1);
        assert!(captured(&r, "qc").is_empty());
        // Past POLL_TIMEOUT: the packet goes out and a unicast refresh query too, once.
        clock.set_ns(5 * SEC);
        send(&mut r, "10.0.0.2", b"b");
        send(&mut r, "10.0.0.2", b"c");
        assert_eq!(captured(&r, "out").len(), 3);
        let mut unicast = arp_request(ME, ip("10.0.0.1"), ip("10.0.0.2"));
        unicast[..6].copy_from_slice(&PEER);
        assert_eq!(captured(&r, "qc"), [unicast]);
        // Past TIMEOUT without an answer: unknown again, the packet waits.
        clock.set_ns(11 * SEC);
        send(&mut r, "10.0.0.2", b"d");
        assert_eq!(captured(&r, "out").len(), 3);
        assert_eq!(
            captured(&r, "qc")[1],
            arp_request(ME, ip("10.0.0.1"), ip("10.0.0.2"))
        );
        assert_eq!(h(&r, "table"), "10.0.0.2 0 FF-FF-FF-FF-FF-FF 0.000000\n");
        assert_eq!(h(&r, "length"), "1");
    }

    #[test]
    fn broadcast_poll_sends_refreshes_to_everyone() {
        let (mut r, clock) =
            querier("IP 10.0.0.1, ETH 02:00:00:00:00:01, POLL_TIMEOUT 1s, BROADCAST_POLL true");
        r.write_handler("q.insert", "10.0.0.2 02:00:00:00:00:02")
            .unwrap();
        clock.set_ns(2 * SEC);
        send(&mut r, "10.0.0.2", b"a");
        assert_eq!(
            captured(&r, "qc"),
            [arp_request(ME, ip("10.0.0.1"), ip("10.0.0.2"))]
        );
        // POLL_TIMEOUT 0: never.
        let (mut r, clock) = querier("10.0.0.1, 02:00:00:00:00:01, POLL_TIMEOUT 0");
        r.write_handler("q.insert", "10.0.0.2 02:00:00:00:00:02")
            .unwrap();
        clock.set_ns(200 * SEC);
        send(&mut r, "10.0.0.2", b"a");
        assert!(captured(&r, "qc").is_empty());
        assert_eq!(captured(&r, "out").len(), 1);
    }

    #[test]
    fn special_destinations() {
        let (mut r, _) = querier("10.0.0.1/24, 02:00:00:00:00:01");
        assert_eq!(h(&r, "broadcast"), "10.0.0.255");
        send(&mut r, "0.0.0.0", b"zero");
        send(&mut r, "255.255.255.255", b"all");
        send(&mut r, "10.0.0.255", b"local");
        send(&mut r, "224.1.2.3", b"m1");
        send(&mut r, "239.129.2.3", b"m2");
        assert_eq!(
            captured(&r, "out"),
            [
                ether([0xff; 6], ME, 0x0800, b"all"),
                ether([0xff; 6], ME, 0x0800, b"local"),
                ether([1, 0, 0x5e, 1, 2, 3], ME, 0x0800, b"m1"),
                ether([1, 0, 0x5e, 1, 2, 3], ME, 0x0800, b"m2"),
            ]
        );
        assert_eq!(h(&r, "drops"), "1");
        assert!(captured(&r, "qc").is_empty());
        assert_eq!(h(&r, "count"), "0");
        let (r, _) = querier("10.0.0.1, 02:00:00:00:00:01, BROADCAST 10.255.255.255");
        assert_eq!(h(&r, "broadcast"), "10.255.255.255");
        let (r, _) = querier("10.0.0.1, 02:00:00:00:00:01");
        assert_eq!(h(&r, "broadcast"), "255.255.255.255");
    }

    #[test]
    fn capacities_bound_waiting_packets_and_entries() {
        let (mut r, clock) =
            querier("10.0.0.1, 02:00:00:00:00:01, CAPACITY 3, ENTRY_PACKET_CAPACITY 2");
        for k in 0..3u8 {
            send(&mut r, "10.0.0.7", &[k]);
        }
        assert_eq!(h(&r, "length"), "2");
        assert_eq!(h(&r, "drops"), "1");
        send(&mut r, "10.0.0.8", b"a");
        send(&mut r, "10.0.0.8", b"b");
        assert_eq!(h(&r, "length"), "3");
        assert_eq!(h(&r, "drops"), "2");

        let (mut r, _) = querier("10.0.0.1, 02:00:00:00:00:01, ENTRY_CAPACITY 2");
        send(&mut r, "10.0.0.7", b"a");
        clock.advance_secs(1);
        send(&mut r, "10.0.0.8", b"b");
        send(&mut r, "10.0.0.9", b"c");
        assert_eq!(h(&r, "count"), "2");
        assert_eq!(h(&r, "length"), "2");
        assert_eq!(h(&r, "drops"), "1");
        assert!(!h(&r, "table").contains("10.0.0.7 "));
    }

    #[test]
    fn handlers_insert_delete_clear_ipaddr() {
        let (mut r, _) = querier("10.0.0.1, 02:00:00:00:00:01");
        send(&mut r, "10.0.0.5", b"w");
        // insert sends what was waiting.
        r.write_handler("q.insert", "10.0.0.5 02:00:00:00:00:05")
            .unwrap();
        assert_eq!(
            captured(&r, "out"),
            [ether([2, 0, 0, 0, 0, 5], ME, 0x0800, b"w")]
        );
        assert!(r.write_handler("q.insert", "10.0.0.5").is_err());
        assert!(r.write_handler("q.insert", "10.0.0.5 zz").is_err());
        send(&mut r, "10.0.0.6", b"x");
        r.write_handler("q.delete", "10.0.0.6").unwrap();
        assert_eq!(h(&r, "drops"), "1");
        assert_eq!(h(&r, "count"), "1");
        send(&mut r, "10.0.0.7", b"y");
        r.write_handler("q.clear", "").unwrap();
        assert_eq!(h(&r, "count"), "0");
        assert_eq!(h(&r, "length"), "0");
        assert_eq!(h(&r, "drops"), "2");
        assert_eq!(h(&r, "stats"), "2 packets killed\n3 ARP queries sent\n");
        r.write_handler("q.ipaddr", "10.0.0.100").unwrap();
        assert_eq!(h(&r, "ipaddr"), "10.0.0.100");
        assert!(r.write_handler("q.ipaddr", "x").is_err());
        send(&mut r, "10.0.0.8", b"z");
        assert_eq!(
            captured(&r, "qc")[3],
            arp_request(ME, ip("10.0.0.100"), ip("10.0.0.8"))
        );
    }

    #[test]
    fn one_output_carries_queries_too() {
        let mut r = router(
            "Idle -> q :: ARPQuerier(10.0.0.1, 02:00:00:00:00:01) -> out :: Capture; Idle -> [1]q;",
        );
        r.write_handler("q.insert", "10.0.0.2 02:00:00:00:00:02")
            .unwrap();
        let pkts = alloc::vec![ip_packet("10.0.0.3", b"a"), ip_packet("10.0.0.2", b"b")];
        inject_packets(&mut r, "q", 0, pkts);
        assert_eq!(
            captured(&r, "out"),
            [
                arp_request(ME, ip("10.0.0.1"), ip("10.0.0.3")),
                ether(PEER, ME, 0x0800, b"b")
            ]
        );
    }

    #[test]
    fn input_1_ignores_everything_but_unicast_replies() {
        let (mut r, _) = querier("10.0.0.1, 02:00:00:00:00:01");
        send(&mut r, "10.0.0.2", b"w");
        let good = arp_reply(PEER, ip("10.0.0.2"), ME, ip("10.0.0.1"));
        let request = arp_request(PEER, ip("10.0.0.2"), ip("10.0.0.1"));
        let group = arp_reply([1, 0, 0x5e, 0, 0, 1], ip("10.0.0.2"), ME, ip("10.0.0.1"));
        let zero = arp_reply(PEER, ip("0.0.0.0"), ME, ip("10.0.0.1"));
        let mut not_arp = good.clone();
        not_arp[13] = 0x00;
        let frames: [&[u8]; 7] = [
            &request,
            &group,
            &zero,
            &not_arp,
            &good[..41],
            &good[..3],
            b"",
        ];
        inject(&mut r, "q", 1, &frames);
        assert_eq!(h(&r, "responses"), "0");
        assert_eq!(h(&r, "length"), "1");
        assert!(captured(&r, "out").is_empty());
        // Padding after the ARP packet is fine.
        let mut padded = good;
        padded.resize(60, 0);
        inject(&mut r, "q", 1, &[&padded]);
        assert_eq!(h(&r, "responses"), "1");
        assert_eq!(captured(&r, "out"), [ether(PEER, ME, 0x0800, b"w")]);
        // An unsolicited reply is recorded too, as in Click.
        let other = arp_reply([2, 0, 0, 0, 0, 3], ip("10.0.0.3"), ME, ip("10.0.0.1"));
        inject(&mut r, "q", 1, &[&other]);
        assert_eq!(h(&r, "count"), "2");
    }

    #[test]
    fn arguments() {
        let ok = |cfg: &str| {
            build_errors(&alloc::format!(
                "Idle -> q :: ARPQuerier({cfg}) -> Idle; Idle -> [1]q;"
            ))
        };
        assert!(ok("10.0.0.1, 02:00:00:00:00:01").is_empty());
        assert!(ok("ETH 02:00:00:00:00:01, IP 10.0.0.1/8, CAPACITY 10, ENTRY_CAPACITY 5, ENTRY_PACKET_CAPACITY 2, TIMEOUT 1min, POLL_TIMEOUT 10s, BROADCAST 10.255.255.255, BROADCAST_POLL true").is_empty());
        let e: Vec<_> = ok("10.0.0.1");
        assert!(e.iter().any(|m| m.contains("ETH")), "{e:?}");
        let e = ok("10.0.0.1, 02:00:00:00:00:01, TABLE t");
        assert!(e.iter().any(|m| m.contains("TABLE")), "{e:?}");
        let e = ok("10.0.0.1, 02:00:00:00:00:01, TIMEOUT soon");
        assert!(e.iter().any(|m| m.contains("TIMEOUT")), "{e:?}");
        // Both inputs must be connected.
        assert!(
            !build_errors("Idle -> ARPQuerier(10.0.0.1, 02:00:00:00:00:01) -> Idle;").is_empty()
        );
    }
}
