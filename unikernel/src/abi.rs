//! The Xen public ABI this guest uses (x86_64 PV, Xen 4.17 interface), written by hand.
//!
//! Every layout is checked at compile time against the offsets and sizes measured with
//! `offsetof`/`sizeof` on the Debian `libxen-dev` 4.17.7 headers (see
//! `research/xen-pv-abi.md`). Only plain data and constants live here: no hypercalls.

use core::mem::{offset_of, size_of};

pub const PAGE_SHIFT: u32 = 12;
pub const PAGE_SIZE: usize = 1 << PAGE_SHIFT;

/// Hypercall numbers (`xen.h`).
pub mod hypercall {
    pub const SET_TRAP_TABLE: usize = 0;
    pub const MMU_UPDATE: usize = 1;
    pub const SET_CALLBACKS: usize = 4;
    pub const MEMORY_OP: usize = 12;
    pub const UPDATE_VA_MAPPING: usize = 14;
    pub const SET_TIMER_OP: usize = 15;
    pub const XEN_VERSION: usize = 17;
    pub const CONSOLE_IO: usize = 18;
    pub const GRANT_TABLE_OP: usize = 20;
    pub const VCPU_OP: usize = 24;
    pub const MMUEXT_OP: usize = 26;
    pub const SCHED_OP: usize = 29;
    pub const EVENT_CHANNEL_OP: usize = 32;
}

/// `SCHEDOP_*` (`sched.h`).
pub mod schedop {
    pub const YIELD: u64 = 0;
    pub const BLOCK: u64 = 1;
    pub const SHUTDOWN: u64 = 2;
    pub const POLL: u64 = 3;
}

/// `SHUTDOWN_*` reasons (`sched.h`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum ShutdownReason {
    Poweroff = 0,
    Reboot = 1,
    Suspend = 2,
    Crash = 3,
    Watchdog = 4,
}

/// `EVTCHNOP_*` (`event_channel.h`).
pub mod evtchnop {
    pub const BIND_INTERDOMAIN: u64 = 0;
    pub const BIND_VIRQ: u64 = 1;
    pub const CLOSE: u64 = 3;
    pub const SEND: u64 = 4;
    pub const ALLOC_UNBOUND: u64 = 6;
    pub const UNMASK: u64 = 9;
}

/// `VIRQ_*` (`xen.h`).
pub const VIRQ_TIMER: u32 = 0;

/// `VCPUOP_*` (`vcpu.h`).
pub mod vcpuop {
    pub const STOP_PERIODIC_TIMER: u64 = 7;
    pub const SET_SINGLESHOT_TIMER: u64 = 8;
    pub const STOP_SINGLESHOT_TIMER: u64 = 9;
}

/// `XENMEM_*` (`memory.h`).
pub mod xenmem {
    pub const MAXIMUM_RESERVATION: u64 = 4;
}

/// `XENVER_*` (`version.h`).
pub mod xenver {
    pub const VERSION: u64 = 0;
}

pub const DOMID_SELF: u16 = 0x7FF0;

/// `UVMF_*` flags of `update_va_mapping`.
pub mod uvmf {
    pub const NONE: u64 = 0;
    pub const TLB_FLUSH: u64 = 1;
    pub const INVLPG: u64 = 2;
}

/// Page-table entry bits a PV guest may use.
pub mod pte {
    pub const PRESENT: u64 = 1 << 0;
    pub const RW: u64 = 1 << 1;
    pub const USER: u64 = 1 << 2;
    pub const ACCESSED: u64 = 1 << 5;
    pub const DIRTY: u64 = 1 << 6;
    pub const NX: u64 = 1 << 63;
    /// Bits 12..=51: the machine frame number.
    pub const ADDR_MASK: u64 = 0x000F_FFFF_FFFF_F000;
    /// Leaf (L1) entries for ordinary memory (Mini-OS `L1_PROT`).
    pub const L1_PROT: u64 = PRESENT | RW | ACCESSED | USER;
    /// Leaf entries for pages that are page tables: never writable.
    pub const L1_PROT_RO: u64 = PRESENT | ACCESSED | USER;
    /// Entries of L2/L3/L4 tables (Mini-OS `L2_PROT`..`L4_PROT`).
    pub const TABLE_PROT: u64 = PRESENT | RW | ACCESSED | DIRTY | USER;
}

/// `MMU_*` commands in the low bits of `mmu_update.ptr`.
pub const MMU_NORMAL_PT_UPDATE: u64 = 0;
pub const MMU_MACHPHYS_UPDATE: u64 = 1;

/// The read-only machine-to-physical table every PV guest sees (`MACH2PHYS_VIRT_START`).
pub const M2P_VIRT_START: usize = 0xFFFF_8000_0000_0000;

/// `struct start_info` (sizeof 1168).
#[repr(C)]
pub struct StartInfo {
    pub magic: [u8; 32],
    pub nr_pages: u64,
    pub shared_info: u64,
    pub flags: u32,
    pub store_mfn: u64,
    pub store_evtchn: u32,
    pub console_mfn: u64,
    pub console_evtchn: u32,
    pub pt_base: u64,
    pub nr_pt_frames: u64,
    pub mfn_list: u64,
    pub mod_start: u64,
    pub mod_len: u64,
    pub cmd_line: [u8; 1024],
    pub first_p2m_pfn: u64,
    pub nr_p2m_frames: u64,
}

impl StartInfo {
    /// The magic as text, e.g. `xen-3.0-x86_64`.
    pub fn magic_str(&self) -> &str {
        cstr(&self.magic)
    }
    /// The kernel command line (`extra=` in the xl config).
    pub fn cmd_line_str(&self) -> &str {
        cstr(&self.cmd_line)
    }
}

/// The text before the first NUL (or all of it), or `"?"` if it is not UTF-8.
pub fn cstr(bytes: &[u8]) -> &str {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    core::str::from_utf8(&bytes[..end]).unwrap_or("?")
}

/// `struct vcpu_time_info` (sizeof 32).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VcpuTimeInfo {
    pub version: u32,
    pub pad0: u32,
    pub tsc_timestamp: u64,
    pub system_time: u64,
    pub tsc_to_system_mul: u32,
    pub tsc_shift: i8,
    pub flags: u8,
    pub pad1: [u8; 2],
}

/// `struct vcpu_info` (sizeof 64).
#[repr(C)]
pub struct VcpuInfo {
    pub evtchn_upcall_pending: u8,
    pub evtchn_upcall_mask: u8,
    pub pad: [u8; 6],
    pub evtchn_pending_sel: u64,
    /// `arch.cr2`: the faulting address of the last page fault.
    pub cr2: u64,
    pub arch_pad: u64,
    pub time: VcpuTimeInfo,
}

/// `struct shared_info` (sizeof 3136).
#[repr(C)]
pub struct SharedInfo {
    pub vcpu_info: [VcpuInfo; 32],
    pub evtchn_pending: [u64; 64],
    pub evtchn_mask: [u64; 64],
    pub wc_version: u32,
    pub wc_sec: u32,
    pub wc_nsec: u32,
    pub wc_sec_hi: u32,
    pub max_pfn: u64,
    pub pfn_to_mfn_frame_list_list: u64,
    pub nmi_reason: u64,
    pub p2m_cr3: u64,
    pub p2m_vaddr: u64,
    pub p2m_generation: u64,
}

/// `struct xencons_interface` (sizeof 3088).
#[repr(C)]
pub struct XenconsInterface {
    pub input: [u8; 1024],
    pub output: [u8; 2048],
    pub in_cons: u32,
    pub in_prod: u32,
    pub out_cons: u32,
    pub out_prod: u32,
}

pub const XENSTORE_RING_SIZE: usize = 1024;

/// `struct xenstore_domain_interface` (sizeof 2076).
#[repr(C)]
pub struct XenstoreDomainInterface {
    pub req: [u8; XENSTORE_RING_SIZE],
    pub rsp: [u8; XENSTORE_RING_SIZE],
    pub req_cons: u32,
    pub req_prod: u32,
    pub rsp_cons: u32,
    pub rsp_prod: u32,
    pub server_features: u32,
    pub connection: u32,
    pub error: u32,
}

/// `struct mmu_update`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MmuUpdate {
    pub ptr: u64,
    pub val: u64,
}

/// `struct trap_info`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct TrapInfo {
    pub vector: u8,
    pub flags: u8,
    pub cs: u16,
    pub address: u64,
}

/// `FLAT_KERNEL_CS64`.
pub const FLAT_KERNEL_CS: u16 = 0xe033;

/// `struct sched_poll`.
#[repr(C)]
pub struct SchedPoll {
    pub ports: *const u32,
    pub nr_ports: u32,
    pub timeout: u64,
}

/// `struct sched_shutdown`.
#[repr(C)]
pub struct SchedShutdown {
    pub reason: u32,
}

/// `struct evtchn_send` / `evtchn_unmask` / `evtchn_close`.
#[repr(C)]
pub struct EvtchnPort {
    pub port: u32,
}

/// `struct evtchn_alloc_unbound`: a port in `dom` that `remote_dom` may bind.
#[repr(C)]
pub struct EvtchnAllocUnbound {
    pub dom: u16,
    pub remote_dom: u16,
    pub port: u32,
}

/// `struct evtchn_bind_virq`.
#[repr(C)]
pub struct EvtchnBindVirq {
    pub virq: u32,
    pub vcpu: u32,
    pub port: u32,
}

/// Maximum ports in one `SCHEDOP_poll` (`do_poll`).
pub const SCHED_POLL_MAX_PORTS: usize = 128;

// ---- layout checks against the measured C layouts -------------------------------------------
const _: () = {
    assert!(size_of::<StartInfo>() == 1168);
    assert!(offset_of!(StartInfo, nr_pages) == 32);
    assert!(offset_of!(StartInfo, shared_info) == 40);
    assert!(offset_of!(StartInfo, flags) == 48);
    assert!(offset_of!(StartInfo, store_mfn) == 56);
    assert!(offset_of!(StartInfo, store_evtchn) == 64);
    assert!(offset_of!(StartInfo, console_mfn) == 72);
    assert!(offset_of!(StartInfo, console_evtchn) == 80);
    assert!(offset_of!(StartInfo, pt_base) == 88);
    assert!(offset_of!(StartInfo, nr_pt_frames) == 96);
    assert!(offset_of!(StartInfo, mfn_list) == 104);
    assert!(offset_of!(StartInfo, mod_start) == 112);
    assert!(offset_of!(StartInfo, cmd_line) == 128);
    assert!(offset_of!(StartInfo, first_p2m_pfn) == 1152);
    assert!(offset_of!(StartInfo, nr_p2m_frames) == 1160);

    assert!(size_of::<VcpuTimeInfo>() == 32);
    assert!(offset_of!(VcpuTimeInfo, tsc_timestamp) == 8);
    assert!(offset_of!(VcpuTimeInfo, system_time) == 16);
    assert!(offset_of!(VcpuTimeInfo, tsc_to_system_mul) == 24);
    assert!(offset_of!(VcpuTimeInfo, tsc_shift) == 28);
    assert!(offset_of!(VcpuTimeInfo, flags) == 29);

    assert!(size_of::<VcpuInfo>() == 64);
    assert!(offset_of!(VcpuInfo, evtchn_upcall_mask) == 1);
    assert!(offset_of!(VcpuInfo, evtchn_pending_sel) == 8);
    assert!(offset_of!(VcpuInfo, cr2) == 16);
    assert!(offset_of!(VcpuInfo, time) == 32);

    assert!(size_of::<SharedInfo>() == 3136);
    assert!(offset_of!(SharedInfo, evtchn_pending) == 2048);
    assert!(offset_of!(SharedInfo, evtchn_mask) == 2560);
    assert!(offset_of!(SharedInfo, wc_version) == 3072);
    assert!(offset_of!(SharedInfo, max_pfn) == 3088);
    assert!(offset_of!(SharedInfo, p2m_generation) == 3128);

    assert!(size_of::<XenconsInterface>() == 3088);
    assert!(offset_of!(XenconsInterface, output) == 1024);
    assert!(offset_of!(XenconsInterface, in_cons) == 3072);
    assert!(offset_of!(XenconsInterface, out_prod) == 3084);

    assert!(size_of::<XenstoreDomainInterface>() == 2076);
    assert!(offset_of!(XenstoreDomainInterface, rsp) == 1024);
    assert!(offset_of!(XenstoreDomainInterface, req_cons) == 2048);
    assert!(offset_of!(XenstoreDomainInterface, req_prod) == 2052);
    assert!(offset_of!(XenstoreDomainInterface, rsp_cons) == 2056);
    assert!(offset_of!(XenstoreDomainInterface, rsp_prod) == 2060);
    assert!(offset_of!(XenstoreDomainInterface, server_features) == 2064);
    assert!(offset_of!(XenstoreDomainInterface, error) == 2072);

    assert!(size_of::<MmuUpdate>() == 16);
    assert!(size_of::<TrapInfo>() == 16);
    assert!(offset_of!(TrapInfo, address) == 8);
    assert!(size_of::<SchedPoll>() == 24);
    assert!(offset_of!(SchedPoll, nr_ports) == 8);
    assert!(offset_of!(SchedPoll, timeout) == 16);
    assert!(size_of::<EvtchnBindVirq>() == 12);
    assert!(size_of::<EvtchnAllocUnbound>() == 8);
    assert!(offset_of!(EvtchnAllocUnbound, remote_dom) == 2);
    assert!(offset_of!(EvtchnAllocUnbound, port) == 4);
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cstr_stops_at_nul() {
        let mut m = [0u8; 32];
        m[..14].copy_from_slice(b"xen-3.0-x86_64");
        assert_eq!(cstr(&m), "xen-3.0-x86_64");
        assert_eq!(cstr(b"abc"), "abc");
        assert_eq!(cstr(&[0xff, 0]), "?");
    }
}
