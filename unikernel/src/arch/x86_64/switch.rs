//! The context switch between cooperative threads: only the callee-saved registers (rbx, rbp,
//! r12–r15) and the stack pointer change hands, because a switch is an ordinary function call
//! for both threads. The target has no SSE/x87 state to save (`x86_64-unknown-none` is
//! soft-float).

core::arch::global_asm!(
    r#"
    .text
    .globl clickos_switch_context
    /* clickos_switch_context(save_rsp: *mut usize [rdi], load_rsp: usize [rsi]) */
clickos_switch_context:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret

    .globl clickos_thread_trampoline
    /* A new thread's first `ret` lands here with its start argument in r12 and the entry
       function in r13; rsp is 16-byte aligned, so the call below sees the ABI's alignment. */
clickos_thread_trampoline:
    movq %r12, %rdi
    callq *%r13
    ud2
"#,
    options(att_syntax)
);

extern "C" {
    fn clickos_switch_context(save_rsp: *mut usize, load_rsp: usize);
    fn clickos_thread_trampoline();
}

/// Saves the current thread's registers on its stack, stores its stack pointer in `*save_rsp`
/// and resumes the thread whose stack pointer is `load_rsp`. Returns when some thread switches
/// back to this one.
///
/// # Safety
/// `load_rsp` must come from an earlier switch away from a live thread, or from
/// [`prepare_stack`]; `save_rsp` must be writable.
#[inline(never)]
pub unsafe fn switch(save_rsp: *mut usize, load_rsp: usize) {
    clickos_switch_context(save_rsp, load_rsp);
}

/// Lays out a new thread's stack so that the first switch to it calls `entry(arg)` on it.
/// Returns the stack pointer to switch to. `entry` must never return.
///
/// # Safety
/// `top` must be the 16-byte aligned end of a writable stack of at least 128 bytes.
pub unsafe fn prepare_stack(top: usize, entry: extern "C" fn(usize) -> !, arg: usize) -> usize {
    debug_assert!(top.is_multiple_of(16));
    // From the top down: 16 bytes of padding (so rsp is aligned after the `ret`), the return
    // address (the trampoline), then rbp, rbx, r12, r13, r14, r15 as the switch pops them.
    let frame = (top - 16 - 8 - 6 * 8) as *mut usize;
    let words: [usize; 7] = [
        0,                                               // r15
        0,                                               // r14
        entry as usize,                                  // r13
        arg,                                             // r12
        0,                                               // rbx
        0,                                               // rbp
        clickos_thread_trampoline as *const () as usize, // return address
    ];
    for (i, w) in words.iter().enumerate() {
        frame.add(i).write(*w);
    }
    frame as usize
}
