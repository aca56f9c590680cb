//! Test support: build a router from configuration text, push chosen packets into an element,
//! and read back what reached a `Capture` element.

use alloc::boxed::Box;
use alloc::rc::Rc;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::cell::Cell;

use config_lang::args::{ArgError, Args};

use crate::batch::Batch;
use crate::element::{ConfigureContext, Element, ElementClass, HandlerSpec, Registry};
use crate::packet::Packet;
use crate::platform::{Platform, TestPlatform};
use crate::router::{build, Context, Router};

/// Capture — keeps every packet it receives (tests only).
///
/// Ports: 1 input, no outputs. Processing: push.
/// Handlers: `count` (read); `packets` (read) one line of hex per packet; `paints`,
/// `packet_types`, `dst_ips` (read) one annotation value per line.
#[derive(Default)]
pub struct Capture {
    packets: Vec<Vec<u8>>,
    paints: Vec<u8>,
    packet_types: Vec<u8>,
    dst_ips: Vec<core::net::Ipv4Addr>,
}

impl Element for Capture {
    fn configure(&mut self, _args: &mut Args, _cx: &ConfigureContext<'_>) -> Result<(), ArgError> {
        Ok(())
    }

    fn push(&mut self, _port: usize, mut batch: Batch, cx: &mut Context<'_>) {
        for p in batch.drain() {
            self.packets.push(p.data().to_vec());
            self.paints.push(p.anno().paint);
            self.packet_types.push(p.anno().packet_type);
            self.dst_ips.push(p.anno().dst_ip);
            cx.kill(p);
        }
        cx.kill_batch(batch);
    }

    fn handlers(&self) -> &'static [HandlerSpec] {
        const H: &[HandlerSpec] = &[
            HandlerSpec::read("count"),
            HandlerSpec::read("packets"),
            HandlerSpec::read("paints"),
            HandlerSpec::read("packet_types"),
            HandlerSpec::read("dst_ips"),
        ];
        H
    }

    fn read_handler(&self, name: &str) -> Option<String> {
        match name {
            "count" => Some(self.packets.len().to_string()),
            "packets" => Some(self.packets.iter().map(|p| hex(p) + "\n").collect()),
            "paints" => Some(self.paints.iter().map(|p| p.to_string() + "\n").collect()),
            "packet_types" => Some(
                self.packet_types
                    .iter()
                    .map(|p| p.to_string() + "\n")
                    .collect(),
            ),
            "dst_ips" => Some(self.dst_ips.iter().map(|a| a.to_string() + "\n").collect()),
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
    router_on(cfg, Box::new(TestPlatform::default()))
}

/// A test clock shared with the router's platform: tests move time forward with it.
#[derive(Clone, Default)]
pub struct TestClock(Rc<Cell<u64>>);

impl TestClock {
    pub fn now_ns(&self) -> u64 {
        self.0.get()
    }

    pub fn set_ns(&self, ns: u64) {
        self.0.set(ns);
    }

    pub fn advance_ns(&self, ns: u64) {
        self.0.set(self.0.get() + ns);
    }

    pub fn advance_secs(&self, secs: u64) {
        self.advance_ns(secs * 1_000_000_000);
    }
}

/// A [`TestPlatform`] whose clock is a [`TestClock`].
struct ClockPlatform {
    clock: TestClock,
    printed: Vec<String>,
}

impl Platform for ClockPlatform {
    fn now_ns(&self) -> u64 {
        self.clock.now_ns()
    }
    fn print(&mut self, line: &str) {
        self.printed.push(String::from(line));
    }
}

/// Like [`router`], on a platform whose clock the test controls: advance it, then call
/// `Router::run_timers` (or [`run_rounds`]) to fire what became due.
pub fn router_with_clock(cfg: &str) -> (Router, TestClock) {
    let clock = TestClock::default();
    let platform = ClockPlatform {
        clock: clock.clone(),
        printed: Vec::new(),
    };
    (router_on(cfg, Box::new(platform)), clock)
}

fn router_on(cfg: &str, platform: Box<dyn Platform>) -> Router {
    let loaded = config_lang::load("t.click", cfg, &[]);
    assert!(!loaded.has_errors(), "{}", loaded.render_diagnostics());
    match build(
        loaded.graph.as_ref().unwrap(),
        &registry(),
        Some(platform),
        cfg,
    ) {
        Ok(r) => r,
        Err(e) => panic!(
            "{}",
            config_lang::diag::render_all(&e.diagnostics, &loaded.sources)
        ),
    }
}

/// Runs rounds (tasks, then due timers) until `idle_rounds` in a row do no work. Unlike
/// `Router::run_until_idle` it does not wait for timers that are not due yet: the test clock
/// does not move by itself, so waiting for them would never end.
pub fn run_rounds(r: &mut Router, idle_rounds: usize) {
    let mut idle = 0;
    while !r.is_stopped() && idle < idle_rounds {
        if r.run_once() {
            idle = 0;
        } else {
            idle += 1;
        }
    }
}

/// Pushes prepared packets (annotations set by the test) into input `port` of element `name`,
/// then runs the router as [`inject`] does.
pub fn inject_packets(r: &mut Router, name: &str, port: usize, packets: Vec<Packet>) {
    let e = r.find(name).unwrap_or_else(|| panic!("no element {name}"));
    r.inject(e, port, Batch::from_vec(packets));
    run_rounds(r, 4);
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

/// Pushes `packets` into input `port` of element `name`, then runs the router until idle (see
/// [`run_rounds`]: timers not yet due are not waited for). (Every
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
    run_rounds(r, 4);
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
