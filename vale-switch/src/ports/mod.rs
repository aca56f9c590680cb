//! Host ports for the switch (feature `std`, Linux): shared-memory rings to other processes
//! ([`shm`]), host interfaces through AF_PACKET ([`afpacket`]), TAP devices ([`tap`]) and pcap
//! files ([`pcap`]). All are non-blocking; the ones that can wake a sleeping switch say so through
//! [`Port::wake_fds`](crate::switch::Port::wake_fds). With the `netmap` feature, ports on the
//! host's netmap too ([`netmap`]).
//!
//! Xen guests attach later through the netmap backend (`netback-netmap/`): a granted ring pair is
//! the same [`Ring`](crate::ring::Ring) layout as [`shm::ShmRingPort`], with event channels instead
//! of eventfds, so it plugs in as one more `Port` next to these.

pub mod afpacket;
#[cfg(feature = "netmap")]
pub mod netmap;
pub mod pcap;
pub mod shm;
pub mod tap;
pub mod xen;

pub use afpacket::AfPacketPort;
pub use pcap::PcapPort;
pub use shm::{PeerFds, ShmPeer, ShmRingPort};
pub use tap::TapPort;

use std::io;
use std::os::fd::RawFd;
use std::vec::Vec;

/// Largest frame a host port takes (Ethernet with a VLAN tag, no jumbo frames), and the size of
/// the buffers frames are read into.
pub const MAX_FRAME: usize = 2048;

/// The last OS error with some context.
pub(crate) fn os_err(what: &str) -> io::Error {
    let e = io::Error::last_os_error();
    io::Error::new(e.kind(), std::format!("{what}: {e}"))
}

/// Receive buffers for ports that read frame by frame (TAP, pcap): `n` buffers of
/// [`MAX_FRAME`] bytes and the length of what each holds.
pub(crate) struct Frames {
    buf: Vec<u8>,
    lens: Vec<usize>,
}

impl Frames {
    pub(crate) fn new(n: usize) -> Frames {
        Frames {
            buf: std::vec![0; n * MAX_FRAME],
            lens: Vec::with_capacity(n),
        }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.buf.len() / MAX_FRAME
    }

    pub(crate) fn len(&self) -> usize {
        self.lens.len()
    }

    pub(crate) fn clear(&mut self) {
        self.lens.clear();
    }

    /// The buffer the next frame goes into (commit it with [`Frames::commit`]).
    pub(crate) fn next_buf(&mut self) -> &mut [u8] {
        let k = self.lens.len();
        &mut self.buf[k * MAX_FRAME..(k + 1) * MAX_FRAME]
    }

    pub(crate) fn commit(&mut self, len: usize) {
        self.lens.push(len.min(MAX_FRAME));
    }

    pub(crate) fn get(&self, k: usize) -> &[u8] {
        match self.lens.get(k) {
            Some(&l) => &self.buf[k * MAX_FRAME..k * MAX_FRAME + l],
            None => &[],
        }
    }
}

/// An eventfd: the dom0 stand-in for an event channel.
pub fn eventfd(cloexec: bool) -> io::Result<RawFd> {
    let flags = libc::EFD_NONBLOCK | if cloexec { libc::EFD_CLOEXEC } else { 0 };
    // SAFETY: plain system call.
    let fd = unsafe { libc::eventfd(0, flags) };
    if fd < 0 {
        return Err(os_err("eventfd"));
    }
    Ok(fd)
}

/// Signals an eventfd (one system call). Errors are ignored: a full counter still wakes.
pub fn kick(fd: RawFd) {
    let one: u64 = 1;
    // SAFETY: writes 8 bytes from a live u64.
    unsafe { libc::write(fd, &one as *const u64 as *const libc::c_void, 8) };
}

/// Consumes an eventfd's pending signals without blocking (if it is non-blocking); returns the
/// count read (0 if none).
pub fn drain(fd: RawFd) -> u64 {
    let mut v: u64 = 0;
    // SAFETY: reads 8 bytes into a live u64.
    let r = unsafe { libc::read(fd, &mut v as *mut u64 as *mut libc::c_void, 8) };
    if r == 8 {
        v
    } else {
        0
    }
}

/// Blocks until an eventfd is signalled (the descriptor must be blocking, or this spins in
/// poll); returns the count.
pub fn wait(fd: RawFd) -> u64 {
    loop {
        let mut p = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one live pollfd.
        unsafe { libc::poll(&mut p, 1, -1) };
        let v = drain(fd);
        if v > 0 {
            return v;
        }
    }
}

/// Sets or clears close-on-exec (cleared: a child process inherits the descriptor).
pub fn set_cloexec(fd: RawFd, on: bool) -> io::Result<()> {
    // SAFETY: fcntl on a descriptor we were given; results checked.
    unsafe {
        let f = libc::fcntl(fd, libc::F_GETFD);
        if f < 0 {
            return Err(os_err("fcntl"));
        }
        let nf = if on {
            f | libc::FD_CLOEXEC
        } else {
            f & !libc::FD_CLOEXEC
        };
        if libc::fcntl(fd, libc::F_SETFD, nf) < 0 {
            return Err(os_err("fcntl"));
        }
    }
    Ok(())
}

/// Pins the calling thread (the whole process, if single-threaded) to one CPU. Best effort.
pub fn pin_to_cpu(cpu: usize) -> io::Result<()> {
    // SAFETY: cpu_set_t is plain data; the call reads it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) < 0 {
            return Err(os_err("sched_setaffinity"));
        }
    }
    Ok(())
}

/// Monotonic nanoseconds (the switch's clock for ageing).
pub fn now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: writes a live timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Parses `aa:bb:cc:dd:ee:ff`.
pub fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let mut m = [0u8; 6];
    let mut parts = s.split([':', '-']);
    for b in m.iter_mut() {
        *b = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    parts.next().is_none().then_some(m)
}

pub fn format_mac(m: &[u8; 6]) -> std::string::String {
    std::format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        m[0],
        m[1],
        m[2],
        m[3],
        m[4],
        m[5]
    )
}
