//! Xenstore: the wire format ([`wire`], usable by dom0 tools too) and the guest's ring client
//! ([`client`]).

pub mod client;
pub mod wire;

pub use client::{Client, TxId, TX_NONE};
pub use wire::{Errno, Error, Perm, WatchEvent};
