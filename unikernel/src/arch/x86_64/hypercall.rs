//! Hypercalls: `call hypercall_page + nr * 32` with arguments in rdi, rsi, rdx, r10, r8 and the
//! result in rax. All argument registers are treated as clobbered (debug Xen overwrites them;
//! continuations may rewrite them); the stub saves rcx/r11 around `syscall` but they are listed
//! too. The call pushes onto the stack, so no `nostack`.

use super::boot::hypercall_page;
use crate::abi::{self, hypercall as nr, MmuUpdate, SchedPoll, SchedShutdown, TrapInfo};
use core::arch::asm;
use core::ptr::addr_of;

/// Hypercall `op` with five arguments (unused ones are ignored by Xen).
///
/// # Safety
/// The arguments must be what hypercall `op` expects: pointers must point to valid structures
/// of the right type, and the operation must not break the kernel's memory (e.g. remap pages
/// in use).
#[inline]
pub unsafe fn hypercall(op: usize, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64) -> i64 {
    let ret: i64;
    let entry = (addr_of!(hypercall_page) as *const u8).add(op * 32);
    asm!(
        "call {entry}",
        entry = in(reg) entry,
        inlateout("rdi") a1 => _,
        inlateout("rsi") a2 => _,
        inlateout("rdx") a3 => _,
        inlateout("r10") a4 => _,
        inlateout("r8") a5 => _,
        lateout("rax") ret,
        lateout("rcx") _,
        lateout("r11") _,
    );
    ret
}

fn result(r: i64) -> Result<(), i64> {
    if r < 0 {
        Err(r)
    } else {
        Ok(())
    }
}

pub fn mmu_update(reqs: &[MmuUpdate]) -> Result<(), i64> {
    // SAFETY: Xen reads `reqs`; the updates themselves are checked by Xen.
    let r = unsafe {
        hypercall(
            nr::MMU_UPDATE,
            reqs.as_ptr() as u64,
            reqs.len() as u64,
            0,
            abi::DOMID_SELF as u64,
            0,
        )
    };
    result(r)
}

/// # Safety
/// Changes the mapping of `va`: nothing may rely on the old mapping.
pub unsafe fn update_va_mapping(va: u64, pte: u64, flags: u64) -> Result<(), i64> {
    result(hypercall(nr::UPDATE_VA_MAPPING, va, pte, flags, 0, 0))
}

/// # Safety
/// The handlers must be valid trap entry points; the table ends with a zero address.
pub unsafe fn set_trap_table(table: *const TrapInfo) -> Result<(), i64> {
    result(hypercall(nr::SET_TRAP_TABLE, table as u64, 0, 0, 0, 0))
}

pub fn sched_poll(ports: &[u32], deadline_ns: u64) -> i64 {
    let p = SchedPoll {
        ports: ports.as_ptr(),
        nr_ports: ports.len() as u32,
        timeout: deadline_ns,
    };
    // SAFETY: Xen reads `p` and the ports during the call.
    unsafe {
        hypercall(
            nr::SCHED_OP,
            abi::schedop::POLL,
            addr_of!(p) as u64,
            0,
            0,
            0,
        )
    }
}

pub fn sched_yield() {
    // SAFETY: no memory arguments.
    unsafe { hypercall(nr::SCHED_OP, abi::schedop::YIELD, 0, 0, 0, 0) };
}

pub fn sched_shutdown(reason: abi::ShutdownReason) -> i64 {
    let s = SchedShutdown {
        reason: reason as u32,
    };
    // SAFETY: Xen reads `s`.
    unsafe {
        hypercall(
            nr::SCHED_OP,
            abi::schedop::SHUTDOWN,
            addr_of!(s) as u64,
            0,
            0,
            0,
        )
    }
}

/// `HYPERVISOR_event_channel_op(cmd, arg)`.
///
/// # Safety
/// `arg` must point to the structure `cmd` expects.
pub unsafe fn event_channel_op<T>(cmd: u64, arg: *mut T) -> i64 {
    hypercall(nr::EVENT_CHANNEL_OP, cmd, arg as u64, 0, 0, 0)
}

pub fn evtchn_send(port: u32) {
    let mut p = abi::EvtchnPort { port };
    // SAFETY: evtchn_send is 4 bytes: the port.
    unsafe { event_channel_op(abi::evtchnop::SEND, &mut p) };
}

pub fn evtchn_unmask(port: u32) -> Result<(), i64> {
    let mut p = abi::EvtchnPort { port };
    // SAFETY: evtchn_unmask is the port.
    result(unsafe { event_channel_op(abi::evtchnop::UNMASK, &mut p) })
}

pub fn bind_virq(virq: u32, vcpu: u32) -> Result<u32, i64> {
    let mut b = abi::EvtchnBindVirq {
        virq,
        vcpu,
        port: 0,
    };
    // SAFETY: evtchn_bind_virq.
    result(unsafe { event_channel_op(abi::evtchnop::BIND_VIRQ, &mut b) })?;
    Ok(b.port)
}

/// A port for `remote_dom` to bind (the backend of a split driver).
pub fn evtchn_alloc_unbound(remote_dom: u16) -> Result<u32, i64> {
    let mut a = abi::EvtchnAllocUnbound {
        dom: abi::DOMID_SELF,
        remote_dom,
        port: 0,
    };
    // SAFETY: evtchn_alloc_unbound.
    result(unsafe { event_channel_op(abi::evtchnop::ALLOC_UNBOUND, &mut a) })?;
    Ok(a.port)
}

/// `HYPERVISOR_grant_table_op(cmd, args, count)`.
///
/// # Safety
/// `args` must point to `count` structures of the type `cmd` expects.
pub unsafe fn grant_table_op<T>(cmd: u64, args: *mut T, count: u32) -> i64 {
    hypercall(nr::GRANT_TABLE_OP, cmd, args as u64, count as u64, 0, 0)
}

/// One-shot timer: VIRQ_TIMER fires at `deadline_ns` (system time); 0 cancels.
pub fn set_timer_op(deadline_ns: u64) -> Result<(), i64> {
    // SAFETY: no memory arguments.
    result(unsafe { hypercall(nr::SET_TIMER_OP, deadline_ns, 0, 0, 0, 0) })
}

/// # Safety
/// `arg` must be what `cmd` expects (or null where allowed).
pub unsafe fn vcpu_op<T>(cmd: u64, vcpu: u32, arg: *mut T) -> i64 {
    hypercall(nr::VCPU_OP, cmd, vcpu as u64, arg as u64, 0, 0)
}

/// # Safety
/// `arg` must be what `cmd` expects.
pub unsafe fn memory_op<T>(cmd: u64, arg: *mut T) -> i64 {
    hypercall(nr::MEMORY_OP, cmd, arg as u64, 0, 0, 0)
}

/// Xen's version as (major, minor).
pub fn xen_version() -> (u32, u32) {
    // SAFETY: XENVER_version takes no argument.
    let v = unsafe { hypercall(nr::XEN_VERSION, abi::xenver::VERSION, 0, 0, 0, 0) } as u32;
    (v >> 16, v & 0xffff)
}

/// `CONSOLEIO_write`: reaches Xen's console only where Xen allows it (dom0, or debug builds
/// of Xen). Best effort.
pub fn console_io_write(s: &[u8]) {
    // SAFETY: Xen reads `s`.
    unsafe { hypercall(nr::CONSOLE_IO, 0, s.len() as u64, s.as_ptr() as u64, 0, 0) };
}
