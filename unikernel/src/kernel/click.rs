//! The Click side of the guest: the element library's [`Platform`] on the guest (clock, console)
//! and the control driver that follows the Xenstore protocol of [`crate::control`]
//! (`docs/xenstore-protocol.md`) and runs the routers between Xenstore polls.
//!
//! There are no threads: the application's main loop calls [`Control::on_event`] for watch
//! events under `data/clickos`, [`Control::run`] for a slice of router work, and waits for the
//! next event until [`Control::deadline`].

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use elements::platform::{NetDevice, Platform};
use elements::Router;

use super::time;
use super::EvtchnChannel;
use crate::control::{self, Access, Assembly, Node, RouterPaths};
use crate::xenstore::{Client, Errno, Error, TX_NONE};

/// The element library's view of the guest.
pub struct GuestPlatform;

impl Platform for GuestPlatform {
    fn now_ns(&self) -> u64 {
        time::now()
    }
    fn print(&mut self, line: &str) {
        crate::println!("{line}");
    }
    fn net_device(&mut self, id: u32) -> Result<Box<dyn NetDevice>, String> {
        // netfront: devices connected at boot (kernel::netfront::connect_all).
        super::netfront::device(id)
    }
}

/// How long [`Control::run`] keeps a busy router going before looking at Xenstore again.
pub const SLICE_NS: u64 = 2_000_000;
/// Largest handler answer the guest writes (xenstored refuses guest nodes of 2048 bytes or more).
pub const MAX_ANSWER: usize = 1900;

type Xs = Client<EvtchnChannel>;

#[derive(Default)]
struct Slot {
    router: Option<Router>,
    /// The tool asked for `Running` and the configuration is not complete yet.
    pending: bool,
    /// The driver of `router` finished (a source with STOP true): no more rounds.
    finished: bool,
    /// netfront: the last round did no work (polled devices were empty): the router waits
    /// for a device event, a timer or at most IDLE_RECHECK_NS instead of spinning.
    idle: bool,
}

/// netfront: longest idle wait of a router whose tasks stay scheduled (FromNetfront polls); a
/// netfront event ends it at once.
pub const IDLE_RECHECK_NS: u64 = 100_000_000;

pub struct Control {
    root: String,
    slots: BTreeMap<u32, Slot>,
    registry: elements::Registry,
}

fn read_opt(xs: &mut Xs, path: &str) -> Result<Option<Vec<u8>>, Error> {
    match xs.read(TX_NONE, path) {
        Ok(v) => Ok(Some(v)),
        Err(Error::Errno(Errno::ENOENT)) => Ok(None),
        Err(e) => Err(e),
    }
}

impl Control {
    /// `root` is `/local/domain/<domid>/data/clickos` (the caller watches it).
    pub fn new(root: String) -> Self {
        Control {
            root,
            slots: BTreeMap::new(),
            registry: elements::library::registry(),
        }
    }

    pub fn root(&self) -> &str {
        &self.root
    }

    /// Handles one watch event on `path`. Xenstore errors are logged, never fatal.
    pub fn on_event(&mut self, xs: &mut Xs, path: &str) {
        let node = control::classify(&self.root, path);
        let r = match node {
            Node::Other => Ok(()),
            Node::Status(rid) => self.on_status(xs, rid),
            Node::Config(rid) => {
                if self.slots.get(&rid).is_some_and(|s| s.pending) {
                    self.try_start(xs, rid)
                } else {
                    Ok(())
                }
            }
            Node::Request {
                rid,
                access,
                element,
                handler,
            } => self.on_request(xs, path, rid, access, element, handler),
        };
        if let Err(e) = r {
            crate::println!("click: xenstore error handling {path}: {e}");
        }
    }

    fn on_status(&mut self, xs: &mut Xs, rid: u32) -> Result<(), Error> {
        let rp = RouterPaths::new(&self.root, rid);
        let Some(v) = read_opt(xs, &rp.status())? else {
            return Ok(());
        };
        let slot = self.slots.entry(rid).or_default();
        match core::str::from_utf8(&v).unwrap_or("").trim() {
            // Also what the guest itself writes after a start: a running router ignores it.
            "Running" if slot.router.is_none() && !slot.pending => {
                slot.pending = true;
                return self.try_start(xs, rid);
            }
            "Halted" => {
                slot.pending = false;
                if let Some(mut r) = slot.router.take() {
                    r.stop();
                    r.cleanup();
                    slot.finished = false;
                    crate::println!("click: router {rid} halted");
                }
            }
            // "Running" for a running router or one waiting for its config, "Error" (the
            // guest's own), "" and anything else.
            _ => {}
        }
        Ok(())
    }

    /// Starts router `rid` if its configuration is complete; else waits for more writes.
    fn try_start(&mut self, xs: &mut Xs, rid: u32) -> Result<(), Error> {
        let rp = RouterPaths::new(&self.root, rid);
        let Some(len) = read_opt(xs, &rp.config_len())? else {
            crate::println!("click: router {rid}: waiting for config_len");
            return Ok(());
        };
        let want = match control::parse_config_len(&len) {
            Ok(n) => n,
            Err(msg) => return self.fail(xs, rid, &msg),
        };
        let assembled = control::assemble(want, |i| read_opt(xs, &rp.chunk(i)))?;
        let text = match assembled {
            Assembly::Complete(t) => t,
            Assembly::Incomplete { have, want } => {
                crate::println!("click: router {rid}: config has {have} of {want} bytes, waiting");
                return Ok(());
            }
            Assembly::Invalid(msg) => return self.fail(xs, rid, &msg),
        };
        let slot = self.slots.entry(rid).or_default();
        slot.pending = false;
        let t0 = time::now();
        let loaded = config_lang::load("config", &text, &[]);
        let errors = |d: &[config_lang::Diagnostic]| -> String {
            d.iter()
                .filter(|d| d.is_error())
                .map(|d| d.one_line(&loaded.sources))
                .collect::<Vec<_>>()
                .join("\n")
        };
        let Some(graph) = loaded.graph.as_ref() else {
            let msg = errors(&loaded.diagnostics);
            return self.fail(xs, rid, &msg);
        };
        let router = match elements::router::build(
            graph,
            &self.registry,
            Some(Box::new(GuestPlatform)),
            &text,
        ) {
            Ok(r) => r,
            Err(e) => {
                let msg = errors(&e.diagnostics);
                return self.fail(xs, rid, &msg);
            }
        };
        crate::println!(
            "click: router {rid}: {} bytes, {} elements, built in {} us",
            text.len(),
            router.elements().len(),
            (time::now() - t0) / 1000
        );
        let slot = self.slots.entry(rid).or_default();
        slot.router = Some(router);
        slot.finished = false;
        xs.transaction(|xs, tx| {
            xs.write(tx, &rp.error(), b"")?;
            xs.write(tx, &rp.status(), b"Running")
        })
    }

    /// Reports a failed start: `error` = `msg`, `status` = `Error` (one transaction).
    fn fail(&mut self, xs: &mut Xs, rid: u32, msg: &str) -> Result<(), Error> {
        let rp = RouterPaths::new(&self.root, rid);
        let slot = self.slots.entry(rid).or_default();
        slot.pending = false;
        crate::println!("click: router {rid}: {msg}");
        let mut msg = String::from(msg);
        if msg.is_empty() {
            msg.push_str("error: configuration failed");
        }
        truncate(&mut msg, MAX_ANSWER);
        xs.transaction(|xs, tx| {
            xs.write(tx, &rp.error(), msg.as_bytes())?;
            xs.write(tx, &rp.status(), b"Error")
        })
    }

    fn on_request(
        &mut self,
        xs: &mut Xs,
        path: &str,
        rid: u32,
        access: Access,
        element: &str,
        handler: &str,
    ) -> Result<(), Error> {
        // A removed request (the guest's own rm below) reads ENOENT: nothing to do.
        let Some(value) = read_opt(xs, path)? else {
            return Ok(());
        };
        // xenstored creates missing parents as empty nodes: a node with children is a
        // directory, not a request.
        if value.is_empty() && !xs.directory(TX_NONE, path)?.is_empty() {
            return Ok(());
        }
        let rp = RouterPaths::new(&self.root, rid);
        let name = control::handler_name(element, handler);
        let router = self.slots.get_mut(&rid).and_then(|s| s.router.as_mut());
        let outcome: Result<Option<String>, String> = match (router, access) {
            (None, _) => Err(format!("router {rid} is not running")),
            (Some(r), Access::Read) => r.read_handler(&name).map(Some).map_err(|e| format!("{e}")),
            (Some(r), Access::Write) => {
                let v = String::from_utf8_lossy(&value);
                r.write_handler(&name, &v)
                    .map(|()| None)
                    .map_err(|e| format!("{e}"))
            }
        };
        let outcome = match outcome {
            Ok(Some(v)) if v.len() > MAX_ANSWER => Err(format!(
                "{name}: value of {} bytes is too large for a guest Xenstore node",
                v.len()
            )),
            o => o,
        };
        // Answer (and error) first, then remove the request: its disappearance tells the tool
        // the answer is there. Nothing written here classifies as a request.
        let (answer, error) = (
            rp.answer(element, handler),
            rp.answer_error(element, handler),
        );
        xs.transaction(|xs, tx| {
            match &outcome {
                Ok(Some(v)) => xs.write(tx, &answer, v.as_bytes())?,
                Ok(None) => {}
                Err(_) => match xs.rm(tx, &answer) {
                    Ok(()) | Err(Error::Errno(Errno::ENOENT)) => {}
                    Err(e) => return Err(e),
                },
            }
            let e = outcome.as_ref().err().map(String::as_str).unwrap_or("");
            let mut e = String::from(e);
            truncate(&mut e, MAX_ANSWER);
            xs.write(tx, &error, e.as_bytes())?;
            match xs.rm(tx, path) {
                Ok(()) | Err(Error::Errno(Errno::ENOENT)) => Ok(()),
                Err(e) => Err(e),
            }
        })?;
        match &outcome {
            Ok(Some(v)) => crate::println!("click: router {rid}: read {name} = {v:?}"),
            Ok(None) => crate::println!("click: router {rid}: wrote {name}"),
            Err(e) => crate::println!("click: router {rid}: {name}: {e}"),
        }
        Ok(())
    }

    /// Runs every live router for up to [`SLICE_NS`] (each while it has scheduled tasks), and
    /// fires due timers.
    pub fn run(&mut self) {
        for (rid, slot) in self.slots.iter_mut() {
            let Some(r) = slot.router.as_mut() else {
                continue;
            };
            if slot.finished {
                continue;
            }
            let end = time::now() + SLICE_NS;
            loop {
                let worked = r.run_once();
                // netfront: a round without work means the devices are empty (and armed).
                slot.idle = !worked;
                if r.is_stopped() {
                    slot.finished = true;
                    crate::println!("click: router {rid}: driver stopped (handlers stay readable)");
                    break;
                }
                if slot.idle || !r.has_scheduled_tasks() || time::now() >= end {
                    break;
                }
            }
        }
    }

    /// Until when the main loop may wait for Xenstore: now if a router has work, the earliest
    /// timer if one is pending, else forever (`None`).
    pub fn deadline(&self) -> Option<u64> {
        let mut d: Option<u64> = None;
        for slot in self.slots.values() {
            let Some(r) = slot.router.as_ref() else {
                continue;
            };
            if slot.finished {
                continue;
            }
            if r.has_scheduled_tasks() {
                if !slot.idle {
                    return Some(0);
                }
                // netfront: idle pollers wait for an event (the wake ports), bounded.
                let t = time::now() + IDLE_RECHECK_NS;
                d = Some(d.map_or(t, |d| d.min(t)));
            }
            if let Some(t) = r.next_timer() {
                d = Some(d.map_or(t, |d| d.min(t)));
            }
        }
        d
    }
}

fn truncate(s: &mut String, max: usize) {
    if s.len() > max {
        let mut n = max;
        while !s.is_char_boundary(n) {
            n -= 1;
        }
        s.truncate(n);
    }
}
