//! The guest kernel proper: instantiates the plain-Rust parts of the crate on the real pages
//! Xen hands over, in this order — console (first message), shared_info, traps, event
//! channels and the timer, memory (page tables, frame allocator, heap), Xenstore.

pub mod cell;
pub mod click;
pub mod console;
pub mod events;
pub mod fastpath;
pub mod gnttab;
pub mod mm;
pub mod netfront;
pub mod panic;
pub mod sched;
pub mod time;

use crate::abi::{self, StartInfo};
use crate::arch::{self, hypercall};
use crate::xenstore::Client;
use core::ptr::addr_of;

pub use self::events::{EvtchnChannel, ThreadChannel};
pub use self::panic::{fatal_trap, shutdown};

/// What the kernel hands to the application after boot.
pub struct Kernel {
    pub start_info: &'static StartInfo,
    /// The Xenstore client (the ring page from start_info).
    pub xs: Client<ThreadChannel>,
    /// Event channel of VIRQ_TIMER (the one-shot timer).
    pub timer_port: u32,
    /// Xen system time when `_start` ran, ns.
    pub boot_ns: u64,
    pub mem: mm::MemInfo,
}

impl Kernel {
    /// Xen system time, ns.
    pub fn now(&self) -> u64 {
        time::now()
    }

    /// ns since this guest started.
    pub fn uptime(&self) -> u64 {
        time::now().saturating_sub(self.boot_ns)
    }

    /// Sleeps until `deadline` (system time) with the one-shot timer.
    pub fn sleep_until(&self, deadline: u64) {
        time::sleep_until(self.timer_port, deadline)
    }

    pub fn sleep(&self, ns: u64) {
        self.sleep_until(time::now() + ns)
    }

    pub fn shutdown(&self, reason: abi::ShutdownReason) -> ! {
        shutdown(reason)
    }
}

/// The machine frame `mfn` as a pointer, for frames inside the initial 1:1 mapping
/// (console, Xenstore): VA = M2P[mfn] << 12.
pub fn mfn_to_virt(mfn: u64) -> *mut u8 {
    (mm::mfn_to_pfn(mfn) << abi::PAGE_SHIFT) as *mut u8
}

/// Brings the kernel up. Called once from `_start` (through [`crate::entry!`]).
///
/// # Safety
/// `si` must be Xen's start_info, and this must run only once.
pub unsafe fn boot(si: *const StartInfo) -> Kernel {
    let si: &'static StartInfo = &*si;
    console::init(si);
    crate::println!(
        "ClickOS-rs: booting ({}, start_info at {:#x})",
        si.magic_str(),
        si as *const _ as usize
    );

    // shared_info: event bitmaps, time. Mapped over a reserved page of the image.
    let va = addr_of!(arch::boot::shared_info_page) as u64;
    if let Err(e) = hypercall::update_va_mapping(
        va,
        si.shared_info | abi::pte::PRESENT | abi::pte::RW | abi::pte::USER,
        abi::uvmf::INVLPG,
    ) {
        panic!("cannot map shared_info: error {e}");
    }
    let boot_ns = time::now();

    if let Err(e) = arch::traps::init() {
        crate::println!("warning: set_trap_table failed: {e}");
    }
    let (maj, min) = hypercall::xen_version();
    crate::println!(
        "Xen {maj}.{min}; start_info: nr_pages {} pt_base {:#x} nr_pt_frames {} mfn_list {:#x} \
         store mfn {:#x} evtchn {} console mfn {:#x} evtchn {} flags {:#x} cmdline {:?}",
        si.nr_pages,
        si.pt_base,
        si.nr_pt_frames,
        si.mfn_list,
        si.store_mfn,
        si.store_evtchn,
        si.console_mfn,
        si.console_evtchn,
        si.flags,
        si.cmd_line_str()
    );

    // Events: ports of the two rings unmasked (waiting uses SCHEDOP_poll, upcalls stay off);
    // the one-shot timer replaces the default 10 ms periodic one.
    events::unmask(si.console_evtchn);
    events::unmask(si.store_evtchn);
    // SAFETY: VCPUOP_stop_periodic_timer takes no argument.
    hypercall::vcpu_op::<u8>(abi::vcpuop::STOP_PERIODIC_TIMER, 0, core::ptr::null_mut());
    let timer_port = match hypercall::bind_virq(abi::VIRQ_TIMER, 0) {
        Ok(p) => p,
        Err(e) => panic!("bind VIRQ_TIMER: error {e}"),
    };
    events::unmask(timer_port);
    let ti = time::info();
    // TSC minus the snapshot's stamp: negative means the clock cannot be extrapolated (it
    // then stands still until Xen's next update; see unikernel/README.md, "Known").
    let tsc_ahead = arch::rdtsc() as i64 - ti.tsc_timestamp as i64;
    crate::println!(
        "time: system time {}.{:06} s, TSC {} kHz, TSC - stamp {} ticks, snapshot version {}, \
         timer port {timer_port}",
        crate::time::secs_micros(boot_ns).0,
        crate::time::secs_micros(boot_ns).1,
        crate::time::tsc_hz(&ti) / 1000,
        tsc_ahead,
        ti.version
    );

    let t_mm = time::now();
    let mem = mm::init(si);
    let mm_us = (time::now() - t_mm) / 1000;
    crate::println!(
        "memory: {} pages ({} KiB); bootstrap mapping {} pages, mapped {} more with {} new \
         page tables; frame allocator {} free of {}; heap {} KiB at {:#x} ({mm_us} us)",
        mem.nr_pages,
        mem.nr_pages * 4,
        mem.initially_mapped,
        mem.newly_mapped,
        mem.tables_made,
        mem.frames_free,
        mem.frames_total,
        mem.heap_size / 1024,
        mem.heap_start
    );

    // From here on the boot code is thread 0 (the control thread).
    sched::init();
    let xs = Client::new(
        mfn_to_virt(si.store_mfn) as *mut abi::XenstoreDomainInterface,
        ThreadChannel {
            port: si.store_evtchn,
        },
    );
    Kernel {
        start_info: si,
        xs,
        timer_port,
        boot_ns,
        mem,
    }
}
