//! Small helpers around the system calls the backend makes.

use std::io;

/// `_IOC(_IOC_NONE, ty, nr, size)` as Linux encodes it on x86: size in bits 16..30, the type
/// letter in bits 8..16, the number in bits 0..8, direction bits 0 ("none": the Xen drivers
/// declare their ioctls that way even though data moves both ways).
pub(crate) const fn ioc_none(ty: u8, nr: u8, size: usize) -> u64 {
    ((size as u64) << 16) | ((ty as u64) << 8) | nr as u64
}

/// The last OS error, with context.
pub(crate) fn os_err(what: &str) -> io::Error {
    let e = io::Error::last_os_error();
    io::Error::new(e.kind(), std::format!("{what}: {e}"))
}

/// Turns a C-style `-1` return into an error with context.
pub(crate) fn cvt(r: libc::c_int, what: &str) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(os_err(what))
    } else {
        Ok(r)
    }
}
