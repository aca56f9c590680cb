//! # netback-netmap: the dom0 side of the ClickOS fast path
//!
//! A netmap-style backend in dom0 userspace: for each guest vif, dom0 allocates two packet rings
//! (the [`vale::ring`] layout: "to guest" and "from guest") and a *ref page* listing their grant
//! references, grants them all to the guest once through Linux's gntalloc, allocates an event
//! channel, and publishes where they are under the vif's backend directory ([`proto`]). The guest
//! maps them at connect; after that a packet moves by writing a buffer and advancing an index.
//! `clickos-switchd` serves each attachment as a switch port over the same ring code as its
//! shared-memory ports, validating everything the guest writes.
//!
//! Without the `std` feature only [`proto`] is built (`no_std`): the node names and the ref page
//! format, which the guest parses too.

#![no_std]

#[cfg(any(feature = "std", test))]
extern crate std;

pub mod proto;

#[cfg(feature = "std")]
pub mod backend;
#[cfg(feature = "std")]
pub mod evtchn;
#[cfg(feature = "std")]
pub mod gntalloc;
#[cfg(feature = "std")]
mod sys;

#[cfg(feature = "std")]
pub use backend::{backend_path, Attachment, RingSize, Store};
