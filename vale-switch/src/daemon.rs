//! The switch daemon's parts (feature `std`): port specifications, the forwarding loop that
//! sleeps when every port is idle, signals, and statistics. `clickos-switchd` is a thin command
//! line over this; the ring benchmark runs the same loop.
//!
//! The loop: forward passes while any port has input; after a few empty passes, ask every port for
//! a wake-up ([`Switch::arm`]: rings set their kick-request flag and are re-checked), then sleep in
//! `poll(2)` on the ports' descriptors (eventfds, sockets, TAP and AF_PACKET descriptors) and a
//! signalfd. Housekeeping — signals, MAC ageing, port service (new peers) — runs every
//! [`Options::housekeeping`] while busy, and at least that often while asleep (so a peer that
//! cannot kick is still served, slowly).

use std::format;
use std::io;
use std::path::PathBuf;
use std::string::{String, ToString};
use std::vec::Vec;

use crate::ports::{now_ns, AfPacketPort, PcapPort, ShmRingPort, TapPort};
use crate::ring::Geometry;
use crate::switch::{Port, Switch};

/// What a `--port` argument names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortSpec {
    /// `if:NAME`: a host interface (AF_PACKET, TPACKET_V3 receive ring, TPACKET_V2 transmit ring).
    Interface(String),
    /// `tap:NAME`: a TAP device (created if missing, brought up).
    Tap(String),
    /// `pcap:IN[,OUT]`: replay IN into the switch (`-` for none), capture what the port is sent
    /// into OUT.
    Pcap {
        input: Option<String>,
        output: Option<String>,
    },
    /// `shm:PATH`: a shared-memory ring pair at PATH with a control socket at PATH.sock.
    Shm(PathBuf),
    /// `sink:MAC`: counts and discards what it is sent; MAC is its static address (a benchmark's
    /// destination that never sends, so frames to it are not flooded).
    Sink([u8; 6]),
    /// `netmap:NAME`: a port of the host's netmap, by the kernel's name for it (`netmap:eth0` for
    /// a NIC, `netmap:vale0:p` for a kernel VALE switch's port); needs the `netmap` feature.
    Netmap(String),
}

const SPEC_HELP: &str =
    "expected if:NAME, tap:NAME, pcap:IN[,OUT], shm:PATH, sink:MAC or netmap:NETMAP_NAME";

impl PortSpec {
    pub fn parse(s: &str) -> Result<PortSpec, String> {
        let (kind, rest) = s
            .split_once(':')
            .ok_or_else(|| format!("'{s}': {SPEC_HELP}"))?;
        let opt = |x: &str| (!x.is_empty() && x != "-").then(|| x.to_string());
        match kind {
            "if" if !rest.is_empty() => Ok(PortSpec::Interface(rest.to_string())),
            "tap" if !rest.is_empty() => Ok(PortSpec::Tap(rest.to_string())),
            "shm" if !rest.is_empty() => Ok(PortSpec::Shm(PathBuf::from(rest))),
            // The kernel's name for the port: `eth0` (a NIC), `vale0:p` (a VALE port).
            "netmap" if !rest.is_empty() => Ok(PortSpec::Netmap(rest.to_string())),
            "sink" => crate::ports::parse_mac(rest)
                .map(PortSpec::Sink)
                .ok_or_else(|| format!("'{s}': sink:MAC needs a MAC address")),
            "pcap" => {
                let (i, o) = rest.split_once(',').unwrap_or((rest, ""));
                let (input, output) = (opt(i), opt(o));
                if input.is_none() && output.is_none() {
                    return Err(format!(
                        "'{s}': give an input file, an output file, or both"
                    ));
                }
                Ok(PortSpec::Pcap { input, output })
            }
            _ => Err(format!("'{s}': {SPEC_HELP}")),
        }
    }

    /// Opens the port; `geo` sizes shared-memory rings.
    pub fn open(&self, geo: Geometry) -> io::Result<std::boxed::Box<dyn Port>> {
        Ok(match self {
            PortSpec::Interface(n) => std::boxed::Box::new(AfPacketPort::open(n)?),
            PortSpec::Tap(n) => std::boxed::Box::new(TapPort::open(n)?),
            PortSpec::Shm(p) => std::boxed::Box::new(ShmRingPort::at_path(p, geo)?),
            #[cfg(feature = "netmap")]
            PortSpec::Netmap(n) => std::boxed::Box::new(crate::ports::netmap::NetmapPort::open(n)?),
            #[cfg(not(feature = "netmap"))]
            PortSpec::Netmap(n) => {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    format!("netmap port '{n}': clickos-switchd was built without the `netmap` feature (cargo build --features netmap)"),
                ))
            }
            PortSpec::Sink(m) => std::boxed::Box::new(SinkPort {
                name: format!("sink:{}", crate::ports::format_mac(m)),
            }),
            PortSpec::Pcap { input, output } => std::boxed::Box::new(
                PcapPort::open(input.as_deref(), output.as_deref())?.named(&format!(
                    "pcap:{},{}",
                    input.as_deref().unwrap_or("-"),
                    output.as_deref().unwrap_or("-")
                )),
            ),
        })
    }

    /// The static MAC address the port owns, if any.
    pub fn static_mac(&self) -> Option<[u8; 6]> {
        match self {
            PortSpec::Sink(m) => Some(*m),
            _ => None,
        }
    }

    pub fn is_replay(&self) -> bool {
        matches!(self, PortSpec::Pcap { input: Some(_), .. })
    }
}

/// A port that takes everything and sends nothing: the switch's own counters are the count.
pub struct SinkPort {
    name: String,
}

impl Port for SinkPort {
    fn rx_batch(&mut self, _: usize) -> Result<usize, crate::ring::RingError> {
        Ok(0)
    }
    fn rx_frame(&self, _: usize) -> &[u8] {
        &[]
    }
    fn rx_release(&mut self, _: usize) {}
    fn tx(&mut self, _: &[u8]) -> Result<bool, crate::ring::RingError> {
        Ok(true)
    }
    fn tx_flush(&mut self) {}
    fn name(&self) -> &str {
        &self.name
    }
}

/// Tunables of the loop.
#[derive(Clone, Debug)]
pub struct Options {
    /// Empty passes before sleeping (a short spin catches back-to-back batches cheaply).
    pub spin_passes: u32,
    /// Housekeeping period, ns.
    pub housekeeping_ns: u64,
    /// MAC ageing runs this often, ns.
    pub age_every_ns: u64,
    /// Stop once every replayed pcap input is used up and the switch is idle.
    pub until_replayed: bool,
    /// Ports that replay pcap files (for `until_replayed`).
    pub replay_ports: Vec<usize>,
    /// Handle SIGINT, SIGTERM and SIGUSR1 (through a signalfd).
    pub signals: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            spin_passes: 64,
            housekeeping_ns: 100_000_000,
            age_every_ns: 1_000_000_000,
            until_replayed: false,
            replay_ports: Vec::new(),
            signals: true,
        }
    }
}

/// What the loop tells its owner.
pub enum Event<'a> {
    /// SIGUSR1: print statistics.
    Stats(&'a mut Switch),
}

/// Loop counters, for the curious and for the tests that check the daemon sleeps.
#[derive(Clone, Copy, Debug, Default)]
pub struct LoopStats {
    pub passes: u64,
    pub sleeps: u64,
    pub wakeups_by_fd: u64,
}

struct SignalFd(i32);

impl SignalFd {
    fn new() -> io::Result<SignalFd> {
        // SAFETY: sigset manipulation on a local; the mask is for this (single-threaded)
        // process; results checked.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            for s in [libc::SIGINT, libc::SIGTERM, libc::SIGUSR1] {
                libc::sigaddset(&mut set, s);
            }
            if libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) < 0 {
                return Err(crate::ports::os_err("sigprocmask"));
            }
            let fd = libc::signalfd(-1, &set, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC);
            if fd < 0 {
                return Err(crate::ports::os_err("signalfd"));
            }
            Ok(SignalFd(fd))
        }
    }

    /// The next pending signal, if any.
    fn next(&self) -> Option<i32> {
        // SAFETY: reads one siginfo into a live struct.
        unsafe {
            let mut si: libc::signalfd_siginfo = std::mem::zeroed();
            let n = libc::read(
                self.0,
                &mut si as *mut _ as *mut libc::c_void,
                std::mem::size_of::<libc::signalfd_siginfo>(),
            );
            (n == std::mem::size_of::<libc::signalfd_siginfo>() as isize)
                .then_some(si.ssi_signo as i32)
        }
    }
}

impl Drop for SignalFd {
    fn drop(&mut self) {
        // SAFETY: ours.
        unsafe { libc::close(self.0) };
    }
}

/// Runs the switch until SIGINT/SIGTERM (or, with `until_replayed`, the end of the replays).
/// `on_event` is called for SIGUSR1.
pub fn run(sw: &mut Switch, opts: &Options, on_event: impl FnMut(Event)) -> io::Result<LoopStats> {
    run_until(sw, opts, || false, on_event)
}

/// Something besides the ports that the loop serves: `clickos-switchd`'s guest control socket,
/// which attaches and detaches ports.
pub trait Hook {
    /// Descriptors whose readiness should wake the loop for this hook.
    fn fds(&self, out: &mut Vec<i32>);
    /// Called at every housekeeping tick and when one of its descriptors is ready.
    fn service(&mut self, sw: &mut Switch);
}

struct NoHook;

impl Hook for NoHook {
    fn fds(&self, _: &mut Vec<i32>) {}
    fn service(&mut self, _: &mut Switch) {}
}

/// [`run`], also stopping when `stop` returns true: it is asked at every housekeeping and after
/// every wake-up, so whoever sets the condition should also kick one of the ports.
pub fn run_until(
    sw: &mut Switch,
    opts: &Options,
    stop: impl FnMut() -> bool,
    on_event: impl FnMut(Event),
) -> io::Result<LoopStats> {
    run_with(sw, opts, &mut NoHook, stop, on_event)
}

/// [`run_until`] with a [`Hook`] served alongside the ports.
pub fn run_with(
    sw: &mut Switch,
    opts: &Options,
    hook: &mut dyn Hook,
    mut stop: impl FnMut() -> bool,
    mut on_event: impl FnMut(Event),
) -> io::Result<LoopStats> {
    let sig = if opts.signals {
        Some(SignalFd::new()?)
    } else {
        None
    };
    let mut st = LoopStats::default();
    let mut idle: u32 = 0;
    let mut fds: Vec<(usize, i32)> = Vec::new();
    let mut pfds: Vec<libc::pollfd> = Vec::new();
    let mut hook_fds: Vec<i32> = Vec::new();
    let start = now_ns();
    let mut next_house = start + opts.housekeeping_ns;
    let mut next_age = start + opts.age_every_ns;
    sw.service();
    hook.service(sw);
    loop {
        let now = now_ns();
        let moved = sw.forward(now);
        st.passes += 1;
        if now >= next_house {
            next_house = now + opts.housekeeping_ns;
            if let Some(s) = &sig {
                if handle_signals(s, sw, &mut on_event) {
                    break;
                }
            }
            if stop() {
                break;
            }
            sw.service();
            hook.service(sw);
            if now >= next_age {
                next_age = now + opts.age_every_ns;
                sw.age(now);
            }
        }
        if moved > 0 {
            idle = 0;
            continue;
        }
        if opts.until_replayed
            && !opts.replay_ports.is_empty()
            && opts
                .replay_ports
                .iter()
                .all(|&k| sw.with_port(k, |p| p.exhausted()).unwrap_or(true))
        {
            break;
        }
        idle += 1;
        if idle < opts.spin_passes {
            continue;
        }
        idle = 0;
        if sw.arm() {
            sw.disarm();
            continue;
        }
        // Sleep until a port or a signal wakes us, or housekeeping is due.
        sw.wake_fds(&mut fds);
        pfds.clear();
        if let Some(s) = &sig {
            pfds.push(libc::pollfd {
                fd: s.0,
                events: libc::POLLIN,
                revents: 0,
            });
        }
        hook_fds.clear();
        hook.fds(&mut hook_fds);
        pfds.extend(hook_fds.iter().map(|&fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        }));
        let first_port = pfds.len();
        pfds.extend(fds.iter().map(|&(_, fd)| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        }));
        let timeout_ms = (next_house.saturating_sub(now_ns()) / 1_000_000).max(1) as i32;
        st.sleeps += 1;
        // SAFETY: a live array of pollfds of the length given.
        let r = unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, timeout_ms) };
        sw.disarm();
        if stop() {
            break;
        }
        if r > 0 {
            st.wakeups_by_fd += 1;
            if let Some(s) = &sig {
                if pfds[0].revents != 0 && handle_signals(s, sw, &mut on_event) {
                    break;
                }
            }
            let hooks = first_port - hook_fds.len()..first_port;
            if pfds[hooks].iter().any(|p| p.revents != 0) {
                hook.service(sw);
            }
            let mut last = usize::MAX;
            for (p, &(k, _)) in pfds[first_port..].iter().zip(&fds) {
                if p.revents != 0 && k != last {
                    sw.service_port(k);
                    last = k;
                }
            }
        }
    }
    Ok(st)
}

/// Handles pending signals; returns true to stop.
fn handle_signals(s: &SignalFd, sw: &mut Switch, on_event: &mut impl FnMut(Event)) -> bool {
    while let Some(sig) = s.next() {
        match sig {
            libc::SIGUSR1 => on_event(Event::Stats(sw)),
            _ => return true,
        }
    }
    false
}

/// Per-port counters, one line per port.
pub fn stats_text(sw: &mut Switch) -> String {
    let mut s = format!(
        "{:<4} {:<28} {:>12} {:>14} {:>12} {:>14} {:>10} {:>9} {:>8} {:>7}  extra\n",
        "port",
        "name",
        "rx_packets",
        "rx_bytes",
        "tx_packets",
        "tx_bytes",
        "tx_drops",
        "rx_errors",
        "protocol",
        "state"
    );
    for (k, name) in sw.port_names() {
        let c = sw.counters(k).unwrap_or_default();
        let mut extra = Vec::new();
        sw.with_port(k, |p| p.port_stats(&mut extra));
        let extra: Vec<String> = extra.iter().map(|(n, v)| format!("{n}={v}")).collect();
        s += &format!(
            "{:<4} {:<28} {:>12} {:>14} {:>12} {:>14} {:>10} {:>9} {:>8} {:>7}  {}\n",
            k,
            name,
            c.rx_packets,
            c.rx_bytes,
            c.tx_packets,
            c.tx_bytes,
            c.tx_drops,
            c.rx_errors,
            c.protocol_errors,
            if sw.is_faulty(k) { "faulty" } else { "ok" },
            extra.join(" ")
        );
    }
    s += &format!("mac entries: {}\n", sw.mac_table_len());
    s
}

fn json_str(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o += "\\\"",
            '\\' => o += "\\\\",
            c if (c as u32) < 0x20 => o += &format!("\\u{:04x}", c as u32),
            c => o.push(c),
        }
    }
    o + "\""
}

/// The counters as JSON: `{"mac_entries": N, "ports": [{"index", "name", counters..., "faulty",
/// "extra": {...}}]}`.
pub fn stats_json(sw: &mut Switch) -> String {
    let mut ports = Vec::new();
    for (k, name) in sw.port_names() {
        let c = sw.counters(k).unwrap_or_default();
        let mut extra = Vec::new();
        sw.with_port(k, |p| p.port_stats(&mut extra));
        let extra: Vec<String> = extra.iter().map(|(n, v)| format!("\"{n}\": {v}")).collect();
        ports.push(format!(
            "    {{\"index\": {k}, \"name\": {}, \"rx_packets\": {}, \"rx_bytes\": {}, \"tx_packets\": {}, \"tx_bytes\": {}, \"tx_drops\": {}, \"rx_errors\": {}, \"protocol_errors\": {}, \"faulty\": {}, \"extra\": {{{}}}}}",
            json_str(&name),
            c.rx_packets,
            c.rx_bytes,
            c.tx_packets,
            c.tx_bytes,
            c.tx_drops,
            c.rx_errors,
            c.protocol_errors,
            sw.is_faulty(k),
            extra.join(", ")
        ));
    }
    format!(
        "{{\n  \"mac_entries\": {},\n  \"ports\": [\n{}\n  ]\n}}\n",
        sw.mac_table_len(),
        ports.join(",\n")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse() {
        assert_eq!(
            PortSpec::parse("if:veth0"),
            Ok(PortSpec::Interface("veth0".into()))
        );
        assert_eq!(
            PortSpec::parse("tap:tap0"),
            Ok(PortSpec::Tap("tap0".into()))
        );
        assert_eq!(
            PortSpec::parse("pcap:in.pcap,out.pcap"),
            Ok(PortSpec::Pcap {
                input: Some("in.pcap".into()),
                output: Some("out.pcap".into())
            })
        );
        assert_eq!(
            PortSpec::parse("pcap:-,out.pcap"),
            Ok(PortSpec::Pcap {
                input: None,
                output: Some("out.pcap".into())
            })
        );
        assert_eq!(
            PortSpec::parse("shm:/dev/shm/g1"),
            Ok(PortSpec::Shm("/dev/shm/g1".into()))
        );
        assert!(PortSpec::parse("pcap:-").is_err());
        assert!(PortSpec::parse("veth0").is_err());
        assert!(PortSpec::parse("xdp:eth0").is_err());
        assert!(PortSpec::parse("if:").is_err());
        assert_eq!(
            PortSpec::parse("sink:02:00:00:00:00:01"),
            Ok(PortSpec::Sink([2, 0, 0, 0, 0, 1]))
        );
        assert!(PortSpec::parse("sink:").is_err());
        // The kernel's port names: `eth0` for a NIC, `vale0:p1` for a VALE port.
        assert_eq!(
            PortSpec::parse("netmap:eth0"),
            Ok(PortSpec::Netmap("eth0".into()))
        );
        assert_eq!(
            PortSpec::parse("netmap:vale0:p1"),
            Ok(PortSpec::Netmap("vale0:p1".into()))
        );
        assert!(PortSpec::parse("netmap:").is_err());
    }

    #[test]
    fn json_escapes() {
        assert_eq!(json_str("a\"b\\c\n"), "\"a\\\"b\\\\c\\u000a\"");
    }
}
