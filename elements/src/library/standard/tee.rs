//! Tee — sends a copy of each packet to every output (clones share the data).
//!
//! Ports: 1 input, any number of outputs (`Tee(N)` checks there are N).
//! Processing: push.
//! Arguments: N (optional, unsigned) the number of outputs.
//! Handlers: none.

use config_lang::args::{ArgError, Args};

use crate::batch::Batch;
use crate::element::{ConfigureContext, Element, ElementClass};
use crate::router::Context;

pub const CLASS: ElementClass = super::element_class!("Tee", "1/-", "h/h", Tee);

#[derive(Default)]
pub struct Tee;

impl Element for Tee {
    fn configure(&mut self, args: &mut Args, cx: &ConfigureContext<'_>) -> Result<(), ArgError> {
        if let Some(n) = args.read_p::<usize>("N")? {
            if n != cx.noutputs {
                return Err(ArgError::new(
                    "N",
                    alloc::format!("Tee({n}) has {} connected outputs", cx.noutputs),
                    None,
                ));
            }
        }
        Ok(())
    }

    fn push(&mut self, _port: usize, batch: Batch, cx: &mut Context<'_>) {
        // Clones to the first outputs, the original to the last, in output order (as Click does).
        let n = cx.noutputs();
        if n == 0 {
            cx.kill_batch(batch);
            return;
        }
        for port in 0..n - 1 {
            let mut copy = cx.new_batch();
            for p in batch.iter() {
                let c = cx.pool().clone_packet(p);
                copy.push(c);
            }
            cx.push(port, copy);
        }
        cx.push(n - 1, batch);
    }
}
