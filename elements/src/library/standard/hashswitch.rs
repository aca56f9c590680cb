//! HashSwitch — sends each packet to an output chosen by a hash of some of its bytes, so a flow
//! always takes the same output.
//!
//! Ports: 1 input, at least 1 output.
//! Processing: push.
//! Arguments: OFFSET (unsigned, mandatory), LENGTH (unsigned, mandatory, > 0) the bytes hashed.
//! Handlers: none.
//!
//! Packets too short to hold the bytes go to output 0.

use config_lang::args::{ArgError, Args};

use crate::batch::Batch;
use crate::element::{ConfigureContext, Element, ElementClass};
use crate::router::Context;

pub const CLASS: ElementClass = super::element_class!("HashSwitch", "1/1-", "h/h", HashSwitch);

#[derive(Default)]
pub struct HashSwitch {
    offset: usize,
    len: usize,
}

/// FNV-1a: cheap, and spreads short keys well enough for output selection.
fn fnv1a(b: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for &x in b {
        h ^= x as u32;
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

impl Element for HashSwitch {
    fn configure(&mut self, args: &mut Args, _cx: &ConfigureContext<'_>) -> Result<(), ArgError> {
        self.offset = args.read_mp("OFFSET")?;
        self.len = args.read_mp("LENGTH")?;
        if self.len == 0 {
            return Err(ArgError::new("LENGTH", "must be at least 1", None));
        }
        Ok(())
    }

    fn push(&mut self, _port: usize, batch: Batch, cx: &mut Context<'_>) {
        let n = cx.noutputs() as u32;
        let (o, l) = (self.offset, self.len);
        cx.classify(batch, |p| {
            Some(
                p.data()
                    .get(o..o + l)
                    .map_or(0, |k| (fnv1a(k) % n) as usize),
            )
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::run_packets;

    #[test]
    fn same_key_same_output() {
        let got = run_packets(
            "Idle -> s :: HashSwitch(1, 2); s[0] -> a :: Capture; s[1] -> b :: Capture; s[2] -> c :: Capture;",
            "s",
            &[b"xAB1", b"yAB2", b"zCD3", b"wCD4", b"q"],
            &["a", "b", "c"],
        );
        let find = |pkt: &[u8]| got.iter().position(|o| o.iter().any(|p| p == pkt)).unwrap();
        assert_eq!(find(b"xAB1"), find(b"yAB2"));
        assert_eq!(find(b"zCD3"), find(b"wCD4"));
        assert_eq!(find(b"q"), 0);
        assert_eq!(got.iter().map(alloc::vec::Vec::len).sum::<usize>(), 5);
    }
}
