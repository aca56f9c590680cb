//! netfront: the Xen netif protocol from the guest's side, against Linux netback.
//!
//! - [`ring`]: the shared TX/RX rings (layouts, free-running indices, notification rules,
//!   checks of everything the backend writes);
//! - [`device`]: the data path over pre-granted buffers (burst receive, transmit with copy);
//! - [`xenbus`]: the handshake's data and decisions (what to read, what to write, backend
//!   states).
//!
//! The guest driver (`kernel::netfront`) allocates and grants the pages, does the Xenstore I/O
//! and gives the element library its `NetDevice`.

pub mod device;
pub mod ring;
pub mod xenbus;
