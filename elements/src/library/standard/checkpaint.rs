//! CheckPaint — lets through packets with a given paint; the others go to output 1.
//!
//! Ports: 1 input, 1 or 2 outputs.
//! Processing: agnostic input and output 0; output 1 is push.
//! Arguments: COLOR (0-255, mandatory).
//! Handlers: `color` (read/write).
//!
//! As in Click: packets whose paint annotation equals COLOR go to output 0; the others go to
//! output 1 if it is connected, else they are killed.

use alloc::string::{String, ToString};

use config_lang::args::{ArgError, ArgValue, Args};

use crate::batch::Batch;
use crate::element::{ConfigureContext, Element, ElementClass, HandlerSpec};
use crate::router::Context;

pub const CLASS: ElementClass = super::element_class!("CheckPaint", "1/1-2", "a/ah", CheckPaint);

#[derive(Default)]
pub struct CheckPaint {
    color: u8,
}

impl Element for CheckPaint {
    fn configure(&mut self, args: &mut Args, _cx: &ConfigureContext<'_>) -> Result<(), ArgError> {
        self.color = args.read_mp("COLOR")?;
        Ok(())
    }

    fn push(&mut self, _port: usize, batch: Batch, cx: &mut Context<'_>) {
        let color = self.color;
        cx.classify(batch, |p| Some(usize::from(p.anno().paint != color)));
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
    use crate::testing::{captured, inject, router};

    #[test]
    fn matching_paint_passes_others_go_to_output_1() {
        let mut r = router(
            "Idle -> p :: Paint(2) -> c :: CheckPaint(2) -> a :: Capture; c[1] -> b :: Capture;\n\
             Idle -> q :: Paint(5) -> c;",
        );
        inject(&mut r, "p", 0, &[b"two"]);
        inject(&mut r, "q", 0, &[b"five"]);
        assert_eq!(captured(&r, "a"), [b"two".to_vec()]);
        assert_eq!(captured(&r, "b"), [b"five".to_vec()]);
        r.write_handler("c.color", "5").unwrap();
        inject(&mut r, "q", 0, &[b"five"]);
        assert_eq!(captured(&r, "a").len(), 2);
    }

    #[test]
    fn without_output_1_mismatches_are_killed() {
        let mut r = router("Idle -> q :: Paint(5) -> c :: CheckPaint(2) -> a :: Capture;");
        inject(&mut r, "q", 0, &[b"five", b""]);
        assert!(captured(&r, "a").is_empty());
    }
}
