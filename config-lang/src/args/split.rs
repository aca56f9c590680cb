//! Splitting a configuration string into arguments, as Click's `cp_argvec` does.

use alloc::string::String;
use alloc::vec::Vec;
use core::ops::Range;

use crate::parse::is_keyword;

/// One argument: its text (comments removed, whitespace trimmed) and where it was in the
/// configuration string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawArg {
    pub text: String,
    pub range: Range<usize>,
}

impl RawArg {
    /// `Some((KEYWORD, value))` when the argument has keyword form: an upper-case word followed by
    /// whitespace (or nothing).
    pub fn keyword(&self) -> Option<(&str, &str)> {
        let t = self.text.as_str();
        let end = t.find(char::is_whitespace).unwrap_or(t.len());
        let (k, v) = t.split_at(end);
        if is_keyword(k) && (end < t.len() || k.chars().any(|c| c.is_ascii_alphabetic())) {
            Some((k, v.trim_start()))
        } else {
            None
        }
    }
}

/// Splits at commas outside quotes, comments, `\<...>` and brackets. A trailing empty argument
/// (`a, b,`) is dropped; an empty string has no arguments.
pub fn split(config: &str) -> Vec<RawArg> {
    let b = config.as_bytes();
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut start = 0usize;
    let mut depth = 0i32;
    let mut k = 0usize;
    let push = |cur: &mut String, start: usize, end: usize, out: &mut Vec<RawArg>| {
        let raw = &config[start..end];
        let lead = raw.len() - raw.trim_start().len();
        let trail = raw.len() - raw.trim_end().len();
        let text = String::from(cur.trim());
        let range = (start + lead)..(end - trail).max(start + lead);
        out.push(RawArg { text, range });
        cur.clear();
    };
    while k < b.len() {
        let c = b[k];
        match c {
            b'"' => {
                let s = k;
                k += 1;
                while k < b.len() && b[k] != b'"' {
                    k += if b[k] == b'\\' { 2 } else { 1 };
                }
                k = (k + 1).min(b.len());
                cur.push_str(&config[s..k]);
                continue;
            }
            b'\'' => {
                let s = k;
                k = config[k + 1..].find('\'').map_or(b.len(), |n| k + n + 2);
                cur.push_str(&config[s..k]);
                continue;
            }
            b'\\' if b.get(k + 1) == Some(&b'<') => {
                let s = k;
                k = config[k..].find('>').map_or(b.len(), |n| k + n + 1);
                cur.push_str(&config[s..k]);
                continue;
            }
            b'/' if b.get(k + 1) == Some(&b'/') => {
                k = config[k..].find('\n').map_or(b.len(), |n| k + n);
                cur.push(' ');
                continue;
            }
            b'/' if b.get(k + 1) == Some(&b'*') => {
                k = config[k + 2..].find("*/").map_or(b.len(), |n| k + n + 4);
                cur.push(' ');
                continue;
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            b',' if depth <= 0 => {
                push(&mut cur, start, k, &mut out);
                start = k + 1;
                k += 1;
                continue;
            }
            _ => {}
        }
        let ch = config[k..].chars().next().expect("in bounds");
        cur.push(ch);
        k += ch.len_utf8();
    }
    push(&mut cur, start, b.len(), &mut out);
    if out.last().is_some_and(|a| a.text.is_empty()) {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<String> {
        split(s).into_iter().map(|a| a.text).collect()
    }

    #[test]
    fn splits_at_top_level_commas_only() {
        assert_eq!(texts("a, b ,c"), ["a", "b", "c"]);
        assert_eq!(
            texts(r#""x, y", 'p,q', \<2c 2c>, f(1, 2)"#),
            [r#""x, y""#, "'p,q'", r"\<2c 2c>", "f(1, 2)"]
        );
        assert_eq!(texts(""), Vec::<String>::new());
        assert_eq!(texts("  "), Vec::<String>::new());
        assert_eq!(texts("a, b,"), ["a", "b"]);
        assert_eq!(texts("a,,b"), ["a", "", "b"]);
    }

    #[test]
    fn removes_comments() {
        assert_eq!(texts("a /* , */, b // c, d\n, e"), ["a", "b", "e"]);
    }

    #[test]
    fn ranges_point_at_the_trimmed_text() {
        let s = "  10 ,  LIMIT 5 ";
        let a = split(s);
        assert_eq!(&s[a[0].range.clone()], "10");
        assert_eq!(&s[a[1].range.clone()], "LIMIT 5");
    }

    #[test]
    fn keyword_form() {
        let a = split("LIMIT 10, allow all, DATA, STOP\ttrue, 12/0800");
        assert_eq!(a[0].keyword(), Some(("LIMIT", "10")));
        assert_eq!(a[1].keyword(), None);
        assert_eq!(a[2].keyword(), Some(("DATA", "")));
        assert_eq!(a[3].keyword(), Some(("STOP", "true")));
        assert_eq!(a[4].keyword(), None);
    }
}
