//! A direct interpreter of the expression AST, written for clarity, not speed: the reference the
//! compiled program is checked against (property tests, fuzzing). It reads header fields by
//! byte index, with no word masks or tests.
//!
//! Rules it states (and the compiled program must follow):
//! * a comparison on a field the packet does not have (truncated) is false;
//! * `!=` is "the field is present and differs"; with `src or dst` it needs both fields and means
//!   neither equals, with `src and dst` it means not both equal;
//! * transport fields exist only in first fragments (fragment offset 0) with IHL >= 5, at IP
//!   header + 4×IHL.

use super::expr::{Cmp, Dir, Expr, IpField, Layer, Prim, Rel, TpField};

/// An IP packet: its bytes from the IP header on, and its transport header if it has one.
pub struct Packet<'a> {
    pub ip: &'a [u8],
    pub transport: Option<&'a [u8]>,
}

impl<'a> Packet<'a> {
    /// `data` with the IP header at `ip_offset`.
    pub fn new(data: &'a [u8], ip_offset: usize) -> Packet<'a> {
        let ip = data.get(ip_offset..).unwrap_or(&[]);
        let transport = if ip.len() >= 8 {
            let ihl = (ip[0] & 0x0f) as usize;
            let frag_offset = ((ip[6] as u16 & 0x1f) << 8) | ip[7] as u16;
            if ihl >= 5 && frag_offset == 0 {
                Some(ip.get(4 * ihl..).unwrap_or(&[]))
            } else {
                None
            }
        } else {
            None
        };
        Packet { ip, transport }
    }
}

/// `len` bytes at `pos`, big-endian, if present.
fn bytes(h: &[u8], pos: usize, len: usize) -> Option<u32> {
    let b = h.get(pos..pos + len)?;
    Some(b.iter().fold(0u32, |a, &x| (a << 8) | x as u32))
}

fn compare(v: Option<u32>, rel: &Rel) -> bool {
    let Some(v) = v else { return false };
    let v = v & rel.mask;
    match rel.cmp {
        Cmp::In(a, b) => a <= v && v <= b,
        Cmp::NotIn(a, b) => !(a <= v && v <= b),
        Cmp::Lt(x) => v < x,
        Cmp::Le(x) => v <= x,
        Cmp::Gt(x) => v > x,
        Cmp::Ge(x) => v >= x,
    }
}

fn directed(dir: Dir, src: Option<u32>, dst: Option<u32>, rel: &Rel) -> bool {
    if let Cmp::NotIn(a, b) = rel.cmp {
        let eq = Rel {
            mask: rel.mask,
            cmp: Cmp::In(a, b),
        };
        let both = src.is_some() && dst.is_some();
        return match dir {
            Dir::Src => src.is_some() && !compare(src, &eq),
            Dir::Dst => dst.is_some() && !compare(dst, &eq),
            Dir::SrcOrDst => both && !(compare(src, &eq) || compare(dst, &eq)),
            Dir::SrcAndDst => both && !(compare(src, &eq) && compare(dst, &eq)),
        };
    }
    match dir {
        Dir::Src => compare(src, rel),
        Dir::Dst => compare(dst, rel),
        Dir::SrcOrDst => compare(src, rel) || compare(dst, rel),
        Dir::SrcAndDst => compare(src, rel) && compare(dst, rel),
    }
}

fn ip_field(ip: &[u8], f: IpField) -> Option<u32> {
    let b = |k: usize| ip.get(k).map(|&x| x as u32);
    match f {
        IpField::Vers => b(0).map(|x| x >> 4),
        IpField::Hl => b(0).map(|x| x & 0x0f),
        IpField::Tos => b(1),
        IpField::Dscp => b(1).map(|x| x >> 2),
        IpField::Ecn => b(1).map(|x| x & 3),
        IpField::Len => bytes(ip, 2, 2),
        IpField::Id => bytes(ip, 4, 2),
        IpField::Ttl => b(8),
        IpField::Proto => b(9),
    }
}

fn proto_is(p: &Packet<'_>, protos: &[u8]) -> bool {
    protos.is_empty() || p.ip.get(9).is_some_and(|x| protos.contains(x))
}

pub fn eval_prim(prim: &Prim, p: &Packet<'_>) -> bool {
    match prim {
        Prim::Bool(b) => *b,
        Prim::Ip(f, rel) => compare(ip_field(p.ip, *f), rel),
        Prim::Frag => bytes(p.ip, 6, 2).is_some_and(|x| x & 0x3fff != 0),
        Prim::Host(dir, rel) => directed(*dir, bytes(p.ip, 12, 4), bytes(p.ip, 16, 4), rel),
        Prim::Port { dir, protos, rel } => {
            proto_is(p, protos)
                && p.transport
                    .is_some_and(|t| directed(*dir, bytes(t, 0, 2), bytes(t, 2, 2), rel))
        }
        Prim::TcpOpt(flag) => {
            proto_is(p, &[6])
                && p.transport
                    .and_then(|t| t.get(13))
                    .is_some_and(|f| f & flag == *flag)
        }
        Prim::Transport { proto, field, rel } => {
            proto_is(p, &[*proto])
                && p.transport.is_some_and(|t| {
                    let v = match field {
                        TpField::IcmpType => bytes(t, 0, 1),
                        TpField::TcpFlags => bytes(t, 13, 1),
                        TpField::TcpWin => bytes(t, 14, 2),
                    };
                    compare(v, rel)
                })
        }
        Prim::Bytes {
            layer,
            protos,
            pos,
            len,
            rel,
        } => {
            let h = match layer {
                Layer::Ip => Some(p.ip),
                Layer::Transport => p.transport,
            };
            proto_is(p, protos)
                && h.is_some_and(|h| compare(bytes(h, *pos as usize, *len as usize), rel))
        }
    }
}

pub fn eval(e: &Expr, p: &Packet<'_>) -> bool {
    match e {
        Expr::Prim(prim) => eval_prim(prim, p),
        Expr::Not(e) => !eval(e, p),
        Expr::And(es) => es.iter().all(|e| eval(e, p)),
        Expr::Or(es) => es.iter().any(|e| eval(e, p)),
    }
}

/// The action of the first rule whose expression holds.
pub fn classify(rules: &[(Expr, Option<usize>)], p: &Packet<'_>) -> Option<usize> {
    rules.iter().find(|(e, _)| eval(e, p)).and_then(|(_, a)| *a)
}
