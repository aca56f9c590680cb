//! Classifier's byte patterns: `[!]OFFSET/VALUE[%MASK]` clauses, ANDed.
//!
//! VALUE and MASK are hex digits (an even number, at least 2); `?` in either is a don't-care
//! nibble. MASK, when given, has as many digits as VALUE, and only its 1 bits are compared. `!`
//! negates its clause. `-` (or an empty pattern) matches every packet. A clause needs the
//! packet to have every byte its mask does not ignore; on a shorter packet it is false (so a
//! negated clause is true).

use alloc::format;
use alloc::vec::Vec;
use core::ops::Range;

use nom::bytes::complete::{tag, take_while};
use nom::character::complete::{digit1, multispace0, multispace1};
use nom::combinator::opt;
use nom::Parser as _;

use super::expr::ParseError;
use super::program::{Base, Formula, Test};

/// One clause: at `offset`, bytes `(value, mask)` (value already masked).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clause {
    pub negated: bool,
    pub offset: usize,
    pub bytes: Vec<(u8, u8)>,
}

/// A pattern: its clauses, all of which must hold (none: matches everything).
pub type Pattern = Vec<Clause>;

/// Largest offset + length a clause may reach.
const MAX_END: usize = 0xfff0;

fn fail<T>(at: Range<usize>, msg: impl Into<alloc::string::String>) -> Result<T, ParseError> {
    Err(ParseError {
        range: at,
        message: msg.into(),
    })
}

fn hexish(c: char) -> bool {
    c.is_ascii_hexdigit() || c == '?'
}

/// `(value, mask)` nibbles of a hex-or-`?` string.
fn nibbles(s: &str) -> Vec<(u8, u8)> {
    s.chars()
        .map(|c| match c.to_digit(16) {
            Some(d) => (d as u8, 0xf),
            None => (0, 0),
        })
        .collect()
}

pub fn parse(text: &str) -> Result<Pattern, ParseError> {
    let t = text.trim();
    if t.is_empty() || t == "-" {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    let mut rest = text;
    loop {
        let (r, _) = multispace0::<&str, ()>(rest).unwrap_or((rest, ""));
        rest = r;
        if rest.is_empty() {
            return Ok(out);
        }
        let at = |r: &str| text.len() - r.len();
        let first = |r: &str| {
            let p = at(r);
            p..p + r.chars().next().map_or(0, char::len_utf8)
        };
        let (r, neg) = opt(tag::<&str, &str, ()>("!"))
            .parse(rest)
            .unwrap_or((rest, None));
        let (r, _) = multispace0::<&str, ()>(r).unwrap_or((r, ""));
        let off_start = at(r);
        let Ok((r, off)) = digit1::<&str, ()>(r) else {
            return fail(first(r), "expected a digit (the byte offset)");
        };
        let off_range = off_start..off_start + off.len();
        let Ok((r, _)) = tag::<&str, &str, ()>("/").parse(r) else {
            return fail(first(r), "expected '/' after the offset");
        };
        let value_start = at(r);
        let (r, value) = take_while::<_, &str, ()>(hexish)
            .parse(r)
            .unwrap_or((r, ""));
        let value_range = value_start..value_start + value.len();
        let (r, mask) = match tag::<&str, &str, ()>("%").parse(r) {
            Ok((r2, _)) => {
                let ms = at(r2);
                let (r3, m) = take_while::<_, &str, ()>(hexish)
                    .parse(r2)
                    .unwrap_or((r2, ""));
                (r3, Some((m, ms..ms + m.len())))
            }
            Err(_) => (r, None),
        };
        // The clause must end here: whitespace or the end.
        if !r.is_empty() && multispace1::<&str, ()>(r).is_err() {
            return fail(first(r), "expected hex digits, '?', '%' or a space");
        }
        if value.len() < 2 {
            return fail(value_range, "value has less than 2 hex digits");
        }
        if value.len() % 2 == 1 {
            return fail(value_range, "value has an odd number of hex digits");
        }
        let offset: usize = off.parse().unwrap_or(usize::MAX);
        if offset.saturating_add(value.len() / 2) > MAX_END {
            return fail(off_range, "offset too large");
        }
        let mut nib = nibbles(value);
        if let Some((m, mask_range)) = mask {
            if m.len() != value.len() {
                let what = if m.len() > value.len() { "many" } else { "few" };
                return fail(
                    mask_range,
                    format!("mask has too {what} hex digits (value has {})", value.len()),
                );
            }
            for (n, (mv, mm)) in nib.iter_mut().zip(nibbles(m)) {
                n.1 &= mv & mm;
            }
        }
        let bytes = nib
            .chunks(2)
            .map(|c| {
                let m = (c[0].1 << 4) | c[1].1;
                (((c[0].0 << 4) | c[1].0) & m, m)
            })
            .collect();
        out.push(Clause {
            negated: neg.is_some(),
            offset,
            bytes,
        });
        rest = r;
    }
}

/// The formula of a pattern: each clause is the AND of tests on the aligned words it touches.
pub fn lower(p: &Pattern) -> Formula {
    let mut clauses = Vec::new();
    for c in p {
        // (word offset) -> (mask, value, need)
        let mut words: Vec<(usize, u32, u32, usize)> = Vec::new();
        for (i, &(v, m)) in c.bytes.iter().enumerate() {
            if m == 0 {
                continue;
            }
            let pos = c.offset + i;
            let w = pos & !3;
            let shift = 8 * (3 - (pos % 4)) as u32;
            match words.iter_mut().find(|x| x.0 == w) {
                Some(x) => {
                    x.1 |= (m as u32) << shift;
                    x.2 |= (v as u32) << shift;
                    x.3 = pos + 1;
                }
                None => words.push((w, (m as u32) << shift, (v as u32) << shift, pos + 1)),
            }
        }
        let tests: Vec<Formula> = words
            .into_iter()
            .map(|(w, m, v, need)| {
                Formula::Test(Test {
                    base: Base::Data,
                    offset: w as u16,
                    need: need as u16,
                    mask: m,
                    lo: v,
                    hi: v,
                })
            })
            .collect();
        let f = match tests.len() {
            0 => Formula::Const(true),
            1 => tests.into_iter().next().expect("one"),
            _ => Formula::And(tests),
        };
        clauses.push(if c.negated { Formula::negate(f) } else { f });
    }
    match clauses.len() {
        0 => Formula::Const(true),
        1 => clauses.pop().expect("one"),
        _ => Formula::And(clauses),
    }
}

/// Direct evaluation (the reference for tests).
pub fn matches(p: &Pattern, data: &[u8]) -> bool {
    p.iter().all(|c| {
        let ok = c
            .bytes
            .iter()
            .enumerate()
            .all(|(i, &(v, m))| m == 0 || data.get(c.offset + i).is_some_and(|&b| b & m == v));
        ok != c.negated
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(s: &str) -> (&str, alloc::string::String) {
        let er = parse(s).expect_err(s);
        (&s[er.range.clone()], er.message)
    }

    #[test]
    fn clauses() {
        assert_eq!(parse("-").unwrap(), Vec::new());
        assert_eq!(parse("").unwrap(), Vec::new());
        assert_eq!(
            parse("12/0800").unwrap(),
            alloc::vec![Clause {
                negated: false,
                offset: 12,
                bytes: alloc::vec![(8, 0xff), (0, 0xff)]
            }]
        );
        assert_eq!(
            parse("!12/86dd 14/4?").unwrap(),
            alloc::vec![
                Clause {
                    negated: true,
                    offset: 12,
                    bytes: alloc::vec![(0x86, 0xff), (0xdd, 0xff)]
                },
                Clause {
                    negated: false,
                    offset: 14,
                    bytes: alloc::vec![(0x40, 0xf0)]
                },
            ]
        );
        assert_eq!(
            parse("0/ff%f0").unwrap()[0].bytes,
            alloc::vec![(0xf0, 0xf0)]
        );
        assert_eq!(
            parse("0/1234%f?0f").unwrap()[0].bytes,
            alloc::vec![(0x10, 0xf0), (0x04, 0x0f)]
        );
        assert!(parse("! 3/aa").unwrap()[0].negated);
    }

    #[test]
    fn errors() {
        assert_eq!(
            e("12/080"),
            ("080", "value has an odd number of hex digits".into())
        );
        assert_eq!(e("12/0"), ("0", "value has less than 2 hex digits".into()));
        assert_eq!(e("12 /0800").0, " ");
        assert!(e("x/00").1.contains("digit"));
        assert_eq!(e("12/0800 y").0, "y");
        assert_eq!(e("12/08g0").0, "g");
        assert_eq!(
            e("12/0800%ff"),
            ("ff", "mask has too few hex digits (value has 4)".into())
        );
        assert_eq!(e("99999/00").0, "99999");
    }

    #[test]
    fn words_and_needs() {
        let t = |offset, need, mask, lo| {
            Formula::Test(Test {
                base: Base::Data,
                offset,
                need,
                mask,
                lo,
                hi: lo,
            })
        };
        assert_eq!(
            lower(&parse("13/0800").unwrap()),
            t(12, 15, 0x00ff_ff00, 0x0008_0000)
        );
        assert_eq!(
            lower(&parse("14/08000000").unwrap()),
            Formula::And(alloc::vec![
                t(12, 16, 0xffff, 0x0800),
                t(16, 18, 0xffff_0000, 0)
            ])
        );
        // A byte whose mask ignores it is not needed.
        assert_eq!(
            lower(&parse("0/ff00%ff00").unwrap()),
            t(0, 1, 0xff00_0000, 0xff00_0000)
        );
        assert_eq!(lower(&parse("0/00%00").unwrap()), Formula::Const(true));
        assert_eq!(lower(&parse("!0/00%00").unwrap()), Formula::Const(false));
    }
}
