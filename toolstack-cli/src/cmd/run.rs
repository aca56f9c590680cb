//! `clickos-cli run`: the element graph as a Linux process, as Click's `click` command runs it.
//!
//! The run ends when a `STOP true` source finishes, the `stop` handler is written, SIGINT or SIGTERM
//! arrives, or the router has nothing left to do (no task scheduled, no timer pending other than
//! housekeeping ones, no live interface open) — e.g. every pcap input has been read and every queue drained. Requested handlers
//! are printed at exit.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use clap::Args;
use config_lang::load;
use elements::router;

use crate::input::{parse_defines, read_config};
use crate::linux::{DeviceSpec, LinuxPlatform};
use crate::Failure;

#[derive(Args)]
#[command(disable_help_flag = true)]
pub struct RunArgs {
    /// Configuration file ('-' for standard input), then NAME=VALUE overrides of define()d
    /// parameters. With -e, every argument is an override.
    #[arg(value_name = "FILE | NAME=VALUE")]
    pub args: Vec<String>,
    /// The configuration itself, instead of a file.
    #[arg(short = 'e', long = "expression", value_name = "CONFIG")]
    pub expression: Option<String>,
    /// Print this handler's value when the run ends (repeatable).
    #[arg(short = 'h', long = "handler", value_name = "ELEM.HANDLER")]
    pub handlers: Vec<String>,
    /// Map netfront device N: pcap:IN[,OUT], if:IFACE or tap:NAME (repeatable).
    #[arg(long = "netfront", value_name = "N=SPEC")]
    pub netfront: Vec<String>,
    /// Print help.
    #[arg(long, action = clap::ArgAction::Help)]
    pub help: Option<bool>,
}

static SIGNALLED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    SIGNALLED.store(true, Ordering::Relaxed);
}

fn catch_signals() {
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        libc::signal(
            libc::SIGINT,
            on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t,
        );
        libc::signal(
            libc::SIGTERM,
            on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t,
        );
    }
}

fn parse_netfronts(items: &[String]) -> Result<HashMap<u32, DeviceSpec>, Failure> {
    let usage = |m: String| Failure {
        message: m,
        code: 2,
        already_reported: false,
    };
    let mut map = HashMap::new();
    for s in items {
        let (n, spec) = s
            .split_once('=')
            .ok_or_else(|| usage(format!("--netfront '{s}': expected N=SPEC")))?;
        let n: u32 = n
            .parse()
            .map_err(|_| usage(format!("--netfront '{s}': '{n}' is not a device number")))?;
        map.insert(
            n,
            DeviceSpec::parse(spec).map_err(|e| usage(format!("--netfront {e}")))?,
        );
    }
    Ok(map)
}

pub fn run(a: &RunArgs) -> Result<(), Failure> {
    let (name, text, define_args) = match &a.expression {
        Some(e) => ("<expression>".to_string(), e.clone(), a.args.as_slice()),
        None => {
            let Some((file, rest)) = a.args.split_first() else {
                return Err(Failure {
                    message: "run: give a configuration FILE or -e CONFIG".into(),
                    code: 2,
                    already_reported: false,
                });
            };
            let (n, t) = read_config(file)?;
            (n, t, rest)
        }
    };
    let defines = parse_defines(define_args)?;
    let specs = parse_netfronts(&a.netfront)?;

    let loaded = load(&name, &text, &defines);
    if loaded.has_errors() {
        eprint!("{}", loaded.render_diagnostics());
        return Err(Failure::reported());
    }
    let graph = loaded.graph.as_ref().expect("no errors");
    let platform = LinuxPlatform::new(specs);
    let live = platform.live.clone();
    let mut r = match router::build(
        graph,
        &elements::library::registry(),
        Some(Box::new(platform)),
        &text,
    ) {
        Ok(r) => r,
        Err(e) => {
            eprint!(
                "{}",
                config_lang::diag::render_all(&e.diagnostics, &loaded.sources)
            );
            return Err(Failure::reported());
        }
    };

    catch_signals();
    drive(&mut r, &live);
    r.cleanup();

    let mut failed = false;
    for h in &a.handlers {
        match r.read_handler(h) {
            Ok(v) => {
                println!("{h}:");
                println!("{}", v.trim_end_matches('\n'));
            }
            Err(e) => {
                eprintln!("clickos-cli: {h}: {e}");
                failed = true;
            }
        }
    }
    if failed {
        return Err(Failure::reported());
    }
    Ok(())
}

/// Runs rounds until the router stops, a signal arrives, or nothing is left to do. While idle
/// (tasks found nothing), it backs off up to 1 ms, or sleeps until the next timer.
fn drive(r: &mut router::Router, live: &std::rc::Rc<std::cell::Cell<bool>>) {
    let mut idle_rounds = 0u32;
    while !r.is_stopped() && !SIGNALLED.load(Ordering::Relaxed) {
        if r.run_once() {
            idle_rounds = 0;
            continue;
        }
        idle_rounds += 1;
        // Housekeeping timers (NAT expiry, ARP retries) do not keep a finished run alive.
        let quiescent = !r.has_scheduled_tasks() && r.next_work_timer().is_none() && !live.get();
        if quiescent {
            break;
        }
        if idle_rounds > 16 {
            let now = r.platform().now_ns();
            let wait = match (r.has_scheduled_tasks(), r.next_timer()) {
                (false, Some(at)) => at.saturating_sub(now).min(100_000_000),
                _ => (idle_rounds as u64 * 20_000).min(1_000_000),
            };
            std::thread::sleep(Duration::from_nanos(wait));
        }
    }
}
