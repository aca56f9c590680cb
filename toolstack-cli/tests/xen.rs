//! The Xen commands of the `clickos-cli` binary on the host, against an in-process fake xenstored
//! (`XENSTORED_PATH` points the binary at its socket): exit codes and messages of the paths that
//! need no real Xen. The real thing is tested on Xen by images/scenarios/40-cli.sh.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use xenstore::fake::FakeXenstored;

const CLI: &str = env!("CARGO_BIN_EXE_clickos-cli");

struct Env {
    fake: FakeXenstored,
    dir: PathBuf,
}

impl Env {
    fn new(tag: &str) -> Env {
        let dir =
            std::env::temp_dir().join(format!("clickos-cli-xen-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fake = FakeXenstored::new();
        fake.listen(&dir.join("socket"));
        Env { fake, dir }
    }
    fn domain(&self, id: u32, name: &str, clickos: bool) {
        self.fake
            .put(&format!("/local/domain/{id}/name"), name.as_bytes());
        if clickos {
            self.fake
                .put(&format!("/local/domain/{id}/data/clickos/boot"), b"ok");
        }
    }
    fn run(&self, args: &[&str]) -> Output {
        Command::new(CLI)
            .args(args)
            .env("XENSTORED_PATH", self.dir.join("socket"))
            .env("CLICKOS_XL", "/nonexistent/xl")
            .env("CLICKOS_RUN_DIR", &self.dir)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn list_shows_domains_routers_and_json() {
    let e = Env::new("list");
    e.domain(3, "fw", true);
    e.domain(4, "linux", false);
    let r = "/local/domain/3/data/clickos/0";
    e.fake.put(&format!("{r}/status"), b"Running");
    e.fake.put(&format!("{r}/config_len"), b"10");
    e.fake.put(&format!("{r}/config_name"), b"fw.click");
    e.fake.put(&format!("{r}/error"), b"");
    let out = e.run(&["list"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(
        s.lines().any(|l| l.starts_with("fw ")
            && l.contains(" 3 ")
            && l.contains("Running")
            && l.ends_with("fw.click")),
        "{s}"
    );
    assert!(
        s.lines()
            .any(|l| l.starts_with("linux ") && l.contains("no/boot")),
        "{s}"
    );
    let out = e.run(&["list", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["domains"][0]["name"], "fw");
    assert_eq!(v["domains"][0]["routers"][0]["status"], "Running");
    assert_eq!(v["domains"][0]["routers"][0]["config_bytes"], 10);
    assert_eq!(v["domains"][1]["clickos"], false);
}

#[test]
fn the_domain_may_be_left_out_only_when_one_clickos_domain_runs() {
    let e = Env::new("resolve");
    let out = e.run(&["handler", "read", "counter.count"]);
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("no ClickOS domain is running"));
    e.domain(1, "a", true);
    e.domain(2, "b", true);
    let out = e.run(&["handler", "read", "counter.count"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("a (id 1)") && err.contains("b (id 2)"),
        "{err}"
    );
    let out = e.run(&["handler", "read", "nosuch", "counter.count"]);
    assert_eq!(out.status.code(), Some(5));
    assert!(text(&out.stderr).contains("no domain 'nosuch'"));
    // Router 0 is not running in domain a: said at once, no wait.
    let out = e.run(&["handler", "read", "a", "counter.count"]);
    assert_eq!(out.status.code(), Some(5));
    assert!(text(&out.stderr).contains("router 0 is not running"));
}

#[test]
fn a_booting_domain_is_waited_for_with_a_bounded_named_wait() {
    let e = Env::new("boot");
    e.domain(7, "slow", false);
    let out = e.run(&["--timeout", "0.3", "handler", "read", "slow", "c.count"]);
    assert_eq!(out.status.code(), Some(7), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("timed out") && err.contains("data/clickos/boot"),
        "{err}"
    );
}

#[test]
fn create_checks_everything_before_touching_xen() {
    let e = Env::new("create");
    let bad = e.dir.join("bad.click");
    std::fs::write(&bad, "a :: Idle;\na -> NoSuchClass;\n").unwrap();
    let out = e.run(&["create", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("bad.click:2:6"),
        "{}",
        text(&out.stderr)
    );
    let good = e.dir.join("good.click");
    std::fs::write(&good, "InfiniteSource(LIMIT 1) -> Discard;\n").unwrap();
    let out = e.run(&[
        "create",
        good.to_str().unwrap(),
        "--image",
        "/nonexistent.elf",
    ]);
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("guest image /nonexistent.elf not found"));
    // An image that exists, but no xl: exit 4 with what to install.
    let img = e.dir.join("img.elf");
    std::fs::write(&img, b"x").unwrap();
    let out = e.run(&[
        "create",
        good.to_str().unwrap(),
        "--image",
        img.to_str().unwrap(),
        "--name",
        "g1",
    ]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("xl"));
    // Nothing was written to Xenstore.
    assert_eq!(e.fake.node_count(), 1);
}

#[test]
fn no_xenstored_is_exit_4() {
    let out = Command::new(CLI)
        .args(["list"])
        .env("XENSTORED_PATH", "/nonexistent/socket")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert!(text(&out.stderr).contains("dom0"), "{}", text(&out.stderr));
}

#[test]
fn completions_are_generated() {
    let out = Command::new(CLI)
        .args(["completions", "bash"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let s = text(&out.stdout);
    assert!(
        s.contains("handler") && s.contains("create"),
        "{}",
        &s[..200.min(s.len())]
    );
}
