//! ICMPError — answers a packet with an ICMP error message about it.
//!
//! Ports: 1 input, 1 output.
//! Processing: agnostic.
//! Arguments: SRC (mandatory address: the error's source), TYPE (mandatory: an error type, as a
//! number or `unreachable`, `sourcequench`, `redirect`, `timeexceeded`, `parameterproblem`), CODE
//! (a number or a name for TYPE, e.g. `net`, `host`, `protocol`, `port`, `needfrag`; `transit`,
//! `reassembly`; `erroratptr`, `missingopt`, `length`; default 0), BADADDRS (address list: never
//! answer packets from or to these); keywords MTU (unsigned: largest error packet; default 576),
//! PMTU (unsigned: next-hop MTU reported in `needfrag` errors; default 0), SET_FIX_ANNO
//! (boolean: mark errors for FixIPSrc; default true).
//! Handlers: `src`, `mtu`, `pmtu` (read/write); `drops` (read) input packets not answered.
//!
//! Needs the network-header annotation. The error is a new IPv4 packet (TTL 200, ID counting
//! from 1) from SRC to the offending packet's source, carrying an ICMP header of TYPE and CODE
//! and as much of the offending packet, from its IP header on, as fits in MTU (at least its
//! header and 8 bytes of payload). Following RFC 1812 4.3.2.7 no error is sent about an ICMP
//! error, a packet to a broadcast or multicast destination (or one in BADADDRS), a link-level
//! broadcast or multicast, a packet from an invalid source (0/8, 127/8, class D or E, broadcast,
//! BADADDRS), or a fragment other than the first; the input packet is always consumed. A
//! source-routed packet gets the reversed route in the error, and no redirect. Parameter
//! problems with code `erroratptr` take the pointer from the parameter-problem annotation;
//! redirects take the gateway from the destination annotation. The error's destination
//! annotation is its destination, its timestamp is now.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::net::Ipv4Addr;

use config_lang::args::{ArgError, Args, Word};

use crate::batch::Batch;
use crate::element::{ConfigureContext, Element, ElementClass, HandlerSpec};
use crate::library::ip::{
    addr_at, checksum, network_ip_header, put16, AddrList, FIX_IP_SRC_ANNO, ICMP_PARAMPROB_ANNO,
    IP_OFFMASK, IP_PROTO_ICMP, PACKET_TYPE_BROADCAST, PACKET_TYPE_MULTICAST,
};
use crate::library::names::{self, ICMP_PARAMPROB, ICMP_REDIRECT, ICMP_UNREACH};
use crate::packet::Packet;
use crate::router::Context;

pub const CLASS: ElementClass =
    crate::library::ip::element_class!("ICMPError", "1/1", "a/a", ICMPError);

pub struct ICMPError {
    src: Ipv4Addr,
    icmp_type: u8,
    code: u8,
    bad_addrs: Vec<Ipv4Addr>,
    mtu: usize,
    pmtu: u16,
    fix_anno: bool,
    id: u16,
    drops: u64,
}

impl Default for ICMPError {
    fn default() -> Self {
        ICMPError {
            src: Ipv4Addr::UNSPECIFIED,
            icmp_type: ICMP_UNREACH,
            code: 0,
            bad_addrs: Vec::new(),
            mtu: 576,
            pmtu: 0,
            fix_anno: true,
            id: 1,
            drops: 0,
        }
    }
}

fn is_error_type(t: u8) -> bool {
    matches!(t, 3 | 4 | 5 | 11 | 12)
}

/// A loose or strict source-route option in the header options `ip[20..hlen]`: its offset in
/// `ip`, if well formed (pointer at least 4, a multiple of 4, at most one past the option).
fn source_route(ip: &[u8]) -> Option<usize> {
    let mut k = 20;
    while k < ip.len() {
        match ip[k] {
            checksum::OPT_NOP => k += 1,
            checksum::OPT_EOL => return None,
            t => {
                let l = *ip.get(k + 1)? as usize;
                if l < 2 || k + l > ip.len() {
                    return None;
                }
                if t == checksum::OPT_LSRR || t == checksum::OPT_SSRR {
                    let ptr = *ip.get(k + 2)? as usize;
                    if ptr >= 4 && ptr & 3 == 0 && ptr <= l + 1 {
                        return Some(k);
                    }
                }
                k += l;
            }
        }
    }
    None
}

impl ICMPError {
    fn unicast(&self, a: Ipv4Addr) -> bool {
        !(a.is_broadcast() || a.is_multicast() || self.bad_addrs.contains(&a))
    }

    fn valid_source(&self, a: Ipv4Addr) -> bool {
        let net = a.octets()[0];
        self.unicast(a) && net != 0 && net != 127 && net & 0xf0 != 0xf0
    }

    /// The error about `p`, or `None` when the rules say not to answer.
    fn answer(&mut self, p: &Packet, cx: &mut Context<'_>) -> Option<Packet> {
        let (nh, hlen) = network_ip_header(p)?;
        let d = p.data();
        let ip = &d[nh..];
        if ip[9] == IP_PROTO_ICMP {
            // Never about an ICMP error (or an ICMP packet too short to tell).
            if ip.len() < hlen + 4 || is_error_type(ip[hlen]) {
                return None;
            }
        }
        if !self.unicast(addr_at(ip, 16)) {
            return None;
        }
        let pt = p.anno().packet_type;
        if pt == PACKET_TYPE_BROADCAST || pt == PACKET_TYPE_MULTICAST {
            return None;
        }
        let orig_src = addr_at(ip, 12);
        if !self.valid_source(orig_src) {
            return None;
        }
        if u16::from_be_bytes([ip[6], ip[7]]) & IP_OFFMASK != 0 {
            return None;
        }
        let mut route = source_route(&ip[..hlen]);
        if let Some(r) = route {
            if self.icmp_type == ICMP_REDIRECT {
                return None; // RFC 1812 5.2.7.2
            }
            // A parameter problem about the route itself does not reverse it (4.3.2.6).
            let ptr = p.anno().user[ICMP_PARAMPROB_ANNO] as usize;
            if self.icmp_type == ICMP_PARAMPROB
                && self.code == names::PARAMPROB_ERRATPTR
                && r <= ptr
                && ptr < r + ip[r + 1] as usize
            {
                route = None;
            }
        }

        // The reversed route: the addresses already visited (before the pointer), last first.
        let mut opts = [0u8; 40];
        let opt_len = match route {
            Some(r) => {
                let ptr = ip[r + 2] as usize;
                let olen = ptr - 1; // type, length, pointer, visited addresses
                opts[0] = ip[r];
                opts[1] = olen as u8;
                opts[2] = 4;
                let visited = (ptr - 4) / 4;
                for i in 0..visited {
                    let from = r + 3 + 4 * (visited - 1 - i);
                    opts[3 + 4 * i..7 + 4 * i].copy_from_slice(&ip[from..from + 4]);
                }
                // End-of-options padding (already zero) up to a multiple of 4.
                (olen + 3) & !3
            }
            None => 0,
        };
        let out_hlen = 20 + opt_len;
        // Quote as much as MTU allows, but at least the IP header and 8 bytes (RFC 792).
        let netlen = ip.len();
        if self.mtu < out_hlen + 8 + netlen.min(hlen + 8) {
            return None;
        }
        let quote = netlen.min(self.mtu - out_hlen - 8);
        let total = out_hlen + 8 + quote;
        if total > 0xffff {
            return None;
        }

        let mut q = cx.pool().make(total);
        let qd = q.data_mut();
        qd[..out_hlen + 8].fill(0);
        qd[0] = 0x40 | (out_hlen / 4) as u8;
        put16(qd, 2, total as u16);
        put16(qd, 4, self.id);
        qd[8] = 200;
        qd[9] = IP_PROTO_ICMP;
        qd[12..16].copy_from_slice(&self.src.octets());
        qd[16..20].copy_from_slice(&orig_src.octets());
        qd[20..out_hlen].copy_from_slice(&opts[..opt_len]);
        checksum::set_ip_header(&mut qd[..out_hlen]);
        self.id = self.id.wrapping_add(1);

        let icmp = &mut qd[out_hlen..];
        icmp[0] = self.icmp_type;
        icmp[1] = self.code;
        match (self.icmp_type, self.code) {
            (ICMP_PARAMPROB, names::PARAMPROB_ERRATPTR) => {
                icmp[4] = p.anno().user[ICMP_PARAMPROB_ANNO];
            }
            (ICMP_REDIRECT, _) => icmp[4..8].copy_from_slice(&p.anno().dst_ip.octets()),
            (ICMP_UNREACH, names::UNREACH_NEEDFRAG) => put16(icmp, 6, self.pmtu),
            _ => {}
        }
        icmp[8..8 + quote].copy_from_slice(&ip[..quote]);
        let c = checksum::checksum(icmp);
        put16(icmp, 2, c);

        let now = cx.platform().wall_ns();
        let a = q.anno_mut();
        a.set_network_offset(0);
        a.set_transport_offset(out_hlen);
        a.dst_ip = orig_src;
        a.timestamp_ns = now;
        if self.fix_anno {
            a.user[FIX_IP_SRC_ANNO] = 1;
        }
        Some(q)
    }
}

impl Element for ICMPError {
    fn configure(&mut self, args: &mut Args, _cx: &ConfigureContext<'_>) -> Result<(), ArgError> {
        self.src = args.read_mp("SRC")?;
        let ty: Word = args.read_mp("TYPE")?;
        let code: Option<Word> = args.read_p("CODE")?;
        if let Some(AddrList(v)) = args.read_p("BADADDRS")? {
            self.bad_addrs = v;
        }
        self.mtu = args.read_or::<u32>("MTU", 576)? as usize;
        self.pmtu = args.read_or("PMTU", 0u16)?;
        self.fix_anno = args.read_or("SET_FIX_ANNO", true)?;

        let t = names::icmp_type(&ty.0).ok_or_else(|| {
            ArgError::new(
                "TYPE",
                "ICMP type must be between 0 and 255 or a type name",
                None,
            )
        })?;
        if !is_error_type(t) {
            return Err(ArgError::new(
                "TYPE",
                alloc::format!("ICMP type {t} is not an error type"),
                None,
            ));
        }
        self.icmp_type = t;
        self.code = match code {
            None => 0,
            Some(Word(c)) => names::icmp_code(t, &c).ok_or_else(|| {
                ArgError::new(
                    "CODE",
                    alloc::format!("'{c}' is not an ICMP code (0 to 255 or a name) for type {t}"),
                    None,
                )
            })?,
        };
        Ok(())
    }

    fn push(&mut self, _port: usize, mut batch: Batch, cx: &mut Context<'_>) {
        let mut out = cx.new_batch();
        for p in batch.drain() {
            match self.answer(&p, cx) {
                Some(q) => out.push(q),
                None => self.drops += 1,
            }
            cx.kill(p);
        }
        cx.kill_batch(batch);
        cx.push(0, out);
    }

    fn handlers(&self) -> &'static [HandlerSpec] {
        const H: &[HandlerSpec] = &[
            HandlerSpec::read_write("src"),
            HandlerSpec::read_write("mtu"),
            HandlerSpec::read_write("pmtu"),
            HandlerSpec::read("drops"),
        ];
        H
    }

    fn read_handler(&self, name: &str) -> Option<String> {
        match name {
            "src" => Some(self.src.to_string()),
            "mtu" => Some(self.mtu.to_string()),
            "pmtu" => Some(self.pmtu.to_string()),
            "drops" => Some(self.drops.to_string()),
            _ => None,
        }
    }

    fn write_handler(
        &mut self,
        name: &str,
        value: &str,
        _cx: &mut Context<'_>,
    ) -> Result<(), String> {
        use crate::library::ip::parse_handler;
        match name {
            "src" => self.src = parse_handler(value)?,
            "mtu" => self.mtu = parse_handler::<u32>(value)? as usize,
            "pmtu" => self.pmtu = parse_handler(value)?,
            _ => return Err(alloc::format!("handler '{name}' is not writable")),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::library::ip::testutil::*;
    use crate::library::ip::{FIX_IP_SRC_ANNO, ICMP_PARAMPROB_ANNO};
    use crate::packet::Packet;
    use alloc::vec::Vec;
    use core::net::Ipv4Addr;

    const R: Ipv4Addr = Ipv4Addr::new(1, 2, 3, 4);

    fn run(args: &str, pkts: Vec<Packet>) -> (Vec<Got>, Harness) {
        let mut h = Harness::new(&alloc::format!(
            "Idle -> e :: ICMPError({args}) -> s :: Sink;"
        ));
        h.push("e", pkts);
        (h.got("s"), h)
    }

    fn icmp_part(d: &[u8]) -> &[u8] {
        &d[((d[0] & 15) as usize) * 4..]
    }

    #[test]
    fn time_exceeded_quotes_the_packet() {
        let orig = udp(A, 1000, B, 53, b"question");
        let (g, h) = run("1.2.3.4, timeexceeded", alloc::vec![with_net(&orig, 0)]);
        assert_eq!(g.len(), 1);
        let d = &g[0].data;
        assert_eq!(d.len(), 20 + 8 + orig.len());
        assert!(ip_ok(d));
        assert!(l4_ok(d), "ICMP checksum");
        assert_eq!(u16::from_be_bytes([d[2], d[3]]) as usize, d.len());
        assert_eq!((d[8], d[9]), (200, 1));
        assert_eq!(&d[12..16], &R.octets());
        assert_eq!(&d[16..20], &A.octets());
        let m = icmp_part(d);
        assert_eq!(&m[..2], &[11, 0]);
        assert_eq!(&m[4..8], &[0; 4]);
        assert_eq!(&m[8..], &orig[..]);
        let a = &g[0].anno;
        assert_eq!(a.dst_ip, A);
        assert_eq!(a.user[FIX_IP_SRC_ANNO], 1);
        assert_eq!(a.timestamp_ns, NOW_NS);
        assert_eq!(a.network_offset(), Some(0));
        assert_eq!(a.transport_offset(), Some(20));
        assert_eq!(h.read("e.drops"), "0");
    }

    #[test]
    fn long_packets_are_quoted_up_to_mtu() {
        let orig = udp(A, 1, B, 2, &[0x5a; 1000]);
        let (g, _) = run(
            "1.2.3.4, unreachable, port",
            alloc::vec![with_net(&orig, 0)],
        );
        let d = &g[0].data;
        assert_eq!(d.len(), 576);
        assert_eq!(&icmp_part(d)[8..], &orig[..548]);
        assert!(ip_ok(d) && l4_ok(d));
        let (g, _) = run(
            "1.2.3.4, unreachable, port, MTU 100, SET_FIX_ANNO false",
            alloc::vec![with_net(&orig, 0)],
        );
        assert_eq!(g[0].data.len(), 100);
        assert_eq!(g[0].anno.user[FIX_IP_SRC_ANNO], 0);
        // Too small to quote the header and 8 bytes: no error.
        let (g, _) = run(
            "1.2.3.4, unreachable, MTU 55",
            alloc::vec![with_net(&orig, 0)],
        );
        assert!(g.is_empty());
    }

    #[test]
    fn rules_for_not_answering() {
        let mut pkts = Vec::new();
        let mut add = |d: Vec<u8>| pkts.push(with_net(&d, 0));
        add(icmp(A, B, 3, 1, [0; 4], &udp(B, 1, A, 2, b"")));
        add(icmp(A, B, 11, 0, [0; 4], &udp(B, 1, A, 2, b"")));
        add(udp(A, 1, Ipv4Addr::BROADCAST, 2, b""));
        add(udp(A, 1, Ipv4Addr::new(224, 0, 0, 1), 2, b""));
        add(udp(A, 1, Ipv4Addr::new(10, 0, 0, 255), 2, b""));
        add(udp(Ipv4Addr::new(0, 1, 2, 3), 1, B, 2, b""));
        add(udp(Ipv4Addr::new(127, 0, 0, 1), 1, B, 2, b""));
        add(udp(Ipv4Addr::new(240, 0, 0, 1), 1, B, 2, b""));
        add(udp(Ipv4Addr::new(10, 0, 0, 255), 1, B, 2, b""));
        let mut later_frag = udp(A, 1, B, 2, b"abcdefgh");
        later_frag[7] = 1;
        fix_ip(&mut later_frag);
        add(later_frag);
        add(ipv4(A, B, 1, &[8])); // ICMP too short to know its type
        let mut link_bcast = with_net(&udp(A, 1, B, 2, b""), 0);
        link_bcast.anno_mut().packet_type = 1;
        pkts.push(link_bcast);
        let mut link_mcast = with_net(&udp(A, 1, B, 2, b""), 0);
        link_mcast.anno_mut().packet_type = 2;
        pkts.push(link_mcast);
        pkts.push(Packet::from_slice(&udp(A, 1, B, 2, b""))); // no network header
        pkts.push(with_net(&udp(A, 1, B, 2, b"")[..19], 0));
        let n = pkts.len();
        let (g, h) = run("1.2.3.4, unreachable, host, BADADDRS 10.0.0.255", pkts);
        assert!(
            g.is_empty(),
            "{:?}",
            g.iter().map(|x| &x.data).collect::<Vec<_>>()
        );
        assert_eq!(h.read("e.drops"), alloc::format!("{n}"));

        // Things that are answered: echo requests, first fragments, link unicast.
        let mut first_frag = udp(A, 1, B, 2, b"abcdefgh");
        first_frag[6] = 0x20;
        fix_ip(&mut first_frag);
        let (g, _) = run(
            "1.2.3.4, 3, 1",
            alloc::vec![
                with_net(&echo(A, B, 1, 1, b""), 0),
                with_net(&first_frag, 0)
            ],
        );
        assert_eq!(g.len(), 2);
    }

    #[test]
    fn needfrag_redirect_and_parameter_problem_particulars() {
        let orig = udp(A, 1, B, 2, b"x");
        let (g, _) = run(
            "1.2.3.4, unreachable, needfrag, PMTU 1400",
            alloc::vec![with_net(&orig, 0)],
        );
        let m = icmp_part(&g[0].data);
        assert_eq!(&m[..2], &[3, 4]);
        assert_eq!(&m[4..8], &[0, 0, 0x05, 0x78]);

        let mut p = with_net(&orig, 0);
        p.anno_mut().dst_ip = Ipv4Addr::new(10, 0, 0, 254);
        let (g, _) = run("1.2.3.4, redirect, host", alloc::vec![p]);
        let m = icmp_part(&g[0].data);
        assert_eq!(&m[..2], &[5, 1]);
        assert_eq!(&m[4..8], &[10, 0, 0, 254]);
        assert!(l4_ok(&g[0].data));

        let mut p = with_net(&orig, 0);
        p.anno_mut().user[ICMP_PARAMPROB_ANNO] = 9;
        let (g, _) = run("1.2.3.4, parameterproblem", alloc::vec![p]);
        let m = icmp_part(&g[0].data);
        assert_eq!(&m[..2], &[12, 0]);
        assert_eq!(m[4], 9);
    }

    #[test]
    fn source_route_is_reversed() {
        // LSRR, pointer 12: two addresses visited (11.11.11.11, then 22.22.22.22).
        let opts = [
            131, 15, 12, 11, 11, 11, 11, 22, 22, 22, 22, 33, 33, 33, 33, 0,
        ];
        let orig = ipv4_opts(A, B, 17, &opts, &[0; 8]);
        let (g, _) = run("1.2.3.4, unreachable", alloc::vec![with_net(&orig, 0)]);
        let d = &g[0].data;
        assert_eq!(d[0], 0x48, "24 bytes of options");
        assert_eq!(&d[20..32], &[131, 11, 4, 22, 22, 22, 22, 11, 11, 11, 11, 0]);
        assert!(ip_ok(d) && l4_ok(d));
        assert_eq!(&icmp_part(d)[8..], &orig[..]);
        // No redirect for source-routed packets.
        let (g, _) = run("1.2.3.4, redirect", alloc::vec![with_net(&orig, 0)]);
        assert!(g.is_empty());
        // A parameter problem pointing into the route does not reverse it.
        let mut p = with_net(&orig, 0);
        p.anno_mut().user[ICMP_PARAMPROB_ANNO] = 22;
        let (g, _) = run("1.2.3.4, parameterproblem, erroratptr", alloc::vec![p]);
        assert_eq!(g[0].data[0], 0x45);
    }

    #[test]
    fn configuration_and_handlers() {
        let e = |c: &str| errors(&alloc::format!("Idle -> ICMPError({c}) -> Idle;")).join("\n");
        assert!(e("1.2.3.4, echo").contains("not an error type"));
        assert!(e("1.2.3.4, bogus").contains("TYPE"));
        assert!(e("1.2.3.4, timeexceeded, port").contains("CODE"));
        assert!(e("1.2.3.4, unreachable, 256").contains("CODE"));
        assert!(e("timeexceeded").contains("SRC") || !e("timeexceeded").is_empty());
        assert!(e("1.2.3.4, 11, 1, 10.0.0.255 10.1.255.255, MTU 1500, PMTU 9000").is_empty());
        let mut h = Harness::new("Idle -> e :: ICMPError(1.2.3.4, 11) -> s :: Sink;");
        assert_eq!(h.read("e.mtu"), "576");
        h.write("e.src", "5.6.7.8").unwrap();
        h.write("e.mtu", "100").unwrap();
        h.write("e.pmtu", "1280").unwrap();
        assert!(h.write("e.pmtu", "70000").is_err());
        assert_eq!(h.read("e.src"), "5.6.7.8");
        assert_eq!(h.read("e.pmtu"), "1280");
        h.push("e", alloc::vec![with_net(&udp(A, 1, B, 2, &[1; 200]), 0)]);
        let d = &h.got("s")[0].data;
        assert_eq!(d.len(), 100);
        assert_eq!(&d[12..16], &[5, 6, 7, 8]);
    }
}
