//! IPFragmenter — fragments IPv4 packets longer than the MTU.
//!
//! Ports: 1 input, 1 or 2 outputs.
//! Processing: push.
//! Arguments: MTU (mandatory unsigned, at least 8), HONOR_DF (boolean: send Don't-Fragment
//! packets to output 1 instead of fragmenting them; default true), VERBOSE (boolean: report every
//! DF packet, not only the first five; default false); keyword HEADROOM (unsigned: at least this
//! much headroom in new fragments; default the pool's).
//! Handlers: `drops` (read) packets not forwarded (DF, or malformed); `fragments` (read)
//! fragments sent.
//!
//! The IP header is at the network-header annotation (offset 0 when unset). A packet whose
//! network part fits in MTU leaves on output 0 unchanged. A longer one is cut into fragments,
//! first to last, on output 0: every fragment's data length but the last is a multiple of 8, its
//! offset and More-Fragments flag are set (a fragment of a fragment keeps the original's offset
//! base and MF), only options with the copy bit go into the second and later fragments, and each
//! header checksum is recomputed. The first fragment keeps whatever precedes the IP header (a link
//! header); later ones start at the IP header. Every fragment carries the packet's annotations.
//! A DF packet (with HONOR_DF), or one whose header leaves no room for 8 data bytes, goes to
//! output 1 (usually `ICMPError(.., unreachable, needfrag)`), or is dropped. With HONOR_DF false,
//! DF is cleared and the IP ID replaced by a pseudo-random one. Packets whose header is unusable,
//! whose total length is inconsistent, or that would reassemble past 65535 bytes are killed.

use alloc::string::{String, ToString};

use config_lang::args::{ArgError, Args};

use super::{addr_at, be16, checksum, header_len_at, put16, IP_DF, IP_MF, IP_OFFMASK};
use crate::batch::Batch;
use crate::element::{ConfigureContext, Element, ElementClass, HandlerSpec, InitContext};
use crate::packet::{Packet, DEFAULT_HEADROOM};
use crate::router::Context;

pub const CLASS: ElementClass = super::element_class!("IPFragmenter", "1/1-2", "h/h", IPFragmenter);

pub struct IPFragmenter {
    mtu: usize,
    honor_df: bool,
    verbose: bool,
    headroom: usize,
    drops: u64,
    fragments: u64,
    rng: u32,
}

impl Default for IPFragmenter {
    fn default() -> Self {
        IPFragmenter {
            mtu: 1500,
            honor_df: true,
            verbose: false,
            headroom: DEFAULT_HEADROOM,
            drops: 0,
            fragments: 0,
            rng: 0x2545_f491,
        }
    }
}

/// Copies the options of `opts` that must appear in every fragment (copy bit set) into `out`,
/// padded with end-of-options to a multiple of 4; returns the bytes written.
fn copied_options(opts: &[u8], out: &mut [u8]) -> usize {
    let mut n = 0;
    let mut k = 0;
    while k < opts.len() {
        let t = opts[k];
        if t == checksum::OPT_NOP {
            k += 1;
            continue;
        }
        if t == checksum::OPT_EOL || k + 1 >= opts.len() {
            break;
        }
        let l = opts[k + 1] as usize;
        if l < 2 || k + l > opts.len() {
            break;
        }
        if t & 0x80 != 0 {
            out[n..n + l].copy_from_slice(&opts[k..k + l]);
            n += l;
        }
        k += l;
    }
    while n % 4 != 0 {
        out[n] = checksum::OPT_EOL;
        n += 1;
    }
    n
}

enum Verdict {
    Forward(Packet),
    Df(Packet),
    Malformed(Packet),
    Fragmented,
}

impl IPFragmenter {
    fn next_id(&mut self) -> u16 {
        // xorshift32: IDs for packets whose DF we override need only be unlikely to repeat.
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.rng = x;
        x as u16
    }

    fn make(&self, len: usize, cx: &mut Context<'_>) -> Packet {
        let extra = self.headroom.saturating_sub(DEFAULT_HEADROOM);
        let mut q = cx.pool().make(len + extra);
        // Cannot fail: the packet is `len + extra` bytes long.
        let _ = q.strip_head(extra);
        q
    }

    fn one(&mut self, mut p: Packet, out: &mut Batch, cx: &mut Context<'_>) -> Verdict {
        let mtu = self.mtu;
        let nh = p.anno().network_offset().unwrap_or(0);
        let nlen = p.len().saturating_sub(nh);
        if nlen <= mtu {
            return Verdict::Forward(p);
        }
        let d = p.data();
        let Some(hlen) = header_len_at(d, nh) else {
            return Verdict::Malformed(p);
        };
        let ip_len = be16(d, nh + 2) as usize;
        let field = be16(d, nh + 6);
        let base = (field & IP_OFFMASK) as usize;
        if ip_len < hlen || ip_len > nlen || base * 8 + ip_len > 0xffff {
            return Verdict::Malformed(p);
        }
        if ip_len <= mtu {
            // Only link padding made it long: drop the padding.
            let _ = p.trim_tail(nlen - ip_len);
            return Verdict::Forward(p);
        }
        let first_dlen = mtu.saturating_sub(hlen) & !7;
        if (field & IP_DF != 0 && self.honor_df) || first_dlen < 8 {
            if self.verbose || self.drops < 5 {
                let line = alloc::format!(
                    "{}: IPFragmenter({mtu}) DF {} {} len={}",
                    cx.name(),
                    addr_at(d, nh + 12),
                    addr_at(d, nh + 16),
                    p.len()
                );
                cx.platform().print(&line);
            }
            return Verdict::Df(p);
        }

        // First fragment: the packet itself, header rewritten, cut after `first_dlen` bytes.
        let new_id = (field & IP_DF != 0).then(|| self.next_id());
        let ip = &mut p.data_mut()[nh..nh + hlen];
        let mut field = field & !IP_DF;
        if let Some(id) = new_id {
            put16(ip, 4, id);
        }
        let had_mf = field & IP_MF != 0;
        field |= IP_MF;
        put16(ip, 6, field);
        put16(ip, 2, (hlen + first_dlen) as u16);
        checksum::set_ip_header(ip);
        let mut first = cx.pool().clone_packet(&p);
        let _ = first.trim_tail(p.len() - (nh + hlen + first_dlen));
        first.anno_mut().set_network_offset(nh);
        first.anno_mut().set_transport_offset(nh + hlen);
        out.push(first);
        self.fragments += 1;

        // Later fragments: the fixed header, the copied options, a slice of the payload.
        let mut hdr = [0u8; 60];
        let d = p.data();
        hdr[..20].copy_from_slice(&d[nh..nh + 20]);
        let out_hlen = 20 + copied_options(&d[nh + 20..nh + hlen], &mut hdr[20..]);
        hdr[0] = 0x40 | (out_hlen / 4) as u8;
        let payload = &d[nh + hlen..nh + ip_len];
        let in_dlen = ip_len - hlen;
        let step = (mtu - out_hlen) & !7; // >= 8: out_hlen <= hlen and first_dlen >= 8
        let mut off = first_dlen;
        while off < in_dlen {
            let dlen = step.min(in_dlen - off);
            let mut q = self.make(out_hlen + dlen, cx);
            let qd = q.data_mut();
            qd[..out_hlen].copy_from_slice(&hdr[..out_hlen]);
            qd[out_hlen..].copy_from_slice(&payload[off..off + dlen]);
            let mut f = (field & !IP_OFFMASK) | ((base + off / 8) as u16 & IP_OFFMASK);
            if off + dlen >= in_dlen && !had_mf {
                f &= !IP_MF;
            }
            put16(qd, 6, f);
            put16(qd, 2, (out_hlen + dlen) as u16);
            checksum::set_ip_header(&mut qd[..out_hlen]);
            let a = q.anno_mut();
            *a = p.anno().clone();
            a.set_network_offset(0);
            a.set_transport_offset(out_hlen);
            out.push(q);
            self.fragments += 1;
            off += dlen;
        }
        cx.kill(p);
        Verdict::Fragmented
    }
}

impl Element for IPFragmenter {
    fn configure(&mut self, args: &mut Args, _cx: &ConfigureContext<'_>) -> Result<(), ArgError> {
        self.mtu = args.read_mp::<u32>("MTU")? as usize;
        self.honor_df = args.read_p("HONOR_DF")?.unwrap_or(true);
        self.verbose = args.read_p("VERBOSE")?.unwrap_or(false);
        if let Some(h) = args.read::<u32>("HEADROOM")? {
            self.headroom = h as usize;
        }
        if self.mtu < 8 {
            return Err(ArgError::new("MTU", "MTU must be at least 8", None));
        }
        Ok(())
    }

    fn initialize(&mut self, cx: &mut InitContext<'_>) -> Result<(), String> {
        let t = cx.now_ns();
        self.rng = (t ^ (t >> 32)) as u32 | 1;
        Ok(())
    }

    fn push(&mut self, _port: usize, mut batch: Batch, cx: &mut Context<'_>) {
        let mut out = cx.new_batch();
        let mut df = cx.new_batch();
        for p in batch.drain() {
            match self.one(p, &mut out, cx) {
                Verdict::Forward(p) => out.push(p),
                Verdict::Df(p) => {
                    self.drops += 1;
                    df.push(p);
                }
                Verdict::Malformed(p) => {
                    self.drops += 1;
                    cx.kill(p);
                }
                Verdict::Fragmented => {}
            }
        }
        cx.kill_batch(batch);
        cx.push(0, out);
        if cx.noutputs() >= 2 {
            cx.push(1, df);
        } else {
            cx.kill_batch(df);
        }
    }

    fn handlers(&self) -> &'static [HandlerSpec] {
        const H: &[HandlerSpec] = &[HandlerSpec::read("drops"), HandlerSpec::read("fragments")];
        H
    }

    fn read_handler(&self, name: &str) -> Option<String> {
        match name {
            "drops" => Some(self.drops.to_string()),
            "fragments" => Some(self.fragments.to_string()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use crate::packet::Packet;
    use alloc::vec::Vec;

    fn payload(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 7 + 3) as u8).collect()
    }

    fn off_mf(d: &[u8]) -> (usize, bool, bool) {
        let f = u16::from_be_bytes([d[6], d[7]]);
        (
            ((f & 0x1fff) as usize) * 8,
            f & 0x2000 != 0,
            f & 0x4000 != 0,
        )
    }

    /// Puts fragments back together by offset; checks they tile the payload.
    fn reassemble(frags: &[Vec<u8>]) -> Vec<u8> {
        let mut out = Vec::new();
        for f in frags {
            let hl = ((f[0] & 15) as usize) * 4;
            let len = u16::from_be_bytes([f[2], f[3]]) as usize;
            assert_eq!(len, f.len());
            let (off, _, _) = off_mf(f);
            assert_eq!(off, out.len(), "fragments in order, no gaps");
            out.extend_from_slice(&f[hl..]);
        }
        out
    }

    #[test]
    fn small_packets_pass() {
        let p = udp(A, 1, B, 2, &payload(100));
        let mut h = Harness::new("Idle -> f :: IPFragmenter(576) -> s :: Sink;");
        h.push_ip("f", &[&p]);
        assert_eq!(h.data("s"), [p]);
        assert_eq!(h.read("f.fragments"), "0");
    }

    #[test]
    fn fragments_offsets_flags_checksums() {
        let body = payload(1000);
        let p = udp(A, 1, B, 2, &body); // 1028 bytes of IP payload
        let mut h =
            Harness::new("Idle -> f :: IPFragmenter(300) -> s :: Sink; f[1] -> df :: Sink;");
        h.push_ip("f", &[&p]);
        let g = h.got("s");
        let frags: Vec<Vec<u8>> = g.iter().map(|x| x.data.clone()).collect();
        // (300 - 20) & !7 = 280 bytes per fragment: 280, 280, 280, 188.
        assert_eq!(frags.len(), 4);
        for (k, f) in frags.iter().enumerate() {
            assert!(f.len() <= 300);
            assert!(ip_ok(f), "fragment {k} checksum");
            let (off, mf, df) = off_mf(f);
            assert_eq!(off, 280 * k);
            assert_eq!(mf, k < 3);
            assert!(!df);
            assert_eq!(&f[4..6], &p[4..6], "same IP ID");
            assert_eq!(&f[8..10], &p[8..10]);
            assert_eq!(&f[12..20], &p[12..20]);
            assert_eq!(g[k].anno.network_offset(), Some(0));
            assert_eq!(g[k].anno.transport_offset(), Some(20));
        }
        assert_eq!(reassemble(&frags), p[20..]);
        assert_eq!(h.read("f.fragments"), "4");
        assert!(h.data("df").is_empty());
    }

    #[test]
    fn df_goes_to_output_1_or_is_fragmented_when_not_honored() {
        let mut p = udp(A, 1, B, 2, &payload(600));
        p[6] = 0x40;
        fix_ip(&mut p);
        let mut h =
            Harness::new("Idle -> f :: IPFragmenter(576) -> s :: Sink; f[1] -> df :: Sink;");
        h.push_ip("f", &[&p]);
        assert!(h.data("s").is_empty());
        assert_eq!(h.data("df"), [p.clone()]);
        assert_eq!(h.read("f.drops"), "1");
        assert_eq!(h.log().len(), 1);
        assert!(h.log()[0].contains("DF 10.0.0.1 10.0.0.2"), "{:?}", h.log());

        let mut h = Harness::new("Idle -> f :: IPFragmenter(576, false) -> s :: Sink;");
        h.push_ip("f", &[&p]);
        let frags = h.data("s");
        assert_eq!(frags.len(), 2);
        for f in &frags {
            assert!(ip_ok(f));
            assert!(!off_mf(f).2, "DF cleared");
        }
        assert_eq!(
            &frags[0][4..6],
            &frags[1][4..6],
            "one new ID for all fragments"
        );
        assert_eq!(reassemble(&frags), p[20..]);
    }

    #[test]
    fn fragmenting_a_fragment_keeps_offset_base_and_mf() {
        let mut p = udp(A, 1, B, 2, &payload(500));
        p[6] = 0x20;
        p[7] = 10; // offset 80, MF set
        fix_ip(&mut p);
        let mut h = Harness::new("Idle -> f :: IPFragmenter(200) -> s :: Sink;");
        h.push_ip("f", &[&p]);
        let frags = h.data("s");
        assert_eq!(frags.len(), 3); // 176, 176, 156
        for (k, f) in frags.iter().enumerate() {
            let (off, mf, _) = off_mf(f);
            assert_eq!(off, 80 + 176 * k);
            assert!(mf, "original MF kept on the last fragment too");
            assert!(ip_ok(f));
        }
    }

    #[test]
    fn options_and_link_header() {
        // Record route (copy bit clear) and a security-like option with the copy bit (130).
        let opts = [7, 7, 4, 0, 0, 0, 0, 130, 5, 1, 2, 3];
        let ip = ipv4_opts(A, B, 17, &opts, &payload(300));
        let mut frame = alloc::vec![0xee; 14];
        frame.extend_from_slice(&ip);
        frame.extend_from_slice(&[0; 4]); // link padding
        let mut h = Harness::new("Idle -> f :: IPFragmenter(150, HEADROOM 200) -> s :: Sink;");
        h.push("f", alloc::vec![with_net(&frame, 14)]);
        let g = h.got("s");
        let first = &g[0].data;
        assert_eq!(
            &first[..14],
            &[0xee; 14],
            "link header kept on the first fragment"
        );
        assert_eq!(first.len(), 14 + 32 + 112);
        assert!(ip_ok(&first[14..]));
        let rest: Vec<Vec<u8>> = g[1..].iter().map(|x| x.data.clone()).collect();
        for f in &rest {
            assert_eq!(f[0], 0x47, "20 + 8 bytes of copied options");
            assert_eq!(&f[20..28], &[130, 5, 1, 2, 3, 0, 0, 0]);
            assert!(ip_ok(f));
            assert!(f.len() <= 150);
        }
        let mut all = alloc::vec![first[14..].to_vec()];
        all.extend(rest);
        // Reassemble by offset with per-fragment header lengths.
        assert_eq!(reassemble(&all), ip[32..]);
    }

    #[test]
    fn malformed_and_tiny_mtu() {
        let p = udp(A, 1, B, 2, &payload(100));
        let mut bad_len = p.clone();
        bad_len[2..4].copy_from_slice(&500u16.to_be_bytes());
        let mut bad_ihl = p.clone();
        bad_ihl[0] = 0x41;
        let mut past_64k = p.clone();
        past_64k[6] = 0x1f; // offset 8190 * 8 = 65520, plus 128 bytes
        past_64k[7] = 0xfe;
        fix_ip(&mut past_64k);
        let mut h = Harness::new("Idle -> f :: IPFragmenter(40) -> s :: Sink; f[1] -> df :: Sink;");
        h.push(
            "f",
            alloc::vec![
                with_net(&bad_len, 0),
                with_net(&bad_ihl, 0),
                Packet::from_slice(&p[..60]),
                with_net(&past_64k, 0),
            ],
        );
        assert!(h.data("s").is_empty());
        assert!(h.data("df").is_empty());
        assert_eq!(h.read("f.drops"), "4");
        // MTU 27 leaves 0 bytes after a 20-byte header (rounded to 8): output 1.
        let mut h = Harness::new("Idle -> f :: IPFragmenter(27) -> s :: Sink; f[1] -> df :: Sink;");
        h.push_ip("f", &[&p]);
        assert_eq!(h.data("df").len(), 1);
        assert!(errors("Idle -> IPFragmenter(7) -> Idle;")[0].contains("at least 8"));
        assert!(errors("Idle -> IPFragmenter -> Idle;")[0].contains("MTU"));
    }
}
