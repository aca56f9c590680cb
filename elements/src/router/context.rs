//! [`Context`]: an element's view of the router while one of its methods runs.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::cmp::Reverse;

use super::{Core, ElementInfo, Topology};
use crate::batch::Batch;
use crate::element::Element;
use crate::packet::{Packet, PacketPool};
use crate::platform::Platform;

pub struct Context<'r> {
    me: usize,
    slots: &'r mut [Option<Box<dyn Element>>],
    topo: &'r Topology,
    core: &'r mut Core,
    info: &'r [ElementInfo],
    /// While serving a pull on this output, what the element emits there is kept here.
    capture: Option<(usize, Batch)>,
}

impl<'r> Context<'r> {
    pub(crate) fn new(
        me: usize,
        slots: &'r mut [Option<Box<dyn Element>>],
        topo: &'r Topology,
        core: &'r mut Core,
        info: &'r [ElementInfo],
    ) -> Context<'r> {
        Context {
            me,
            slots,
            topo,
            core,
            info,
            capture: None,
        }
    }

    pub fn ninputs(&self) -> usize {
        self.info[self.me].ninputs
    }

    pub fn noutputs(&self) -> usize {
        self.info[self.me].noutputs
    }

    pub fn name(&self) -> &str {
        &self.info[self.me].name
    }

    pub fn pool(&mut self) -> &mut PacketPool {
        &mut self.core.pool
    }

    pub fn platform(&mut self) -> &mut dyn Platform {
        &mut *self.core.platform
    }

    pub fn now_ns(&self) -> u64 {
        self.core.platform.now_ns()
    }

    /// An empty batch (reused allocation).
    pub fn new_batch(&mut self) -> Batch {
        self.core.new_batch()
    }

    /// Kills a packet (Click's `kill`): back to the pool.
    #[inline]
    pub fn kill(&mut self, p: Packet) {
        self.core.pool.recycle(p);
    }

    pub fn kill_batch(&mut self, b: Batch) {
        self.core.recycle_batch(b);
    }

    /// Sends a batch out of output `port`. Packets sent to an output with nothing connected (or
    /// that does not exist) are killed and counted.
    #[inline]
    pub fn push(&mut self, port: usize, batch: Batch) {
        if batch.is_empty() {
            if self.core.spare.len() < 256 {
                self.core.spare.push(batch);
            }
            return;
        }
        if let Some((cport, captured)) = &mut self.capture {
            if *cport == port {
                if captured.is_empty() {
                    let old = core::mem::replace(captured, batch);
                    self.core.spare.push(old);
                } else {
                    captured.pkts.extend(batch.pkts.into_iter());
                }
                return;
            }
        }
        let dests = self.topo.outputs[self.me]
            .get(port)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        match dests {
            [(e, p)] => self.core.work.push((*e, *p, batch)),
            _ => {
                // A pull output (served by capture) or an unconnected push output.
                self.core.dropped_unconnected += batch.len() as u64;
                self.core.recycle_batch(batch);
            }
        }
    }

    /// Sends one packet out of output `port`.
    pub fn push_packet(&mut self, port: usize, p: Packet) {
        let mut b = self.core.new_batch();
        b.push(p);
        self.push(port, b);
    }

    /// Sends each packet of `batch` to the output `f` chooses, or kills it when `f` returns `None`
    /// (or an output that does not exist). Packets keep their order within each output.
    pub fn classify(&mut self, mut batch: Batch, mut f: impl FnMut(&mut Packet) -> Option<usize>) {
        let n = self.noutputs();
        // Fast path: everything goes to one place — reuse the batch itself.
        let mut outs: [Option<Batch>; 4] = [None, None, None, None];
        let core = &mut *self.core;
        let mut many: Vec<Option<Batch>> = Vec::new();
        let mut kept = core.new_batch();
        let mut first_port: Option<usize> = None;
        for mut p in batch.drain() {
            match f(&mut p) {
                Some(port) if port < n => {
                    let fp = *first_port.get_or_insert(port);
                    if port == fp {
                        kept.push(p);
                    } else if port < 4 {
                        outs[port]
                            .get_or_insert_with(|| core.spare.pop().unwrap_or_default())
                            .push(p);
                    } else {
                        if many.len() <= port {
                            many.resize_with(port + 1, || None);
                        }
                        many[port]
                            .get_or_insert_with(|| core.spare.pop().unwrap_or_default())
                            .push(p);
                    }
                }
                _ => core.pool.recycle(p),
            }
        }
        core.spare.push(batch);
        if let Some(fp) = first_port {
            self.push(fp, kept);
        } else {
            self.core.spare.push(kept);
        }
        for (port, b) in outs.into_iter().enumerate() {
            if let Some(b) = b {
                self.push(port, b);
            }
        }
        for (port, b) in many.into_iter().enumerate() {
            if let Some(b) = b {
                self.push(port, b);
            }
        }
    }

    /// Pulls up to `max` packets from input `port`. `None` when nothing is available.
    pub fn pull(&mut self, port: usize, max: usize) -> Option<Batch> {
        let &(src, src_port) = self.topo.inputs[self.me].get(port)?.first()?;
        pull_from(
            src, src_port, max, self.slots, self.topo, self.core, self.info,
        )
    }

    /// Stops the router (the driver returns after this round).
    pub fn stop_router(&mut self) {
        self.core.stopped = true;
    }

    /// Schedules this element's task to run again.
    pub fn reschedule(&mut self) {
        if let Some(t) = self.core.task_of[self.me] {
            self.core.tasks[t].scheduled = true;
        }
    }

    /// Unschedules this element's task until something reschedules it.
    pub fn sleep(&mut self) {
        if let Some(t) = self.core.task_of[self.me] {
            self.core.tasks[t].scheduled = false;
        }
    }

    /// Wakes the task of the element(s) feeding or fed by... a given element index.
    pub fn wake(&mut self, element: usize) {
        if let Some(t) = self.core.task_of.get(element).copied().flatten() {
            self.core.tasks[t].scheduled = true;
        }
    }

    /// Wakes the tasks of the elements downstream of output `port` (e.g. a Queue that became
    /// non-empty wakes the Unqueue that drains it).
    pub fn wake_downstream(&mut self, port: usize) {
        let dests: Vec<usize> = self.topo.outputs[self.me]
            .get(port)
            .map(|d| d.iter().map(|(e, _)| *e).collect())
            .unwrap_or_default();
        for e in dests {
            self.wake(e);
        }
    }

    /// Fires this element's timer at `at_ns`.
    pub fn schedule_timer(&mut self, at_ns: u64) {
        self.core.timers.push(Reverse((at_ns, self.me, false)));
    }

    /// Fires this element's timer at `at_ns`, for upkeep (expiring entries, retrying queries):
    /// unlike [`Context::schedule_timer`], such a timer does not keep a finished run going.
    pub fn schedule_housekeeping_timer(&mut self, at_ns: u64) {
        self.core.timers.push(Reverse((at_ns, self.me, true)));
    }
}

/// Serves a pull on output `port` of element `e`: through its own `pull` if it declares pull
/// outputs, otherwise by pulling its input 0 and running its `push` with the output captured.
pub(crate) fn pull_from(
    e: usize,
    port: usize,
    max: usize,
    slots: &mut [Option<Box<dyn Element>>],
    topo: &Topology,
    core: &mut Core,
    info: &[ElementInfo],
) -> Option<Batch> {
    // Taken out while it runs: a pull cycle finds the slot empty and gets nothing.
    let mut el = slots[e].take()?;
    let result = if info[e].native_pull {
        let mut cx = Context::new(e, slots, topo, core, info);
        el.pull(port, max, &mut cx)
    } else {
        let mut cx = Context::new(e, slots, topo, core, info);
        // An element may divert or drop everything it was given (a filter): then pull again, so
        // the puller does not go to sleep while packets still wait upstream.
        loop {
            let Some(b) = cx.pull(0, max) else { break None };
            let empty = cx.core.new_batch();
            cx.capture = Some((port, empty));
            el.push(0, b, &mut cx);
            let (_, got) = cx.capture.take().expect("set above");
            if !got.is_empty() {
                break Some(got);
            }
            cx.core.spare.push(got);
        }
    };
    slots[e] = Some(el);
    result
}
