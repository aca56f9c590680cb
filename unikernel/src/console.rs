//! The PV console: output and input through the `xencons_interface` ring that xenconsoled
//! serves. (`HYPERVISOR_console_io` writes from a domU are dropped by release builds of Xen.)

use crate::abi::XenconsInterface;
use crate::events::Channel;
use crate::ring::ByteRing;
use core::ptr::addr_of_mut;

/// The console ring and its event channel.
pub struct Console<C: Channel> {
    out: ByteRing,
    input: ByteRing,
    chan: C,
    /// Set when the ring's indices were found corrupt: output is dropped from then on.
    broken: bool,
}

impl<C: Channel> Console<C> {
    /// # Safety
    /// `intf` must point to the console page for the life of the value.
    pub unsafe fn new(intf: *mut XenconsInterface, chan: C) -> Self {
        let out = ByteRing::new(
            addr_of_mut!((*intf).output) as *mut u8,
            2048,
            addr_of_mut!((*intf).out_cons),
            addr_of_mut!((*intf).out_prod),
        );
        let input = ByteRing::new(
            addr_of_mut!((*intf).input) as *mut u8,
            1024,
            addr_of_mut!((*intf).in_cons),
            addr_of_mut!((*intf).in_prod),
        );
        Console {
            out,
            input,
            chan,
            broken: false,
        }
    }

    pub fn channel(&mut self) -> &mut C {
        &mut self.chan
    }

    /// Writes all of `data`, waiting for xenconsoled when the ring is full.
    fn write_raw(&mut self, mut data: &[u8]) {
        while !data.is_empty() && !self.broken {
            match self.out.produce(data) {
                Ok(0) => {
                    self.chan.notify();
                    self.chan.wait(None);
                }
                Ok(n) => data = &data[n..],
                Err(_) => self.broken = true,
            }
        }
    }

    /// Writes `data` with each `\n` sent as `\r\n` (for `xl console` terminals) and notifies.
    pub fn write_bytes(&mut self, data: &[u8]) {
        let mut rest = data;
        while let Some(i) = rest.iter().position(|&b| b == b'\n') {
            self.write_raw(&rest[..i]);
            self.write_raw(b"\r\n");
            rest = &rest[i + 1..];
        }
        self.write_raw(rest);
        self.chan.notify();
    }

    /// Output bytes xenconsoled has not taken yet.
    pub fn pending_output(&self) -> u32 {
        self.out.available().unwrap_or(0)
    }

    /// Waits until xenconsoled has taken all output, or until `deadline` (system time ns).
    /// Returns whether the ring is empty.
    pub fn flush(&mut self, deadline: u64) -> bool {
        while !self.broken && self.pending_output() > 0 {
            self.chan.notify();
            if !self.chan.wait(Some(deadline)) {
                break;
            }
        }
        self.pending_output() == 0
    }

    /// Reads whatever input is waiting (never blocks).
    pub fn read(&mut self, buf: &mut [u8]) -> usize {
        let n = self.input.consume(buf).unwrap_or(0);
        if n > 0 {
            self.chan.notify();
        }
        n
    }
}

impl<C: Channel> core::fmt::Write for Console<C> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.write_bytes(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::fmt::Write;
    use std::vec::Vec;

    /// A channel whose "peer" (xenconsoled) drains the output ring into a Vec when waited on.
    struct Drain {
        intf: *mut XenconsInterface,
        log: Vec<u8>,
        notified: usize,
        waits: usize,
    }
    impl Channel for Drain {
        fn notify(&mut self) {
            self.notified += 1;
        }
        fn wait(&mut self, _d: Option<u64>) -> bool {
            self.waits += 1;
            let intf = self.intf;
            let r = unsafe {
                ByteRing::new(
                    addr_of_mut!((*intf).output) as *mut u8,
                    2048,
                    addr_of_mut!((*intf).out_cons),
                    addr_of_mut!((*intf).out_prod),
                )
            };
            let mut b = [0; 100]; // drain slowly: partial consumption
            let n = r.consume(&mut b).unwrap();
            self.log.extend_from_slice(&b[..n]);
            true
        }
        fn now(&self) -> u64 {
            0
        }
    }

    fn zeroed() -> Box<XenconsInterface> {
        unsafe { Box::new(core::mem::zeroed()) }
    }

    #[test]
    fn long_output_waits_for_room_and_translates_newlines() {
        let mut page = zeroed();
        page.out_cons = u32::MAX - 5;
        page.out_prod = u32::MAX - 5;
        let p: *mut XenconsInterface = &mut *page;
        let mut con = unsafe {
            Console::new(
                p,
                Drain {
                    intf: p,
                    log: Vec::new(),
                    notified: 0,
                    waits: 0,
                },
            )
        };
        let mut expect = Vec::new();
        for i in 0..300 {
            writeln!(con, "line {i} of the console test").unwrap();
            expect.extend_from_slice(format!("line {i} of the console test\r\n").as_bytes());
        }
        // Drain the rest.
        while con.chan.log.len() < expect.len() {
            con.chan.wait(None);
        }
        assert_eq!(con.chan.log, expect);
        assert!(con.chan.waits > 10, "the ring must have filled up");
        assert!(con.chan.notified >= 300);
        write!(con, "tail").unwrap();
        assert_eq!(con.pending_output(), 4);
        assert!(con.flush(1));
        assert_eq!(con.pending_output(), 0);
    }

    #[test]
    fn reads_input() {
        let mut page = zeroed();
        page.input[..3].copy_from_slice(b"abc");
        page.in_prod = 3;
        let p: *mut XenconsInterface = &mut *page;
        let mut con = unsafe {
            Console::new(
                p,
                Drain {
                    intf: p,
                    log: Vec::new(),
                    notified: 0,
                    waits: 0,
                },
            )
        };
        let mut b = [0; 8];
        assert_eq!(con.read(&mut b), 3);
        assert_eq!(&b[..3], b"abc");
        assert_eq!(con.read(&mut b), 0);
        assert_eq!(page.in_cons, 3);
    }
}
