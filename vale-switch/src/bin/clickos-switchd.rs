//! `clickos-switchd`: a VALE-like learning switch between shared-memory rings (ClickOS guests and
//! their stand-ins), Linux interfaces, TAP devices and pcap files.
//!
//! ```text
//! clickos-switchd --port if:veth0 --port tap:tap0 --port pcap:in.pcap,out.pcap \
//!                 --port shm:/dev/shm/guest1 [--stats-json FILE]
//! ```
//!
//! SIGUSR1 prints the per-port counters (and rewrites `--stats-json`); SIGINT and SIGTERM stop the
//! switch cleanly, printing the counters. Xen guests will attach through the netmap backend as one
//! more port kind (`xen:DOMID/VIF`), over the same rings as `shm:`.

use std::process::ExitCode;

use clap::Parser;
use netback_netmap::RingSize;
use vale::daemon::{self, Event, Options, PortSpec};
use vale::guests::{GuestMode, Guests, XsStore};
use vale::ring::Geometry;
use vale::switch::{Switch, MAX_BURST};

#[derive(Parser, Debug)]
#[command(
    name = "clickos-switchd",
    version,
    about = "A VALE-like learning L2 switch for ClickOS guests, host interfaces, TAP devices and pcap files"
)]
struct Args {
    /// A port: if:NAME (AF_PACKET), tap:NAME, pcap:IN[,OUT] (`-` for none), shm:PATH (a ring
    /// pair in shared memory at PATH; peers connect through PATH.sock), sink:MAC (counts and
    /// discards; MAC is its static address). Repeat for each port.
    #[arg(long = "port", value_name = "SPEC", required_unless_present = "control", value_parser = PortSpec::parse)]
    ports: Vec<PortSpec>,
    /// Accept ClickOS guests (Xen vifs) on this control socket: `attach DOMID DEVID MAC`,
    /// `detach DOMID DEVID`, `resources`, `stats` (the `vif-clickos` hotplug script uses it).
    #[arg(long, value_name = "SOCKET")]
    control: Option<std::path::PathBuf>,
    /// How guests are served: `fast` (granted rings, the ClickOS fast path) or `netif` (no fast
    /// path offered; Linux netback's vifD.N through AF_PACKET).
    #[arg(long, default_value = "fast", value_parser = ["fast", "netif"])]
    guest_mode: String,
    /// Slots per guest ring (a power of two; each guest maps two rings).
    #[arg(long, default_value_t = 64)]
    guest_slots: u32,
    /// Bytes per guest ring buffer.
    #[arg(long, default_value_t = 2048)]
    guest_buf_size: u32,
    /// Do not watch @releaseDomain (guests are then only detached by request).
    #[arg(long)]
    no_domain_watch: bool,
    /// Most frames taken from one port per pass.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=MAX_BURST as i64))]
    burst: u32,
    /// Seconds a learned MAC address is kept without being seen again.
    #[arg(long, default_value_t = 300)]
    ageing: u64,
    /// Most MAC addresses learned in all.
    #[arg(long, default_value_t = 8192)]
    mac_capacity: usize,
    /// Most MAC addresses learned on one port.
    #[arg(long, default_value_t = 1024)]
    mac_per_port: usize,
    /// Slots per shared-memory ring (a power of two).
    #[arg(long, default_value_t = 1024)]
    slots: u32,
    /// Bytes per shared-memory ring buffer (64..=65535).
    #[arg(long, default_value_t = 2048)]
    buf_size: u32,
    /// Write the counters as JSON to FILE at exit and on SIGUSR1.
    #[arg(long, value_name = "FILE")]
    stats_json: Option<std::path::PathBuf>,
    /// Exit once every pcap input is replayed and the switch is idle.
    #[arg(long)]
    until_replayed: bool,
    /// Pin the switch to this CPU.
    #[arg(long)]
    cpu: Option<usize>,
    /// Empty passes over the ports before the switch sleeps (a short spin catches back-to-back
    /// batches without a wake-up; on an emulated machine spinning costs more than waking).
    #[arg(long, default_value_t = 64)]
    spin_passes: u32,
    /// Do not print the counters at exit.
    #[arg(long, short)]
    quiet: bool,
}

fn write_json(path: &Option<std::path::PathBuf>, sw: &mut Switch) {
    if let Some(p) = path {
        let tmp = p.with_extension("tmp");
        let ok =
            std::fs::write(&tmp, daemon::stats_json(sw)).and_then(|_| std::fs::rename(&tmp, p));
        if let Err(e) = ok {
            eprintln!("clickos-switchd: {}: {e}", p.display());
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    if !args.slots.is_power_of_two() || args.slots < 2 || args.slots > 1 << 16 {
        eprintln!("clickos-switchd: --slots must be a power of two between 2 and 65536");
        return ExitCode::from(2);
    }
    if !(64..=65535).contains(&args.buf_size) {
        eprintln!("clickos-switchd: --buf-size must be between 64 and 65535");
        return ExitCode::from(2);
    }
    if let Some(c) = args.cpu {
        if let Err(e) = vale::ports::pin_to_cpu(c) {
            eprintln!("clickos-switchd: {e}");
        }
    }
    let geo = Geometry::new(args.slots, args.buf_size);
    let mut sw = Switch::new(
        args.burst as usize,
        args.ageing.saturating_mul(1_000_000_000),
    );
    sw.mac_capacity = args.mac_capacity;
    sw.mac_per_port = args.mac_per_port;
    let mut opts = Options {
        until_replayed: args.until_replayed,
        spin_passes: args.spin_passes.max(1),
        ..Options::default()
    };
    for spec in &args.ports {
        match spec.open(geo) {
            Ok(p) => {
                let k = sw.attach(p);
                if let Some(m) = spec.static_mac() {
                    sw.add_static_mac(m, k);
                }
                if spec.is_replay() {
                    opts.replay_ports.push(k);
                }
            }
            Err(e) => {
                eprintln!("clickos-switchd: {e}");
                return ExitCode::from(1);
            }
        }
    }
    if !args.quiet {
        let names: Vec<String> = sw.port_names().into_iter().map(|(_, n)| n).collect();
        eprintln!(
            "clickos-switchd: {} ports: {}",
            names.len(),
            names.join(" ")
        );
    }
    let mut guests = match &args.control {
        Some(path) => {
            let (n, b) = (args.guest_slots, args.guest_buf_size);
            if !n.is_power_of_two() || n < 2 || !(64..=65535).contains(&b) {
                eprintln!("clickos-switchd: bad guest ring geometry {n} x {b}");
                return ExitCode::from(2);
            }
            let mode = if args.guest_mode == "netif" {
                GuestMode::Netif
            } else {
                GuestMode::Fast
            };
            let size = RingSize {
                nslots: n,
                buf_size: b,
            };
            let store = match XsStore::open() {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("clickos-switchd: xenstore: {e}");
                    return ExitCode::from(1);
                }
            };
            match Guests::new(path, mode, size, Box::new(store), !args.no_domain_watch) {
                Ok(g) => Some(g),
                Err(e) => {
                    eprintln!("clickos-switchd: {e}");
                    return ExitCode::from(1);
                }
            }
        }
        None => None,
    };
    let json = args.stats_json.clone();
    let on_event = |ev: Event| match ev {
        Event::Stats(sw) => {
            print!("{}", daemon::stats_text(sw));
            write_json(&json, sw);
        }
    };
    let r = match guests.as_mut() {
        Some(g) => daemon::run_with(&mut sw, &opts, g, || false, on_event),
        None => daemon::run(&mut sw, &opts, on_event),
    };
    if let Some(g) = guests.as_mut() {
        g.detach_all(&mut sw);
    }
    let code = match r {
        Ok(st) => {
            if !args.quiet {
                eprintln!(
                    "clickos-switchd: stopped after {} passes, {} sleeps",
                    st.passes, st.sleeps
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("clickos-switchd: {e}");
            ExitCode::from(1)
        }
    };
    if !args.quiet {
        print!("{}", daemon::stats_text(&mut sw));
    }
    write_json(&args.stats_json, &mut sw);
    code
}
