//! StaticIPLookup — IPv4 routing by longest-prefix match on the destination annotation, with a
//! fixed set of routes.
//!
//! Ports: 1 input, any number of outputs.
//! Processing: push.
//! Arguments: one route per argument, `ADDR/MASK [GATEWAY] OUTPUT`, as for RadixIPLookup.
//! Handlers: `table` (read) the routes; `lookup` (read/write) write an address, then read
//! `OUTPUT [GATEWAY]` for it (`-1`: no route).
//!
//! Behaves as RadixIPLookup without the handlers that change routes (as in Click, where it is a
//! LinearIPLookup that refuses updates). Click searches a linear list; this element shares
//! RadixIPLookup's trie, which gives the same answers in at most 7 steps whatever the table size.

use super::routes::IpRouteTable;
use crate::element::ElementClass;

pub type StaticIPLookup = IpRouteTable<false>;

pub const CLASS: ElementClass =
    super::element_class!("StaticIPLookup", "1/-", "h/h", StaticIPLookup);

#[cfg(test)]
mod tests {
    use crate::packet::Packet;
    use crate::testing::{build_errors, captured, inject_packets, router};

    fn pkt(dst: &str) -> Packet {
        let mut p = Packet::from_slice(dst.as_bytes());
        p.anno_mut().dst_ip = dst.parse().unwrap();
        p
    }

    #[test]
    fn routes_like_click_s_example() {
        // Click's example: local host and broadcasts to 0, the local net to 1, the rest via a
        // gateway on 1.
        let mut r = router(
            "Idle -> rt :: StaticIPLookup(18.26.4.24/32 0, 18.26.4.255/32 0, 18.26.4.0/32 0,
                                          18.26.4/24 1, 0/0 18.26.4.1 1);
             rt[0] -> host :: Capture; rt[1] -> out :: Capture;",
        );
        let dsts = ["18.26.4.24", "18.26.4.255", "18.26.4.7", "8.8.8.8"];
        inject_packets(&mut r, "rt", 0, dsts.iter().map(|d| pkt(d)).collect());
        assert_eq!(
            captured(&r, "host"),
            [b"18.26.4.24".to_vec(), b"18.26.4.255".to_vec()]
        );
        assert_eq!(
            captured(&r, "out"),
            [b"18.26.4.7".to_vec(), b"8.8.8.8".to_vec()]
        );
        assert_eq!(
            r.read_handler("out.dst_ips").unwrap(),
            "18.26.4.7\n18.26.4.1\n"
        );
        r.write_handler("rt.lookup", "18.26.4.9").unwrap();
        assert_eq!(r.read_handler("rt.lookup").unwrap(), "1");
        r.write_handler("rt.lookup", "1.1.1.1").unwrap();
        assert_eq!(r.read_handler("rt.lookup").unwrap(), "1 18.26.4.1");
    }

    #[test]
    fn routes_cannot_change() {
        let mut r = router("Idle -> rt :: StaticIPLookup(10.0.0.0/8 0) -> Discard;");
        assert!(r.write_handler("rt.add", "11.0.0.0/8 0").is_err());
        assert!(r.write_handler("rt.remove", "10.0.0.0/8").is_err());
        assert_eq!(r.read_handler("rt.table").unwrap(), "10.0.0.0/8\t-\t0\n");
        let e = build_errors("Idle -> StaticIPLookup(10.0.0.0/8) -> Discard;").join("\n");
        assert!(e.contains("argument 1 should be"), "{e}");
    }
}
