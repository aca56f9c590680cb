//! HostEtherFilter — classifies Ethernet frames the way a NIC with address ETHER would, setting the
//! packet-type annotation, and filters frames not meant for this host.
//!
//! Ports: 1 input, 1 or 2 outputs.
//! Processing: agnostic input and output 0, push output 1.
//! Arguments: ETHER (mandatory Ethernet address); DROP_OWN (optional bool, default false): filter
//! frames whose source is ETHER; DROP_OTHER (optional bool, default true): filter frames unicast to
//! another host; OFFSET (keyword, unsigned, default 0): where the Ethernet header starts.
//! Handlers: `ether` (read/write) the host address; `drops` (read) frames filtered or too short.
//!
//! The packet-type annotation becomes HOST (destination ETHER), BROADCAST (ff:ff:ff:ff:ff:ff),
//! MULTICAST (another group address) or OTHERHOST. Frames filtered by DROP_OWN or DROP_OTHER, and
//! frames too short to hold an Ethernet header at OFFSET, go to output 1 if it exists; otherwise
//! they are killed. Everything else leaves on output 0.

use alloc::string::{String, ToString};

use config_lang::args::{ArgError, ArgValue, Args, EtherAddr};

use super::{eth_text, ETHER_BROADCAST, ETHER_HLEN};
use crate::batch::Batch;
use crate::element::{ConfigureContext, Element, ElementClass, HandlerSpec};
use crate::packet::packet_type;
use crate::router::Context;

pub const CLASS: ElementClass =
    super::element_class!("HostEtherFilter", "1/1-2", "a/ah", HostEtherFilter);

pub struct HostEtherFilter {
    ether: [u8; 6],
    drop_own: bool,
    drop_other: bool,
    offset: usize,
    drops: u64,
}

impl Default for HostEtherFilter {
    fn default() -> Self {
        HostEtherFilter {
            ether: [0; 6],
            drop_own: false,
            drop_other: true,
            offset: 0,
            drops: 0,
        }
    }
}

impl Element for HostEtherFilter {
    fn configure(&mut self, args: &mut Args, _cx: &ConfigureContext<'_>) -> Result<(), ArgError> {
        self.ether = args.read_mp::<EtherAddr>("ETHER")?.0;
        self.drop_own = args.read_p("DROP_OWN")?.unwrap_or(false);
        self.drop_other = args.read_p("DROP_OTHER")?.unwrap_or(true);
        self.offset = args.read_or("OFFSET", 0usize)?;
        Ok(())
    }

    fn push(&mut self, _port: usize, batch: Batch, cx: &mut Context<'_>) {
        let reject = (cx.noutputs() > 1).then_some(1);
        let (me, off) = (self.ether, self.offset);
        let (drop_own, drop_other) = (self.drop_own, self.drop_other);
        let drops = &mut self.drops;
        cx.classify(batch, |p| {
            let Some(h) = p.data().get(off..off.saturating_add(ETHER_HLEN)) else {
                *drops += 1;
                return reject;
            };
            let (dst, src) = (&h[0..6], &h[6..12]);
            let kind = if dst == me {
                packet_type::HOST
            } else if dst[0] & 1 != 0 {
                if dst == ETHER_BROADCAST {
                    packet_type::BROADCAST
                } else {
                    packet_type::MULTICAST
                }
            } else {
                packet_type::OTHERHOST
            };
            let filtered =
                (drop_own && src == me) || (drop_other && kind == packet_type::OTHERHOST);
            p.anno_mut().packet_type = kind;
            if filtered {
                *drops += 1;
                reject
            } else {
                Some(0)
            }
        });
    }

    fn handlers(&self) -> &'static [HandlerSpec] {
        const H: &[HandlerSpec] = &[HandlerSpec::read_write("ether"), HandlerSpec::read("drops")];
        H
    }

    fn read_handler(&self, name: &str) -> Option<String> {
        match name {
            "ether" => Some(eth_text(self.ether)),
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
            "ether" => {
                self.ether = EtherAddr::parse_arg(value)?.0;
                Ok(())
            }
            _ => Err(alloc::format!("no write handler '{name}'")),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::library::ethernet::frames::ether;
    use crate::packet::packet_type;
    use crate::testing::{build_errors, captured, inject, router};

    const ME: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
    const OTHER: [u8; 6] = [0x02, 0, 0, 0, 0, 0x99];
    const MCAST: [u8; 6] = [0x01, 0x00, 0x5e, 0, 0, 1];

    fn types(r: &crate::Router, c: &str) -> alloc::vec::Vec<u8> {
        r.read_handler(&alloc::format!("{c}.packet_types"))
            .unwrap()
            .lines()
            .map(|l| l.parse().unwrap())
            .collect()
    }

    #[test]
    fn sets_packet_type_and_filters_other_hosts() {
        let mut r = router(
            "Idle -> f :: HostEtherFilter(02:00:00:00:00:01) -> c :: Capture; f[1] -> o :: Capture;",
        );
        let host = ether(ME, OTHER, 0x0800, b"1");
        let bcast = ether([0xff; 6], OTHER, 0x0800, b"2");
        let mcast = ether(MCAST, OTHER, 0x0800, b"3");
        let other = ether(OTHER, ME, 0x0800, b"4");
        let own = ether([0xff; 6], ME, 0x0806, b"5");
        inject(
            &mut r,
            "f",
            0,
            &[&host, &bcast, &mcast, &other, &own, &host[..13]],
        );
        assert_eq!(captured(&r, "c"), [host.clone(), bcast, mcast, own]);
        assert_eq!(
            types(&r, "c"),
            [
                packet_type::HOST,
                packet_type::BROADCAST,
                packet_type::MULTICAST,
                packet_type::BROADCAST
            ]
        );
        assert_eq!(captured(&r, "o"), [other, host[..13].to_vec()]);
        assert_eq!(types(&r, "o")[0], packet_type::OTHERHOST);
        assert_eq!(r.read_handler("f.drops").unwrap(), "2");
    }

    #[test]
    fn drop_own_drop_other_and_offset() {
        let mut r = router(
            "Idle -> f :: HostEtherFilter(02:00:00:00:00:01, true, false, OFFSET 2) -> c :: Capture;",
        );
        let mut other = alloc::vec![0xaa, 0xbb];
        other.extend(ether(OTHER, OTHER, 0x0800, b"x"));
        let mut own = alloc::vec![0xaa, 0xbb];
        own.extend(ether([0xff; 6], ME, 0x0800, b"y"));
        inject(&mut r, "f", 0, &[&other, &own, &own[..15]]);
        // Without output 1 filtered frames are killed.
        assert_eq!(captured(&r, "c"), [other]);
        assert_eq!(types(&r, "c"), [packet_type::OTHERHOST]);
        assert_eq!(r.read_handler("f.drops").unwrap(), "2");
    }

    #[test]
    fn ether_handler_and_arguments() {
        let mut r = router("Idle -> f :: HostEtherFilter(ETHER 02:00:00:00:00:01, DROP_OTHER false) -> c :: Capture;");
        assert_eq!(r.read_handler("f.ether").unwrap(), "02-00-00-00-00-01");
        r.write_handler("f.ether", "02:00:00:00:00:99").unwrap();
        inject(&mut r, "f", 0, &[&ether(OTHER, ME, 0x0800, b"")]);
        assert_eq!(types(&r, "c"), [packet_type::HOST]);
        assert!(!build_errors("Idle -> HostEtherFilter -> Idle;").is_empty());
        assert!(!build_errors("Idle -> HostEtherFilter(1:2:3:4:5:6, maybe) -> Idle;").is_empty());
    }
}
