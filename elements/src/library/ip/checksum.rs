//! The Internet checksum (RFC 1071) and its incremental update (RFC 1624), shared by every
//! element that reads or writes IPv4, ICMP, UDP or TCP checksums.
//!
//! Sums are ones'-complement sums *without* the final complement: a header or segment whose
//! checksum field is correct sums to `0xFFFF`. The checksum to store is the complement of the sum
//! taken with the field zeroed. (smoltcp 0.12 keeps its checksum helpers crate-private, hence
//! this module.)

/// The ones'-complement sum of `data` (an odd trailing byte is padded with zero). Zero only for
/// all-zero data.
#[inline]
pub fn sum(data: &[u8]) -> u16 {
    // Big-endian 32-bit words summed into 64 bits: since 2^16 = 1 (mod 2^16 - 1), folding the
    // wide sum gives the same ones'-complement sum as adding 16-bit words.
    let mut acc: u64 = 0;
    let mut words = data.chunks_exact(4);
    for w in &mut words {
        acc += u32::from_be_bytes([w[0], w[1], w[2], w[3]]) as u64;
    }
    let rest = words.remainder();
    let mut k = 0;
    if rest.len() >= 2 {
        acc += u16::from_be_bytes([rest[0], rest[1]]) as u64;
        k = 2;
    }
    if let Some(&b) = rest.get(k) {
        acc += (b as u64) << 8;
    }
    fold(acc)
}

/// Folds a wide ones'-complement accumulator to 16 bits with end-around carries.
#[inline]
fn fold(mut acc: u64) -> u16 {
    acc = (acc & 0xffff_ffff) + (acc >> 32);
    acc = (acc & 0xffff_ffff) + (acc >> 32);
    acc = (acc & 0xffff) + (acc >> 16);
    acc = (acc & 0xffff) + (acc >> 16);
    acc = (acc & 0xffff) + (acc >> 16);
    acc as u16
}

/// Ones'-complement addition of two sums.
#[inline]
pub fn add(a: u16, b: u16) -> u16 {
    let s = a as u32 + b as u32;
    ((s & 0xffff) + (s >> 16)) as u16
}

/// The checksum of `data`: the complement of its sum.
#[inline]
pub fn checksum(data: &[u8]) -> u16 {
    !sum(data)
}

/// Whether an IPv4 header (exactly its IHL*4 bytes) carries a correct checksum.
#[inline]
pub fn ip_header_ok(header: &[u8]) -> bool {
    sum(header) == 0xffff
}

/// Recomputes the checksum of an IPv4 header (exactly its IHL*4 bytes, at least 20).
#[inline]
pub fn set_ip_header(header: &mut [u8]) {
    header[10] = 0;
    header[11] = 0;
    let c = checksum(header);
    header[10..12].copy_from_slice(&c.to_be_bytes());
}

/// RFC 1624 (eqn. 3): the checksum `hc` after a 16-bit word of the covered data changes from
/// `old` to `new`: `HC' = ~(~HC + ~m + m')`. Never yields `0xFFFF` (see [`fix_zero`]).
#[inline]
pub fn update16(hc: u16, old: u16, new: u16) -> u16 {
    let s = (!hc) as u32 + (!old) as u32 + new as u32;
    let s = (s & 0xffff) + (s >> 16);
    !((s + (s >> 16)) as u16)
}

/// After an incremental update stored `hc` in `data`'s checksum field: if all of `data` (that
/// field included) is zero, the right checksum is `0xFFFF`, which [`update16`] cannot produce.
#[inline]
pub fn fix_zero(hc: u16, data: &[u8]) -> u16 {
    if hc == 0 && data.iter().all(|&b| b == 0) {
        0xffff
    } else {
        hc
    }
}

/// The sum of the TCP/UDP pseudo-header.
#[inline]
pub fn pseudo_header(src: [u8; 4], dst: [u8; 4], proto: u8, len: u16) -> u16 {
    let mut s = sum(&src);
    s = add(s, sum(&dst));
    s = add(s, proto as u16);
    add(s, len)
}

/// The pseudo-header sum for a transport segment of `len` bytes under the IPv4 header `ip`
/// (its IHL*4 bytes). With a source-route option (LSRR/SSRR) the final destination is the last
/// address of the route, as RFC 1122 4.2.3.1 asks and Click does.
pub fn pseudo_header_of(ip: &[u8], len: u16) -> u16 {
    let src = [ip[12], ip[13], ip[14], ip[15]];
    let dst = source_route_final(ip).unwrap_or([ip[16], ip[17], ip[18], ip[19]]);
    pseudo_header(src, dst, ip[9], len)
}

/// The last address of a loose or strict source-route option, if the header has one.
fn source_route_final(ip: &[u8]) -> Option<[u8; 4]> {
    let mut k = 20;
    while k < ip.len() {
        match ip[k] {
            OPT_EOL => return None,
            OPT_NOP => k += 1,
            t => {
                let l = *ip.get(k + 1)? as usize;
                if l < 2 || k + l > ip.len() {
                    return None;
                }
                if (t == OPT_LSRR || t == OPT_SSRR) && l >= 7 {
                    let a = &ip[k + l - 4..k + l];
                    return Some([a[0], a[1], a[2], a[3]]);
                }
                k += l;
            }
        }
    }
    None
}

/// The checksum to store in a TCP or UDP header: over the pseudo-header and `segment` (header
/// with its checksum field zeroed, plus payload).
#[inline]
pub fn transport(ip: &[u8], segment: &[u8]) -> u16 {
    !add(pseudo_header_of(ip, segment.len() as u16), sum(segment))
}

/// Whether a TCP or UDP `segment` under IPv4 header `ip` has a correct checksum.
#[inline]
pub fn transport_ok(ip: &[u8], segment: &[u8]) -> bool {
    add(pseudo_header_of(ip, segment.len() as u16), sum(segment)) == 0xffff
}

pub const OPT_EOL: u8 = 0;
pub const OPT_NOP: u8 = 1;
pub const OPT_LSRR: u8 = 131;
pub const OPT_SSRR: u8 = 137;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::library::ip::testutil::reference_sum;
    use proptest::prelude::*;

    #[test]
    fn known_header_checksum() {
        // A textbook header: 45 00 00 73 00 00 40 00 40 11 [b8 61] c0 a8 00 01 c0 a8 00 c7.
        let mut h = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        set_ip_header(&mut h);
        assert_eq!(&h[10..12], &[0xb8, 0x61]);
        assert!(ip_header_ok(&h));
        h[8] = 0x3f;
        assert!(!ip_header_ok(&h));
    }

    #[test]
    fn zero_fix() {
        assert_eq!(fix_zero(0, &[0, 0, 0]), 0xffff);
        assert_eq!(fix_zero(0, &[0, 1]), 0);
        assert_eq!(fix_zero(5, &[0]), 5);
    }

    #[test]
    fn source_route_destination() {
        // LSRR with two addresses; the pseudo header uses the last one.
        let mut h = [0u8; 32];
        h[0] = 0x48;
        h[9] = 17;
        h[12..16].copy_from_slice(&[1, 1, 1, 1]);
        h[16..20].copy_from_slice(&[2, 2, 2, 2]);
        h[20..31].copy_from_slice(&[OPT_LSRR, 11, 4, 3, 3, 3, 3, 9, 9, 9, 9]);
        assert_eq!(
            pseudo_header_of(&h, 8),
            pseudo_header([1, 1, 1, 1], [9, 9, 9, 9], 17, 8)
        );
    }

    proptest! {
        #[test]
        fn sum_matches_reference(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            prop_assert_eq!(sum(&data) as u32, reference_sum(&data));
        }

        #[test]
        fn sum_of_all_ones(n in 0usize..3000) {
            let data = alloc::vec![0xffu8; n];
            prop_assert_eq!(sum(&data) as u32, reference_sum(&data));
        }

        #[test]
        fn incremental_matches_full(mut h in proptest::array::uniform20(any::<u8>()), at in 0usize..10, new in any::<u16>()) {
            prop_assume!(at != 5);
            h[0] = 0x45;
            set_ip_header(&mut h);
            let old = u16::from_be_bytes([h[2 * at], h[2 * at + 1]]);
            let hc = u16::from_be_bytes([h[10], h[11]]);
            let inc = update16(hc, old, new);
            h[2 * at..2 * at + 2].copy_from_slice(&new.to_be_bytes());
            set_ip_header(&mut h);
            prop_assert_eq!(inc, u16::from_be_bytes([h[10], h[11]]));
        }
    }
}
