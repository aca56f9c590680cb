//! Cooperative threads: the scheduling policy, in plain Rust (the context switch and stacks are
//! in `arch` and `kernel::sched`).
//!
//! Like Mini-OS's scheduler, and for the same reason: the guest has one vCPU and takes no
//! upcalls, so a thread runs until it yields or blocks, and data shared between threads needs
//! no locking as long as nobody holds a borrow across a yield. A blocked thread waits for one of
//! a few event-channel ports to become pending, a deadline (Xen system time), or an explicit
//! [`RunQueue::wake`]. The idle loop of the kernel polls the union of all blocked threads'
//! ports with the earliest deadline (`SCHEDOP_poll`).
//!
//! Pending bits are cleared here, by the scheduler, once for every thread waiting on a port,
//! *before* those threads run and look at their rings: an event that arrives after the clear
//! sets the bit again, so no wake-up is lost and no two waiters race to clear it.

use alloc::string::String;
use alloc::vec::Vec;

pub type ThreadId = usize;

/// Most ports one thread waits on at once (a router's devices, or one ring).
pub const MAX_WAIT_PORTS: usize = 8;

/// A small fixed set of event-channel ports (no allocation when a thread blocks).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PortSet {
    ports: [u32; MAX_WAIT_PORTS],
    len: usize,
}

impl PortSet {
    /// The first [`MAX_WAIT_PORTS`] distinct ports of `ports`.
    pub fn new(ports: &[u32]) -> PortSet {
        let mut s = PortSet::default();
        for &p in ports {
            if s.len == MAX_WAIT_PORTS {
                break;
            }
            if !s.contains(p) {
                s.ports[s.len] = p;
                s.len += 1;
            }
        }
        s
    }

    pub fn as_slice(&self) -> &[u32] {
        &self.ports[..self.len]
    }

    pub fn contains(&self, port: u32) -> bool {
        self.as_slice().contains(&port)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Runnable,
    /// Until one of `ports` is pending, `deadline` passes, or someone wakes it.
    Blocked {
        ports: PortSet,
        deadline: Option<u64>,
    },
    Exited,
}

pub struct Thread<T> {
    pub name: String,
    pub state: State,
    /// The architecture's part: saved stack pointer, the stack itself.
    pub context: T,
}

/// What the kernel should do next, from [`RunQueue::pick`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Keep running the current thread.
    Stay,
    /// Switch to this thread.
    Switch(ThreadId),
    /// Nothing can run: wait for the ports of [`RunQueue::idle_wait`] or its deadline.
    Idle,
}

/// The threads and whose turn it is. Thread 0 is the thread that created the queue (the boot
/// thread, which becomes the control thread).
pub struct RunQueue<T> {
    threads: Vec<Option<Thread<T>>>,
    current: ThreadId,
}

impl<T> RunQueue<T> {
    pub fn new(name: &str, context: T) -> Self {
        RunQueue {
            threads: alloc::vec![Some(Thread {
                name: String::from(name),
                state: State::Runnable,
                context,
            })],
            current: 0,
        }
    }

    pub fn current(&self) -> ThreadId {
        self.current
    }

    pub fn get(&self, tid: ThreadId) -> Option<&Thread<T>> {
        self.threads.get(tid)?.as_ref()
    }

    pub fn get_mut(&mut self, tid: ThreadId) -> Option<&mut Thread<T>> {
        self.threads.get_mut(tid)?.as_mut()
    }

    /// Adds a runnable thread; reuses the number of a reaped one.
    pub fn spawn(&mut self, name: &str, context: T) -> ThreadId {
        let t = Thread {
            name: String::from(name),
            state: State::Runnable,
            context,
        };
        match self.threads.iter().position(Option::is_none) {
            Some(tid) => {
                self.threads[tid] = Some(t);
                tid
            }
            None => {
                self.threads.push(Some(t));
                self.threads.len() - 1
            }
        }
    }

    /// Live (not exited) threads.
    pub fn live(&self) -> usize {
        self.threads
            .iter()
            .flatten()
            .filter(|t| t.state != State::Exited)
            .count()
    }

    pub fn block_current(&mut self, ports: &[u32], deadline: Option<u64>) {
        let cur = self.current;
        if let Some(t) = self.get_mut(cur) {
            t.state = State::Blocked {
                ports: PortSet::new(ports),
                deadline,
            };
        }
    }

    pub fn exit_current(&mut self) {
        let cur = self.current;
        if let Some(t) = self.get_mut(cur) {
            t.state = State::Exited;
        }
    }

    /// Makes a blocked thread runnable; nothing for running or exited ones.
    pub fn wake(&mut self, tid: ThreadId) {
        if let Some(t) = self.get_mut(tid) {
            if matches!(t.state, State::Blocked { .. }) {
                t.state = State::Runnable;
            }
        }
    }

    /// Wakes every blocked thread whose deadline is `<= now` or one of whose ports `pending`
    /// says is pending; appends those ports to `clear` (each once) for the caller to clear
    /// before anyone runs.
    pub fn wake_ready(&mut self, now: u64, pending: impl Fn(u32) -> bool, clear: &mut Vec<u32>) {
        for t in self.threads.iter_mut().flatten() {
            let State::Blocked { ports, deadline } = t.state else {
                continue;
            };
            let mut ready = deadline.is_some_and(|d| d <= now);
            for &p in ports.as_slice() {
                if clear.contains(&p) || pending(p) {
                    ready = true;
                    if !clear.contains(&p) {
                        clear.push(p);
                    }
                }
            }
            if ready {
                t.state = State::Runnable;
            }
        }
    }

    /// Round robin: the first runnable thread after the current one, the current one last.
    pub fn pick(&self) -> Next {
        let n = self.threads.len();
        for k in 1..=n {
            let tid = (self.current + k) % n;
            if let Some(t) = self.get(tid) {
                if t.state == State::Runnable {
                    return if tid == self.current {
                        Next::Stay
                    } else {
                        Next::Switch(tid)
                    };
                }
            }
        }
        Next::Idle
    }

    /// Makes `tid` the current thread (the kernel calls this just before switching).
    pub fn set_current(&mut self, tid: ThreadId) {
        debug_assert!(self.get(tid).is_some());
        self.current = tid;
    }

    /// What the idle loop waits for: the ports of all blocked threads (appended to `ports`) and
    /// the earliest deadline.
    pub fn idle_wait(&self, ports: &mut Vec<u32>) -> Option<u64> {
        let mut earliest: Option<u64> = None;
        for t in self.threads.iter().flatten() {
            if let State::Blocked {
                ports: ps,
                deadline,
            } = t.state
            {
                for &p in ps.as_slice() {
                    if !ports.contains(&p) {
                        ports.push(p);
                    }
                }
                if let Some(d) = deadline {
                    earliest = Some(earliest.map_or(d, |e| e.min(d)));
                }
            }
        }
        earliest
    }

    /// Removes exited threads other than the current one (whose stack is still in use) and
    /// hands back their contexts so their stacks can be freed.
    pub fn reap(&mut self, mut free: impl FnMut(ThreadId, T)) {
        for tid in 0..self.threads.len() {
            if tid == self.current {
                continue;
            }
            if self.threads[tid]
                .as_ref()
                .is_some_and(|t| t.state == State::Exited)
            {
                let t = self.threads[tid].take().expect("checked above");
                free(tid, t.context);
            }
        }
    }

    /// `(tid, name, state)` of every thread, for diagnostics.
    pub fn threads(&self) -> impl Iterator<Item = (ThreadId, &str, State)> {
        self.threads
            .iter()
            .enumerate()
            .filter_map(|(i, t)| t.as_ref().map(|t| (i, t.name.as_str(), t.state)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q3() -> RunQueue<u32> {
        let mut q = RunQueue::new("main", 0);
        assert_eq!(q.spawn("a", 1), 1);
        assert_eq!(q.spawn("b", 2), 2);
        q
    }

    #[test]
    fn round_robin_starts_after_the_current_thread() {
        let mut q = q3();
        assert_eq!(q.pick(), Next::Switch(1));
        q.set_current(1);
        assert_eq!(q.pick(), Next::Switch(2));
        q.set_current(2);
        assert_eq!(q.pick(), Next::Switch(0));
    }

    #[test]
    fn a_lone_runnable_thread_stays() {
        let mut q = q3();
        q.set_current(1);
        q.block_current(&[5], None);
        q.set_current(2);
        q.exit_current();
        q.set_current(0);
        assert_eq!(q.pick(), Next::Stay);
    }

    #[test]
    fn all_blocked_is_idle_with_the_union_of_ports_and_the_earliest_deadline() {
        let mut q = q3();
        q.block_current(&[3, 4], Some(500));
        q.set_current(1);
        q.block_current(&[4, 7], None);
        q.set_current(2);
        q.block_current(&[], Some(200));
        assert_eq!(q.pick(), Next::Idle);
        let mut ports = Vec::new();
        assert_eq!(q.idle_wait(&mut ports), Some(200));
        assert_eq!(ports, [3, 4, 7]);
    }

    #[test]
    fn a_pending_port_wakes_every_waiter_and_is_cleared_once() {
        let mut q = q3();
        q.block_current(&[3, 4], None);
        q.set_current(1);
        q.block_current(&[4], None);
        q.set_current(2);
        q.block_current(&[9], None);
        let mut clear = Vec::new();
        q.wake_ready(0, |p| p == 4, &mut clear);
        assert_eq!(clear, [4]);
        assert_eq!(q.get(0).unwrap().state, State::Runnable);
        assert_eq!(q.get(1).unwrap().state, State::Runnable);
        assert!(matches!(q.get(2).unwrap().state, State::Blocked { .. }));
        // Current is 2 (blocked): the next runnable after it is 0.
        assert_eq!(q.pick(), Next::Switch(0));
    }

    #[test]
    fn deadlines_wake_when_due_and_not_before() {
        let mut q = q3();
        q.set_current(1);
        q.block_current(&[], Some(1000));
        let mut clear = Vec::new();
        q.wake_ready(999, |_| false, &mut clear);
        assert!(matches!(q.get(1).unwrap().state, State::Blocked { .. }));
        q.wake_ready(1000, |_| false, &mut clear);
        assert_eq!(q.get(1).unwrap().state, State::Runnable);
        assert!(clear.is_empty());
    }

    #[test]
    fn explicit_wake_only_affects_blocked_threads() {
        let mut q = q3();
        q.set_current(2);
        q.exit_current();
        q.wake(2);
        assert_eq!(q.get(2).unwrap().state, State::Exited);
        q.set_current(1);
        q.block_current(&[], None);
        q.wake(1);
        assert_eq!(q.get(1).unwrap().state, State::Runnable);
        q.wake(42); // no such thread: ignored
    }

    #[test]
    fn reaping_skips_the_current_thread_and_reuses_numbers() {
        let mut q = q3();
        q.set_current(1);
        q.exit_current();
        q.set_current(2);
        q.exit_current();
        let mut freed = Vec::new();
        q.reap(|tid, ctx| freed.push((tid, ctx)));
        assert_eq!(freed, [(1, 1)]); // 2 is current: its stack is in use
        assert_eq!(q.live(), 1);
        assert_eq!(q.spawn("c", 3), 1);
        q.set_current(0);
        q.reap(|tid, ctx| freed.push((tid, ctx)));
        assert_eq!(freed, [(1, 1), (2, 2)]);
        assert_eq!(q.threads().count(), 2);
    }

    #[test]
    fn port_sets_are_bounded_and_distinct() {
        let s = PortSet::new(&[1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        assert_eq!(s.as_slice(), [1, 2, 3, 4, 5, 6, 7, 8]);
        assert!(PortSet::new(&[]).as_slice().is_empty());
    }
}
