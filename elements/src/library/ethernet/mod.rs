//! Ethernet and ARP: Click's `elements/ethernet` (EtherEncap, EtherMirror, HostEtherFilter,
//! ARPResponder, ARPQuerier), plus the frame helpers they share.

mod arpquerier;
mod arpresponder;
mod etherencap;
mod ethermirror;
mod hostetherfilter;

use alloc::format;
use alloc::string::String;
use core::net::Ipv4Addr;

use config_lang::args::ArgValue;
use smoltcp::wire::{
    ArpOperation, ArpPacket, ArpRepr, EthernetAddress, EthernetFrame, EthernetProtocol,
};

use crate::element::Registry;
pub(crate) use crate::library::standard::element_class;

pub fn register(r: &mut Registry) {
    for c in [
        arpquerier::CLASS,
        arpresponder::CLASS,
        etherencap::CLASS,
        ethermirror::CLASS,
        hostetherfilter::CLASS,
    ] {
        r.add(c);
    }
}

/// Length of an Ethernet II header.
pub(crate) const ETHER_HLEN: usize = 14;
pub(crate) const ETHERTYPE_IP: u16 = 0x0800;
/// An Ethernet header followed by an Ethernet/IPv4 ARP packet.
pub(crate) const ARP_FRAME_LEN: usize = ETHER_HLEN + 28;
pub(crate) const ETHER_BROADCAST: [u8; 6] = [0xff; 6];

/// An ETHERTYPE argument: a 16-bit integer in host order (`0x0800`). As in Click, a leading zero
/// means octal, so `0800` is rejected rather than read as decimal 800.
pub(crate) struct EtherTypeArg(pub u16);

impl ArgValue for EtherTypeArg {
    const EXPECTED: &'static str = "a 16-bit Ethernet type (e.g. 0x0800)";
    fn parse_arg(s: &str) -> Result<Self, String> {
        let t = s.trim();
        let decimal_like = t.len() > 1
            && t.starts_with('0')
            && t.bytes().all(|b| b.is_ascii_digit())
            && t.bytes().any(|b| b == b'8' || b == b'9');
        if decimal_like {
            return Err(format!(
                "'{t}' is not a valid octal number (write 0x{} for hexadecimal)",
                &t[1..]
            ));
        }
        u16::parse_arg(t).map(EtherTypeArg)
    }
}

/// An Ethernet address as Click's handlers print it: `00-1A-2B-3C-4D-5E`.
pub(crate) fn eth_text(e: [u8; 6]) -> String {
    format!(
        "{:02X}-{:02X}-{:02X}-{:02X}-{:02X}-{:02X}",
        e[0], e[1], e[2], e[3], e[4], e[5]
    )
}

/// Whether an Ethernet address is a group (multicast or broadcast) address.
#[inline]
pub(crate) fn is_group(e: &[u8]) -> bool {
    e.first().is_some_and(|b| b & 1 != 0)
}

/// Writes an Ethernet header into the first 14 bytes of `d` (which must be that long).
#[inline]
pub(crate) fn write_ether_header(d: &mut [u8], dst: [u8; 6], src: [u8; 6], ethertype: u16) {
    d[0..6].copy_from_slice(&dst);
    d[6..12].copy_from_slice(&src);
    d[12..14].copy_from_slice(&ethertype.to_be_bytes());
}

/// The fields of an Ethernet/IPv4 ARP packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Arp {
    pub request: bool,
    pub sha: [u8; 6],
    pub spa: Ipv4Addr,
    pub tha: [u8; 6],
    pub tpa: Ipv4Addr,
}

/// Parses an Ethernet frame carrying an Ethernet/IPv4 ARP request or reply. Anything else
/// (short, another ethertype, another hardware or protocol type, another operation) is `None`.
pub(crate) fn parse_arp_frame(frame: &[u8]) -> Option<Arp> {
    let eth = EthernetFrame::new_checked(frame).ok()?;
    if eth.ethertype() != EthernetProtocol::Arp {
        return None;
    }
    let pkt = ArpPacket::new_checked(eth.payload()).ok()?;
    #[allow(unreachable_patterns)]
    match ArpRepr::parse(&pkt).ok()? {
        ArpRepr::EthernetIpv4 {
            operation,
            source_hardware_addr,
            source_protocol_addr,
            target_hardware_addr,
            target_protocol_addr,
        } => {
            let request = match operation {
                ArpOperation::Request => true,
                ArpOperation::Reply => false,
                _ => return None,
            };
            Some(Arp {
                request,
                sha: source_hardware_addr.0,
                spa: source_protocol_addr,
                tha: target_hardware_addr.0,
                tpa: target_protocol_addr,
            })
        }
        _ => None,
    }
}

/// Writes a whole ARP frame (Ethernet header + ARP packet) into the first
/// [`ARP_FRAME_LEN`] bytes of `d`.
pub(crate) fn write_arp_frame(d: &mut [u8], eth_dst: [u8; 6], eth_src: [u8; 6], arp: &Arp) {
    let mut eth = EthernetFrame::new_unchecked(&mut d[..ARP_FRAME_LEN]);
    eth.set_dst_addr(EthernetAddress(eth_dst));
    eth.set_src_addr(EthernetAddress(eth_src));
    eth.set_ethertype(EthernetProtocol::Arp);
    let repr = ArpRepr::EthernetIpv4 {
        operation: if arp.request {
            ArpOperation::Request
        } else {
            ArpOperation::Reply
        },
        source_hardware_addr: EthernetAddress(arp.sha),
        source_protocol_addr: arp.spa,
        target_hardware_addr: EthernetAddress(arp.tha),
        target_protocol_addr: arp.tpa,
    };
    repr.emit(&mut ArpPacket::new_unchecked(eth.payload_mut()));
}

/// Frames shared by the tests of this group.
#[cfg(test)]
pub(crate) mod frames {
    use alloc::vec::Vec;
    use core::net::Ipv4Addr;

    use super::{write_arp_frame, Arp, ARP_FRAME_LEN};

    pub fn arp_frame(eth_dst: [u8; 6], eth_src: [u8; 6], arp: Arp) -> Vec<u8> {
        let mut v = alloc::vec![0u8; ARP_FRAME_LEN];
        write_arp_frame(&mut v, eth_dst, eth_src, &arp);
        v
    }

    pub fn arp_request(sha: [u8; 6], spa: Ipv4Addr, tpa: Ipv4Addr) -> Vec<u8> {
        arp_frame(
            [0xff; 6],
            sha,
            Arp {
                request: true,
                sha,
                spa,
                tha: [0; 6],
                tpa,
            },
        )
    }

    pub fn arp_reply(sha: [u8; 6], spa: Ipv4Addr, tha: [u8; 6], tpa: Ipv4Addr) -> Vec<u8> {
        arp_frame(
            tha,
            sha,
            Arp {
                request: false,
                sha,
                spa,
                tha,
                tpa,
            },
        )
    }

    /// An Ethernet frame: header then payload.
    pub fn ether(dst: [u8; 6], src: [u8; 6], ethertype: u16, payload: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&dst);
        v.extend_from_slice(&src);
        v.extend_from_slice(&ethertype.to_be_bytes());
        v.extend_from_slice(payload);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ethertype_argument_rejects_decimal_looking_octal() {
        assert_eq!(EtherTypeArg::parse_arg("0x0800").unwrap().0, 0x0800);
        assert_eq!(EtherTypeArg::parse_arg("2048").unwrap().0, 0x0800);
        assert_eq!(EtherTypeArg::parse_arg("04000").unwrap().0, 0o4000);
        assert!(EtherTypeArg::parse_arg("0800").is_err());
        assert!(EtherTypeArg::parse_arg("0x10000").is_err());
    }

    #[test]
    fn arp_frames_round_trip() {
        let a = Arp {
            request: false,
            sha: [2, 0, 0, 0, 0, 1],
            spa: Ipv4Addr::new(10, 0, 0, 1),
            tha: [2, 0, 0, 0, 0, 2],
            tpa: Ipv4Addr::new(10, 0, 0, 2),
        };
        let f = frames::arp_frame(a.tha, a.sha, a);
        assert_eq!(f.len(), 42);
        assert_eq!(&f[12..14], [0x08, 0x06]);
        assert_eq!(&f[14..22], [0, 1, 8, 0, 6, 4, 0, 2]);
        assert_eq!(parse_arp_frame(&f), Some(a));
        assert_eq!(parse_arp_frame(&f[..41]), None);
        let mut bad = f.clone();
        bad[19] = 5; // hardware length
        assert_eq!(parse_arp_frame(&bad), None);
        let mut bad = f;
        bad[21] = 3; // operation 3 (RARP)
        assert_eq!(parse_arp_frame(&bad), None);
        assert_eq!(eth_text([0, 0x1a, 2, 3, 4, 0xef]), "00-1A-02-03-04-EF");
    }
}

/// Arbitrary bytes and annotations through every element of the group: nothing panics.
#[cfg(test)]
mod robustness {
    use alloc::vec::Vec;
    use core::net::Ipv4Addr;

    use proptest::prelude::*;

    use super::frames::{arp_reply, arp_request};
    use crate::packet::Packet;
    use crate::testing::{router_with_clock, run_rounds};

    const CONFIGS: &[&str] = &[
        "Idle -> x :: EtherEncap(0x0800, 0:1:2:3:4:5, 6:7:8:9:a:b) -> Capture;",
        "Idle -> x :: EtherMirror -> Capture;",
        "Idle -> x :: HostEtherFilter(2:0:0:0:0:1, true) -> Capture; x[1] -> Capture;",
        "Idle -> x :: HostEtherFilter(2:0:0:0:0:1, OFFSET 3) -> Capture;",
        "Idle -> x :: ARPResponder(10.0.0.0/29 2:0:0:0:0:1, 10.0.0.1 2:0:0:0:0:2) -> Capture; x[1] -> Capture;",
        "Idle -> x :: ARPResponder(10.0.0.1 2:0:0:0:0:2) -> Capture;",
        "Idle -> x :: ARPQuerier(10.0.0.1/29, 2:0:0:0:0:1, CAPACITY 4, ENTRY_CAPACITY 3, ENTRY_PACKET_CAPACITY 2, TIMEOUT 3s, POLL_TIMEOUT 1s) -> Capture; Idle -> [1]x; x[1] -> Capture;",
        "Idle -> x :: ARPQuerier(10.0.0.1, 2:0:0:0:0:1, TIMEOUT 0) -> Capture; Idle -> [1]x;",
    ];

    fn addr() -> impl Strategy<Value = Ipv4Addr> {
        prop_oneof![
            any::<u32>().prop_map(Ipv4Addr::from),
            (0u8..10).prop_map(|k| Ipv4Addr::new(10, 0, 0, k)),
            Just(Ipv4Addr::BROADCAST),
            Just(Ipv4Addr::new(224, 0, 0, 1)),
        ]
    }

    /// Random bytes, or ARP frames (for the addresses above) with some bytes changed.
    fn frame() -> impl Strategy<Value = Vec<u8>> {
        let arp = (any::<bool>(), addr(), addr(), 0u8..4).prop_map(|(req, a, b, k)| {
            let mac = [2, 0, 0, 0, 0, k];
            if req {
                arp_request(mac, a, b)
            } else {
                arp_reply(mac, a, [2, 0, 0, 0, 0, 1], b)
            }
        });
        let mutated = (
            arp,
            proptest::collection::vec((0usize..64, any::<u8>()), 0..4),
            0usize..64,
        )
            .prop_map(|(mut f, edits, cut)| {
                for (i, b) in edits {
                    if let Some(x) = f.get_mut(i) {
                        *x = b;
                    }
                }
                f.truncate(cut.max(1));
                f
            });
        prop_oneof![proptest::collection::vec(any::<u8>(), 0..80), mutated]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn arbitrary_frames_never_panic(
            steps in proptest::collection::vec((0usize..2, frame(), addr(), 0u64..1500), 1..40),
        ) {
            for cfg in CONFIGS {
                let (mut r, clock) = router_with_clock(cfg);
                let x = r.find("x").unwrap();
                let ninputs = r.elements()[x].ninputs;
                for (port, data, dst, ms) in &steps {
                    let mut p = Packet::from_slice(data);
                    p.anno_mut().dst_ip = *dst;
                    r.inject(x, port % ninputs, crate::Batch::from_vec(alloc::vec![p]));
                    clock.advance_ns(ms * 1_000_000);
                    run_rounds(&mut r, 2);
                }
                if cfg.contains("CAPACITY 4") {
                    let len: usize = r.read_handler("x.length").unwrap().parse().unwrap();
                    let count: usize = r.read_handler("x.count").unwrap().parse().unwrap();
                    prop_assert!(len <= 4 && count <= 3, "{len} {count}");
                }
                for h in ["table", "stats"] {
                    let _ = r.read_handler(&alloc::format!("x.{h}"));
                }
                r.cleanup();
            }
        }
    }
}
