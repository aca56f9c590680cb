//! Lowering: the expression AST to formulas over word tests (the compiler's input).
//!
//! Where each field lives (offsets from the IP or transport header, in 4-byte words):
//!
//! | field | base + word | mask |
//! |---|---|---|
//! | vers / hl | ip+0 | `f0000000` / `0f000000` |
//! | tos / dscp / ecn | ip+0 | `00ff0000` / `00fc0000` / `00030000` |
//! | len | ip+0 | `0000ffff` |
//! | id / frag (MF + offset) | ip+4 | `ffff0000` / `00003fff` |
//! | ttl / proto | ip+8 | `ff000000` / `00ff0000` |
//! | src / dst | ip+12 / ip+16 | `ffffffff` |
//! | sport / dport | transp+0 | `ffff0000` / `0000ffff` |
//! | icmp type | transp+0 | `ff000000` |
//! | tcp flags / win | transp+12 | `00ff0000` / `0000ffff` |

use alloc::vec::Vec;

use super::expr::{Cmp, Dir, Expr, IpField, Layer, Prim, Rel, TpField};
use super::program::{Base, Formula, Test};

/// Where a field sits: the word at `base + offset`, the field's lowest bit at `shift`, its
/// largest value `max`, and the bytes the packet needs (`need`) for it to be present.
#[derive(Clone, Copy, Debug)]
struct Loc {
    base: Base,
    offset: u16,
    shift: u32,
    max: u32,
    need: u16,
}

const fn loc(base: Base, offset: u16, shift: u32, max: u32, need: u16) -> Loc {
    Loc {
        base,
        offset,
        shift,
        max,
        need,
    }
}

const SRC: Loc = loc(Base::Ip, 12, 0, u32::MAX, 16);
const DST: Loc = loc(Base::Ip, 16, 0, u32::MAX, 20);
const SPORT: Loc = loc(Base::Transport, 0, 16, 0xffff, 2);
const DPORT: Loc = loc(Base::Transport, 0, 0, 0xffff, 4);
const PROTO: Loc = loc(Base::Ip, 8, 16, 0xff, 10);
const FRAG: Test = Test {
    base: Base::Ip,
    offset: 4,
    need: 8,
    mask: 0x3fff,
    lo: 1,
    hi: 0x3fff,
};

fn ip_loc(f: IpField) -> Loc {
    match f {
        IpField::Vers => loc(Base::Ip, 0, 28, 0xf, 1),
        IpField::Hl => loc(Base::Ip, 0, 24, 0xf, 1),
        IpField::Tos => loc(Base::Ip, 0, 16, 0xff, 2),
        IpField::Dscp => loc(Base::Ip, 0, 18, 0x3f, 2),
        IpField::Ecn => loc(Base::Ip, 0, 16, 0x3, 2),
        IpField::Len => loc(Base::Ip, 0, 0, 0xffff, 4),
        IpField::Id => loc(Base::Ip, 4, 16, 0xffff, 6),
        IpField::Ttl => loc(Base::Ip, 8, 24, 0xff, 9),
        IpField::Proto => PROTO,
    }
}

fn tp_loc(f: TpField) -> Loc {
    match f {
        TpField::IcmpType => loc(Base::Transport, 0, 24, 0xff, 1),
        TpField::TcpFlags => loc(Base::Transport, 12, 16, 0xff, 14),
        TpField::TcpWin => loc(Base::Transport, 12, 0, 0xffff, 16),
    }
}

/// `len` bytes at `pos`: in its aligned word if it fits in one, else in the word starting at
/// `pos` (an extension over Click, which requires fields to sit inside one aligned word).
fn bytes_loc(base: Base, pos: u16, len: u8) -> Loc {
    let len32 = len as u32;
    let max = if len == 4 {
        u32::MAX
    } else {
        (1 << (8 * len32)) - 1
    };
    let need = pos + len as u16;
    let in_word = (pos % 4) as u32 + len32 <= 4;
    if in_word {
        loc(
            base,
            pos & !3,
            8 * (4 - (pos % 4) as u32 - len32),
            max,
            need,
        )
    } else {
        loc(base, pos, 8 * (4 - len32), max, need)
    }
}

/// The field is present (whatever its value).
fn present(l: Loc) -> Formula {
    let m = l.max << l.shift;
    Formula::Test(Test {
        base: l.base,
        offset: l.offset,
        need: l.need,
        mask: m,
        lo: 0,
        hi: m,
    })
}

/// `(field & mask) in lo..=hi` (values in field units).
fn range(l: Loc, mask: u32, lo: u32, hi: u32) -> Formula {
    let mask = mask & l.max;
    let hi = hi.min(mask);
    if lo > hi {
        return Formula::Const(false);
    }
    Formula::Test(Test {
        base: l.base,
        offset: l.offset,
        need: l.need,
        mask: mask << l.shift,
        lo: lo << l.shift,
        hi: hi << l.shift,
    })
}

/// A positive comparison (anything but `NotIn`).
fn positive(l: Loc, rel: &Rel) -> Formula {
    let m = rel.mask & l.max;
    match rel.cmp {
        Cmp::In(a, b) => range(l, m, a, b),
        Cmp::NotIn(a, b) => range(l, m, a, b), // callers negate
        Cmp::Lt(0) => Formula::Const(false),
        Cmp::Lt(v) => range(l, m, 0, v - 1),
        Cmp::Le(v) => range(l, m, 0, v),
        Cmp::Gt(v) if v >= m => Formula::Const(false),
        Cmp::Gt(v) => range(l, m, v + 1, m),
        Cmp::Ge(v) => range(l, m, v, m),
    }
}

/// One field: `!=` means "present and not equal".
fn field(l: Loc, rel: &Rel) -> Formula {
    match rel.cmp {
        Cmp::NotIn(..) => and(alloc::vec![present(l), Formula::negate(positive(l, rel))]),
        _ => positive(l, rel),
    }
}

/// Source and/or destination: `!=` negates the whole combination, which needs both fields.
fn directed(dir: Dir, src: Loc, dst: Loc, rel: &Rel) -> Formula {
    let combine = |s: Formula, d: Formula| match dir {
        Dir::Src => s,
        Dir::Dst => d,
        Dir::SrcOrDst => or(alloc::vec![s, d]),
        Dir::SrcAndDst => and(alloc::vec![s, d]),
    };
    let pos = combine(positive(src, rel), positive(dst, rel));
    match rel.cmp {
        Cmp::NotIn(..) => {
            let mut v = match dir {
                Dir::Src => alloc::vec![present(src)],
                Dir::Dst => alloc::vec![present(dst)],
                _ => alloc::vec![present(src), present(dst)],
            };
            v.push(Formula::negate(pos));
            and(v)
        }
        _ => pos,
    }
}

fn proto_in(protos: &[u8]) -> Option<Formula> {
    (!protos.is_empty()).then(|| {
        or(protos
            .iter()
            .map(|&p| range(PROTO, 0xff, p as u32, p as u32))
            .collect())
    })
}

fn and(mut v: Vec<Formula>) -> Formula {
    if v.len() == 1 {
        v.pop().expect("one")
    } else {
        Formula::And(v)
    }
}

fn or(mut v: Vec<Formula>) -> Formula {
    if v.len() == 1 {
        v.pop().expect("one")
    } else {
        Formula::Or(v)
    }
}

fn with_proto(protos: &[u8], f: Formula) -> Formula {
    match proto_in(protos) {
        Some(p) => and(alloc::vec![p, f]),
        None => f,
    }
}

pub fn lower_prim(p: &Prim) -> Formula {
    match *p {
        Prim::Bool(b) => Formula::Const(b),
        Prim::Ip(f, rel) => field(ip_loc(f), &rel),
        Prim::Frag => Formula::Test(FRAG),
        Prim::Host(dir, rel) => directed(dir, SRC, DST, &rel),
        Prim::Port { dir, protos, rel } => with_proto(protos, directed(dir, SPORT, DPORT, &rel)),
        Prim::TcpOpt(flag) => {
            let l = tp_loc(TpField::TcpFlags);
            with_proto(&[6], range(l, flag as u32, flag as u32, flag as u32))
        }
        Prim::Transport {
            proto,
            field: f,
            rel,
        } => with_proto(&[proto], field(tp_loc(f), &rel)),
        Prim::Bytes {
            layer,
            protos,
            pos,
            len,
            rel,
        } => {
            let base = match layer {
                Layer::Ip => Base::Ip,
                Layer::Transport => Base::Transport,
            };
            with_proto(protos, field(bytes_loc(base, pos, len), &rel))
        }
    }
}

/// The formula of an expression.
pub fn lower(e: &Expr) -> Formula {
    match e {
        Expr::Prim(p) => lower_prim(p),
        Expr::Not(e) => Formula::negate(lower(e)),
        Expr::And(es) => and(es.iter().map(lower).collect()),
        Expr::Or(es) => or(es.iter().map(lower).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_fields_use_aligned_words_when_they_fit() {
        let l = bytes_loc(Base::Ip, 9, 1);
        assert_eq!((l.offset, l.shift, l.need), (8, 16, 10));
        let l = bytes_loc(Base::Ip, 12, 4);
        assert_eq!((l.offset, l.shift, l.need), (12, 0, 16));
        let l = bytes_loc(Base::Transport, 3, 2);
        assert_eq!((l.offset, l.shift, l.need), (3, 16, 5));
    }

    #[test]
    fn impossible_relations_are_constants() {
        let r = |cmp| Rel { mask: 0xff, cmp };
        let ttl = ip_loc(IpField::Ttl);
        assert_eq!(field(ttl, &r(Cmp::Lt(0))), Formula::Const(false));
        assert_eq!(field(ttl, &r(Cmp::Gt(255))), Formula::Const(false));
        assert!(matches!(field(ttl, &r(Cmp::Ge(0))), Formula::Test(_)));
    }
}
