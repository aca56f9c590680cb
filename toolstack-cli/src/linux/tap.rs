//! A TAP device: frames written by the host's network stack to the TAP interface come in; frames
//! sent go to the host.

use std::os::fd::RawFd;

use elements::platform::NetDevice;
use elements::{Batch, PacketPool};

const MAX_FRAME: usize = 1522;
const TUNSETIFF: libc::c_ulong = 0x4004_54ca;

pub struct Tap {
    fd: RawFd,
}

impl Tap {
    pub fn open(name: &str) -> Result<Tap, String> {
        if name.len() >= libc::IFNAMSIZ {
            return Err(format!("TAP name '{name}' is too long"));
        }
        // SAFETY: system calls on values we own, results checked; ifreq is plain data.
        unsafe {
            let fd = libc::open(
                c"/dev/net/tun".as_ptr(),
                libc::O_RDWR | libc::O_NONBLOCK | libc::O_CLOEXEC,
            );
            if fd < 0 {
                return Err(format!("/dev/net/tun: {}", std::io::Error::last_os_error()));
            }
            let mut ifr: libc::ifreq = std::mem::zeroed();
            for (d, s) in ifr.ifr_name.iter_mut().zip(name.bytes()) {
                *d = s as libc::c_char;
            }
            ifr.ifr_ifru.ifru_flags = (libc::IFF_TAP | libc::IFF_NO_PI) as i16;
            if libc::ioctl(fd, TUNSETIFF as _, &mut ifr) < 0 {
                let e = std::io::Error::last_os_error();
                libc::close(fd);
                return Err(format!("TAP device {name}: {e}"));
            }
            Ok(Tap { fd })
        }
    }
}

impl NetDevice for Tap {
    fn receive(&mut self, pool: &mut PacketPool, out: &mut Batch, max: usize) -> usize {
        let mut n = 0;
        while n < max {
            let mut p = pool.make(MAX_FRAME);
            let buf = p.data_mut();
            // SAFETY: valid writable buffer.
            let got =
                unsafe { libc::read(self.fd, buf.as_mut_ptr() as *mut libc::c_void, buf.len()) };
            if got <= 0 {
                pool.recycle(p);
                break;
            }
            let _ = p.trim_tail(MAX_FRAME - got as usize);
            out.push(p);
            n += 1;
        }
        n
    }

    fn transmit(&mut self, pool: &mut PacketPool, batch: &mut Batch) -> usize {
        let n = batch.len();
        for p in batch.drain() {
            let d = p.data();
            // SAFETY: valid readable buffer.
            unsafe { libc::write(self.fd, d.as_ptr() as *const libc::c_void, d.len()) };
            pool.recycle(p);
        }
        n
    }
}

impl Drop for Tap {
    fn drop(&mut self) {
        // SAFETY: we own the descriptor.
        unsafe { libc::close(self.fd) };
    }
}
