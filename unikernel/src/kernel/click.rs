//! The Click side of the guest: the element library's [`Platform`] on the guest (clock, console)
//! and the control driver that follows the Xenstore protocol of [`crate::control`]
//! (`docs/xenstore-protocol.md`) and runs the routers between Xenstore polls.
//!
//! The control thread (the boot thread) calls [`Control::on_event`] for watch events under
//! `data/clickos`; each running router has its own cooperative thread ([`super::sched`]) that
//! runs its rounds and sleeps when it has nothing to do (see [`router_thread`]). They share the
//! router through an `Rc<RefCell<..>>`: with cooperative threads on one vCPU, a borrow is never
//! held across a yield, so the control thread can answer handler requests between rounds.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;

use elements::platform::{NetDevice, Platform};
use elements::Router;

use super::ThreadChannel;
use super::{sched, time};
use crate::control::{self, Access, Assembly, Node, RouterPaths};
use crate::sched::ThreadId;
use crate::xenstore::{Client, Errno, Error, TX_NONE};

/// The element library's view of the guest, one per router. `wake_ports` collects the event
/// channels of the devices the router opened: its thread sleeps on them.
#[derive(Default)]
pub struct GuestPlatform {
    pub wake_ports: Rc<RefCell<Vec<u32>>>,
}

impl Platform for GuestPlatform {
    fn now_ns(&self) -> u64 {
        time::now()
    }
    fn print(&mut self, line: &str) {
        crate::println!("{line}");
    }
    fn net_device(&mut self, id: u32) -> Result<Box<dyn NetDevice>, String> {
        // The ClickOS fast path when clickos-switchd offered it, else netfront (both connected
        // at boot); the router's thread sleeps on the device's event channel.
        let (dev, port) = match super::fastpath::device(id) {
            Some(d) => d,
            None => (
                super::netfront::device(id)?,
                super::netfront::port(id).unwrap_or(0),
            ),
        };
        let mut w = self.wake_ports.borrow_mut();
        if port != 0 && !w.contains(&port) {
            w.push(port);
        }
        Ok(dev)
    }
}

/// How long a busy router thread runs before it yields to the other threads.
pub const SLICE_NS: u64 = 2_000_000;
/// Rounds in a row with no task doing work after which a router thread sleeps.
pub const IDLE_ROUNDS: u32 = 16;
/// A sleeping router thread's first and longest nap when nothing else can wake it (its tasks
/// poll something without an event channel): the nap doubles while the router stays idle.
pub const NAP_MIN_NS: u64 = 50_000;
pub const NAP_MAX_NS: u64 = 10_000_000;
/// The longest sleep of a router whose devices will notify it (a safety net only).
pub const NAP_MAX_WITH_PORTS_NS: u64 = 100_000_000;
/// Largest value the guest writes in one node (xenstored refuses guest nodes of 2048 bytes or
/// more); longer handler answers are split into chunks of this size.
pub const MAX_ANSWER: usize = 1900;
/// Largest handler answer: 138 chunks, well inside the guest's Xenstore quota of 1000 nodes.
pub const MAX_CHUNKED_ANSWER: usize = 256 * 1024;

type Xs = Client<ThreadChannel>;

/// A running router, shared by its thread and the control thread.
struct Running {
    rid: u32,
    router: Router,
    /// The router's driver stopped (a source with STOP true): no more rounds; handlers stay.
    finished: bool,
    /// The control thread halted it: the thread must exit.
    halted: bool,
    /// Event channels of the router's devices.
    wake_ports: Rc<RefCell<Vec<u32>>>,
}

#[derive(Default)]
struct Slot {
    running: Option<(Rc<RefCell<Running>>, ThreadId)>,
    /// The tool asked for `Running` and the configuration is not complete yet.
    pending: bool,
}

impl Slot {
    fn is_running(&self) -> bool {
        self.running.is_some()
    }
}

/// What a router thread does after a slice.
enum After {
    Yield,
    Sleep {
        ports: Vec<u32>,
        deadline: Option<u64>,
    },
    Exit,
}

/// The body of a router's thread: rounds in slices of up to [`SLICE_NS`], yielding between
/// slices; after [`IDLE_ROUNDS`] idle rounds it sleeps until a device's event channel fires, the
/// next timer, or a nap (doubling from [`NAP_MIN_NS`]) ends.
fn router_thread(run: Rc<RefCell<Running>>) {
    let mut nap = NAP_MIN_NS;
    loop {
        let after = {
            let Ok(mut r) = run.try_borrow_mut() else {
                crate::println!("click: router thread found its router borrowed; yielding");
                sched::yield_now();
                continue;
            };
            if r.halted {
                After::Exit
            } else if r.finished {
                // Only the control thread's halt can change anything now.
                After::Sleep {
                    ports: Vec::new(),
                    deadline: None,
                }
            } else {
                let end = time::now() + SLICE_NS;
                let mut idle = 0;
                loop {
                    if r.router.run_once() {
                        idle = 0;
                        nap = NAP_MIN_NS;
                    } else {
                        idle += 1;
                    }
                    if r.router.is_stopped() {
                        r.finished = true;
                        crate::println!(
                            "click: router {}: driver stopped (handlers stay readable)",
                            r.rid
                        );
                        break;
                    }
                    if idle >= IDLE_ROUNDS || !r.router.has_scheduled_tasks() {
                        break;
                    }
                    if time::now() >= end {
                        break;
                    }
                }
                if r.finished {
                    After::Yield
                } else if idle >= IDLE_ROUNDS || !r.router.has_scheduled_tasks() {
                    let ports = r.wake_ports.borrow().clone();
                    let now = time::now();
                    let mut deadline = r.router.next_timer();
                    if r.router.has_scheduled_tasks() {
                        let cap = if ports.is_empty() {
                            nap
                        } else {
                            NAP_MAX_WITH_PORTS_NS
                        };
                        let d = now + cap;
                        deadline = Some(deadline.map_or(d, |t| t.min(d)));
                        nap = (nap * 2).min(NAP_MAX_NS);
                    }
                    After::Sleep { ports, deadline }
                } else {
                    After::Yield
                }
            }
        };
        match after {
            After::Yield => sched::yield_now(),
            After::Sleep { ports, deadline } => sched::block(&ports, deadline),
            After::Exit => return,
        }
    }
}

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
            "Running" if !slot.is_running() && !slot.pending => {
                slot.pending = true;
                return self.try_start(xs, rid);
            }
            "Halted" => {
                slot.pending = false;
                if let Some((run, tid)) = slot.running.take() {
                    match run.try_borrow_mut() {
                        Ok(mut r) => {
                            r.halted = true;
                            r.router.stop();
                            r.router.cleanup();
                        }
                        Err(_) => crate::println!("click: router {rid}: busy while halting"),
                    }
                    sched::wake(tid);
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
        let platform = GuestPlatform::default();
        let wake_ports = platform.wake_ports.clone();
        let router =
            match elements::router::build(graph, &self.registry, Some(Box::new(platform)), &text) {
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
        let run = Rc::new(RefCell::new(Running {
            rid,
            router,
            finished: false,
            halted: false,
            wake_ports,
        }));
        let thread_run = run.clone();
        let tid = match sched::spawn("router", move || router_thread(thread_run)) {
            Ok(tid) => tid,
            Err(e) => {
                run.borrow_mut().router.cleanup();
                return self.fail(xs, rid, &format!("error: cannot start a thread: {e}"));
            }
        };
        let slot = self.slots.entry(rid).or_default();
        slot.running = Some((run, tid));
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
        let running = self.slots.get(&rid).and_then(|s| s.running.as_ref());
        let outcome: Result<Option<String>, String> = match running {
            None => Err(format!("router {rid} is not running")),
            Some((run, tid)) => match run.try_borrow_mut() {
                Err(_) => Err(format!("router {rid} is busy")),
                Ok(mut r) => {
                    let r = &mut r.router;
                    let o = match access {
                        Access::Read => r.read_handler(&name).map(Some).map_err(|e| format!("{e}")),
                        Access::Write => {
                            let v = String::from_utf8_lossy(&value);
                            r.write_handler(&name, &v)
                                .map(|()| None)
                                .map_err(|e| format!("{e}"))
                        }
                    };
                    // A write may have scheduled tasks (e.g. `active true`): let the thread
                    // look.
                    sched::wake(*tid);
                    o
                }
            },
        };
        let outcome = match outcome {
            Ok(Some(v)) if v.len() > MAX_CHUNKED_ANSWER => Err(format!(
                "{name}: value of {} bytes is larger than the {MAX_CHUNKED_ANSWER} bytes a \
                 handler answer may have",
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
            // A previous, longer answer's chunks must not survive.
            if !matches!(outcome, Ok(None)) {
                match xs.rm(tx, &answer) {
                    Ok(()) | Err(Error::Errno(Errno::ENOENT)) => {}
                    Err(e) => return Err(e),
                }
            }
            if let Ok(Some(v)) = &outcome {
                let v = v.as_bytes();
                if v.len() <= MAX_ANSWER {
                    xs.write(tx, &answer, v)?;
                } else {
                    // `answer` = "", `answer/len` = total, `answer/0..N-1` = chunks.
                    xs.write(tx, &answer, b"")?;
                    xs.write(
                        tx,
                        &format!("{answer}/len"),
                        format!("{}", v.len()).as_bytes(),
                    )?;
                    for (i, chunk) in v.chunks(MAX_ANSWER).enumerate() {
                        xs.write(tx, &format!("{answer}/{i}"), chunk)?;
                    }
                }
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
            Ok(Some(v)) if v.len() > 200 => {
                crate::println!("click: router {rid}: read {name} ({} bytes)", v.len())
            }
            Ok(Some(v)) => crate::println!("click: router {rid}: read {name} = {v:?}"),
            Ok(None) => crate::println!("click: router {rid}: wrote {name}"),
            Err(e) => crate::println!("click: router {rid}: {name}: {e}"),
        }
        Ok(())
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
