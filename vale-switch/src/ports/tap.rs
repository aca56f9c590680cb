//! A TAP device as a switch port: what the host stack sends to the TAP interface comes into the
//! switch; what the switch sends to the port goes up the host stack. Non-blocking; one read or
//! write per frame (the TUN driver has no batched interface).

use std::io;
use std::os::fd::RawFd;
use std::string::String;
use std::vec::Vec;

use super::{os_err, Frames, MAX_FRAME};
use crate::ring::RingError;
use crate::switch::{Port, MAX_BURST};

const TUNSETIFF: libc::c_ulong = 0x4004_54ca;

pub struct TapPort {
    fd: RawFd,
    name: String,
    frames: Frames,
    /// Frames the device refused (write errors other than a full queue).
    pub tx_errors: u64,
}

fn ifreq(name: &str) -> libc::ifreq {
    // SAFETY: ifreq is plain data.
    let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
    for (d, s) in ifr.ifr_name.iter_mut().zip(name.bytes()) {
        *d = s as libc::c_char;
    }
    ifr
}

impl TapPort {
    /// Opens (creating if needed) the TAP device `ifname` and brings it up.
    pub fn open(ifname: &str) -> io::Result<TapPort> {
        if ifname.is_empty() || ifname.len() >= libc::IFNAMSIZ {
            return Err(io::Error::other(std::format!(
                "bad TAP device name '{ifname}'"
            )));
        }
        // SAFETY: system calls on values we own, results checked; ifreq is plain data.
        let fd = unsafe {
            let fd = libc::open(
                c"/dev/net/tun".as_ptr(),
                libc::O_RDWR | libc::O_NONBLOCK | libc::O_CLOEXEC,
            );
            if fd < 0 {
                return Err(os_err("/dev/net/tun"));
            }
            let mut ifr = ifreq(ifname);
            ifr.ifr_ifru.ifru_flags = (libc::IFF_TAP | libc::IFF_NO_PI) as i16;
            if libc::ioctl(fd, TUNSETIFF as _, &mut ifr) < 0 {
                let e = os_err(&std::format!("TAP device {ifname}"));
                libc::close(fd);
                return Err(e);
            }
            fd
        };
        let port = TapPort {
            fd,
            name: std::format!("tap:{ifname}"),
            frames: Frames::new(MAX_BURST),
            tx_errors: 0,
        };
        set_up(ifname)?;
        Ok(port)
    }

    pub fn fd(&self) -> RawFd {
        self.fd
    }
}

/// Sets IFF_UP on an interface.
pub(crate) fn set_up(ifname: &str) -> io::Result<()> {
    // SAFETY: ioctls on a throwaway socket with a plain-data ifreq; results checked.
    unsafe {
        let s = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if s < 0 {
            return Err(os_err("socket"));
        }
        let mut ifr = ifreq(ifname);
        let r = if libc::ioctl(s, libc::SIOCGIFFLAGS as _, &mut ifr) < 0 {
            Err(os_err(&std::format!("{ifname}: SIOCGIFFLAGS")))
        } else {
            ifr.ifr_ifru.ifru_flags |= libc::IFF_UP as i16;
            if libc::ioctl(s, libc::SIOCSIFFLAGS as _, &ifr) < 0 {
                Err(os_err(&std::format!("{ifname}: bring up")))
            } else {
                Ok(())
            }
        };
        libc::close(s);
        r
    }
}

impl Port for TapPort {
    fn rx_batch(&mut self, max: usize) -> Result<usize, RingError> {
        self.frames.clear();
        let max = max.min(self.frames.capacity());
        while self.frames.len() < max {
            let buf = self.frames.next_buf();
            // SAFETY: reads into a live buffer of MAX_FRAME bytes.
            let got =
                unsafe { libc::read(self.fd, buf.as_mut_ptr() as *mut libc::c_void, MAX_FRAME) };
            if got <= 0 {
                break;
            }
            self.frames.commit(got as usize);
        }
        Ok(self.frames.len())
    }

    fn rx_frame(&self, k: usize) -> &[u8] {
        self.frames.get(k)
    }

    fn rx_release(&mut self, _n: usize) {
        self.frames.clear();
    }

    fn tx(&mut self, frame: &[u8]) -> Result<bool, RingError> {
        // SAFETY: writes from a live slice.
        let r = unsafe { libc::write(self.fd, frame.as_ptr() as *const libc::c_void, frame.len()) };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::WouldBlock {
                self.tx_errors += 1;
            }
            return Ok(false);
        }
        Ok(true)
    }

    fn tx_flush(&mut self) {}

    fn name(&self) -> &str {
        &self.name
    }

    fn wake_fds(&self, out: &mut Vec<i32>) {
        out.push(self.fd);
    }

    fn port_stats(&self, out: &mut Vec<(&'static str, u64)>) {
        out.push(("tx_errors", self.tx_errors));
    }
}

impl Drop for TapPort {
    fn drop(&mut self) {
        // SAFETY: we own the descriptor.
        unsafe { libc::close(self.fd) };
    }
}
