//! ClickOS-rs guest kernel: a `no_std` Xen PV guest for x86_64.
//!
//! Layout (Hermit/Tock style): almost everything is plain Rust that unit-tests on the host —
//! the ABI types ([`abi`]), shared byte rings ([`ring`]), the console ([`console`]), event
//! bitmaps ([`events`]), time scaling ([`time`]), the frame allocator ([`pfa`]), page-table
//! extension ([`paging`]) and the Xenstore protocol and client ([`xenstore`], its wire format from the shared `clickos-xenstore` crate). The thin
//! hypervisor-facing part — boot assembly, hypercalls, the glue that instantiates the above on
//! real pages — is in [`arch`] and [`kernel`], built only for `target_os = "none"` with the
//! `guest` feature.

#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod abi;
pub mod console;
pub mod control;
pub mod events;
pub mod fastpath;
pub mod gnttab;
pub mod netfront;
pub mod paging;
pub mod pfa;
pub mod ring;
pub mod sched;
pub mod time;
pub mod xenstore;

#[cfg(all(target_os = "none", feature = "guest"))]
pub mod arch;
#[cfg(all(target_os = "none", feature = "guest"))]
pub mod kernel;
