//! Classifier — sends each packet to the output of the first byte pattern it matches.
//!
//! Ports: 1 input, any number of outputs (one per pattern).
//! Processing: push.
//! Arguments: one pattern per output: clauses `OFFSET/VALUE` separated by spaces, all of which
//! must hold. OFFSET is a decimal byte offset from the start of the packet data, VALUE an even
//! number of hex digits, where `?` is a don't-care nibble; `OFFSET/VALUE%MASK` compares only
//! the 1 bits of MASK (same number of digits); `!OFFSET/VALUE` negates the clause. `-` (or an
//! empty pattern) matches every packet. Example: `Classifier(12/0806 20/0001, 12/0800, -)`.
//! Handlers: `program` (read) the compiled decision program, one test per line.
//!
//! Packets that match no pattern are killed. A clause needs every byte its mask does not
//! ignore: it is false on a packet too short for it (and a negated clause true).

use alloc::string::String;
use alloc::vec::Vec;

use config_lang::args::{ArgError, Args};

use super::program::{compile, Program, View};
use super::{check_count, pattern, ArgText};
use crate::batch::Batch;
use crate::element::{ConfigureContext, Element, ElementClass, HandlerSpec};
use crate::router::Context;

pub const CLASS: ElementClass =
    crate::library::standard::element_class!("Classifier", "1/-", "h/h", Classifier);

#[derive(Default)]
pub struct Classifier {
    program: Program,
}

impl Element for Classifier {
    fn configure(&mut self, args: &mut Args, cx: &ConfigureContext<'_>) -> Result<(), ArgError> {
        let raw = args.rest();
        check_count(raw.len(), cx.noutputs)?;
        let mut rules = Vec::with_capacity(raw.len());
        for (k, a) in raw.iter().enumerate() {
            let at = ArgText::new(a, false);
            let p = pattern::parse(&at.text).map_err(|e| at.error(k, e, 0))?;
            rules.push((pattern::lower(&p), Some(k)));
        }
        self.program = compile(&rules);
        Ok(())
    }

    fn push(&mut self, _port: usize, batch: Batch, cx: &mut Context<'_>) {
        let prog = &self.program;
        cx.classify(batch, |p| prog.run(&View::data(p.data())));
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
    use crate::testing::{build_errors, router, run_packets};

    fn arp(op: u8) -> Vec<u8> {
        let mut f = alloc::vec![0u8; 42];
        f[12] = 0x08;
        f[13] = 0x06;
        f[20] = 0;
        f[21] = op;
        f
    }

    const CFG: &str = "Idle -> c :: Classifier(12/0806 20/0001, 12/0806 20/0002, 12/0800, -); \
                       c[0] -> req :: Capture; c[1] -> rep :: Capture; c[2] -> ip :: Capture; \
                       c[3] -> other :: Capture;";

    #[test]
    fn ethernet_demux() {
        let ip = ether(&Ip::tcp([1, 1, 1, 1], [2, 2, 2, 2], 1, 2, 0).build());
        let mut v6 = ip.clone();
        v6[12] = 0x86;
        v6[13] = 0xdd;
        let got = run_packets(
            CFG,
            "c",
            &[&arp(1), &arp(2), &ip, &v6, &arp(3), &[0x08]],
            &["req", "rep", "ip", "other"],
        );
        assert_eq!(got[0], [arp(1)]);
        assert_eq!(got[1], [arp(2)]);
        assert_eq!(got[2], [ip]);
        assert_eq!(got[3].len(), 3);
    }

    #[test]
    fn masks_wildcards_negation() {
        let cfg =
            "Idle -> c :: Classifier(0/f0%f0, !0/0? 1/ff, 0/?1, 2/01020304) -> a :: Capture; \
                   c[1] -> b :: Capture; c[2] -> x :: Capture; c[3] -> y :: Capture;";
        let got = run_packets(
            cfg,
            "c",
            &[
                &[0xf5],
                &[0x15, 0xff],
                &[0x05, 0xff],
                &[0x01],
                &[0x31, 0],
                &[0, 0, 1, 2, 3, 4],
                &[0, 0, 1, 2, 3],
            ],
            &["a", "b", "x", "y"],
        );
        assert_eq!(got[0], [alloc::vec![0xf5]]);
        assert_eq!(got[1], [alloc::vec![0x15, 0xff]]);
        assert_eq!(got[2], [alloc::vec![0x01], alloc::vec![0x31, 0]]);
        assert_eq!(got[3], [alloc::vec![0, 0, 1, 2, 3, 4]]);
    }

    #[test]
    fn short_packets_and_negated_clauses() {
        // `!12/86dd`: true for packets too short to hold the EtherType.
        let cfg = "Idle -> c :: Classifier(!12/86dd, -) -> a :: Capture; c[1] -> b :: Capture;";
        let mut v6 = alloc::vec![0u8; 14];
        v6[12] = 0x86;
        v6[13] = 0xdd;
        let got = run_packets(cfg, "c", &[&[], &[0; 13], &v6], &["a", "b"]);
        assert_eq!(got[0].len(), 2);
        assert_eq!(got[1], [v6]);
    }

    #[test]
    fn empty_pattern_and_dash_match_all() {
        let cfg = "Idle -> c :: Classifier(-) -> a :: Capture;";
        let got = run_packets(cfg, "c", &[&[], &[1, 2, 3]], &["a"]);
        assert_eq!(got[0].len(), 2);
    }

    #[test]
    fn shared_tests() {
        let r = router(CFG);
        let prog = r.read_handler("c.program").unwrap();
        // The EtherType word is tested once per path: 12/0806, then 20/0001 or 20/0002, or 12/0800.
        assert_eq!(prog.lines().count(), 1 + 4, "{prog}");
    }

    #[test]
    fn errors() {
        let errs = build_errors("Idle -> c :: Classifier(12/0800, -) -> Discard;");
        assert!(errs[0].contains("need 1 argument"), "{errs:?}");
        let cfg = "12/0800, 12/080";
        let mut args = Args::new(cfg);
        let cx = ConfigureContext {
            name: "c",
            ninputs: 1,
            noutputs: 2,
            graph: None,
        };
        let e = Classifier::default().configure(&mut args, &cx).unwrap_err();
        assert_eq!(e.argument, "pattern 1");
        assert!(e.message.contains("odd"));
        assert_eq!(&cfg[e.range.unwrap()], "080");
        let errs = build_errors("Idle -> c :: Classifier(12/0800%ffffff) -> Discard;");
        assert!(
            errs[0].contains("1:33") && errs[0].contains("too many"),
            "{errs:?}"
        );
    }
}
