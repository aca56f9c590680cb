//! Pages dom0 allocates and grants to one guest, through Linux's `/dev/xen/gntalloc`.
//!
//! The ioctl structures are written here from the description of the Linux uapi header
//! `include/uapi/xen/gntalloc.h`: allocating returns an `index` to pass to `mmap` as the offset and
//! one grant reference per page. The pages stay granted until they are unmapped here *and* the
//! guest has unmapped them (gntalloc defers the free while the guest still maps them); an unmap
//! notification asks the kernel to clear a byte and/or signal an event channel when this side's
//! mapping goes away, so the guest notices a backend that died.

use std::io;
use std::os::fd::RawFd;
use std::vec::Vec;

use crate::sys::{cvt, ioc_none};

/// `GNTALLOC_FLAG_WRITABLE`: the guest may map the pages writable.
const FLAG_WRITABLE: u16 = 1;
pub const UNMAP_NOTIFY_CLEAR_BYTE: u32 = 1;
pub const UNMAP_NOTIFY_SEND_EVENT: u32 = 2;

/// The fixed part of `struct ioctl_gntalloc_alloc_gref`; `count` grant references follow it
/// (the C struct declares one, which is why its size, 24 with padding, is in the ioctl number).
#[repr(C)]
struct AllocGref {
    domid: u16,
    flags: u16,
    count: u32,
    index: u64,
}
const ALLOC_GREF_SIZE: usize = 24;

#[repr(C)]
struct DeallocGref {
    index: u64,
    count: u32,
    _pad: u32,
}

#[repr(C)]
struct UnmapNotify {
    index: u64,
    action: u32,
    event_channel_port: u32,
}

fn ioctl_alloc() -> u64 {
    ioc_none(b'G', 5, ALLOC_GREF_SIZE)
}
fn ioctl_dealloc() -> u64 {
    ioc_none(b'G', 6, std::mem::size_of::<DeallocGref>())
}
fn ioctl_unmap_notify() -> u64 {
    ioc_none(b'G', 7, std::mem::size_of::<UnmapNotify>())
}

/// An open `/dev/xen/gntalloc`. Closing it frees every grant allocated through it that is no
/// longer mapped (by anyone).
pub struct Gntalloc {
    fd: RawFd,
}

impl Gntalloc {
    pub fn open() -> io::Result<Gntalloc> {
        Self::open_path("/dev/xen/gntalloc")
    }

    pub fn open_path(path: &str) -> io::Result<Gntalloc> {
        let c = std::ffi::CString::new(path).map_err(|_| io::ErrorKind::InvalidInput)?;
        // SAFETY: a NUL-terminated path; the result is checked.
        let fd = unsafe { libc::open(c.as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) };
        if fd < 0 {
            return Err(crate::sys::os_err(path));
        }
        Ok(Gntalloc { fd })
    }

    /// Allocates `count` zeroed pages granted (writable) to `domid`, and maps them here.
    pub fn alloc(&self, domid: u16, count: usize) -> io::Result<GrantedPages> {
        if count == 0 || count > 1 << 16 {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "page count"));
        }
        // The fixed part, then `count` u32 refs (at least the one the C struct declares), in a
        // buffer of u64s so that the struct's alignment holds.
        let words = (ALLOC_GREF_SIZE - 4 + 4 * count).div_ceil(8);
        let mut buf = std::vec![0u64; words];
        let head = buf.as_mut_ptr() as *mut AllocGref;
        // SAFETY: the buffer is at least the struct's size and 8-aligned.
        unsafe {
            head.write(AllocGref {
                domid,
                flags: FLAG_WRITABLE,
                count: count as u32,
                index: 0,
            })
        };
        // SAFETY: the kernel reads the fixed part and writes `count` refs after it, all inside
        // the buffer.
        cvt(
            unsafe { libc::ioctl(self.fd, ioctl_alloc() as _, buf.as_mut_ptr()) },
            "gntalloc alloc",
        )?;
        // SAFETY: the kernel filled index and the refs.
        let index = unsafe { (*head).index };
        let refs: Vec<u32> = (0..count)
            .map(|k| unsafe { *((buf.as_ptr() as *const u8).add(16 + 4 * k) as *const u32) })
            .collect();
        let len = count * 4096;
        // SAFETY: maps the pages just allocated at their index; the result is checked.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                self.fd,
                index as libc::off_t,
            )
        };
        if ptr == libc::MAP_FAILED {
            let e = crate::sys::os_err("gntalloc mmap");
            self.dealloc(index, count);
            return Err(e);
        }
        Ok(GrantedPages {
            alloc_fd: self.fd,
            ptr: ptr as *mut u8,
            len,
            index,
            refs,
        })
    }

    fn dealloc(&self, index: u64, count: usize) {
        let mut d = DeallocGref {
            index,
            count: count as u32,
            _pad: 0,
        };
        // SAFETY: passes a live struct. Failure leaves the grant to be freed at close.
        unsafe { libc::ioctl(self.fd, ioctl_dealloc() as _, &mut d) };
    }

    pub fn fd(&self) -> RawFd {
        self.fd
    }
}

impl Drop for Gntalloc {
    fn drop(&mut self) {
        // SAFETY: ours.
        unsafe { libc::close(self.fd) };
    }
}

/// Granted pages mapped in this process. Dropping them unmaps and releases the grants (the
/// kernel frees each page once the guest no longer maps it). Must be dropped before the
/// [`Gntalloc`] it came from.
pub struct GrantedPages {
    alloc_fd: RawFd,
    ptr: *mut u8,
    len: usize,
    index: u64,
    refs: Vec<u32>,
}

// SAFETY: a process-wide mapping; it may move between threads with its owner.
unsafe impl Send for GrantedPages {}

impl GrantedPages {
    pub fn ptr(&self) -> *mut u8 {
        self.ptr
    }
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// One grant reference per page, in page order.
    pub fn refs(&self) -> &[u32] {
        &self.refs
    }

    /// When this mapping goes away (unmap, or this process dying), clear the byte at `offset`
    /// in the first page (`UNMAP_NOTIFY_CLEAR_BYTE`) and/or signal `port`
    /// (`UNMAP_NOTIFY_SEND_EVENT`).
    pub fn set_unmap_notify(&self, offset: usize, action: u32, port: u32) -> io::Result<()> {
        let mut n = UnmapNotify {
            index: self.index + offset as u64,
            action,
            event_channel_port: port,
        };
        // SAFETY: passes a live struct.
        cvt(
            unsafe { libc::ioctl(self.alloc_fd, ioctl_unmap_notify() as _, &mut n) },
            "gntalloc unmap notify",
        )?;
        Ok(())
    }
}

impl Drop for GrantedPages {
    fn drop(&mut self) {
        // SAFETY: unmaps our own mapping; then asks to release the grants (deferred by the
        // kernel while the guest maps them).
        unsafe { libc::munmap(self.ptr as *mut libc::c_void, self.len) };
        let mut d = DeallocGref {
            index: self.index,
            count: self.refs.len() as u32,
            _pad: 0,
        };
        // SAFETY: passes a live struct.
        unsafe { libc::ioctl(self.alloc_fd, ioctl_dealloc() as _, &mut d) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ioctl_numbers_match_the_uapi_encoding() {
        // _IOC(_IOC_NONE, 'G', nr, size) = size << 16 | 'G' << 8 | nr.
        assert_eq!(ioctl_alloc(), 0x0018_4705);
        assert_eq!(ioctl_dealloc(), 0x0010_4706);
        assert_eq!(ioctl_unmap_notify(), 0x0010_4707);
        assert_eq!(std::mem::size_of::<AllocGref>(), 16);
    }
}
