//! # The ClickOS-rs element runtime and element library
//!
//! Packets ([`packet`]), batches ([`batch`]), the element interface ([`element`]), the router that
//! instantiates a flat Click graph and runs it ([`router`]), and the element classes
//! ([`library`]). `no_std` + `alloc`: the same code runs in the Xen guest and in `clickos-cli run`.
//!
//! ```
//! use elements::{library, router, platform::TestPlatform};
//! let cfg = "s :: InfiniteSource(LENGTH 60, LIMIT 100, STOP true) -> c :: Counter -> Discard;";
//! let loaded = config_lang::load("x.click", cfg, &[]);
//! let graph = loaded.graph.unwrap();
//! let mut r = router::build(&graph, &library::registry(), Some(Box::new(TestPlatform::default())), cfg).unwrap();
//! r.run_until_idle(10);
//! assert_eq!(r.read_handler("c.count").unwrap(), "100");
//! ```

#![no_std]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod batch;
pub mod element;
pub mod library;
pub mod packet;
pub mod platform;
pub mod router;
pub mod spec;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use batch::Batch;
pub use element::{Element, ElementClass, HandlerSpec, Registry};
pub use packet::{Packet, PacketPool};
pub use router::{Context, Router};
