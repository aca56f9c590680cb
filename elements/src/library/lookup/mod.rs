//! IPv4 route lookup: Click's StaticIPLookup and RadixIPLookup (the IPRouteTable family), sharing
//! one route table and one lookup structure (a multibit trie, at most 7 steps a lookup).

mod radixiplookup;
mod routes;
mod staticiplookup;
mod trie;

use crate::element::Registry;
pub(crate) use crate::library::standard::element_class;

pub fn register(r: &mut Registry) {
    for c in [radixiplookup::CLASS, staticiplookup::CLASS] {
        r.add(c);
    }
}

/// Arbitrary packets and route updates: nothing panics, and lookups agree with a linear search.
#[cfg(test)]
mod robustness {
    use alloc::format;
    use alloc::string::{String, ToString};
    use alloc::vec::Vec;
    use core::net::Ipv4Addr;

    use proptest::prelude::*;

    use crate::packet::Packet;
    use crate::testing::{router, run_rounds};

    fn mask(len: u32) -> u32 {
        if len == 0 {
            0
        } else {
            u32::MAX << (32 - len)
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn updates_and_lookups(
            routes in proptest::collection::vec((any::<u32>(), 0u32..=32, 0u32..3), 0..12),
            updates in proptest::collection::vec((0u8..4, any::<u32>(), 0u32..=32, 0u32..4), 0..12),
            probes in proptest::collection::vec((any::<u32>(), proptest::collection::vec(any::<u8>(), 0..40)), 0..20),
        ) {
            let args: Vec<String> = routes
                .iter()
                .map(|(a, l, p)| format!("{}/{l} {p}", Ipv4Addr::from(*a)))
                .collect();
            for class in ["RadixIPLookup", "StaticIPLookup"] {
                let cfg = format!(
                    "Idle -> x :: {class}({}) -> Discard; x[1] -> Discard; x[2] -> Discard;",
                    args.join(", ")
                );
                let mut r = router(&cfg);
                // The reference: later configuration routes replace earlier ones.
                let mut table: Vec<(u32, u32, u32)> = Vec::new();
                for (a, l, p) in &routes {
                    let a = a & mask(*l);
                    table.retain(|(x, y, _)| !(*x == a && y == l));
                    table.push((a, *l, *p));
                }
                if class == "RadixIPLookup" {
                    for (op, a, l, p) in &updates {
                        let text = format!("{}/{l} {p}", Ipv4Addr::from(*a));
                        let a = a & mask(*l);
                        let exists = table.iter().any(|(x, y, _)| *x == a && y == l);
                        let (h, ok) = match op {
                            0 => ("add", !exists && *p < 3),
                            1 => ("set", *p < 3),
                            2 => ("remove", exists),
                            _ => ("ctrl", !exists && *p < 3),
                        };
                        let value = if *op == 3 { format!("add {text}") } else if *op == 2 { format!("{}/{l}", Ipv4Addr::from(a)) } else { text };
                        let res = r.write_handler(&format!("x.{h}"), &value);
                        prop_assert_eq!(res.is_ok(), ok, "{} {}", h, value);
                        if ok {
                            table.retain(|(x, y, _)| !(*x == a && y == l));
                            if *op != 2 {
                                table.push((a, *l, *p));
                            }
                        }
                    }
                }
                for (dst, data) in &probes {
                    let want = table
                        .iter()
                        .filter(|(x, y, _)| dst & mask(*y) == *x)
                        .max_by_key(|(_, y, _)| *y)
                        .map_or(-1, |(_, _, p)| *p as i64);
                    r.write_handler("x.lookup", &Ipv4Addr::from(*dst).to_string()).unwrap();
                    let got: i64 = r.read_handler("x.lookup").unwrap().parse().unwrap();
                    prop_assert_eq!(got, want);
                    let mut p = Packet::from_slice(data);
                    p.anno_mut().dst_ip = Ipv4Addr::from(*dst);
                    let x = r.find("x").unwrap();
                    r.inject(x, 0, crate::Batch::from_vec(alloc::vec![p]));
                    run_rounds(&mut r, 1);
                }
            }
        }
    }
}
