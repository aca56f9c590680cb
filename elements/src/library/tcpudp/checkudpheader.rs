//! CheckUDPHeader — checks the UDP header and checksum of UDP/IP packets.
//!
//! Ports: 1 input, 1 or 2 outputs.
//! Processing: agnostic input and output 0; output 1 (bad packets) push.
//! Arguments: keywords VERBOSE (boolean: report every bad packet, not only the first; default
//! false), DETAILS (boolean: count drops by reason; default false).
//! Handlers: `drops` (read) bad packets seen; `drop_details` (read, with DETAILS) one line per
//! reason, `COUNT<tab>REASON`.
//!
//! Needs the network-header annotation. A packet is bad when it has no IP header or is not UDP,
//! when the UDP length is below 8 or runs past the end of the packet, or when its checksum
//! (over the pseudo-header and UDP length bytes) is nonzero and wrong; a zero checksum means
//! "not computed" and passes. Good packets leave on output 0 unchanged; bad ones on output 1, or
//! are dropped.

use alloc::string::String;

use config_lang::args::{ArgError, Args};

use crate::batch::Batch;
use crate::element::{ConfigureContext, Element, ElementClass, HandlerSpec};
use crate::library::ip::{be16, checksum, split_good_bad, DropLog, IP_PROTO_UDP};
use crate::packet::Packet;
use crate::router::Context;

pub const CLASS: ElementClass =
    crate::library::ip::element_class!("CheckUDPHeader", "1/1-2", "a/ah", CheckUDPHeader);

const NOT_UDP: usize = 0;
const BAD_LENGTH: usize = 1;
const BAD_CHECKSUM: usize = 2;
const REASONS: [&str; 3] = ["not UDP", "bad packet length", "bad UDP checksum"];

#[derive(Default)]
pub struct CheckUDPHeader {
    log: DropLog<3>,
}

fn check(p: &Packet) -> Result<(), usize> {
    let nh = p.anno().network_offset().ok_or(NOT_UDP)?;
    let d = p.data();
    if d.len() < nh + 20 {
        return Err(BAD_LENGTH);
    }
    if d[nh + 9] != IP_PROTO_UDP {
        return Err(NOT_UDP);
    }
    let hlen = ((d[nh] & 0x0f) as usize) * 4;
    let t = nh + hlen;
    if hlen < 20 || d.len() < t + 8 {
        return Err(BAD_LENGTH);
    }
    let ulen = be16(d, t + 4) as usize;
    if ulen < 8 || d.len() < t + ulen {
        return Err(BAD_LENGTH);
    }
    if be16(d, t + 6) != 0 && !checksum::transport_ok(&d[nh..t], &d[t..t + ulen]) {
        return Err(BAD_CHECKSUM);
    }
    Ok(())
}

impl Element for CheckUDPHeader {
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
                log.note(r, &REASONS, "UDP header", cx);
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
        "Idle -> c :: CheckUDPHeader(DETAILS true) -> ok :: Sink; c[1] -> bad :: Sink;";

    #[test]
    fn good_packets_pass() {
        let p = udp(A, 1000, B, 53, b"hello!");
        let mut no_sum = udp(A, 1000, B, 53, b"odd");
        no_sum[26] = 0;
        no_sum[27] = 0;
        let mut frame = alloc::vec![0u8; 14];
        frame.extend_from_slice(&p);
        let mut h = Harness::new(CFG);
        h.push(
            "c",
            alloc::vec![with_net(&p, 0), with_net(&no_sum, 0), with_net(&frame, 14)],
        );
        assert_eq!(h.data("ok"), [p, no_sum, frame]);
        assert_eq!(h.read("c.drops"), "0");
    }

    #[test]
    fn source_routed_checksum_uses_final_destination() {
        // The sender computed the checksum with the route's last hop as destination.
        let opts = [131, 11, 4, 3, 3, 3, 3, 9, 9, 9, 9, 0];
        let mut p = ipv4_opts(A, B, 17, &opts, &[0, 1, 0, 2, 0, 9, 0, 0, b'x']);
        let mut as_final = p.clone();
        as_final[16..20].copy_from_slice(&[9, 9, 9, 9]);
        fix_ip(&mut as_final);
        fix_l4(&mut as_final, 6);
        p[32 + 6..32 + 8].copy_from_slice(&as_final[32 + 6..32 + 8]);
        let mut h = Harness::new(CFG);
        h.push("c", alloc::vec![with_net(&p, 0)]);
        assert_eq!(h.data("ok").len(), 1);
    }

    #[test]
    fn bad_packets() {
        let p = udp(A, 1000, B, 53, b"hello!");
        let mut bad_sum = p.clone();
        bad_sum[30] ^= 1; // payload changed
        let mut long = p.clone();
        long[24..26].copy_from_slice(&100u16.to_be_bytes());
        let mut short = p.clone();
        short[24..26].copy_from_slice(&7u16.to_be_bytes());
        let mut h = Harness::new(CFG);
        h.push(
            "c",
            alloc::vec![
                with_net(&tcp(A, 1, B, 2, 0x10, b""), 0),
                Packet::from_slice(&p),
                with_net(&p[..27], 0),
                with_net(&p[..10], 0),
                with_net(&long, 0),
                with_net(&short, 0),
                with_net(&bad_sum, 0),
            ],
        );
        assert!(h.data("ok").is_empty());
        assert_eq!(h.data("bad").len(), 7);
        assert_eq!(
            h.read("c.drop_details"),
            "2\tnot UDP\n4\tbad packet length\n1\tbad UDP checksum\n"
        );
        assert_eq!(h.log(), ["c: UDP header check failed: not UDP"]);
    }
}
