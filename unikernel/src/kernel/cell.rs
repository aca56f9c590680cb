//! Global state on a single vCPU that takes no interrupts: no locking is needed, only a way
//! to hand out the value. Re-entrant use (e.g. a panic while printing) must be avoided by the
//! caller; the panic path builds its own console instead of using the global one.

use core::cell::UnsafeCell;

pub struct GuestCell<T>(UnsafeCell<T>);

// SAFETY: one vCPU, no upcalls: never accessed concurrently.
unsafe impl<T> Sync for GuestCell<T> {}

impl<T> GuestCell<T> {
    pub const fn new(v: T) -> Self {
        GuestCell(UnsafeCell::new(v))
    }

    /// Runs `f` with the value. Must not be nested for the same cell.
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        // SAFETY: single-threaded, non-reentrant use (see the module docs).
        unsafe { f(&mut *self.0.get()) }
    }
}
