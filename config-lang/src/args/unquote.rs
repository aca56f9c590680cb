//! Click's string syntax: `"double quotes"` with C escapes, `'single quotes'` taken literally,
//! bare words, and `\<hex bytes>`; adjacent pieces concatenate (`"a"'b'c` is `abc`).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// The bytes a Click string denotes.
pub fn unquote(s: &str) -> Result<Vec<u8>, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut k = 0;
    while k < b.len() {
        match b[k] {
            b'"' => {
                k += 1;
                loop {
                    match b.get(k) {
                        None => return Err("unterminated double-quoted string".into()),
                        Some(b'"') => {
                            k += 1;
                            break;
                        }
                        Some(b'\\') => k = escape(s, k, &mut out)?,
                        Some(c) => {
                            out.push(*c);
                            k += 1;
                        }
                    }
                }
            }
            b'\'' => match s[k + 1..].find('\'') {
                Some(n) => {
                    out.extend_from_slice(&b[k + 1..k + 1 + n]);
                    k += n + 2;
                }
                None => return Err("unterminated single-quoted string".into()),
            },
            b'\\' if b.get(k + 1) == Some(&b'<') => k = hex_block(s, k, &mut out)?,
            c => {
                out.push(c);
                k += 1;
            }
        }
    }
    Ok(out)
}

/// [`unquote`] as text, keeping the input when it is not valid.
pub fn unquote_lossy(s: &str) -> String {
    match unquote(s) {
        Ok(v) => String::from_utf8(v)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
        Err(_) => String::from(s),
    }
}

/// One backslash escape inside double quotes, starting at `k` (the backslash).
fn escape(s: &str, k: usize, out: &mut Vec<u8>) -> Result<usize, String> {
    let b = s.as_bytes();
    let Some(&c) = b.get(k + 1) else {
        return Err("string ends with a backslash".into());
    };
    let simple = match c {
        b'n' => Some(b'\n'),
        b't' => Some(b'\t'),
        b'r' => Some(b'\r'),
        b'a' => Some(7),
        b'b' => Some(8),
        b'f' => Some(12),
        b'v' => Some(11),
        b'e' => Some(27),
        b'0'..=b'7' => None,
        b'x' => None,
        b'<' => None,
        b'\n' => return Ok(k + 2), // line continuation
        other => Some(other),      // \\ \" \' and anything else stand for themselves
    };
    if let Some(v) = simple {
        out.push(v);
        return Ok(k + 2);
    }
    match c {
        b'x' => {
            let digits: usize = s[k + 2..]
                .chars()
                .take(2)
                .take_while(char::is_ascii_hexdigit)
                .count();
            if digits == 0 {
                return Err("'\\x' needs hex digits".into());
            }
            out.push(
                u8::from_str_radix(&s[k + 2..k + 2 + digits], 16).map_err(|e| format!("{e}"))?,
            );
            Ok(k + 2 + digits)
        }
        b'<' => hex_block(s, k, out),
        _ => {
            let digits = s[k + 1..]
                .chars()
                .take(3)
                .take_while(|c| ('0'..='7').contains(c))
                .count();
            let v =
                u32::from_str_radix(&s[k + 1..k + 1 + digits], 8).map_err(|e| format!("{e}"))?;
            out.push((v & 0xff) as u8);
            Ok(k + 1 + digits)
        }
    }
}

/// `\<0a 0B ff>`: hex digit pairs, whitespace and comments ignored; `k` is at the backslash.
fn hex_block(s: &str, k: usize, out: &mut Vec<u8>) -> Result<usize, String> {
    let end = s[k..]
        .find('>')
        .ok_or_else(|| String::from("unterminated '\\<' hex block"))?
        + k;
    let body = &s[k + 2..end];
    let mut nibble: Option<u8> = None;
    let mut i = 0;
    while i < body.len() {
        let rest = &body[i..];
        let c = rest.chars().next().expect("in bounds");
        if c.is_whitespace() {
            i += c.len_utf8();
            continue;
        }
        // Comments may sit between the bytes, as anywhere in a configuration.
        if rest.starts_with("/*") {
            i += 2
                + rest[2..]
                    .find("*/")
                    .ok_or("unterminated comment in '\\<...>'")?
                + 2;
            continue;
        }
        if rest.starts_with("//") {
            i += rest.find('\n').unwrap_or(rest.len());
            continue;
        }
        let v = c
            .to_digit(16)
            .ok_or_else(|| format!("'{c}' is not a hex digit in '\\<...>'"))? as u8;
        nibble = match nibble {
            None => Some(v),
            Some(h) => {
                out.push(h << 4 | v);
                None
            }
        };
        i += 1;
    }
    if nibble.is_some() {
        return Err("odd number of hex digits in '\\<...>'".into());
    }
    Ok(end + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_forms() {
        assert_eq!(unquote(r#""a\tb\n""#).unwrap(), b"a\tb\n");
        assert_eq!(unquote(r#"'a\tb'"#).unwrap(), br"a\tb");
        assert_eq!(unquote(r#""x"'y'z"#).unwrap(), b"xyz");
        assert_eq!(unquote(r#""\x41\102\"""#).unwrap(), b"AB\"");
        assert_eq!(unquote(r"\<0a 0B ff>").unwrap(), [0x0a, 0x0b, 0xff]);
        assert_eq!(
            unquote("\\<45 00 /* ip */ 00\n 1c>").unwrap(),
            [0x45, 0, 0, 0x1c]
        );
        assert_eq!(unquote(r#""pre\<41 42>post""#).unwrap(), b"preABpost");
        assert!(unquote("\"open").is_err());
        assert!(unquote(r"\<abc>").is_err());
        assert!(unquote(r"\<zz>").is_err());
    }
}
