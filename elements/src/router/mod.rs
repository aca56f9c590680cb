//! The router: elements instantiated from a flat graph, connected, and run.
//!
//! Push is not recursive: an element's `push` emits batches into its [`Context`], and the router
//! delivers them depth-first from a work stack once the element has returned. So the router holds
//! exactly one element mutably at a time, and graphs with push cycles (an ICMP error fed back into
//! routing) work. Pull is recursive through the element slots: the puller is taken out of its slot
//! while it runs, so a pull cycle is detected instead of aliased.

mod build;
mod context;
mod handlers;
#[cfg(test)]
mod tests;

pub use build::{build, BuildError};
pub use context::Context;
pub use handlers::HandlerError;

use alloc::boxed::Box;
use alloc::collections::BinaryHeap;
use alloc::string::String;
use alloc::vec::Vec;
use core::cmp::Reverse;

use crate::batch::Batch;
use crate::element::Element;
use crate::packet::PacketPool;
use crate::platform::Platform;

/// Static facts about one element in the router.
pub struct ElementInfo {
    pub name: String,
    pub class: &'static str,
    pub config: String,
    pub ninputs: usize,
    pub noutputs: usize,
    /// Resolved processing: true = push.
    pub input_push: Vec<bool>,
    pub output_push: Vec<bool>,
    /// Outputs that the element serves with its own `pull` (declared `l`), not through `push`.
    pub native_pull: bool,
}

/// Who is connected to what, by element index and port.
#[derive(Default)]
pub(crate) struct Topology {
    /// `outputs[e][p]`: the inputs output `p` of `e` feeds.
    pub outputs: Vec<Vec<Vec<(usize, usize)>>>,
    /// `inputs[e][p]`: the outputs feeding input `p` of `e`.
    pub inputs: Vec<Vec<Vec<(usize, usize)>>>,
}

pub(crate) struct Task {
    pub element: usize,
    pub scheduled: bool,
}

/// Everything but the elements themselves: what a [`Context`] reaches.
pub(crate) struct Core {
    pub pool: PacketPool,
    pub spare: Vec<Batch>,
    /// Pending deliveries: (element, input port, batch).
    pub work: Vec<(usize, usize, Batch)>,
    pub tasks: Vec<Task>,
    /// Element index -> its task index.
    pub task_of: Vec<Option<usize>>,
    /// (when, element, housekeeping): a housekeeping timer (expiring table entries, retrying
    /// queries) does not by itself keep a run going.
    pub timers: BinaryHeap<Reverse<(u64, usize, bool)>>,
    pub stopped: bool,
    pub platform: Box<dyn Platform>,
    /// Packets dropped because they went to an output with nothing connected.
    pub dropped_unconnected: u64,
}

impl Core {
    pub fn new_batch(&mut self) -> Batch {
        self.spare.pop().unwrap_or_default()
    }

    pub fn recycle_batch(&mut self, mut b: Batch) {
        for p in b.drain() {
            self.pool.recycle(p);
        }
        if self.spare.len() < 256 {
            self.spare.push(b);
        }
    }
}

pub struct Router {
    pub(crate) slots: Vec<Option<Box<dyn Element>>>,
    pub(crate) info: Vec<ElementInfo>,
    pub(crate) topo: Topology,
    pub(crate) core: Core,
    pub(crate) flat_config: String,
    pub(crate) source_config: String,
    /// Round-robin position in the task list.
    next_task: usize,
}

impl Router {
    pub fn elements(&self) -> &[ElementInfo] {
        &self.info
    }

    pub fn find(&self, name: &str) -> Option<usize> {
        self.info.iter().position(|e| e.name == name)
    }

    pub fn is_stopped(&self) -> bool {
        self.core.stopped
    }

    pub fn stop(&mut self) {
        self.core.stopped = true;
    }

    pub fn pool_stats(&self) -> crate::packet::PoolStats {
        self.core.pool.stats()
    }

    pub fn platform(&mut self) -> &mut dyn Platform {
        &mut *self.core.platform
    }

    /// Delivers pending pushes until none are left.
    fn run_pushes(&mut self) {
        while let Some((e, port, batch)) = self.core.work.pop() {
            let Some(mut el) = self.slots[e].take() else {
                // Only possible while a pull is in progress; keep it for later.
                self.core.work.insert(0, (e, port, batch));
                return;
            };
            let start = self.core.work.len();
            {
                let mut cx =
                    Context::new(e, &mut self.slots, &self.topo, &mut self.core, &self.info);
                el.push(port, batch, &mut cx);
            }
            // First emitted, first delivered, as Click's recursive push would.
            self.core.work[start..].reverse();
            self.slots[e] = Some(el);
        }
    }

    /// Runs one round: each scheduled task once, then expired timers. Returns whether any task
    /// did work.
    pub fn run_once(&mut self) -> bool {
        let mut worked = false;
        let n = self.core.tasks.len();
        for k in 0..n {
            let t = (self.next_task + k) % n;
            if !self.core.tasks[t].scheduled {
                continue;
            }
            let e = self.core.tasks[t].element;
            let Some(mut el) = self.slots[e].take() else {
                continue;
            };
            {
                let mut cx =
                    Context::new(e, &mut self.slots, &self.topo, &mut self.core, &self.info);
                worked |= el.run_task(&mut cx);
            }
            self.slots[e] = Some(el);
            self.run_pushes();
            if self.core.stopped {
                break;
            }
        }
        if n > 0 {
            self.next_task = (self.next_task + 1) % n;
        }
        self.run_timers();
        worked
    }

    /// Fires every timer that is due.
    pub fn run_timers(&mut self) {
        let now = self.core.platform.now_ns();
        while let Some(Reverse((at, e, _))) = self.core.timers.peek().copied() {
            if at > now {
                break;
            }
            self.core.timers.pop();
            let Some(mut el) = self.slots[e].take() else {
                continue;
            };
            {
                let mut cx =
                    Context::new(e, &mut self.slots, &self.topo, &mut self.core, &self.info);
                el.run_timer(&mut cx);
            }
            self.slots[e] = Some(el);
            self.run_pushes();
        }
    }

    /// The earliest pending timer, for a driver that wants to sleep until then.
    pub fn next_timer(&self) -> Option<u64> {
        self.core.timers.peek().map(|Reverse((at, _, _))| *at)
    }

    /// The earliest pending timer that is not housekeeping: work the router still has to do.
    pub fn next_work_timer(&self) -> Option<u64> {
        self.core
            .timers
            .iter()
            .filter(|Reverse((_, _, hk))| !hk)
            .map(|Reverse((at, _, _))| *at)
            .min()
    }

    /// True when some task is scheduled (a driver should keep spinning rather than sleep).
    pub fn has_scheduled_tasks(&self) -> bool {
        self.core.tasks.iter().any(|t| t.scheduled)
    }

    /// Pushes a batch into input `port` of element `e` from outside (tests, drivers).
    pub fn inject(&mut self, e: usize, port: usize, batch: Batch) {
        self.core.work.push((e, port, batch));
        self.run_pushes();
    }

    /// Runs until stopped, or until `max_rounds` rounds pass with no task doing work and either no
    /// timer pending or only timers in the future of a clock that stood still meanwhile (a test
    /// platform's: nothing more can happen until the test moves time on).
    pub fn run_until_idle(&mut self, max_idle_rounds: usize) {
        let mut idle = 0;
        let mut idle_since = 0;
        while !self.core.stopped {
            if self.run_once() {
                idle = 0;
            } else {
                let now = self.core.platform.now_ns();
                if idle == 0 {
                    idle_since = now;
                }
                idle += 1;
                if idle >= max_idle_rounds {
                    match self.next_timer() {
                        None => break,
                        Some(at) if at > now && now == idle_since => break,
                        Some(_) => {}
                    }
                }
            }
        }
    }

    /// Calls every element's cleanup (flush files, devices). Idempotent.
    pub fn cleanup(&mut self) {
        for e in 0..self.slots.len() {
            let Some(mut el) = self.slots[e].take() else {
                continue;
            };
            {
                let mut cx =
                    Context::new(e, &mut self.slots, &self.topo, &mut self.core, &self.info);
                el.cleanup(&mut cx);
            }
            self.slots[e] = Some(el);
        }
        self.run_pushes();
    }
}
