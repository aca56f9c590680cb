//! The image's entry point and the Xen ELF notes.
//!
//! Xen's PV domain builder loads the image at virtual address 0 (VIRT_BASE 0, PADDR_OFFSET 0),
//! fills `hypercall_page`, and enters `_start` with `%rsi` = start_info, `%rsp` at the top of
//! a bootstrap stack page, event upcalls masked. `_start` zeroes the bss, switches to its own
//! stack in the bss (the bootstrap stack page is reused as free memory) and calls
//! `clickos_rust_start(start_info)`, which the binary defines with [`crate::entry!`].

/// Bytes of the kernel stack (a guard page below it is unmapped at boot).
pub const STACK_SIZE: usize = 64 * 1024;

core::arch::global_asm!(
    r#"
    /* ---- Xen ELF notes (include/xen/elfnote.h): namesz, descsz, type, "Xen", desc ---- */
    .section .note.Xen, "a", @note

    .balign 4
    .long 4, 23f - 22f, 6          /* GUEST_OS */
    .asciz "Xen"
22: .asciz "ClickOS-rs"
23: .balign 4

    .balign 4
    .long 4, 25f - 24f, 7          /* GUEST_VERSION */
    .asciz "Xen"
24: .asciz "0.1"
25: .balign 4

    .balign 4
    .long 4, 27f - 26f, 5          /* XEN_VERSION: must be "xen-3.0" */
    .asciz "Xen"
26: .asciz "xen-3.0"
27: .balign 4

    .balign 4
    .long 4, 29f - 28f, 8          /* LOADER */
    .asciz "Xen"
28: .asciz "generic"
29: .balign 4

    .balign 4
    .long 4, 8, 3                  /* VIRT_BASE */
    .asciz "Xen"
    .quad 0

    .balign 4
    .long 4, 8, 4                  /* PADDR_OFFSET */
    .asciz "Xen"
    .quad 0

    .balign 4
    .long 4, 8, 1                  /* ENTRY */
    .asciz "Xen"
    .quad _start

    .balign 4
    .long 4, 8, 2                  /* HYPERCALL_PAGE */
    .asciz "Xen"
    .quad hypercall_page

    /* ---- entry ---- */
    .section .text.boot, "ax", @progbits
    .globl _start
_start:
    cld
    movq %rsi, %r12                /* start_info (callee-saved across the memset) */
    leaq __bss_start(%rip), %rdi
    leaq __bss_end(%rip), %rcx
    subq %rdi, %rcx
    xorl %eax, %eax
    rep stosb
    leaq boot_stack_top(%rip), %rsp
    xorl %ebp, %ebp
    movq %r12, %rdi
    call clickos_rust_start
32: ud2
    jmp 32b

    /* ---- the hypercall page: Xen writes 128 stubs of 32 bytes here ---- */
    .section .text.hypercall_page, "ax", @progbits
    .balign 4096
    .globl hypercall_page
hypercall_page:
    .fill 4096, 1, 0xcc

    /* ---- page-aligned bss: stack (with a guard page) and the shared_info mapping ---- */
    .section .bss.boot_stack, "aw", @nobits
    .balign 4096
    .globl boot_stack_guard
boot_stack_guard:
    .skip 4096
    .globl boot_stack
boot_stack:
    .skip {stack_size}
    .globl boot_stack_top
boot_stack_top:

    .section .bss.shared_info, "aw", @nobits
    .balign 4096
    .globl shared_info_page
shared_info_page:
    .skip 4096
    "#,
    stack_size = const STACK_SIZE,
    options(att_syntax)
);

extern "C" {
    pub static hypercall_page: [u8; 4096];
    pub static boot_stack_guard: [u8; 4096];
    pub static boot_stack_top: u8;
    /// A page-aligned page of VA space; boot remaps it onto the real shared_info frame.
    pub static shared_info_page: [u8; 4096];
    pub static _text: u8;
    pub static _etext: u8;
    pub static __bss_start: u8;
    pub static __bss_end: u8;
    pub static _end: u8;
}

/// Defines the kernel's Rust entry: `entry!(main)` where `fn main(k: Kernel) -> !`.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        #[no_mangle]
        pub extern "C" fn clickos_rust_start(si: *const $crate::abi::StartInfo) -> ! {
            // SAFETY: called once, from `_start`, with Xen's start_info pointer.
            let k = unsafe { $crate::kernel::boot(si) };
            $main(k)
        }
    };
}
