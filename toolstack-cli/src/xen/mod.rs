//! Driving ClickOS domains from dom0: finding them in Xenstore ([`domains`]), creating and
//! destroying them with `xl` ([`xl`]), and the router control protocol ([`router`]).

pub mod domains;
pub mod router;
pub mod xl;

use xenstore::dom0::{Error as XsError, Xs};

use crate::Failure;

/// Exit statuses of the Xen commands (also in `--help` and the README).
pub mod exit {
    /// The configuration (or other input) is invalid; nothing was created
    /// (`Failure::invalid`, shared with check/run).
    #[allow(dead_code)]
    pub const INVALID: u8 = 1;
    /// Bad command-line usage.
    pub const USAGE: u8 = 2;
    /// A file could not be read (configuration, guest image).
    pub const IO: u8 = 3;
    /// Not in dom0 / Xen not running / xenstored or xl unavailable.
    pub const NO_XEN: u8 = 4;
    /// No such domain, router, element or handler (the message lists what exists).
    pub const NOT_FOUND: u8 = 5;
    /// The guest refused: the configuration failed to start (with line:col), or a handler
    /// request failed (with the element's reason).
    pub const REFUSED: u8 = 6;
    /// The domain failed: `xl create` failed, the domain crashed or died during boot, a
    /// backend never connected, or a bounded wait ran out (the message names what for).
    pub const DOMAIN_FAILED: u8 = 7;
}

pub fn fail(code: u8, message: impl Into<String>) -> Failure {
    Failure {
        message: message.into(),
        code,
        already_reported: false,
    }
}

/// Connects to xenstored, with a message a user can act on.
pub fn connect() -> Result<Xs, Failure> {
    Xs::open().map_err(|e| {
        fail(
            exit::NO_XEN,
            format!("{e}\nclickos-cli must run as root in Xen's dom0 (with xenstored running)"),
        )
    })
}

/// A Xenstore error during a command: timeouts are domain failures (the message says what was
/// waited for), lost connections mean Xen trouble.
pub fn xs_failure(e: XsError) -> Failure {
    match e {
        XsError::Timeout { .. } => fail(exit::DOMAIN_FAILED, e.to_string()),
        XsError::Io(_) => fail(exit::NO_XEN, e.to_string()),
        _ => fail(exit::DOMAIN_FAILED, e.to_string()),
    }
}
