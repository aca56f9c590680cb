//! CPU exceptions: a trap table whose handlers print what happened and crash the domain (the
//! kernel has no way to recover from a fault). Without it Xen kills the guest silently.
//!
//! On entry Xen has pushed, from `%rsp` up: rcx, r11, [error code], rip, cs, rflags, rsp, ss.

use crate::abi::TrapInfo;

core::arch::global_asm!(
    r#"
    .section .text.traps, "ax", @progbits
    .macro TRAP_STUB vec
    .globl clickos_trap_\vec
clickos_trap_\vec:
    movq $\vec, %rdi
    movq %rsp, %rsi
    andq $-16, %rsp
    call clickos_trap
    ud2
    .endm

    .irp v, 0,1,3,4,5,6,7,9,10,11,12,13,14,16,17,19
    TRAP_STUB \v
    .endr

    .section .data.trap_table, "aw", @progbits
    .balign 16
    .globl clickos_trap_table
clickos_trap_table:
    .irp v, 0,1,3,4,5,6,7,9,10,11,12,13,14,16,17,19
    .byte \v, 0
    .short 0xe033
    .long 0
    .quad clickos_trap_\v
    .endr
    .quad 0, 0
    "#,
    options(att_syntax)
);

extern "C" {
    static clickos_trap_table: TrapInfo;
}

/// Exceptions that push an error code.
pub fn has_error_code(vector: u64) -> bool {
    matches!(vector, 8 | 10 | 11 | 12 | 13 | 14 | 17 | 21)
}

pub fn name(vector: u64) -> &'static str {
    match vector {
        0 => "divide error",
        1 => "debug",
        3 => "breakpoint",
        4 => "overflow",
        5 => "bound range",
        6 => "invalid opcode",
        7 => "device not available",
        9 => "coprocessor segment overrun",
        10 => "invalid TSS",
        11 => "segment not present",
        12 => "stack fault",
        13 => "general protection",
        14 => "page fault",
        16 => "x87 floating point",
        17 => "alignment check",
        19 => "SIMD floating point",
        _ => "exception",
    }
}

/// Registers the handlers with Xen.
pub fn init() -> Result<(), i64> {
    // SAFETY: the table and stubs are defined above and live forever.
    unsafe { super::hypercall::set_trap_table(core::ptr::addr_of!(clickos_trap_table)) }
}

/// The saved state a handler sees.
pub struct TrapFrame {
    pub vector: u64,
    pub error_code: Option<u64>,
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
}

#[no_mangle]
extern "C" fn clickos_trap(vector: u64, frame: *const u64) -> ! {
    // SAFETY: Xen pushed the frame described above at `frame`.
    let f = unsafe {
        let e = has_error_code(vector);
        let base = if e { 3 } else { 2 };
        TrapFrame {
            vector,
            error_code: if e { Some(*frame.add(2)) } else { None },
            rip: *frame.add(base),
            cs: *frame.add(base + 1) & 0xffff,
            rflags: *frame.add(base + 2),
            rsp: *frame.add(base + 3),
        }
    };
    crate::kernel::fatal_trap(&f)
}
