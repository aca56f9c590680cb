//! Shutdown, the panic handler and fatal traps.

use super::{console, events::shared_info};
use crate::abi::ShutdownReason;
use crate::arch::{hypercall, traps::TrapFrame};
use core::fmt::Write;
use core::panic::PanicInfo;
use core::ptr::addr_of;
use core::sync::atomic::{AtomicBool, Ordering};

/// How long shutdown waits for xenconsoled to take the last output.
const CONSOLE_FLUSH_NS: u64 = 500_000_000;

/// Shuts the domain down with `reason` (after flushing the console). Never returns.
pub fn shutdown(reason: ShutdownReason) -> ! {
    console::flush(CONSOLE_FLUSH_NS);
    loop {
        hypercall::sched_shutdown(reason);
        // Not expected to get here: Xen deschedules a domain that shuts down.
        hypercall::sched_yield();
    }
}

static PANICKING: AtomicBool = AtomicBool::new(false);

#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    if PANICKING.swap(true, Ordering::SeqCst) {
        // A panic while panicking: just go.
        loop {
            hypercall::sched_shutdown(ShutdownReason::Crash);
        }
    }
    if let Some(mut c) = console::emergency() {
        let _ = writeln!(c, "\n*** ClickOS-rs PANIC: {info}");
        let _ = writeln!(c, "*** shutting down (crash)");
    }
    shutdown(ShutdownReason::Crash)
}

/// Called by the trap stubs: reports the exception and crashes.
pub fn fatal_trap(f: &TrapFrame) -> ! {
    if let Some(mut c) = console::emergency() {
        let _ = write!(
            c,
            "\n*** ClickOS-rs FATAL: {} (vector {}) at rip {:#x}, rsp {:#x}, rflags {:#x}",
            crate::arch::traps::name(f.vector),
            f.vector,
            f.rip,
            f.rsp,
            f.rflags
        );
        if let Some(e) = f.error_code {
            let _ = write!(c, ", error code {e:#x}");
        }
        if f.vector == 14 {
            // SAFETY: shared_info is mapped; arch.cr2 holds the faulting address.
            let cr2 =
                unsafe { core::ptr::read_volatile(addr_of!((*shared_info()).vcpu_info[0].cr2)) };
            let _ = write!(c, ", address {cr2:#x}");
        }
        let _ = writeln!(c, "\n*** shutting down (crash)");
    }
    PANICKING.store(true, Ordering::SeqCst);
    shutdown(ShutdownReason::Crash)
}
