//! IPClassifier — sends each IP packet to the output of the first tcpdump-like pattern it
//! matches.
//!
//! Ports: 1 input, any number of outputs (one per pattern).
//! Processing: push.
//! Arguments: one expression per output, in the language described in [`super`] (the module
//! documentation); `-`, `any` or `all` matches every packet. Arguments may be quoted.
//! Handlers: `program` (read) the compiled decision program, one test per line.
//!
//! Packets that match no pattern are killed. The IP header is found at the network-header
//! annotation (CheckIPHeader, MarkIPHeader), or at the start of the data when it is unset.
//! `IPClassifier(P0, P1, ...)` is `IPFilter(0 P0, 1 P1, ...)`.

use alloc::string::String;
use alloc::vec::Vec;

use config_lang::args::{ArgError, Args};

use super::expr::{self, Expr};
use super::program::{compile, Program};
use super::{check_count, ip_view, lower, ArgText};
use crate::batch::Batch;
use crate::element::{ConfigureContext, Element, ElementClass, HandlerSpec};
use crate::router::Context;

pub const CLASS: ElementClass =
    crate::library::standard::element_class!("IPClassifier", "1/-", "h/h", IPClassifier);

#[derive(Default)]
pub struct IPClassifier {
    program: Program,
}

/// Reads one expression per argument (shared with tests).
pub(crate) fn read_patterns(args: &mut Args, noutputs: usize) -> Result<Vec<Expr>, ArgError> {
    let raw = args.rest();
    check_count(raw.len(), noutputs)?;
    raw.iter()
        .enumerate()
        .map(|(k, a)| {
            let at = ArgText::new(a, true);
            if at.text.trim().is_empty() {
                return Err(ArgError::new(
                    &alloc::format!("pattern {k}"),
                    "empty pattern",
                    Some(at.map(0..0)),
                ));
            }
            expr::parse(&at.text).map_err(|e| at.error(k, e, 0))
        })
        .collect()
}

impl Element for IPClassifier {
    fn configure(&mut self, args: &mut Args, cx: &ConfigureContext<'_>) -> Result<(), ArgError> {
        let pats = read_patterns(args, cx.noutputs)?;
        let rules: Vec<_> = pats
            .iter()
            .enumerate()
            .map(|(k, e)| (lower::lower(e), Some(k)))
            .collect();
        self.program = compile(&rules);
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
    use crate::library::classifier::testpkt::{icmp, tcp, udp, Ip};
    use crate::testing::{build_errors, run_packets};
    use alloc::vec;

    /// Runs `pats` (one per output) on `pkts`; returns, per packet, the output it reached.
    fn outputs(pats: &[&str], pkts: &[Vec<u8>]) -> Vec<Option<usize>> {
        let n = pats.len();
        let mut cfg = alloc::format!("Idle -> c :: IPClassifier({});", pats.join(", "));
        for k in 0..n {
            cfg += &alloc::format!("c[{k}] -> o{k} :: Capture;");
        }
        // Tag each packet with its index in the IP ID so it can be found again.
        let tagged: Vec<Vec<u8>> = pkts.to_vec();
        let refs: Vec<&[u8]> = tagged.iter().map(|p| p.as_slice()).collect();
        let names: Vec<String> = (0..n).map(|k| alloc::format!("o{k}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let got = run_packets(&cfg, "c", &refs, &names);
        tagged
            .iter()
            .map(|p| got.iter().position(|o| o.contains(p)))
            .collect()
    }

    fn one(pat: &str, pkt: &Ip) -> bool {
        outputs(&[pat], &[pkt.build()])[0] == Some(0)
    }

    fn a(x: u8) -> [u8; 4] {
        [10, 0, 0, x]
    }

    #[test]
    fn clicks_example() {
        let syn = Ip::tcp([10, 0, 0, 5], [1, 1, 1, 1], 1000, 80, 0x02);
        let finack = Ip::tcp([10, 0, 0, 5], [1, 1, 1, 1], 1000, 80, 0x11);
        let plain = Ip::tcp([10, 0, 0, 5], [1, 1, 1, 1], 1000, 80, 0x10);
        let other = Ip::udp([10, 0, 0, 5], [1, 1, 1, 1], 1000, 80);
        let far = Ip::tcp([11, 0, 0, 5], [1, 1, 1, 1], 1000, 80, 0x02);
        let pats = [
            "10.0.0.0/24 and syn",
            "10.0.0.0/24 and fin ack",
            "10.0.0.0/24 and tcp",
            "-",
        ];
        let pkts: Vec<Vec<u8>> = [syn, finack, plain, other, far]
            .iter()
            .map(Ip::build)
            .collect();
        assert_eq!(
            outputs(&pats, &pkts),
            [Some(0), Some(1), Some(2), Some(3), Some(3)]
        );
    }

    #[test]
    fn ports_and_inheritance() {
        let pats = ["dst tcp port 8000 or 8080", "dst tcp port > 1023", "tcp"];
        let pkts: Vec<Vec<u8>> = [8080, 8000, 5000, 80]
            .iter()
            .map(|&d| Ip::tcp(a(1), a(2), 1, d, 0).build())
            .chain([Ip::udp(a(1), a(2), 1, 8080).build()])
            .collect();
        assert_eq!(
            outputs(&pats, &pkts),
            [Some(0), Some(0), Some(1), Some(2), None]
        );
        let t = |s, d| Ip::tcp(a(1), a(2), s, d, 0);
        assert!(one("port 1000-2000", &t(1500, 1)));
        assert!(one("port 1000-2000", &t(1, 2000)));
        assert!(!one("port 1000-2000", &t(999, 2001)));
        assert!(one(
            "src port 1000-2000 and dst port != 1000-2000",
            &t(1000, 2001)
        ));
        assert!(one("dst port >= 1000 and <= 2000", &t(1, 1000)));
        assert!(!one("dst port >= 1000 and <= 2000", &t(1000, 2001)));
        assert!(one("src or dst port www", &t(80, 1)));
        assert!(one("src and dst port 7", &t(7, 7)));
        assert!(!one("src and dst port 7", &t(7, 8)));
        assert!(one("port != 7", &t(8, 9)));
        assert!(
            !one("port != 7", &t(7, 9)),
            "!= with src or dst: neither is 7"
        );
        assert!(one("src and dst port != 7", &t(7, 9)), "not both are 7");
        assert!(one("udp port domain", &Ip::udp(a(1), a(2), 53, 1)));
        assert!(!one("tcp port domain", &Ip::udp(a(1), a(2), 53, 1)));
        assert!(one("src port & 0xff00 == 0x0100", &t(0x0142, 1)));
        assert!(one(
            "transp port 7",
            &Ip {
                proto: 132,
                payload: udp(7, 1, b""),
                ..Ip::default()
            }
        ));
        // `port != 5` needs TCP/UDP; `not port 5` does not.
        let ping = Ip::icmp(a(1), a(2), 8);
        assert!(!one("port != 5", &ping));
        assert!(one("not port 5", &ping));
    }

    #[test]
    fn hosts_and_nets() {
        let p = Ip::tcp([192, 168, 1, 7], [10, 1, 2, 3], 1, 2, 0);
        assert!(one("host 192.168.1.7", &p));
        assert!(one("host 10.1.2.3", &p));
        assert!(one("src host 192.168.1.7", &p));
        assert!(!one("dst host 192.168.1.7", &p));
        assert!(one("src host 1.1.1.1 or 192.168.1.7", &p));
        assert!(!one("dst host 1.1.1.1 or 192.168.1.7", &p), "inherits dst");
        assert!(one(
            "src and dst net 0.0.0.0/1",
            &Ip::tcp([1, 0, 0, 1], [2, 0, 0, 1], 1, 2, 0)
        ));
        assert!(!one("src and dst net 0.0.0.0/1", &p));
        assert!(one("dst net 10.0.0.0/8", &p));
        assert!(one("dst net 10.0.0.0 mask 255.0.0.0", &p));
        assert!(one("10.1.0.0/16", &p));
        assert!(one("dst 10.1.2.0/24", &p));
        assert!(!one("src net 10/8", &p));
        assert!(one("src host != 1.1.1.1", &p));
        assert!(!one("host != 10.1.2.3", &p));
        assert!(one("net 0.0.0.0/0", &p));
    }

    #[test]
    fn ip_fields() {
        let mut p = Ip::tcp(a(1), a(2), 1, 2, 0);
        p.ttl = 3;
        p.dscp = 46;
        p.ecn = 3;
        p.id = 0x1234;
        assert!(one("ip ttl < 5", &p));
        assert!(one("ttl 3", &p));
        assert!(!one("ip ttl >= 5", &p));
        assert!(one("ip ttl > 1 and ip ttl <= 3", &p));
        assert!(one("ip dscp 46", &p));
        assert!(one("ip tos 0xbb", &p));
        assert!(one("ip tos & 0xfc = 0xb8", &p));
        assert!(one("ip ect", &p));
        assert!(one("ip ce", &p));
        assert!(one("ip id 0x1234", &p));
        assert!(one("ip id != 1", &p));
        assert!(one("ip vers 4", &p));
        assert!(one("ip hl 5", &p));
        assert!(one("ip len 40", &p));
        assert!(one("ip proto tcp", &p));
        assert!(one("ip proto 6", &p));
        assert!(one("ip proto < 10", &p));
        assert!(one("ip", &p));
        p.ecn = 1;
        assert!(one("ip ect", &p) && !one("ip ce", &p) && one("ip ect 1", &p));
        p.ecn = 0;
        assert!(!one("ip ect", &p));
        let mut opts = Ip::tcp(a(1), a(2), 1, 80, 0);
        opts.options = 8;
        assert!(
            one("ip hl 7 and dst port 80", &opts),
            "transport found past the options"
        );
    }

    #[test]
    fn fragments() {
        let mut first = Ip::tcp(a(1), a(2), 1, 80, 0x02);
        first.more_frags = true;
        let mut later = Ip::tcp(a(1), a(2), 1, 80, 0x02);
        later.frag_offset = 185;
        let whole = Ip::tcp(a(1), a(2), 1, 80, 0x02);
        for (p, frag) in [(&first, true), (&later, true), (&whole, false)] {
            assert_eq!(one("ip frag", p), frag);
            assert_eq!(one("frag", p), frag);
            assert_eq!(one("unfrag", p), !frag);
            assert_eq!(one("ip unfrag", p), !frag);
        }
        // Transport tests only in first fragments.
        assert!(one("dst port 80", &first));
        assert!(!one("dst port 80", &later));
        assert!(!one("syn", &later));
        assert!(!one("transp[0:2] = 1", &later));
        assert!(!one("dst port != 81", &later));
        assert!(one("not dst port 80", &later));
        assert!(one("tcp", &later));
    }

    #[test]
    fn tcp_flags_and_icmp() {
        let t = |flags| Ip::tcp(a(1), a(2), 1, 2, flags);
        assert!(one("tcp opt syn", &t(0x02)));
        assert!(one("tcp syn", &t(0x12)));
        assert!(one("syn", &t(0x12)));
        assert!(one("syn && ack", &t(0x12)));
        assert!(!one("syn ack", &t(0x02)));
        assert!(one("tcp fin", &t(0x01)));
        assert!(one("rst", &t(0x04)));
        assert!(one("psh", &t(0x08)));
        assert!(one("urg", &t(0x20)));
        assert!(one("tcp flags 0x12", &t(0x12)));
        assert!(
            !one("tcp flags syn", &t(0x12)),
            "flags compares the whole byte"
        );
        assert!(one("tcp flags & 0x02 != 0", &t(0x12)));
        assert!(one("tcp[13] & 0x12 == 0x12", &t(0x12)));
        assert!(one("tcp[13] & 0x12", &t(0x10)));
        assert!(!one("tcp[13] & 0x12", &t(0x01)));
        assert!(one("tcp win 8192", &t(0)));
        assert!(one("tcp win > 1000", &t(0)));
        let mut win = Ip::tcp(a(1), a(2), 1, 2, 0);
        win.payload = tcp(1, 2, 0, 5);
        assert!(one("tcp win < 10", &win));
        assert!(!one("syn", &Ip::udp(a(1), a(2), 1, 2)));
        let i = |ty| Ip::icmp(a(1), a(2), ty);
        assert!(one("icmp type echo", &i(8)));
        assert!(one("icmp echo-reply", &i(0)));
        assert!(one("icmp type unreachable", &i(3)));
        assert!(one("timeexceeded", &i(11)));
        assert!(one("icmp type 8", &i(8)));
        assert!(one("icmp type != 3", &i(8)));
        assert!(!one("icmp type != 8", &i(8)));
        assert!(!one("icmp type != 3", &Ip::udp(a(1), a(2), 1, 2)));
        let mut code = Ip::icmp(a(1), a(2), 3);
        code.payload = icmp(3, 4);
        assert!(one("icmp[1] = 4", &code));
        assert!(one("icmp[0:2] = 0x0304", &code));
    }

    #[test]
    fn header_fields_and_connectives() {
        let p = Ip::tcp([1, 2, 3, 4], a(2), 0x1234, 80, 0x02);
        assert!(one("ip[9] = 6", &p));
        assert!(one("ip[9] = 17 or 6", &p));
        assert!(one("ip[12:4] = 1.2.3.4", &p));
        assert!(one("ip[12,13] = 0x0102", &p));
        assert!(one("ip[13:2] = 0x0203", &p), "across an aligned word");
        assert!(one("ip[11:2] > 0", &p), "across aligned words");
        assert!(one("transp[0:2] = 0x1234", &p));
        assert!(one("tcp[2:2] == 80", &p));
        assert!(!one("udp[2:2] == 80", &p));
        assert!(one("tcp and not udp", &p));
        assert!(one("tcp && !udp", &p));
        assert!(one("udp || tcp", &p));
        assert!(one("(udp or icmp) or (tcp and dst port 80)", &p));
        assert!(!one("not (tcp and dst port 80)", &p));
        assert!(one("tcp ? dst port 80 : false", &p));
        assert!(!one("udp ? true : dst port 81", &p));
        assert!(one("true", &p) && one("all", &p) && one("any", &p) && one("-", &p));
        assert!(!one("false", &p) && !one("none", &p));
        assert!(one("'tcp port 80'", &p), "quoted");
    }

    #[test]
    fn unreachable_and_shared_tests() {
        // The second pattern can never match: nothing reaches output 1.
        let r = crate::testing::router(
            "Idle -> c :: IPClassifier(tcp, tcp and dst port 80, udp) -> Discard; c[1] -> Discard; c[2] -> Discard;",
        );
        let prog = r.read_handler("c.program").unwrap();
        assert!(!prog.contains("[1]"), "{prog}");
        assert_eq!(prog.lines().count(), 3, "start line + 2 tests: {prog}");
    }

    #[test]
    fn malformed_packets() {
        let good = Ip::tcp(a(1), a(2), 1, 80, 0x02).build();
        let pats = ["dst port 80", "tcp", "ip ttl > 0", "-"];
        let mut pkts: Vec<Vec<u8>> = (0..good.len()).map(|n| good[..n].to_vec()).collect();
        for b0 in [0x40, 0x41, 0x44, 0x4f, 0x00, 0xff] {
            let mut p = good.clone();
            p[0] = b0;
            pkts.push(p);
        }
        let got = outputs(&pats, &pkts);
        for (n, o) in got.iter().take(good.len()).enumerate() {
            let want = match n {
                0..=8 => 3,
                9 => 2,
                10..=23 => 1,
                _ => 0,
            };
            assert_eq!(*o, Some(want), "truncated to {n} bytes");
        }
        assert!(got[good.len()..].iter().all(|o| *o == Some(1)), "{got:?}");
    }

    #[test]
    fn wrong_counts_and_errors() {
        let errs = build_errors("Idle -> c :: IPClassifier(tcp, udp) -> Discard;");
        assert!(errs[0].contains("need 1 argument"), "{errs:?}");
        let cfg = "tcp, src host 1.2.3";
        let mut args = Args::new(cfg);
        let cx = ConfigureContext {
            name: "c",
            ninputs: 1,
            noutputs: 2,
            graph: None,
        };
        let e = IPClassifier::default()
            .configure(&mut args, &cx)
            .unwrap_err();
        assert_eq!(e.argument, "pattern 1");
        assert_eq!(&cfg[e.range.unwrap()], "1.2.3");
        let errs = build_errors("Idle -> c :: IPClassifier(echo) -> Discard;");
        assert!(
            errs[0].contains("ambiguous") && errs[0].contains("1:27"),
            "{errs:?}"
        );
        let _ = vec![0];
    }
}
