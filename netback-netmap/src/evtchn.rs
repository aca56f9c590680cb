//! An event channel to one guest through Linux's `/dev/xen/evtchn`.
//!
//! The ioctl structures follow the Linux uapi header `include/uapi/xen/evtchn.h` (written here
//! from its description). Each channel gets its own descriptor: the switch polls it, reading it
//! returns the ports that fired (they stay masked until written back), and closing it unbinds
//! the port — so a detach cannot leave a bound port behind.

use std::io;
use std::os::fd::RawFd;

use crate::sys::{cvt, ioc_none, os_err};

const fn ioctl_bind_unbound() -> u64 {
    ioc_none(b'E', 2, 4)
}
const fn ioctl_notify() -> u64 {
    ioc_none(b'E', 4, 4)
}

/// A local port allocated for `remote` to bind (`EVTCHNOP_bind_interdomain` on its side).
pub struct EventChannel {
    fd: RawFd,
    port: u32,
    /// Notifications sent.
    pub sent: u64,
}

impl EventChannel {
    /// Allocates an unbound port that domain `remote` may bind.
    pub fn bind_unbound(remote: u16) -> io::Result<EventChannel> {
        // SAFETY: a constant NUL-terminated path; the result is checked.
        let fd = unsafe {
            libc::open(
                c"/dev/xen/evtchn".as_ptr(),
                libc::O_RDWR | libc::O_NONBLOCK | libc::O_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(os_err("/dev/xen/evtchn"));
        }
        let mut arg: u32 = remote as u32;
        // SAFETY: passes a live u32 (struct ioctl_evtchn_bind_unbound_port); returns the port.
        let r = unsafe { libc::ioctl(fd, ioctl_bind_unbound() as _, &mut arg) };
        if r < 0 {
            let e = os_err("evtchn bind unbound port");
            // SAFETY: ours.
            unsafe { libc::close(fd) };
            return Err(e);
        }
        Ok(EventChannel {
            fd,
            port: r as u32,
            sent: 0,
        })
    }

    /// The local port (what the guest is told to bind to).
    pub fn port(&self) -> u32 {
        self.port
    }

    /// The descriptor that becomes readable when the guest signals.
    pub fn fd(&self) -> RawFd {
        self.fd
    }

    /// Signals the guest.
    pub fn notify(&mut self) -> io::Result<()> {
        notify_raw(self.fd, self.port)?;
        self.sent += 1;
        Ok(())
    }

    /// Consumes pending signals and unmasks the port; returns how many were read.
    pub fn drain(&self) -> usize {
        drain_raw(self.fd)
    }
}

/// Signals `port` through `fd` (for kick closures that cannot borrow the channel).
pub fn notify_raw(fd: RawFd, port: u32) -> io::Result<()> {
    let mut arg = port;
    // SAFETY: passes a live u32 (struct ioctl_evtchn_notify).
    cvt(
        unsafe { libc::ioctl(fd, ioctl_notify() as _, &mut arg) },
        "evtchn notify",
    )?;
    Ok(())
}

/// Reads the fired ports from a non-blocking evtchn descriptor and writes them back to unmask
/// them. Returns the number of ports read.
pub fn drain_raw(fd: RawFd) -> usize {
    let mut ports = [0u32; 16];
    let mut total = 0;
    loop {
        // SAFETY: reads into a live array of its own size.
        let n = unsafe { libc::read(fd, ports.as_mut_ptr() as *mut libc::c_void, 64) };
        if n <= 0 {
            return total;
        }
        // SAFETY: writes back the ports just read: unmasks them.
        unsafe { libc::write(fd, ports.as_ptr() as *const libc::c_void, n as usize) };
        total += n as usize / 4;
        if (n as usize) < 64 {
            return total;
        }
    }
}

impl Drop for EventChannel {
    fn drop(&mut self) {
        // SAFETY: ours; closing unbinds the port.
        unsafe { libc::close(self.fd) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ioctl_numbers_match_the_uapi_encoding() {
        assert_eq!(ioctl_bind_unbound(), 0x0004_4502);
        assert_eq!(ioctl_notify(), 0x0004_4504);
    }
}
