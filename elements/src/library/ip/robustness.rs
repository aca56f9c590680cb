//! Property test: arbitrary bytes (and mutations of valid packets), with arbitrary annotations,
//! pushed through every element of the ip, icmp and tcpudp groups, must never panic; a few
//! invariants of the outputs are checked along the way.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::net::Ipv4Addr;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use super::testutil::*;
use crate::packet::Packet;

/// Every element under test: (configuration, has a second output to connect).
const ELEMENTS: &[(&str, bool)] = &[
    ("CheckIPHeader", true),
    ("CheckIPHeader(14, VERBOSE true, DETAILS true)", false),
    ("CheckIPHeader(INTERFACES 10.0.0.1/24, CHECKSUM false)", true),
    ("MarkIPHeader", false),
    ("MarkIPHeader(14)", false),
    ("GetIPAddress(16)", false),
    ("GetIPAddress(IP src)", false),
    ("GetIPAddress(IP dst, ANNO 44)", false),
    ("DecIPTTL", true),
    ("DecIPTTL(MULTICAST false)", false),
    ("SetIPChecksum", false),
    ("IPEncap(4, 1.2.3.4, DST_ANNO, DF true)", false),
    ("IPEncap(udp, 1.2.3.4, 5.6.7.8, TOS 3)", false),
    ("IPFragmenter(68)", true),
    ("IPFragmenter(576, false)", false),
    ("IPFragmenter(8, HEADROOM 300)", true),
    ("IPPrint(CONTENTS hex, ID true, TTL true, TOS true, LENGTH true, PAINT true, AGGREGATE true)", false),
    ("IPPrint(x, PAYLOAD ascii, SWAP false, MAXLENGTH -1)", false),
    ("ICMPError(1.2.3.4, unreachable, needfrag, PMTU 1000)", false),
    ("ICMPError(1.2.3.4, parameterproblem, MTU 60)", false),
    ("ICMPError(1.2.3.4, redirect, BADADDRS 10.0.0.255)", false),
    ("ICMPPingResponder", true),
    ("ICMPPingResponder", false),
    ("CheckUDPHeader(VERBOSE true)", true),
    ("CheckTCPHeader(DETAILS true)", true),
    ("SetUDPChecksum", true),
    ("SetUDPChecksum", false),
    ("SetTCPChecksum(true)", false),
    ("SetTCPChecksum", false),
    ("UDPIPEncap(1.2.3.4, 1, DST_ANNO, 2)", false),
    ("UDPIPEncap(1.2.3.4, dns, 5.6.7.8, 2, false)", false),
];

fn config() -> String {
    let mut c = String::new();
    for (k, (el, two)) in ELEMENTS.iter().enumerate() {
        c += &format!("Idle -> x{k} :: {el} -> a{k} :: Sink;\n");
        if *two {
            c += &format!("x{k}[1] -> b{k} :: Sink;\n");
        }
    }
    // A router's input path, for packets that get through several checks.
    c += "Idle -> chain :: CheckIPHeader(14) -> GetIPAddress(30) -> Strip14 :: MarkIPHeader(14) \
          -> DecIPTTL -> IPFragmenter(100) -> ICMPPingResponder -> IPPrint -> chain_out :: Sink;";
    c
}

/// One input packet: bytes and the annotations to give it.
#[derive(Clone, Debug)]
struct Input {
    data: Vec<u8>,
    net: Option<usize>,
    dst: [u8; 4],
    packet_type: u8,
    user17: u8,
}

impl Input {
    fn packet(&self) -> Packet {
        let mut p = Packet::from_slice(&self.data);
        let a = p.anno_mut();
        if let Some(n) = self.net {
            a.set_network_offset(n);
        }
        a.dst_ip = Ipv4Addr::from(self.dst);
        a.packet_type = self.packet_type;
        a.user[super::ICMP_PARAMPROB_ANNO] = self.user17;
        a.user[super::FIX_IP_SRC_ANNO] = self.user17;
        p
    }
}

/// Valid packets of every kind, as seeds for mutation.
fn seeds() -> Vec<Vec<u8>> {
    let route = [131, 11, 8, 1, 1, 1, 1, 2, 2, 2, 2, 0];
    let mut frag = udp(A, 1, B, 2, &[7; 300]);
    frag[6] = 0x20;
    fix_ip(&mut frag);
    let mut eth = alloc::vec![0u8; 14];
    eth.extend_from_slice(&tcp(A, 1, B, 2, 0x12, &[1; 700]));
    alloc::vec![
        udp(A, 1000, B, 53, b"hello"),
        udp(A, 1, B, 2, &[3; 1200]),
        tcp(A, 4000, B, 80, 0x18, b"GET /"),
        echo(A, B, 1, 2, b"ping"),
        icmp(B, A, 3, 3, [0; 4], &udp(A, 1, B, 2, b"x")),
        icmp(B, A, 3, 4, [0, 0, 2, 0], &[]),
        ipv4_opts(A, B, 17, &route, &[0, 1, 0, 2, 0, 9, 0, 0, 1]),
        ipv4_opts(A, B, 6, &[130, 5, 1, 2, 3, 0, 0, 0], &[9; 200]),
        frag,
        eth,
    ]
}

fn input_strategy() -> impl Strategy<Value = Input> {
    let bytes = prop_oneof![
        // Arbitrary bytes.
        proptest::collection::vec(any::<u8>(), 0..200),
        // A valid packet with a few bytes changed and maybe cut short.
        (
            0..seeds().len(),
            proptest::collection::vec((any::<usize>(), any::<u8>()), 0..6),
            any::<Option<usize>>(),
        )
            .prop_map(|(k, edits, cut)| {
                let mut d = seeds().swap_remove(k);
                for (at, v) in edits {
                    let n = d.len();
                    d[at % n] = v;
                }
                if let Some(c) = cut {
                    let keep = c % (d.len() + 1);
                    d.truncate(keep);
                }
                d
            }),
    ];
    (
        bytes,
        prop_oneof![
            Just(None),
            Just(Some(0)),
            Just(Some(14)),
            (0usize..80).prop_map(Some)
        ],
        any::<[u8; 4]>(),
        0u8..5,
        any::<u8>(),
    )
        .prop_map(|(data, net, dst, packet_type, user17)| Input {
            data,
            net,
            dst,
            packet_type,
            user17,
        })
}

/// Checks what the sinks got; returns how many packets the checked outputs (and the chain) got.
fn check_outputs(h: &Harness) -> Result<usize, TestCaseError> {
    let mut seen = 0;
    for (k, (el, two)) in ELEMENTS.iter().enumerate() {
        let a = h.got(&format!("a{k}"));
        seen += a.len();
        if *two {
            h.got(&format!("b{k}"));
        }
        for g in &a {
            let nh = g.anno.network_offset().unwrap_or(0);
            if el.starts_with("CheckIPHeader(INTERFACES") {
                continue;
            }
            if el.starts_with("CheckIPHeader") || el.starts_with("SetIPChecksum") {
                prop_assert!(ip_ok(&g.data[nh..]), "{el}: bad IP checksum on output 0");
            }
            if el.starts_with("ICMPError") {
                prop_assert!(ip_ok(&g.data) && l4_ok(&g.data), "{el}: bad checksum");
                let mtu = if el.contains("MTU 60") { 60 } else { 576 };
                prop_assert!(g.data.len() <= mtu);
            }
            if el.starts_with("IPEncap") || el.starts_with("UDPIPEncap") {
                prop_assert!(ip_ok(&g.data), "{el}: bad IP checksum");
            }
            if el.starts_with("UDPIPEncap(1.2.3.4, 1,") {
                prop_assert!(l4_ok(&g.data), "{el}: bad UDP checksum");
            }
            if el.starts_with("IPFragmenter(68)") {
                prop_assert!(g.data.len().saturating_sub(nh) <= 68, "{el}: too long");
            }
        }
    }
    Ok(seen + h.got("chain_out").len())
}

#[test]
fn no_element_panics_on_arbitrary_packets() {
    let h = RefCell::new(Harness::new(&config()));
    let names: Vec<String> = (0..ELEMENTS.len())
        .map(|k| format!("x{k}"))
        .chain([String::from("chain")])
        .collect();
    let mut runner = TestRunner::new(Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    });
    let seen = core::cell::Cell::new(0);
    runner
        .run(
            &proptest::collection::vec(input_strategy(), 1..8),
            |inputs| {
                let mut h = h.borrow_mut();
                for name in &names {
                    h.push(name, inputs.iter().map(Input::packet).collect());
                }
                seen.set(seen.get() + check_outputs(&h)?);
                Ok(())
            },
        )
        .unwrap();
    assert!(
        seen.get() > 1000,
        "the invariants were checked on real outputs"
    );
}
