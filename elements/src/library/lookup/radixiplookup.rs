//! RadixIPLookup — IPv4 routing by longest-prefix match on the destination annotation, with
//! routes that can change at run time.
//!
//! Ports: 1 input, any number of outputs.
//! Processing: push.
//! Arguments: one route per argument, `ADDR/MASK [GATEWAY] OUTPUT`: a prefix (`10.0.0.0/8`,
//! `10.0.0.0/255.0.0.0`, Click's short `10/8`; a bare address is a /32; host bits are cleared),
//! an optional gateway (`-` or omitted: none), and an output port below the number of outputs.
//! A later route for the same prefix replaces an earlier one.
//! Handlers: `table` (read) one `PREFIX<tab>GATEWAY<tab>OUTPUT` line per route, in the order they
//! were added; `lookup` (read/write) write an address, then read `OUTPUT [GATEWAY]` for it (`-1`:
//! no route) — Click's read-with-parameter, split in two; `add` (write) a route, refused if the
//! prefix has one; `set` (write) a route, replacing any; `remove` (write) `ADDR/MASK [GATEWAY
//! OUTPUT]` (with OUTPUT, the gateway and output must match too); `ctrl` (write) lines of `add
//! ROUTE`, `set ROUTE`, `remove ROUTE`, applied all or nothing; `flush` (write) removes every
//! route.
//!
//! A packet whose destination annotation matches a route leaves on the route's output; if the
//! route has a gateway, the annotation becomes the gateway. Packets with no route are killed (the
//! first five are reported on the console, as Click does).
//!
//! The table is a multibit trie shaped like Click's radix trie (256-way root, then 16-way, so at
//! most 7 steps); see `trie.rs`. Updates touch one node; lookups allocate nothing.

use super::routes::IpRouteTable;
use crate::element::ElementClass;

pub type RadixIPLookup = IpRouteTable<true>;

pub const CLASS: ElementClass = super::element_class!("RadixIPLookup", "1/-", "h/h", RadixIPLookup);

#[cfg(test)]
mod tests {
    use alloc::string::{String, ToString};
    use alloc::vec::Vec;
    use core::net::Ipv4Addr;

    use crate::packet::Packet;
    use crate::testing::{build_errors, captured, inject_packets, router};
    use crate::Router;

    const CFG: &str = "Idle -> rt :: RadixIPLookup(
            10.0.0.0/8 1,
            10.1.0.0/16 10.0.0.254 2,
            10.1.2.0/24 - 3,
            10.1.2.3/32 0,
            0.0.0.0/0 192.168.0.1 4);
        rt[0] -> c0 :: Capture; rt[1] -> c1 :: Capture; rt[2] -> c2 :: Capture;
        rt[3] -> c3 :: Capture; rt[4] -> c4 :: Capture;";

    fn pkt(dst: &str) -> Packet {
        let mut p = Packet::from_slice(dst.as_bytes());
        p.anno_mut().dst_ip = dst.parse().unwrap();
        p
    }

    /// Sends one packet per address; returns, per output, the payloads (the original
    /// destinations) and the destination annotations on the way out.
    fn route(r: &mut Router, dsts: &[&str]) -> Vec<(Vec<String>, Vec<String>)> {
        inject_packets(r, "rt", 0, dsts.iter().map(|d| pkt(d)).collect());
        (0..5)
            .map(|k| {
                let c = alloc::format!("c{k}");
                let payloads = captured(r, &c)
                    .into_iter()
                    .map(|v| String::from_utf8(v).unwrap())
                    .collect();
                let annos = r
                    .read_handler(&alloc::format!("{c}.dst_ips"))
                    .unwrap()
                    .lines()
                    .map(String::from)
                    .collect();
                (payloads, annos)
            })
            .collect()
    }

    #[test]
    fn longest_prefix_match_with_gateways_and_default_route() {
        let mut r = router(CFG);
        let out = route(
            &mut r,
            &[
                "10.1.2.3",
                "10.1.2.4",
                "10.1.3.1",
                "10.200.0.1",
                "11.0.0.1",
                "255.255.255.255",
            ],
        );
        assert_eq!(out[0].0, ["10.1.2.3"]);
        assert_eq!(out[3].0, ["10.1.2.4"]);
        assert_eq!(out[2].0, ["10.1.3.1"]);
        assert_eq!(out[2].1, ["10.0.0.254"], "gateway replaces the annotation");
        assert_eq!(out[1].0, ["10.200.0.1"]);
        assert_eq!(out[1].1, ["10.200.0.1"], "no gateway: annotation kept");
        assert_eq!(out[4].0, ["11.0.0.1", "255.255.255.255"]);
        assert_eq!(out[4].1, ["192.168.0.1", "192.168.0.1"]);
    }

    #[test]
    fn without_a_default_route_unmatched_packets_are_dropped() {
        let mut r = router(
            "Idle -> rt :: RadixIPLookup(10.0.0.0/8 0, 10.0.0.0/9 1) -> c0 :: Capture; rt[1] -> c1 :: Capture;",
        );
        inject_packets(
            &mut r,
            "rt",
            0,
            alloc::vec![pkt("11.0.0.1"), pkt("10.128.0.1"), pkt("10.127.0.1")],
        );
        assert_eq!(captured(&r, "c0"), [b"10.128.0.1".to_vec()]);
        assert_eq!(captured(&r, "c1"), [b"10.127.0.1".to_vec()]);
    }

    #[test]
    fn handlers_change_the_routes() {
        let mut r = router(CFG);
        assert_eq!(
            r.read_handler("rt.table").unwrap(),
            "10.0.0.0/8\t-\t1\n10.1.0.0/16\t10.0.0.254\t2\n10.1.2.0/24\t-\t3\n\
             10.1.2.3/32\t-\t0\n0.0.0.0/0\t192.168.0.1\t4\n"
        );
        let lookup = |r: &mut Router, a: &str| {
            r.write_handler("rt.lookup", a).unwrap();
            r.read_handler("rt.lookup").unwrap()
        };
        assert_eq!(lookup(&mut r, "10.1.9.9"), "2 10.0.0.254");
        assert_eq!(lookup(&mut r, "10.1.2.9"), "3");
        assert!(r.write_handler("rt.lookup", "10.1").is_err());

        // add refuses an existing prefix; set replaces it.
        let e = r.write_handler("rt.add", "10.1.2.0/24 1").unwrap_err();
        assert!(e.to_string().contains("conflict"), "{e}");
        r.write_handler("rt.set", "10.1.2.0/24 1").unwrap();
        assert_eq!(lookup(&mut r, "10.1.2.9"), "1");
        r.write_handler("rt.add", "172.16.0.0/12 10.0.0.9 0")
            .unwrap();
        assert_eq!(lookup(&mut r, "172.20.1.1"), "0 10.0.0.9");
        assert!(
            r.write_handler("rt.add", "172.16.0.0/12 9").is_err(),
            "no output 9"
        );
        assert!(r.write_handler("rt.add", "172.16.0.0/12").is_err());

        // remove: by prefix, or exactly.
        assert!(
            r.write_handler("rt.remove", "172.16.0.0/12 - 0").is_err(),
            "gateway differs"
        );
        r.write_handler("rt.remove", "172.16.0.0/12 10.0.0.9 0")
            .unwrap();
        r.write_handler("rt.remove", "0/0").unwrap();
        assert_eq!(lookup(&mut r, "172.20.1.1"), "-1");
        assert!(r.write_handler("rt.remove", "0/0").is_err());

        // The data path sees the changes.
        let out = route(&mut r, &["10.1.2.9", "172.20.1.1"]);
        assert_eq!(out[1].0, ["10.1.2.9"]);
        assert!(out[0].0.is_empty() && out[4].0.is_empty());

        r.write_handler("rt.flush", "").unwrap();
        assert_eq!(r.read_handler("rt.table").unwrap(), "");
        assert_eq!(lookup(&mut r, "10.1.2.3"), "-1");
    }

    #[test]
    fn ctrl_is_all_or_nothing() {
        let mut r = router(CFG);
        let before = r.read_handler("rt.table").unwrap();
        let e = r
            .write_handler(
                "rt.ctrl",
                "add 20.0.0.0/8 1\nremove 10.0.0.0/8\nset 10.1.0.0/16 3\nadd 10.1.2.3/32 1",
            )
            .unwrap_err();
        assert!(e.to_string().contains("line 4"), "{e}");
        assert_eq!(r.read_handler("rt.table").unwrap(), before);
        assert!(r
            .write_handler("rt.ctrl", "frobnicate 1.0.0.0/8 1")
            .is_err());
        r.write_handler(
            "rt.ctrl",
            "add 20.0.0.0/8 1\n\nremove 10.0.0.0/8\nset 10.1.0.0/16 3\n",
        )
        .unwrap();
        r.write_handler("rt.lookup", "20.1.1.1").unwrap();
        assert_eq!(r.read_handler("rt.lookup").unwrap(), "1");
        r.write_handler("rt.lookup", "10.9.9.9").unwrap();
        assert_eq!(r.read_handler("rt.lookup").unwrap(), "4 192.168.0.1");
        r.write_handler("rt.lookup", "10.1.9.9").unwrap();
        assert_eq!(r.read_handler("rt.lookup").unwrap(), "3");
    }

    #[test]
    fn duplicate_prefixes_in_the_configuration_keep_the_last() {
        let mut r = router(
            "Idle -> rt :: RadixIPLookup(10.0.0.0/8 0, 10.9.9.9/8 1) -> Discard; rt[1] -> Discard;",
        );
        r.write_handler("rt.lookup", "10.0.0.1").unwrap();
        assert_eq!(r.read_handler("rt.lookup").unwrap(), "1");
        assert_eq!(r.read_handler("rt.table").unwrap(), "10.0.0.0/8\t-\t1\n");
    }

    #[test]
    fn argument_errors() {
        let e = build_errors("Idle -> RadixIPLookup(10.0.0.0/8 0, bogus) -> Discard;").join("\n");
        assert!(
            e.contains("argument 2 should be 'ADDR/MASK [GATEWAY] OUTPUT'"),
            "{e}"
        );
        let e = build_errors("Idle -> RadixIPLookup(10.0.0.0/8 1) -> Discard;").join("\n");
        assert!(e.contains("argument 1 bad OUTPUT"), "{e}");
        let e = build_errors("Idle -> RadixIPLookup(10.0.0.0/8 1.2.3.4) -> Discard;").join("\n");
        assert!(e.contains("argument 1 should be"), "{e}");
        assert!(build_errors("Idle -> RadixIPLookup -> Discard;").is_empty());
        let _ = Ipv4Addr::LOCALHOST;
    }
}
