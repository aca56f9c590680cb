//! `clickos-switchctl`: one request to a `clickos-switchd` control socket (what the `vif-clickos`
//! hotplug script runs).
//!
//! ```text
//! clickos-switchctl [--socket PATH] attach DOMID DEVID MAC
//! clickos-switchctl [--socket PATH] detach DOMID DEVID
//! clickos-switchctl [--socket PATH] resources | stats
//! ```
//!
//! Prints the reply; exits 0 when the switch answered `ok` (or with statistics), 1 on an `error`
//! reply, 3 when the switch could not be reached.

use std::path::PathBuf;
use std::process::ExitCode;

const DEFAULT_SOCKET: &str = "/run/clickos-switchd.sock";

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut socket = PathBuf::from(DEFAULT_SOCKET);
    if args.first().map(String::as_str) == Some("--socket") && args.len() >= 2 {
        socket = PathBuf::from(args.remove(1));
        args.remove(0);
    }
    if args.is_empty() || args[0].starts_with('-') {
        eprintln!("usage: clickos-switchctl [--socket PATH] attach DOMID DEVID MAC | detach DOMID DEVID | resources | stats");
        return ExitCode::from(2);
    }
    match vale::guests::request(&socket, &args.join(" ")) {
        Ok(reply) => {
            print!("{reply}");
            if reply.starts_with("ok") || reply.starts_with('{') {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("clickos-switchctl: {e}");
            ExitCode::from(3)
        }
    }
}
