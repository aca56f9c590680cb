//! Classification: Click's `Classifier`, `IPClassifier` and `IPFilter`.
//!
//! All three compile their configuration once into a [`program::Program`], a decision DAG of
//! tests "masked 4-byte word at header + offset lies in a range", and run it per packet with no
//! allocation (see [`program`] for the compiler). The pieces:
//!
//! * [`pattern`] — Classifier's `OFFSET/VALUE%MASK` byte patterns;
//! * [`expr`] — the tcpdump-like expression language of IPClassifier and IPFilter (lexer built
//!   with nom, recursive-descent parser, AST);
//! * [`lower`] — expressions to formulas over word tests;
//! * [`program`] — the compiler (short-circuit DAG, then path-sensitive pruning) and matcher;
//! * [`reference`](mod@reference) — a direct interpreter of the AST, the reference the property
//!   tests hold the compiled programs to.
//!
//! # The expression language (IPClassifier, IPFilter)
//!
//! | test | meaning |
//! |---|---|
//! | `true` `all` `any` `-` / `false` `none` | every packet / no packet |
//! | `ip` | every packet (they are all IP) |
//! | `tcp` `udp` `icmp` `igmp` `ipip` `gre` `sctp` `dccp`, `tcpudp`; `ip proto P` | IP protocol; `P` is a number or a name (`esp`, `ospf`, …); `proto` compares like a field |
//! | `[DIR] host A` | address; `DIR` is `src`, `dst` (`dest`), `src or dst` (default), `src and dst`; also a bare `A` |
//! | `[DIR] net A/LEN`, `net A mask M` | prefix; also a bare `A/LEN` |
//! | `[DIR] [PROTO] port P` | TCP or UDP (or `PROTO`'s) port; `P` is a number, a name (`www`, `domain`, …), or a range `LO-HI`; also a bare name (`www`) |
//! | `ip vers`/`hl`/`tos`/`dscp`/`ttl`/`id`/`len N` | IP header fields (`ip` may be left out) |
//! | `ip ect [N]`, `ip ce` | ECN bits nonzero (or = N); ECN = 3 |
//! | `ip frag`, `ip unfrag` (`frag`, `unfrag`) | more-fragments set or offset nonzero / not |
//! | `tcp opt F` (`tcp F`, `F`) | TCP with flag `F` set: `fin syn rst psh ack urg ece cwr` |
//! | `tcp flags N` | the TCP flags byte (a field: `tcp flags & 0x12 = 0x12`) |
//! | `tcp win N` | TCP window |
//! | `icmp type T` (`icmp T`, `T`) | ICMP type, a number or a name (`echo`, `echo-reply`, `unreachable`, …) |
//! | `ip[POS]`, `ip[POS:LEN]`, `ip[POS,POS2]` | LEN (1–4) bytes of the IP header, big-endian |
//! | `transp[...]`, `tcp[...]`, `udp[...]`, `icmp[...]` | the same in the transport header (and that protocol) |
//!
//! Numeric tests take `& MASK` and a relation `=`/`==` (default), `!=`, `<`, `<=`, `>`, `>=`;
//! `host`/`net` take only `=`/`!=`; a field (or masked field) without a value means `!= 0`.
//! Tests combine with `and`/`&&` (or nothing: adjacent tests are ANDed), `or`/`||`,
//! `not`/`!`, parentheses and `C ? A : B`. A test with no qualifier words continues the
//! previous one: `src host 1.1.1.1 or 2.2.2.2`, `dst tcp port 80 or https`,
//! `dst port >= 1000 and <= 2000`, `ip[9] = 6 or 17`. Ambiguous names are errors (`echo`: try
//! `port echo` or `icmp type echo`).
//!
//! Semantics:
//! * The IP header is at the packet's network-header annotation (set by CheckIPHeader or
//!   MarkIPHeader), or at offset 0 of the data when the annotation is unset.
//! * Transport tests (`port`, `tcp opt`, `tcp flags`, `tcp win`, `icmp type`, `transp[...]`)
//!   look at IP header + 4×IHL, and only in first fragments (offset 0) with IHL ≥ 5: they are
//!   false for every other packet, as in Click.
//! * A comparison on bytes the packet does not have (a truncated header) is false. `!=` means
//!   "present and different": `port != 80` is `(tcp or udp) and no port is 80`, not
//!   `not port 80` (which also matches non-TCP/UDP packets), as in Click. `unfrag` is
//!   `not frag`, so it holds for a packet too short to tell.
//! * Continuing a test (`port 80 or 443`) takes its qualifiers and type, not its `& MASK`.
//!   `src`/`dst` on a test without direction is ignored.
//!
//! Rules are tried in order and the first match wins, but all are compiled together: the cost
//! per packet is the length of one path through the DAG (the `program` handler prints it), not
//! the number of rules. A pattern that can never match gets no warning (there is no warning
//! channel at configure time); the `program` handler shows which outputs are reachable.
//!
//! Differences from Click, on purpose: `ether host` is rejected (packets carry no MAC header
//! annotation here; use Classifier on the Ethernet header); the `payload[...]` field, per-test
//! `not` inside a qualifier list, and IPClassifier's `patternN` write handlers are not
//! supported. Extensions: port ranges `LO-HI`, `tcp flags`, `none`, and fields that span two
//! aligned words. Name tables are built in (no `/etc/services`).

#[allow(clippy::module_inception)]
pub mod classifier;
pub mod expr;
pub mod ipclassifier;
pub mod ipfilter;
pub mod lower;
pub mod pattern;
pub mod program;
pub mod reference;

use alloc::format;
use alloc::string::String;
use core::ops::Range;

use config_lang::args::{ArgError, RawArg};

use crate::element::Registry;
use crate::packet::Packet;

pub use program::{Program, View};

pub fn register(r: &mut Registry) {
    for c in [classifier::CLASS, ipclassifier::CLASS, ipfilter::CLASS] {
        r.add(c);
    }
}

/// An argument's text for an expression parser, and how to map a range in that text back to
/// the configuration string: exactly when the text is the argument as written (no comments
/// removed, no quotes), else to the whole argument.
pub(crate) struct ArgText {
    pub text: String,
    arg: Range<usize>,
    exact: bool,
}

impl ArgText {
    /// `unquote`: Click unquotes IPFilter/IPClassifier arguments (`"tcp port 80"`).
    pub fn new(a: &RawArg, unquote: bool) -> ArgText {
        let exact = a.text.len() == a.range.len();
        if unquote && (a.text.contains('"') || a.text.contains('\'') || a.text.contains("\\<")) {
            if let Ok(b) = config_lang::args::unquote(&a.text) {
                if let Ok(s) = String::from_utf8(b) {
                    return ArgText {
                        text: s,
                        arg: a.range.clone(),
                        exact: false,
                    };
                }
            }
        }
        ArgText {
            text: a.text.clone(),
            arg: a.range.clone(),
            exact,
        }
    }

    /// A range of `text` as a range of the configuration string.
    pub fn map(&self, r: Range<usize>) -> Range<usize> {
        if self.exact {
            let s = self.arg.start + r.start.min(self.text.len());
            let e = self.arg.start + r.end.min(self.text.len());
            // An empty range at the end still shows a caret.
            s..e.max(s)
        } else {
            self.arg.clone()
        }
    }

    pub fn error(&self, k: usize, e: expr::ParseError, offset: usize) -> ArgError {
        ArgError::new(
            &format!("pattern {k}"),
            e.message,
            Some(self.map(e.range.start + offset..e.range.end + offset)),
        )
    }
}

/// The IP view of a packet: the header at the network-header annotation, or at 0.
#[inline(always)]
pub(crate) fn ip_view(p: &Packet) -> View<'_> {
    View::ip(p.data(), p.anno().network_offset().unwrap_or(0))
}

/// The number of patterns must equal the number of outputs.
pub(crate) fn check_count(n: usize, noutputs: usize) -> Result<(), ArgError> {
    if n != noutputs {
        return Err(ArgError::new(
            "",
            format!(
                "need {noutputs} argument{}, one per output port (got {n})",
                if noutputs == 1 { "" } else { "s" }
            ),
            None,
        ));
    }
    Ok(())
}

#[cfg(test)]
mod proptests;
#[cfg(test)]
pub(crate) mod testpkt;
