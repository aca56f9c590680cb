//! `clickos-cli run` end to end: handler values at exit, pcap in and out, errors.

use std::path::PathBuf;
use std::process::{Command, Output};

const CLI: &str = env!("CARGO_BIN_EXE_clickos-cli");

fn run(args: &[&str]) -> Output {
    Command::new(CLI)
        .args(args)
        .output()
        .expect("run clickos-cli")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("clickos-run-test-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

#[test]
fn counts_through_sources_tees_compounds_and_queues() {
    let cfg = "elementclass Stage { $n | input -> q :: Queue($n) -> Unqueue(BURST 8) -> output }\n\
               s :: InfiniteSource(LENGTH 60, LIMIT 1000, BURST 32) -> t :: Tee;\n\
               t[0] -> st :: Stage(2000) -> c :: Counter -> Discard;\n\
               t[1] -> c2 :: Counter -> Discard;";
    let out = run(&[
        "run",
        "-e",
        cfg,
        "-h",
        "c.count",
        "-h",
        "c2.count",
        "-h",
        "st/q.drops",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "c.count:\n1000\nc2.count:\n1000\nst/q.drops:\n0\n"
    );
}

#[test]
fn defines_are_overridden_on_the_command_line() {
    let cfg = "define($N 5); InfiniteSource(LIMIT $N, STOP true) -> c :: Counter -> Discard;";
    let out = run(&["run", "-e", cfg, "N=42", "-h", "c.count"]);
    assert_eq!(text(&out.stdout), "c.count:\n42\n", "{}", text(&out.stderr));
}

#[test]
fn pcap_in_and_out_through_netfront_devices() {
    let made = tmp("made.pcap");
    let forwarded = tmp("forwarded.pcap");
    let out = run(&[
        "run",
        "-e",
        &format!(
            "InfiniteSource(LENGTH 64, LIMIT 37, BURST 5, STOP true) -> ToDump({})",
            made.display()
        ),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(&[
        "run",
        "-e",
        "FromNetfront(0) -> c :: Counter -> ToNetfront(1)",
        "--netfront",
        &format!("0=pcap:{}", made.display()),
        "--netfront",
        &format!("1=pcap:-,{}", forwarded.display()),
        "-h",
        "c.count",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "c.count:\n37\n");
    // tcpdump (installed by `make deps`) reads what we wrote.
    let td = Command::new("tcpdump")
        .args(["-n", "-r"])
        .arg(&forwarded)
        .output()
        .expect("tcpdump is needed: run `make deps`");
    assert!(td.status.success(), "{}", text(&td.stderr));
    assert_eq!(
        text(&td.stdout)
            .lines()
            .filter(|l| l.contains("length 50") || l.contains("length 64"))
            .count(),
        37,
        "{}",
        text(&td.stdout)
    );
}

#[test]
fn unknown_handlers_list_the_alternatives() {
    let out = run(&[
        "run",
        "-e",
        "InfiniteSource(LIMIT 1, STOP true) -> c :: Counter -> Discard",
        "-h",
        "c.cuont",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("its handlers: count, byte_count"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn unmapped_devices_say_how_to_map_them() {
    let out = run(&["run", "-e", "FromNetfront(3) -> Discard"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("--netfront 3=pcap:"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn sigint_stops_a_run_cleanly() {
    let dump = tmp("sigint.pcap");
    let child = Command::new(CLI)
        .args([
            "run",
            "-e",
            &format!(
                "RatedSource(LENGTH 60, RATE 2000) -> c :: Counter -> ToDump({})",
                dump.display()
            ),
            "-h",
            "c.count",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    // SAFETY: sending a signal to our own child.
    unsafe { libc_kill(child.id() as i32, 2) };
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let n: u64 = text(&out.stdout).lines().nth(1).unwrap().parse().unwrap();
    assert!(n > 0);
    // The dump was flushed: it holds every counted packet.
    let len = std::fs::metadata(&dump).unwrap().len();
    assert_eq!(len, 24 + n * (16 + 60));
}

extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}
