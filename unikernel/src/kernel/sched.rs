//! Cooperative threads on the guest: stacks from the frame allocator (with an unmapped guard
//! page), the context switch of `arch`, and the policy of [`crate::sched`]. When no thread can
//! run, the scheduler waits in `SCHEDOP_poll` for the ports of all blocked threads, until the
//! earliest deadline.

use alloc::alloc::Layout;
use alloc::boxed::Box;
use alloc::vec::Vec;

use super::cell::GuestCell;
use super::{events, mm, time};
use crate::abi::{self, PAGE_SHIFT};
use crate::arch::{hypercall, switch};
use crate::sched::{Next, RunQueue, ThreadId};

/// Usable stack of a thread (a guard page below it is unmapped). Router threads only run
/// `run_once` rounds (pushes go through the router's work stack, not recursion); configs are
/// parsed and routers built on the control thread's 64 KiB boot stack.
pub const STACK_PAGES: u64 = 6;

struct Stack {
    /// First frame: the guard page.
    pfn: u64,
    /// Taken from the heap because the frame allocator had no run of frames left.
    from_heap: bool,
}

fn heap_layout() -> Layout {
    Layout::from_size_align(((STACK_PAGES + 1) as usize) << PAGE_SHIFT, 1 << PAGE_SHIFT)
        .expect("stack layout")
}

impl Stack {
    fn alloc() -> Option<Stack> {
        // Frames first (they are meant for page-granular users); the heap (1:1 mapped too)
        // when they run out, so that the number of routers is bounded by memory, not by the
        // frame allocator's quarter of it.
        let (pfn, from_heap) = match mm::alloc_frames(STACK_PAGES + 1) {
            Some(pfn) => (pfn, false),
            None => {
                // SAFETY: the layout has a non-zero size.
                let p = unsafe { alloc::alloc::alloc(heap_layout()) };
                if p.is_null() {
                    return None;
                }
                ((p as u64) >> PAGE_SHIFT, true)
            }
        };
        let guard = pfn << PAGE_SHIFT;
        // SAFETY: the frame is fresh from the allocator: nothing uses its mapping.
        if let Err(e) = unsafe { hypercall::update_va_mapping(guard, 0, abi::uvmf::INVLPG) } {
            crate::println!("sched: cannot unmap a stack guard page: {e}");
        }
        Some(Stack { pfn, from_heap })
    }

    fn top(&self) -> usize {
        ((self.pfn + STACK_PAGES + 1) << PAGE_SHIFT) as usize
    }

    fn free(self) {
        // Map the guard page again before its frame goes back to the allocator.
        let va = self.pfn << PAGE_SHIFT;
        let pte = (mm::pfn_to_mfn(self.pfn) << PAGE_SHIFT) | abi::pte::L1_PROT;
        // SAFETY: restores the page's own 1:1 mapping; the thread that used it has exited.
        match unsafe { hypercall::update_va_mapping(va, pte, abi::uvmf::INVLPG) } {
            // SAFETY: allocated in `alloc` with this layout.
            Ok(()) if self.from_heap => unsafe {
                alloc::alloc::dealloc((self.pfn << PAGE_SHIFT) as *mut u8, heap_layout())
            },
            Ok(()) => mm::free_frames_at(self.pfn, STACK_PAGES + 1),
            // Leak it rather than hand out an unmapped frame.
            Err(e) => crate::println!("sched: cannot remap a stack guard page: {e}"),
        }
    }
}

struct Context {
    rsp: usize,
    /// None for the boot thread (its stack is in the bss).
    stack: Option<Stack>,
}

static QUEUE: GuestCell<Option<RunQueue<Context>>> = GuestCell::new(None);

fn with<R>(f: impl FnOnce(&mut RunQueue<Context>) -> R) -> R {
    QUEUE.with(|q| f(q.as_mut().expect("scheduler not initialised")))
}

/// Makes the running (boot) code thread 0. Called once at boot.
pub fn init() {
    QUEUE.with(|q| {
        *q = Some(RunQueue::new(
            "control",
            Context {
                rsp: 0,
                stack: None,
            },
        ))
    });
}

pub fn is_initialised() -> bool {
    QUEUE.with(|q| q.is_some())
}

pub fn current() -> ThreadId {
    with(|q| q.current())
}

extern "C" fn thread_entry(arg: usize) -> ! {
    // SAFETY: `spawn` leaked exactly this box for this thread.
    let f = unsafe { Box::from_raw(arg as *mut Box<dyn FnOnce()>) };
    f();
    exit();
}

/// Starts a thread that runs `f`; it first runs when the current thread yields or blocks.
/// Fails when no frames are left for its stack.
pub fn spawn(name: &str, f: impl FnOnce() + 'static) -> Result<ThreadId, &'static str> {
    let stack = Stack::alloc().ok_or("no free frames for a thread stack")?;
    let f: Box<Box<dyn FnOnce()>> = Box::new(Box::new(f));
    let arg = Box::into_raw(f) as usize;
    // SAFETY: the stack is fresh, mapped, page-aligned and STACK_PAGES long.
    let rsp = unsafe { switch::prepare_stack(stack.top(), thread_entry, arg) };
    Ok(with(|q| {
        q.spawn(
            name,
            Context {
                rsp,
                stack: Some(stack),
            },
        )
    }))
}

/// Lets the other runnable threads run; returns at once if there are none.
pub fn yield_now() {
    schedule();
}

/// Waits until one of `ports` is pending, `deadline` (system time, ns) passes, or [`wake`].
/// The scheduler clears the pending bits of the ports that woke it.
pub fn block(ports: &[u32], deadline: Option<u64>) {
    with(|q| q.block_current(ports, deadline));
    schedule();
}

/// Sleeps until `deadline`.
pub fn sleep_until(deadline: u64) {
    block(&[], Some(deadline));
}

pub fn wake(tid: ThreadId) {
    with(|q| q.wake(tid));
}

/// Ends the current thread. Its stack is freed by the next thread that runs.
pub fn exit() -> ! {
    with(|q| q.exit_current());
    schedule();
    unreachable!("an exited thread was scheduled again");
}

/// (live threads, free frames): for the log.
pub fn stats() -> usize {
    with(|q| q.live())
}

enum Step {
    Done,
    Switch { save: *mut usize, load: usize },
    Idle(Option<u64>),
}

fn schedule() {
    let mut clear: Vec<u32> = Vec::new();
    let mut ports: Vec<u32> = Vec::new();
    loop {
        clear.clear();
        ports.clear();
        let now = time::now();
        let step = with(|q| {
            q.wake_ready(now, events::is_pending, &mut clear);
            for &p in &clear {
                events::clear_pending(p);
            }
            match q.pick() {
                Next::Stay => Step::Done,
                Next::Switch(next) => {
                    let cur = q.current();
                    let save = &mut q.get_mut(cur).expect("current thread").context.rsp as *mut _;
                    let load = q.get(next).expect("picked thread").context.rsp;
                    q.set_current(next);
                    Step::Switch { save, load }
                }
                Next::Idle => Step::Idle(q.idle_wait(&mut ports)),
            }
        });
        match step {
            Step::Done => break,
            Step::Switch { save, load } => {
                // SAFETY: `save` points into the queue's slot of the current thread, which
                // stays in place until the switch has stored into it (nothing else runs
                // in between); `load` was saved by an earlier switch or prepare_stack.
                unsafe { switch::switch(save, load) };
                // Back on this thread: free the stacks of threads that exited meanwhile.
                with(|q| {
                    q.reap(|_, ctx| {
                        if let Some(s) = ctx.stack {
                            s.free()
                        }
                    })
                });
                break;
            }
            Step::Idle(deadline) => {
                if ports.is_empty() && deadline.is_none() {
                    panic!("every thread is blocked with nothing that could wake it");
                }
                events::poll(&ports, deadline);
            }
        }
    }
}
