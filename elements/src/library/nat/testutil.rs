//! Packets for the NAT tests, and checksums computed from scratch to check the elements'
//! incremental updates against.

use alloc::vec::Vec;

use smoltcp::wire::{IpAddress, Ipv4Address, Ipv4Packet, TcpPacket, UdpPacket};

pub const TCP: u8 = 6;
pub const UDP: u8 = 17;

pub const SYN: u8 = 0x02;
pub const ACK: u8 = 0x10;
pub const FIN: u8 = 0x01;
pub const RST: u8 = 0x04;

/// The one's-complement sum of `data` as 16-bit big-endian words, folded.
fn sum(data: &[u8], mut acc: u32) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        acc += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        acc += u32::from(*last) << 8;
    }
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc
}

/// The checksum of `data` (the value that makes the sum 0xFFFF).
fn checksum(data: &[u8], acc: u32) -> u16 {
    !(sum(data, acc) as u16)
}

fn pseudo(src: [u8; 4], dst: [u8; 4], proto: u8, len: usize) -> u32 {
    let mut b = [0u8; 12];
    b[..4].copy_from_slice(&src);
    b[4..8].copy_from_slice(&dst);
    b[9] = proto;
    b[10..12].copy_from_slice(&(len as u16).to_be_bytes());
    sum(&b, 0)
}

/// An IPv4 packet with `l4` as payload, header checksum filled, `options` bytes of options.
fn ipv4(src: [u8; 4], dst: [u8; 4], proto: u8, options: usize, l4: &[u8]) -> Vec<u8> {
    let hl = 20 + options;
    let mut p = alloc::vec![0u8; hl + l4.len()];
    p[0] = 0x40 | (hl / 4) as u8;
    p[2..4].copy_from_slice(&((hl + l4.len()) as u16).to_be_bytes());
    p[4..6].copy_from_slice(&0x1234u16.to_be_bytes());
    p[8] = 64;
    p[9] = proto;
    p[12..16].copy_from_slice(&src);
    p[16..20].copy_from_slice(&dst);
    for b in &mut p[20..hl] {
        *b = 1; // NOP options
    }
    let c = checksum(&p[..hl], 0);
    p[10..12].copy_from_slice(&c.to_be_bytes());
    p[hl..].copy_from_slice(l4);
    p
}

pub fn tcp(
    src: [u8; 4],
    sport: u16,
    dst: [u8; 4],
    dport: u16,
    flags: u8,
    payload: &[u8],
) -> Vec<u8> {
    tcp_opts(src, sport, dst, dport, flags, payload, 0)
}

pub fn tcp_opts(
    src: [u8; 4],
    sport: u16,
    dst: [u8; 4],
    dport: u16,
    flags: u8,
    payload: &[u8],
    ip_options: usize,
) -> Vec<u8> {
    let mut t = alloc::vec![0u8; 20 + payload.len()];
    t[0..2].copy_from_slice(&sport.to_be_bytes());
    t[2..4].copy_from_slice(&dport.to_be_bytes());
    t[4..8].copy_from_slice(&1000u32.to_be_bytes());
    t[12] = 5 << 4;
    t[13] = flags;
    t[14..16].copy_from_slice(&8192u16.to_be_bytes());
    t[20..].copy_from_slice(payload);
    let c = checksum(&t, pseudo(src, dst, TCP, t.len()));
    t[16..18].copy_from_slice(&c.to_be_bytes());
    ipv4(src, dst, TCP, ip_options, &t)
}

/// A UDP packet; `with_checksum` false leaves the checksum 0 ("none").
pub fn udp(
    src: [u8; 4],
    sport: u16,
    dst: [u8; 4],
    dport: u16,
    payload: &[u8],
    with_checksum: bool,
) -> Vec<u8> {
    let mut u = alloc::vec![0u8; 8 + payload.len()];
    u[0..2].copy_from_slice(&sport.to_be_bytes());
    u[2..4].copy_from_slice(&dport.to_be_bytes());
    let ulen = u.len() as u16;
    u[4..6].copy_from_slice(&ulen.to_be_bytes());
    u[8..].copy_from_slice(payload);
    if with_checksum {
        let mut c = checksum(&u, pseudo(src, dst, UDP, u.len()));
        if c == 0 {
            c = 0xffff;
        }
        u[6..8].copy_from_slice(&c.to_be_bytes());
    }
    ipv4(src, dst, UDP, 0, &u)
}

/// An ICMP echo request.
pub fn icmp(src: [u8; 4], dst: [u8; 4]) -> Vec<u8> {
    let mut m = alloc::vec![8u8, 0, 0, 0, 0, 1, 0, 1];
    let c = checksum(&m, 0);
    m[2..4].copy_from_slice(&c.to_be_bytes());
    ipv4(src, dst, 1, 0, &m)
}

/// (source, source port, destination, destination port) of an IPv4 TCP/UDP packet.
pub fn fields(p: &[u8]) -> ([u8; 4], u16, [u8; 4], u16) {
    let hl = usize::from(p[0] & 15) * 4;
    (
        p[12..16].try_into().unwrap(),
        u16::from_be_bytes([p[hl], p[hl + 1]]),
        p[16..20].try_into().unwrap(),
        u16::from_be_bytes([p[hl + 2], p[hl + 3]]),
    )
}

/// The L4 checksum field.
pub fn l4_checksum(p: &[u8]) -> u16 {
    let hl = usize::from(p[0] & 15) * 4;
    let at = if p[9] == TCP { hl + 16 } else { hl + 6 };
    u16::from_be_bytes([p[at], p[at + 1]])
}

/// Whether the IP header checksum and the TCP/UDP checksum (pseudo-header included) are right,
/// computed from scratch here, and smoltcp agrees. A zero UDP checksum counts as right.
pub fn checksums_ok(p: &[u8]) -> bool {
    let hl = usize::from(p[0] & 15) * 4;
    let tl = usize::from(u16::from_be_bytes([p[2], p[3]]));
    let src: [u8; 4] = p[12..16].try_into().unwrap();
    let dst: [u8; 4] = p[16..20].try_into().unwrap();
    let ip_ok = sum(&p[..hl], 0) == 0xffff;
    let l4 = &p[hl..tl];
    let l4_ok = match p[9] {
        UDP if l4_checksum(p) == 0 => true,
        proto => sum(l4, pseudo(src, dst, proto, l4.len())) == 0xffff,
    };
    // smoltcp's own verification, as a second opinion.
    let ipp = Ipv4Packet::new_checked(p).unwrap();
    let (s, d) = (
        IpAddress::Ipv4(Ipv4Address::from(src)),
        IpAddress::Ipv4(Ipv4Address::from(dst)),
    );
    let smol = ipp.verify_checksum()
        && match p[9] {
            TCP => TcpPacket::new_checked(l4).unwrap().verify_checksum(&s, &d),
            UDP => UdpPacket::new_checked(l4).unwrap().verify_checksum(&s, &d),
            _ => true,
        };
    assert_eq!(
        ip_ok && l4_ok,
        smol,
        "our checksum check and smoltcp's disagree"
    );
    ip_ok && l4_ok
}
