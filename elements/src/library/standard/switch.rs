//! Switch — sends every packet to one output, chosen by a handler.
//!
//! Ports: 1 input, any number of outputs.
//! Processing: push.
//! Arguments: OUTPUT (integer, default 0; -1 drops everything).
//! Handlers: `switch` (read/write) the output in use.

use alloc::string::{String, ToString};

use config_lang::args::{ArgError, ArgValue, Args};

use crate::batch::Batch;
use crate::element::{ConfigureContext, Element, ElementClass, HandlerSpec};
use crate::router::Context;

pub const CLASS: ElementClass = super::element_class!("Switch", "1/-", "h/h", Switch);

#[derive(Default)]
pub struct Switch {
    output: i64,
    noutputs: usize,
}

impl Switch {
    fn check(&self, v: i64) -> Result<i64, String> {
        if v < -1 || v >= self.noutputs as i64 {
            return Err(alloc::format!(
                "output {v} out of range (-1 to {})",
                self.noutputs as i64 - 1
            ));
        }
        Ok(v)
    }
}

impl Element for Switch {
    fn configure(&mut self, args: &mut Args, cx: &ConfigureContext<'_>) -> Result<(), ArgError> {
        self.noutputs = cx.noutputs;
        let v = args.read_p::<i64>("OUTPUT")?.unwrap_or(0);
        self.output = self
            .check(v)
            .map_err(|e| ArgError::new("OUTPUT", e, None))?;
        Ok(())
    }

    fn push(&mut self, _port: usize, batch: Batch, cx: &mut Context<'_>) {
        if self.output < 0 {
            cx.kill_batch(batch);
        } else {
            cx.push(self.output as usize, batch);
        }
    }

    fn handlers(&self) -> &'static [HandlerSpec] {
        const H: &[HandlerSpec] = &[HandlerSpec::read_write("switch")];
        H
    }

    fn read_handler(&self, name: &str) -> Option<String> {
        (name == "switch").then(|| self.output.to_string())
    }

    fn write_handler(
        &mut self,
        _name: &str,
        value: &str,
        _cx: &mut Context<'_>,
    ) -> Result<(), String> {
        self.output = self.check(i64::parse_arg(value)?)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{captured, inject, router};

    #[test]
    fn switching_output_with_the_handler() {
        let mut r = router("Idle -> s :: Switch(1); s[0] -> a :: Capture; s[1] -> b :: Capture;");
        inject(&mut r, "s", 0, &[b"x"]);
        r.write_handler("s.switch", "0").unwrap();
        inject(&mut r, "s", 0, &[b"y"]);
        r.write_handler("s.switch", "-1").unwrap();
        inject(&mut r, "s", 0, &[b"z"]);
        assert!(r.write_handler("s.switch", "2").is_err());
        assert_eq!(captured(&r, "a"), [b"y".to_vec()]);
        assert_eq!(captured(&r, "b"), [b"x".to_vec()]);
    }
}
