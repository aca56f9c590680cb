//! CheckIPHeader — checks IPv4 headers; passes good packets, diverts or drops bad ones.
//!
//! Ports: 1 input, 1 or 2 outputs.
//! Processing: agnostic input and output 0; output 1 (bad packets) push.
//! Arguments: keywords OFFSET (unsigned, where the IP header starts; default 0), INTERFACES
//! (space-separated `ADDR/LEN` list: this router's interfaces; sets BADSRC to their broadcast
//! addresses plus 0.0.0.0 and 255.255.255.255, and GOODDST to their addresses), BADSRC
//! (address list: sources to reject), GOODDST (address list: destinations exempt from BADSRC),
//! CHECKSUM (boolean, check the header checksum; default true), VERBOSE (boolean, report every
//! bad packet, not only the first; default false), DETAILS (boolean, count drops by reason;
//! default false). A single positional integer is OFFSET; Click's old positional form
//! `[BADSRC, OFFSET]` is accepted too, and then also rejects sources 0.0.0.0 and 255.255.255.255.
//! Handlers: `drops` (read) bad packets seen; `drop_details` (read, with DETAILS) one line per
//! reason, `COUNT<tab>REASON`.
//!
//! A packet is bad when fewer than 20 bytes follow OFFSET, the version is not 4, the header length
//! is below 20 or past the end of the packet, the total length is below the header length or past
//! the end of the packet, the checksum is wrong (with CHECKSUM), or the source is in BADSRC and
//! the destination not in GOODDST. A good packet is trimmed to its total length (link padding
//! goes), gets its network- and transport-header annotations, and its destination-address
//! annotation. The first bad packet (every one with VERBOSE) is reported on the console.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::net::Ipv4Addr;

use config_lang::args::{ArgError, ArgValue, Args, Ipv4Prefix};

use super::{addr_at, be16, checksum, AddrList, DropLog};
use crate::batch::Batch;
use crate::element::{ConfigureContext, Element, ElementClass, HandlerSpec};
use crate::packet::Packet;
use crate::router::Context;

pub const CLASS: ElementClass =
    super::element_class!("CheckIPHeader", "1/1-2", "a/ah", CheckIPHeader);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reason {
    Tiny,
    Version,
    HeaderLen,
    Length,
    Checksum,
    BadSource,
}

const REASONS: [&str; 6] = [
    "tiny packet",
    "bad IP version",
    "bad IP header length",
    "bad IP length",
    "bad IP checksum",
    "bad source address",
];

pub struct CheckIPHeader {
    offset: usize,
    bad_src: Vec<Ipv4Addr>,
    good_dst: Vec<Ipv4Addr>,
    checksum: bool,
    log: DropLog<6>,
}

impl Default for CheckIPHeader {
    fn default() -> Self {
        CheckIPHeader {
            offset: 0,
            bad_src: Vec::new(),
            good_dst: Vec::new(),
            checksum: true,
            log: DropLog::default(),
        }
    }
}

/// The INTERFACES list: `(BADSRC, GOODDST)`.
fn interfaces(s: &str) -> Result<(Vec<Ipv4Addr>, Vec<Ipv4Addr>), String> {
    let mut bad = Vec::new();
    let mut good = Vec::new();
    for w in s.split_whitespace() {
        let p = Ipv4Prefix::parse_arg(w)?;
        let mask = u32::from(p.mask());
        bad.push(Ipv4Addr::from((u32::from(p.addr) & mask) | !mask));
        good.push(p.addr);
    }
    bad.push(Ipv4Addr::UNSPECIFIED);
    bad.push(Ipv4Addr::BROADCAST);
    Ok((bad, good))
}

impl CheckIPHeader {
    /// Checks one packet; on success trims it and sets its annotations.
    #[inline]
    fn check(&self, p: &mut Packet) -> Result<(), Reason> {
        let off = self.offset;
        let d = p.data();
        let plen = d.len().saturating_sub(off);
        if d.len() < off || plen < 20 {
            return Err(Reason::Tiny);
        }
        let ip = &d[off..];
        if ip[0] >> 4 != 4 {
            return Err(Reason::Version);
        }
        let hlen = ((ip[0] & 0x0f) as usize) * 4;
        if hlen < 20 {
            return Err(Reason::HeaderLen);
        }
        let len = be16(ip, 2) as usize;
        if len > plen || len < hlen {
            return Err(Reason::Length);
        }
        if self.checksum && !checksum::ip_header_ok(&ip[..hlen]) {
            return Err(Reason::Checksum);
        }
        let dst = addr_at(ip, 16);
        if !self.bad_src.is_empty()
            && self.bad_src.contains(&addr_at(ip, 12))
            && !self.good_dst.contains(&dst)
        {
            return Err(Reason::BadSource);
        }
        if plen > len {
            // Link-layer padding: cannot fail, the packet is longer than what is cut.
            let _ = p.trim_tail(plen - len);
        }
        let a = p.anno_mut();
        a.set_network_offset(off);
        a.set_transport_offset(off + hlen);
        a.dst_ip = dst;
        Ok(())
    }
}

impl Element for CheckIPHeader {
    fn configure(&mut self, args: &mut Args, _cx: &ConfigureContext<'_>) -> Result<(), ArgError> {
        if let Some(s) = args.read::<String>("INTERFACES")? {
            let (bad, good) = interfaces(&s).map_err(|e| ArgError::new("INTERFACES", e, None))?;
            self.bad_src = bad;
            self.good_dst = good;
        }
        if let Some(AddrList(v)) = args.read("BADSRC")? {
            self.bad_src = v;
        }
        if let Some(AddrList(v)) = args.read("GOODDST")? {
            self.good_dst = v;
        }
        if let Some(o) = args.read::<usize>("OFFSET")? {
            self.offset = o;
        }
        self.log.verbose = args.read_or("VERBOSE", false)?;
        self.log.details = args.read_or("DETAILS", false)?;
        self.checksum = args.read_or("CHECKSUM", true)?;

        // Positional forms: `OFFSET`, or the old `BADSRC [, OFFSET]`.
        let rest = args.rest_positional();
        match rest.as_slice() {
            [] => {}
            [one] if usize::parse_arg(&one.text).is_ok() => {
                self.offset = usize::parse_arg(&one.text).expect("checked");
            }
            [bad, more @ ..] if more.len() <= 1 => {
                let AddrList(mut v) = AddrList::parse_arg(&bad.text)
                    .map_err(|e| ArgError::new("BADSRC", e, Some(bad.range.clone())))?;
                v.push(Ipv4Addr::UNSPECIFIED);
                v.push(Ipv4Addr::BROADCAST);
                self.bad_src = v;
                if let Some(o) = more.first() {
                    self.offset = usize::parse_arg(&o.text).map_err(|e| {
                        ArgError::new(
                            "OFFSET",
                            format!("expected {}: {e}", usize::EXPECTED),
                            Some(o.range.clone()),
                        )
                    })?;
                }
            }
            [.., extra] => {
                return Err(ArgError::new(
                    "",
                    format!("too many arguments: '{}' is not expected", extra.text),
                    Some(extra.range.clone()),
                ))
            }
        }
        Ok(())
    }

    fn push(&mut self, _port: usize, batch: Batch, cx: &mut Context<'_>) {
        super::split_good_bad(batch, cx, |p, cx| match self.check(p) {
            Ok(()) => true,
            Err(r) => {
                self.log.note(r as usize, &REASONS, "IP header", cx);
                false
            }
        });
    }

    fn handlers(&self) -> &'static [HandlerSpec] {
        self.log.handlers()
    }

    fn read_handler(&self, name: &str) -> Option<String> {
        self.log.read_handler(name, &REASONS)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use alloc::vec;
    use alloc::vec::Vec;

    const CFG: &str =
        "Idle -> x :: CheckIPHeader(DETAILS true) -> good :: Sink; x[1] -> bad :: Sink;";

    #[test]
    fn good_packet_passes_with_annotations() {
        let mut h = Harness::new(CFG);
        let p = udp(A, 1000, B, 53, b"hello");
        h.push_bytes("x", &[&p]);
        let g = h.got("good");
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].data, p);
        assert_eq!(g[0].anno.network_offset(), Some(0));
        assert_eq!(g[0].anno.transport_offset(), Some(20));
        assert_eq!(g[0].anno.dst_ip, B);
        assert!(h.got("bad").is_empty());
        assert_eq!(h.read("x.drops"), "0");
    }

    #[test]
    fn each_kind_of_bad_packet_goes_to_output_1() {
        let good = udp(A, 1000, B, 53, b"hello");
        let mut bad_version = good.clone();
        bad_version[0] = 0x65;
        fix_ip(&mut bad_version);
        let mut bad_ihl = good.clone();
        bad_ihl[0] = 0x44;
        fix_ip(&mut bad_ihl[..]);
        let mut long_ihl = good.clone();
        long_ihl[0] = 0x4f; // 60-byte header, packet is 33 bytes
        let mut too_long = good.clone();
        too_long[2..4].copy_from_slice(&100u16.to_be_bytes());
        fix_ip(&mut too_long);
        let mut too_short = good.clone();
        too_short[2..4].copy_from_slice(&19u16.to_be_bytes());
        fix_ip(&mut too_short);
        let mut bad_sum = good.clone();
        bad_sum[10] ^= 0xff;
        let truncated = good[..19].to_vec();
        let mut h = Harness::new(CFG);
        h.push_bytes(
            "x",
            &[
                &truncated,
                &bad_version,
                &bad_ihl,
                &long_ihl,
                &too_long,
                &too_short,
                &bad_sum,
                &[],
            ],
        );
        assert!(h.got("good").is_empty());
        assert_eq!(h.got("bad").len(), 8);
        assert_eq!(h.read("x.drops"), "8");
        assert_eq!(
            h.read("x.drop_details"),
            "2\ttiny packet\n1\tbad IP version\n1\tbad IP header length\n\
             3\tbad IP length\n1\tbad IP checksum\n0\tbad source address\n"
        );
        // Only the first is reported without VERBOSE.
        assert_eq!(h.log(), vec!["x: IP header check failed: tiny packet"]);
    }

    #[test]
    fn verbose_reports_every_bad_packet_and_one_output_drops() {
        let mut h = Harness::new("Idle -> x :: CheckIPHeader(VERBOSE true) -> good :: Sink;");
        h.push_bytes("x", &[&[0x45; 10], &[0x55; 30]]);
        assert_eq!(h.log().len(), 2);
        assert_eq!(h.read("x.drops"), "2");
        assert!(h.got("good").is_empty());
        // No DETAILS: no drop_details handler.
        assert!(h.router.read_handler("x.drop_details").is_err());
    }

    #[test]
    fn trims_padding_and_honours_offset() {
        let ip = udp(A, 1, B, 2, b"x");
        let mut frame = vec![0xaa; 14];
        frame.extend_from_slice(&ip);
        frame.extend_from_slice(&[0; 12]); // Ethernet padding
        for cfg in [
            "Idle -> x :: CheckIPHeader(14) -> good :: Sink;",
            "Idle -> x :: CheckIPHeader(OFFSET 14) -> good :: Sink;",
        ] {
            let mut h = Harness::new(cfg);
            h.push_bytes("x", &[&frame]);
            let g = h.got("good");
            assert_eq!(g.len(), 1);
            assert_eq!(g[0].data, frame[..14 + ip.len()]);
            assert_eq!(g[0].anno.network_offset(), Some(14));
            assert_eq!(g[0].anno.transport_offset(), Some(34));
        }
    }

    #[test]
    fn checksum_false_skips_the_checksum() {
        let mut p = udp(A, 1, B, 2, b"x");
        p[10] ^= 1;
        let mut h = Harness::new("Idle -> x :: CheckIPHeader(CHECKSUM false) -> good :: Sink;");
        h.push_bytes("x", &[&p]);
        assert_eq!(h.got("good").len(), 1);
    }

    #[test]
    fn source_address_rules() {
        let from = |s: [u8; 4], d: [u8; 4]| udp(s.into(), 1, d.into(), 2, b"");
        let cfg = "Idle -> x :: CheckIPHeader(INTERFACES 18.26.4.9/24 1.0.0.1/8, DETAILS true) -> good :: Sink; x[1] -> bad :: Sink;";
        let mut h = Harness::new(cfg);
        let pkts: Vec<Vec<u8>> = vec![
            from([18, 26, 4, 255], [9, 9, 9, 9]), // subnet broadcast source: bad
            from([1, 255, 255, 255], [9, 9, 9, 9]), // bad
            from([0, 0, 0, 0], [9, 9, 9, 9]),     // bad
            from([255, 255, 255, 255], [9, 9, 9, 9]), // bad
            from([0, 0, 0, 0], [18, 26, 4, 9]),   // to us: exempt
            from([18, 26, 4, 7], [9, 9, 9, 9]),   // fine
        ];
        h.push_bytes("x", &pkts.iter().map(|p| &p[..]).collect::<Vec<_>>());
        assert_eq!(h.got("good").len(), 2);
        assert_eq!(h.got("bad").len(), 4);
        assert!(h.read("x.drop_details").contains("4\tbad source address"));

        let mut h = Harness::new(
            "Idle -> x :: CheckIPHeader(BADSRC 10.0.0.1, GOODDST 10.0.0.9) -> good :: Sink; x[1] -> bad :: Sink;",
        );
        h.push_bytes(
            "x",
            &[
                &from([10, 0, 0, 1], [10, 0, 0, 2]),
                &from([10, 0, 0, 1], [10, 0, 0, 9]),
                &from([0, 0, 0, 0], [1, 1, 1, 1]),
            ],
        );
        assert_eq!(h.got("good").len(), 2);
        assert_eq!(h.got("bad").len(), 1);

        // Old syntax: BADSRC2 (plus 0.0.0.0 and 255.255.255.255), OFFSET.
        let mut h = Harness::new(
            "Idle -> x :: CheckIPHeader(10.0.0.1 10.0.0.3, 0) -> good :: Sink; x[1] -> bad :: Sink;",
        );
        h.push_bytes(
            "x",
            &[
                &from([10, 0, 0, 3], [1, 1, 1, 1]),
                &from([0, 0, 0, 0], [1, 1, 1, 1]),
                &from([10, 0, 0, 2], [1, 1, 1, 1]),
            ],
        );
        assert_eq!(h.got("good").len(), 1);
        assert_eq!(h.got("bad").len(), 2);
    }

    #[test]
    fn configuration_errors() {
        assert!(errors("Idle -> CheckIPHeader(OFFSET x) -> Idle;")[0].contains("OFFSET"));
        assert!(errors("Idle -> CheckIPHeader(BADSRC 1.2.3) -> Idle;")[0].contains("BADSRC"));
        assert!(
            errors("Idle -> CheckIPHeader(INTERFACES 1.2.3.4/40) -> Idle;")[0]
                .contains("INTERFACES")
        );
        assert!(!errors("Idle -> CheckIPHeader(1.2.3.4, 1, 2) -> Idle;").is_empty());
        assert!(!errors("Idle -> CheckIPHeader(1.2.3.4, x) -> Idle;").is_empty());
        assert!(
            errors("Idle -> CheckIPHeader(14, VERBOSE true, CHECKSUM false) -> Idle;").is_empty()
        );
        assert!(
            errors("Idle -> c :: CheckIPHeader -> Idle; c[1] -> Idle; c[2] -> Idle;").len() == 1
        );
    }
}
