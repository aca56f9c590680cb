//! The architecture layer: boot code, hypercall stubs, traps. Only x86_64 PV exists.

pub mod x86_64;
pub use self::x86_64::*;
