//! ARPResponder — answers ARP requests for the addresses it is configured with (its own, or proxy
//! ARP for whole networks).
//!
//! Ports: 1 input, 1 or 2 outputs.
//! Processing: agnostic input and output 0, push output 1.
//! Arguments: one entry per argument, each a space-separated list of IP addresses or prefixes
//! (`10.0.0.1`, `10.0.2.0/24`, `10.0.3.0/255.255.255.0`) and exactly one Ethernet address:
//! `ARPResponder(10.0.0.1 10.0.2.0/24 02:00:00:00:00:01, 10.0.9.9 02:00:00:00:00:02)`.
//! Handlers: `table` (read) one `PREFIX ETH` line per prefix, most specific first; `add` (write)
//! an entry, with the syntax of an argument (a prefix already present gets the new address);
//! `remove` (write) a prefix (`IP/MASK`); `lookup` (read/write) write an IP address, then read the
//! Ethernet address answered for it (empty when none).
//!
//! Input frames are Ethernet frames. For an Ethernet/IPv4 ARP request whose target address falls
//! in an entry (the most specific prefix wins), the frame is turned into the reply in place: from
//! the entry's Ethernet address to the requester, 42 bytes long. The reply keeps the request's
//! device annotation; its other annotations are cleared. Other frames (not ARP, not a request, no
//! matching entry, malformed) go to output 1 if it exists, otherwise they are killed.
//!
//! Not supported from Click: AddressInfo names in place of addresses (there is no AddressInfo
//! element), and the VLAN annotation (there is none).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::net::Ipv4Addr;

use config_lang::args::{ArgError, ArgValue, Args, EtherAddr, Ipv4Prefix};

use super::{eth_text, parse_arp_frame, write_arp_frame, Arp, ARP_FRAME_LEN};
use crate::batch::Batch;
use crate::element::{ConfigureContext, Element, ElementClass, HandlerSpec};
use crate::router::Context;

pub const CLASS: ElementClass =
    super::element_class!("ARPResponder", "1/1-2", "a/ah", ARPResponder);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry {
    /// Network address (masked) and mask, host order.
    addr: u32,
    mask: u32,
    len: u8,
    eth: [u8; 6],
}

#[derive(Default)]
pub struct ARPResponder {
    /// Sorted by prefix length, longest first, so the first match is the most specific.
    entries: Vec<Entry>,
    lookup_result: String,
}

fn mask_of(len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        u32::MAX << (32 - len as u32)
    }
}

/// Parses one entry: prefixes and exactly one Ethernet address.
fn parse_entry(text: &str) -> Result<(Vec<Ipv4Prefix>, [u8; 6]), String> {
    let mut prefixes = Vec::new();
    let mut eth = None;
    let mut words = 0;
    for w in text.split_whitespace() {
        words += 1;
        if let Ok(p) = Ipv4Prefix::parse_arg(w) {
            prefixes.push(p);
        } else if let Ok(e) = EtherAddr::parse_arg(w) {
            if eth.replace(e.0).is_some() {
                return Err("more than one ETH".into());
            }
        } else {
            return Err(format!("expected IP/MASK ETH, not '{w}'"));
        }
    }
    if words == 0 {
        return Err("expected IP/MASK ETH".into());
    }
    if prefixes.is_empty() {
        return Err("missing IP/MASK".into());
    }
    let eth = eth.ok_or_else(|| String::from("missing ETH"))?;
    Ok((prefixes, eth))
}

impl ARPResponder {
    fn add(&mut self, prefixes: &[Ipv4Prefix], eth: [u8; 6]) {
        for p in prefixes {
            let mask = mask_of(p.len);
            let addr = u32::from(p.addr) & mask;
            match self
                .entries
                .iter_mut()
                .find(|e| e.addr == addr && e.len == p.len)
            {
                Some(e) => e.eth = eth,
                None => self.entries.push(Entry {
                    addr,
                    mask,
                    len: p.len,
                    eth,
                }),
            }
        }
        // Stable: among equal lengths, configuration order.
        self.entries.sort_by_key(|e| core::cmp::Reverse(e.len));
    }

    #[inline]
    fn lookup(&self, ip: Ipv4Addr) -> Option<[u8; 6]> {
        let a = u32::from(ip);
        self.entries
            .iter()
            .find(|e| a & e.mask == e.addr)
            .map(|e| e.eth)
    }
}

impl Element for ARPResponder {
    fn configure(&mut self, args: &mut Args, _cx: &ConfigureContext<'_>) -> Result<(), ArgError> {
        for (k, raw) in args.rest().into_iter().enumerate() {
            let (prefixes, eth) = parse_entry(&raw.text)
                .map_err(|why| ArgError::new(&format!("{}", k + 1), why, Some(raw.range)))?;
            self.add(&prefixes, eth);
        }
        Ok(())
    }

    fn push(&mut self, _port: usize, batch: Batch, cx: &mut Context<'_>) {
        let reject = (cx.noutputs() > 1).then_some(1);
        let me = &*self;
        cx.classify(batch, |p| {
            let Some(req) = parse_arp_frame(p.data()).filter(|a| a.request) else {
                return reject;
            };
            let Some(eth) = me.lookup(req.tpa) else {
                return reject;
            };
            let reply = Arp {
                request: false,
                sha: eth,
                spa: req.tpa,
                tha: req.sha,
                tpa: req.spa,
            };
            let extra = p.len() - ARP_FRAME_LEN;
            // Cannot fail: parse_arp_frame checked the length.
            let _ = p.trim_tail(extra);
            write_arp_frame(p.data_mut(), req.sha, eth, &reply);
            let device = p.anno().device;
            let a = p.anno_mut();
            a.reset();
            a.device = device;
            Some(0)
        });
    }

    fn handlers(&self) -> &'static [HandlerSpec] {
        const H: &[HandlerSpec] = &[
            HandlerSpec::read("table"),
            HandlerSpec::read_write("lookup"),
            HandlerSpec::write("add"),
            HandlerSpec::write("remove"),
        ];
        H
    }

    fn read_handler(&self, name: &str) -> Option<String> {
        match name {
            "table" => Some(
                self.entries
                    .iter()
                    .map(|e| format!("{}/{} {}\n", Ipv4Addr::from(e.addr), e.len, eth_text(e.eth)))
                    .collect(),
            ),
            "lookup" => Some(self.lookup_result.clone()),
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
            "add" => {
                let (prefixes, eth) = parse_entry(value)?;
                self.add(&prefixes, eth);
            }
            "remove" => {
                let p = Ipv4Prefix::parse_arg(value)?;
                let mask = mask_of(p.len);
                let addr = u32::from(p.addr) & mask;
                let before = self.entries.len();
                self.entries.retain(|e| !(e.addr == addr && e.len == p.len));
                if self.entries.len() == before {
                    return Err(format!("no entry for {}/{}", Ipv4Addr::from(addr), p.len));
                }
            }
            "lookup" => {
                let ip = Ipv4Addr::parse_arg(value)?;
                self.lookup_result = self.lookup(ip).map(eth_text).unwrap_or_default();
            }
            _ => return Err(format!("no write handler '{name}'")),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use core::net::Ipv4Addr;

    use crate::library::ethernet::frames::{arp_reply, arp_request, ether};
    use crate::library::ethernet::parse_arp_frame;
    use crate::packet::Packet;
    use crate::testing::{build_errors, captured, inject, inject_packets, router};

    const ME: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
    const PROXY: [u8; 6] = [0x02, 0, 0, 0, 0, 0x02];
    const ASKER: [u8; 6] = [0x02, 0, 0, 0, 0, 0xaa];

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    const CFG: &str = "Idle -> a :: ARPResponder(10.0.0.1 02:00:00:00:00:01, 10.0.2.0/24 10.0.3.0/255.255.255.0 02:00:00:00:00:02, 10.0.2.7 02:00:00:00:00:01) -> c :: Capture; a[1] -> o :: Capture;";

    #[test]
    fn answers_requests_for_its_addresses() {
        let mut r = router(CFG);
        let mut req = arp_request(ASKER, ip("10.0.0.50"), ip("10.0.0.1"));
        req.resize(60, 0); // padded to the Ethernet minimum
        let proxy = arp_request(ASKER, ip("10.0.0.50"), ip("10.0.3.200"));
        let specific = arp_request(ASKER, ip("10.0.0.50"), ip("10.0.2.7"));
        inject(&mut r, "a", 0, &[&req, &proxy, &specific]);
        let got = captured(&r, "c");
        assert_eq!(
            got,
            [
                arp_reply(ME, ip("10.0.0.1"), ASKER, ip("10.0.0.50")),
                arp_reply(PROXY, ip("10.0.3.200"), ASKER, ip("10.0.0.50")),
                // 10.0.2.7/32 is more specific than 10.0.2.0/24.
                arp_reply(ME, ip("10.0.2.7"), ASKER, ip("10.0.0.50")),
            ]
        );
        assert!(!parse_arp_frame(&got[0]).unwrap().request);
        assert!(captured(&r, "o").is_empty());
    }

    #[test]
    fn everything_else_goes_to_output_1() {
        let mut r = router(CFG);
        let unknown = arp_request(ASKER, ip("10.0.0.50"), ip("10.0.0.2"));
        let reply = arp_reply(ASKER, ip("10.0.0.50"), ME, ip("10.0.0.1"));
        let ipv4 = ether(ME, ASKER, 0x0800, &[0x45; 40]);
        let mut not_ipv4 = arp_request(ASKER, ip("10.0.0.50"), ip("10.0.0.1"));
        not_ipv4[16] = 0x86; // protocol type 0x86dd
        not_ipv4[17] = 0xdd;
        let short = arp_request(ASKER, ip("10.0.0.50"), ip("10.0.0.1"))[..41].to_vec();
        let pkts: [&[u8]; 6] = [&unknown, &reply, &ipv4, &not_ipv4, &short, b""];
        inject(&mut r, "a", 0, &pkts);
        assert!(captured(&r, "c").is_empty());
        assert_eq!(captured(&r, "o").len(), 6);
        // With one output they are killed.
        let mut r =
            router("Idle -> a :: ARPResponder(10.0.0.1 02:00:00:00:00:01) -> c :: Capture;");
        inject(&mut r, "a", 0, &pkts);
        assert!(captured(&r, "c").is_empty());
    }

    #[test]
    fn replies_keep_only_the_device_annotation() {
        let mut r = router(CFG);
        let mut p = Packet::from_slice(&arp_request(ASKER, ip("10.0.0.50"), ip("10.0.0.1")));
        p.anno_mut().device = 3;
        p.anno_mut().paint = 9;
        p.anno_mut().dst_ip = ip("1.2.3.4");
        inject_packets(&mut r, "a", 0, alloc::vec![p]);
        assert_eq!(r.read_handler("c.paints").unwrap(), "0\n");
        assert_eq!(r.read_handler("c.dst_ips").unwrap(), "0.0.0.0\n");
    }

    #[test]
    fn handlers() {
        let mut r = router(CFG);
        assert_eq!(
            r.read_handler("a.table").unwrap(),
            "10.0.0.1/32 02-00-00-00-00-01\n10.0.2.7/32 02-00-00-00-00-01\n\
             10.0.2.0/24 02-00-00-00-00-02\n10.0.3.0/24 02-00-00-00-00-02\n"
        );
        r.write_handler("a.lookup", "10.0.2.9").unwrap();
        assert_eq!(r.read_handler("a.lookup").unwrap(), "02-00-00-00-00-02");
        r.write_handler("a.remove", "10.0.2.0/24").unwrap();
        assert!(r.write_handler("a.remove", "10.0.2.0/24").is_err());
        r.write_handler("a.lookup", "10.0.2.9").unwrap();
        assert_eq!(r.read_handler("a.lookup").unwrap(), "");
        r.write_handler("a.add", "10.0.2.0/23 02:00:00:00:00:03")
            .unwrap();
        r.write_handler("a.lookup", "10.0.2.9").unwrap();
        assert_eq!(r.read_handler("a.lookup").unwrap(), "02-00-00-00-00-03");
        // 10.0.3.0/24 is still more specific than the new /23.
        r.write_handler("a.lookup", "10.0.3.9").unwrap();
        assert_eq!(r.read_handler("a.lookup").unwrap(), "02-00-00-00-00-02");
        assert!(r.write_handler("a.add", "10.0.2.0/23").is_err());
        assert!(r.write_handler("a.lookup", "not-an-ip").is_err());
        let req = arp_request(ASKER, ip("10.0.0.50"), ip("10.0.2.9"));
        inject(&mut r, "a", 0, &[&req]);
        assert_eq!(
            captured(&r, "c"),
            [arp_reply(
                [2, 0, 0, 0, 0, 3],
                ip("10.0.2.9"),
                ASKER,
                ip("10.0.0.50")
            )]
        );
    }

    #[test]
    fn argument_errors_name_the_argument() {
        let errs = |cfg: &str| build_errors(cfg).join("\n");
        let e = errs("Idle -> ARPResponder(10.0.0.1 02:00:00:00:00:01, 10.0.0.2) -> Idle;");
        assert!(e.contains("argument 2") && e.contains("missing ETH"), "{e}");
        let e = errs("Idle -> ARPResponder(02:00:00:00:00:01) -> Idle;");
        assert!(
            e.contains("argument 1") && e.contains("missing IP/MASK"),
            "{e}"
        );
        let e = errs("Idle -> ARPResponder(10.0.0.1 0:0:0:0:0:1 0:0:0:0:0:2) -> Idle;");
        assert!(e.contains("more than one ETH"), "{e}");
        let e = errs("Idle -> ARPResponder(10.0.0.1 bogus 0:0:0:0:0:1) -> Idle;");
        assert!(e.contains("expected IP/MASK ETH"), "{e}");
        assert!(errs("Idle -> ARPResponder -> Idle;").is_empty());
    }
}
