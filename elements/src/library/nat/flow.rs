//! Flow identifiers, mappings, and the incremental checksum arithmetic they use.

use core::net::Ipv4Addr;

/// A flow as seen in a packet: addresses and ports (host order) and the IP protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct FlowKey {
    pub saddr: u32,
    pub daddr: u32,
    pub sport: u16,
    pub dport: u16,
    pub proto: u8,
}

impl FlowKey {
    /// The same flow seen from the other end.
    #[inline]
    pub fn reverse(&self) -> FlowKey {
        FlowKey {
            saddr: self.daddr,
            daddr: self.saddr,
            sport: self.dport,
            dport: self.sport,
            proto: self.proto,
        }
    }

    /// The 16-bit words the IP checksum covers (addresses) and the ports, in order.
    fn words(&self) -> [u16; 6] {
        [
            (self.saddr >> 16) as u16,
            self.saddr as u16,
            (self.daddr >> 16) as u16,
            self.daddr as u16,
            self.sport,
            self.dport,
        ]
    }
}

impl core::fmt::Display for FlowKey {
    /// Click's `IPFlowID` text: `(1.0.0.1, 1024, 2.0.0.2, 80)`.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "({}, {}, {}, {})",
            Ipv4Addr::from(self.saddr),
            self.sport,
            Ipv4Addr::from(self.daddr),
            self.dport
        )
    }
}

/// No flow / end of a list.
pub(crate) const NIL: u32 = u32::MAX;

/// TCP connection state bits (forward = bit 0 of each pair, reply = bit 1).
pub(crate) const TCP_FWD_DONE: u8 = 1;
pub(crate) const TCP_BOTH_DONE: u8 = 3;
pub(crate) const TCP_FWD_DATA: u8 = 4;
pub(crate) const TCP_BOTH_DATA: u8 = 12;

/// One mapping: a flow and its reply flow, each with a table entry pointing here.
#[derive(Clone, Debug)]
pub(crate) struct Flow {
    /// The flow as it arrived (the forward entry's key).
    pub orig: FlowKey,
    /// The flow after rewriting; its reverse is the reply entry's key.
    pub rew: FlowKey,
    /// Time of the last packet, for expiry and the guarantee.
    pub last_ns: u64,
    /// Least-recently-used list (live flows) or free list (`next` only).
    pub prev: u32,
    pub next: u32,
    pub foutput: u32,
    pub routput: u32,
    /// The input whose spec made the mapping.
    pub input: u32,
    /// One's-complement sums of the changes, forward direction: addresses (IP header), and
    /// addresses plus ports (TCP/UDP checksum, which covers the pseudo-header).
    pub ip_delta: u16,
    pub l4_delta: u16,
    /// TCP: `TCP_*` bits. UDP: bit 0 = a reply was seen, bits 1-2 count packets up to 3.
    pub state: u8,
    /// Timeouts of TCP connections (else of UDP flows).
    pub tcp: bool,
    pub live: bool,
}

impl Flow {
    pub fn new(orig: FlowKey, rew: FlowKey) -> Flow {
        let (o, r) = (orig.words(), rew.words());
        let mut ip = 0u16;
        for k in 0..4 {
            ip = csum_add(ip, csum_add(!o[k], r[k]));
        }
        let mut l4 = ip;
        for k in 4..6 {
            l4 = csum_add(l4, csum_add(!o[k], r[k]));
        }
        Flow {
            orig,
            rew,
            last_ns: 0,
            prev: NIL,
            next: NIL,
            foutput: 0,
            routput: 0,
            input: 0,
            ip_delta: ip,
            l4_delta: l4,
            state: 0,
            tcp: false,
            live: false,
        }
    }

    /// Notes a TCP segment's flags and whether it carried data (Click's rules: RST ends both
    /// directions, FIN ends its own, SYN or data reopens its own).
    pub fn track_tcp(&mut self, reply: bool, flags: u8, has_payload: bool) {
        let shift = u8::from(reply);
        const FIN: u8 = 0x01;
        const SYN: u8 = 0x02;
        const RST: u8 = 0x04;
        if flags & RST != 0 {
            self.state |= TCP_BOTH_DONE;
        } else if flags & FIN != 0 {
            self.state |= TCP_FWD_DONE << shift;
        } else if flags & SYN != 0 || has_payload {
            self.state &= !(TCP_FWD_DONE << shift);
        }
        if has_payload {
            self.state |= TCP_FWD_DATA << shift;
        }
    }

    /// Notes a UDP packet (Click: "streaming" = at least 3 packets, at least one reply).
    pub fn track_udp(&mut self, reply: bool) {
        if reply {
            self.state |= 1;
        }
        if self.state < 6 {
            self.state += 2;
        }
    }

    pub fn udp_streaming(&self) -> bool {
        self.state > 6
    }
}

/// One's-complement addition of two 16-bit words.
#[inline]
pub(crate) fn csum_add(a: u16, b: u16) -> u16 {
    let s = u32::from(a) + u32::from(b);
    ((s & 0xffff) + (s >> 16)) as u16
}

/// A checksum field after the covered data changed by `delta` (RFC 1624, eqn. 3).
#[inline]
pub(crate) fn csum_adjust(field: u16, delta: u16) -> u16 {
    !csum_add(!field, delta)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum(words: &[u16]) -> u16 {
        words.iter().fold(0, |a, &w| csum_add(a, w))
    }

    #[test]
    fn deltas_match_recomputed_checksums() {
        let orig = FlowKey {
            saddr: 0x0a00_0001,
            daddr: 0x0200_0002,
            sport: 5000,
            dport: 80,
            proto: 6,
        };
        let rew = FlowKey {
            saddr: 0x0100_0001,
            sport: 1024,
            ..orig
        };
        let f = Flow::new(orig, rew);
        let other = [0x4500u16, 0x0054, 0x1234, 0x4006];
        let before = !csum_add(sum(&other), sum(&orig.words()));
        let after = !csum_add(sum(&other), sum(&rew.words()));
        assert_eq!(csum_adjust(before, f.l4_delta), after);
        // Back again with the complemented delta.
        assert_eq!(csum_adjust(after, !f.l4_delta), before);
    }

    #[test]
    fn tcp_state() {
        let k = FlowKey {
            saddr: 1,
            daddr: 2,
            sport: 3,
            dport: 4,
            proto: 6,
        };
        let mut f = Flow::new(k, k);
        f.track_tcp(false, 0x02, false);
        f.track_tcp(true, 0x12, true);
        f.track_tcp(false, 0x10, true);
        assert_eq!(f.state & TCP_BOTH_DATA, TCP_BOTH_DATA);
        f.track_tcp(false, 0x11, false);
        assert_ne!(f.state & TCP_BOTH_DONE, TCP_BOTH_DONE);
        f.track_tcp(true, 0x11, false);
        assert_eq!(f.state & TCP_BOTH_DONE, TCP_BOTH_DONE);
        let mut g = Flow::new(k, k);
        g.track_tcp(true, 0x04, false);
        assert_eq!(g.state & TCP_BOTH_DONE, TCP_BOTH_DONE);
    }
}
