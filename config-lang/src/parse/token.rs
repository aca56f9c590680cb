//! Tokens of the Click language: whitespace and comments, identifiers, variables, and the raw
//! text of a configuration string.

use alloc::borrow::Cow;
use alloc::format;
use alloc::string::String;

use nom::bytes::complete::{tag, take_while, take_while1};
use nom::combinator::recognize;
use nom::error::{ErrorKind, ParseError};
use nom::sequence::pair;
use nom::Err as NomErr;
use nom::Parser as _;

use super::PResult;

/// A parse error: where, how many bytes to underline, and what went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PError<'a> {
    pub at: &'a str,
    pub len: usize,
    pub message: String,
    pub label: Option<&'static str>,
}

impl<'a> PError<'a> {
    pub fn at(at: &'a str, len: usize, message: String) -> PError<'a> {
        PError {
            at,
            len,
            message,
            label: None,
        }
    }

    pub fn label(mut self, label: &'static str) -> PError<'a> {
        self.label = Some(label);
        self
    }
}

impl<'a> ParseError<&'a str> for PError<'a> {
    fn from_error_kind(input: &'a str, kind: ErrorKind) -> Self {
        // Not token_len(): that calls ident(), whose own errors come through here.
        let len = input.chars().next().map_or(0, char::len_utf8);
        PError::at(input, len, format!("syntax error ({})", kind.description()))
    }

    fn append(_input: &'a str, _kind: ErrorKind, other: Self) -> Self {
        other
    }
}

pub fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '@'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '@'
}

/// An identifier: `[A-Za-z0-9_@][A-Za-z0-9_@/]*`, not all digits (Click allows `2nd_stage`). A
/// `/` belongs to the name only when a name character follows it, so `a//comment`, `a/*c*/` and a
/// trailing slash are not swallowed.
pub fn ident(i: &str) -> PResult<'_, &str> {
    let first = i.chars().next();
    let digit_start = first.is_some_and(|c| c.is_ascii_digit());
    if !(first.is_some_and(is_ident_start) || digit_start) {
        return Err(NomErr::Error(PError::from_error_kind(i, ErrorKind::Alpha)));
    }
    let b = i.as_bytes();
    let mut k = 1;
    while k < b.len() {
        let c = b[k] as char;
        if is_ident_char(c) || (c == '/' && k + 1 < b.len() && is_ident_char(b[k + 1] as char)) {
            k += 1;
        } else {
            break;
        }
    }
    if digit_start && i[..k].bytes().all(|b| b.is_ascii_digit()) {
        return Err(NomErr::Error(PError::from_error_kind(i, ErrorKind::Alpha)));
    }
    Ok((&i[k..], &i[..k]))
}

/// Click's keyword syntax (`LIMIT`, `STOP`, `ACTIVE`): upper-case letters, digits and `_`, starting
/// with a letter or `_`.
pub fn is_keyword(w: &str) -> bool {
    let mut cs = w.chars();
    matches!(cs.next(), Some(c) if c.is_ascii_uppercase() || c == '_')
        && w.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_' || c == ':')
}

/// `$name`; returns the name without `$`.
pub fn variable(i: &str) -> PResult<'_, &str> {
    let (r, whole) = recognize(pair(
        tag("$"),
        take_while1(|c: char| c.is_ascii_alphanumeric() || c == '_'),
    ))
    .parse(i)?;
    Ok((r, &whole[1..]))
}

/// Skips whitespace, `//` and `/* */` comments, and lines starting with `#` (C preprocessor line
/// directives, which Click also skips). `src` is the whole file, to tell whether `#` starts a line.
pub fn skip_ws<'a>(src: &'a str, mut i: &'a str) -> PResult<'a, ()> {
    loop {
        let (r, _) = take_while(char::is_whitespace).parse(i)?;
        i = r;
        if let Some(r) = i.strip_prefix("//") {
            i = r.find('\n').map_or(&r[r.len()..], |n| &r[n..]);
        } else if let Some(r) = i.strip_prefix("/*") {
            match r.find("*/") {
                Some(n) => i = &r[n + 2..],
                None => {
                    return Err(NomErr::Failure(
                        PError::at(i, 2, "unterminated comment".into())
                            .label("this '/*' has no matching '*/'"),
                    ))
                }
            }
        } else if i.starts_with('#') && at_line_start(src, i) && is_line_directive(i) {
            i = i.find('\n').map_or(&i[i.len()..], |n| &i[n..]);
        } else {
            return Ok((i, ()));
        }
    }
}

/// `# 12 "file"` or `#line 12`: what the C preprocessor leaves behind. Any other `#` is an error
/// (Click has no `#` comments).
pub fn is_line_directive(i: &str) -> bool {
    let rest = i[1..].strip_prefix("line").unwrap_or(&i[1..]);
    rest.trim_start_matches([' ', '\t'])
        .starts_with(|c: char| c.is_ascii_digit())
}

pub fn at_line_start(src: &str, i: &str) -> bool {
    let off = i.as_ptr() as usize - src.as_ptr() as usize;
    src[..off]
        .chars()
        .rev()
        .take_while(|c| *c != '\n')
        .all(|c| c == ' ' || c == '\t')
}

/// The inside of a parenthesized configuration string; `i` starts at `(`. Parentheses nest;
/// quotes, comments and `\<hex>` are skipped whole, so a `)` inside them does not close it.
pub fn config_body(i: &str) -> PResult<'_, &str> {
    debug_assert!(i.starts_with('('));
    let b = i.as_bytes();
    let mut depth = 0usize;
    let mut k = 0;
    while k < b.len() {
        match b[k] {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Ok((&i[k + 1..], &i[1..k]));
                }
            }
            b'"' => {
                let start = k;
                k += 1;
                while k < b.len() && b[k] != b'"' {
                    if b[k] == b'\\' {
                        k += 1;
                    }
                    k += 1;
                }
                if k >= b.len() {
                    return Err(NomErr::Failure(
                        PError::at(&i[start..], 1, "unterminated string".into())
                            .label("this '\"' is never closed"),
                    ));
                }
            }
            b'\'' => {
                let start = k;
                match i[k + 1..].find('\'') {
                    Some(n) => k += n + 1,
                    None => {
                        return Err(NomErr::Failure(
                            PError::at(&i[start..], 1, "unterminated string".into())
                                .label("this \"'\" is never closed"),
                        ))
                    }
                }
            }
            b'/' if b.get(k + 1) == Some(&b'/') => {
                k = i[k..].find('\n').map_or(b.len(), |n| k + n);
                continue;
            }
            b'/' if b.get(k + 1) == Some(&b'*') => match i[k + 2..].find("*/") {
                Some(n) => k += n + 3,
                None => {
                    return Err(NomErr::Failure(
                        PError::at(&i[k..], 2, "unterminated comment".into())
                            .label("this '/*' has no matching '*/'"),
                    ))
                }
            },
            b'\\' if b.get(k + 1) == Some(&b'<') => {
                if let Some(n) = i[k..].find('>') {
                    k += n;
                }
            }
            _ => {}
        }
        k += 1;
    }
    Err(NomErr::Failure(
        PError::at(
            i,
            1,
            "unclosed '(': the configuration string never ends".into(),
        )
        .label("opened here"),
    ))
}

/// Length of the token at the start of `i`, for underlining it.
pub fn token_len(i: &str) -> usize {
    if i.is_empty() {
        return 0;
    }
    if let Ok((r, _)) = ident(i) {
        return i.len() - r.len();
    }
    for p in ["->", "::", "=>", "||", "..."] {
        if i.starts_with(p) {
            return p.len();
        }
    }
    let n = i.chars().take_while(|c| c.is_ascii_digit()).count();
    if n > 0 {
        return n;
    }
    i.chars().next().map_or(0, char::len_utf8)
}

/// How to name the token at the start of `i` in a message: `';'`, `'foo'`, `end of file`.
pub fn describe(i: &str) -> Cow<'static, str> {
    if i.is_empty() {
        return Cow::Borrowed("end of file");
    }
    let n = token_len(i);
    Cow::Owned(format!("'{}'", &i[..n]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_take_slashes_but_not_comments() {
        assert_eq!(ident("a/b/c -> x"), Ok((" -> x", "a/b/c")));
        assert_eq!(ident("a//x"), Ok(("//x", "a")));
        assert_eq!(ident("a/*x*/"), Ok(("/*x*/", "a")));
        assert_eq!(ident("Counter@3;"), Ok((";", "Counter@3")));
        assert_eq!(ident("ab/"), Ok(("/", "ab")));
        assert_eq!(ident("2nd_stage ->"), Ok((" ->", "2nd_stage")));
        assert!(ident("42 ").is_err());
    }

    #[test]
    fn keywords_are_upper_case() {
        assert!(is_keyword("LIMIT"));
        assert!(is_keyword("_X2"));
        assert!(!is_keyword("Limit"));
        assert!(!is_keyword("2X"));
    }

    #[test]
    fn config_body_skips_quotes_comments_and_hex() {
        let (r, body) = config_body(r#"(a, "b)", 'c)', \<29 28>, /* ) */ (d)) rest"#).unwrap();
        assert_eq!(body, r#"a, "b)", 'c)', \<29 28>, /* ) */ (d)"#);
        assert_eq!(r, " rest");
        assert!(config_body("(a, (b)").is_err());
        assert!(config_body("(\"abc)").is_err());
    }

    #[test]
    fn whitespace_skips_comments_and_line_directives() {
        let src = "  // c\n/* x\n y */\n # 1 \"f\"\n#line 3\n  a";
        let (r, ()) = skip_ws(src, src).unwrap();
        assert_eq!(r, "a");
        let src2 = "/* open";
        assert!(skip_ws(src2, src2).is_err());
    }

    #[test]
    fn variables() {
        assert_eq!(variable("$rate, x"), Ok((", x", "rate")));
        assert!(variable("rate").is_err());
    }
}
