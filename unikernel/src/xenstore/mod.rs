//! Xenstore: the wire format ([`wire`], from the shared `clickos-xenstore` crate, which dom0 tools
//! use too) and the guest's ring client ([`client`]).

pub mod client;
pub use ::xenstore::wire;

pub use client::{Client, TxId, TX_NONE};
pub use wire::{Errno, Error, Perm, WatchEvent};
