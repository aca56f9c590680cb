//! System time and the one-shot timer.

use super::events::{clear_pending, poll, shared_info};
use crate::abi::VcpuTimeInfo;
use crate::arch::{hypercall, rdtsc};
use crate::time;
use core::ptr::addr_of;

/// vCPU0's time snapshot, read consistently.
pub fn info() -> VcpuTimeInfo {
    // SAFETY: shared_info is mapped (before that, the page reads as zeroes).
    unsafe { time::read_consistent(addr_of!((*shared_info()).vcpu_info[0].time)) }
}

static CLOCK: time::Monotonic = time::Monotonic::new();

/// Xen system time (ns since the host booted), never going backwards.
pub fn now() -> u64 {
    // SAFETY: shared_info is mapped (before that, the page reads as zeroes).
    let (i, tsc) = unsafe { time::read_with(addr_of!((*shared_info()).vcpu_info[0].time), rdtsc) };
    CLOCK.clamp(time::system_time_at(&i, tsc))
}

/// Sleeps until `deadline` with `set_timer_op` and a poll on the VIRQ_TIMER port.
pub fn sleep_until(timer_port: u32, deadline: u64) {
    // A firing left over from an earlier sleep must not end this one early. (Re-arming the
    // vCPU's single one-shot timer below replaces any earlier deadline.)
    clear_pending(timer_port);
    let _ = hypercall::set_timer_op(deadline);
    loop {
        if now() >= deadline {
            // The poll timeout may have ended the wait just before the one-shot fired: cancel
            // it so that it does not wake a later, unrelated poll.
            let _ = hypercall::set_timer_op(0);
            clear_pending(timer_port);
            return;
        }
        // The timeout is a second line of defence: the poll also ends at the deadline.
        poll(&[timer_port], Some(deadline));
        clear_pending(timer_port);
    }
}
