//! Arbitrary bytes through compiled IPClassifier/IPFilter programs and a Classifier program: no
//! panic, and every result agrees with the direct interpreter of the expressions.
//!
//! The first input byte picks where the IP header starts (the network-header annotation); the
//! rest is the packet. The same bytes, read as text, also go through the expression and pattern
//! parsers (no panic; what parses compiles and runs).
#![no_main]

use std::sync::OnceLock;

use elements::library::classifier::expr::{self, Expr};
use elements::library::classifier::program::{compile, Program, View};
use elements::library::classifier::{lower, pattern, reference};
use libfuzzer_sys::fuzz_target;

const RULES: &[(&str, Option<usize>)] = &[
    ("tcp dst port www or https", Some(0)),
    ("src net 10.0.0.0/8 and not udp", None),
    ("udp port 53 or 67-68", Some(1)),
    ("icmp type echo or icmp type != echo-reply", Some(2)),
    ("tcp syn and not ack and dst port > 1023", Some(3)),
    ("ip frag or ip ttl < 2", None),
    ("src host 1.2.3.4 or 5.6.7.8 or dst net 192.168.0.0 mask 255.255.0.0", Some(4)),
    ("ip[9] = 47 or transp[0:2] & 0xff00 == 0x1100 or tcp[13] & 0x12 == 0x12", Some(5)),
    ("ip dscp 46 && ip ect || ip hl > 5 && ip len <= 100", Some(6)),
    ("tcp win < 100 ? ip id != 0 : (udp[4:2] > 8 and src port != 0)", Some(7)),
    ("ip[11:2] = 0x0102 or transp[2,5] > 0x10000", Some(1)),
    ("true", Some(0)),
];

const PATTERNS: &[&str] = &["12/0800 23/06", "12/0806 !20/0001", "0/ff%f0 3/??11", "-"];

struct Compiled {
    rules: Vec<(Expr, Option<usize>)>,
    ip: Program,
    patterns: Vec<pattern::Pattern>,
    bytes: Program,
}

fn compiled() -> &'static Compiled {
    static C: OnceLock<Compiled> = OnceLock::new();
    C.get_or_init(|| {
        let rules: Vec<(Expr, Option<usize>)> = RULES
            .iter()
            .map(|(s, a)| (expr::parse(s).expect("fixed expression parses"), *a))
            .collect();
        let lowered: Vec<_> = rules.iter().map(|(e, a)| (lower::lower(e), *a)).collect();
        let patterns: Vec<_> = PATTERNS.iter().map(|p| pattern::parse(p).unwrap()).collect();
        let pl: Vec<_> = patterns
            .iter()
            .enumerate()
            .map(|(k, p)| (pattern::lower(p), Some(k)))
            .collect();
        Compiled {
            ip: compile(&lowered),
            rules,
            bytes: compile(&pl),
            patterns,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, pkt)) = data.split_first() else {
        return;
    };
    let c = compiled();
    let off = (first % 24) as usize;
    let got = c.ip.run(&View::ip(pkt, off));
    let want = reference::classify(&c.rules, &reference::Packet::new(pkt, off));
    assert_eq!(got, want, "IP program disagrees at offset {off}");
    let got = c.bytes.run(&View::data(pkt));
    let want = c.patterns.iter().position(|p| pattern::matches(p, pkt));
    assert_eq!(got, want, "byte program disagrees");

    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(e) = expr::parse(text) {
            let prog = compile(&[(lower::lower(&e), Some(0))]);
            let got = prog.run(&View::ip(data, 0));
            let want = reference::eval(&e, &reference::Packet::new(data, 0));
            assert_eq!(got, want.then_some(0), "parsed expression disagrees");
        }
        if let Ok(p) = pattern::parse(text) {
            let prog = compile(&[(pattern::lower(&p), Some(0))]);
            let want = pattern::matches(&p, data).then_some(0);
            assert_eq!(prog.run(&View::data(data)), want, "parsed pattern disagrees");
        }
    }
});
