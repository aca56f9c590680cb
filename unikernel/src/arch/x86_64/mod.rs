//! x86_64 Xen PV: boot assembly and ELF notes, hypercalls, the trap table.

pub mod boot;
pub mod hypercall;
pub mod switch;
pub mod traps;

/// The TSC (PV guests may read it directly; Xen scales it through `vcpu_time_info`).
#[inline]
pub fn rdtsc() -> u64 {
    // SAFETY: rdtsc has no memory effects.
    unsafe { core::arch::x86_64::_rdtsc() }
}
