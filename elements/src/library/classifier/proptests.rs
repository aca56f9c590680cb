//! Property tests: the compiled program agrees with the direct interpreter of the AST (and, for
//! Classifier, with direct byte matching) on random rule sets and random — often malformed —
//! packets. This is the main argument that the lowering and the compiler's pruning are right.

extern crate std;

use alloc::vec::Vec;

use proptest::prelude::*;

use super::expr::{Cmp, Dir, Expr, IpField, Layer, Prim, Rel, TpField};
use super::program::{compile_with_budget, View};
use super::testpkt::{icmp, tcp, udp, Ip};
use super::{lower, pattern, reference};

const ADDRS: [[u8; 4]; 4] = [[10, 0, 0, 1], [10, 0, 0, 2], [192, 168, 1, 1], [1, 2, 3, 4]];
const PORTS: [u32; 9] = [0, 7, 53, 79, 80, 81, 1023, 1024, 65535];
const PROTOS: [u8; 5] = [1, 6, 17, 47, 132];
const PROTO_SETS: [&[u8]; 5] = [&[6, 17], &[6], &[17], &[132], &[]];

fn value(max: u32, pool: &'static [u32]) -> impl Strategy<Value = u32> {
    prop_oneof![
        3 => proptest::sample::select(pool).prop_map(move |v| v.min(max)),
        1 => 0..=max,
        1 => Just(max),
        1 => Just(5.min(max)),
    ]
}

fn rel(max: u32, pool: &'static [u32]) -> impl Strategy<Value = Rel> {
    let mask = prop_oneof![3 => Just(max), 1 => 1..=max];
    let cmp = (0..7u8, value(max, pool), value(max, pool)).prop_map(|(k, a, b)| {
        let (lo, hi) = (a.min(b), a.max(b));
        match k {
            0 | 1 => Cmp::In(a, a),
            2 => Cmp::In(lo, hi),
            3 => Cmp::NotIn(a, a),
            4 => Cmp::Lt(a),
            5 => Cmp::Ge(a),
            _ => [Cmp::Le(a), Cmp::Gt(a), Cmp::NotIn(lo, hi)][(b % 3) as usize],
        }
    });
    (mask, cmp).prop_map(|(mask, cmp)| Rel { mask, cmp })
}

fn dir() -> impl Strategy<Value = Dir> {
    proptest::sample::select(&[Dir::Src, Dir::Dst, Dir::SrcOrDst, Dir::SrcAndDst][..])
}

const ADDR_POOL: &[u32] = &[0x0a000001, 0x0a000002, 0xc0a80101, 0x01020304, 0x0a000000];
const PORT_POOL: &[u32] = &PORTS;
const SMALL_POOL: &[u32] = &[0, 1, 4, 5, 6, 17, 64, 255];

fn prim() -> impl Strategy<Value = Prim> {
    let ipf = proptest::sample::select(
        &[
            IpField::Vers,
            IpField::Hl,
            IpField::Tos,
            IpField::Dscp,
            IpField::Ecn,
            IpField::Len,
            IpField::Id,
            IpField::Ttl,
            IpField::Proto,
        ][..],
    );
    let tpf =
        proptest::sample::select(&[TpField::IcmpType, TpField::TcpWin, TpField::TcpFlags][..]);
    prop_oneof![
        1 => any::<bool>().prop_map(Prim::Bool),
        3 => ipf.prop_flat_map(|f| rel(f.max(), SMALL_POOL).prop_map(move |r| Prim::Ip(f, r))),
        1 => Just(Prim::Frag),
        3 => (dir(), 0..=32u32, proptest::sample::select(ADDR_POOL), any::<bool>()).prop_map(
            |(d, len, a, ne)| {
                let m = if len == 0 { 0 } else { u32::MAX << (32 - len) };
                let v = a & m;
                Prim::Host(d, Rel { mask: m, cmp: if ne { Cmp::NotIn(v, v) } else { Cmp::In(v, v) } })
            }
        ),
        4 => (dir(), proptest::sample::select(&PROTO_SETS[..]), rel(0xffff, PORT_POOL))
            .prop_map(|(dir, protos, rel)| Prim::Port { dir, protos, rel }),
        2 => proptest::sample::select(&[1u8, 2, 4, 8, 16, 32, 64, 128][..]).prop_map(Prim::TcpOpt),
        2 => (tpf, proptest::sample::select(&PROTOS[..])).prop_flat_map(|(field, p)| {
            let proto = if field == TpField::IcmpType { 1 } else { 6 };
            let proto = if p == 47 { p } else { proto };
            rel(field.max(), SMALL_POOL).prop_map(move |rel| Prim::Transport { proto, field, rel })
        }),
        3 => (any::<bool>(), proptest::sample::select(&PROTO_SETS[..]), 0..28u16, 1..=4u8)
            .prop_flat_map(|(ip, protos, pos, len)| {
                let max = if len == 4 { u32::MAX } else { (1 << (8 * len as u32)) - 1 };
                let layer = if ip { Layer::Ip } else { Layer::Transport };
                rel(max, SMALL_POOL).prop_map(move |rel| Prim::Bytes { layer, protos, pos, len, rel })
            }),
    ]
}

fn expr() -> impl Strategy<Value = Expr> {
    prim()
        .prop_map(Expr::Prim)
        .prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                1 => inner.clone().prop_map(|e| Expr::Not(alloc::boxed::Box::new(e))),
                2 => proptest::collection::vec(inner.clone(), 2..4).prop_map(Expr::And),
                2 => proptest::collection::vec(inner, 2..4).prop_map(Expr::Or),
            ]
        })
}

fn rules() -> impl Strategy<Value = Vec<(Expr, Option<usize>)>> {
    proptest::collection::vec(
        (
            expr(),
            prop_oneof![3 => (0..4usize).prop_map(Some), 1 => Just(None)],
        ),
        1..6,
    )
}

/// A packet: a (possibly broken) IPv4 packet behind `offset` bytes, or random bytes.
fn packet() -> impl Strategy<Value = (Vec<u8>, usize)> {
    let ip = (
        (
            proptest::sample::select(&ADDRS[..]),
            proptest::sample::select(&ADDRS[..]),
            proptest::sample::select(&PROTOS[..]),
            proptest::sample::select(PORT_POOL),
            proptest::sample::select(PORT_POOL),
            any::<u8>(),
        ),
        (
            proptest::sample::select(SMALL_POOL),
            0..64u8,
            0..4u8,
            prop_oneof![4 => Just(0u16), 1 => 0..4u16],
            any::<bool>(),
            prop_oneof![4 => Just(0usize), 1 => Just(4), 1 => Just(8)],
        ),
    )
        .prop_map(
            |((src, dst, proto, sp, dp, flags), (ttl, dscp, ecn, fo, mf, opts))| {
                let payload = match proto {
                    6 => tcp(sp as u16, dp as u16, flags, (ttl as u16) << 4),
                    1 => icmp(flags % 20, 0),
                    _ => udp(sp as u16, dp as u16, b"xy"),
                };
                Ip {
                    src,
                    dst,
                    proto,
                    ttl: ttl as u8,
                    dscp,
                    ecn,
                    id: sp as u16,
                    more_frags: mf && fo == 0 && flags % 4 == 0,
                    frag_offset: fo,
                    options: opts,
                    payload,
                }
                .build()
            },
        );
    let mutated = (
        ip,
        prop_oneof![3 => Just(None), 1 => (0..64usize).prop_map(Some)],
        prop_oneof![3 => Just(None), 1 => (0..64usize, any::<u8>()).prop_map(Some)],
        prop_oneof![3 => Just(0usize), 1 => 0..16usize],
    )
        .prop_map(|(mut p, cut, flip, off)| {
            if let Some((k, b)) = flip {
                if let Some(x) = p.get_mut(k) {
                    *x = b;
                }
            }
            if let Some(n) = cut {
                p.truncate(n);
            }
            let mut data = alloc::vec![0xeeu8; off];
            data.extend_from_slice(&p);
            (data, off)
        });
    prop_oneof![
        6 => mutated,
        1 => (proptest::collection::vec(any::<u8>(), 0..48), 0..8usize),
    ]
}

/// A narrow world where tests on the same fields meet often: TTL, protocol, ports and
/// addresses with values from {4, 5, 6}, {6, 17}, {79, 80, 81} and two addresses.
fn dense_rel(vals: &'static [u32], max: u32) -> impl Strategy<Value = Rel> {
    (
        0..8u8,
        proptest::sample::select(vals),
        proptest::sample::select(vals),
    )
        .prop_map(move |(k, a, b)| {
            let (lo, hi) = (a.min(b), a.max(b));
            let cmp = match k {
                0 | 1 => Cmp::In(a, a),
                2 => Cmp::In(lo, hi),
                3 => Cmp::NotIn(a, a),
                4 => Cmp::NotIn(lo, hi),
                5 => Cmp::Lt(a),
                6 => Cmp::Ge(a),
                _ => Cmp::Gt(a),
            };
            Rel { mask: max, cmp }
        })
}

fn dense_prim() -> impl Strategy<Value = Prim> {
    prop_oneof![
        2 => dense_rel(&[4, 5, 6], 0xff).prop_map(|r| Prim::Ip(IpField::Ttl, r)),
        2 => dense_rel(&[6, 17], 0xff).prop_map(|r| Prim::Ip(IpField::Proto, r)),
        2 => (dir(), dense_rel(&[0x0a000001, 0x0a000002], u32::MAX)).prop_map(|(d, r)| Prim::Host(d, r)),
        3 => (dir(), proptest::sample::select(&PROTO_SETS[..3]), dense_rel(&[79, 80, 81], 0xffff))
            .prop_map(|(dir, protos, rel)| Prim::Port { dir, protos, rel }),
        1 => proptest::sample::select(&[2u8, 16][..]).prop_map(Prim::TcpOpt),
    ]
}

fn dense_rules() -> impl Strategy<Value = Vec<(Expr, Option<usize>)>> {
    let e = dense_prim()
        .prop_map(Expr::Prim)
        .prop_recursive(3, 12, 3, |inner| {
            prop_oneof![
                1 => inner.clone().prop_map(|e| Expr::Not(alloc::boxed::Box::new(e))),
                2 => proptest::collection::vec(inner.clone(), 2..4).prop_map(Expr::And),
                1 => proptest::collection::vec(inner, 2..3).prop_map(Expr::Or),
            ]
        });
    proptest::collection::vec((e, (0..3usize).prop_map(Some)), 2..7)
}

fn dense_packet() -> impl Strategy<Value = (Vec<u8>, usize)> {
    let a = proptest::sample::select(&ADDRS[..2]);
    let port = proptest::sample::select(&[79u16, 80, 81][..]);
    (
        a.clone(),
        a,
        4..7u8,
        any::<bool>(),
        port.clone(),
        port,
        0..4u8,
        prop_oneof![5 => Just(None), 1 => (0..40usize).prop_map(Some)],
    )
        .prop_map(|(src, dst, ttl, is_tcp, sp, dp, fl, cut)| {
            let mut ip = if is_tcp {
                Ip::tcp(src, dst, sp, dp, [0, 2, 16, 18][fl as usize])
            } else {
                Ip::udp(src, dst, sp, dp)
            };
            ip.ttl = ttl;
            let mut p = ip.build();
            if let Some(n) = cut {
                p.truncate(n);
            }
            (p, 0)
        })
}

fn pattern_strategy() -> impl Strategy<Value = pattern::Pattern> {
    let byte = prop_oneof![Just(0u8), Just(1), Just(0xff), any::<u8>()];
    let mask = prop_oneof![3 => Just(0xffu8), 1 => Just(0), 1 => Just(0xf0), 1 => any::<u8>()];
    let clause = (
        any::<bool>(),
        0..12usize,
        proptest::collection::vec((byte, mask), 1..7),
    )
        .prop_map(|(negated, offset, bytes)| pattern::Clause {
            negated,
            offset,
            bytes: bytes.into_iter().map(|(v, m)| (v & m, m)).collect(),
        });
    proptest::collection::vec(clause, 0..4)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    #[test]
    fn compiled_ip_program_agrees_with_the_interpreter(
        rules in rules(),
        pkts in proptest::collection::vec(packet(), 16),
        budget in prop_oneof![4 => Just(200_000usize), 1 => 0..40usize],
    ) {
        let lowered: Vec<_> = rules.iter().map(|(e, a)| (lower::lower(e), *a)).collect();
        let prog = compile_with_budget(&lowered, budget);
        for (data, off) in &pkts {
            let want = reference::classify(&rules, &reference::Packet::new(data, *off));
            let got = prog.run(&View::ip(data, *off));
            prop_assert_eq!(got, want, "packet {:02x?} at {}\nprogram:\n{}", data, off, prog.dump());
        }
    }

    #[test]
    fn compiled_program_agrees_on_dense_rules(
        rules in dense_rules(),
        pkts in proptest::collection::vec(dense_packet(), 24),
    ) {
        let lowered: Vec<_> = rules.iter().map(|(e, a)| (lower::lower(e), *a)).collect();
        let prog = compile_with_budget(&lowered, 200_000);
        for (data, off) in &pkts {
            let want = reference::classify(&rules, &reference::Packet::new(data, *off));
            prop_assert_eq!(prog.run(&View::ip(data, *off)), want, "packet {:02x?}\n{}", data, prog.dump());
        }
    }

    #[test]
    fn compiled_byte_program_agrees_with_matching(
        pats in proptest::collection::vec(pattern_strategy(), 1..5),
        pkts in proptest::collection::vec(
            proptest::collection::vec(prop_oneof![Just(0u8), Just(1), Just(0xff), any::<u8>()], 0..20),
            24,
        ),
    ) {
        let rules: Vec<_> = pats.iter().enumerate().map(|(k, p)| (pattern::lower(p), Some(k))).collect();
        let prog = compile_with_budget(&rules, 200_000);
        for data in &pkts {
            let want = pats.iter().position(|p| pattern::matches(p, data));
            prop_assert_eq!(prog.run(&View::data(data)), want, "{:02x?}\n{}", data, prog.dump());
        }
    }

    /// The parser never panics, and what it accepts compiles and runs.
    #[test]
    fn parser_total(s in "[a-z0-9 .:/&|!=<>()\\[\\],?-]{0,40}") {
        if let Ok(e) = super::expr::parse(&s) {
            let prog = compile_with_budget(&[(lower::lower(&e), Some(0))], 10_000);
            let pkt = Ip::tcp([10, 0, 0, 1], [10, 0, 0, 2], 80, 1024, 0x12).build();
            let want = reference::eval(&e, &reference::Packet::new(&pkt, 0));
            prop_assert_eq!(prog.run(&View::ip(&pkt, 0)), want.then_some(0));
        }
    }
}

/// Word-ish inputs for the parser: real keywords in random order.
#[test]
fn parser_on_keyword_soup() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    const WORDS: &[&str] = &[
        "src",
        "dst",
        "or",
        "and",
        "not",
        "host",
        "net",
        "port",
        "tcp",
        "udp",
        "icmp",
        "ip",
        "proto",
        "ttl",
        "10.0.0.1",
        "10.0.0.0/8",
        "80",
        "www",
        "echo",
        "syn",
        "ack",
        "(",
        ")",
        "[",
        "]",
        "9",
        "0:2",
        "&",
        "0xff",
        "=",
        "!=",
        ">",
        "<=",
        "type",
        "opt",
        "frag",
        "unfrag",
        "transp",
        "mask",
        "255.0.0.0",
        "1000-2000",
        "?",
        ":",
        "true",
        "-",
        "tcp[13]",
        "ip[9]",
    ];
    let mut runner = TestRunner::deterministic();
    let strat = proptest::collection::vec(proptest::sample::select(WORDS), 0..12);
    let pkt = Ip::udp([10, 0, 0, 1], [1, 2, 3, 4], 53, 80).build();
    let mut accepted = 0;
    for _ in 0..20_000 {
        let words = strat.new_tree(&mut runner).unwrap().current();
        let s = words.join(" ");
        if let Ok(e) = super::expr::parse(&s) {
            accepted += 1;
            let prog = compile_with_budget(&[(lower::lower(&e), Some(0))], 10_000);
            let want = reference::eval(&e, &reference::Packet::new(&pkt, 0));
            assert_eq!(prog.run(&View::ip(&pkt, 0)), want.then_some(0), "{s}");
        }
    }
    assert!(accepted > 500, "only {accepted} accepted");
}

/// Large rule sets compile quickly and stay linear-ish in size.
#[test]
fn large_rule_sets_compile() {
    extern crate std;
    let mut rules = Vec::new();
    for k in 0..300u32 {
        let text = alloc::format!(
            "src host 10.0.{}.{} and dst tcp port {} or udp dst port {} and ip ttl > {}",
            k / 256,
            k % 256,
            1000 + k,
            2000 + k % 17,
            k % 64
        );
        let e = super::expr::parse(&text).unwrap();
        rules.push((lower::lower(&e), Some((k % 4) as usize)));
    }
    let t = std::time::Instant::now();
    let prog = super::program::compile(&rules);
    let took = t.elapsed();
    std::println!(
        "300 rules: {} tests, depth {}, {:?}",
        prog.len(),
        prog.max_depth(),
        took
    );
    assert!(prog.len() < 20_000, "{}", prog.len());
    let pkt = Ip::tcp([10, 0, 1, 2], [1, 1, 1, 1], 5, 1000 + 258, 0).build();
    assert_eq!(prog.run(&View::ip(&pkt, 0)), Some(2));
}
