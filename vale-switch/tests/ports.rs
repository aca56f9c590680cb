//! `clickos-switchd` end to end with host ports: pcap replay → switch → pcap capture, and (as
//! root, in a network namespace of the test's own) AF_PACKET over a veth pair and a TAP device.

mod common;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use pcap_file::pcap::{PcapPacket, PcapReader, PcapWriter};

fn tmp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("vale-ports-{}-{name}", std::process::id()))
}

fn frames(n: u32, size: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|k| {
            let mut f = vec![0u8; size];
            // Unicast to an unknown address, then a broadcast every 10th frame.
            if k % 10 == 9 {
                f[0..6].fill(0xff);
            } else {
                f[0..6].copy_from_slice(&[2, 0, 0, 0, 0, 0x0b]);
            }
            f[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 0x0a]);
            f[12..14].copy_from_slice(&[0x88, 0xb5]);
            f[14..18].copy_from_slice(&k.to_le_bytes());
            f[18..].fill(k as u8);
            f
        })
        .collect()
}

fn write_pcap(path: &Path, frames: &[Vec<u8>]) {
    let mut w = PcapWriter::new(File::create(path).unwrap()).unwrap();
    for (k, f) in frames.iter().enumerate() {
        w.write_packet(&PcapPacket::new(
            Duration::from_micros(k as u64),
            f.len() as u32,
            f,
        ))
        .unwrap();
    }
}

/// The frames of a capture with our test EtherType (the kernel may add its own chatter).
fn read_pcap(path: &Path) -> Vec<Vec<u8>> {
    let mut r = PcapReader::new(File::open(path).unwrap()).unwrap();
    let mut v = Vec::new();
    while let Some(p) = r.next_packet() {
        let p = p.unwrap();
        if p.data.len() >= 14 && p.data[12..14] == [0x88, 0xb5] {
            v.push(p.data.into_owned());
        }
    }
    v
}

#[test]
fn pcap_replay_is_flooded_to_every_capture() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let input = tmp("in.pcap");
    let (o1, o2) = (tmp("o1.pcap"), tmp("o2.pcap"));
    let sent = frames(5000, 60);
    write_pcap(&input, &sent);
    let json = tmp("stats.json");
    let st = Command::new(SWITCHD)
        .args(["--port", &format!("pcap:{},-", input.display())])
        .args(["--port", &format!("pcap:-,{}", o1.display())])
        .args(["--port", &format!("pcap:-,{}", o2.display())])
        .args(["--until-replayed", "-q", "--stats-json"])
        .arg(&json)
        .status()
        .unwrap();
    assert!(st.success());
    // Nobody answers, so every frame is flooded (and a frame is never sent back to its port).
    assert_eq!(read_pcap(&o1), sent);
    assert_eq!(read_pcap(&o2), sent);
    let stats = std::fs::read_to_string(&json).unwrap();
    assert!(stats.contains("\"replayed\": 5000"), "{stats}");
    assert!(stats.contains("\"captured\": 5000"), "{stats}");
    for p in [input, o1, o2, json] {
        let _ = std::fs::remove_file(p);
    }
}

#[test]
fn bad_port_specs_and_missing_files_are_reported() {
    let out = Command::new(SWITCHD)
        .args(["--port", "bogus"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(SWITCHD)
        .args(["--port", "pcap:/nonexistent/x.pcap"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/x.pcap"));
}

/// A network namespace of our own, deleted on drop.
struct Netns(String);

impl Netns {
    fn new() -> Option<Netns> {
        let name = format!("valet{}", std::process::id());
        let ok = Command::new("ip")
            .args(["netns", "add", &name])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(Netns(name))
    }

    fn ip(&self, args: &str) {
        let st = Command::new("ip")
            .args(["-n", &self.0])
            .args(args.split_whitespace())
            .status()
            .unwrap();
        assert!(st.success(), "ip -n {} {args}", self.0);
    }

    fn exec(&self, prog: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.0, prog]);
        c
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

/// Replays frames into switch A, which sends them out of `a_port`; switch B takes them in on
/// `b_port` and captures them. Returns what B captured.
fn through(ns: &Netns, a_port: &str, b_port: &str, sent: &[Vec<u8>], tag: &str) -> Vec<Vec<u8>> {
    let input = tmp(&format!("{tag}-in.pcap"));
    let out = tmp(&format!("{tag}-out.pcap"));
    write_pcap(&input, sent);
    let mut b = ns
        .exec(SWITCHD)
        .args(["--port", b_port])
        .args(["--port", &format!("pcap:-,{}", out.display())])
        .arg("-q")
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let st = ns
        .exec(SWITCHD)
        .args(["--port", &format!("pcap:{},-", input.display())])
        .args(["--port", a_port])
        .args(["--until-replayed", "-q"])
        .status()
        .unwrap();
    assert!(st.success());
    std::thread::sleep(Duration::from_millis(500));
    signal(&b, libc::SIGTERM);
    let st = wait_timeout(&mut b, Duration::from_secs(10)).expect("B stops");
    assert!(st.success());
    let got = read_pcap(&out);
    let _ = std::fs::remove_file(input);
    let _ = std::fs::remove_file(out);
    got
}

#[test]
fn af_packet_and_tap_ports_carry_frames_through_the_kernel() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some(ns) = Netns::new() else {
        eprintln!("skipped: cannot create a network namespace (needs root)");
        return;
    };
    ns.ip("link add va0 type veth peer name va1");
    ns.ip("link set va0 up");
    ns.ip("link set va1 up");
    let _ = ns
        .exec("sysctl")
        .args(["-qw", "net.ipv6.conf.all.disable_ipv6=1"])
        .status();
    // Paced by the pcap reader only: keep it within the veth and socket queues.
    let sent = frames(500, 200);
    let got = through(&ns, "if:va0", "if:va1", &sent, "veth");
    assert_eq!(got, sent, "AF_PACKET: veth va0 -> va1");

    ns.ip("tuntap add vt0 mode tap");
    let got = through(&ns, "tap:vt0", "if:vt0", &sent, "tap");
    assert_eq!(
        got, sent,
        "TAP: written to the device, received on its interface"
    );
}

/// CPU time (user + system) of a process, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name (which is in parentheses): state is field 3, utime 14, stime 15.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

#[test]
fn an_idle_switch_sleeps_and_sigusr1_writes_the_counters() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut rig = Rig::start("idle", &["a", "b"], &["-q"]);
    let pid = rig.switch.as_ref().unwrap().id();
    let json = rig.json.clone();
    std::thread::sleep(Duration::from_millis(300));
    let t0 = cpu_ticks(pid);
    std::thread::sleep(Duration::from_millis(1500));
    let used = cpu_ticks(pid) - t0;
    // SAFETY: sysconf is a plain query.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
    assert!(
        used * 1000 / hz < 300,
        "an idle switch must sleep, not spin: {used} ticks in 1.5 s"
    );
    assert!(!json.exists());
    signal(rig.switch.as_ref().unwrap(), libc::SIGUSR1);
    let t = std::time::Instant::now();
    while !json.exists() && t.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(10));
    }
    let text = std::fs::read_to_string(&json).expect("SIGUSR1 writes --stats-json");
    assert!(text.contains("\"mac_entries\": 0"), "{text}");
    let stats = rig.stop();
    assert_eq!(stats.get("a", "rx_packets"), 0);
    assert_eq!(stats.get("b", "faulty"), 0);
}
