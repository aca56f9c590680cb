//! Ring pairs in shared memory that other processes attach to: the dom0 stand-in for the pages
//! a ClickOS guest grants, running exactly the ring code of [`crate::ring`].
//!
//! A port region is one shared mapping (a memfd, or a file under `/dev/shm`):
//!
//! ```text
//! page 0          control: magic "CLKVALE1", nslots (u32), buf_size (u32)
//! page 1          ring "to switch": the peer produces, the switch consumes
//! page 1 + R      ring "to peer":   the switch produces, the peer consumes   (R = ring size)
//! ```
//!
//! Notifications are two eventfds (standing in for an event channel): `switch_kick`, which the
//! peer signals when the switch asked for a kick, and `peer_kick`, the other way. A peer gets them
//! either by inheriting them ([`ShmRingPort::peer_fds`], for child processes: the benchmarks and
//! tests) or from the port's control socket `<path>.sock` ([`ShmPeer::connect`]): each connection
//! resets the rings (a new peer starts clean, and a port disabled for a protocol error comes back),
//! then receives the eventfds over `SCM_RIGHTS`. A peer that never connects can still use the
//! rings but cannot wake a sleeping switch; it is served on the daemon's housekeeping tick.

use std::boxed::Box;
use std::ffi::CString;
use std::io;
use std::os::fd::RawFd;
use std::path::{Path, PathBuf};
use std::string::{String, ToString};
use std::vec::Vec;

use super::{drain, kick, os_err};
use crate::ring::{Geometry, Ring, RingError, PAGE_SIZE};
use crate::switch::{Port, RingPort};

pub const MAGIC: [u8; 8] = *b"CLKVALE1";

/// Bytes of a port region with two rings of geometry `geo`.
pub fn region_size(geo: Geometry) -> usize {
    PAGE_SIZE + 2 * geo.region_size()
}

fn to_switch_offset(_geo: Geometry) -> usize {
    PAGE_SIZE
}

fn to_peer_offset(geo: Geometry) -> usize {
    PAGE_SIZE + geo.region_size()
}

/// A shared mapping (memfd or file), unmapped and closed on drop.
pub struct ShmRegion {
    ptr: *mut u8,
    len: usize,
    fd: RawFd,
}

// SAFETY: the mapping is process-wide; the pointer may move between threads with its owner.
unsafe impl Send for ShmRegion {}

impl ShmRegion {
    fn map(fd: RawFd, len: usize) -> io::Result<ShmRegion> {
        // SAFETY: maps `len` bytes of a descriptor we own; the result is checked.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            let e = os_err("mmap");
            // SAFETY: we own fd.
            unsafe { libc::close(fd) };
            return Err(e);
        }
        Ok(ShmRegion {
            ptr: ptr as *mut u8,
            len,
            fd,
        })
    }

    fn sized(fd: RawFd, len: usize) -> io::Result<ShmRegion> {
        // SAFETY: plain system call on our descriptor.
        if unsafe { libc::ftruncate(fd, len as libc::off_t) } < 0 {
            let e = os_err("ftruncate");
            // SAFETY: we own fd.
            unsafe { libc::close(fd) };
            return Err(e);
        }
        Self::map(fd, len)
    }

    /// A new zeroed anonymous region (close-on-exec; see [`super::set_cloexec`] to pass it on).
    pub fn memfd(name: &str, len: usize) -> io::Result<ShmRegion> {
        let c = CString::new(name).map_err(|_| io::Error::other("bad memfd name"))?;
        // SAFETY: plain system call.
        let fd = unsafe { libc::memfd_create(c.as_ptr(), libc::MFD_CLOEXEC) };
        if fd < 0 {
            return Err(os_err("memfd_create"));
        }
        Self::sized(fd, len)
    }

    /// A new zeroed region in a file (replacing any file there), readable by its owner only.
    pub fn create(path: &Path, len: usize) -> io::Result<ShmRegion> {
        let c = path_c(path)?;
        // SAFETY: plain system calls; results checked.
        let fd = unsafe {
            libc::unlink(c.as_ptr());
            libc::open(
                c.as_ptr(),
                libc::O_RDWR | libc::O_CREAT | libc::O_EXCL | libc::O_CLOEXEC,
                0o600,
            )
        };
        if fd < 0 {
            return Err(os_err(&std::format!("{}", path.display())));
        }
        Self::sized(fd, len)
    }

    /// Maps a region someone else made, whole (its size is the file's).
    pub fn open_fd(fd: RawFd) -> io::Result<ShmRegion> {
        // SAFETY: fstat into a zeroed stat.
        let len = unsafe {
            let mut st: libc::stat = std::mem::zeroed();
            if libc::fstat(fd, &mut st) < 0 {
                return Err(os_err("fstat"));
            }
            st.st_size as usize
        };
        if len < PAGE_SIZE {
            return Err(io::Error::other("shared region too small"));
        }
        Self::map(fd, len)
    }

    pub fn open(path: &Path) -> io::Result<ShmRegion> {
        let c = path_c(path)?;
        // SAFETY: plain system call.
        let fd = unsafe { libc::open(c.as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) };
        if fd < 0 {
            return Err(os_err(&std::format!("{}", path.display())));
        }
        Self::open_fd(fd)
    }

    pub fn ptr(&self) -> *mut u8 {
        self.ptr
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn fd(&self) -> RawFd {
        self.fd
    }
}

impl Drop for ShmRegion {
    fn drop(&mut self) {
        // SAFETY: we own the mapping and the descriptor.
        unsafe {
            libc::munmap(self.ptr as *mut libc::c_void, self.len);
            libc::close(self.fd);
        }
    }
}

fn path_c(path: &Path) -> io::Result<CString> {
    use std::os::unix::ffi::OsStrExt;
    CString::new(path.as_os_str().as_bytes()).map_err(|_| io::Error::other("bad path"))
}

/// The descriptors a child process needs to be a port's peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerFds {
    pub region: RawFd,
    /// The peer signals this to wake the switch.
    pub switch_kick: RawFd,
    /// The switch signals this to wake the peer.
    pub peer_kick: RawFd,
}

impl PeerFds {
    /// `REGION,SWITCH_KICK,PEER_KICK`, for a command line.
    pub fn to_arg(&self) -> String {
        std::format!("{},{},{}", self.region, self.switch_kick, self.peer_kick)
    }

    pub fn parse(s: &str) -> Option<PeerFds> {
        let mut it = s.split(',').map(|x| x.parse::<RawFd>().ok());
        let p = PeerFds {
            region: it.next()??,
            switch_kick: it.next()??,
            peer_kick: it.next()??,
        };
        it.next().is_none().then_some(p)
    }
}

/// The switch's end of a shared-memory port.
pub struct ShmRingPort {
    // Declared before `region`: the rings point into it and are dropped first.
    inner: RingPort,
    region: ShmRegion,
    geo: Geometry,
    switch_kick: RawFd,
    peer_kick: RawFd,
    path: Option<PathBuf>,
    sock_path: Option<PathBuf>,
    listener: Option<RawFd>,
    conn: Option<RawFd>,
    /// Peers that connected (each reset the rings).
    pub connects: u64,
}

impl ShmRingPort {
    /// A port over a new memfd region; hand [`ShmRingPort::peer_fds`] to the child that is the
    /// peer.
    pub fn memfd(name: &str, geo: Geometry) -> io::Result<ShmRingPort> {
        let region = ShmRegion::memfd(name, region_size(geo))?;
        Self::with_region(name, region, geo, None)
    }

    /// A port over a new region at `path` (normally under `/dev/shm`) with a control socket at
    /// `<path>.sock` that peers connect to ([`ShmPeer::connect`]). Both are removed on drop.
    pub fn at_path(path: &Path, geo: Geometry) -> io::Result<ShmRingPort> {
        let region = ShmRegion::create(path, region_size(geo))?;
        let name = std::format!("shm:{}", path.display());
        Self::with_region(&name, region, geo, Some(path.to_path_buf()))
    }

    /// The switch's end in a process other than the one that made the port (the benchmarks run
    /// the switch in a child): attaches to an inherited, already formatted region and eventfds
    /// without resetting anything. The geometry comes from the control page, validated.
    pub fn from_fds(name: &str, fds: PeerFds) -> io::Result<ShmRingPort> {
        let region = ShmRegion::open_fd(fds.region)?;
        let geo = read_geometry(&region)?;
        let base = region.ptr();
        // SAFETY: read_geometry checked that both rings lie inside the mapping, which the port
        // keeps alive as long as the rings.
        let (rx, tx) = unsafe {
            let bad = |_| io::Error::other("shared port region: ring header");
            (
                Ring::attach(base.add(to_switch_offset(geo)), geo, false).map_err(bad)?,
                Ring::attach(base.add(to_peer_offset(geo)), geo, true).map_err(bad)?,
            )
        };
        Ok(ShmRingPort {
            inner: RingPort::new(name, rx, tx, Some(kicker(fds.peer_kick))),
            region,
            geo,
            switch_kick: fds.switch_kick,
            peer_kick: fds.peer_kick,
            path: None,
            sock_path: None,
            listener: None,
            conn: None,
            connects: 0,
        })
    }

    fn with_region(
        name: &str,
        region: ShmRegion,
        geo: Geometry,
        path: Option<PathBuf>,
    ) -> io::Result<ShmRingPort> {
        let switch_kick = super::eventfd(true)?;
        let peer_kick = super::eventfd(true)?;
        let (rx, tx) = format_rings(&region, geo);
        let inner = RingPort::new(name, rx, tx, Some(kicker(peer_kick)));
        let mut port = ShmRingPort {
            inner,
            region,
            geo,
            switch_kick,
            peer_kick,
            path: None,
            sock_path: None,
            listener: None,
            conn: None,
            connects: 0,
        };
        if let Some(p) = path {
            let mut sp = p.clone().into_os_string();
            sp.push(".sock");
            let sp = PathBuf::from(sp);
            port.listener = Some(listen(&sp)?);
            port.sock_path = Some(sp);
            port.path = Some(p);
        }
        Ok(port)
    }

    pub fn geometry(&self) -> Geometry {
        self.geo
    }

    /// The control socket's path, for path-backed ports.
    pub fn socket_path(&self) -> Option<&Path> {
        self.sock_path.as_deref()
    }

    /// Clears close-on-exec on the region and the eventfds so a child process inherits them,
    /// and returns their numbers.
    pub fn peer_fds(&self) -> io::Result<PeerFds> {
        for fd in [self.region.fd(), self.switch_kick, self.peer_kick] {
            super::set_cloexec(fd, false)?;
        }
        Ok(PeerFds {
            region: self.region.fd(),
            switch_kick: self.switch_kick,
            peer_kick: self.peer_kick,
        })
    }

    /// Kicks the switch sent to the peer so far.
    pub fn kicks(&self) -> u64 {
        self.inner.kicks
    }

    /// The raw region (tests that play a hostile peer in-process).
    pub fn region_ptr(&self) -> (*mut u8, usize) {
        (self.region.ptr(), self.region.len())
    }

    /// Resets both rings: a new peer starts from empty rings with indices at zero.
    fn reset(&mut self) {
        let name = self.inner.name().to_string();
        let (rx, tx) = format_rings(&self.region, self.geo);
        let kicks = self.inner.kicks;
        self.inner = RingPort::new(&name, rx, tx, Some(kicker(self.peer_kick)));
        self.inner.kicks = kicks;
        drain(self.switch_kick);
        drain(self.peer_kick);
    }

    fn accept(&mut self) -> bool {
        let Some(l) = self.listener else { return false };
        let mut reset = false;
        loop {
            // SAFETY: accept on our listening socket; no address wanted.
            let c = unsafe {
                libc::accept4(
                    l,
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                    libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                )
            };
            if c < 0 {
                return reset;
            }
            // One peer at a time: the newest wins.
            if let Some(old) = self.conn.take() {
                // SAFETY: we own it.
                unsafe { libc::close(old) };
            }
            self.reset();
            let hello = [self.geo.nslots, self.geo.buf_size];
            if send_fds(c, &hello, &[self.switch_kick, self.peer_kick]).is_ok() {
                self.conn = Some(c);
                self.connects += 1;
                reset = true;
            } else {
                // SAFETY: we own it.
                unsafe { libc::close(c) };
            }
        }
    }

    /// Notices a peer that hung up (and drains anything it wrote, which means nothing).
    fn check_conn(&mut self) {
        let Some(c) = self.conn else { return };
        let mut buf = [0u8; 256];
        for _ in 0..16 {
            // SAFETY: reads into a live buffer.
            let r = unsafe {
                libc::recv(
                    c,
                    buf.as_mut_ptr() as *mut libc::c_void,
                    buf.len(),
                    libc::MSG_DONTWAIT,
                )
            };
            if r == 0 || (r < 0 && io::Error::last_os_error().kind() != io::ErrorKind::WouldBlock) {
                // SAFETY: we own it.
                unsafe { libc::close(c) };
                self.conn = None;
                return;
            }
            if r < 0 {
                return;
            }
        }
    }
}

fn kicker(fd: RawFd) -> Box<dyn FnMut() + Send> {
    Box::new(move || kick(fd))
}

/// Writes the control page and formats both rings; returns the switch's views (consumer of "to
/// switch", producer of "to peer").
fn format_rings(region: &ShmRegion, geo: Geometry) -> (Ring, Ring) {
    let base = region.ptr();
    assert!(region.len() >= region_size(geo));
    // SAFETY: the region holds region_size(geo) bytes, page-aligned (mmap); both rings lie
    // inside it and live as long as the port that owns the region.
    unsafe {
        std::ptr::copy_nonoverlapping(MAGIC.as_ptr(), base, 8);
        (base.add(8) as *mut u32).write_volatile(geo.nslots);
        (base.add(12) as *mut u32).write_volatile(geo.buf_size);
        let a = base.add(to_switch_offset(geo));
        let _producer_view = Ring::format(a, geo);
        let rx = Ring::attach(a, geo, false).expect("just formatted");
        let tx = Ring::format(base.add(to_peer_offset(geo)), geo);
        (rx, tx)
    }
}

impl Port for ShmRingPort {
    fn rx_batch(&mut self, max: usize) -> Result<usize, RingError> {
        self.inner.rx_batch(max)
    }
    fn rx_frame(&self, k: usize) -> &[u8] {
        self.inner.rx_frame(k)
    }
    fn rx_release(&mut self, n: usize) {
        self.inner.rx_release(n)
    }
    fn tx(&mut self, frame: &[u8]) -> Result<bool, RingError> {
        self.inner.tx(frame)
    }
    fn tx_flush(&mut self) {
        self.inner.tx_flush()
    }
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn arm(&mut self) -> Result<bool, RingError> {
        self.inner.arm()
    }
    fn disarm(&mut self) {
        self.inner.disarm();
        drain(self.switch_kick);
    }
    fn wake_fds(&self, out: &mut Vec<i32>) {
        out.push(self.switch_kick);
        out.extend(self.listener);
        out.extend(self.conn);
    }
    fn service(&mut self) -> bool {
        self.check_conn();
        self.accept()
    }
    fn port_stats(&self, out: &mut Vec<(&'static str, u64)>) {
        out.push(("kicks", self.inner.kicks));
        out.push(("connects", self.connects));
        out.push(("peer_connected", self.conn.is_some() as u64));
    }
}

impl Drop for ShmRingPort {
    fn drop(&mut self) {
        // SAFETY: we own these descriptors.
        unsafe {
            libc::close(self.switch_kick);
            libc::close(self.peer_kick);
            if let Some(l) = self.listener {
                libc::close(l);
            }
            if let Some(c) = self.conn {
                libc::close(c);
            }
        }
        for p in [&self.path, &self.sock_path].into_iter().flatten() {
            let _ = std::fs::remove_file(p);
        }
    }
}

// ---- the control socket ------------------------------------------------------------------------

fn sockaddr(path: &Path) -> io::Result<(libc::sockaddr_un, libc::socklen_t)> {
    use std::os::unix::ffi::OsStrExt;
    // SAFETY: plain data.
    let mut a: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    a.sun_family = libc::AF_UNIX as libc::sa_family_t;
    let b = path.as_os_str().as_bytes();
    if b.len() >= a.sun_path.len() {
        return Err(io::Error::other("socket path too long"));
    }
    for (d, s) in a.sun_path.iter_mut().zip(b) {
        *d = *s as libc::c_char;
    }
    Ok((
        a,
        std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t,
    ))
}

fn listen(path: &Path) -> io::Result<RawFd> {
    let _ = std::fs::remove_file(path);
    let (a, len) = sockaddr(path)?;
    // SAFETY: socket calls on values we own; results checked.
    unsafe {
        let fd = libc::socket(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        );
        if fd < 0 {
            return Err(os_err("socket"));
        }
        if libc::bind(fd, &a as *const _ as *const libc::sockaddr, len) < 0
            || libc::listen(fd, 4) < 0
        {
            let e = os_err(&std::format!("{}", path.display()));
            libc::close(fd);
            return Err(e);
        }
        Ok(fd)
    }
}

fn send_fds(sock: RawFd, words: &[u32; 2], fds: &[RawFd; 2]) -> io::Result<()> {
    let mut data = [0u8; 8];
    data[..4].copy_from_slice(&words[0].to_le_bytes());
    data[4..].copy_from_slice(&words[1].to_le_bytes());
    // SAFETY: builds a msghdr over live buffers; CMSG macros stay inside `cbuf`.
    unsafe {
        let mut iov = libc::iovec {
            iov_base: data.as_mut_ptr() as *mut libc::c_void,
            iov_len: data.len(),
        };
        let space = libc::CMSG_SPACE((2 * std::mem::size_of::<RawFd>()) as u32) as usize;
        let mut cbuf = std::vec![0u8; space];
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cbuf.as_mut_ptr() as *mut libc::c_void;
        msg.msg_controllen = space as _;
        let c = libc::CMSG_FIRSTHDR(&msg);
        (*c).cmsg_level = libc::SOL_SOCKET;
        (*c).cmsg_type = libc::SCM_RIGHTS;
        (*c).cmsg_len = libc::CMSG_LEN((2 * std::mem::size_of::<RawFd>()) as u32) as _;
        std::ptr::copy_nonoverlapping(fds.as_ptr(), libc::CMSG_DATA(c) as *mut RawFd, 2);
        if libc::sendmsg(sock, &msg, libc::MSG_NOSIGNAL) != data.len() as isize {
            return Err(os_err("sendmsg"));
        }
    }
    Ok(())
}

fn recv_fds(sock: RawFd) -> io::Result<([u32; 2], [RawFd; 2])> {
    let mut data = [0u8; 8];
    // SAFETY: as in send_fds; the received descriptors are checked for count.
    unsafe {
        let mut iov = libc::iovec {
            iov_base: data.as_mut_ptr() as *mut libc::c_void,
            iov_len: data.len(),
        };
        let space = libc::CMSG_SPACE((2 * std::mem::size_of::<RawFd>()) as u32) as usize;
        let mut cbuf = std::vec![0u8; space];
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cbuf.as_mut_ptr() as *mut libc::c_void;
        msg.msg_controllen = space as _;
        let r = libc::recvmsg(sock, &mut msg, libc::MSG_CMSG_CLOEXEC);
        if r != data.len() as isize {
            return Err(io::Error::other("control socket: short hello"));
        }
        let c = libc::CMSG_FIRSTHDR(&msg);
        if c.is_null()
            || (*c).cmsg_type != libc::SCM_RIGHTS
            || (*c).cmsg_len as usize
                != libc::CMSG_LEN((2 * std::mem::size_of::<RawFd>()) as u32) as usize
        {
            return Err(io::Error::other("control socket: no descriptors"));
        }
        let mut fds = [0 as RawFd; 2];
        std::ptr::copy_nonoverlapping(libc::CMSG_DATA(c) as *const RawFd, fds.as_mut_ptr(), 2);
        let w0 = u32::from_le_bytes(data[..4].try_into().expect("4"));
        let w1 = u32::from_le_bytes(data[4..].try_into().expect("4"));
        Ok(([w0, w1], fds))
    }
}

/// Reads and validates the control page of a region someone else formatted.
fn read_geometry(region: &ShmRegion) -> io::Result<Geometry> {
    let base = region.ptr();
    let bad = |what: &str| io::Error::other(std::format!("shared port region: {what}"));
    // SAFETY: the region is at least a page (checked by open_fd).
    let (magic, nslots, buf_size) = unsafe {
        let mut m = [0u8; 8];
        std::ptr::copy_nonoverlapping(base, m.as_mut_ptr(), 8);
        (
            m,
            (base.add(8) as *const u32).read_volatile(),
            (base.add(12) as *const u32).read_volatile(),
        )
    };
    if magic != MAGIC {
        return Err(bad("bad magic"));
    }
    // Validate before Geometry::new, which asserts.
    if !nslots.is_power_of_two() || !(2..=1 << 16).contains(&nslots) {
        return Err(bad("bad slot count"));
    }
    if !(64..=65535).contains(&buf_size) {
        return Err(bad("bad buffer size"));
    }
    let geo = Geometry::new(nslots, buf_size);
    if region_size(geo) > region.len() {
        return Err(bad("rings larger than the region"));
    }
    Ok(geo)
}

// ---- the peer's end ------------------------------------------------------------------------------

/// A peer's end of a shared-memory port (a guest stand-in): it produces into the "to switch" ring
/// (`tx`) and consumes the "to peer" ring (`rx`). It validates what the switch wrote, too.
pub struct ShmPeer {
    // Declared before `region`, which they point into.
    pub tx: Ring,
    pub rx: Ring,
    region: ShmRegion,
    switch_kick: RawFd,
    peer_kick: RawFd,
    conn: Option<RawFd>,
    /// Kicks this peer sent the switch.
    pub kicks: u64,
}

impl ShmPeer {
    /// Attaches to a region and eventfds inherited from the process that made the port.
    pub fn from_fds(fds: PeerFds) -> io::Result<ShmPeer> {
        let region = ShmRegion::open_fd(fds.region)?;
        Self::attach(region, fds.switch_kick, fds.peer_kick, None)
    }

    /// Attaches to the port at `path` through its control socket: the switch resets the rings
    /// and sends the eventfds.
    pub fn connect(path: &Path) -> io::Result<ShmPeer> {
        let mut sp = path.as_os_str().to_os_string();
        sp.push(".sock");
        let (a, len) = sockaddr(Path::new(&sp))?;
        // SAFETY: socket calls on values we own; results checked.
        let sock = unsafe {
            let s = libc::socket(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
            if s < 0 {
                return Err(os_err("socket"));
            }
            if libc::connect(s, &a as *const _ as *const libc::sockaddr, len) < 0 {
                let e = os_err(&std::format!("{}", Path::new(&sp).display()));
                libc::close(s);
                return Err(e);
            }
            s
        };
        let (_geo, fds) = match recv_fds(sock) {
            Ok(x) => x,
            Err(e) => {
                // SAFETY: we own it.
                unsafe { libc::close(sock) };
                return Err(e);
            }
        };
        let region = ShmRegion::open(path)?;
        Self::attach(region, fds[0], fds[1], Some(sock))
    }

    fn attach(
        region: ShmRegion,
        switch_kick: RawFd,
        peer_kick: RawFd,
        conn: Option<RawFd>,
    ) -> io::Result<ShmPeer> {
        let geo = read_geometry(&region)?;
        let base = region.ptr();
        let bad = |what: &str| io::Error::other(std::format!("shared port region: {what}"));
        // SAFETY: both rings lie inside the mapping (read_geometry checked), which lives as long
        // as the peer.
        let (tx, rx) = unsafe {
            let tx = Ring::attach(base.add(to_switch_offset(geo)), geo, true)
                .map_err(|_| bad("ring header"))?;
            let rx = Ring::attach(base.add(to_peer_offset(geo)), geo, false)
                .map_err(|_| bad("ring header"))?;
            (tx, rx)
        };
        Ok(ShmPeer {
            tx,
            rx,
            region,
            switch_kick,
            peer_kick,
            conn,
            kicks: 0,
        })
    }

    pub fn geometry(&self) -> Geometry {
        self.tx.geometry()
    }

    /// Publishes pushed frames and kicks the switch if it asked.
    pub fn publish(&mut self) {
        if self.tx.publish() {
            self.kick_switch();
        }
    }

    /// Kicks the switch unconditionally.
    pub fn kick_switch(&mut self) {
        kick(self.switch_kick);
        self.kicks += 1;
    }

    /// Releases `n` received frames and kicks the switch if it asked.
    pub fn release(&mut self, n: u32) {
        if self.rx.release(n) {
            self.kick_switch();
        }
    }

    /// The descriptor the switch signals.
    pub fn wait_fd(&self) -> RawFd {
        self.peer_kick
    }

    /// Sleeps until the switch kicks or `timeout_ms` passes (-1: no limit); consumes the kick.
    pub fn wait(&self, timeout_ms: i32) {
        let mut p = libc::pollfd {
            fd: self.peer_kick,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one live pollfd.
        unsafe { libc::poll(&mut p, 1, timeout_ms) };
        drain(self.peer_kick);
    }

    /// Sleeps until a frame arrives (or `timeout_ms`): sets the kick request, re-checks, waits.
    pub fn wait_rx(&self, timeout_ms: i32) -> Result<u32, RingError> {
        let n = self.rx.consumer_sleep()?;
        if n == 0 {
            self.wait(timeout_ms);
        }
        self.rx.consumer_awake();
        self.rx.pending()
    }

    /// Sleeps until there is room to send (or `timeout_ms`).
    pub fn wait_tx(&self, timeout_ms: i32) -> Result<u32, RingError> {
        let n = self.tx.producer_sleep()?;
        if n == 0 {
            self.wait(timeout_ms);
        }
        self.tx.producer_awake();
        self.tx.space()
    }

    /// The raw region, for hostile peers that scribble on it.
    pub fn region_ptr(&self) -> (*mut u8, usize) {
        (self.region.ptr(), self.region.len())
    }
}

impl Drop for ShmPeer {
    fn drop(&mut self) {
        // Inherited descriptors stay open (the parent may share them); connected ones are ours.
        if let Some(c) = self.conn {
            // SAFETY: we own these.
            unsafe {
                libc::close(c);
                libc::close(self.switch_kick);
                libc::close(self.peer_kick);
            }
        }
    }
}
