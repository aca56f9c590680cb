//! Paint — sets each packet's paint annotation.
//!
//! Ports: 1 input, 1 output.
//! Processing: agnostic.
//! Arguments: COLOR (0-255, mandatory).
//! Handlers: `color` (read/write).

use alloc::string::{String, ToString};

use config_lang::args::{ArgError, ArgValue, Args};

use crate::batch::Batch;
use crate::element::{ConfigureContext, Element, ElementClass, HandlerSpec};
use crate::router::Context;

pub const CLASS: ElementClass = super::element_class!("Paint", "1/1", "a/a", Paint);

#[derive(Default)]
pub struct Paint {
    color: u8,
}

impl Element for Paint {
    fn configure(&mut self, args: &mut Args, _cx: &ConfigureContext<'_>) -> Result<(), ArgError> {
        self.color = args.read_mp("COLOR")?;
        Ok(())
    }

    fn push(&mut self, _port: usize, mut batch: Batch, cx: &mut Context<'_>) {
        for p in batch.iter_mut() {
            p.anno_mut().paint = self.color;
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
