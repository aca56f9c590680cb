//! `clickos-cli`: the ClickOS-rs command-line tool.
//!
//! Exit status: see `exit_codes!` (also printed by `--help`).

mod cmd;
mod input;
mod linux;
mod xen;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

use cmd::xen::{Common, HandlerCommand, RouterOp};

/// The exit statuses (in `--help` and the README).
macro_rules! exit_codes {
    () => {
        "Exit status:
  0  success
  1  the configuration (or other input) is invalid; nothing was created or changed
  2  bad command-line usage (also: several ClickOS domains run and none was named)
  3  a file could not be read (configuration, guest image)
  4  Xen is not available: not dom0, xenstored not reachable, or xl missing
  5  no such domain, router, element or handler (the message lists those that exist)
  6  the guest refused: the configuration failed to start (with line:col), or a handler
     write was rejected (with the element's reason)
  7  the domain failed: xl create failed, it crashed or died during boot (last console
     lines shown), a vif backend never connected (with its hotplug status), or a wait
     for the guest ran out (the message names what it waited for)"
    };
}

#[derive(Parser)]
#[command(
    name = "clickos-cli",
    version,
    about = "Check, flatten and draw Click configurations; create and control ClickOS VMs",
    after_help = concat!("Examples:
  clickos-cli check fw.click
  clickos-cli create fw.click --vif xenbr0 --vif xenbr1
  clickos-cli list
  clickos-cli handler read counter.count
  clickos-cli handler write src.limit 500
  clickos-cli install fw fw2.click --router 1
  clickos-cli destroy fw

", exit_codes!())
)]
struct Cli {
    #[command(flatten)]
    common: Common,
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
    /// Create a ClickOS domain running a configuration: check it, `xl create` the domain, wait
    /// for the guest's control plane, install and start the router, wait until it runs.
    #[command(after_help = CREATE_HELP)]
    Create(cmd::xen::CreateArgs),
    /// Destroy ClickOS domains (xl destroy).
    #[command(after_help = "Examples:\n  clickos-cli destroy fw\n  clickos-cli destroy 12 13")]
    Destroy(cmd::xen::DestroyArgs),
    /// List domains with their routers, status, configuration and uptime.
    #[command(after_help = "Examples:\n  clickos-cli list\n  clickos-cli list --json")]
    List,
    /// Install (and start) a configuration in a running domain: install [DOMAIN] CONFIG.
    #[command(
        after_help = "Examples:\n  clickos-cli install fw2.click\n  clickos-cli install fw fw2.click --router 1\n  clickos-cli install fw nat.click --no-start"
    )]
    Install(cmd::xen::InstallArgs),
    /// Start an installed router: start [DOMAIN] [ROUTER].
    #[command(after_help = "Examples:\n  clickos-cli start\n  clickos-cli start fw 1")]
    Start(cmd::xen::RouterArgs),
    /// Stop a router (its configuration stays installed): stop [DOMAIN] [ROUTER].
    #[command(after_help = "Examples:\n  clickos-cli stop\n  clickos-cli stop fw --router 1")]
    Stop(cmd::xen::RouterArgs),
    /// Stop a router and remove it with its configuration: remove [DOMAIN] [ROUTER].
    #[command(after_help = "Examples:\n  clickos-cli remove fw 1")]
    Remove(cmd::xen::RouterArgs),
    /// Attach to a domain's console (xl console), or print the end of its log with --tail.
    #[command(after_help = "Examples:\n  clickos-cli console fw\n  clickos-cli console --tail 20")]
    Console(cmd::xen::ConsoleArgs),
    /// Read, write or list element handlers of a running router.
    #[command(subcommand)]
    Handler(HandlerCommand),
    /// Print a shell completion script: bash, zsh, fish, elvish, powershell.
    #[command(
        after_help = "Examples:\n  clickos-cli completions bash > /etc/bash_completion.d/clickos-cli\n  clickos-cli completions zsh > ~/.zfunc/_clickos-cli"
    )]
    Completions { shell: clap_complete::Shell },
}

const CREATE_HELP: &str = concat!(
    "Examples:
  clickos-cli create fw.click
  clickos-cli create fw.click --name fw1 --memory 8 --vif xenbr0 --vif xenbr1
  clickos-cli create fw.click -D RATE=10kpps --json
  CLICKOS_IMAGE=./clickos.elf clickos-cli create counter.click --no-start

The domain is created with `xl create` from a generated config kept in /run/clickos/NAME.cfg.
If the router cannot start, the guest's errors are shown with line:col and the domain is
destroyed (--keep-on-error keeps it).

",
    exit_codes!()
);

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check(a) => cmd::config::check(&a),
        Command::Flatten(a) => cmd::config::flatten(&a),
        Command::Graph(a) => cmd::config::graph(&a),
        Command::Run(a) => cmd::run::run(&a),
        Command::Create(a) => cmd::xen::create(&a, cli.common),
        Command::Destroy(a) => cmd::xen::destroy(&a, cli.common),
        Command::List => cmd::xen::list(cli.common),
        Command::Install(a) => cmd::xen::install(&a, cli.common),
        Command::Start(a) => cmd::xen::router_op(RouterOp::Start, &a, cli.common),
        Command::Stop(a) => cmd::xen::router_op(RouterOp::Stop, &a, cli.common),
        Command::Remove(a) => cmd::xen::router_op(RouterOp::Remove, &a, cli.common),
        Command::Console(a) => cmd::xen::console(&a, cli.common),
        Command::Handler(h) => cmd::xen::handler(&h, cli.common),
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "clickos-cli",
                &mut std::io::stdout(),
            );
            Ok(())
        }
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
