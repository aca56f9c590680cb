//! The configuration-argument toolkit: how an element reads its configuration string.
//!
//! A configuration string is split at top-level commas ([`split`]); each argument is positional or
//! `KEYWORD value`. An element reads its arguments through [`Args`], naming each one and its type:
//!
//! ```
//! use config_lang::args::Args;
//! let mut a = Args::new("60, LIMIT 10k, STOP true");
//! let length: u32 = a.read_mp("LENGTH").unwrap();
//! let limit: Option<u64> = a.read("LIMIT").unwrap();
//! let stop = a.read("STOP").unwrap().unwrap_or(false);
//! a.complete().unwrap();
//! assert_eq!((length, limit, stop), (60, Some(10_000), true));
//! ```
//!
//! Every error names the argument and says why; [`ArgError::range`] locates it in the configuration
//! string so the caller can point a caret at it.

mod reader;
mod split;
mod types;
mod unquote;

pub use reader::{ArgError, Args};
pub use split::{split, RawArg};
pub use types::{ArgValue, Bandwidth, EtherAddr, HexData, Ipv4Prefix, PacketRate, Word};
pub use unquote::{unquote, unquote_lossy};
