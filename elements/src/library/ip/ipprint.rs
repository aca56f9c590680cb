//! IPPrint — prints a one-line, tcpdump-like summary of each IP packet.
//!
//! Ports: 1 input, 1 output.
//! Processing: agnostic.
//! Arguments: LABEL (string printed first); keywords CONTENTS (`NONE`, `HEX` or `ASCII`, or a
//! boolean: also print the packet bytes; default NONE), PAYLOAD (`NO`/`FALSE`, `YES`/`TRUE`/`HEX`
//! or `ASCII`: print only the transport payload; at most one of CONTENTS and PAYLOAD), MAXLENGTH
//! (integer: most bytes printed, -1 for all; default 1500; NBYTES is an old name for it), and the
//! booleans ID (print the IP ID), TTL, TOS, LENGTH (the IP total length), TIMESTAMP (default
//! true), AGGREGATE (the 4-byte aggregate annotation), PAINT (the paint annotation), SWAP (ICMP
//! echo id and sequence in network byte order; default true) and ACTIVE (default true); CHANNEL
//! is accepted and ignored (there is one console).
//! Handlers: `active` (read/write).
//!
//! Packets pass unchanged. Needs the network-header annotation; packets without it are not
//! printed. Lines look like `LABEL: 1500000000.123456: 10.0.0.1.1000 > 10.0.0.2.53: udp 13`;
//! TCP shows flags, sequence range, ack and window; ICMP shows the type (echo id and sequence,
//! unreachable destination, protocol and port); fragments end with `(frag ID:LEN@OFFSET[+])`.
//! Packet bytes follow on indented lines, 24 hex bytes or 48 characters per line.

use alloc::string::{String, ToString};
use core::fmt::Write;
use core::net::Ipv4Addr;

use config_lang::args::{ArgError, ArgValue, Args, Word};

use super::{addr_at, be16, names, IP_MF, IP_OFFMASK, IP_PROTO_ICMP, IP_PROTO_TCP, IP_PROTO_UDP};
use crate::batch::Batch;
use crate::element::{ConfigureContext, Element, ElementClass, HandlerSpec};
use crate::packet::Packet;
use crate::router::Context;

pub const CLASS: ElementClass = super::element_class!("IPPrint", "1/1", "a/a", IPPrint);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Contents {
    None,
    Hex,
    Ascii,
}

pub struct IPPrint {
    label: String,
    contents: Contents,
    payload_only: bool,
    max_bytes: i64,
    id: bool,
    ttl: bool,
    tos: bool,
    length: bool,
    timestamp: bool,
    aggregate: bool,
    paint: bool,
    swap: bool,
    active: bool,
    /// Reused line buffer.
    buf: String,
}

impl Default for IPPrint {
    fn default() -> Self {
        IPPrint {
            label: String::new(),
            contents: Contents::None,
            payload_only: false,
            max_bytes: 1500,
            id: false,
            ttl: false,
            tos: false,
            length: false,
            timestamp: true,
            aggregate: false,
            paint: false,
            swap: true,
            active: true,
            buf: String::new(),
        }
    }
}

/// The part of the packet the summary reads: IP header fields plus bounds.
struct View<'a> {
    d: &'a [u8],
    nh: usize,
    hlen: usize,
    ip_len: usize,
    /// Bytes of transport header and payload present (may be negative for nonsense headers).
    tlen: isize,
    first_frag: bool,
}

impl View<'_> {
    fn t(&self) -> usize {
        self.nh + self.hlen
    }
    fn src(&self) -> Ipv4Addr {
        addr_at(self.d, self.nh + 12)
    }
    fn dst(&self) -> Ipv4Addr {
        addr_at(self.d, self.nh + 16)
    }
}

/// Writes a protocol's name, or its number (after `protocol ` if `prepend`).
fn write_proto(s: &mut String, p: u8, prepend: bool) {
    let _ = match names::ip_proto_name(p) {
        Some(n) => write!(s, " {n}"),
        None if prepend => write!(s, " protocol {p}"),
        None => write!(s, " {p}"),
    };
}

/// Writes an ICMP code's name, or `code N`.
fn write_code(s: &mut String, ty: u8, code: u8) {
    let _ = match names::icmp_code_name(ty, code) {
        Some(n) => write!(s, " {n}"),
        None => write!(s, " code {code}"),
    };
}

impl IPPrint {
    fn tcp(&self, s: &mut String, v: &View<'_>) {
        if v.tlen < 4 || !v.first_frag {
            let what = if v.first_frag { "truncated-tcp" } else { "tcp" };
            let _ = write!(s, "{} > {}: {what}", v.src(), v.dst());
            return;
        }
        let (d, t) = (v.d, v.t());
        let _ = write!(
            s,
            "{}.{} > {}.{}: ",
            v.src(),
            be16(d, t),
            v.dst(),
            be16(d, t + 2)
        );
        if v.tlen < 14 {
            s.push_str("truncated-tcp");
            return;
        }
        let flags = d[t + 13];
        let mut seqlen = v.ip_len as i64 - v.hlen as i64 - ((d[t + 12] >> 4) as i64) * 4;
        if flags & 0x02 != 0 {
            s.push('S');
            seqlen += 1;
        }
        if flags & 0x01 != 0 {
            s.push('F');
            seqlen += 1;
        }
        if flags & 0x04 != 0 {
            s.push('R');
        }
        if flags & 0x08 != 0 {
            s.push('P');
        }
        if flags & 0x0f == 0 {
            s.push('.');
        }
        let seq = u32::from_be_bytes([d[t + 4], d[t + 5], d[t + 6], d[t + 7]]);
        let _ = write!(
            s,
            " {seq}:{}({seqlen},{},{})",
            seq.wrapping_add(seqlen as u32),
            v.d.len(),
            v.ip_len
        );
        if flags & 0x10 != 0 {
            let ack = u32::from_be_bytes([d[t + 8], d[t + 9], d[t + 10], d[t + 11]]);
            let _ = write!(s, " ack {ack}");
        }
        if v.tlen < 16 {
            s.push_str("truncated-tcp");
            return;
        }
        let _ = write!(s, " win {}", be16(d, t + 14));
    }

    fn udp(&self, s: &mut String, v: &View<'_>) {
        if v.tlen < 4 || !v.first_frag {
            let what = if v.first_frag { "truncated-udp" } else { "udp" };
            let _ = write!(s, "{} > {}: {what}", v.src(), v.dst());
            return;
        }
        let (d, t) = (v.d, v.t());
        let _ = write!(
            s,
            "{}.{} > {}.{}: ",
            v.src(),
            be16(d, t),
            v.dst(),
            be16(d, t + 2)
        );
        if v.tlen < 8 {
            s.push_str("truncated-udp");
        } else {
            let _ = write!(s, "udp {}", be16(d, t + 4));
        }
    }

    fn icmp(&self, s: &mut String, v: &View<'_>) {
        let _ = write!(s, "{} > {}: ", v.src(), v.dst());
        if !v.first_frag {
            s.push_str("icmp");
            return;
        }
        if v.tlen < 2 {
            s.push_str("truncated-icmp");
            return;
        }
        let (d, t) = (v.d, v.t());
        let (ty, code) = (d[t], d[t + 1]);
        match ty {
            names::ICMP_ECHO_REPLY | names::ICMP_ECHO => {
                s.push_str(if ty == names::ICMP_ECHO {
                    "icmp echo "
                } else {
                    "icmp echo-reply "
                });
                if v.tlen < 8 {
                    s.push_str("truncated-icmp");
                    return;
                }
                let word = |k: usize| {
                    if self.swap {
                        u16::from_be_bytes([d[k], d[k + 1]])
                    } else {
                        u16::from_le_bytes([d[k], d[k + 1]])
                    }
                };
                let _ = write!(s, "({}, {})", word(t + 4), word(t + 6));
            }
            names::ICMP_UNREACH => {
                let elen = v.tlen - 8;
                if elen < 20 {
                    s.push_str("icmp unreachable");
                    write_code(s, ty, code);
                    s.push_str(" truncated-icmp");
                    return;
                }
                let e = t + 8;
                let ehl = ((d[e] & 0x0f) as isize) * 4;
                let _ = write!(s, "icmp {} unreachable", addr_at(d, e + 16));
                write_code(s, ty, code);
                match code {
                    names::UNREACH_PROTOCOL => write_proto(s, d[e + 9], false),
                    names::UNREACH_PORT => {
                        write_proto(s, d[e + 9], true);
                        if elen - ehl < 4 {
                            s.push_str(" truncated-icmp");
                        } else {
                            let u = e + ehl as usize;
                            let _ = write!(s, "/{}", be16(d, u + 2));
                        }
                    }
                    names::UNREACH_NEEDFRAG => {
                        let mtu = be16(d, t + 6);
                        if mtu != 0 {
                            let _ = write!(s, " (mtu {mtu})");
                        }
                    }
                    _ => {}
                }
            }
            _ => {
                s.push_str("icmp ");
                match names::icmp_type_name(ty) {
                    Some(n) => s.push_str(n),
                    None => {
                        let _ = write!(s, "type {ty}");
                    }
                }
                match names::icmp_code_name(ty, code) {
                    Some(n) => {
                        let _ = write!(s, " {n}");
                    }
                    None if code != 0 => {
                        let _ = write!(s, " code {code}");
                    }
                    None => {}
                }
            }
        }
    }

    /// Appends the packet bytes (or payload) in the configured format.
    fn contents(&self, s: &mut String, p: &Packet, v: Option<&View<'_>>) {
        let d = p.data();
        let start = match (self.payload_only, v) {
            (false, _) => 0,
            (true, None) => d.len(),
            (true, Some(v)) => {
                let proto = d[v.nh + 9];
                let t = v.t();
                if v.first_frag && proto == IP_PROTO_TCP {
                    d.get(t + 12)
                        .map_or(d.len(), |b| t + ((b >> 4) as usize) * 4)
                } else if v.first_frag && proto == IP_PROTO_UDP {
                    t + 8
                } else {
                    t
                }
            }
        };
        let data = d.get(start..).unwrap_or(&[]);
        let n = if self.max_bytes < 0 {
            data.len()
        } else {
            data.len().min(self.max_bytes as usize)
        };
        for (i, &b) in data[..n].iter().enumerate() {
            match self.contents {
                Contents::Hex => {
                    if i % 24 == 0 {
                        s.push_str("\n  ");
                    } else if i % 4 == 0 {
                        s.push(' ');
                    }
                    let _ = write!(s, "{b:02x}");
                }
                Contents::Ascii => {
                    if i % 48 == 0 {
                        s.push_str("\n  ");
                    } else if i % 8 == 0 {
                        s.push(' ');
                    }
                    s.push(if (32..=126).contains(&b) {
                        b as char
                    } else {
                        '.'
                    });
                }
                Contents::None => {}
            }
        }
    }

    fn format(&self, s: &mut String, p: &Packet, nh: usize) {
        if !self.label.is_empty() {
            let _ = write!(s, "{}: ", self.label);
        }
        let a = p.anno();
        if self.timestamp {
            let ns = a.timestamp_ns;
            let _ = write!(
                s,
                "{}.{:06}: ",
                ns / 1_000_000_000,
                (ns % 1_000_000_000) / 1000
            );
        }
        if self.aggregate {
            let k = super::AGGREGATE_ANNO;
            let agg = u32::from_be_bytes([a.user[k], a.user[k + 1], a.user[k + 2], a.user[k + 3]]);
            let _ = write!(s, "#{agg}");
        }
        if self.paint {
            let _ = write!(
                s,
                "{}{}",
                if self.aggregate { "." } else { "paint " },
                a.paint
            );
        }
        if self.aggregate || self.paint {
            s.push_str(": ");
        }

        let d = p.data();
        if d.len() < nh + 20 {
            s.push_str("truncated-ip");
            return;
        }
        let hlen = ((d[nh] & 0x0f) as usize) * 4;
        let ip_len = be16(d, nh + 2) as usize;
        let field = be16(d, nh + 6);
        let payload_len = ip_len as isize - hlen as isize;
        let tlen = (d.len() as isize - (nh + hlen) as isize).min(payload_len);
        let v = View {
            d,
            nh,
            hlen,
            ip_len,
            tlen,
            first_frag: field & IP_OFFMASK == 0,
        };
        if self.id {
            let _ = write!(s, "id {} ", be16(d, nh + 4));
        }
        if self.ttl {
            let _ = write!(s, "ttl {} ", d[nh + 8]);
        }
        if self.tos {
            let _ = write!(s, "tos {} ", d[nh + 1]);
        }
        if self.length {
            let _ = write!(s, "length {ip_len} ");
        }
        match d[nh + 9] {
            IP_PROTO_TCP => self.tcp(s, &v),
            IP_PROTO_UDP => self.udp(s, &v),
            IP_PROTO_ICMP => self.icmp(s, &v),
            proto => {
                let _ = write!(s, "{} > {}: ip-proto-{proto}", v.src(), v.dst());
            }
        }
        if field & (IP_MF | IP_OFFMASK) != 0 {
            let _ = write!(
                s,
                " (frag {}:{payload_len}@{}{})",
                be16(d, nh + 4),
                ((field & IP_OFFMASK) as usize) * 8,
                if field & IP_MF != 0 { "+" } else { "" }
            );
        }
        if self.contents != Contents::None {
            self.contents(s, p, Some(&v));
        }
    }
}

fn contents_arg(w: &str) -> Result<Contents, String> {
    if let Ok(b) = bool::parse_arg(w) {
        return Ok(if b { Contents::Hex } else { Contents::None });
    }
    match w.to_ascii_uppercase().as_str() {
        "NONE" => Ok(Contents::None),
        "HEX" => Ok(Contents::Hex),
        "ASCII" => Ok(Contents::Ascii),
        _ => Err(alloc::format!(
            "bad contents value '{w}'; should be 'NONE', 'HEX', or 'ASCII'"
        )),
    }
}

fn payload_arg(w: &str) -> Result<Contents, String> {
    match w.to_ascii_uppercase().as_str() {
        "NO" | "FALSE" => Ok(Contents::None),
        "YES" | "TRUE" | "HEX" => Ok(Contents::Hex),
        "ASCII" => Ok(Contents::Ascii),
        _ => Err(alloc::format!(
            "bad payload value '{w}'; should be 'false', 'hex', or 'ascii'"
        )),
    }
}

impl Element for IPPrint {
    fn configure(&mut self, args: &mut Args, _cx: &ConfigureContext<'_>) -> Result<(), ArgError> {
        self.label = args.read_p("LABEL")?.unwrap_or_default();
        let contents: Option<Word> = args.read("CONTENTS")?;
        let payload: Option<Word> = args.read("PAYLOAD")?;
        if let Some(n) = args.read::<i64>("MAXLENGTH")? {
            self.max_bytes = n;
        }
        if let Some(n) = args.read::<i64>("NBYTES")? {
            self.max_bytes = n;
        }
        self.id = args.read_or("ID", false)?;
        self.timestamp = args.read_or("TIMESTAMP", true)?;
        self.paint = args.read_or("PAINT", false)?;
        self.tos = args.read_or("TOS", false)?;
        self.ttl = args.read_or("TTL", false)?;
        self.swap = args.read_or("SWAP", true)?;
        self.length = args.read_or("LENGTH", false)?;
        self.aggregate = args.read_or("AGGREGATE", false)?;
        self.active = args.read_or("ACTIVE", true)?;
        let _channel: Option<Word> = args.read("CHANNEL")?;

        let contents = match contents {
            Some(w) => contents_arg(&w.0).map_err(|e| ArgError::new("CONTENTS", e, None))?,
            None => Contents::None,
        };
        let payload = match payload {
            Some(w) => payload_arg(&w.0).map_err(|e| ArgError::new("PAYLOAD", e, None))?,
            None => Contents::None,
        };
        if payload != Contents::None && contents != Contents::None {
            return Err(ArgError::new(
                "PAYLOAD",
                "specify at most one of PAYLOAD and CONTENTS",
                None,
            ));
        }
        self.payload_only = payload != Contents::None;
        self.contents = if self.payload_only { payload } else { contents };
        Ok(())
    }

    fn push(&mut self, _port: usize, batch: Batch, cx: &mut Context<'_>) {
        if self.active {
            let mut s = core::mem::take(&mut self.buf);
            for p in batch.iter() {
                let Some(nh) = p.anno().network_offset() else {
                    continue;
                };
                s.clear();
                self.format(&mut s, p, nh);
                for line in s.split('\n') {
                    cx.platform().print(line);
                }
            }
            self.buf = s;
        }
        cx.push(0, batch);
    }

    fn handlers(&self) -> &'static [HandlerSpec] {
        const H: &[HandlerSpec] = &[HandlerSpec::read_write("active")];
        H
    }

    fn read_handler(&self, name: &str) -> Option<String> {
        (name == "active").then(|| self.active.to_string())
    }

    fn write_handler(
        &mut self,
        name: &str,
        value: &str,
        _cx: &mut Context<'_>,
    ) -> Result<(), String> {
        match name {
            "active" => {
                self.active = super::parse_bool(value)?;
                Ok(())
            }
            _ => Err(alloc::format!("handler '{name}' is not writable")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use crate::packet::Packet;
    use alloc::string::String;
    use alloc::vec::Vec;

    fn print(cfg_args: &str, pkts: &[Vec<u8>]) -> Vec<String> {
        let mut h = Harness::new(&alloc::format!(
            "Idle -> p :: IPPrint({cfg_args}) -> s :: Sink;"
        ));
        let ps = pkts
            .iter()
            .map(|d| {
                let mut p = with_net(d, 0);
                p.anno_mut().timestamp_ns = 1_500_000_000_123_456_789;
                p
            })
            .collect();
        h.push("p", ps);
        assert_eq!(h.data("s"), pkts, "packets pass unchanged");
        h.log()
    }

    #[test]
    fn udp_and_tcp_lines() {
        let l = print("lbl", &[udp(A, 1000, B, 53, b"hello")]);
        assert_eq!(
            l,
            ["lbl: 1500000000.123456: 10.0.0.1.1000 > 10.0.0.2.53: udp 13"]
        );
        let syn = tcp(A, 40000, B, 80, 0x02, b"");
        let ack = tcp(A, 40000, B, 80, 0x18, b"GET /");
        let l = print("TIMESTAMP false", &[syn, ack]);
        assert_eq!(
            l,
            [
                "10.0.0.1.40000 > 10.0.0.2.80: S 1000:1001(1,40,40) win 512",
                "10.0.0.1.40000 > 10.0.0.2.80: P 1000:1005(5,45,45) ack 2000 win 512",
            ]
        );
    }

    #[test]
    fn icmp_lines() {
        let quoted = udp(B, 5000, A, 33434, b"probe");
        let l = print(
            "TIMESTAMP false",
            &[
                echo(A, B, 0x1234, 7, b"ping"),
                icmp(B, A, 0, 0, [0x12, 0x34, 0, 7], b""),
                icmp(B, A, 3, 3, [0; 4], &quoted),
                icmp(B, A, 3, 4, [0, 0, 0x05, 0xdc], &quoted),
                icmp(B, A, 11, 0, [0; 4], &quoted),
                icmp(B, A, 3, 2, [0; 4], &quoted[..20]),
                icmp(B, A, 3, 3, [0; 4], &quoted[..10]),
                icmp(B, A, 99, 5, [0; 4], b""),
            ],
        );
        assert_eq!(
            l,
            [
                "10.0.0.1 > 10.0.0.2: icmp echo (4660, 7)",
                "10.0.0.2 > 10.0.0.1: icmp echo-reply (4660, 7)",
                "10.0.0.2 > 10.0.0.1: icmp 10.0.0.1 unreachable port udp/33434",
                "10.0.0.2 > 10.0.0.1: icmp 10.0.0.1 unreachable needfrag (mtu 1500)",
                "10.0.0.2 > 10.0.0.1: icmp timeexceeded transit",
                "10.0.0.2 > 10.0.0.1: icmp 10.0.0.1 unreachable protocol udp",
                "10.0.0.2 > 10.0.0.1: icmp unreachable port truncated-icmp",
                "10.0.0.2 > 10.0.0.1: icmp type 99 code 5",
            ]
        );
        let l = print("TIMESTAMP false, SWAP false", &[echo(A, B, 0x1234, 7, b"")]);
        assert_eq!(l, ["10.0.0.1 > 10.0.0.2: icmp echo (13330, 1792)"]);
    }

    #[test]
    fn fields_fragments_truncation_and_other_protocols() {
        let mut frag = udp(A, 1, B, 2, &[0; 32]);
        frag[6] = 0x20;
        frag[7] = 3;
        fix_ip(&mut frag);
        let l = print(
            "TIMESTAMP false, ID true, TTL true, TOS true, LENGTH true",
            &[
                ipv4(A, B, 47, b"gre"),
                frag,
                udp(A, 1, B, 2, b"")[..22].to_vec(),
                alloc::vec![0x45, 0, 0],
            ],
        );
        assert_eq!(
            l,
            [
                "id 4660 ttl 64 tos 0 length 23 10.0.0.1 > 10.0.0.2: ip-proto-47",
                "id 4660 ttl 64 tos 0 length 60 10.0.0.1 > 10.0.0.2: udp (frag 4660:40@24+)",
                "id 4660 ttl 64 tos 0 length 28 10.0.0.1 > 10.0.0.2: truncated-udp",
                "truncated-ip",
            ]
        );
    }

    #[test]
    fn contents_payload_paint() {
        let p = udp(A, 1, B, 2, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ");
        let l = print(
            "TIMESTAMP false, PAYLOAD ascii, PAINT true",
            core::slice::from_ref(&p),
        );
        assert_eq!(
            l,
            [
                "paint 0: 10.0.0.1.1 > 10.0.0.2.2: udp 34",
                "  ABCDEFGH IJKLMNOP QRSTUVWX YZ",
            ]
        );
        let l = print(
            "TIMESTAMP false, CONTENTS hex, MAXLENGTH 30",
            core::slice::from_ref(&p),
        );
        let hex = |b: &[u8]| -> String {
            b.chunks(4)
                .map(|c| {
                    c.iter()
                        .map(|x| alloc::format!("{x:02x}"))
                        .collect::<String>()
                })
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert_eq!(l.len(), 3);
        assert_eq!(l[1], alloc::format!("  {}", hex(&p[..24])));
        assert_eq!(l[2], alloc::format!("  {}", hex(&p[24..30])));
        assert!(l[1].starts_with("  45000036 12340000 4011"));
        assert!(
            errors("Idle -> IPPrint(CONTENTS hex, PAYLOAD hex) -> Idle;")[0]
                .contains("at most one")
        );
        assert!(errors("Idle -> IPPrint(CONTENTS octal) -> Idle;")[0].contains("bad contents"));
    }

    #[test]
    fn inactive_or_unmarked_packets_are_not_printed() {
        let p = udp(A, 1, B, 2, b"");
        let mut h = Harness::new("Idle -> x :: IPPrint -> s :: Sink;");
        h.push("x", alloc::vec![Packet::from_slice(&p)]);
        assert!(h.log().is_empty());
        h.write("x.active", "false").unwrap();
        h.push_ip("x", &[&p]);
        assert!(h.log().is_empty());
        assert_eq!(h.data("s").len(), 2);
        assert_eq!(h.read("x.active"), "false");
    }
}
