//! The IPClassifier / IPFilter expression language: lexer (nom), parser, AST.
//!
//! Grammar, loosest binding first (`and` may be left out between adjacent terms):
//!
//! ```text
//! expr    := orexpr [ '?' expr ':' expr ]
//! orexpr  := andexpr ( ('or' | '||') andexpr )*
//! andexpr := factor ( [ 'and' | '&&' ] factor )*
//! factor  := ('not' | '!') factor | '(' expr ')' | test
//! test    := 'true' | 'all' | 'any' | '-' | 'false' | 'none'
//!          | qualifier* [ '[' POS [ ':' LEN | ',' POS2 ] ']' ] [ '&' MASK ] [ RELOP ] [ VALUE ]
//! ```
//!
//! Qualifiers: a direction (`src`, `dst`/`dest`, `src or dst`, `src and dst`), the header `ip`,
//! a protocol (`icmp igmp ipip tcp udp gre sctp dccp tcpudp transp`) and a type (`host net port
//! proto opt vers hl id tos dscp ttl len win type frag unfrag ect ce flags`). See the module
//! documentation of [`super`] for what each test means. Words are runs of
//! `[A-Za-z0-9._/@:-]`, as in Click, so `echo-reply`, `10.0.0.0/8` and `1000-2000` are single
//! words, and the ternary's `:` needs spaces around it.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::net::Ipv4Addr;
use core::ops::Range;

use config_lang::args::{ArgValue, Ipv4Prefix};
use nom::branch::alt;
use nom::bytes::complete::{tag, tag_no_case, take_while1};
use nom::character::complete::{digit1, hex_digit1, multispace0, oct_digit1};
use nom::combinator::{all_consuming, map, map_res};
use nom::sequence::preceded;
use nom::{IResult, Parser as _};

/// Which addresses or ports a test looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    Src,
    Dst,
    SrcOrDst,
    SrcAndDst,
}

/// A comparison of a (masked) field value. `In(v, v)` is equality; `NotIn` needs the field to be
/// present (a `!=` test on a missing field is false).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    In(u32, u32),
    NotIn(u32, u32),
    Lt(u32),
    Le(u32),
    Gt(u32),
    Ge(u32),
}

/// `field & mask CMP`. The mask is in the field's own units (at most the field's maximum).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rel {
    pub mask: u32,
    pub cmp: Cmp,
}

/// Fixed fields of the IPv4 header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpField {
    Vers,
    Hl,
    Tos,
    Dscp,
    Ecn,
    Len,
    Id,
    Ttl,
    Proto,
}

impl IpField {
    /// Largest value.
    pub fn max(self) -> u32 {
        match self {
            IpField::Vers | IpField::Hl => 0xf,
            IpField::Tos | IpField::Ttl | IpField::Proto => 0xff,
            IpField::Dscp => 0x3f,
            IpField::Ecn => 3,
            IpField::Len | IpField::Id => 0xffff,
        }
    }
}

/// Fixed fields of transport headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TpField {
    /// ICMP type (byte 0).
    IcmpType,
    /// TCP window (bytes 14-15).
    TcpWin,
    /// TCP flags (byte 13).
    TcpFlags,
}

impl TpField {
    pub fn max(self) -> u32 {
        match self {
            TpField::IcmpType | TpField::TcpFlags => 0xff,
            TpField::TcpWin => 0xffff,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layer {
    Ip,
    Transport,
}

/// A primitive test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prim {
    Bool(bool),
    Ip(IpField, Rel),
    /// More-fragments set or fragment offset nonzero (`frag`; `unfrag` is its negation).
    Frag,
    /// Source and/or destination address.
    Host(Dir, Rel),
    /// Source and/or destination port, for a packet of one of `protos`.
    Port {
        dir: Dir,
        protos: &'static [u8],
        rel: Rel,
    },
    /// TCP packet with this flag set.
    TcpOpt(u8),
    /// A transport field of a packet with protocol `proto`.
    Transport {
        proto: u8,
        field: TpField,
        rel: Rel,
    },
    /// `LEN` bytes at `POS` of the IP or transport header, big-endian; `protos` (when not
    /// empty) restricts the IP protocol.
    Bytes {
        layer: Layer,
        protos: &'static [u8],
        pos: u16,
        len: u8,
        rel: Rel,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    Prim(Prim),
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
}

/// A problem in an expression: where (byte range in the expression text) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub range: Range<usize>,
    pub message: String,
}

type PResult<T> = Result<T, ParseError>;

fn err<T>(range: Range<usize>, message: impl Into<String>) -> PResult<T> {
    Err(ParseError {
        range,
        message: message.into(),
    })
}

// ---------------------------------------------------------------------------------------------
// Name tables (built in: no /etc/services or /etc/protocols).

/// TCP flag names (`tcp opt NAME`, `tcp flags NAME`, or just `NAME`).
pub const TCP_FLAGS: &[(&str, u8)] = &[
    ("fin", 0x01),
    ("syn", 0x02),
    ("rst", 0x04),
    ("psh", 0x08),
    ("ack", 0x10),
    ("urg", 0x20),
    ("ece", 0x40),
    ("cwr", 0x80),
];

pub use crate::library::names::{ICMP_TYPES, IP_PROTOS as PROTOCOLS, PORTS};

fn lookup<T: Copy>(table: &[(&str, T)], name: &str) -> Option<T> {
    table.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
}

/// Protocol qualifiers: name and the IP protocols it stands for (empty: any, for `transp`).
const PROTO_QUALS: &[(&str, &[u8])] = &[
    ("icmp", &[1]),
    ("igmp", &[2]),
    ("ipip", &[4]),
    ("tcp", &[6]),
    ("udp", &[17]),
    ("gre", &[47]),
    ("sctp", &[132]),
    ("dccp", &[33]),
    ("tcpudp", &[6, 17]),
    ("transp", &[]),
];

const TCP_UDP: &[u8] = &[6, 17];

/// Protocols that have ports where TCP and UDP have them.
fn has_ports(protos: &[u8]) -> bool {
    protos.iter().all(|p| matches!(p, 6 | 17 | 33 | 132))
}

// ---------------------------------------------------------------------------------------------
// Lexer.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tok<'a> {
    Word(&'a str),
    Sym(&'a str),
}

#[derive(Clone, Copy, Debug)]
struct Token<'a> {
    tok: Tok<'a>,
    start: usize,
    end: usize,
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '@' | ':' | '-')
}

fn token(input: &str) -> IResult<&str, Tok<'_>> {
    alt((
        map(take_while1(is_word_char), Tok::Word),
        map(
            alt((
                tag("&&"),
                tag("||"),
                tag("=="),
                tag("!="),
                tag("<="),
                tag(">="),
                tag("&"),
                tag("<"),
                tag(">"),
                tag("!"),
                tag("="),
                tag("("),
                tag(")"),
                tag("["),
                tag("]"),
                tag(","),
                tag("?"),
            )),
            Tok::Sym,
        ),
    ))
    .parse(input)
}

fn lex(text: &str) -> PResult<Vec<Token<'_>>> {
    let mut out = Vec::new();
    let mut rest = text;
    loop {
        let (r, _) = multispace0::<&str, ()>(rest).unwrap_or((rest, ""));
        rest = r;
        if rest.is_empty() {
            return Ok(out);
        }
        let start = text.len() - rest.len();
        match token(rest) {
            Ok((r, tok)) => {
                rest = r;
                out.push(Token {
                    tok,
                    start,
                    end: text.len() - rest.len(),
                });
            }
            Err(_) => {
                let c = rest.chars().next().expect("not empty");
                return err(
                    start..start + c.len_utf8(),
                    format!("unexpected character '{c}'"),
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Values.

/// An unsigned number as Click's IntArg reads it: `0x` hex, leading-`0` octal, or decimal.
pub fn parse_number(s: &str) -> Option<u32> {
    let hex = map_res(preceded(tag_no_case("0x"), hex_digit1), |h: &str| {
        u32::from_str_radix(h, 16)
    });
    let oct = map_res(preceded(tag("0"), oct_digit1), |o: &str| {
        u32::from_str_radix(o, 8)
    });
    let dec = map_res(digit1, |d: &str| d.parse::<u32>());
    let r: IResult<&str, u32> =
        if s.len() > 1 && s.starts_with('0') && !s[1..].starts_with(['x', 'X']) {
            all_consuming(oct).parse(s)
        } else {
            all_consuming(alt((hex, dec))).parse(s)
        };
    r.ok().map(|(_, v)| v)
}

fn parse_addr(s: &str) -> Option<u32> {
    Ipv4Addr::parse_arg(s).ok().map(u32::from)
}

// ---------------------------------------------------------------------------------------------
// Parser.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Type {
    Host,
    Net,
    Port,
    Proto,
    Opt,
    Vers,
    Hl,
    Id,
    Tos,
    Dscp,
    Ttl,
    Len,
    Win,
    Icmp,
    Frag,
    Unfrag,
    Ect,
    Ce,
    Flags,
}

const TYPE_WORDS: &[(&str, Type)] = &[
    ("host", Type::Host),
    ("net", Type::Net),
    ("port", Type::Port),
    ("proto", Type::Proto),
    ("opt", Type::Opt),
    ("vers", Type::Vers),
    ("hl", Type::Hl),
    ("id", Type::Id),
    ("tos", Type::Tos),
    ("dscp", Type::Dscp),
    ("ttl", Type::Ttl),
    ("len", Type::Len),
    ("win", Type::Win),
    ("type", Type::Icmp),
    ("frag", Type::Frag),
    ("unfrag", Type::Unfrag),
    ("ect", Type::Ect),
    ("ce", Type::Ce),
    ("flags", Type::Flags),
];

impl Type {
    fn name(self) -> &'static str {
        TYPE_WORDS
            .iter()
            .find(|(_, t)| *t == self)
            .map_or("?", |(n, _)| n)
    }

    /// Types a bare number (or a relation) can continue (`port 80 or 443`).
    fn numeric(self) -> bool {
        !matches!(
            self,
            Type::Host | Type::Net | Type::Opt | Type::Frag | Type::Unfrag | Type::Ce
        )
    }
}

/// The qualifiers of one test, remembered for the next one ("src host A or B").
#[derive(Clone, Copy, Debug, Default)]
struct Quals {
    dir: Option<Dir>,
    ip: bool,
    proto: Option<(&'static str, &'static [u8])>,
    ty: Option<Type>,
    field: Option<(Layer, u16, u8)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

const TRUE_WORDS: &[&str] = &["true", "all", "any", "-"];
const FALSE_WORDS: &[&str] = &["false", "none"];
const MAX_DEPTH: u32 = 64;
/// Largest byte position in `ip[...]` / `transp[...]`.
const MAX_POS: u32 = 0xfff0;

struct Parser<'a> {
    toks: Vec<Token<'a>>,
    pos: usize,
    len: usize,
    prev: Option<Quals>,
    depth: u32,
}

/// Parses one expression.
pub fn parse(text: &str) -> PResult<Expr> {
    let toks = lex(text)?;
    if toks.is_empty() {
        return err(0..text.len(), "empty expression");
    }
    let mut p = Parser {
        toks,
        pos: 0,
        len: text.len(),
        prev: None,
        depth: 0,
    };
    let e = p.expr()?;
    if let Some(t) = p.toks.get(p.pos) {
        let what = match t.tok {
            Tok::Word(w) | Tok::Sym(w) => w,
        };
        return err(
            t.start..t.end,
            format!("garbage after expression at '{what}'"),
        );
    }
    Ok(e)
}

fn is_connective(w: &str) -> bool {
    matches!(w, "and" | "or" | "not" | ":")
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<Tok<'a>> {
        self.toks.get(self.pos).map(|t| t.tok)
    }

    fn peek_at(&self, k: usize) -> Option<Tok<'a>> {
        self.toks.get(self.pos + k).map(|t| t.tok)
    }

    fn here(&self) -> Range<usize> {
        match self.toks.get(self.pos) {
            Some(t) => t.start..t.end,
            None => self.len..self.len,
        }
    }

    fn prev_range(&self) -> Range<usize> {
        let t = &self.toks[self.pos.saturating_sub(1)];
        t.start..t.end
    }

    fn eat_sym(&mut self, s: &str) -> bool {
        if self.peek() == Some(Tok::Sym(s)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_word(&mut self, w: &str) -> bool {
        if self.peek() == Some(Tok::Word(w)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expr(&mut self) -> PResult<Expr> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return err(self.here(), "expression nested too deeply");
        }
        let c = self.or()?;
        let r = if self.eat_sym("?") {
            let a = self.expr()?;
            if !self.eat_word(":") {
                return err(self.here(), "missing ':' in ternary expression");
            }
            let b = self.expr()?;
            Expr::Or(alloc::vec![
                Expr::And(alloc::vec![c.clone(), a]),
                Expr::And(alloc::vec![Expr::Not(Box::new(c)), b]),
            ])
        } else {
            c
        };
        self.depth -= 1;
        Ok(r)
    }

    fn or(&mut self) -> PResult<Expr> {
        let mut terms = alloc::vec![self.and()?];
        while self.eat_word("or") || self.eat_sym("||") {
            if !self.starts_factor() {
                return err(self.prev_range(), "missing expression after 'or'");
            }
            terms.push(self.and()?);
        }
        Ok(if terms.len() == 1 {
            terms.pop().expect("one")
        } else {
            Expr::Or(terms)
        })
    }

    fn starts_factor(&self) -> bool {
        match self.peek() {
            Some(Tok::Word(w)) => w == "not" || !is_connective(w),
            Some(Tok::Sym(s)) => {
                matches!(s, "!" | "(" | "=" | "==" | "!=" | "<" | ">" | "<=" | ">=")
            }
            None => false,
        }
    }

    fn and(&mut self) -> PResult<Expr> {
        if !self.starts_factor() {
            return err(self.here(), "missing expression");
        }
        let mut terms = alloc::vec![self.factor()?];
        loop {
            if self.eat_word("and") || self.eat_sym("&&") {
                if !self.starts_factor() {
                    return err(self.prev_range(), "missing expression after 'and'");
                }
            } else if !self.starts_factor() {
                break;
            }
            terms.push(self.factor()?);
        }
        Ok(if terms.len() == 1 {
            terms.pop().expect("one")
        } else {
            Expr::And(terms)
        })
    }

    fn factor(&mut self) -> PResult<Expr> {
        if self.eat_word("not") || self.eat_sym("!") {
            if !self.starts_factor() {
                return err(self.prev_range(), "missing expression after 'not'");
            }
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return err(self.here(), "expression nested too deeply");
            }
            let f = self.factor()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(f)));
        }
        if self.eat_sym("(") {
            let open = self.prev_range();
            let e = self.expr()?;
            if !self.eat_sym(")") {
                return err(open.start..self.here().end, "missing ')'");
            }
            return Ok(e);
        }
        self.test()
    }

    /// One primitive test, with its qualifiers and value.
    fn test(&mut self) -> PResult<Expr> {
        let start = self.here().start;
        if let Some(Tok::Word(w)) = self.peek() {
            if TRUE_WORDS.contains(&w) || FALSE_WORDS.contains(&w) {
                self.pos += 1;
                return Ok(Expr::Prim(Prim::Bool(TRUE_WORDS.contains(&w))));
            }
        }
        let mut q = Quals::default();
        let mut any_qual = false;
        while let Some(Tok::Word(w)) = self.peek() {
            let r = self.here();
            match w {
                "src" | "dst" | "dest" => {
                    if q.dir.is_some() {
                        return err(r, "'src' or 'dst' specified twice");
                    }
                    let other = |x: &str| {
                        if w == "src" {
                            x == "dst" || x == "dest"
                        } else {
                            x == "src"
                        }
                    };
                    let combined = match (self.peek_at(1), self.peek_at(2)) {
                        (Some(Tok::Word("or") | Tok::Sym("||")), Some(Tok::Word(x)))
                            if other(x) =>
                        {
                            Some(Dir::SrcOrDst)
                        }
                        (Some(Tok::Word("and") | Tok::Sym("&&")), Some(Tok::Word(x)))
                            if other(x) =>
                        {
                            Some(Dir::SrcAndDst)
                        }
                        _ => None,
                    };
                    q.dir = Some(match combined {
                        Some(d) => {
                            self.pos += 2;
                            d
                        }
                        None if w == "src" => Dir::Src,
                        None => Dir::Dst,
                    });
                }
                "ip" => {
                    if q.ip {
                        return err(r, "'ip' specified twice");
                    }
                    q.ip = true;
                }
                "ether" => {
                    return err(
                        r,
                        "'ether' tests are not supported: packets here carry no MAC header \
                         annotation (use Classifier on the Ethernet header)",
                    )
                }
                _ => {
                    if let Some(&(n, ps)) = PROTO_QUALS.iter().find(|(n, _)| *n == w) {
                        if q.proto.is_some() {
                            return err(r, "transport protocol specified twice");
                        }
                        q.proto = Some((n, ps));
                    } else if let Some(&(_, t)) = TYPE_WORDS.iter().find(|(n, _)| *n == w) {
                        if q.ty.is_some() {
                            return err(r, "type specified twice");
                        }
                        q.ty = Some(t);
                        // The value follows: `ip proto udp`, `port echo`.
                        any_qual = true;
                        self.pos += 1;
                        break;
                    } else {
                        break;
                    }
                }
            }
            any_qual = true;
            self.pos += 1;
        }
        if self.peek() == Some(Tok::Sym("[")) && any_qual {
            q.field = Some(self.field(&q, start)?);
        }
        // `& MASK`
        let mut mask = None;
        if self.eat_sym("&") {
            let r = self.here();
            match self.peek() {
                Some(Tok::Word(w)) if !is_connective(w) => {
                    self.pos += 1;
                    let m = parse_number(w)
                        .or_else(|| parse_addr(w))
                        .ok_or(())
                        .or_else(|()| err(r.clone(), format!("bad mask '{w}'")))?;
                    if m == 0 {
                        return err(r, "zero mask");
                    }
                    mask = Some((m, r));
                }
                _ => return err(r, "missing mask after '&'"),
            }
        }
        // Relation.
        let op_range = self.here();
        let op = match self.peek() {
            Some(Tok::Sym("=" | "==")) => Some(Op::Eq),
            Some(Tok::Sym("!=")) => Some(Op::Ne),
            Some(Tok::Sym("<")) => Some(Op::Lt),
            Some(Tok::Sym("<=")) => Some(Op::Le),
            Some(Tok::Sym(">")) => Some(Op::Gt),
            Some(Tok::Sym(">=")) => Some(Op::Ge),
            _ => None,
        };
        if op.is_some() {
            self.pos += 1;
        }
        // Inheritance: a test with no qualifier words continues the previous one.
        let inherit = !any_qual;
        let takes_value = match (q.ty, q.field) {
            (_, Some(_)) => true,
            (Some(Type::Frag | Type::Unfrag | Type::Ce), _) => false,
            (Some(Type::Ect), _) => {
                op.is_some()
                    || matches!(self.peek(), Some(Tok::Word(w)) if parse_number(w).is_some())
            }
            _ => true,
        };
        let mut value = None;
        if takes_value {
            if let Some(Tok::Word(w)) = self.peek() {
                let qualifier = w == "src"
                    || w == "dst"
                    || w == "dest"
                    || w == "ip"
                    || w == "ether"
                    || PROTO_QUALS.iter().any(|(n, _)| *n == w)
                    || TYPE_WORDS.iter().any(|(n, _)| *n == w)
                    || TRUE_WORDS.contains(&w)
                    || FALSE_WORDS.contains(&w);
                let explicit = q.ty.is_some() || q.field.is_some() || op.is_some();
                if !is_connective(w) && (explicit || !qualifier) {
                    let r = self.here();
                    self.pos += 1;
                    // `net A mask M`
                    let mut net_mask = None;
                    if self.peek() == Some(Tok::Word("mask")) {
                        self.pos += 1;
                        let mr = self.here();
                        match self.peek() {
                            Some(Tok::Word(m)) => {
                                self.pos += 1;
                                net_mask = Some((m, mr));
                            }
                            _ => return err(mr, "missing netmask after 'mask'"),
                        }
                    }
                    value = Some((w, r, net_mask));
                }
            }
        }
        let end = self.prev_range().end.max(start);
        let whole = start..end;
        if !any_qual && op.is_none() && mask.is_none() && value.is_none() {
            return err(self.here(), "missing expression");
        }
        self.build(q, inherit, mask, op.map(|o| (o, op_range)), value, whole)
    }

    /// `[POS]`, `[POS:LEN]` or `[POS,POS2]` after `ip`, `transp` or a protocol.
    fn field(&mut self, q: &Quals, start: usize) -> PResult<(Layer, u16, u8)> {
        let open = self.here();
        self.pos += 1;
        let layer = match (q.ip, q.proto, q.ty) {
            (true, None, None) => Layer::Ip,
            (false, Some(_), None) => Layer::Transport,
            _ => return err(
                start..open.end,
                "a header field needs 'ip[...]', 'transp[...]' or a protocol such as 'tcp[...]'",
            ),
        };
        let r = self.here();
        let Some(Tok::Word(w)) = self.peek() else {
            return err(r, "missing position in '[...]'");
        };
        self.pos += 1;
        let num = |s: &str, r: Range<usize>| -> PResult<u32> {
            parse_number(s)
                .filter(|&v| v <= MAX_POS)
                .ok_or(())
                .or_else(|()| err(r, format!("bad position '{s}'")))
        };
        let (pos, len) = if let Some((a, b)) = w.split_once(':') {
            let p = num(a, r.clone())?;
            let l = parse_number(b).unwrap_or(0);
            (p, l)
        } else if self.eat_sym(",") {
            let p = num(w, r.clone())?;
            let r2 = self.here();
            let Some(Tok::Word(w2)) = self.peek() else {
                return err(r2, "missing end position in '[...]'");
            };
            self.pos += 1;
            let p2 = num(w2, r2.clone())?;
            if p2 < p {
                return err(r.start..r2.end, "end position before start");
            }
            (p, p2 - p + 1)
        } else {
            (num(w, r.clone())?, 1)
        };
        if !(1..=4).contains(&len) {
            return err(
                r.start..self.prev_range().end,
                "field length must be 1 to 4 bytes",
            );
        }
        if !self.eat_sym("]") {
            return err(open.start..self.here().end, "missing ']'");
        }
        Ok((layer, pos as u16, len as u8))
    }

    #[allow(clippy::type_complexity)]
    fn build(
        &mut self,
        mut q: Quals,
        inherit: bool,
        mask: Option<(u32, Range<usize>)>,
        op: Option<(Op, Range<usize>)>,
        value: Option<(&str, Range<usize>, Option<(&str, Range<usize>)>)>,
        whole: Range<usize>,
    ) -> PResult<Expr> {
        // Decide the type of an untyped test from its value, or from the previous test.
        if q.ty.is_none() && q.field.is_none() {
            let addr_like = value.as_ref().and_then(|(w, _, nm)| {
                if nm.is_some() {
                    Some(Type::Net)
                } else if parse_addr(w).is_some() {
                    Some(Type::Host)
                } else if w.contains('/') && Ipv4Prefix::parse_arg(w).is_ok() {
                    Some(Type::Net)
                } else {
                    None
                }
            });
            let numeric = op.is_some()
                || mask.is_some()
                || value
                    .as_ref()
                    .is_some_and(|(w, _, _)| w.starts_with(|c: char| c.is_ascii_digit()));
            if let Some(t) = addr_like {
                if inherit {
                    q.dir = self.prev.and_then(|p| p.dir);
                }
                q.ty = Some(t);
            } else if numeric && value.is_some() || op.is_some() {
                match self.prev.filter(|_| inherit) {
                    Some(p) if p.field.is_some() || p.ty.is_some_and(Type::numeric) => q = p,
                    _ => return err(whole, "specify header field or 'port'"),
                }
            } else if let Some((w, r, _)) = &value {
                // A name: port, protocol, TCP flag or ICMP type.
                if inherit {
                    if let Some(p) = self.prev {
                        if matches!(
                            p.ty,
                            Some(Type::Port | Type::Proto | Type::Icmp | Type::Opt | Type::Flags)
                        ) {
                            q = p;
                        } else {
                            q.dir = p.dir;
                            q.proto = p.proto;
                        }
                    }
                }
                if q.ty.is_none() {
                    q.ty = Some(self.name_type(&q, w, r.clone())?);
                }
            } else if mask.is_some() {
                return err(whole, "specify header field or 'port'");
            }
        }
        let result = self.primitive(&q, mask, op, value, whole)?;
        self.prev = Some(q);
        Ok(result)
    }

    /// What a bare name means, given the protocol qualifier.
    fn name_type(&self, q: &Quals, w: &str, r: Range<usize>) -> PResult<Type> {
        let proto = q.proto.map(|(n, _)| n);
        let mut found: Vec<(Type, &str)> = Vec::new();
        let port_ok =
            proto.is_none_or(|n| n == "transp" || has_ports(q.proto.map_or(TCP_UDP, |(_, ps)| ps)));
        if port_ok && lookup(PORTS, w).is_some() {
            found.push((Type::Port, "port"));
        }
        if proto.is_none_or(|n| n == "tcp") && lookup(TCP_FLAGS, w).is_some() {
            found.push((Type::Opt, "tcp opt"));
        }
        if proto.is_none_or(|n| n == "icmp") && lookup(ICMP_TYPES, w).is_some() {
            found.push((Type::Icmp, "icmp type"));
        }
        if proto.is_none() && lookup(PROTOCOLS, w).is_some() {
            found.push((Type::Proto, "ip proto"));
        }
        match found.as_slice() {
            [(t, _)] => Ok(*t),
            [] => err(
                r,
                format!("unknown word '{w}' (not a port, protocol, TCP flag or ICMP type name)"),
            ),
            many => {
                let tries: Vec<String> = many.iter().map(|(_, k)| format!("'{k} {w}'")).collect();
                err(r, format!("'{w}' is ambiguous; try {}", tries.join(", ")))
            }
        }
    }

    #[allow(clippy::type_complexity)]
    fn primitive(
        &self,
        q: &Quals,
        mask: Option<(u32, Range<usize>)>,
        op: Option<(Op, Range<usize>)>,
        value: Option<(&str, Range<usize>, Option<(&str, Range<usize>)>)>,
        whole: Range<usize>,
    ) -> PResult<Expr> {
        let dir = q.dir.unwrap_or(Dir::SrcOrDst);
        let prim = |p: Prim| Ok(Expr::Prim(p));
        let no_extras = |what: &str| -> PResult<()> {
            if let Some((_, r)) = &op {
                return err(r.clone(), format!("'{what}' takes no relation"));
            }
            if let Some((_, r)) = &mask {
                return err(r.clone(), format!("'{what}' takes no mask"));
            }
            Ok(())
        };
        let proto_only = |allowed: &str| -> PResult<()> {
            match q.proto {
                Some((n, _)) if n != allowed => err(
                    whole.clone(),
                    format!("'{n}' does not go with this test (it is about {allowed})"),
                ),
                _ => Ok(()),
            }
        };
        let ip_level = || -> PResult<()> {
            match q.proto {
                Some((n, _)) => err(
                    whole.clone(),
                    format!("'{n}' does not go with an IP header test"),
                ),
                None => Ok(()),
            }
        };
        // Header field access.
        if let Some((layer, pos, len)) = q.field {
            let max = if len == 4 {
                u32::MAX
            } else {
                (1u32 << (8 * len)) - 1
            };
            let protos = q.proto.map_or(&[][..], |(_, ps)| ps);
            let rel = self.rel(
                "field",
                max,
                mask,
                op,
                value.as_ref().map(|(w, r, _)| (*w, r.clone())),
                true,
                |w| parse_number(w).or_else(|| if len == 4 { parse_addr(w) } else { None }),
            )?;
            return prim(Prim::Bytes {
                layer,
                protos,
                pos,
                len,
                rel,
            });
        }
        let Some(ty) = q.ty else {
            // Qualifiers alone: a protocol, or `ip` (every packet).
            if let Some((_, r)) = &op {
                return err(r.clone(), "missing value");
            }
            return match q.proto {
                Some((n, [])) => err(whole, format!("'{n}' needs a field: '{n}[POS]'")),
                Some((_, ps)) => Ok(any_of(ps.iter().map(|&p| {
                    Expr::Prim(Prim::Ip(
                        IpField::Proto,
                        Rel {
                            mask: 0xff,
                            cmp: Cmp::In(p as u32, p as u32),
                        },
                    ))
                }))),
                None => prim(Prim::Bool(true)),
            };
        };
        let val = value.as_ref().map(|(w, r, _)| (*w, r.clone()));
        let ip_field = |f: IpField, name: &str, names: Option<&[(&str, u8)]>| -> PResult<Expr> {
            ip_level()?;
            let rel = self.rel(
                name,
                f.max(),
                mask.clone(),
                op.clone(),
                val.clone(),
                false,
                |w| parse_number(w).or_else(|| names.and_then(|t| lookup(t, w)).map(u32::from)),
            )?;
            prim(Prim::Ip(f, rel))
        };
        match ty {
            Type::Host | Type::Net => {
                ip_level()?;
                if let Some((o, r)) = &op {
                    if !matches!(o, Op::Eq | Op::Ne) {
                        return err(
                            r.clone(),
                            format!("operator not supported for '{}'", ty.name()),
                        );
                    }
                }
                let Some((w, r, nm)) = &value else {
                    return err(whole, format!("missing address after '{}'", ty.name()));
                };
                let (addr, m) = match (ty, nm) {
                    (_, Some((mw, mr))) => {
                        let a = parse_addr(w).ok_or(()).or_else(|()| {
                            err(r.clone(), format!("'{w}' is not an IPv4 address"))
                        })?;
                        let m = parse_addr(mw).ok_or(()).or_else(|()| {
                            err(mr.clone(), format!("'{mw}' is not an IPv4 netmask"))
                        })?;
                        (a, m)
                    }
                    (Type::Host, None) => {
                        let a = parse_addr(w).ok_or(()).or_else(|()| {
                            err(r.clone(), format!("'{w}' is not an IPv4 address"))
                        })?;
                        (a, u32::MAX)
                    }
                    _ => match Ipv4Prefix::parse_arg(w) {
                        Ok(p) => (u32::from(p.addr), u32::from(p.mask())),
                        Err(why) => return err(r.clone(), why),
                    },
                };
                let m = match (&mask, ty) {
                    (Some((_, r)), Type::Net) => {
                        return err(r.clone(), "'net' takes no '&' mask (use 'mask')")
                    }
                    (Some((um, _)), _) => m & um,
                    (None, _) => m,
                };
                if m == 0 {
                    // `net 0.0.0.0/0`: any packet that has the address.
                    return prim(Prim::Host(
                        dir,
                        Rel {
                            mask: 0,
                            cmp: if matches!(op, Some((Op::Ne, _))) {
                                Cmp::NotIn(0, 0)
                            } else {
                                Cmp::In(0, 0)
                            },
                        },
                    ));
                }
                let a = addr & m;
                let cmp = if matches!(op, Some((Op::Ne, _))) {
                    Cmp::NotIn(a, a)
                } else {
                    Cmp::In(a, a)
                };
                prim(Prim::Host(dir, Rel { mask: m, cmp }))
            }
            Type::Port => {
                let protos = match q.proto {
                    None => TCP_UDP,
                    Some(("transp", _)) => &[][..],
                    Some((n, ps)) => {
                        if !has_ports(ps) {
                            return err(whole, format!("'{n}' packets have no ports"));
                        }
                        ps
                    }
                };
                let rel = self.rel("port", 0xffff, mask, op, val, true, |w| {
                    parse_number(w).or_else(|| lookup(PORTS, w).map(u32::from))
                })?;
                prim(Prim::Port { dir, protos, rel })
            }
            Type::Proto => ip_field(IpField::Proto, "ip proto", Some(PROTOCOLS)),
            Type::Vers => ip_field(IpField::Vers, "ip vers", None),
            Type::Hl => ip_field(IpField::Hl, "ip hl", None),
            Type::Id => ip_field(IpField::Id, "ip id", None),
            Type::Tos => ip_field(IpField::Tos, "ip tos", None),
            Type::Dscp => ip_field(IpField::Dscp, "ip dscp", None),
            Type::Ttl => ip_field(IpField::Ttl, "ip ttl", None),
            Type::Len => ip_field(IpField::Len, "ip len", None),
            Type::Ect => {
                if value.is_none() && op.is_none() {
                    no_extras("ip ect")?;
                    ip_level()?;
                    prim(Prim::Ip(
                        IpField::Ecn,
                        Rel {
                            mask: 3,
                            cmp: Cmp::In(1, 3),
                        },
                    ))
                } else {
                    ip_field(IpField::Ecn, "ip ect", None)
                }
            }
            Type::Ce => {
                no_extras("ip ce")?;
                ip_level()?;
                prim(Prim::Ip(
                    IpField::Ecn,
                    Rel {
                        mask: 3,
                        cmp: Cmp::In(3, 3),
                    },
                ))
            }
            Type::Frag | Type::Unfrag => {
                no_extras(ty.name())?;
                ip_level()?;
                let f = Expr::Prim(Prim::Frag);
                Ok(if ty == Type::Frag {
                    f
                } else {
                    Expr::Not(Box::new(f))
                })
            }
            Type::Opt => {
                no_extras("tcp opt")?;
                proto_only("tcp")?;
                let Some((w, r, _)) = &value else {
                    return err(whole, "missing TCP flag name after 'opt'");
                };
                let f = lookup(TCP_FLAGS, w).ok_or(()).or_else(|()| {
                    err(
                        r.clone(),
                        format!("'{w}' is not a TCP flag name (syn, ack, ...)"),
                    )
                })?;
                prim(Prim::TcpOpt(f))
            }
            Type::Win | Type::Flags => {
                proto_only("tcp")?;
                let (field, name) = if ty == Type::Win {
                    (TpField::TcpWin, "tcp win")
                } else {
                    (TpField::TcpFlags, "tcp flags")
                };
                let rel = self.rel(name, field.max(), mask, op, val, false, |w| {
                    parse_number(w).or_else(|| lookup(TCP_FLAGS, w).map(u32::from))
                })?;
                prim(Prim::Transport {
                    proto: 6,
                    field,
                    rel,
                })
            }
            Type::Icmp => {
                proto_only("icmp")?;
                let rel = self.rel("icmp type", 0xff, mask, op, val, false, |w| {
                    parse_number(w).or_else(|| lookup(ICMP_TYPES, w).map(u32::from))
                })?;
                prim(Prim::Transport {
                    proto: 1,
                    field: TpField::IcmpType,
                    rel,
                })
            }
        }
    }

    /// The relation of a numeric test. `ranges`: whether `A-B` is accepted (ports, fields).
    #[allow(clippy::too_many_arguments)]
    fn rel(
        &self,
        name: &str,
        max: u32,
        mask: Option<(u32, Range<usize>)>,
        op: Option<(Op, Range<usize>)>,
        value: Option<(&str, Range<usize>)>,
        ranges: bool,
        read: impl Fn(&str) -> Option<u32>,
    ) -> PResult<Rel> {
        let mask_v = match &mask {
            Some((m, r)) => {
                if *m > max {
                    return err(
                        r.clone(),
                        format!("mask out of range for '{name}' (at most {max:#x})"),
                    );
                }
                *m
            }
            None => max,
        };
        let Some((w, r)) = value else {
            if let Some((_, r)) = op {
                return err(r.end..r.end, format!("missing value for '{name}'"));
            }
            if name == "field" || mask.is_some() {
                // `ip[9]`, `tcp[13] & 2`: true when the (masked) field is nonzero.
                return Ok(Rel {
                    mask: mask_v,
                    cmp: Cmp::NotIn(0, 0),
                });
            }
            return err(
                self.prev_range().end..self.prev_range().end,
                format!("missing value for '{name}'"),
            );
        };
        let one = |s: &str, r: Range<usize>| -> PResult<u32> {
            match read(s) {
                Some(v) if v <= max => Ok(v),
                Some(_) => err(
                    r,
                    format!("'{s}' is out of range for '{name}' (at most {max})"),
                ),
                None => err(r, format!("bad value '{s}' for '{name}'")),
            }
        };
        let (lo, hi) = match w
            .split_once('-')
            .filter(|(a, b)| ranges && !a.is_empty() && !b.is_empty() && read(w).is_none())
        {
            Some((a, b)) => {
                let a_r = r.start..r.start + a.len();
                let b_r = r.start + a.len() + 1..r.end;
                let (lo, hi) = (one(a, a_r)?, one(b, b_r)?);
                if lo > hi {
                    return err(r, format!("empty range '{w}'"));
                }
                if let Some((o, orr)) = &op {
                    if !matches!(o, Op::Eq | Op::Ne) {
                        return err(orr.clone(), "a range takes only '=' or '!='");
                    }
                }
                (lo, hi)
            }
            None => {
                let v = one(w, r)?;
                (v, v)
            }
        };
        let cmp = match op.map(|(o, _)| o).unwrap_or(Op::Eq) {
            Op::Eq => Cmp::In(lo, hi),
            Op::Ne => Cmp::NotIn(lo, hi),
            Op::Lt => Cmp::Lt(lo),
            Op::Le => Cmp::Le(lo),
            Op::Gt => Cmp::Gt(lo),
            Op::Ge => Cmp::Ge(lo),
        };
        Ok(Rel { mask: mask_v, cmp })
    }
}

fn any_of(it: impl Iterator<Item = Expr>) -> Expr {
    let mut v: Vec<Expr> = it.collect();
    if v.len() == 1 {
        v.pop().expect("one")
    } else {
        Expr::Or(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Expr {
        parse(s).unwrap_or_else(|e| panic!("{s}: {e:?}"))
    }

    fn e(s: &str) -> (String, String) {
        let er = parse(s).expect_err(s);
        (s[er.range.clone()].into(), er.message)
    }

    fn eq(v: u32) -> Cmp {
        Cmp::In(v, v)
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_number("80"), Some(80));
        assert_eq!(parse_number("0x1F"), Some(31));
        assert_eq!(parse_number("010"), Some(8));
        assert_eq!(parse_number("0"), Some(0));
        assert_eq!(parse_number("08"), None);
        assert_eq!(parse_number("4294967296"), None);
        assert_eq!(parse_number("x"), None);
    }

    #[test]
    fn protocols_and_hosts() {
        assert_eq!(
            p("tcp"),
            Expr::Prim(Prim::Ip(
                IpField::Proto,
                Rel {
                    mask: 0xff,
                    cmp: eq(6)
                }
            ))
        );
        assert_eq!(p("ip proto udp"), p("udp"));
        assert_eq!(p("ip proto 17"), p("udp"));
        assert_eq!(p("proto ospf"), p("ospf"));
        let h = Expr::Prim(Prim::Host(
            Dir::Src,
            Rel {
                mask: u32::MAX,
                cmp: eq(0x0a000001),
            },
        ));
        assert_eq!(p("src host 10.0.0.1"), h);
        assert_eq!(p("src host == 10.0.0.1"), h);
        assert!(matches!(
            p("10.0.0.1"),
            Expr::Prim(Prim::Host(Dir::SrcOrDst, _))
        ));
        let n = p("dst net 10.0.0.0/8");
        assert_eq!(p("dst net 10.0.0.0 mask 255.0.0.0"), n);
        assert_eq!(p("dst 10.1.2.3/8"), n);
        assert_eq!(
            n,
            Expr::Prim(Prim::Host(
                Dir::Dst,
                Rel {
                    mask: 0xff000000,
                    cmp: eq(0x0a000000)
                }
            ))
        );
        assert!(matches!(
            p("src and dst host 1.2.3.4"),
            Expr::Prim(Prim::Host(Dir::SrcAndDst, _))
        ));
        assert!(matches!(
            p("src || dst host 1.2.3.4"),
            Expr::Prim(Prim::Host(Dir::SrcOrDst, _))
        ));
        assert!(matches!(
            p("host != 1.2.3.4"),
            Expr::Prim(Prim::Host(
                _,
                Rel {
                    cmp: Cmp::NotIn(..),
                    ..
                }
            ))
        ));
    }

    #[test]
    fn ports_and_inheritance() {
        let port = |dir, protos: &'static [u8], cmp| {
            Expr::Prim(Prim::Port {
                dir,
                protos,
                rel: Rel { mask: 0xffff, cmp },
            })
        };
        assert_eq!(p("port 80"), port(Dir::SrcOrDst, &[6, 17], eq(80)));
        assert_eq!(p("www"), port(Dir::SrcOrDst, &[6, 17], eq(80)));
        assert_eq!(p("dst tcp port https"), port(Dir::Dst, &[6], eq(443)));
        assert_eq!(
            p("port 1000-2000"),
            port(Dir::SrcOrDst, &[6, 17], Cmp::In(1000, 2000))
        );
        assert_eq!(
            p("dst port > 1023"),
            port(Dir::Dst, &[6, 17], Cmp::Gt(1023))
        );
        assert_eq!(
            p("src tcp port 80 or 443"),
            Expr::Or(alloc::vec![
                port(Dir::Src, &[6], eq(80)),
                port(Dir::Src, &[6], eq(443))
            ])
        );
        assert_eq!(
            p("dst tcp port >= 1000 and <= 2000"),
            Expr::And(alloc::vec![
                port(Dir::Dst, &[6], Cmp::Ge(1000)),
                port(Dir::Dst, &[6], Cmp::Le(2000))
            ])
        );
        assert_eq!(
            p("src host 1.1.1.1 or 2.2.2.2"),
            p("src host 1.1.1.1 or src host 2.2.2.2")
        );
        assert_eq!(p("src port 80 or www"), p("src port 80 or src port 80"));
        assert_eq!(p("udp port domain"), port(Dir::SrcOrDst, &[17], eq(53)));
        assert_eq!(p("transp port 7"), port(Dir::SrcOrDst, &[], eq(7)));
        assert_eq!(p("ip ttl 5 or 6"), p("ip ttl 5 or ip ttl 6"));
        assert_eq!(p("ip[9] = 6 or 17"), p("ip[9] = 6 or ip[9] = 17"));
    }

    #[test]
    fn ip_fields_flags_icmp() {
        assert_eq!(
            p("ip ttl < 5"),
            Expr::Prim(Prim::Ip(
                IpField::Ttl,
                Rel {
                    mask: 0xff,
                    cmp: Cmp::Lt(5)
                }
            ))
        );
        assert_eq!(p("ttl < 5"), p("ip ttl < 5"));
        assert_eq!(
            p("ip tos & 0x0f = 2"),
            Expr::Prim(Prim::Ip(
                IpField::Tos,
                Rel {
                    mask: 0x0f,
                    cmp: eq(2)
                }
            ))
        );
        assert_eq!(p("ip frag"), Expr::Prim(Prim::Frag));
        assert_eq!(p("unfrag"), Expr::Not(Box::new(Expr::Prim(Prim::Frag))));
        assert_eq!(p("syn"), Expr::Prim(Prim::TcpOpt(2)));
        assert_eq!(p("tcp syn"), p("tcp opt syn"));
        assert_eq!(
            p("syn ack"),
            Expr::And(alloc::vec![
                Expr::Prim(Prim::TcpOpt(2)),
                Expr::Prim(Prim::TcpOpt(0x10))
            ])
        );
        let icmp = |cmp| {
            Expr::Prim(Prim::Transport {
                proto: 1,
                field: TpField::IcmpType,
                rel: Rel { mask: 0xff, cmp },
            })
        };
        assert_eq!(p("icmp type echo"), icmp(eq(8)));
        assert_eq!(p("icmp echo-reply"), icmp(eq(0)));
        assert_eq!(p("icmp type != 3"), icmp(Cmp::NotIn(3, 3)));
        assert_eq!(p("echo-reply"), icmp(eq(0)));
        assert!(matches!(
            p("tcp flags & 0x12 == 0x12"),
            Expr::Prim(Prim::Transport {
                field: TpField::TcpFlags,
                rel: Rel {
                    mask: 0x12,
                    cmp: Cmp::In(0x12, 0x12)
                },
                ..
            })
        ));
        assert!(matches!(
            p("tcp win > 1000"),
            Expr::Prim(Prim::Transport {
                field: TpField::TcpWin,
                ..
            })
        ));
        assert_eq!(
            p("ip ect"),
            Expr::Prim(Prim::Ip(
                IpField::Ecn,
                Rel {
                    mask: 3,
                    cmp: Cmp::In(1, 3)
                }
            ))
        );
        assert_eq!(
            p("ip ce"),
            Expr::Prim(Prim::Ip(
                IpField::Ecn,
                Rel {
                    mask: 3,
                    cmp: eq(3)
                }
            ))
        );
        assert_eq!(
            p("ip dscp 46"),
            Expr::Prim(Prim::Ip(
                IpField::Dscp,
                Rel {
                    mask: 0x3f,
                    cmp: eq(46)
                }
            ))
        );
    }

    #[test]
    fn header_fields() {
        assert_eq!(
            p("ip[12:4] = 10.0.0.1"),
            Expr::Prim(Prim::Bytes {
                layer: Layer::Ip,
                protos: &[],
                pos: 12,
                len: 4,
                rel: Rel {
                    mask: u32::MAX,
                    cmp: eq(0x0a000001)
                }
            })
        );
        assert_eq!(p("ip[2,3] > 100"), p("ip[2:2] > 100"));
        assert_eq!(
            p("tcp[13] & 0x12 != 0"),
            Expr::Prim(Prim::Bytes {
                layer: Layer::Transport,
                protos: &[6],
                pos: 13,
                len: 1,
                rel: Rel {
                    mask: 0x12,
                    cmp: Cmp::NotIn(0, 0)
                }
            })
        );
        assert_eq!(p("tcp[13] & 0x12"), p("tcp[13] & 0x12 != 0"));
        assert!(matches!(
            p("transp[0:2] = 53"),
            Expr::Prim(Prim::Bytes {
                layer: Layer::Transport,
                protos: &[],
                pos: 0,
                len: 2,
                ..
            })
        ));
    }

    #[test]
    fn connectives() {
        let tcp = p("tcp");
        let udp = p("udp");
        assert_eq!(
            p("tcp or udp"),
            Expr::Or(alloc::vec![tcp.clone(), udp.clone()])
        );
        assert_eq!(p("tcp || udp"), p("tcp or udp"));
        assert_eq!(p("tcp && udp"), p("tcp and udp"));
        assert_eq!(p("tcp (udp)"), p("tcp and udp"));
        assert_eq!(p("syn ack"), p("syn and ack"));
        assert_eq!(p("! tcp"), Expr::Not(Box::new(tcp.clone())));
        assert_eq!(p("not tcp"), p("!tcp"));
        // `not a and b or c` is `((not a) and b) or c`.
        assert_eq!(
            p("not tcp and udp or icmp"),
            Expr::Or(alloc::vec![
                Expr::And(alloc::vec![Expr::Not(Box::new(tcp.clone())), udp.clone()]),
                p("icmp")
            ])
        );
        assert_eq!(
            p("(tcp or udp) and icmp"),
            Expr::And(alloc::vec![
                Expr::Or(alloc::vec![tcp.clone(), udp.clone()]),
                p("icmp")
            ])
        );
        assert_eq!(p("true"), Expr::Prim(Prim::Bool(true)));
        assert_eq!(p("-"), p("all"));
        assert_eq!(p("any"), p("true"));
        assert_eq!(p("none"), Expr::Prim(Prim::Bool(false)));
        assert_eq!(p("ip"), Expr::Prim(Prim::Bool(true)));
        assert_eq!(
            p("tcp ? syn : udp"),
            Expr::Or(alloc::vec![
                Expr::And(alloc::vec![tcp.clone(), p("syn")]),
                Expr::And(alloc::vec![Expr::Not(Box::new(tcp)), udp])
            ])
        );
    }

    #[test]
    fn errors_point_at_the_problem() {
        assert_eq!(e("tcp port 99999").0, "99999");
        assert!(e("tcp port 99999").1.contains("out of range"));
        assert_eq!(
            e("echo"),
            (
                "echo".into(),
                "'echo' is ambiguous; try 'port echo', 'icmp type echo'".into()
            )
        );
        assert_eq!(e("tcp and").0, "and");
        assert_eq!(e("(tcp or udp").1, "missing ')'");
        assert_eq!(e("tcp )").0, ")");
        assert!(e("tcp )").1.contains("garbage"));
        assert_eq!(e("80").1, "specify header field or 'port'");
        assert_eq!(e("src dst host 1.2.3.4").0, "dst");
        assert_eq!(e("tcp udp port 5").1, "transport protocol specified twice");
        assert_eq!(e("tcp udp").0, "udp");
        assert_eq!(e("host 10/8").0, "10/8");
        assert_eq!(e("host > 1.2.3.4").0, ">");
        assert_eq!(e("ip ttl 256").0, "256");
        assert_eq!(e("ip[0:5] = 1").1, "field length must be 1 to 4 bytes");
        assert_eq!(e("ether host 0:1:2:3:4:5").0, "ether");
        assert_eq!(e("tcp port foo").0, "foo");
        assert_eq!(e("tcp # 5").0, "#");
        assert_eq!(e("icmp port 5").1, "'icmp' packets have no ports");
        assert_eq!(e("port 2000-1000").1, "empty range '2000-1000'");
        assert_eq!(e("tcp[13] & 0").1, "zero mask");
        assert!(e("tcp ? syn").1.contains("ternary"));
        assert_eq!(e("").1, "empty expression");
        assert_eq!(e("not").1, "missing expression after 'not'");
        let deep = "(".repeat(200) + "tcp" + &")".repeat(200);
        assert!(e(&deep).1.contains("deeply"));
        let nots = "! ".repeat(200) + "tcp";
        assert!(e(&nots).1.contains("deeply"));
    }
}
