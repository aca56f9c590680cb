//! UDPIPEncap — puts each packet in UDP and IPv4 headers built from the configuration.
//!
//! Ports: 1 input, 1 output.
//! Processing: agnostic.
//! Arguments: SRC (mandatory address), SPORT (mandatory port: a number or a service name such as
//! `dns`), DST (mandatory: an address, or `DST_ANNO` for the packet's destination annotation),
//! DPORT (mandatory port), CHECKSUM (boolean: compute the UDP checksum; default true).
//! Handlers: `src`, `sport`, `dst`, `dport` (read/write) the arguments; `drops` (read) packets
//! killed because the result would exceed 65535 bytes.
//!
//! The IP header has TTL 250, TOS 0, no flags, and an IP ID counting up from 0 per element. The
//! UDP checksum (when on) covers the pseudo-header and the whole datagram; zero is sent as
//! `0xFFFF`. The destination annotation is set to DST (unless DST_ANNO), and the network- and
//! transport-header annotations to the new headers.

use alloc::string::{String, ToString};
use core::net::Ipv4Addr;

use config_lang::args::{ArgError, ArgValue, Args};

use crate::batch::Batch;
use crate::element::{ConfigureContext, Element, ElementClass, HandlerSpec};
use crate::library::ip::{checksum, names, parse_handler, put16, Dst, IP_PROTO_UDP};
use crate::router::Context;

pub const CLASS: ElementClass =
    crate::library::ip::element_class!("UDPIPEncap", "1/1", "a/a", UDPIPEncap);

/// A UDP port: a number or a well-known service name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Port(u16);

impl ArgValue for Port {
    const EXPECTED: &'static str = "a port number or name";
    fn parse_arg(s: &str) -> Result<Self, String> {
        names::port(s)
            .map(Port)
            .ok_or_else(|| alloc::format!("'{}' is not a port", s.trim()))
    }
}

pub struct UDPIPEncap {
    src: Ipv4Addr,
    sport: u16,
    dst: Dst,
    dport: u16,
    checksum: bool,
    id: u16,
    drops: u64,
}

impl Default for UDPIPEncap {
    fn default() -> Self {
        UDPIPEncap {
            src: Ipv4Addr::UNSPECIFIED,
            sport: 0,
            dst: Dst::Fixed(Ipv4Addr::UNSPECIFIED),
            dport: 0,
            checksum: true,
            id: 0,
            drops: 0,
        }
    }
}

impl Element for UDPIPEncap {
    fn configure(&mut self, args: &mut Args, _cx: &ConfigureContext<'_>) -> Result<(), ArgError> {
        self.src = args.read_mp("SRC")?;
        self.sport = args.read_mp::<Port>("SPORT")?.0;
        self.dst = args.read_mp("DST")?;
        self.dport = args.read_mp::<Port>("DPORT")?.0;
        self.checksum = args.read_p("CHECKSUM")?.unwrap_or(true);
        Ok(())
    }

    fn push(&mut self, _port: usize, batch: Batch, cx: &mut Context<'_>) {
        let (src, sport, dst, dport, with_sum) =
            (self.src, self.sport, self.dst, self.dport, self.checksum);
        let id = &mut self.id;
        let drops = &mut self.drops;
        cx.classify(batch, |p| {
            let len = p.len() + 28;
            if len > 0xffff {
                *drops += 1;
                return None;
            }
            let dst = match dst {
                Dst::Fixed(a) => {
                    p.anno_mut().dst_ip = a;
                    a
                }
                Dst::Anno => p.anno().dst_ip,
            };
            let d = p.push_head(28);
            let (ip, udp) = d.split_at_mut(20);
            ip.copy_from_slice(&[0; 20]);
            ip[0] = 0x45;
            put16(ip, 2, len as u16);
            put16(ip, 4, *id);
            ip[8] = 250;
            ip[9] = IP_PROTO_UDP;
            ip[12..16].copy_from_slice(&src.octets());
            ip[16..20].copy_from_slice(&dst.octets());
            checksum::set_ip_header(ip);
            *id = id.wrapping_add(1);
            put16(udp, 0, sport);
            put16(udp, 2, dport);
            put16(udp, 4, (len - 20) as u16);
            put16(udp, 6, 0);
            if with_sum {
                let c = checksum::transport(ip, udp);
                put16(udp, 6, if c == 0 { 0xffff } else { c });
            }
            let a = p.anno_mut();
            a.set_network_offset(0);
            a.set_transport_offset(20);
            Some(0)
        });
    }

    fn handlers(&self) -> &'static [HandlerSpec] {
        const H: &[HandlerSpec] = &[
            HandlerSpec::read_write("src"),
            HandlerSpec::read_write("sport"),
            HandlerSpec::read_write("dst"),
            HandlerSpec::read_write("dport"),
            HandlerSpec::read("drops"),
        ];
        H
    }

    fn read_handler(&self, name: &str) -> Option<String> {
        match name {
            "src" => Some(self.src.to_string()),
            "sport" => Some(self.sport.to_string()),
            "dst" => Some(self.dst.to_string()),
            "dport" => Some(self.dport.to_string()),
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
        match name {
            "src" => self.src = parse_handler(value)?,
            "sport" => self.sport = parse_handler::<Port>(value)?.0,
            "dst" => self.dst = parse_handler(value)?,
            "dport" => self.dport = parse_handler::<Port>(value)?.0,
            _ => return Err(alloc::format!("handler '{name}' is not writable")),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::library::ip::testutil::*;
    use crate::packet::Packet;
    use core::net::Ipv4Addr;

    #[test]
    fn encapsulates_like_a_reference_packet() {
        let mut h =
            Harness::new("Idle -> e :: UDPIPEncap(10.0.0.1, 1234, 10.0.0.2, dns) -> s :: Sink;");
        h.push_bytes("e", &[b"query", b"query"]);
        let g = h.got("s");
        for (k, x) in g.iter().enumerate() {
            let mut want = udp(A, 1234, B, 53, b"query");
            want[4..6].copy_from_slice(&(k as u16).to_be_bytes());
            want[8] = 250;
            fix_ip(&mut want);
            assert_eq!(x.data, want);
            assert!(ip_ok(&x.data) && l4_ok(&x.data));
            assert_eq!(x.anno.dst_ip, B);
            assert_eq!(x.anno.network_offset(), Some(0));
            assert_eq!(x.anno.transport_offset(), Some(20));
        }
    }

    #[test]
    fn dst_anno_and_no_checksum() {
        let mut h =
            Harness::new("Idle -> e :: UDPIPEncap(10.0.0.1, 5, DST_ANNO, 6, false) -> s :: Sink;");
        let mut p = Packet::from_slice(b"");
        p.anno_mut().dst_ip = Ipv4Addr::new(7, 7, 7, 7);
        h.push("e", alloc::vec![p]);
        let d = &h.got("s")[0].data;
        assert_eq!(d.len(), 28);
        assert_eq!(&d[16..20], &[7, 7, 7, 7]);
        assert_eq!(&d[20..28], &[0, 5, 0, 6, 0, 8, 0, 0]);
        assert!(ip_ok(d));
    }

    #[test]
    fn handlers_and_errors() {
        let mut h = Harness::new("Idle -> e :: UDPIPEncap(10.0.0.1, 5, 10.0.0.2, 6) -> s :: Sink;");
        assert_eq!(h.read("e.sport"), "5");
        h.write("e.sport", "ntp").unwrap();
        h.write("e.dport", "99").unwrap();
        h.write("e.dst", "DST_ANNO").unwrap();
        h.write("e.src", "1.1.1.1").unwrap();
        assert!(h.write("e.dport", "70000").is_err());
        assert_eq!(h.read("e.dst"), "DST_ANNO");
        h.push_bytes("e", &[b"x"]);
        let d = &h.got("s")[0].data;
        assert_eq!(&d[20..24], &[0, 123, 0, 99]);
        assert_eq!(&d[12..16], &[1, 1, 1, 1]);
        assert!(l4_ok(d));
        let e = |c: &str| errors(&alloc::format!("Idle -> UDPIPEncap({c}) -> Idle;")).join("\n");
        assert!(e("10.0.0.1, 5, 10.0.0.2").contains("DPORT"));
        assert!(e("10.0.0.1, nosuchport, 10.0.0.2, 6").contains("SPORT"));
        assert!(e("10.0.0.1, 5, here, 6").contains("DST"));
        assert!(e("10.0.0.1, 5, 10.0.0.2, 6, maybe").contains("CHECKSUM"));
    }
}
