//! IPEncap — puts each packet in an IPv4 header built from the configuration.
//!
//! Ports: 1 input, 1 output.
//! Processing: agnostic.
//! Arguments: PROTO (mandatory: a protocol number or name such as `ipip`, `udp`, `4`), SRC
//! (mandatory address), DST (mandatory: an address, or `DST_ANNO` for the packet's destination
//! annotation); keywords TTL (byte, default 250), TOS (byte), DSCP (0–63), ECT (boolean, or `2`:
//! true sets the ECN bits to 1, `2` sets them to 2), CE (boolean: ECN bits 3), DF (boolean: set
//! Don't Fragment). TOS cannot be combined with DSCP, ECT or CE; ECT and CE exclude
//! each other.
//! Handlers: `src`, `dst` (read/write) the SRC and DST arguments; `drops` (read) packets killed
//! because the result would exceed 65535 bytes.
//!
//! The header has no options, IP ID counting up from 0 per element, and a computed checksum. The
//! destination annotation is set to DST (unless DST_ANNO), and the network- and transport-header
//! annotations to the new header and what follows it.

use alloc::string::{String, ToString};
use core::net::Ipv4Addr;

use config_lang::args::{ArgError, ArgValue, Args, Word};

use super::{checksum, names, put16, Dst, IP_DF};
use crate::batch::Batch;
use crate::element::{ConfigureContext, Element, ElementClass, HandlerSpec};
use crate::router::Context;

pub const CLASS: ElementClass = super::element_class!("IPEncap", "1/1", "a/a", IPEncap);

pub struct IPEncap {
    /// Version/IHL, TOS, flags, TTL, protocol and source; length, id, checksum and (with
    /// DST_ANNO) destination filled per packet.
    template: [u8; 20],
    src: Ipv4Addr,
    dst: Dst,
    id: u16,
    drops: u64,
}

impl Default for IPEncap {
    fn default() -> Self {
        IPEncap {
            template: [0; 20],
            src: Ipv4Addr::UNSPECIFIED,
            dst: Dst::Fixed(Ipv4Addr::UNSPECIFIED),
            id: 0,
            drops: 0,
        }
    }
}

fn bad(arg: &str, why: impl Into<String>) -> ArgError {
    ArgError::new(arg, why, None)
}

impl Element for IPEncap {
    fn configure(&mut self, args: &mut Args, _cx: &ConfigureContext<'_>) -> Result<(), ArgError> {
        let proto: Word = args.read_mp("PROTO")?;
        let proto = names::ip_proto(&proto.0)
            .ok_or_else(|| bad("PROTO", alloc::format!("bad IP protocol '{}'", proto.0)))?;
        self.src = args.read_mp("SRC")?;
        self.dst = args.read_mp("DST")?;
        let tos: Option<u8> = args.read("TOS")?;
        let ttl: u8 = args.read_or("TTL", 250)?;
        let dscp: Option<u8> = args.read("DSCP")?;
        let ect: Option<Word> = args.read("ECT")?;
        let ce: bool = args.read_or("CE", false)?;
        let df: bool = args.read_or("DF", false)?;

        let ect = match ect {
            None => 0u8,
            Some(Word(w)) if w == "2" => 2,
            Some(Word(w)) => match bool::parse_arg(&w) {
                Ok(b) => b as u8,
                Err(_) => return Err(bad("ECT", alloc::format!("bad ECT value '{w}'"))),
            },
        };
        if tos.is_some() && dscp.is_some() {
            return Err(bad("TOS", "cannot set both TOS and DSCP"));
        }
        if tos.is_some() && (ect != 0 || ce) {
            return Err(bad("TOS", "cannot set both TOS and ECN bits"));
        }
        if dscp.is_some_and(|d| d > 63) {
            return Err(bad("DSCP", "DSCP too large; max 63"));
        }
        if ect != 0 && ce {
            return Err(bad("CE", "can set at most one ECN option"));
        }
        let mut tos = tos.unwrap_or(dscp.map_or(0, |d| d << 2));
        tos |= ect; // ECT(1) = 1, ECT(0) = 2
        if ce {
            tos |= 3;
        }

        let t = &mut self.template;
        t[0] = 0x45;
        t[1] = tos;
        put16(t, 6, if df { IP_DF } else { 0 });
        t[8] = ttl;
        t[9] = proto;
        t[12..16].copy_from_slice(&self.src.octets());
        Ok(())
    }

    fn push(&mut self, _port: usize, batch: Batch, cx: &mut Context<'_>) {
        let (template, dst) = (self.template, self.dst);
        let id = &mut self.id;
        let drops = &mut self.drops;
        cx.classify(batch, |p| {
            let len = p.len() + 20;
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
            let h = &mut p.push_head(20)[..20];
            h.copy_from_slice(&template);
            put16(h, 2, len as u16);
            put16(h, 4, *id);
            h[16..20].copy_from_slice(&dst.octets());
            checksum::set_ip_header(h);
            *id = id.wrapping_add(1);
            let a = p.anno_mut();
            a.set_network_offset(0);
            a.set_transport_offset(20);
            Some(0)
        });
    }

    fn handlers(&self) -> &'static [HandlerSpec] {
        const H: &[HandlerSpec] = &[
            HandlerSpec::read_write("src"),
            HandlerSpec::read_write("dst"),
            HandlerSpec::read("drops"),
        ];
        H
    }

    fn read_handler(&self, name: &str) -> Option<String> {
        match name {
            "src" => Some(self.src.to_string()),
            "dst" => Some(self.dst.to_string()),
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
            "src" => {
                self.src = super::parse_handler(value)?;
                self.template[12..16].copy_from_slice(&self.src.octets());
            }
            "dst" => self.dst = super::parse_handler(value)?,
            _ => return Err(alloc::format!("handler '{name}' is not writable")),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use crate::packet::Packet;
    use core::net::Ipv4Addr;

    #[test]
    fn encapsulates_with_defaults() {
        let inner = udp(A, 1, B, 2, b"inner");
        let mut h = Harness::new("Idle -> e :: IPEncap(ipip, 1.1.1.1, 2.2.2.2) -> s :: Sink;");
        h.push_bytes("e", &[&inner, &inner]);
        let g = h.got("s");
        assert_eq!(g.len(), 2);
        for (k, x) in g.iter().enumerate() {
            let d = &x.data;
            assert_eq!(&d[20..], &inner[..]);
            assert_eq!(d[0], 0x45);
            assert_eq!(d[1], 0);
            assert_eq!(u16::from_be_bytes([d[2], d[3]]) as usize, 20 + inner.len());
            assert_eq!(u16::from_be_bytes([d[4], d[5]]), k as u16, "IP ID counts");
            assert_eq!(&d[6..8], &[0, 0]);
            assert_eq!(d[8], 250);
            assert_eq!(d[9], 4);
            assert_eq!(&d[12..16], &[1, 1, 1, 1]);
            assert_eq!(&d[16..20], &[2, 2, 2, 2]);
            assert!(ip_ok(d));
            assert_eq!(x.anno.dst_ip, Ipv4Addr::new(2, 2, 2, 2));
            assert_eq!(x.anno.network_offset(), Some(0));
            assert_eq!(x.anno.transport_offset(), Some(20));
        }
    }

    #[test]
    fn keywords_and_dst_anno() {
        let mut h = Harness::new(
            "Idle -> e :: IPEncap(17, 1.1.1.1, DST_ANNO, TTL 9, DSCP 10, ECT 2, DF true) -> s :: Sink;",
        );
        let mut p = Packet::from_slice(b"abc");
        p.anno_mut().dst_ip = Ipv4Addr::new(9, 8, 7, 6);
        h.push("e", alloc::vec![p]);
        let d = &h.got("s")[0].data;
        assert_eq!(d[1], (10 << 2) | 2);
        assert_eq!(&d[6..8], &[0x40, 0]);
        assert_eq!(d[8], 9);
        assert_eq!(d[9], 17);
        assert_eq!(&d[16..20], &[9, 8, 7, 6]);
        assert!(ip_ok(d));

        let mut h = Harness::new(
            "Idle -> e :: IPEncap(tcp, 1.1.1.1, 2.2.2.2, TOS 0xb8, TTL 1) -> s :: Sink;",
        );
        h.push_bytes("e", &[b""]);
        let d = &h.got("s")[0].data;
        assert_eq!((d[1], d[8], d[9]), (0xb8, 1, 6));
        let mut h =
            Harness::new("Idle -> e :: IPEncap(1, 1.1.1.1, 2.2.2.2, CE true) -> s :: Sink;");
        h.push_bytes("e", &[b""]);
        assert_eq!(h.got("s")[0].data[1], 3);
    }

    #[test]
    fn handlers_change_addresses() {
        let mut h = Harness::new("Idle -> e :: IPEncap(4, 1.1.1.1, 2.2.2.2) -> s :: Sink;");
        assert_eq!(h.read("e.src"), "1.1.1.1");
        assert_eq!(h.read("e.dst"), "2.2.2.2");
        h.write("e.src", "3.3.3.3").unwrap();
        h.write("e.dst", "DST_ANNO").unwrap();
        assert_eq!(h.read("e.dst"), "DST_ANNO");
        assert!(h.write("e.src", "nope").is_err());
        h.push_bytes("e", &[b"x"]);
        let d = &h.got("s")[0].data;
        assert_eq!(&d[12..16], &[3, 3, 3, 3]);
        assert_eq!(&d[16..20], &[0, 0, 0, 0]);
        assert!(ip_ok(d));
    }

    #[test]
    fn configuration_errors() {
        let e = |c: &str| errors(&alloc::format!("Idle -> IPEncap({c}) -> Idle;")).join("\n");
        assert!(e("bogus, 1.1.1.1, 2.2.2.2").contains("bad IP protocol"));
        assert!(e("300, 1.1.1.1, 2.2.2.2").contains("PROTO"));
        assert!(e("4, 1.1.1.1").contains("DST"));
        assert!(e("4, 1.1.1.1, nowhere").contains("DST"));
        assert!(e("4, 1.1.1.1, 2.2.2.2, TOS 1, DSCP 1").contains("TOS and DSCP"));
        assert!(e("4, 1.1.1.1, 2.2.2.2, TOS 1, CE true").contains("ECN"));
        assert!(e("4, 1.1.1.1, 2.2.2.2, DSCP 64").contains("max 63"));
        assert!(e("4, 1.1.1.1, 2.2.2.2, ECT true, CE true").contains("at most one"));
        assert!(e("4, 1.1.1.1, 2.2.2.2, ECT 3").contains("ECT"));
        assert!(e("4, 1.1.1.1, 2.2.2.2, TOS 256").contains("TOS"));
        assert!(e("4, 1.1.1.1, 2.2.2.2, DSCP 63, ECT 1").is_empty());
    }
}
