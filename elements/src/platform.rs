//! What the element library needs from the system it runs on: time, a console, and network
//! devices. The Xen guest and `clickos-cli run` on Linux each implement it.

use alloc::boxed::Box;
use alloc::string::String;

use crate::batch::Batch;
use crate::packet::PacketPool;

/// A network device as elements see it: FromNetfront/ToNetfront in the guest; on Linux, whatever
/// `clickos-cli run --netfront N=SPEC` maps device N to (pcap files, an interface, a TAP device).
pub trait NetDevice {
    /// Appends up to `max` received packets to `out`; returns how many.
    fn receive(&mut self, pool: &mut PacketPool, out: &mut Batch, max: usize) -> usize;
    /// Sends packets from the front of `batch`, removing those sent; what stays could not be sent
    /// now (ring full). Sent packets are recycled into `pool`.
    fn transmit(&mut self, pool: &mut PacketPool, batch: &mut Batch) -> usize;
    /// True once a finite source (a pcap file) has no more packets.
    fn exhausted(&self) -> bool {
        false
    }
    /// Called when the router stops: flush buffered output.
    fn flush(&mut self) {}
}

pub trait Platform {
    /// Monotonic time in nanoseconds.
    fn now_ns(&self) -> u64;
    /// Wall-clock time in nanoseconds since the Unix epoch, for packet timestamps.
    fn wall_ns(&self) -> u64 {
        self.now_ns()
    }
    /// One line of element output (Print, IPPrint).
    fn print(&mut self, line: &str);
    /// The network device with this number; FromNetfront(N) and ToNetfront(N) share it.
    fn net_device(&mut self, id: u32) -> Result<Box<dyn NetDevice>, String> {
        Err(alloc::format!("no network device {id} on this platform"))
    }
    /// A host interface by name (FromDevice(eth0) on Linux).
    fn interface(&mut self, name: &str) -> Result<Box<dyn NetDevice>, String> {
        Err(alloc::format!(
            "no interface '{name}' on this platform (devices are numbered here: FromDevice(0))"
        ))
    }
    /// Sets the clock, on platforms whose clock tests control ([`TestPlatform`]); others ignore
    /// it. Tests move time forward with this to fire timers (mapping timeouts, rate limits).
    #[cfg(any(test, feature = "testing"))]
    fn set_now(&mut self, now_ns: u64) {
        let _ = now_ns;
    }
}

/// A platform with a given clock and no devices, printing into a buffer: for tests.
#[derive(Default)]
pub struct TestPlatform {
    pub now: u64,
    pub printed: alloc::vec::Vec<String>,
}

impl Platform for TestPlatform {
    fn now_ns(&self) -> u64 {
        self.now
    }
    fn print(&mut self, line: &str) {
        self.printed.push(String::from(line));
    }
    #[cfg(any(test, feature = "testing"))]
    fn set_now(&mut self, now_ns: u64) {
        self.now = now_ns;
    }
}
