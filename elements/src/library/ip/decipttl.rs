//! DecIPTTL — decrements the IP time-to-live; expired packets leave on output 1.
//!
//! Ports: 1 input, 1 or 2 outputs.
//! Processing: agnostic input and output 0; output 1 push.
//! Arguments: keywords ACTIVE (boolean: decrement at all; default true), MULTICAST (boolean:
//! decrement multicast packets too; default true).
//! Handlers: `drops` (read) packets not sent on output 0; `active` (read/write).
//!
//! Needs the network-header annotation (CheckIPHeader or MarkIPHeader upstream). A packet whose
//! TTL is 0 or 1 goes to output 1 (usually an `ICMPError(.., timeexceeded)`), or is dropped when
//! output 1 is not connected. Otherwise the TTL is decremented and the header checksum updated
//! incrementally (RFC 1624). Packets without a usable IP header are killed, and counted in
//! `drops` like expired ones.

use alloc::string::{String, ToString};

use config_lang::args::{ArgError, Args};

use super::{be16, checksum, network_ip_header, put16};
use crate::batch::Batch;
use crate::element::{ConfigureContext, Element, ElementClass, HandlerSpec};
use crate::router::Context;

pub const CLASS: ElementClass = super::element_class!("DecIPTTL", "1/1-2", "a/ah", DecIPTTL);

pub struct DecIPTTL {
    active: bool,
    multicast: bool,
    drops: u64,
}

impl Default for DecIPTTL {
    fn default() -> Self {
        DecIPTTL {
            active: true,
            multicast: true,
            drops: 0,
        }
    }
}

impl Element for DecIPTTL {
    fn configure(&mut self, args: &mut Args, _cx: &ConfigureContext<'_>) -> Result<(), ArgError> {
        self.active = args.read_or("ACTIVE", true)?;
        self.multicast = args.read_or("MULTICAST", true)?;
        Ok(())
    }

    fn push(&mut self, _port: usize, batch: Batch, cx: &mut Context<'_>) {
        if !self.active {
            cx.push(0, batch);
            return;
        }
        let multicast = self.multicast;
        let drops = &mut self.drops;
        cx.classify(batch, |p| {
            let Some((off, _)) = network_ip_header(p) else {
                *drops += 1;
                return None;
            };
            let d = p.data();
            if !multicast && d[off + 16] & 0xf0 == 0xe0 {
                return Some(0);
            }
            if d[off + 8] <= 1 {
                *drops += 1;
                return Some(1);
            }
            let ip = &mut p.data_mut()[off..];
            let old = be16(ip, 8);
            ip[8] -= 1;
            let sum = checksum::update16(be16(ip, 10), old, be16(ip, 8));
            put16(ip, 10, sum);
            Some(0)
        });
    }

    fn handlers(&self) -> &'static [HandlerSpec] {
        const H: &[HandlerSpec] = &[
            HandlerSpec::read("drops"),
            HandlerSpec::read_write("active"),
        ];
        H
    }

    fn read_handler(&self, name: &str) -> Option<String> {
        match name {
            "drops" => Some(self.drops.to_string()),
            "active" => Some(self.active.to_string()),
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

    const CFG: &str = "Idle -> d :: DecIPTTL -> ok :: Sink; d[1] -> expired :: Sink;";

    fn with_ttl(ttl: u8) -> alloc::vec::Vec<u8> {
        let mut p = udp(A, 1, B, 2, b"payload");
        p[8] = ttl;
        fix_ip(&mut p);
        p
    }

    #[test]
    fn decrements_and_updates_checksum() {
        let mut h = Harness::new(CFG);
        for ttl in [2u8, 64, 255] {
            h.push_ip("d", &[&with_ttl(ttl)]);
            let g = h.data("ok");
            assert_eq!(g.len(), 1);
            assert_eq!(g[0][8], ttl - 1);
            assert!(ip_ok(&g[0]), "checksum after TTL {ttl}");
            assert_eq!(g[0], with_ttl(ttl - 1), "same as full recomputation");
        }
        assert_eq!(h.read("d.drops"), "0");
    }

    #[test]
    fn ttl_one_and_zero_expire() {
        let mut h = Harness::new(CFG);
        h.push_ip("d", &[&with_ttl(1), &with_ttl(0)]);
        let e = h.data("expired");
        assert_eq!(e, [with_ttl(1), with_ttl(0)], "unchanged");
        assert!(h.data("ok").is_empty());
        assert_eq!(h.read("d.drops"), "2");
        // Without output 1 they are dropped.
        let mut h = Harness::new("Idle -> d :: DecIPTTL -> ok :: Sink;");
        h.push_ip("d", &[&with_ttl(1)]);
        assert!(h.data("ok").is_empty());
        assert_eq!(h.read("d.drops"), "1");
    }

    #[test]
    fn needs_an_ip_header() {
        let mut h = Harness::new(CFG);
        let p = with_ttl(9);
        h.push(
            "d",
            alloc::vec![Packet::from_slice(&p), with_net(&p[..19], 0)],
        );
        assert!(h.data("ok").is_empty() && h.data("expired").is_empty());
        assert_eq!(h.read("d.drops"), "2");
    }

    #[test]
    fn multicast_and_active() {
        let mut m = udp(A, 1, [224, 0, 0, 5].into(), 2, b"");
        m[8] = 1;
        fix_ip(&mut m);
        let mut h = Harness::new(
            "Idle -> d :: DecIPTTL(MULTICAST false) -> ok :: Sink; d[1] -> e :: Sink;",
        );
        h.push_ip("d", &[&m]);
        assert_eq!(h.data("ok"), [m.clone()]);
        let mut h = Harness::new(CFG);
        h.write("d.active", "false").unwrap();
        assert_eq!(h.read("d.active"), "false");
        h.push_ip("d", &[&with_ttl(1)]);
        assert_eq!(h.data("ok"), [with_ttl(1)]);
        assert!(h.write("d.active", "maybe").is_err());
    }
}
