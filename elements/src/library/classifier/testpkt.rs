//! Test packets: IPv4 with TCP, UDP or ICMP, optionally in Ethernet, written with smoltcp's
//! wire accessors (checksums filled), plus knobs for malformed variants.

use alloc::vec::Vec;
use core::net::Ipv4Addr;

use smoltcp::wire::{
    EthernetAddress, EthernetFrame, EthernetProtocol, Icmpv4Message, Icmpv4Packet, IpAddress,
    IpProtocol, Ipv4Packet, TcpPacket, UdpPacket,
};

#[derive(Clone, Debug)]
pub struct Ip {
    pub src: [u8; 4],
    pub dst: [u8; 4],
    pub proto: u8,
    pub ttl: u8,
    pub dscp: u8,
    pub ecn: u8,
    pub id: u16,
    pub more_frags: bool,
    /// In 8-byte units.
    pub frag_offset: u16,
    /// Bytes of IP options (a multiple of 4).
    pub options: usize,
    pub payload: Vec<u8>,
}

impl Default for Ip {
    fn default() -> Ip {
        Ip {
            src: [10, 0, 0, 1],
            dst: [10, 0, 0, 2],
            proto: 6,
            ttl: 64,
            dscp: 0,
            ecn: 0,
            id: 1,
            more_frags: false,
            frag_offset: 0,
            options: 0,
            payload: Vec::new(),
        }
    }
}

impl Ip {
    pub fn tcp(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, flags: u8) -> Ip {
        let mut ip = Ip {
            src,
            dst,
            proto: 6,
            ..Ip::default()
        };
        ip.payload = tcp(sport, dport, flags, 8192);
        ip
    }

    pub fn udp(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16) -> Ip {
        let mut ip = Ip {
            src,
            dst,
            proto: 17,
            ..Ip::default()
        };
        ip.payload = udp(sport, dport, b"hello");
        ip
    }

    pub fn icmp(src: [u8; 4], dst: [u8; 4], ty: u8) -> Ip {
        let mut ip = Ip {
            src,
            dst,
            proto: 1,
            ..Ip::default()
        };
        ip.payload = icmp(ty, 0);
        ip
    }

    /// The IPv4 packet, with transport checksums filled when the payload is a whole header.
    pub fn build(&self) -> Vec<u8> {
        let hl = 20 + self.options;
        let mut buf = alloc::vec![0u8; hl + self.payload.len()];
        buf[hl..].copy_from_slice(&self.payload);
        let (s, d) = (Ipv4Addr::from(self.src), Ipv4Addr::from(self.dst));
        {
            let mut p = Ipv4Packet::new_unchecked(&mut buf[..]);
            p.set_version(4);
            p.set_header_len(hl as u8);
            p.set_dscp(self.dscp);
            p.set_ecn(self.ecn);
            p.set_total_len((hl + self.payload.len()) as u16);
            p.set_ident(self.id);
            p.set_dont_frag(false);
            p.set_more_frags(self.more_frags);
            p.set_frag_offset(self.frag_offset * 8);
            p.set_hop_limit(self.ttl);
            p.set_next_header(IpProtocol::from(self.proto));
            p.set_src_addr(s);
            p.set_dst_addr(d);
            p.fill_checksum();
        }
        let (sa, da) = (IpAddress::Ipv4(s), IpAddress::Ipv4(d));
        let payload = &mut buf[hl..];
        if self.frag_offset == 0 {
            match self.proto {
                6 if payload.len() >= 20 => {
                    TcpPacket::new_unchecked(payload).fill_checksum(&sa, &da)
                }
                17 if payload.len() >= 8 => {
                    UdpPacket::new_unchecked(payload).fill_checksum(&sa, &da)
                }
                1 if payload.len() >= 8 => Icmpv4Packet::new_unchecked(payload).fill_checksum(),
                _ => {}
            }
        }
        buf
    }
}

pub fn tcp(sport: u16, dport: u16, flags: u8, win: u16) -> Vec<u8> {
    let mut b = alloc::vec![0u8; 20];
    let mut t = TcpPacket::new_unchecked(&mut b[..]);
    t.set_src_port(sport);
    t.set_dst_port(dport);
    t.set_header_len(20);
    t.set_fin(flags & 0x01 != 0);
    t.set_syn(flags & 0x02 != 0);
    t.set_rst(flags & 0x04 != 0);
    t.set_psh(flags & 0x08 != 0);
    t.set_ack(flags & 0x10 != 0);
    t.set_urg(flags & 0x20 != 0);
    t.set_ece(flags & 0x40 != 0);
    t.set_cwr(flags & 0x80 != 0);
    t.set_window_len(win);
    b
}

pub fn udp(sport: u16, dport: u16, data: &[u8]) -> Vec<u8> {
    let mut b = alloc::vec![0u8; 8 + data.len()];
    b[8..].copy_from_slice(data);
    let mut u = UdpPacket::new_unchecked(&mut b[..]);
    u.set_src_port(sport);
    u.set_dst_port(dport);
    u.set_len((8 + data.len()) as u16);
    b
}

pub fn icmp(ty: u8, code: u8) -> Vec<u8> {
    let mut b = alloc::vec![0u8; 8];
    let mut i = Icmpv4Packet::new_unchecked(&mut b[..]);
    i.set_msg_type(Icmpv4Message::from(ty));
    i.set_msg_code(code);
    b
}

/// `ip` in an Ethernet frame.
pub fn ether(ip: &[u8]) -> Vec<u8> {
    let mut b = alloc::vec![0u8; 14 + ip.len()];
    let mut f = EthernetFrame::new_unchecked(&mut b[..]);
    f.set_dst_addr(EthernetAddress([0, 1, 2, 3, 4, 5]));
    f.set_src_addr(EthernetAddress([0, 1, 2, 3, 4, 6]));
    f.set_ethertype(EthernetProtocol::Ipv4);
    b[14..].copy_from_slice(ip);
    b
}
