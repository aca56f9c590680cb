//! Data-plane throughput on one core: packets per second for the configurations of the ClickOS
//! evaluation, run by ClickOS-rs in this process and — when a `click` binary is on PATH — by Click's
//! userlevel driver in the same run, with the ratio between them. Also counts heap allocations per
//! packet during the run (the steady state should make none).
//!
//! `dataplane [PACKETS]` (default 5 000 000 per configuration).

use std::alloc::{GlobalAlloc, Layout, System};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use clickos_bench::Table;
use elements::platform::TestPlatform;

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        System.realloc(p, l, n)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// A 60-byte Ethernet/IPv4/UDP packet 10.0.0.1:1234 -> 10.0.0.2:53 with a valid IP checksum.
fn udp_packet() -> Vec<u8> {
    let mut p = vec![0u8; 60];
    p[0..6].copy_from_slice(&[2, 2, 2, 2, 2, 2]);
    p[6..12].copy_from_slice(&[1, 1, 1, 1, 1, 1]);
    p[12..14].copy_from_slice(&[0x08, 0x00]);
    let ip = &mut p[14..34];
    ip[0] = 0x45;
    ip[2..4].copy_from_slice(&46u16.to_be_bytes());
    ip[8] = 64;
    ip[9] = 17;
    ip[12..16].copy_from_slice(&[10, 0, 0, 1]);
    ip[16..20].copy_from_slice(&[10, 0, 0, 2]);
    let mut sum = 0u32;
    for k in (0..20).step_by(2) {
        sum += u16::from_be_bytes([ip[k], ip[k + 1]]) as u32;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    ip[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
    let udp = &mut p[34..42];
    udp[0..2].copy_from_slice(&1234u16.to_be_bytes());
    udp[2..4].copy_from_slice(&53u16.to_be_bytes());
    udp[4..6].copy_from_slice(&26u16.to_be_bytes());
    p
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn configs(n: u64) -> Vec<(&'static str, String)> {
    let data = format!("\\<{}>", hex(&udp_packet()));
    let src = |d: &str| format!("InfiniteSource(DATA {d}, LIMIT {n}, BURST 32, STOP true)");
    vec![
        ("(a) InfiniteSource -> Discard", format!("InfiniteSource(LENGTH 60, LIMIT {n}, BURST 32, STOP true) -> Discard;")),
        (
            "(b) ... -> EtherEncap -> Discard",
            format!("InfiniteSource(LENGTH 60, LIMIT {n}, BURST 32, STOP true) -> EtherEncap(0x0800, 1:1:1:1:1:1, 2:2:2:2:2:2) -> Discard;"),
        ),
        (
            "(c) firewall: CheckIPHeader + IPFilter(5 rules)",
            format!(
                "{} -> Strip(14) -> CheckIPHeader -> IPFilter(deny src host 10.9.9.9, deny tcp, allow udp dst port 80, deny dst net 192.168.0.0/16, allow udp) -> Unstrip(14) -> Counter -> Discard;",
                src(&data)
            ),
        ),
        (
            "(d) Classifier, 8 patterns, last matches",
            format!(
                "{} -> c :: Classifier(12/0806, 12/86dd, 12/8100, 12/0800 23/06, 12/0800 23/01, 12/0800 30/0a000009, 12/0800 23/11 36/0050, 12/0800 23/11 36/0035); c[0] -> Discard; c[1] -> Discard; c[2] -> Discard; c[3] -> Discard; c[4] -> Discard; c[5] -> Discard; c[6] -> Discard; c[7] -> Discard;",
                src(&data)
            ),
        ),
    ]
}

/// Packets per second through ClickOS-rs (best of `reps`), and allocations per packet.
fn ours(cfg: &str, n: u64, reps: usize) -> Result<(f64, f64), String> {
    let loaded = config_lang::load("bench.click", cfg, &[]);
    if loaded.has_errors() {
        return Err(loaded.render_diagnostics());
    }
    let g = loaded.graph.unwrap();
    let mut best = f64::MAX;
    let mut allocs_per_packet = 0.0;
    for _ in 0..reps {
        let mut r = elements::router::build(
            &g,
            &elements::library::registry(),
            Some(Box::new(TestPlatform::default())),
            cfg,
        )
        .map_err(|e| {
            e.diagnostics
                .iter()
                .map(|d| d.one_line(&loaded.sources))
                .collect::<Vec<_>>()
                .join("\n")
        })?;
        let a0 = ALLOCS.load(Ordering::Relaxed);
        let t = Instant::now();
        r.run_until_idle(4);
        let dt = t.elapsed().as_secs_f64();
        let a1 = ALLOCS.load(Ordering::Relaxed);
        best = best.min(dt);
        allocs_per_packet = (a1 - a0) as f64 / n as f64;
    }
    Ok((n as f64 / best, allocs_per_packet))
}

/// Packets per second through Click's userlevel driver, if `click` is on PATH: the run's time
/// minus that of the same configuration with 1 packet (process start and configuration).
fn click(cfg_n: &str, cfg_1: &str, n: u64) -> Option<f64> {
    let time = |cfg: &str| -> Option<f64> {
        let t = Instant::now();
        let out = Command::new("click").arg("-e").arg(cfg).output().ok()?;
        out.status.success().then(|| t.elapsed().as_secs_f64())
    };
    let mut best = f64::MAX;
    for _ in 0..3 {
        best = best.min(time(cfg_n)?);
    }
    let base = time(cfg_1)?;
    Some(n as f64 / (best - base).max(1e-9))
}

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .map_or(5_000_000, |s| s.parse().expect("packet count"));
    let have_click = Command::new("click")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let mut table = Table::new(&[
        "configuration",
        "ClickOS-rs Mp/s",
        "allocs/packet",
        "Click Mp/s",
        "ratio",
    ]);
    for ((name, cfg), (_, cfg1)) in configs(n).into_iter().zip(configs(1)) {
        let (cell, allocs) = match ours(&cfg, n, 3) {
            Ok((pps, a)) => (format!("{:.2}", pps / 1e6), format!("{a:.4}")),
            Err(e) => {
                eprintln!("{name}: not run: {}", e.lines().next().unwrap_or(""));
                ("-".into(), "-".into())
            }
        };
        let theirs = if have_click {
            click(&cfg, &cfg1, n)
        } else {
            None
        };
        let ratio = match (cell.parse::<f64>(), theirs) {
            (Ok(a), Some(b)) => format!("{:.2}x", a / (b / 1e6)),
            _ => "-".into(),
        };
        table.row(vec![
            name.to_string(),
            cell,
            allocs,
            theirs.map_or("not on PATH".into(), |t| format!("{:.2}", t / 1e6)),
            ratio,
        ]);
    }
    println!("Data plane, one core, {n} packets per configuration (best of 3)\n");
    print!("{}", table.markdown());
    if let Err(e) = table.save("dataplane") {
        eprintln!("could not save results: {e}");
    }
}
