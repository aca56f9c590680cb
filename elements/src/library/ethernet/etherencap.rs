//! EtherEncap — prepends an Ethernet header.
//!
//! Ports: 1 input, 1 output.
//! Processing: agnostic.
//! Arguments: ETHERTYPE (mandatory, 16-bit integer in host order: `0x0800`), SRC and DST
//! (mandatory Ethernet addresses).
//! Handlers: `src`, `dst` (read/write) Ethernet addresses; `ethertype` (read/write, alias `etht`)
//! the type, read back in hexadecimal (`0x0800`).
//!
//! The header goes into the packet's headroom, so a pooled packet gets it without copying; a
//! packet whose buffer is shared with a clone, or that has no headroom left, is copied first.

use alloc::format;
use alloc::string::String;

use config_lang::args::{ArgError, ArgValue, Args, EtherAddr};

use super::{eth_text, write_ether_header, EtherTypeArg, ETHER_HLEN};
use crate::batch::Batch;
use crate::element::{ConfigureContext, Element, ElementClass, HandlerSpec};
use crate::router::Context;

pub const CLASS: ElementClass = super::element_class!("EtherEncap", "1/1", "a/a", EtherEncap);

#[derive(Default)]
pub struct EtherEncap {
    ethertype: u16,
    src: [u8; 6],
    dst: [u8; 6],
}

impl Element for EtherEncap {
    fn configure(&mut self, args: &mut Args, _cx: &ConfigureContext<'_>) -> Result<(), ArgError> {
        self.ethertype = args.read_mp::<EtherTypeArg>("ETHERTYPE")?.0;
        self.src = args.read_mp::<EtherAddr>("SRC")?.0;
        self.dst = args.read_mp::<EtherAddr>("DST")?.0;
        Ok(())
    }

    fn push(&mut self, _port: usize, mut batch: Batch, cx: &mut Context<'_>) {
        for p in batch.iter_mut() {
            let d = p.push_head(ETHER_HLEN);
            write_ether_header(d, self.dst, self.src, self.ethertype);
        }
        cx.push(0, batch);
    }

    fn handlers(&self) -> &'static [HandlerSpec] {
        const H: &[HandlerSpec] = &[
            HandlerSpec::read_write("src"),
            HandlerSpec::read_write("dst"),
            HandlerSpec::read_write("ethertype"),
            HandlerSpec::read_write("etht"),
        ];
        H
    }

    fn read_handler(&self, name: &str) -> Option<String> {
        Some(match name {
            "src" => eth_text(self.src),
            "dst" => eth_text(self.dst),
            "ethertype" | "etht" => format!("0x{:04x}", self.ethertype),
            _ => return None,
        })
    }

    fn write_handler(
        &mut self,
        name: &str,
        value: &str,
        _cx: &mut Context<'_>,
    ) -> Result<(), String> {
        match name {
            "src" => self.src = EtherAddr::parse_arg(value)?.0,
            "dst" => self.dst = EtherAddr::parse_arg(value)?.0,
            "ethertype" | "etht" => self.ethertype = EtherTypeArg::parse_arg(value)?.0,
            _ => return Err(format!("no write handler '{name}'")),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::library::ethernet::frames::ether;
    use crate::testing::{build_errors, captured, inject, router, run_packets};

    const CFG: &str =
        "Idle -> e :: EtherEncap(0x0800, 00:01:02:03:04:05, 0a:0b:0c:0d:0e:0f) -> c :: Capture;";

    #[test]
    fn prepends_the_configured_header() {
        let got = run_packets(CFG, "e", &[b"\x45payload", b""], &["c"]);
        let src = [0, 1, 2, 3, 4, 5];
        let dst = [10, 11, 12, 13, 14, 15];
        assert_eq!(got[0][0], ether(dst, src, 0x0800, b"\x45payload"));
        assert_eq!(got[0][1], ether(dst, src, 0x0800, b""));
    }

    #[test]
    fn handlers_read_and_change_the_header() {
        let mut r = router(CFG);
        assert_eq!(r.read_handler("e.src").unwrap(), "00-01-02-03-04-05");
        assert_eq!(r.read_handler("e.dst").unwrap(), "0A-0B-0C-0D-0E-0F");
        assert_eq!(r.read_handler("e.ethertype").unwrap(), "0x0800");
        r.write_handler("e.dst", "ff:ff:ff:ff:ff:ff").unwrap();
        r.write_handler("e.src", "02-00-00-00-00-01").unwrap();
        r.write_handler("e.etht", "0x86dd").unwrap();
        assert!(r.write_handler("e.src", "nonsense").is_err());
        assert!(r.write_handler("e.ethertype", "0800").is_err());
        inject(&mut r, "e", 0, &[b"x"]);
        assert_eq!(
            captured(&r, "c")[0],
            ether([0xff; 6], [2, 0, 0, 0, 0, 1], 0x86dd, b"x")
        );
    }

    #[test]
    fn argument_errors() {
        let e = build_errors("Idle -> EtherEncap(0x0800, 00:01:02:03:04:05) -> Idle;");
        assert!(e.iter().any(|m| m.contains("DST")), "{e:?}");
        let e =
            build_errors("Idle -> EtherEncap(0800, 00:01:02:03:04:05, 00:01:02:03:04:06) -> Idle;");
        assert!(e.iter().any(|m| m.contains("octal")), "{e:?}");
        let e = build_errors("Idle -> EtherEncap(0x0800, 1:2:3, 00:01:02:03:04:06) -> Idle;");
        assert!(e.iter().any(|m| m.contains("SRC")), "{e:?}");
        assert!(build_errors(
            "Idle -> EtherEncap(ETHERTYPE 0x0806, SRC 0:1:2:3:4:5, DST 0:1:2:3:4:6) -> Idle;"
        )
        .is_empty());
    }

    #[test]
    fn shared_packets_are_copied_before_the_header_is_written() {
        // A Tee hands the same buffer to two encapsulators with different headers.
        let cfg = "Idle -> t :: Tee; t[0] -> EtherEncap(0x0800, 0:0:0:0:0:1, 0:0:0:0:0:2) -> a :: Capture; t[1] -> EtherEncap(0x0806, 0:0:0:0:0:3, 0:0:0:0:0:4) -> b :: Capture;";
        let got = run_packets(cfg, "t", &[b"data"], &["a", "b"]);
        assert_eq!(
            got[0][0],
            ether([0, 0, 0, 0, 0, 2], [0, 0, 0, 0, 0, 1], 0x0800, b"data")
        );
        assert_eq!(
            got[1][0],
            ether([0, 0, 0, 0, 0, 4], [0, 0, 0, 0, 0, 3], 0x0806, b"data")
        );
    }
}
