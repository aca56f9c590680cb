//! The ClickOS control protocol on Xenstore (paths, chunk reassembly, handler requests). The code
//! lives in the shared `clickos-xenstore` crate (`xenstore::clickos`) so that dom0 tools use the
//! same node layout as the guest; this re-export keeps `crate::control` working.

pub use ::xenstore::clickos::*;
