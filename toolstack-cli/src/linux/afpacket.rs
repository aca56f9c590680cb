//! A host interface through an AF_PACKET raw socket (non-blocking; polled by the router's task).
//!
//! Each received frame is read straight into a pool packet: one copy, from the kernel.

use std::ffi::CString;
use std::os::fd::RawFd;

use elements::batch::TxOutcome;
use elements::platform::NetDevice;
use elements::{Batch, PacketPool};

/// Largest frame taken from the socket (Ethernet with a VLAN tag, no jumbo frames).
const MAX_FRAME: usize = 1522;

pub struct AfPacket {
    fd: RawFd,
    name: String,
}

fn os_error(what: &str, name: &str) -> String {
    let e = std::io::Error::last_os_error();
    let hint = if e.raw_os_error() == Some(libc::EPERM) {
        " (raw sockets need root or CAP_NET_RAW)"
    } else {
        ""
    };
    format!("{what} {name}: {e}{hint}")
}

impl AfPacket {
    pub fn open(name: &str) -> Result<AfPacket, String> {
        let cname = CString::new(name).map_err(|_| format!("bad interface name '{name}'"))?;
        // SAFETY: plain system calls on values we own; every result is checked.
        unsafe {
            let ifindex = libc::if_nametoindex(cname.as_ptr());
            if ifindex == 0 {
                return Err(format!("no interface named '{name}'"));
            }
            let proto = (libc::ETH_P_ALL as u16).to_be() as i32;
            let fd = libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                proto,
            );
            if fd < 0 {
                return Err(os_error("socket for", name));
            }
            let mut sll: libc::sockaddr_ll = std::mem::zeroed();
            sll.sll_family = libc::AF_PACKET as u16;
            sll.sll_protocol = proto as u16;
            sll.sll_ifindex = ifindex as i32;
            if libc::bind(
                fd,
                &sll as *const _ as *const libc::sockaddr,
                std::mem::size_of::<libc::sockaddr_ll>() as u32,
            ) < 0
            {
                let e = os_error("bind to", name);
                libc::close(fd);
                return Err(e);
            }
            // Do not receive what we send ourselves (Linux 4.20+; harmless if refused).
            let one: libc::c_int = 1;
            libc::setsockopt(
                fd,
                libc::SOL_PACKET,
                23, /* PACKET_IGNORE_OUTGOING */
                &one as *const _ as *const libc::c_void,
                4,
            );
            Ok(AfPacket {
                fd,
                name: name.to_string(),
            })
        }
    }
}

impl NetDevice for AfPacket {
    fn receive(&mut self, pool: &mut PacketPool, out: &mut Batch, max: usize) -> usize {
        let mut n = 0;
        while n < max {
            let mut p = pool.make(MAX_FRAME);
            let buf = p.data_mut();
            // SAFETY: buf is a valid writable slice of MAX_FRAME bytes.
            let got = unsafe {
                libc::recv(
                    self.fd,
                    buf.as_mut_ptr() as *mut libc::c_void,
                    buf.len(),
                    libc::MSG_TRUNC,
                )
            };
            if got <= 0 {
                pool.recycle(p);
                break;
            }
            let got = (got as usize).min(MAX_FRAME);
            let _ = p.trim_tail(MAX_FRAME - got);
            out.push(p);
            n += 1;
        }
        n
    }

    fn transmit(&mut self, pool: &mut PacketPool, batch: &mut Batch) -> usize {
        let fd = self.fd;
        batch.transmit_with(pool, |p| {
            let d = p.data();
            // SAFETY: d is a valid readable slice.
            let r = unsafe { libc::send(fd, d.as_ptr() as *const libc::c_void, d.len(), 0) };
            if r >= 0 {
                TxOutcome::Sent
            } else if std::io::Error::last_os_error().raw_os_error() == Some(libc::EAGAIN) {
                TxOutcome::Full
            } else {
                // Refused for good (e.g. too long): it leaves the router.
                TxOutcome::Refused
            }
        })
    }
}

impl Drop for AfPacket {
    fn drop(&mut self) {
        // SAFETY: we own the descriptor.
        unsafe { libc::close(self.fd) };
        let _ = &self.name;
    }
}
