//! A Linux interface as a switch port, through two AF_PACKET sockets with rings mapped into the
//! switch: a TPACKET_V3 receive ring (the kernel fills blocks of frames; the switch forwards
//! straight out of them) and a TPACKET_V2 transmit ring (the switch copies frames into it; one
//! `send` per batch hands them all to the kernel). Non-blocking throughout.
//!
//! Only frames arriving from the wire are taken (`PACKET_IGNORE_OUTGOING`): what the host stack
//! sends out of the interface is not the switch's business, and neither is what the switch sends.

use std::ffi::CString;
use std::io;
use std::os::fd::RawFd;
use std::string::{String, ToString};
use std::sync::atomic::{fence, AtomicU32, Ordering};
use std::vec::Vec;

use super::os_err;
use crate::ring::RingError;
use crate::switch::Port;

const TPACKET_V2: libc::c_int = 1;
const TPACKET_V3: libc::c_int = 2;

// Offsets in struct tpacket_block_desc (version, offset_to_priv, then tpacket_hdr_v1).
const BD_STATUS: usize = 8;
const BD_NUM_PKTS: usize = 12;
const BD_FIRST: usize = 16;
// Offsets in struct tpacket3_hdr.
const H3_NEXT: usize = 0;
const H3_SNAPLEN: usize = 12;
const H3_MAC: usize = 24;
const H3_SIZE: usize = 48;
// Frame data in a V2 transmit frame: TPACKET2_HDRLEN - sizeof(sockaddr_ll).
const TX_DATA: usize = 32;

/// Ring sizes.
#[derive(Clone, Copy, Debug)]
pub struct AfPacketConfig {
    pub rx_block_size: u32,
    pub rx_blocks: u32,
    /// How long a partly filled block waits before the kernel hands it over anyway (ms): the
    /// receive latency at low rates.
    pub rx_block_timeout_ms: u32,
    pub tx_frames: u32,
    /// Skip the qdisc layer on transmit (faster; frames bypass traffic control).
    pub qdisc_bypass: bool,
}

impl Default for AfPacketConfig {
    fn default() -> Self {
        AfPacketConfig {
            rx_block_size: 1 << 18,
            rx_blocks: 16,
            rx_block_timeout_ms: 1,
            tx_frames: 1024,
            qdisc_bypass: true,
        }
    }
}

struct Map {
    ptr: *mut u8,
    len: usize,
}

impl Drop for Map {
    fn drop(&mut self) {
        // SAFETY: we own the mapping.
        unsafe { libc::munmap(self.ptr as *mut libc::c_void, self.len) };
    }
}

pub struct AfPacketPort {
    name: String,
    rx_fd: RawFd,
    tx_fd: RawFd,
    rx: Map,
    block_size: usize,
    blocks: usize,
    /// The block being read, how many of its frames were released, and where the next one is.
    cur: usize,
    cur_num: u32,
    done: u32,
    off: usize,
    /// The current batch: (offset of the frame data in the rx mapping, length, offset of the
    /// next frame header in the block).
    batch: Vec<(usize, usize, usize)>,
    tx: Map,
    tx_frame_size: usize,
    tx_frames: usize,
    tx_cur: usize,
    tx_queued: usize,
    /// Frames the kernel refused (malformed for the device).
    pub tx_rejected: u64,
    /// Frames the kernel dropped for want of room in the receive ring (the kernel's counter
    /// resets when read, so this adds it up).
    rx_kernel_drops: std::cell::Cell<u64>,
}

// SAFETY: the mappings belong to this port alone.
unsafe impl Send for AfPacketPort {}

fn socket(proto: u16) -> io::Result<RawFd> {
    // SAFETY: plain system calls on values we own; results checked.
    unsafe {
        let fd = libc::socket(
            libc::AF_PACKET,
            libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            proto.to_be() as i32,
        );
        if fd < 0 {
            let e = io::Error::last_os_error();
            let hint = if e.raw_os_error() == Some(libc::EPERM) {
                " (raw sockets need root or CAP_NET_RAW)"
            } else {
                ""
            };
            return Err(io::Error::new(
                e.kind(),
                std::format!("AF_PACKET socket: {e}{hint}"),
            ));
        }
        Ok(fd)
    }
}

fn bind(fd: RawFd, ifindex: u32, proto: u16) -> io::Result<()> {
    // SAFETY: sockaddr_ll is plain data.
    unsafe {
        let mut sll: libc::sockaddr_ll = std::mem::zeroed();
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = proto.to_be();
        sll.sll_ifindex = ifindex as i32;
        if libc::bind(
            fd,
            &sll as *const _ as *const libc::sockaddr,
            std::mem::size_of::<libc::sockaddr_ll>() as u32,
        ) < 0
        {
            return Err(os_err("bind"));
        }
    }
    Ok(())
}

fn setsockopt<T>(fd: RawFd, opt: libc::c_int, v: &T, what: &str) -> io::Result<()> {
    // SAFETY: passes a live value of its own size.
    let r = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_PACKET,
            opt,
            v as *const T as *const libc::c_void,
            std::mem::size_of::<T>() as u32,
        )
    };
    if r < 0 {
        return Err(os_err(what));
    }
    Ok(())
}

fn mmap(fd: RawFd, len: usize) -> io::Result<Map> {
    // SAFETY: maps the socket's ring; result checked.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED | libc::MAP_LOCKED,
            fd,
            0,
        )
    };
    let p = if p == libc::MAP_FAILED {
        // MAP_LOCKED can fail under a low RLIMIT_MEMLOCK; try without.
        // SAFETY: as above.
        unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd,
                0,
            )
        }
    } else {
        p
    };
    if p == libc::MAP_FAILED {
        return Err(os_err("mmap of the packet ring"));
    }
    Ok(Map {
        ptr: p as *mut u8,
        len,
    })
}

impl AfPacketPort {
    pub fn open(ifname: &str) -> io::Result<AfPacketPort> {
        Self::with_config(ifname, AfPacketConfig::default())
    }

    pub fn with_config(ifname: &str, cfg: AfPacketConfig) -> io::Result<AfPacketPort> {
        let c = CString::new(ifname).map_err(|_| io::Error::other("bad interface name"))?;
        // SAFETY: plain call.
        let ifindex = unsafe { libc::if_nametoindex(c.as_ptr()) };
        if ifindex == 0 {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                std::format!("no interface named '{ifname}'"),
            ));
        }
        let all = libc::ETH_P_ALL as u16;
        let rx_fd = socket(all)?;
        let close = |fds: &[RawFd]| {
            for &f in fds {
                // SAFETY: ours.
                unsafe { libc::close(f) };
            }
        };
        // Receive: TPACKET_V3 ring, then bind (binding first would queue frames before the ring).
        let rx = (|| {
            setsockopt(
                rx_fd,
                libc::PACKET_VERSION,
                &TPACKET_V3,
                "PACKET_VERSION v3",
            )?;
            let frame_size = 2048u32;
            let req = libc::tpacket_req3 {
                tp_block_size: cfg.rx_block_size,
                tp_block_nr: cfg.rx_blocks,
                tp_frame_size: frame_size,
                tp_frame_nr: cfg.rx_block_size / frame_size * cfg.rx_blocks,
                tp_retire_blk_tov: cfg.rx_block_timeout_ms,
                tp_sizeof_priv: 0,
                tp_feature_req_word: 0,
            };
            setsockopt(rx_fd, libc::PACKET_RX_RING, &req, "PACKET_RX_RING")?;
            let m = mmap(rx_fd, cfg.rx_block_size as usize * cfg.rx_blocks as usize)?;
            let one: libc::c_int = 1;
            // Linux 4.20+; without it we would also see our own transmissions.
            let _ = setsockopt(rx_fd, libc::PACKET_IGNORE_OUTGOING, &one, "ignore outgoing");
            bind(rx_fd, ifindex, all)?;
            Ok::<Map, io::Error>(m)
        })();
        let rx = match rx {
            Ok(m) => m,
            Err(e) => {
                close(&[rx_fd]);
                return Err(io::Error::new(e.kind(), std::format!("{ifname}: {e}")));
            }
        };
        // Transmit: protocol 0, so this socket receives nothing.
        let tx_fd = match socket(0) {
            Ok(f) => f,
            Err(e) => {
                close(&[rx_fd]);
                return Err(e);
            }
        };
        let tx_frame_size = 2048usize;
        let tx = (|| {
            setsockopt(
                tx_fd,
                libc::PACKET_VERSION,
                &TPACKET_V2,
                "PACKET_VERSION v2",
            )?;
            if cfg.qdisc_bypass {
                let one: libc::c_int = 1;
                let _ = setsockopt(tx_fd, libc::PACKET_QDISC_BYPASS, &one, "qdisc bypass");
            }
            let block = 1usize << 16;
            let per_block = block / tx_frame_size;
            let nblocks = (cfg.tx_frames as usize).div_ceil(per_block).max(1);
            let req = libc::tpacket_req {
                tp_block_size: block as u32,
                tp_block_nr: nblocks as u32,
                tp_frame_size: tx_frame_size as u32,
                tp_frame_nr: (nblocks * per_block) as u32,
            };
            setsockopt(tx_fd, libc::PACKET_TX_RING, &req, "PACKET_TX_RING")?;
            let m = mmap(tx_fd, block * nblocks)?;
            bind(tx_fd, ifindex, 0)?;
            Ok::<(Map, usize), io::Error>((m, nblocks * per_block))
        })();
        let (tx, tx_frames) = match tx {
            Ok(x) => x,
            Err(e) => {
                close(&[rx_fd, tx_fd]);
                return Err(io::Error::new(e.kind(), std::format!("{ifname}: {e}")));
            }
        };
        Ok(AfPacketPort {
            name: std::format!("if:{ifname}"),
            rx_fd,
            tx_fd,
            rx,
            block_size: cfg.rx_block_size as usize,
            blocks: cfg.rx_blocks as usize,
            cur: 0,
            cur_num: 0,
            done: 0,
            off: 0,
            batch: Vec::with_capacity(crate::switch::MAX_BURST),
            tx,
            tx_frame_size,
            tx_frames,
            tx_cur: 0,
            tx_queued: 0,
            tx_rejected: 0,
            rx_kernel_drops: std::cell::Cell::new(0),
        })
    }

    fn word(&self, off: usize) -> &AtomicU32 {
        // SAFETY: callers pass 4-aligned offsets inside the rx mapping.
        unsafe { &*(self.rx.ptr.add(off) as *const AtomicU32) }
    }

    fn block_ready(&self) -> bool {
        let st = self.word(self.cur * self.block_size + BD_STATUS);
        st.load(Ordering::Acquire) & libc::TP_STATUS_USER != 0
    }

    fn release_block(&mut self) {
        fence(Ordering::Release);
        self.word(self.cur * self.block_size + BD_STATUS)
            .store(libc::TP_STATUS_KERNEL, Ordering::Release);
        self.cur = (self.cur + 1) % self.blocks;
        self.done = 0;
        self.cur_num = 0;
    }

    /// Frames the kernel dropped because the receive ring was full, since the port opened.
    pub fn kernel_drops(&self) -> u64 {
        let d = self.rx_kernel_drops.get() + self.read_kernel_drops();
        self.rx_kernel_drops.set(d);
        d
    }

    fn read_kernel_drops(&self) -> u64 {
        // SAFETY: getsockopt into a live struct of its size.
        unsafe {
            let mut st: libc::tpacket_stats_v3 = std::mem::zeroed();
            let mut len = std::mem::size_of::<libc::tpacket_stats_v3>() as u32;
            if libc::getsockopt(
                self.rx_fd,
                libc::SOL_PACKET,
                libc::PACKET_STATISTICS,
                &mut st as *mut _ as *mut libc::c_void,
                &mut len,
            ) < 0
            {
                return 0;
            }
            st.tp_drops as u64
        }
    }

    fn tx_status(&self, k: usize) -> &AtomicU32 {
        // SAFETY: frame k < tx_frames starts with tp_status, 4-aligned, inside the mapping.
        unsafe { &*(self.tx.ptr.add(k * self.tx_frame_size) as *const AtomicU32) }
    }
}

impl Port for AfPacketPort {
    fn rx_batch(&mut self, max: usize) -> Result<usize, RingError> {
        self.batch.clear();
        // Empty blocks (a timeout with nothing in it) are handed straight back.
        for _ in 0..self.blocks {
            if !self.block_ready() {
                return Ok(0);
            }
            let base = self.cur * self.block_size;
            if self.done == 0 {
                self.cur_num = self.word(base + BD_NUM_PKTS).load(Ordering::Relaxed);
                self.off = self.word(base + BD_FIRST).load(Ordering::Relaxed) as usize;
            }
            if self.done >= self.cur_num {
                self.release_block();
                continue;
            }
            let mut off = self.off;
            let left = (self.cur_num - self.done) as usize;
            for _ in 0..left.min(max) {
                // The kernel wrote these; check them anyway so a bug there cannot send us
                // outside the block.
                if !off.is_multiple_of(4) || off + H3_SIZE > self.block_size {
                    break;
                }
                let h = base + off;
                let next = self.word(h + H3_NEXT).load(Ordering::Relaxed) as usize;
                let snap = self.word(h + H3_SNAPLEN).load(Ordering::Relaxed) as usize;
                // SAFETY: inside the block (checked above).
                let mac = unsafe { (self.rx.ptr.add(h + H3_MAC) as *const u16).read() } as usize;
                if off + mac + snap > self.block_size {
                    break;
                }
                let next_off = if next == 0 {
                    self.block_size
                } else {
                    off + next
                };
                self.batch.push((h + mac, snap, next_off));
                off = next_off;
            }
            if self.batch.is_empty() {
                // Nothing usable left in this block.
                self.release_block();
                continue;
            }
            return Ok(self.batch.len());
        }
        Ok(0)
    }

    fn rx_frame(&self, k: usize) -> &[u8] {
        match self.batch.get(k) {
            // SAFETY: bounds checked in rx_batch; the block stays ours until released.
            Some(&(at, len, _)) => unsafe { std::slice::from_raw_parts(self.rx.ptr.add(at), len) },
            None => &[],
        }
    }

    fn rx_release(&mut self, n: usize) {
        let n = n.min(self.batch.len());
        if n == 0 {
            return;
        }
        self.off = self.batch[n - 1].2;
        self.done += n as u32;
        let truncated = n == self.batch.len() && self.off >= self.block_size;
        if self.done >= self.cur_num || truncated {
            self.release_block();
        }
        self.batch.clear();
    }

    fn tx(&mut self, frame: &[u8]) -> Result<bool, RingError> {
        if frame.len() > self.tx_frame_size - TX_DATA {
            return Ok(false);
        }
        let k = self.tx_cur;
        let st = self.tx_status(k).load(Ordering::Acquire);
        if st == libc::TP_STATUS_WRONG_FORMAT {
            self.tx_rejected += 1;
        } else if st != libc::TP_STATUS_AVAILABLE {
            // Full: the kernel has not sent what is in this frame yet.
            if self.tx_queued > 0 {
                self.tx_flush();
            }
            return Ok(false);
        }
        let at = k * self.tx_frame_size;
        // SAFETY: the frame is ours (status AVAILABLE) and holds tx_frame_size bytes.
        unsafe {
            std::ptr::copy_nonoverlapping(
                frame.as_ptr(),
                self.tx.ptr.add(at + TX_DATA),
                frame.len(),
            );
            let hdr = self.tx.ptr.add(at) as *mut libc::tpacket2_hdr;
            std::ptr::addr_of_mut!((*hdr).tp_len).write_volatile(frame.len() as u32);
            std::ptr::addr_of_mut!((*hdr).tp_snaplen).write_volatile(frame.len() as u32);
        }
        self.tx_status(k)
            .store(libc::TP_STATUS_SEND_REQUEST, Ordering::Release);
        self.tx_cur = (k + 1) % self.tx_frames;
        self.tx_queued += 1;
        Ok(true)
    }

    fn tx_flush(&mut self) {
        if self.tx_queued == 0 {
            return;
        }
        // SAFETY: a zero-length send asks the kernel to transmit the ring's requested frames.
        unsafe { libc::send(self.tx_fd, std::ptr::null(), 0, libc::MSG_DONTWAIT) };
        self.tx_queued = 0;
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn arm(&mut self) -> Result<bool, RingError> {
        Ok(self.block_ready())
    }

    fn wake_fds(&self, out: &mut Vec<i32>) {
        out.push(self.rx_fd);
    }

    fn port_stats(&self, out: &mut Vec<(&'static str, u64)>) {
        out.push(("tx_rejected", self.tx_rejected));
        out.push(("kernel_rx_drops", self.kernel_drops()));
    }
}

impl Drop for AfPacketPort {
    fn drop(&mut self) {
        // SAFETY: we own the descriptors (the maps unmap themselves, after this).
        unsafe {
            libc::close(self.rx_fd);
            libc::close(self.tx_fd);
        }
        let _ = self.name.to_string();
    }
}
