//! # A VALE-like learning switch for ClickOS-rs
//!
//! [`ring`]: the shared-memory packet ring of the ClickOS fast path (guest ↔ switch), which
//! validates everything its peer writes. [`switch`]: a learning L2 switch that forwards a whole
//! batch per pass — all destinations of a batch are looked up first, then packets move per
//! destination port — with MAC ageing, flooding and per-port counters. Ports are anything
//! implementing [`switch::Port`]: rings to guests, host interfaces, TAP devices, pcap files.
//!
//! `no_std` + `alloc`: the ring code is the same in the guest and in dom0. The `std` feature
//! (on by default; the guest turns it off) adds the host ports in [`ports`] — shared-memory ring
//! pairs for other processes, AF_PACKET, TAP, pcap — and the daemon loop in [`daemon`] that
//! `clickos-switchd` runs.

#![no_std]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod ring;
pub mod switch;

#[cfg(feature = "std")]
pub mod daemon;
#[cfg(feature = "std")]
pub mod guests;
#[cfg(feature = "std")]
pub mod ports;
