//! `clickos-cli`: the ClickOS-rs command-line tool.
//!
//! Exit status: 0 success; 1 the configuration (or other input) is invalid; 2 bad command-line
//! usage; 3 an I/O error (file not found, unreadable).

mod cmd;
mod input;
mod linux;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "clickos-cli",
    version,
    about = "Check, flatten and draw Click configurations; create and control ClickOS VMs",
    after_help = "Examples:\n  clickos-cli check fw.click\n  clickos-cli flatten fw.click | clickos-cli check -\n  clickos-cli graph fw.click | dot -Tsvg > fw.svg"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Parse, flatten and validate a configuration against the element library (classes, ports,
    /// push/pull, arguments); report every error with file:line:col.
    #[command(
        after_help = "Examples:\n  clickos-cli check fw.click\n  clickos-cli check - < fw.click\n  clickos-cli check fw.click RATE=10kpps"
    )]
    Check(cmd::config::ConfigArgs),
    /// Print the configuration with compound elements expanded, as Click text.
    #[command(after_help = "Example:\n  clickos-cli flatten nat.click > nat-flat.click")]
    Flatten(cmd::config::ConfigArgs),
    /// Print the flattened configuration as a Graphviz graph with labelled ports.
    #[command(after_help = "Example:\n  clickos-cli graph fw.click | dot -Tsvg > fw.svg")]
    Graph(cmd::config::ConfigArgs),
    /// Run a configuration as a Linux process, on pcap files or interfaces (like Click's `click`).
    #[command(
        after_help = "Examples:\n  clickos-cli run fw.click --netfront 0=pcap:in.pcap,out0.pcap --netfront 1=pcap:-,out.pcap -h counter.count\n  clickos-cli run -e 'InfiniteSource(LIMIT 1000, STOP true) -> c :: Counter -> Discard' -h c.count\n  clickos-cli run fw.click --netfront 0=if:veth0 --netfront 1=if:veth1\n  clickos-cli run shaper.click RATE=1Mbps"
    )]
    Run(cmd::run::RunArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check(a) => cmd::config::check(&a),
        Command::Flatten(a) => cmd::config::flatten(&a),
        Command::Graph(a) => cmd::config::graph(&a),
        Command::Run(a) => cmd::run::run(&a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if !e.already_reported {
                eprintln!("clickos-cli: {}", e.message);
            }
            ExitCode::from(e.code)
        }
    }
}

/// A failed command: what to print (unless already printed) and the exit status.
pub struct Failure {
    pub message: String,
    pub code: u8,
    pub already_reported: bool,
}

impl Failure {
    pub fn invalid(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            code: 1,
            already_reported: false,
        }
    }

    pub fn reported() -> Failure {
        Failure {
            message: String::new(),
            code: 1,
            already_reported: true,
        }
    }

    pub fn io(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            code: 3,
            already_reported: false,
        }
    }
}
