//! GetIPAddress — copies an IPv4 address from the packet into an annotation.
//!
//! Ports: 1 input, 1 output.
//! Processing: agnostic.
//! Arguments: OFFSET (unsigned: copy the 4 bytes at OFFSET), ANNO (which annotation: `DST_IP`,
//! the default, or a byte offset into the user annotation area), keyword IP (`src` or `dst`: copy
//! that field of the IP header found through the network-header annotation). Give exactly one
//! of OFFSET and IP.
//! Handlers: `drops` (read) packets killed because the address is not in them, or (with IP) the
//! network-header annotation is unset (an addition to Click, which reads past the end).
//!
//! `GetIPAddress(16)` after `Strip(14)` sets the destination annotation from the IP header.

use alloc::string::{String, ToString};
use core::net::Ipv4Addr;

use config_lang::args::{ArgError, ArgValue, Args, Word};

use super::network_ip_header;
use crate::batch::Batch;
use crate::element::{ConfigureContext, Element, ElementClass, HandlerSpec};
use crate::packet::Annotations;
use crate::router::Context;

pub const CLASS: ElementClass = super::element_class!("GetIPAddress", "1/1", "a/a", GetIPAddress);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    Offset(usize),
    IpSrc,
    IpDst,
}

/// Where the address goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Anno {
    DstIp,
    User(usize),
}

impl ArgValue for Anno {
    const EXPECTED: &'static str = "a 4-byte annotation (DST_IP or a user-area offset)";
    fn parse_arg(s: &str) -> Result<Self, String> {
        let user_len = Annotations::default().user.len();
        match s.trim() {
            "DST_IP" | "DST_IP_ANNO" => Ok(Anno::DstIp),
            "AGGREGATE" | "AGGREGATE_ANNO" => Ok(Anno::User(super::AGGREGATE_ANNO)),
            t => match usize::parse_arg(t) {
                Ok(k) if k + 4 <= user_len => Ok(Anno::User(k)),
                Ok(k) => Err(alloc::format!(
                    "offset {k} leaves no room for 4 bytes in the {user_len}-byte user area"
                )),
                Err(_) => Err(alloc::format!("unknown annotation '{t}'")),
            },
        }
    }
}

pub struct GetIPAddress {
    source: Source,
    anno: Anno,
    drops: u64,
}

impl Default for GetIPAddress {
    fn default() -> Self {
        GetIPAddress {
            source: Source::Offset(16),
            anno: Anno::DstIp,
            drops: 0,
        }
    }
}

fn store(a: &mut Annotations, anno: Anno, addr: [u8; 4]) {
    match anno {
        Anno::DstIp => a.dst_ip = Ipv4Addr::from(addr),
        Anno::User(k) => a.user[k..k + 4].copy_from_slice(&addr),
    }
}

impl Element for GetIPAddress {
    fn configure(&mut self, args: &mut Args, _cx: &ConfigureContext<'_>) -> Result<(), ArgError> {
        let offset: Option<usize> = args.read_p("OFFSET")?;
        self.anno = args.read_p("ANNO")?.unwrap_or(Anno::DstIp);
        let ip: Option<Word> = args.read("IP")?;
        self.source = match (offset, ip) {
            (Some(o), None) => Source::Offset(o),
            (None, Some(w)) if w.0 == "src" => Source::IpSrc,
            (None, Some(w)) if w.0 == "dst" => Source::IpDst,
            (None, Some(w)) => {
                return Err(ArgError::new(
                    "IP",
                    alloc::format!("bad IP '{}': expected 'src' or 'dst'", w.0),
                    None,
                ))
            }
            _ => return Err(ArgError::new("", "set one of OFFSET, IP", None)),
        };
        Ok(())
    }

    fn push(&mut self, _port: usize, batch: Batch, cx: &mut Context<'_>) {
        let (source, anno) = (self.source, self.anno);
        let drops = &mut self.drops;
        cx.classify(batch, |p| {
            let at = match source {
                Source::Offset(o) => Some(o),
                Source::IpSrc => network_ip_header(p).map(|(o, _)| o + 12),
                Source::IpDst => network_ip_header(p).map(|(o, _)| o + 16),
            };
            match at.and_then(|k| p.data().get(k..k.checked_add(4)?)) {
                Some(b) => {
                    let addr = [b[0], b[1], b[2], b[3]];
                    store(p.anno_mut(), anno, addr);
                    Some(0)
                }
                None => {
                    *drops += 1;
                    None
                }
            }
        });
    }

    fn handlers(&self) -> &'static [HandlerSpec] {
        const H: &[HandlerSpec] = &[HandlerSpec::read("drops")];
        H
    }

    fn read_handler(&self, name: &str) -> Option<String> {
        (name == "drops").then(|| self.drops.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use crate::packet::Packet;

    #[test]
    fn offset_form() {
        let ip = udp(A, 1, B, 2, b"");
        let mut frame = alloc::vec![0u8; 14];
        frame.extend_from_slice(&ip);
        let mut h = Harness::new("Idle -> g :: GetIPAddress(30) -> s :: Sink;");
        h.push_bytes("g", &[&frame, &frame[..33]]);
        let g = h.got("s");
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].anno.dst_ip, B);
        assert_eq!(h.read("g.drops"), "1");
        // An offset at the end of the address space neither overflows nor panics.
        let mut h = Harness::new("Idle -> g :: GetIPAddress(18446744073709551615) -> s :: Sink;");
        h.push_bytes("g", &[&frame]);
        assert!(h.got("s").is_empty());
        assert_eq!(h.read("g.drops"), "1");
    }

    #[test]
    fn ip_keyword_form_and_user_annotation() {
        let ip = udp(A, 1, B, 2, b"");
        let mut h = Harness::new(
            "Idle -> g :: GetIPAddress(IP src) -> g2 :: GetIPAddress(IP dst, ANNO 4) -> s :: Sink;",
        );
        let mut frame = alloc::vec![0u8; 14];
        frame.extend_from_slice(&ip);
        h.push(
            "g",
            alloc::vec![with_net(&frame, 14), Packet::from_slice(&frame)],
        );
        let g = h.got("s");
        assert_eq!(g.len(), 1, "no network header: dropped");
        assert_eq!(g[0].anno.dst_ip, A);
        assert_eq!(&g[0].anno.user[4..8], &B.octets());
        assert_eq!(h.read("g.drops"), "1");
    }

    #[test]
    fn configuration_errors() {
        assert!(errors("Idle -> GetIPAddress -> Idle;")[0].contains("one of OFFSET, IP"));
        assert!(errors("Idle -> GetIPAddress(16, IP src) -> Idle;")[0].contains("one of"));
        assert!(errors("Idle -> GetIPAddress(IP both) -> Idle;")[0].contains("bad IP"));
        assert!(!errors("Idle -> GetIPAddress(16, 46) -> Idle;").is_empty());
        assert!(errors("Idle -> GetIPAddress(16, ANNO DST_IP) -> Idle;").is_empty());
        assert!(errors("Idle -> GetIPAddress(16, DST_IP) -> Idle;").is_empty());
    }
}
