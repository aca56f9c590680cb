//! IPFilter — filters IP packets by tcpdump-like rules: the first rule that matches decides.
//!
//! Ports: 1 input, any number of outputs.
//! Processing: push.
//! Arguments: one rule per argument, `ACTION EXPRESSION`. ACTION is `allow` (output 0), `deny`
//! or `drop` (kill the packet), or an output number. EXPRESSION is in the language described in
//! [`super`] (the module documentation); a rule with no expression, or with `-`, `any` or
//! `all`, matches every packet. Arguments may be quoted.
//! Handlers: `program` (read) the compiled decision program, one test per line.
//!
//! Packets that match no rule are killed. The IP header is found at the network-header
//! annotation (CheckIPHeader, MarkIPHeader), or at the start of the data when it is unset.
//! All rules are compiled together into one decision DAG, so a batch costs a few word tests
//! per packet whatever the number of rules.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use config_lang::args::{ArgError, Args};

use super::expr::{self, Expr, Prim};
use super::program::{compile, Program};
use super::{ip_view, lower, ArgText};
use crate::batch::Batch;
use crate::element::{ConfigureContext, Element, ElementClass, HandlerSpec};
use crate::router::Context;

pub const CLASS: ElementClass =
    crate::library::standard::element_class!("IPFilter", "1/-", "h/h", IPFilter);

#[derive(Default)]
pub struct IPFilter {
    program: Program,
}

/// Reads `ACTION EXPRESSION` rules (shared with tests).
pub(crate) fn read_rules(
    args: &mut Args,
    noutputs: usize,
) -> Result<Vec<(Expr, Option<usize>)>, ArgError> {
    let mut rules = Vec::new();
    for (k, a) in args.rest().iter().enumerate() {
        let at = ArgText::new(a, true);
        let text = at.text.as_str();
        let t = text.trim_start();
        let lead = text.len() - t.len();
        let alen = t.find(char::is_whitespace).unwrap_or(t.len());
        let (word, rest) = t.split_at(alen);
        let word_range = at.map(lead..lead + alen);
        let name = format!("pattern {k}");
        let action = match word {
            "" => {
                return Err(ArgError::new(
                    &name,
                    "empty rule",
                    Some(at.map(0..text.len())),
                ))
            }
            "allow" if noutputs == 0 => {
                return Err(ArgError::new(
                    &name,
                    "'allow' is meaningless: the element has no outputs",
                    Some(word_range),
                ))
            }
            "allow" => Some(0),
            "deny" | "drop" => None,
            w => match expr::parse_number(w) {
                Some(n) if (n as usize) < noutputs => Some(n as usize),
                Some(n) => {
                    return Err(ArgError::new(
                        &name,
                        format!("output {n} out of range (the element has {noutputs} outputs)"),
                        Some(word_range),
                    ))
                }
                None => {
                    return Err(ArgError::new(
                        &name,
                        format!("unknown action '{w}' (allow, deny, drop or an output number)"),
                        Some(word_range),
                    ))
                }
            },
        };
        let e = if rest.trim().is_empty() {
            Expr::Prim(Prim::Bool(true))
        } else {
            expr::parse(rest).map_err(|e| at.error(k, e, lead + alen))?
        };
        rules.push((e, action));
    }
    Ok(rules)
}

impl Element for IPFilter {
    fn configure(&mut self, args: &mut Args, cx: &ConfigureContext<'_>) -> Result<(), ArgError> {
        let rules = read_rules(args, cx.noutputs)?;
        let lowered: Vec<_> = rules.iter().map(|(e, a)| (lower::lower(e), *a)).collect();
        self.program = compile(&lowered);
        Ok(())
    }

    fn push(&mut self, _port: usize, batch: Batch, cx: &mut Context<'_>) {
        let prog = &self.program;
        cx.classify(batch, |p| prog.run(&ip_view(p)));
    }

    fn handlers(&self) -> &'static [HandlerSpec] {
        const H: &[HandlerSpec] = &[HandlerSpec::read("program")];
        H
    }

    fn read_handler(&self, name: &str) -> Option<String> {
        (name == "program").then(|| self.program.dump())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::library::classifier::testpkt::{ether, Ip};
    use crate::packet::Packet;
    use crate::testing::{build_errors, router, run_packets};
    use alloc::vec;

    const TWO: &str = "Idle -> f :: IPFilter(RULES) -> a :: Capture; f[1] -> b :: Capture;";

    fn run(rules: &str, pkts: &[Vec<u8>]) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
        let cfg = TWO.replace("RULES", rules);
        let refs: Vec<&[u8]> = pkts.iter().map(|p| p.as_slice()).collect();
        let mut got = run_packets(&cfg, "f", &refs, &["a", "b"]);
        let b = got.pop().unwrap();
        (got.pop().unwrap(), b)
    }

    fn configure(cfg: &str, noutputs: usize) -> Result<(), ArgError> {
        let mut args = Args::new(cfg);
        let cx = ConfigureContext {
            name: "f",
            ninputs: 1,
            noutputs,
            graph: None,
        };
        IPFilter::default().configure(&mut args, &cx)
    }

    #[test]
    fn first_matching_rule_decides() {
        let web = Ip::tcp([10, 0, 0, 1], [192, 168, 1, 1], 40000, 80, 0).build();
        let ssh_from_10 = Ip::tcp([10, 0, 0, 1], [192, 168, 1, 1], 40000, 22, 0).build();
        let ssh_from_1 = Ip::tcp([1, 2, 3, 4], [192, 168, 1, 1], 40000, 22, 0).build();
        let dns = Ip::udp([1, 2, 3, 4], [192, 168, 1, 1], 5353, 53).build();
        let ping = Ip::icmp([1, 2, 3, 4], [192, 168, 1, 1], 8).build();
        let reply = Ip::icmp([1, 2, 3, 4], [192, 168, 1, 1], 0).build();
        let (a, b) = run(
            "allow tcp dst port www, deny src net 10.0.0.0/8, 1 udp port 53, \
             allow icmp type echo, drop icmp, 1 tcp",
            &[
                web.clone(),
                ssh_from_10,
                ssh_from_1.clone(),
                dns.clone(),
                ping.clone(),
                reply,
            ],
        );
        assert_eq!(a, [web, ping]);
        assert_eq!(b, [ssh_from_1, dns]);
    }

    #[test]
    fn no_match_drops_and_empty_rule_matches_all() {
        let udp = Ip::udp([1, 1, 1, 1], [2, 2, 2, 2], 1, 2).build();
        let one = core::slice::from_ref(&udp);
        let (a, b) = run("allow tcp", one);
        assert!(a.is_empty() && b.is_empty());
        let (a, b) = run("deny tcp, 1", one);
        assert!(a.is_empty());
        assert_eq!(b, one);
        let (a, _) = run("allow all", one);
        assert_eq!(a.len(), 1);
        let (a, _) = run("allow -", one);
        assert_eq!(a.len(), 1);
    }

    #[test]
    fn quoted_rules() {
        let tcp = Ip::tcp([1, 1, 1, 1], [2, 2, 2, 2], 1, 80, 0).build();
        let (a, b) = run("\"allow tcp port 80\", 1 all", &[tcp]);
        assert_eq!((a.len(), b.len()), (1, 0));
    }

    #[test]
    fn network_header_annotation_is_used() {
        // An Ethernet frame whose annotation points at the IP header.
        let ip = Ip::tcp([1, 1, 1, 1], [2, 2, 2, 2], 1, 80, 0).build();
        let mut p = Packet::from_slice(&ether(&ip));
        let mut f = IPFilter::default();
        let cx = ConfigureContext {
            name: "f",
            ninputs: 1,
            noutputs: 1,
            graph: None,
        };
        f.configure(&mut Args::new("allow dst port 80"), &cx)
            .unwrap();
        assert_eq!(f.program.run(&ip_view(&p)), None, "unset: read at offset 0");
        p.anno_mut().set_network_offset(14);
        assert_eq!(f.program.run(&ip_view(&p)), Some(0));
    }

    #[test]
    fn malformed_packets_never_match_transport_tests() {
        let good = Ip::tcp([1, 1, 1, 1], [2, 2, 2, 2], 1, 80, 0).build();
        let mut pkts = Vec::new();
        for n in 0..good.len() {
            pkts.push(good[..n].to_vec());
        }
        let mut bad_ihl = good.clone();
        bad_ihl[0] = 0x43;
        pkts.push(bad_ihl);
        let mut huge_ihl = good.clone();
        huge_ihl[0] = 0x4f;
        pkts.push(huge_ihl);
        let mut frag = Ip::tcp([1, 1, 1, 1], [2, 2, 2, 2], 1, 80, 0);
        frag.frag_offset = 3;
        pkts.push(frag.build());
        let (a, b) = run("allow dst port 80, 1 tcp", &pkts);
        // The destination port needs 24 bytes (IP header + 4); `tcp` needs 10.
        assert_eq!(a, pkts[24..good.len()].to_vec());
        assert_eq!(b.len(), 24 - 10 + 3);
        // The whole packet does match.
        let (a, _) = run("allow dst port 80, 1 tcp", &[good]);
        assert_eq!(a.len(), 1);
    }

    #[test]
    fn program_handler() {
        let r = router(&TWO.replace("RULES", "allow tcp, 1 udp"));
        let prog = r.read_handler("f.program").unwrap();
        assert!(prog.contains("ip+8 & 00ff0000 == 00060000"), "{prog}");
    }

    #[test]
    fn errors_locate_the_bad_token() {
        let cfg = "allow tcp, deny udp port 99999";
        let e = configure(cfg, 1).unwrap_err();
        assert_eq!(e.argument, "pattern 1");
        assert!(e.message.contains("out of range"), "{}", e.message);
        assert_eq!(&cfg[e.range.unwrap()], "99999");
        let cfg = "allow tcp, permit udp";
        let e = configure(cfg, 1).unwrap_err();
        assert_eq!(&cfg[e.range.unwrap()], "permit");
        let cfg = "3 tcp";
        let e = configure(cfg, 2).unwrap_err();
        assert_eq!(&cfg[e.range.unwrap()], "3");
        assert!(e.message.contains("out of range"));
        let e = configure("allow tcp", 0).unwrap_err();
        assert!(e.message.contains("meaningless"));
        let cfg = "allow (tcp or";
        let e = configure(cfg, 1).unwrap_err();
        assert_eq!(&cfg[e.range.unwrap()], "or");
        // Through the router: the diagnostic points into the configuration string.
        let errs = build_errors("Idle -> f :: IPFilter(allow tcp port foo) -> Discard;");
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(
            errs[0].contains("1:38") && errs[0].contains("foo"),
            "{errs:?}"
        );
        let _ = vec![0];
    }

    /// Per-packet cost of a 5-rule IPFilter. Run with
    /// `cargo test --release -p clickos-elements --lib ipfilter::tests::cost -- --ignored --nocapture`.
    #[test]
    #[ignore = "timing; run in release mode"]
    fn cost_per_packet() {
        extern crate std;
        use core::hint::black_box;
        use std::time::Instant;
        const RULES: &str =
            "allow tcp dst port 80, allow tcp dst port 443, allow udp dst port 53, \
                             deny src net 10.0.0.0/8, allow icmp";
        let mut f = IPFilter::default();
        let cx = ConfigureContext {
            name: "f",
            ninputs: 1,
            noutputs: 1,
            graph: None,
        };
        f.configure(&mut Args::new(RULES), &cx).unwrap();
        std::println!(
            "program ({} tests, depth {}):\n{}",
            f.program.len(),
            f.program.max_depth(),
            f.program.dump()
        );
        // A mixed batch: each rule's packets, and packets that match none.
        let kinds = [
            Ip::tcp([1, 1, 1, 1], [2, 2, 2, 2], 1234, 80, 0x10).build(),
            Ip::tcp([1, 1, 1, 1], [2, 2, 2, 2], 1234, 443, 0x10).build(),
            Ip::udp([1, 1, 1, 1], [2, 2, 2, 2], 1234, 53).build(),
            Ip::tcp([10, 1, 1, 1], [2, 2, 2, 2], 1234, 22, 0x10).build(),
            Ip::icmp([1, 1, 1, 1], [2, 2, 2, 2], 8).build(),
            Ip::udp([1, 1, 1, 1], [2, 2, 2, 2], 1234, 5353).build(),
            Ip::tcp([1, 1, 1, 1], [2, 2, 2, 2], 1234, 8080, 0x10).build(),
            ether(&Ip::tcp([1, 1, 1, 1], [2, 2, 2, 2], 1234, 443, 0x10).build()),
        ];
        let batch: Vec<Packet> = (0..32)
            .map(|k| {
                let mut p = Packet::from_slice(&kinds[k % kinds.len()]);
                if k % kinds.len() == 7 {
                    p.anno_mut().set_network_offset(14);
                }
                p
            })
            .collect();
        // Each measurement: the best of several runs (the machine is shared).
        let best = |f: &mut dyn FnMut() -> usize| {
            let mut min = f64::MAX;
            for _ in 0..7 {
                let t = Instant::now();
                black_box(f());
                min = min.min(t.elapsed().as_nanos() as f64);
            }
            min
        };
        let rounds = 20_000;
        let per = (rounds * batch.len()) as f64;
        let one_byte = best(&mut || {
            let mut sum = 0usize;
            for _ in 0..rounds {
                for p in black_box(&batch) {
                    sum += p.data().get(9).copied().unwrap_or(0) as usize;
                }
            }
            sum
        }) / per;
        let single = best(&mut || {
            let mut hits = 0usize;
            for _ in 0..rounds {
                for p in black_box(&batch) {
                    hits += f.program.run(&ip_view(p)).is_some() as usize;
                }
            }
            hits
        }) / per;
        std::println!(
            "matcher, mixed packets: {single:.2} ns/packet (reading one byte of each packet: \
             {one_byte:.2} ns)"
        );

        // Through the element in a router, against the same router without it.
        let hex = crate::testing::hex(&kinds[1]);
        let n = 1_600_000;
        let time = |cfg: &str| {
            let mut min = f64::MAX;
            for _ in 0..5 {
                let mut r = router(cfg);
                let t = Instant::now();
                r.run_until_idle(10);
                min = min.min(t.elapsed().as_nanos() as f64 / n as f64);
            }
            min
        };
        let src = alloc::format!("InfiniteSource(DATA \\<{hex}>, LIMIT {n}, BURST 32, STOP true)");
        let base = time(&alloc::format!("{src} -> Null -> Discard;"));
        let all = time(&alloc::format!("{src} -> IPFilter(allow all) -> Discard;"));
        let with = time(&alloc::format!("{src} -> IPFilter({RULES}) -> Discard;"));
        std::println!(
            "router: {base:.2} ns/packet with Null, {all:.2} with IPFilter(allow all), {with:.2} \
             with the 5 rules: the 5-rule IPFilter costs {:.2} ns/packet more than Null",
            with - base
        );
    }
}
