//! The global console and `print!`/`println!`.

use super::cell::GuestCell;
use super::events::EvtchnChannel;
use crate::abi::{StartInfo, XenconsInterface};
use crate::console::Console;
use core::fmt::Write;
use core::sync::atomic::{AtomicBool, Ordering};

static CONSOLE: GuestCell<Option<Console<EvtchnChannel>>> = GuestCell::new(None);
static BUSY: AtomicBool = AtomicBool::new(false);
static PAGE: GuestCell<(usize, u32)> = GuestCell::new((0, 0));

/// Sets the console up from start_info (the ring page is inside the initial mapping).
pub fn init(si: &StartInfo) {
    let page = super::mfn_to_virt(si.console_mfn) as usize;
    PAGE.with(|p| *p = (page, si.console_evtchn));
    // SAFETY: the console page from start_info, used only through this console.
    let c = unsafe {
        Console::new(
            page as *mut XenconsInterface,
            EvtchnChannel {
                port: si.console_evtchn,
            },
        )
    };
    CONSOLE.with(|slot| *slot = Some(c));
}

#[doc(hidden)]
pub fn _print(args: core::fmt::Arguments<'_>) {
    if BUSY.swap(true, Ordering::Acquire) {
        // Printing from inside a print (a panic in a Display impl): use a fresh writer.
        if let Some(mut c) = emergency() {
            let _ = c.write_fmt(args);
        }
        return;
    }
    CONSOLE.with(|c| {
        if let Some(c) = c {
            let _ = c.write_fmt(args);
        }
    });
    BUSY.store(false, Ordering::Release);
}

/// A second writer on the same ring, for the panic and trap paths.
pub fn emergency() -> Option<Console<EvtchnChannel>> {
    let (page, port) = PAGE.with(|p| *p);
    if page == 0 {
        return None;
    }
    // SAFETY: the console page; the global writer is not in the middle of a write when this
    // is used (or the output interleaves, which is all that can go wrong).
    Some(unsafe { Console::new(page as *mut XenconsInterface, EvtchnChannel { port }) })
}

/// Waits (up to `timeout_ns`) until xenconsoled has taken everything from the ring, so the
/// last lines are in the log before the domain goes away.
pub fn flush(timeout_ns: u64) {
    if let Some(mut c) = emergency() {
        c.flush(super::time::now() + timeout_ns);
    }
}

#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => ($crate::kernel::console::_print(format_args!($($arg)*)));
}

#[macro_export]
macro_rules! println {
    () => ($crate::print!("\n"));
    ($($arg:tt)*) => ($crate::kernel::console::_print(format_args!("{}\n", format_args!($($arg)*))));
}
