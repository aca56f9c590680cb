//! Process-level test rig: a `clickos-switchd` with shared-memory ports under /dev/shm, and
//! `vale-peer` processes attached to them.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The tests start several processes each; on a two-core machine they run one at a time.
pub static SERIAL: Mutex<()> = Mutex::new(());

pub const SWITCHD: &str = env!("CARGO_BIN_EXE_clickos-switchd");
pub const PEER: &str = env!("CARGO_BIN_EXE_vale-peer");

pub fn mac(n: u8) -> String {
    format!("02:00:00:00:00:{n:02x}")
}

pub struct Rig {
    pub prefix: String,
    pub switch: Option<Child>,
    pub json: PathBuf,
    pub names: Vec<String>,
}

/// A running peer, killed if the test ends (or fails) before [`finish`] collects it.
pub struct Peer(Option<Child>);

impl Drop for Peer {
    fn drop(&mut self) {
        if let Some(c) = self.0.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Rig {
    /// Starts a switch with one shared-memory port per name; waits for their control sockets.
    pub fn start(test: &str, names: &[&str], extra: &[&str]) -> Rig {
        let prefix = format!("/dev/shm/vale-t{}-{test}", std::process::id());
        let json = PathBuf::from(format!("{prefix}-stats.json"));
        let mut cmd = Command::new(SWITCHD);
        for n in names {
            cmd.arg("--port").arg(format!("shm:{prefix}-{n}"));
        }
        cmd.arg("--stats-json").arg(&json).args(extra);
        cmd.stdout(Stdio::null());
        let switch = cmd.spawn().expect("start clickos-switchd");
        let rig = Rig {
            prefix,
            switch: Some(switch),
            json,
            names: names.iter().map(|s| s.to_string()).collect(),
        };
        let t = Instant::now();
        for n in names {
            let sock = format!("{}.sock", rig.path(n));
            while !Path::new(&sock).exists() {
                assert!(
                    t.elapsed() < Duration::from_secs(20),
                    "switch did not come up"
                );
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        rig
    }

    pub fn path(&self, name: &str) -> String {
        format!("{}-{name}", self.prefix)
    }

    /// Starts a peer on port `name` (stdout captured).
    pub fn peer(&mut self, name: &str, args: &[&str]) -> Peer {
        Peer(Some(
            Command::new(PEER)
                .arg("--connect")
                .arg(self.path(name))
                .args(args)
                .stdout(Stdio::piped())
                .spawn()
                .expect("start vale-peer"),
        ))
    }

    /// Waits until the switch has serviced a peer's connection on port `name` (a connect resets
    /// the port's rings, so traffic for it must not be sent before). Polls the counters through
    /// SIGUSR1, which makes the switch rewrite its stats file.
    pub fn wait_connected(&mut self, name: &str) {
        let t = Instant::now();
        loop {
            signal(self.switch.as_ref().expect("running"), libc::SIGUSR1);
            std::thread::sleep(Duration::from_millis(20));
            let connected = std::fs::read_to_string(&self.json)
                .ok()
                .map(|text| Stats::parse(&text, &self.prefix))
                .and_then(|st| {
                    st.ports
                        .get(name)
                        .and_then(|p| p.get("connects"))
                        .and_then(|v| v.parse::<u64>().ok())
                })
                .is_some_and(|c| c >= 1);
            if connected {
                return;
            }
            assert!(
                t.elapsed() < Duration::from_secs(20),
                "peer on {name} never connected"
            );
        }
    }

    /// Stops the switch (SIGTERM), checks it exited cleanly, and returns its counters by port.
    pub fn stop(&mut self) -> Stats {
        let mut sw = self.switch.take().expect("running");
        signal(&sw, libc::SIGTERM);
        let st = wait_timeout(&mut sw, Duration::from_secs(20)).expect("switch stops on SIGTERM");
        assert!(st.success(), "clickos-switchd exited with {st:?}");
        let text = std::fs::read_to_string(&self.json).expect("stats json");
        Stats::parse(&text, &self.prefix)
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        if let Some(c) = self.switch.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_file(&self.json);
        for n in &self.names {
            let p = self.path(n);
            let _ = std::fs::remove_file(&p);
            let _ = std::fs::remove_file(format!("{p}.sock"));
        }
    }
}

pub fn signal(c: &Child, sig: i32) {
    // SAFETY: signals a child we started.
    unsafe { libc::kill(c.id() as i32, sig) };
}

pub fn wait_timeout(c: &mut Child, d: Duration) -> Option<std::process::ExitStatus> {
    let t = Instant::now();
    while t.elapsed() < d {
        if let Some(s) = c.try_wait().expect("wait") {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

/// Waits for a peer and parses its `key=value` summary line.
pub fn finish(mut p: Peer, stop_first: bool) -> HashMap<String, String> {
    let mut c = p.0.take().expect("running");
    if stop_first {
        signal(&c, libc::SIGTERM);
    }
    let st = wait_timeout(&mut c, Duration::from_secs(60)).expect("peer finishes");
    let mut out = String::new();
    std::io::Read::read_to_string(c.stdout.as_mut().expect("piped"), &mut out).expect("read");
    assert!(st.success(), "vale-peer exited with {st:?}: {out}");
    out.split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub fn num(m: &HashMap<String, String>, k: &str) -> u64 {
    m.get(k)
        .unwrap_or_else(|| panic!("no {k} in {m:?}"))
        .parse()
        .expect("number")
}

/// The switch's per-port counters, from `--stats-json`.
#[derive(Debug)]
pub struct Stats {
    pub mac_entries: u64,
    pub ports: HashMap<String, HashMap<String, String>>,
}

impl Stats {
    fn parse(text: &str, prefix: &str) -> Stats {
        let mut ports = HashMap::new();
        let mut mac_entries = 0;
        for line in text.lines() {
            let line = line.trim();
            if let Some(v) = line.strip_prefix("\"mac_entries\": ") {
                mac_entries = v.trim_end_matches(',').parse().expect("mac entries");
            }
            if !line.starts_with("{\"index\"") {
                continue;
            }
            let flat = line.replace(['{', '}', '"'], "").replace("extra: ", "");
            let mut m = HashMap::new();
            for kv in flat.split(", ") {
                if let Some((k, v)) = kv.split_once(": ") {
                    m.insert(
                        k.trim().to_string(),
                        v.trim().trim_end_matches(',').to_string(),
                    );
                }
            }
            let name = m["name"]
                .trim_start_matches(&format!("shm:{prefix}-"))
                .to_string();
            ports.insert(name, m);
        }
        Stats { mac_entries, ports }
    }

    pub fn get(&self, port: &str, k: &str) -> u64 {
        let p = self
            .ports
            .get(port)
            .unwrap_or_else(|| panic!("no port {port}"));
        match p.get(k).map(String::as_str) {
            Some("true") => 1,
            Some("false") => 0,
            Some(v) => v.parse().expect("number"),
            None => panic!("no {k} for {port}: {p:?}"),
        }
    }
}
