//! PaintTee — sends every packet on, and a copy of those with a given paint to output 1.
//!
//! Ports: 1 input, 2 outputs.
//! Processing: agnostic input and output 0; output 1 is push.
//! Arguments: COLOR (0-255, mandatory).
//! Handlers: `color` (read/write).
//!
//! Every packet goes to output 0. A packet whose paint annotation equals COLOR is also cloned
//! (sharing its data until either copy is written) to output 1 — the classic use is feeding
//! ICMPError to generate redirects for packets leaving by the interface they came in on.

use alloc::string::{String, ToString};

use config_lang::args::{ArgError, ArgValue, Args};

use crate::batch::Batch;
use crate::element::{ConfigureContext, Element, ElementClass, HandlerSpec};
use crate::router::Context;

pub const CLASS: ElementClass = super::element_class!("PaintTee", "1/2", "a/ah", PaintTee);

#[derive(Default)]
pub struct PaintTee {
    color: u8,
}

impl Element for PaintTee {
    fn configure(&mut self, args: &mut Args, _cx: &ConfigureContext<'_>) -> Result<(), ArgError> {
        self.color = args.read_mp("COLOR")?;
        Ok(())
    }

    fn push(&mut self, _port: usize, batch: Batch, cx: &mut Context<'_>) {
        let mut copies: Option<Batch> = None;
        for p in batch.iter() {
            if p.anno().paint == self.color {
                let c = cx.pool().clone_packet(p);
                match &mut copies {
                    Some(b) => b.push(c),
                    None => {
                        let mut b = cx.new_batch();
                        b.push(c);
                        copies = Some(b);
                    }
                }
            }
        }
        // Click emits each copy before the original continues; a whole batch keeps that order
        // per output.
        if let Some(b) = copies {
            cx.push(1, b);
        }
        cx.push(0, batch);
    }

    fn handlers(&self) -> &'static [HandlerSpec] {
        const H: &[HandlerSpec] = &[HandlerSpec::read_write("color")];
        H
    }

    fn read_handler(&self, name: &str) -> Option<String> {
        (name == "color").then(|| self.color.to_string())
    }

    fn write_handler(
        &mut self,
        _name: &str,
        value: &str,
        _cx: &mut Context<'_>,
    ) -> Result<(), String> {
        self.color = u8::parse_arg(value)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{build_errors, captured, inject, router};

    #[test]
    fn copies_matching_paint_to_output_1() {
        let mut r = router(
            "Idle -> p :: Paint(3) -> t :: PaintTee(3) -> a :: Capture; t[1] -> b :: Capture;\n\
             Idle -> q :: Paint(4) -> t;",
        );
        inject(&mut r, "p", 0, &[b"three"]);
        inject(&mut r, "q", 0, &[b"four"]);
        assert_eq!(captured(&r, "a"), [b"three".to_vec(), b"four".to_vec()]);
        assert_eq!(captured(&r, "b"), [b"three".to_vec()]);
        r.write_handler("t.color", "4").unwrap();
        assert_eq!(r.read_handler("t.color").unwrap(), "4");
        inject(&mut r, "q", 0, &[b"four"]);
        assert_eq!(captured(&r, "b").len(), 2);
        assert!(r.write_handler("t.color", "256").is_err());
    }

    #[test]
    fn copies_are_independent() {
        let mut r = router(
            "Idle -> p :: Paint(1) -> t :: PaintTee(1) -> a :: Capture;\n\
             t[1] -> Strip(1) -> b :: Capture;",
        );
        inject(&mut r, "p", 0, &[b"xyz"]);
        assert_eq!(captured(&r, "a"), [b"xyz".to_vec()]);
        assert_eq!(captured(&r, "b"), [b"yz".to_vec()]);
    }

    #[test]
    fn needs_a_color() {
        assert!(!build_errors("Idle -> t :: PaintTee -> Idle; t[1] -> Idle;").is_empty());
        assert!(!build_errors("Idle -> t :: PaintTee(300) -> Idle; t[1] -> Idle;").is_empty());
    }
}
