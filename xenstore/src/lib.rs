//! Xenstore for ClickOS-rs, shared by the guest and dom0 tools.
//!
//! - [`wire`]: the message format (`no_std` + `alloc`): headers, requests, replies, watch events,
//!   an incremental reader for byte streams.
//! - [`clickos`]: the ClickOS control-node layout under `data/clickos/<rid>/` (paths, config
//!   chunks, handler requests) — the guest parses it, dom0 tools write it.
//! - `dom0` (feature `std`): a blocking client for dom0 over xenstored's Unix socket or
//!   `/dev/xen/xenbus`, with watches, transactions that retry on `EAGAIN`, and bounded waits.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod clickos;
pub mod wire;

#[cfg(feature = "std")]
pub mod dom0;
/// An in-process fake xenstored for tests of dom0 code (not Xen: no domains, no quotas).
#[cfg(feature = "std")]
pub mod fake;
