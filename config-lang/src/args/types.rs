//! Typed readers for argument values, with Click's syntaxes.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use core::net::Ipv4Addr;
use core::time::Duration;

use super::unquote::unquote;

/// A type an argument can be read as. `EXPECTED` names it in error messages ("expected an IPv4
/// address").
pub trait ArgValue: Sized {
    const EXPECTED: &'static str;
    fn parse_arg(s: &str) -> Result<Self, String>;
}

/// Splits a number from its unit suffix: `10kpps` gives `("10", "kpps")`.
fn number_and_unit(s: &str) -> (&str, &str) {
    let end = s
        .char_indices()
        .find(|(i, c)| !(c.is_ascii_digit() || *c == '.' || (*i == 0 && (*c == '-' || *c == '+'))))
        .map_or(s.len(), |(i, _)| i);
    (&s[..end], s[end..].trim_start())
}

/// An unsigned integer: decimal, `0x` hex, `0b` binary, `0` octal as in C, with an optional
/// multiplier suffix `k`, `M`, `G` (powers of 1000) or `Ki`, `Mi`, `Gi` (powers of 1024).
fn parse_u64(s: &str) -> Result<u64, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("empty value".into());
    }
    let (digits, radix) = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (h, 16)
    } else if let Some(b) = s.strip_prefix("0b").or_else(|| s.strip_prefix("0B")) {
        (b, 2)
    } else {
        (s, 10)
    };
    let end = digits
        .find(|c: char| !c.is_digit(radix) && c != '_')
        .unwrap_or(digits.len());
    let (num, suffix) = digits.split_at(end);
    let num: String = num.chars().filter(|c| *c != '_').collect();
    if num.is_empty() {
        return Err(format!("'{s}' is not a number"));
    }
    let radix = if radix == 10
        && num.len() > 1
        && num.starts_with('0')
        && num.chars().all(|c| c.is_digit(8))
    {
        8
    } else {
        radix
    };
    let v = u64::from_str_radix(&num, radix).map_err(|_| format!("'{s}' is out of range"))?;
    let mult: u64 = match suffix {
        "" => 1,
        "k" | "K" => 1_000,
        "M" => 1_000_000,
        "G" => 1_000_000_000,
        "Ki" => 1 << 10,
        "Mi" => 1 << 20,
        "Gi" => 1 << 30,
        other => return Err(format!("unknown suffix '{other}' in '{s}'")),
    };
    v.checked_mul(mult)
        .ok_or_else(|| format!("'{s}' is out of range"))
}

macro_rules! unsigned {
    ($($t:ty),*) => {$(
        impl ArgValue for $t {
            const EXPECTED: &'static str = "an unsigned integer";
            fn parse_arg(s: &str) -> Result<Self, String> {
                let v = parse_u64(s)?;
                <$t>::try_from(v).map_err(|_| format!("{v} is out of range (at most {})", <$t>::MAX))
            }
        }
    )*};
}
unsigned!(u8, u16, u32, u64, usize);

macro_rules! signed {
    ($($t:ty),*) => {$(
        impl ArgValue for $t {
            const EXPECTED: &'static str = "an integer";
            fn parse_arg(s: &str) -> Result<Self, String> {
                let s = s.trim();
                let (neg, body) = match s.strip_prefix('-') { Some(b) => (true, b), None => (false, s.strip_prefix('+').unwrap_or(s)) };
                let v = parse_u64(body)? as i128;
                let v = if neg { -v } else { v };
                <$t>::try_from(v).map_err(|_| format!("{v} is out of range"))
            }
        }
    )*};
}
signed!(i8, i16, i32, i64);

impl ArgValue for f64 {
    const EXPECTED: &'static str = "a real number";
    fn parse_arg(s: &str) -> Result<Self, String> {
        parse_decimal(s.trim()).ok_or_else(|| format!("'{s}' is not a number"))
    }
}

/// A decimal real without exponent (`1.5`, `-.25`), parsed exactly enough for configuration values.
fn parse_decimal(s: &str) -> Option<f64> {
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut v = 0f64;
    for c in int.chars() {
        v = v * 10.0 + (c as u8 - b'0') as f64;
    }
    let mut scale = 0.1;
    for c in frac.chars() {
        v += (c as u8 - b'0') as f64 * scale;
        scale /= 10.0;
    }
    Some(if neg { -v } else { v })
}

impl ArgValue for bool {
    const EXPECTED: &'static str = "a boolean (true/false)";
    fn parse_arg(s: &str) -> Result<Self, String> {
        match s.trim() {
            "true" | "yes" | "1" | "t" | "y" | "on" => Ok(true),
            "false" | "no" | "0" | "f" | "n" | "off" => Ok(false),
            other => Err(format!("'{other}' is not true or false")),
        }
    }
}

/// A string: quoted (with escapes) or bare.
impl ArgValue for String {
    const EXPECTED: &'static str = "a string";
    fn parse_arg(s: &str) -> Result<Self, String> {
        String::from_utf8(unquote(s.trim())?).map_err(|_| "string is not valid UTF-8".to_string())
    }
}

/// A single word: no unquoted spaces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Word(pub String);

impl ArgValue for Word {
    const EXPECTED: &'static str = "a single word";
    fn parse_arg(s: &str) -> Result<Self, String> {
        let t = s.trim();
        if t.is_empty()
            || (t.contains(char::is_whitespace) && !t.starts_with('"') && !t.starts_with('\''))
        {
            return Err(format!("'{t}' is not a single word"));
        }
        Ok(Word(String::parse_arg(t)?))
    }
}

/// Binary data: a string with escapes, or `\<hex>`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct HexData(pub Vec<u8>);

impl ArgValue for HexData {
    const EXPECTED: &'static str = "data (a string or \\<hex>)";
    fn parse_arg(s: &str) -> Result<Self, String> {
        Ok(HexData(unquote(s.trim())?))
    }
}

impl ArgValue for Ipv4Addr {
    const EXPECTED: &'static str = "an IPv4 address";
    fn parse_arg(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let parts: Vec<&str> = s.split('.').collect();
        if parts.len() != 4 {
            return Err(format!("'{s}' is not an IPv4 address"));
        }
        let mut b = [0u8; 4];
        for (k, p) in parts.iter().enumerate() {
            if p.is_empty() || p.len() > 3 || !p.chars().all(|c| c.is_ascii_digit()) {
                return Err(format!("'{s}' is not an IPv4 address"));
            }
            b[k] = p
                .parse()
                .map_err(|_| format!("'{s}' is not an IPv4 address ({p} > 255)"))?;
        }
        Ok(Ipv4Addr::from(b))
    }
}

/// An IPv4 prefix: `10.0.0.0/24`, `10.0.0.0/255.255.255.0`, `10.0.0.0 255.255.255.0`, or Click's
/// short form `10/8`. A bare address is a /32.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv4Prefix {
    pub addr: Ipv4Addr,
    pub len: u8,
}

impl Ipv4Prefix {
    pub fn mask(&self) -> Ipv4Addr {
        Ipv4Addr::from(if self.len == 0 {
            0
        } else {
            u32::MAX << (32 - self.len as u32)
        })
    }

    pub fn contains(&self, a: Ipv4Addr) -> bool {
        let m = u32::from(self.mask());
        u32::from(a) & m == u32::from(self.addr) & m
    }
}

impl fmt::Display for Ipv4Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

fn mask_len(m: Ipv4Addr) -> Option<u8> {
    let v = u32::from(m);
    let len = v.leading_ones();
    (v.checked_shl(len).unwrap_or(0) == 0).then_some(len as u8)
}

/// `10`, `10.1` etc.: the leading bytes of an address, the rest zero.
fn partial_addr(s: &str) -> Option<(Ipv4Addr, usize)> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut b = [0u8; 4];
    for (k, p) in parts.iter().enumerate() {
        if p.is_empty() || !p.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        b[k] = p.parse().ok()?;
    }
    Some((Ipv4Addr::from(b), parts.len()))
}

impl ArgValue for Ipv4Prefix {
    const EXPECTED: &'static str = "an IPv4 prefix (ADDR/LEN or ADDR MASK)";
    fn parse_arg(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let bad = || format!("'{s}' is not an IPv4 prefix");
        let (a, m) = match s.split_once('/') {
            Some((a, m)) => (a.trim(), Some(m.trim())),
            None => match s.split_once(char::is_whitespace) {
                Some((a, m)) => (a.trim(), Some(m.trim())),
                None => (s, None),
            },
        };
        let (addr, nparts) = partial_addr(a).ok_or_else(bad)?;
        let len = match m {
            None if nparts == 4 => 32,
            None => return Err(bad()),
            Some(m) if m.contains('.') => mask_len(Ipv4Addr::parse_arg(m)?)
                .ok_or_else(|| format!("'{m}' is not a contiguous netmask"))?,
            Some(m) => {
                let l: u8 = m.parse().map_err(|_| bad())?;
                if l > 32 {
                    return Err(format!("prefix length {l} is more than 32"));
                }
                l
            }
        };
        Ok(Ipv4Prefix { addr, len })
    }
}

/// A 48-bit Ethernet address: `00:11:22:33:44:55`, `0:1:2:3:4:5` or `00-11-22-33-44-55`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct EtherAddr(pub [u8; 6]);

impl fmt::Display for EtherAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02X}:{:02X}:{:02X}:{:02X}:{:02X}:{:02X}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

impl ArgValue for EtherAddr {
    const EXPECTED: &'static str = "an Ethernet address";
    fn parse_arg(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let sep = if s.contains(':') { ':' } else { '-' };
        let parts: Vec<&str> = s.split(sep).collect();
        if parts.len() != 6 {
            return Err(format!("'{s}' is not an Ethernet address"));
        }
        let mut b = [0u8; 6];
        for (k, p) in parts.iter().enumerate() {
            if p.is_empty() || p.len() > 2 {
                return Err(format!("'{s}' is not an Ethernet address"));
            }
            b[k] = u8::from_str_radix(p, 16)
                .map_err(|_| format!("'{s}' is not an Ethernet address"))?;
        }
        Ok(EtherAddr(b))
    }
}

/// A time interval: a number with a unit (`s`, `sec`, `ms`, `msec`, `us`, `usec`, `ns`, `nsec`,
/// `m`/`min`, `h`/`hr`, `d`/`day`); a bare number is in seconds.
impl ArgValue for Duration {
    const EXPECTED: &'static str = "a time interval (e.g. 1.5s, 20ms)";
    fn parse_arg(s: &str) -> Result<Self, String> {
        let (num, unit) = number_and_unit(s.trim());
        let v =
            parse_decimal(num).ok_or_else(|| format!("'{}' is not a time interval", s.trim()))?;
        if v < 0.0 {
            return Err("a time interval cannot be negative".into());
        }
        let nanos_per: f64 = match unit {
            "" | "s" | "sec" | "secs" | "second" | "seconds" => 1e9,
            "ms" | "msec" | "msecs" => 1e6,
            "us" | "usec" | "usecs" => 1e3,
            "ns" | "nsec" | "nsecs" => 1.0,
            "m" | "min" | "mins" => 60e9,
            "h" | "hr" | "hrs" | "hour" | "hours" => 3600e9,
            "d" | "day" | "days" => 86400e9,
            other => return Err(format!("unknown time unit '{other}'")),
        };
        let ns = v * nanos_per;
        Ok(Duration::from_nanos((ns + 0.5) as u64))
    }
}

/// A bandwidth in bits per second. Units: `bps`, `kbps`, `Mbps`, `Gbps` (bits), `Bps`, `kBps`,
/// `MBps`, `GBps` (bytes), also `Kbps`, `KBps`; a bare number is bytes per second, as in Click.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Bandwidth {
    pub bits_per_sec: u64,
}

impl Bandwidth {
    pub fn bytes_per_sec(&self) -> u64 {
        self.bits_per_sec / 8
    }
}

impl ArgValue for Bandwidth {
    const EXPECTED: &'static str = "a bandwidth (e.g. 10Mbps, 1.5MBps)";
    fn parse_arg(s: &str) -> Result<Self, String> {
        let (num, unit) = number_and_unit(s.trim());
        let v = parse_decimal(num).ok_or_else(|| format!("'{}' is not a bandwidth", s.trim()))?;
        let (mult, bits) = match unit {
            "" | "Bps" | "B/s" => (1.0, false),
            "bps" | "b/s" => (1.0, true),
            "kbps" | "Kbps" => (1e3, true),
            "Mbps" => (1e6, true),
            "Gbps" => (1e9, true),
            "kBps" | "KBps" => (1e3, false),
            "MBps" => (1e6, false),
            "GBps" => (1e9, false),
            other => {
                return Err(format!(
                    "unknown bandwidth unit '{other}' (use bps, kbps, Mbps, Gbps, Bps, ...)"
                ))
            }
        };
        let bits = v * mult * if bits { 1.0 } else { 8.0 };
        if bits < 0.0 {
            return Err("a bandwidth cannot be negative".into());
        }
        Ok(Bandwidth {
            bits_per_sec: (bits + 0.5) as u64,
        })
    }
}

/// A packet rate in packets per second: `10000`, `10kpps`, `1.5Mpps`, `100pps`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct PacketRate {
    pub per_sec: u64,
}

impl ArgValue for PacketRate {
    const EXPECTED: &'static str = "a packet rate (e.g. 10kpps)";
    fn parse_arg(s: &str) -> Result<Self, String> {
        let (num, unit) = number_and_unit(s.trim());
        let v = parse_decimal(num).ok_or_else(|| format!("'{}' is not a packet rate", s.trim()))?;
        let mult = match unit {
            "" | "pps" | "/s" => 1.0,
            "k" | "kpps" | "Kpps" => 1e3,
            "M" | "Mpps" => 1e6,
            "G" | "Gpps" => 1e9,
            other => return Err(format!("unknown rate unit '{other}' (use pps, kpps, Mpps)")),
        };
        if v < 0.0 {
            return Err("a rate cannot be negative".into());
        }
        Ok(PacketRate {
            per_sec: (v * mult + 0.5) as u64,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_with_bases_and_suffixes() {
        assert_eq!(u32::parse_arg("42"), Ok(42));
        assert_eq!(u32::parse_arg("0x1F"), Ok(31));
        assert_eq!(u32::parse_arg("017"), Ok(15));
        assert_eq!(u32::parse_arg("0"), Ok(0));
        assert_eq!(u64::parse_arg("10k"), Ok(10_000));
        assert_eq!(u64::parse_arg("2M"), Ok(2_000_000));
        assert_eq!(u64::parse_arg("4Ki"), Ok(4096));
        assert_eq!(u64::parse_arg("1_000"), Ok(1000));
        assert!(u8::parse_arg("256").unwrap_err().contains("out of range"));
        assert!(u32::parse_arg("12q").unwrap_err().contains("suffix"));
        assert!(u32::parse_arg("abc").is_err());
        assert!(u32::parse_arg("-1").is_err());
        assert_eq!(i32::parse_arg("-12"), Ok(-12));
    }

    #[test]
    fn booleans() {
        assert_eq!(bool::parse_arg("true"), Ok(true));
        assert_eq!(bool::parse_arg("no"), Ok(false));
        assert!(bool::parse_arg("maybe").is_err());
    }

    #[test]
    fn addresses_and_prefixes() {
        assert_eq!(
            Ipv4Addr::parse_arg("10.0.0.1"),
            Ok(Ipv4Addr::new(10, 0, 0, 1))
        );
        assert!(Ipv4Addr::parse_arg("10.0.0").is_err());
        assert!(Ipv4Addr::parse_arg("10.0.0.256").is_err());
        let p = |s| Ipv4Prefix::parse_arg(s).unwrap();
        assert_eq!(
            p("10.0.0.0/24"),
            Ipv4Prefix {
                addr: Ipv4Addr::new(10, 0, 0, 0),
                len: 24
            }
        );
        assert_eq!(p("10.0.0.0 255.255.255.0").len, 24);
        assert_eq!(p("10.0.0.0/255.255.0.0").len, 16);
        assert_eq!(
            p("10/8"),
            Ipv4Prefix {
                addr: Ipv4Addr::new(10, 0, 0, 0),
                len: 8
            }
        );
        assert_eq!(p("1.2.3.4").len, 32);
        assert!(Ipv4Prefix::parse_arg("10.0.0.0/33").is_err());
        assert!(Ipv4Prefix::parse_arg("10.0.0.0/255.0.255.0")
            .unwrap_err()
            .contains("contiguous"));
        assert!(p("10.1.0.0/16").contains(Ipv4Addr::new(10, 1, 2, 3)));
        assert!(!p("10.1.0.0/16").contains(Ipv4Addr::new(10, 2, 0, 0)));
        assert_eq!(EtherAddr::parse_arg("1:1:1:1:1:1"), Ok(EtherAddr([1; 6])));
        assert_eq!(
            EtherAddr::parse_arg("00-1b-21-0a-ff-03"),
            Ok(EtherAddr([0, 0x1b, 0x21, 0x0a, 0xff, 3]))
        );
        assert!(EtherAddr::parse_arg("1:2:3:4:5").is_err());
        assert_eq!(
            format!("{}", EtherAddr([0, 0x1b, 0x21, 0x0a, 0xff, 3])),
            "00:1B:21:0A:FF:03"
        );
    }

    #[test]
    fn times_and_rates() {
        assert_eq!(Duration::parse_arg("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(Duration::parse_arg("20ms"), Ok(Duration::from_millis(20)));
        assert_eq!(Duration::parse_arg("2"), Ok(Duration::from_secs(2)));
        assert_eq!(
            Duration::parse_arg("250 usec"),
            Ok(Duration::from_micros(250))
        );
        assert!(Duration::parse_arg("3 parsecs").is_err());
        assert_eq!(
            Bandwidth::parse_arg("1Mbps").unwrap().bits_per_sec,
            1_000_000
        );
        assert_eq!(
            Bandwidth::parse_arg("1.5MBps").unwrap().bits_per_sec,
            12_000_000
        );
        assert_eq!(Bandwidth::parse_arg("1000").unwrap().bits_per_sec, 8000);
        assert_eq!(PacketRate::parse_arg("10kpps").unwrap().per_sec, 10_000);
        assert_eq!(PacketRate::parse_arg("250").unwrap().per_sec, 250);
        assert!(PacketRate::parse_arg("fast").is_err());
    }

    #[test]
    fn strings_and_data() {
        assert_eq!(String::parse_arg(r#" "a, b" "#), Ok("a, b".into()));
        assert_eq!(
            HexData::parse_arg(r"\<de ad be ef>"),
            Ok(HexData(alloc::vec![0xde, 0xad, 0xbe, 0xef]))
        );
        assert_eq!(Word::parse_arg("eth0"), Ok(Word("eth0".into())));
        assert!(Word::parse_arg("two words").is_err());
    }
}
