//! Test support: build a router from configuration text, push chosen packets into an element,
//! and read back what reached a `Capture` element.

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use config_lang::args::{ArgError, Args};

use crate::batch::Batch;
use crate::element::{ConfigureContext, Element, ElementClass, HandlerSpec, Registry};
use crate::platform::TestPlatform;
use crate::router::{build, Context, Router};

/// Capture — keeps every packet it receives (tests only).
///
/// Ports: 1 input, no outputs. Processing: push.
/// Handlers: `count` (read); `packets` (read) one line of hex per packet.
#[derive(Default)]
pub struct Capture {
    packets: Vec<Vec<u8>>,
    paints: Vec<u8>,
}

impl Element for Capture {
    fn configure(&mut self, _args: &mut Args, _cx: &ConfigureContext<'_>) -> Result<(), ArgError> {
        Ok(())
    }

    fn push(&mut self, _port: usize, mut batch: Batch, cx: &mut Context<'_>) {
        for p in batch.drain() {
            self.packets.push(p.data().to_vec());
            self.paints.push(p.anno().paint);
            cx.kill(p);
        }
        cx.kill_batch(batch);
    }

    fn handlers(&self) -> &'static [HandlerSpec] {
        const H: &[HandlerSpec] = &[
            HandlerSpec::read("count"),
            HandlerSpec::read("packets"),
            HandlerSpec::read("paints"),
        ];
        H
    }

    fn read_handler(&self, name: &str) -> Option<String> {
        match name {
            "count" => Some(self.packets.len().to_string()),
            "packets" => Some(self.packets.iter().map(|p| hex(p) + "\n").collect()),
            "paints" => Some(self.paints.iter().map(|p| p.to_string() + "\n").collect()),
            _ => None,
        }
    }
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| alloc::format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// The full library plus `Capture`.
pub fn registry() -> Registry {
    let mut r = crate::library::registry();
    r.add(ElementClass {
        name: "Capture",
        ports: "1/0",
        processing: "h/h",
        make: || Box::new(Capture::default()),
    });
    r
}

/// Builds and initializes a router; panics with rendered diagnostics on error.
pub fn router(cfg: &str) -> Router {
    let loaded = config_lang::load("t.click", cfg, &[]);
    assert!(!loaded.has_errors(), "{}", loaded.render_diagnostics());
    match build(
        loaded.graph.as_ref().unwrap(),
        &registry(),
        Some(Box::new(TestPlatform::default())),
        cfg,
    ) {
        Ok(r) => r,
        Err(e) => panic!(
            "{}",
            config_lang::diag::render_all(&e.diagnostics, &loaded.sources)
        ),
    }
}

/// The one-line diagnostics of building `cfg` (empty if it builds).
pub fn build_errors(cfg: &str) -> Vec<String> {
    let loaded = config_lang::load("t.click", cfg, &[]);
    if loaded.has_errors() {
        return loaded
            .diagnostics
            .iter()
            .map(|d| d.one_line(&loaded.sources))
            .collect();
    }
    match build(loaded.graph.as_ref().unwrap(), &registry(), None, cfg) {
        Ok(_) => Vec::new(),
        Err(e) => e
            .diagnostics
            .iter()
            .map(|d| d.one_line(&loaded.sources))
            .collect(),
    }
}

/// Pushes `packets` into input `port` of element `name`, then runs the router until idle. (Every
/// input must be connected, so tests feed the element from an `Idle`: `Idle -> x :: Strip(14) -> ...`.)
pub fn inject(r: &mut Router, name: &str, port: usize, packets: &[&[u8]]) {
    let e = r.find(name).unwrap_or_else(|| panic!("no element {name}"));
    let batch = Batch::from_vec(
        packets
            .iter()
            .map(|d| crate::packet::Packet::from_slice(d))
            .collect(),
    );
    r.inject(e, port, batch);
    r.run_until_idle(4);
}

/// Sets the test platform's clock to `now_ns` and fires the timers that are due by then.
pub fn set_now(r: &mut Router, now_ns: u64) {
    r.platform().set_now(now_ns);
    r.run_timers();
}

/// What Capture element `name` received.
pub fn captured(r: &Router, name: &str) -> Vec<Vec<u8>> {
    r.read_handler(&alloc::format!("{name}.packets"))
        .unwrap()
        .lines()
        .map(unhex)
        .collect()
}

/// Builds `cfg`, pushes `packets` into `input`, returns what each Capture in `captures` got.
pub fn run_packets(
    cfg: &str,
    input: &str,
    packets: &[&[u8]],
    captures: &[&str],
) -> Vec<Vec<Vec<u8>>> {
    let mut r = router(cfg);
    inject(&mut r, input, 0, packets);
    captures.iter().map(|c| captured(&r, c)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_sees_injected_packets() {
        let got = run_packets(
            "Idle -> i :: Null -> c :: Counter -> cap :: Capture;",
            "i",
            &[b"\x01\x02", b"\x03"],
            &["cap"],
        );
        assert_eq!(got[0], [alloc::vec![1u8, 2], alloc::vec![3u8]]);
    }
}
