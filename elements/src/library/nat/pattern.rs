//! Input specifications and rewrite patterns of the IPRewriter family: parsing, printing, and
//! choosing a free source address and port for a new flow.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::net::Ipv4Addr;

use config_lang::args::{ArgValue, Ipv4Prefix};

use super::flow::FlowKey;

/// How new flows arriving on one input are handled (the input's INPUTSPEC).
#[derive(Clone, Debug)]
pub(crate) enum InputSpec {
    /// `drop`, `discard`: packets with no mapping are killed.
    Drop,
    /// `pass OUT` (also `passthrough`, `nochange`): packets with no mapping leave unchanged on
    /// `output`; no mapping is made.
    Pass { output: usize },
    /// `keep FOUT ROUT`: an identity mapping; the flow leaves on FOUT, its replies on ROUT.
    Keep { foutput: usize, routput: usize },
    /// `pattern SADDR SPORT DADDR DPORT FOUT ROUT` or `pattern NAME FOUT ROUT`.
    Pattern {
        pattern: Pattern,
        foutput: usize,
        routput: usize,
    },
}

impl InputSpec {
    /// Parses one INPUTSPEC. `named` finds a pattern defined by an IPRewriterPatterns element.
    pub(crate) fn parse(
        text: &str,
        noutputs: usize,
        named: &dyn Fn(&str) -> Option<Result<Pattern, String>>,
    ) -> Result<InputSpec, String> {
        let words: Vec<&str> = text.split_whitespace().collect();
        let Some((&first, rest)) = words.split_first() else {
            return Err("empty argument".into());
        };
        let output = |w: &str, what: &str| -> Result<usize, String> {
            let n = usize::parse_arg(w).map_err(|_| format!("bad {what} port '{w}'"))?;
            if n >= noutputs {
                return Err(format!(
                    "output port out of range ({what} port {n}, but {noutputs} output{})",
                    if noutputs == 1 { "" } else { "s" }
                ));
            }
            Ok(n)
        };
        match first {
            "drop" | "discard" => {
                if !rest.is_empty() {
                    return Err(format!("syntax error, expected '{first}'"));
                }
                Ok(InputSpec::Drop)
            }
            "pass" | "passthrough" | "nochange" => match rest {
                [] => Ok(InputSpec::Pass {
                    output: output("0", "output")?,
                }),
                [o] => Ok(InputSpec::Pass {
                    output: output(o, "output")?,
                }),
                _ => Err(format!("syntax error, expected '{first} [OUTPUT]'")),
            },
            "keep" => match rest {
                [f, r] => Ok(InputSpec::Keep {
                    foutput: output(f, "forward")?,
                    routput: output(r, "reply")?,
                }),
                _ => Err("syntax error, expected 'keep FOUTPUT ROUTPUT'".into()),
            },
            "pattern" | "xpattern" => {
                let (pat, ports) = match rest.len() {
                    3 => {
                        let pat = match named(rest[0]) {
                            Some(p) => p.map_err(|e| format!("pattern '{}': {e}", rest[0]))?,
                            None => return Err(format!("no such pattern '{}'", rest[0])),
                        };
                        (pat, &rest[1..])
                    }
                    6 => (Pattern::parse(&rest[..4])?, &rest[4..]),
                    _ => {
                        return Err("syntax error, expected 'pattern SADDR SPORT DADDR DPORT \
                                    FOUTPUT ROUTPUT' or 'pattern NAME FOUTPUT ROUTPUT'"
                            .into())
                    }
                };
                Ok(InputSpec::Pattern {
                    pattern: pat,
                    foutput: output(ports[0], "forward")?,
                    routput: output(ports[1], "reply")?,
                })
            }
            _ => Err(format!(
                "unknown specification '{first}' (expected drop, pass, keep or pattern; \
                 IPMapper elements are not available)"
            )),
        }
    }

    /// Click's text for the `patterns` handler.
    pub(crate) fn describe(&self) -> String {
        match self {
            InputSpec::Drop => "<drop>".into(),
            InputSpec::Pass { .. } => "<nochange>".into(),
            InputSpec::Keep { .. } => "<keep>".into(),
            InputSpec::Pattern { pattern, .. } => pattern.to_string(),
        }
    }
}

/// A rewrite pattern: each field is left alone (`-`) or set; the source address and port may be
/// pools, from which a free combination is chosen for each new flow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Pattern {
    /// First address of the source pool, and the pool's size (1 for a single address).
    saddr: Option<u32>,
    naddr: u32,
    /// First port of the source port range, and the range's size.
    sport: Option<u16>,
    nport: u32,
    daddr: Option<u32>,
    dport: Option<u16>,
    /// `#`: walk the pool in order from where the last choice stopped.
    sequential: bool,
    /// No suffix: try the flow's own source address/port first.
    same_first: bool,
    /// Where the sequential walk resumes.
    next: u64,
}

impl Pattern {
    /// Parses `SADDR SPORT DADDR DPORT`.
    pub(crate) fn parse(words: &[&str]) -> Result<Pattern, String> {
        let [sa, sp, da, dp] = words else {
            return Err("syntax error, expected 'SADDR SPORT DADDR DPORT'".into());
        };
        let mut p = Pattern {
            saddr: None,
            naddr: 1,
            sport: None,
            nport: 1,
            daddr: None,
            dport: None,
            sequential: false,
            same_first: true,
            next: 0,
        };
        if *sa != "-" {
            let body = p.take_suffix(sa);
            let (base, n) = parse_addr_pool(body).ok_or_else(|| bad("source address", sa))?;
            p.saddr = Some(base);
            p.naddr = n;
        }
        if *sp != "-" {
            let body = p.take_suffix(sp);
            let (base, n) = parse_port_range(body).ok_or_else(|| bad("source port", sp))?;
            p.sport = Some(base);
            p.nport = n;
        }
        if *da != "-" {
            p.daddr = Some(
                Ipv4Addr::parse_arg(da)
                    .map_err(|_| bad("destination address", da))?
                    .into(),
            );
        }
        if *dp != "-" {
            p.dport = Some(parse_port(dp).ok_or_else(|| bad("destination port", dp))?);
        }
        Ok(p)
    }

    /// Strips a `#` (sequential) or `?` (random) suffix, noting it.
    fn take_suffix<'w>(&mut self, w: &'w str) -> &'w str {
        if let Some(b) = w.strip_suffix('#') {
            self.sequential = true;
            self.same_first = false;
            b
        } else if let Some(b) = w.strip_suffix('?') {
            self.same_first = false;
            b
        } else {
            w
        }
    }

    /// Number of (address, port) combinations to choose from.
    fn pool_size(&self) -> u64 {
        u64::from(self.naddr) * u64::from(self.nport)
    }

    /// The rewritten flow for `flow`, choosing a source from the pool so that the reply key is not
    /// `taken`. `None` when every combination is taken.
    pub(crate) fn rewrite(
        &mut self,
        flow: &FlowKey,
        rng: &mut u64,
        taken: impl Fn(&FlowKey) -> bool,
    ) -> Option<FlowKey> {
        let mut r = *flow;
        if let Some(a) = self.saddr {
            r.saddr = a;
        }
        if let Some(p) = self.sport {
            r.sport = p;
        }
        if let Some(a) = self.daddr {
            r.daddr = a;
        }
        if let Some(p) = self.dport {
            r.dport = p;
        }
        let n = self.pool_size();
        if n <= 1 {
            return Some(r);
        }
        let abase = r.saddr;
        let pbase = r.sport;
        let candidate = |idx: u64| -> FlowKey {
            let mut c = r;
            c.saddr = abase.wrapping_add((idx / u64::from(self.nport)) as u32);
            c.sport = pbase.wrapping_add((idx % u64::from(self.nport)) as u16);
            c
        };
        let free = |c: &FlowKey| !taken(&c.reverse());
        if self.same_first {
            // Keep the flow's own address and/or port when the pool holds it.
            let ai = flow.saddr.wrapping_sub(abase);
            let pi = u32::from(flow.sport.wrapping_sub(pbase));
            let a_in = self.naddr > 1 && ai < self.naddr;
            let p_in = self.nport > 1 && pi < self.nport;
            if a_in || p_in {
                let ai = if a_in { u64::from(ai) } else { 0 };
                let pi = if p_in { u64::from(pi) } else { 0 };
                let c = candidate(ai * u64::from(self.nport) + pi);
                if free(&c) {
                    return Some(c);
                }
            }
        }
        let start = if self.sequential {
            if self.next >= n {
                0
            } else {
                self.next
            }
        } else {
            next_random(rng) % n
        };
        // Each taken candidate is a distinct mapping in the table, so this ends after at most
        // (table size + 1) probes when the pool is larger than the table.
        let mut idx = start;
        for _ in 0..n {
            let c = candidate(idx);
            if free(&c) {
                self.next = idx + 1;
                return Some(c);
            }
            idx = if idx + 1 == n { 0 } else { idx + 1 };
        }
        None
    }
}

impl core::fmt::Display for Pattern {
    /// Click's unparsing: `1.0.0.1 1024-65535 - -` (pools as ranges, no suffix).
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.saddr {
            None => f.write_str("-")?,
            Some(a) if self.naddr > 1 => write!(
                f,
                "{}-{}",
                Ipv4Addr::from(a),
                Ipv4Addr::from(a.wrapping_add(self.naddr - 1))
            )?,
            Some(a) => write!(f, "{}", Ipv4Addr::from(a))?,
        }
        match self.sport {
            None => f.write_str(" -")?,
            Some(p) if self.nport > 1 => write!(f, " {}-{}", p, u32::from(p) + self.nport - 1)?,
            Some(p) => write!(f, " {p}")?,
        }
        match self.daddr {
            None => f.write_str(" -")?,
            Some(a) => write!(f, " {}", Ipv4Addr::from(a))?,
        }
        match self.dport {
            None => f.write_str(" -"),
            Some(p) => write!(f, " {p}"),
        }
    }
}

fn bad(what: &str, w: &str) -> String {
    format!("bad {what} '{w}'")
}

/// A port 1-65535.
fn parse_port(w: &str) -> Option<u16> {
    let v = u16::parse_arg(w).ok()?;
    (v > 0).then_some(v)
}

/// `N` (1-65535) or `L-H` (0 <= L <= H <= 65535): (first, count).
fn parse_port_range(w: &str) -> Option<(u16, u32)> {
    match w.split_once('-') {
        None => parse_port(w).map(|p| (p, 1)),
        Some((l, h)) => {
            let l = u16::parse_arg(l).ok()?;
            let h = u16::parse_arg(h).ok()?;
            (h >= l).then(|| (l, u32::from(h - l) + 1))
        }
    }
}

/// `A`, `A-B` (B >= A), or a prefix `A/LEN` — as in Click, a prefix shorter than /31 leaves out
/// its network and broadcast addresses. (first address, count).
fn parse_addr_pool(w: &str) -> Option<(u32, u32)> {
    if let Ok(a) = Ipv4Addr::parse_arg(w) {
        return Some((a.into(), 1));
    }
    if let Some((a, b)) = w.split_once('-') {
        let a: u32 = Ipv4Addr::parse_arg(a).ok()?.into();
        let b: u32 = Ipv4Addr::parse_arg(b).ok()?.into();
        // A pool of all 2^32 addresses cannot be counted in a u32; nobody needs it.
        return (b >= a && b - a < u32::MAX).then(|| (a, b - a + 1));
    }
    let p = Ipv4Prefix::parse_arg(w).ok()?;
    let addr: u32 = p.addr.into();
    let mask: u32 = p.mask().into();
    if addr == 0 || p.len == 0 {
        return None;
    }
    Some(match p.len {
        32 => (addr, 1),
        31 => (addr & mask, 2),
        len => ((addr & mask) | 1, (1u32 << (32 - len)) - 2),
    })
}

/// xorshift64*: cheap, good enough to spread port choices; seeded per element.
pub(crate) fn next_random(state: &mut u64) -> u64 {
    let mut x = *state;
    if x == 0 {
        x = 0x9E37_79B9_7F4A_7C15;
    }
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    x.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

/// Finds pattern `name` among IPRewriterPatterns configurations (`NAME SADDR SPORT DADDR DPORT`
/// arguments). `None` if no element defines it.
pub(crate) fn find_named<'a>(
    configs: impl Iterator<Item = &'a str>,
    name: &str,
) -> Option<Result<Pattern, String>> {
    for cfg in configs {
        for arg in config_lang::args::split(cfg) {
            let words: Vec<&str> = arg.text.split_whitespace().collect();
            if words.first() == Some(&name) {
                return Some(Pattern::parse(&words[1..]));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: [u8; 4], sp: u16, d: [u8; 4], dp: u16) -> FlowKey {
        FlowKey {
            saddr: Ipv4Addr::from(s).into(),
            daddr: Ipv4Addr::from(d).into(),
            sport: sp,
            dport: dp,
            proto: 6,
        }
    }

    fn none(_: &str) -> Option<Result<Pattern, String>> {
        None
    }

    #[test]
    fn input_specs() {
        assert!(matches!(
            InputSpec::parse("drop", 2, &none),
            Ok(InputSpec::Drop)
        ));
        assert!(matches!(
            InputSpec::parse("discard", 2, &none),
            Ok(InputSpec::Drop)
        ));
        assert!(InputSpec::parse("drop 1", 2, &none)
            .unwrap_err()
            .contains("syntax error"));
        assert!(matches!(
            InputSpec::parse("pass 1", 2, &none),
            Ok(InputSpec::Pass { output: 1 })
        ));
        assert!(matches!(
            InputSpec::parse("nochange", 2, &none),
            Ok(InputSpec::Pass { output: 0 })
        ));
        assert!(InputSpec::parse("pass 2", 2, &none)
            .unwrap_err()
            .contains("out of range"));
        assert!(matches!(
            InputSpec::parse("keep 0 1", 2, &none),
            Ok(InputSpec::Keep {
                foutput: 0,
                routput: 1
            })
        ));
        assert!(InputSpec::parse("keep 0", 2, &none).is_err());
        assert!(InputSpec::parse("pattern 1.0.0.1 1024-65535# - - 0 1", 2, &none).is_ok());
        assert!(InputSpec::parse("xpattern - - 10.0.0.1 80 0 0", 1, &none).is_ok());
        assert!(InputSpec::parse("pattern 1.0.0.1 1024 - - 0 5", 2, &none)
            .unwrap_err()
            .contains("out of range"));
        assert!(InputSpec::parse("pattern nat 0 1", 2, &none)
            .unwrap_err()
            .contains("no such pattern"));
        assert!(InputSpec::parse("RoundRobinIPMapper", 2, &none)
            .unwrap_err()
            .contains("unknown specification"));
        assert!(InputSpec::parse("", 2, &none).is_err());
    }

    #[test]
    fn pattern_fields() {
        let p = Pattern::parse(&["1.0.0.1", "1024-65535#", "-", "-"]).unwrap();
        assert_eq!(p.to_string(), "1.0.0.1 1024-65535 - -");
        assert!(p.sequential && !p.same_first);
        let p = Pattern::parse(&["10.0.0.0/24", "-", "2.0.0.2", "80"]).unwrap();
        assert_eq!(p.to_string(), "10.0.0.1-10.0.0.254 - 2.0.0.2 80");
        let p = Pattern::parse(&["10.0.0.5-10.0.0.6", "5000?", "-", "-"]).unwrap();
        assert_eq!(p.to_string(), "10.0.0.5-10.0.0.6 5000 - -");
        assert!(!p.same_first && !p.sequential);
        let p = Pattern::parse(&["10.0.0.8/31", "-", "-", "-"]).unwrap();
        assert_eq!((p.saddr, p.naddr), (Some(0x0a00_0008), 2));
        for (w, why) in [
            (["x", "-", "-", "-"], "source address"),
            (["-", "0", "-", "-"], "source port"),
            (["-", "9-8", "-", "-"], "source port"),
            (["-", "70000", "-", "-"], "source port"),
            (["-", "-", "1.2.3", "-"], "destination address"),
            (["-", "-", "-", "0"], "destination port"),
            (["0.0.0.0/0", "-", "-", "-"], "source address"),
            (["2.0.0.0-1.0.0.0", "-", "-", "-"], "source address"),
        ] {
            assert!(Pattern::parse(&w).unwrap_err().contains(why), "{w:?}");
        }
        assert!(Pattern::parse(&["-", "-", "-"]).is_err());
    }

    #[test]
    fn sequential_ports_skip_taken_ones() {
        let mut p = Pattern::parse(&["1.0.0.1", "1024-1026#", "-", "-"]).unwrap();
        let mut rng = 1;
        let f = key([10, 0, 0, 1], 5000, [2, 0, 0, 2], 80);
        let r = p.rewrite(&f, &mut rng, |_| false).unwrap();
        assert_eq!((r.saddr, r.sport), (0x0100_0001, 1024));
        let r = p.rewrite(&f, &mut rng, |_| false).unwrap();
        assert_eq!(r.sport, 1025);
        // 1026 taken: wraps to 1024.
        let r = p
            .rewrite(&f, &mut rng, |k| k.dport == 1026 && k.daddr == 0x0100_0001)
            .unwrap();
        assert_eq!(r.sport, 1024);
        assert!(p.rewrite(&f, &mut rng, |_| true).is_none());
    }

    #[test]
    fn same_port_preferred_without_suffix() {
        let mut p = Pattern::parse(&["1.0.0.1", "1024-65535", "-", "-"]).unwrap();
        let mut rng = 7;
        let f = key([10, 0, 0, 1], 5000, [2, 0, 0, 2], 80);
        assert_eq!(p.rewrite(&f, &mut rng, |_| false).unwrap().sport, 5000);
        let other = p.rewrite(&f, &mut rng, |k| k.dport == 5000).unwrap();
        assert!(other.sport >= 1024 && other.sport != 5000);
        // A source port outside the range is never kept.
        let f = key([10, 0, 0, 1], 53, [2, 0, 0, 2], 80);
        assert!(p.rewrite(&f, &mut rng, |_| false).unwrap().sport >= 1024);
    }

    #[test]
    fn address_and_port_pools_combine() {
        let mut p = Pattern::parse(&["1.0.0.1-1.0.0.2", "7000-7001#", "-", "-"]).unwrap();
        let mut rng = 3;
        let f = key([10, 0, 0, 1], 5000, [2, 0, 0, 2], 80);
        let mut seen = Vec::new();
        let mut taken: Vec<FlowKey> = Vec::new();
        for _ in 0..4 {
            let r = p.rewrite(&f, &mut rng, |k| taken.contains(k)).unwrap();
            taken.push(r.reverse());
            seen.push((r.saddr & 0xff, r.sport));
        }
        seen.sort_unstable();
        assert_eq!(seen, [(1, 7000), (1, 7001), (2, 7000), (2, 7001)]);
        assert!(p.rewrite(&f, &mut rng, |k| taken.contains(k)).is_none());
    }

    #[test]
    fn named_patterns_are_found_in_configurations() {
        let cfgs = ["a 1.0.0.1 1024-2047 - -, b - - 2.0.0.2 80"];
        let p = find_named(cfgs.iter().copied(), "b").unwrap().unwrap();
        assert_eq!(p.to_string(), "- - 2.0.0.2 80");
        assert!(find_named(cfgs.iter().copied(), "c").is_none());
    }
}
