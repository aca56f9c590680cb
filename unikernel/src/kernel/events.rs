//! Event channels on the real shared_info page.

use crate::abi::SharedInfo;
use crate::arch::{boot, hypercall};
use crate::events::{self, Channel};
use core::ptr::{addr_of, addr_of_mut};
use core::sync::atomic::AtomicU64;

/// shared_info, mapped at boot over `shared_info_page`.
pub fn shared_info() -> *mut SharedInfo {
    addr_of!(boot::shared_info_page) as *mut SharedInfo
}

fn pending() -> &'static [AtomicU64; 64] {
    // SAFETY: the page is mapped for the guest's lifetime; AtomicU64 has u64's layout.
    unsafe { &*(addr_of_mut!((*shared_info()).evtchn_pending) as *const [AtomicU64; 64]) }
}

fn mask() -> &'static [AtomicU64; 64] {
    // SAFETY: as above.
    unsafe { &*(addr_of_mut!((*shared_info()).evtchn_mask) as *const [AtomicU64; 64]) }
}

/// Clears the pending bit of `port`; true if it was set.
pub fn clear_pending(port: u32) -> bool {
    events::test_and_clear(pending(), port)
}

pub fn is_pending(port: u32) -> bool {
    events::test(pending(), port)
}

pub fn is_masked(port: u32) -> bool {
    events::test(mask(), port)
}

/// Unmasks `port` (Xen re-raises it if it is pending).
pub fn unmask(port: u32) {
    if hypercall::evtchn_unmask(port).is_err() {
        events::test_and_clear(mask(), port);
    }
}

/// Blocks until one of `ports` is pending or `deadline` (system time ns) passes. Returns at
/// once if a port is already pending. Does not clear anything.
pub fn poll(ports: &[u32], deadline: Option<u64>) {
    hypercall::sched_poll(ports, deadline.unwrap_or(0));
}

/// An event channel to a ring's peer (xenconsoled, xenstored).
#[derive(Clone, Copy, Debug)]
pub struct EvtchnChannel {
    pub port: u32,
}

impl Channel for EvtchnChannel {
    fn notify(&mut self) {
        hypercall::evtchn_send(self.port);
    }

    fn wait(&mut self, deadline: Option<u64>) -> bool {
        poll(&[self.port], deadline);
        clear_pending(self.port);
        deadline.is_none_or(|d| super::time::now() < d)
    }

    fn now(&self) -> u64 {
        super::time::now()
    }
}

/// The Xenstore ring's channel: waiting blocks only the calling thread; the others run
/// meanwhile, and the scheduler clears the port's pending bit when it wakes the waiter.
#[derive(Clone, Copy, Debug)]
pub struct ThreadChannel {
    pub port: u32,
}

impl Channel for ThreadChannel {
    fn notify(&mut self) {
        hypercall::evtchn_send(self.port);
    }

    fn wait(&mut self, deadline: Option<u64>) -> bool {
        super::sched::block(&[self.port], deadline);
        deadline.is_none_or(|d| super::time::now() < d)
    }

    fn now(&self) -> u64 {
        super::time::now()
    }
}
