//! One module per group of subcommands.

pub mod config;
pub mod run;
pub mod xen;
