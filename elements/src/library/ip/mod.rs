//! IPv4 header checking, marking, TTL, checksums, encapsulation, fragmentation and printing:
//! Click's `elements/ip`.
//!
//! The helpers here are shared with the `icmp` and `tcpudp` groups: where the IPv4 header of a
//! packet is, the two-output split used by every checking element, address lists, and the user
//! annotation bytes Click's IP elements use.
//!
//! Header fields are read with the small accessors below rather than smoltcp's `Ipv4Packet` /
//! `UdpPacket` / `TcpPacket`: these elements must classify malformed headers exactly as Click
//! does (one reason per check, in Click's order, on headers at any offset and possibly cut
//! short), which `new_checked` does not report and `new_unchecked` accessors would panic on; and
//! smoltcp 0.12 keeps its checksum helpers private (see [`checksum`]).

pub(crate) mod checksum;
pub(crate) use crate::library::names;

mod checkipheader;
mod decipttl;
mod getipaddress;
mod ipencap;
mod ipfragmenter;
mod ipprint;
mod markipheader;
mod setipchecksum;

#[cfg(test)]
mod robustness;
#[cfg(test)]
pub(crate) mod testutil;

use alloc::string::String;
use alloc::vec::Vec;
use core::net::Ipv4Addr;

use config_lang::args::ArgValue;

use crate::batch::Batch;
use crate::element::Registry;
use crate::packet::Packet;
use crate::router::Context;

pub(crate) use crate::library::standard::element_class;

pub fn register(r: &mut Registry) {
    for c in [
        checkipheader::CLASS,
        decipttl::CLASS,
        getipaddress::CLASS,
        ipencap::CLASS,
        ipfragmenter::CLASS,
        ipprint::CLASS,
        markipheader::CLASS,
        setipchecksum::CLASS,
    ] {
        r.add(c);
    }
}

/// Byte offsets in [`Annotations::user`](crate::packet::Annotations) used by IP elements; the
/// same offsets Click's `packet_anno.hh` gives them.
/// ICMP parameter-problem pointer (set by IP option processing, read by ICMPError).
pub const ICMP_PARAMPROB_ANNO: usize = 17;
/// Nonzero: a later FixIPSrc should set the source address (set by ICMPError).
pub const FIX_IP_SRC_ANNO: usize = 19;
/// A 4-byte aggregate number (printed by IPPrint's AGGREGATE), stored big-endian.
pub const AGGREGATE_ANNO: usize = 20;

/// Values of the packet-type annotation (Click's `Packet::PacketType`, Linux's `PACKET_*`).
pub const PACKET_TYPE_BROADCAST: u8 = 1;
pub const PACKET_TYPE_MULTICAST: u8 = 2;

pub const IP_PROTO_ICMP: u8 = 1;
pub const IP_PROTO_TCP: u8 = 6;
pub const IP_PROTO_UDP: u8 = 17;

/// Flag bits and offset mask of the IPv4 flags/fragment-offset word.
pub const IP_DF: u16 = 0x4000;
pub const IP_MF: u16 = 0x2000;
pub const IP_OFFMASK: u16 = 0x1fff;

/// A space-separated list of IPv4 addresses (Click's address-list syntax; may be empty).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AddrList(pub Vec<Ipv4Addr>);

impl ArgValue for AddrList {
    const EXPECTED: &'static str = "a space-separated list of IPv4 addresses";
    fn parse_arg(s: &str) -> Result<Self, String> {
        s.split_whitespace()
            .map(Ipv4Addr::parse_arg)
            .collect::<Result<Vec<_>, _>>()
            .map(AddrList)
    }
}

/// An address or the packet's destination annotation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dst {
    Fixed(Ipv4Addr),
    Anno,
}

impl ArgValue for Dst {
    const EXPECTED: &'static str = "an IPv4 address or DST_ANNO";
    fn parse_arg(s: &str) -> Result<Self, String> {
        match s.trim() {
            "DST_ANNO" => Ok(Dst::Anno),
            t => Ipv4Addr::parse_arg(t).map(Dst::Fixed),
        }
    }
}

impl core::fmt::Display for Dst {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Dst::Fixed(a) => write!(f, "{a}"),
            Dst::Anno => f.write_str("DST_ANNO"),
        }
    }
}

/// The length of a well-formed-enough IPv4 header at `off` in `data`: 20 bytes are there, the
/// IHL is at least 5, and the whole header is there. Says nothing of version or lengths.
#[inline]
pub fn header_len_at(data: &[u8], off: usize) -> Option<usize> {
    let first = *data.get(off)?;
    let hlen = ((first & 0x0f) as usize) * 4;
    (hlen >= 20 && data.len() >= off + hlen).then_some(hlen)
}

/// Where the packet's IPv4 header is, from its network-header annotation: `(offset, header
/// length)`, if the annotation is set and [`header_len_at`] accepts the header there.
#[inline]
pub fn network_ip_header(p: &Packet) -> Option<(usize, usize)> {
    let off = p.anno().network_offset()?;
    Some((off, header_len_at(p.data(), off)?))
}

#[inline]
pub fn be16(d: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([d[at], d[at + 1]])
}

#[inline]
pub fn put16(d: &mut [u8], at: usize, v: u16) {
    d[at..at + 2].copy_from_slice(&v.to_be_bytes());
}

#[inline]
pub fn addr_at(d: &[u8], at: usize) -> Ipv4Addr {
    Ipv4Addr::new(d[at], d[at + 1], d[at + 2], d[at + 3])
}

/// The shape of every checking element: packets for which `good` returns true go to output 0,
/// the others to output 1 when it is connected, or are killed. `good` may print and count.
pub(crate) fn split_good_bad<'r>(
    mut batch: Batch,
    cx: &mut Context<'r>,
    mut good: impl FnMut(&mut Packet, &mut Context<'r>) -> bool,
) {
    let has_bad_output = cx.noutputs() >= 2;
    let mut ok = cx.new_batch();
    let mut bad = cx.new_batch();
    for mut p in batch.drain() {
        if good(&mut p, cx) {
            ok.push(p);
        } else if has_bad_output {
            bad.push(p);
        } else {
            cx.kill(p);
        }
    }
    cx.kill_batch(batch);
    cx.push(0, ok);
    cx.push(1, bad);
}

/// Drop counting and reporting shared by the header-checking elements: a total, a count per
/// reason (shown by `drop_details` when DETAILS is on), and a console line for the first drop
/// (every drop with VERBOSE).
pub(crate) struct DropLog<const N: usize> {
    pub drops: u64,
    pub by_reason: [u64; N],
    pub verbose: bool,
    pub details: bool,
}

impl<const N: usize> Default for DropLog<N> {
    fn default() -> Self {
        DropLog {
            drops: 0,
            by_reason: [0; N],
            verbose: false,
            details: false,
        }
    }
}

impl<const N: usize> DropLog<N> {
    /// Counts a drop for `reason` (an index into `texts`) and reports it if due.
    pub fn note(&mut self, reason: usize, texts: &[&str; N], what: &str, cx: &mut Context<'_>) {
        if self.drops == 0 || self.verbose {
            let line = alloc::format!("{}: {what} check failed: {}", cx.name(), texts[reason]);
            cx.platform().print(&line);
        }
        self.drops += 1;
        self.by_reason[reason] += 1;
    }

    /// The `drop_details` text: `COUNT<tab>REASON` lines.
    pub fn details_text(&self, texts: &[&str; N]) -> String {
        texts
            .iter()
            .zip(self.by_reason)
            .map(|(t, n)| alloc::format!("{n}\t{t}\n"))
            .collect()
    }

    /// The handler list: `drops`, plus `drop_details` with DETAILS.
    pub fn handlers(&self) -> &'static [crate::element::HandlerSpec] {
        use crate::element::HandlerSpec;
        const BASIC: &[HandlerSpec] = &[HandlerSpec::read("drops")];
        const DETAILED: &[HandlerSpec] = &[
            HandlerSpec::read("drops"),
            HandlerSpec::read("drop_details"),
        ];
        if self.details {
            DETAILED
        } else {
            BASIC
        }
    }

    pub fn read_handler(&self, name: &str, texts: &[&str; N]) -> Option<String> {
        match name {
            "drops" => Some(alloc::format!("{}", self.drops)),
            "drop_details" => Some(self.details_text(texts)),
            _ => None,
        }
    }
}

/// Reads a boolean written to a handler (`true`/`false`, `1`/`0`, `yes`/`no`, ...).
pub(crate) fn parse_bool(value: &str) -> Result<bool, String> {
    bool::parse_arg(value.trim())
}

/// Reads a value written to a handler with an argument type's syntax.
pub(crate) fn parse_handler<T: ArgValue>(value: &str) -> Result<T, String> {
    T::parse_arg(value.trim()).map_err(|e| alloc::format!("expected {}: {e}", T::EXPECTED))
}
