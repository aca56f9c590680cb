//! CheckTCPHeader — checks the TCP header and checksum of TCP/IP packets.
//!
//! Ports: 1 input, 1 or 2 outputs.
//! Processing: agnostic input and output 0; output 1 (bad packets) push.
//! Arguments: keywords VERBOSE (boolean: report every bad packet, not only the first; default
//! false), DETAILS (boolean: count drops by reason; default false).
//! Handlers: `drops` (read) bad packets seen; `drop_details` (read, with DETAILS) one line per
//! reason, `COUNT<tab>REASON`.
//!
//! Needs the network-header annotation. A packet is bad when it has no IP header or is not TCP,
//! when the segment (IP length minus IP header) is shorter than 20 bytes or than the TCP data
//! offset, when the data offset is below 5 words, when the segment runs past the end of the
//! packet, or when the checksum over the pseudo-header and segment is wrong. Good packets leave
//! on output 0 unchanged; bad ones on output 1, or are dropped.

use alloc::string::String;

use config_lang::args::{ArgError, Args};

use crate::batch::Batch;
use crate::element::{ConfigureContext, Element, ElementClass, HandlerSpec};
use crate::library::ip::{be16, checksum, split_good_bad, DropLog, IP_PROTO_TCP};
use crate::packet::Packet;
use crate::router::Context;

pub const CLASS: ElementClass =
    crate::library::ip::element_class!("CheckTCPHeader", "1/1-2", "a/ah", CheckTCPHeader);

const NOT_TCP: usize = 0;
const BAD_LENGTH: usize = 1;
const BAD_CHECKSUM: usize = 2;
const REASONS: [&str; 3] = ["not TCP", "bad packet length", "bad TCP checksum"];

#[derive(Default)]
pub struct CheckTCPHeader {
    log: DropLog<3>,
}

fn check(p: &Packet) -> Result<(), usize> {
    let nh = p.anno().network_offset().ok_or(NOT_TCP)?;
    let d = p.data();
    if d.len() < nh + 20 {
        return Err(BAD_LENGTH);
    }
    if d[nh + 9] != IP_PROTO_TCP {
        return Err(NOT_TCP);
    }
    let hlen = ((d[nh] & 0x0f) as usize) * 4;
    let ip_len = be16(d, nh + 2) as usize;
    if hlen < 20 || ip_len < hlen + 20 {
        return Err(BAD_LENGTH);
    }
    let (t, len) = (nh + hlen, ip_len - hlen);
    if d.len() < t + len {
        return Err(BAD_LENGTH);
    }
    let off = ((d[t + 12] >> 4) as usize) * 4;
    if off < 20 || len < off {
        return Err(BAD_LENGTH);
    }
    if !checksum::transport_ok(&d[nh..t], &d[t..t + len]) {
        return Err(BAD_CHECKSUM);
    }
    Ok(())
}

impl Element for CheckTCPHeader {
    fn configure(&mut self, args: &mut Args, _cx: &ConfigureContext<'_>) -> Result<(), ArgError> {
        self.log.verbose = args.read_or("VERBOSE", false)?;
        self.log.details = args.read_or("DETAILS", false)?;
        Ok(())
    }

    fn push(&mut self, _port: usize, batch: Batch, cx: &mut Context<'_>) {
        let log = &mut self.log;
        split_good_bad(batch, cx, |p, cx| match check(p) {
            Ok(()) => true,
            Err(r) => {
                log.note(r, &REASONS, "TCP header", cx);
                false
            }
        });
    }

    fn handlers(&self) -> &'static [HandlerSpec] {
        self.log.handlers()
    }

    fn read_handler(&self, name: &str) -> Option<String> {
        self.log.read_handler(name, &REASONS)
    }
}

#[cfg(test)]
mod tests {
    use crate::library::ip::testutil::*;
    use crate::packet::Packet;

    const CFG: &str =
        "Idle -> c :: CheckTCPHeader(DETAILS true) -> ok :: Sink; c[1] -> bad :: Sink;";

    #[test]
    fn good_segments_pass() {
        let syn = tcp(A, 4000, B, 80, 0x02, b"");
        let data = tcp(A, 4000, B, 80, 0x18, b"odd length");
        let mut padded = data.clone();
        padded.extend_from_slice(&[0; 6]); // link padding beyond the IP length is ignored
        let mut h = Harness::new(CFG);
        h.push(
            "c",
            alloc::vec![with_net(&syn, 0), with_net(&data, 0), with_net(&padded, 0)],
        );
        assert_eq!(h.data("ok"), [syn, data, padded]);
    }

    #[test]
    fn bad_segments() {
        let p = tcp(A, 4000, B, 80, 0x18, b"payload");
        let mut bad_sum = p.clone();
        bad_sum[40] ^= 0x80;
        let mut zero_sum = p.clone(); // TCP has no "no checksum"
        zero_sum[36] = 0;
        zero_sum[37] = 0;
        let mut small_off = p.clone();
        small_off[32] = 4 << 4;
        fix_l4(&mut small_off, 16);
        let mut big_off = p.clone();
        big_off[32] = 15 << 4;
        fix_l4(&mut big_off, 16);
        let mut short_ip = p.clone();
        short_ip[2..4].copy_from_slice(&30u16.to_be_bytes());
        fix_ip(&mut short_ip);
        let mut h = Harness::new(CFG);
        h.push(
            "c",
            alloc::vec![
                with_net(&udp(A, 1, B, 2, b""), 0),
                Packet::from_slice(&p),
                with_net(&p[..45], 0),
                with_net(&small_off, 0),
                with_net(&big_off, 0),
                with_net(&short_ip, 0),
                with_net(&bad_sum, 0),
                with_net(&zero_sum, 0),
            ],
        );
        assert!(h.data("ok").is_empty());
        assert_eq!(h.data("bad").len(), 8);
        assert_eq!(
            h.read("c.drop_details"),
            "2\tnot TCP\n4\tbad packet length\n2\tbad TCP checksum\n"
        );
        assert_eq!(h.read("c.drops"), "8");
    }
}
