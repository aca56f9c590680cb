//! The commands that drive ClickOS domains: create, destroy, list, install, start, stop,
//! remove, console, handler. They run as root in dom0 and talk to xenstored and `xl`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use serde_json::{json, Value};
use xenstore::clickos::Access;
use xenstore::dom0::{Xs, TX_NONE};

use crate::cmd::config::load_for_guest;
use crate::xen::domains::{self, Domain};
use crate::xen::router::{self, RouterError, RouterRef};
use crate::xen::{connect, exit, fail, xl, xs_failure};
use crate::Failure;

/// Options every Xen command takes.
#[derive(Args, Clone, Copy)]
pub struct Common {
    /// Print the result as JSON on standard output.
    #[arg(long, global = true)]
    pub json: bool,
    /// Bound on each wait for the guest or Xen, in seconds.
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = 60.0)]
    pub timeout: f64,
}

impl Common {
    fn timeout(&self) -> Duration {
        Duration::from_secs_f64(self.timeout.clamp(0.1, 86400.0))
    }
}

#[derive(Args)]
pub struct CreateArgs {
    /// The Click configuration to run (checked first: nothing is created if it is invalid).
    pub config: String,
    /// Domain name [default: clickos-<config file stem>].
    #[arg(long)]
    pub name: Option<String>,
    /// Memory in MiB.
    #[arg(long, default_value_t = 8)]
    pub memory: u32,
    /// A network interface on this bridge (or a full xl vif spec: bridge=br0,mac=...);
    /// repeatable, in netfront order (device 0 first).
    #[arg(long = "vif", value_name = "BRIDGE")]
    pub vifs: Vec<String>,
    /// The ClickOS guest image.
    #[arg(
        long,
        env = "CLICKOS_IMAGE",
        default_value = "/opt/clickos/clickos.elf"
    )]
    pub image: PathBuf,
    /// Install the configuration but do not start the router.
    #[arg(long)]
    pub no_start: bool,
    /// Router id to install the configuration as.
    #[arg(long, default_value_t = 0)]
    pub router: u32,
    /// Override a define()d parameter (repeatable).
    #[arg(short = 'D', long = "define", value_name = "NAME=VALUE")]
    pub defines: Vec<String>,
    /// Run `xl -vvv create` and save its log, each line time-stamped (seconds since the start
    /// of xl create), to this file (for the per-phase benchmark).
    #[arg(long, value_name = "FILE")]
    pub xl_log: Option<PathBuf>,
    /// Leave the domain running if the router fails to start (for debugging).
    #[arg(long)]
    pub keep_on_error: bool,
}

#[derive(Args)]
pub struct DomainArg {
    /// Domain name or id [default: the only ClickOS domain].
    pub domain: Option<String>,
}

#[derive(Args)]
pub struct DestroyArgs {
    /// Domain names or ids [default: the only ClickOS domain].
    pub domains: Vec<String>,
}

#[derive(Args)]
pub struct ConsoleArgs {
    /// Domain name or id [default: the only ClickOS domain].
    pub domain: Option<String>,
    /// Print the last N lines of the console log instead of attaching (no terminal needed).
    #[arg(long, value_name = "N")]
    pub tail: Option<usize>,
}

#[derive(Args)]
pub struct InstallArgs {
    /// [DOMAIN] CONFIG: the domain may be left out when exactly one ClickOS domain runs.
    #[arg(value_name = "DOMAIN] [CONFIG", num_args = 1..=2, required = true)]
    pub args: Vec<String>,
    /// Router id (0..63).
    #[arg(long, default_value_t = 0)]
    pub router: u32,
    /// Install the configuration but do not start the router.
    #[arg(long)]
    pub no_start: bool,
    /// Override a define()d parameter (repeatable).
    #[arg(short = 'D', long = "define", value_name = "NAME=VALUE")]
    pub defines: Vec<String>,
}

#[derive(Args)]
pub struct RouterArgs {
    /// [DOMAIN] [ROUTER]: domain name or id (default: the only ClickOS domain), router id
    /// (default: --router, else 0).
    #[arg(value_name = "DOMAIN] [ROUTER", num_args = 0..=2)]
    pub args: Vec<String>,
    /// Router id (0..63).
    #[arg(long)]
    pub router: Option<u32>,
}

#[derive(Subcommand)]
pub enum HandlerCommand {
    /// Read a handler: [DOMAIN] ELEM.HANDLER (a name without a dot is a router handler:
    /// list, config, flatconfig, version, classes).
    #[command(
        after_help = "Examples:\n  clickos-cli handler read counter.count\n  clickos-cli handler read fw counter.count --json\n  clickos-cli handler read fw list --router 1"
    )]
    Read(HandlerArgs),
    /// Write a handler: [DOMAIN] ELEM.HANDLER [VALUE] (VALUE may be empty: '').
    #[command(
        after_help = "Examples:\n  clickos-cli handler write counter.reset ''\n  clickos-cli handler write fw src.limit 500\n  clickos-cli handler write fw sw.switch 1"
    )]
    Write(HandlerArgs),
    /// List elements (no ELEM), or one element's handlers with r/w flags: [DOMAIN] [ELEM].
    #[command(
        after_help = "Examples:\n  clickos-cli handler list\n  clickos-cli handler list fw counter --json"
    )]
    List(HandlerArgs),
}

#[derive(Args)]
pub struct HandlerArgs {
    #[arg(value_name = "ARGS", num_args = 0..=3)]
    pub args: Vec<String>,
    /// Router id (0..63).
    #[arg(long, default_value_t = 0)]
    pub router: u32,
}

fn print_json(v: &Value) {
    println!("{}", serde_json::to_string_pretty(v).expect("json"));
}

fn check_rid(rid: u32) -> Result<u32, Failure> {
    if rid < xenstore::clickos::MAX_ROUTERS {
        Ok(rid)
    } else {
        Err(fail(
            exit::USAGE,
            format!(
                "router id {rid} is out of range (0..{})",
                xenstore::clickos::MAX_ROUTERS - 1
            ),
        ))
    }
}

/// Guest diagnostics name the file `config`: show the user's file name instead.
fn rename_config(msg: &str, file: &str) -> String {
    msg.lines()
        .map(|l| match l.strip_prefix("config:") {
            Some(rest) => format!("{file}:{rest}"),
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn router_failure(e: RouterError, d: &Domain, file: Option<&str>) -> Failure {
    match e {
        RouterError::Xs(e) => xs_failure(e),
        RouterError::StartFailed(m) => fail(
            exit::REFUSED,
            format!(
                "domain {} refused the configuration:\n{}",
                d.name,
                rename_config(&m, file.unwrap_or("config"))
            ),
        ),
        RouterError::Handler(m) => {
            // "no element/handler" answers list what exists: those are "not found".
            let code = if m.contains("no element") || m.contains("has no handler") {
                exit::NOT_FOUND
            } else {
                exit::REFUSED
            };
            fail(code, format!("domain {}: {m}", d.name))
        }
        RouterError::BadHandlerName(n) => fail(
            exit::USAGE,
            format!("'{n}' is not ELEMENT.HANDLER (or a router handler name)"),
        ),
    }
}

// ---- create ---------------------------------------------------------------------------------

fn uses_netfront(text: &str) -> bool {
    text.contains("FromNetfront") || text.contains("ToNetfront")
}

/// State of a domain's vifs: (devid, backend state, hotplug-status, frontend state).
fn vif_report(xs: &mut Xs, domid: u32) -> Vec<(String, String, String, String)> {
    let be = format!("/local/domain/0/backend/vif/{domid}");
    let mut out = Vec::new();
    for dev in xs.try_directory(TX_NONE, &be).unwrap_or_default() {
        let rd = |xs: &mut Xs, p: String| {
            xs.try_read(TX_NONE, &p)
                .ok()
                .flatten()
                .map(|v| router::guest_text(&v))
                .unwrap_or_else(|| "-".into())
        };
        let state = rd(xs, format!("{be}/{dev}/state"));
        let hp = rd(xs, format!("{be}/{dev}/hotplug-status"));
        let fe = rd(xs, format!("/local/domain/{domid}/device/vif/{dev}/state"));
        out.push((dev, state, hp, fe));
    }
    out
}

fn vif_text(r: &[(String, String, String, String)]) -> String {
    r.iter()
        .map(|(d, s, h, f)| {
            format!("vif {d}: backend state {s} (4 = connected), hotplug-status {h}, frontend state {f}")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn create(a: &CreateArgs, c: Common) -> Result<(), Failure> {
    let t_all = Instant::now();
    let rid = check_rid(a.router)?;
    // 1. Everything that can be checked before touching Xen.
    let (file, text) = load_for_guest(&a.config, &a.defines)?;
    if !a.image.is_file() {
        return Err(fail(
            exit::IO,
            format!(
                "guest image {} not found (build it with `make image`, or pass --image / set CLICKOS_IMAGE)",
                a.image.display()
            ),
        ));
    }
    let name = a.name.clone().unwrap_or_else(|| {
        let stem = std::path::Path::new(&a.config)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "stdin".into());
        let stem: String = stem
            .chars()
            .map(|ch| {
                if ch.is_ascii_alphanumeric() || ch == '-' || ch == '_' {
                    ch
                } else {
                    '-'
                }
            })
            .collect();
        format!("clickos-{stem}")
    });
    let spec = xl::DomainSpec {
        name: name.clone(),
        image: a.image.clone(),
        memory_mb: a.memory,
        vifs: a.vifs.clone(),
    };
    xl::validate(&spec).map_err(|m| fail(exit::USAGE, m))?;
    let mut xs = connect()?;
    if let Some(d) = domains::find(&mut xs, &name).map_err(xs_failure)? {
        return Err(fail(
            exit::USAGE,
            format!(
                "a domain named '{name}' already runs (id {}); pick another with --name",
                d.domid
            ),
        ));
    }
    // 2. The domain.
    let created = xl::create(&spec, a.xl_log.is_some())?;
    if let Some(p) = &a.xl_log {
        let mut s = String::new();
        for l in &created.log {
            s += &format!("{:.6}\t{}\n", l.at_s, l.text);
        }
        std::fs::write(p, s).map_err(|e| fail(exit::IO, format!("{}: {e}", p.display())))?;
    }
    let t_created = t_all.elapsed().as_secs_f64();
    let Some(d) = domains::find(&mut xs, &name).map_err(xs_failure)? else {
        return Err(fail(
            exit::DOMAIN_FAILED,
            format!(
                "xl create succeeded but domain '{name}' is gone already (crashed at once?)\n{}",
                xl::console_excerpt(&name, 20)
            ),
        ));
    };
    // From here on, a failure destroys the domain (unless asked not to).
    let domid = d.domid;
    let cleanup = move |f: Failure, keep: bool| -> Failure {
        if !keep {
            let _ = xl::destroy(domid);
        }
        f
    };
    // 3. The guest's control plane.
    if let Err(f) = domains::wait_boot(&mut xs, &d, c.timeout()) {
        let f = Failure {
            message: format!("{}\n{}", f.message, xl::console_excerpt(&name, 20)),
            ..f
        };
        return Err(cleanup(f, a.keep_on_error));
    }
    let t_booted = t_all.elapsed().as_secs_f64();
    let d = domains::get(&mut xs, d.domid)
        .map_err(xs_failure)?
        .unwrap_or(d);
    // 4. The router.
    let r = RouterRef::new(d.domid, rid);
    if let Err(e) = router::write_config(&mut xs, &r, &text, &file, c.timeout()) {
        return Err(cleanup(xs_failure(e), a.keep_on_error));
    }
    let t_installed = t_all.elapsed().as_secs_f64();
    let mut status = "Installed";
    if !a.no_start {
        if let Err(e) = router::start(&mut xs, &r, c.timeout()) {
            let mut f = router_failure(e, &d, Some(&file));
            if uses_netfront(&text) && !a.vifs.is_empty() {
                f.message += &format!("\n{}", vif_text(&vif_report(&mut xs, d.domid)));
            }
            return Err(cleanup(f, a.keep_on_error));
        }
        status = "Running";
    }
    let t_started = t_all.elapsed().as_secs_f64();
    // 5. Network devices: the router's netfront elements connect them; say so if they did not.
    if status == "Running" && uses_netfront(&text) && !a.vifs.is_empty() {
        let be = format!("/local/domain/0/backend/vif/{}", d.domid);
        let n = a.vifs.len();
        let r = xs.wait_for(
            &be,
            &format!("the {n} vif backend(s) of domain {} to connect", d.name),
            c.timeout(),
            |xs| {
                let rep = vif_report(xs, d.domid);
                Ok((rep.len() >= n && rep.iter().all(|v| v.1 == "4")).then_some(()))
            },
        );
        if let Err(e) = r {
            let f = fail(
                exit::DOMAIN_FAILED,
                format!(
                    "{e}\n{}\n(see /var/log/xen/xen-hotplug.log and: clickos-cli console {})",
                    vif_text(&vif_report(&mut xs, d.domid)),
                    d.name
                ),
            );
            return Err(cleanup(f, a.keep_on_error));
        }
    }
    let t_net = t_all.elapsed().as_secs_f64();
    if c.json {
        print_json(&json!({
            "name": d.name,
            "domid": d.domid,
            "router": rid,
            "status": status,
            "config": file,
            "config_bytes": text.len(),
            "xl_config": created.config_path,
            "timings_s": {
                "xl_create": created.seconds,
                "created": t_created,
                "booted": t_booted,
                "installed": t_installed,
                "started": t_started,
                "network": t_net,
                "total": t_all.elapsed().as_secs_f64(),
            },
            "guest_boot_us": d.boot_us,
        }));
    } else {
        println!(
            "created domain {} (id {}): router {rid} {status} ({} bytes of {file}); \
             xl create {:.2} s, ClickOS boot after {:.2} s, router {} after {:.2} s",
            d.name,
            d.domid,
            text.len(),
            created.seconds,
            t_booted,
            if status == "Running" {
                "running"
            } else {
                "installed"
            },
            t_started
        );
    }
    Ok(())
}

// ---- destroy, list, console -----------------------------------------------------------------

pub fn destroy(a: &DestroyArgs, c: Common) -> Result<(), Failure> {
    let mut xs = connect()?;
    let targets: Vec<Option<&str>> = if a.domains.is_empty() {
        vec![None]
    } else {
        a.domains.iter().map(|s| Some(s.as_str())).collect()
    };
    let mut done = Vec::new();
    for t in targets {
        // Destroying must not wait for a boot: resolve among all domains.
        let d = match t {
            Some(n) => domains::find(&mut xs, n)
                .map_err(xs_failure)?
                .ok_or_else(|| fail(exit::NOT_FOUND, format!("no domain '{n}'")))?,
            None => domains::resolve(&mut xs, None, c.timeout())?,
        };
        xl::destroy(d.domid)?;
        done.push(json!({"name": d.name, "domid": d.domid}));
        if !c.json {
            println!("destroyed domain {} (id {})", d.name, d.domid);
        }
    }
    if c.json {
        print_json(&json!({ "destroyed": done }));
    }
    Ok(())
}

fn fmt_uptime(s: Option<f64>) -> String {
    match s {
        None => "-".into(),
        Some(s) if s < 60.0 => format!("{s:.0}s"),
        Some(s) if s < 3600.0 => format!("{}m{:02}s", (s / 60.0) as u64, (s % 60.0) as u64),
        Some(s) => format!(
            "{}h{:02}m",
            (s / 3600.0) as u64,
            ((s % 3600.0) / 60.0) as u64
        ),
    }
}

pub fn list(c: Common) -> Result<(), Failure> {
    let mut xs = connect()?;
    let ds = domains::all(&mut xs).map_err(xs_failure)?;
    let mut rows = Vec::new();
    for d in &ds {
        let rs = router::routers(&mut xs, d.domid).map_err(xs_failure)?;
        rows.push((d, rs));
    }
    if c.json {
        let v: Vec<Value> = rows
            .iter()
            .map(|(d, rs)| {
                json!({
                    "name": d.name,
                    "domid": d.domid,
                    "clickos": d.clickos,
                    "uptime_s": d.uptime,
                    "guest_boot_us": d.boot_us,
                    "routers": rs.iter().map(|r| json!({
                        "id": r.rid,
                        "status": r.status,
                        "config": r.config_name,
                        "config_bytes": r.config_len,
                        "error": r.error.as_deref().filter(|e| !e.is_empty()),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        print_json(&json!({ "domains": v }));
        return Ok(());
    }
    println!(
        "{:<24} {:>5} {:<8} {:>8} {:>6} {:<10} CONFIG",
        "NAME", "ID", "CLICKOS", "UPTIME", "ROUTER", "STATUS"
    );
    for (d, rs) in rows {
        let kind = if d.clickos { "yes" } else { "no/boot" };
        if rs.is_empty() {
            println!(
                "{:<24} {:>5} {:<8} {:>8} {:>6} {:<10} -",
                d.name,
                d.domid,
                kind,
                fmt_uptime(d.uptime),
                "-",
                "-"
            );
        }
        for r in rs {
            println!(
                "{:<24} {:>5} {:<8} {:>8} {:>6} {:<10} {}",
                d.name,
                d.domid,
                kind,
                fmt_uptime(d.uptime),
                r.rid,
                r.status,
                r.config_name.as_deref().unwrap_or("-")
            );
        }
    }
    Ok(())
}

pub fn console(a: &ConsoleArgs, c: Common) -> Result<(), Failure> {
    let mut xs = connect()?;
    let d = match a.domain.as_deref() {
        Some(n) => domains::find(&mut xs, n)
            .map_err(xs_failure)?
            .ok_or_else(|| fail(exit::NOT_FOUND, format!("no domain '{n}'")))?,
        None => domains::resolve(&mut xs, None, c.timeout())?,
    };
    match a.tail {
        None => xl::console(d.domid),
        Some(n) => {
            let lines = xl::console_tail(&d.name, n).ok_or_else(|| {
                fail(
                    exit::NOT_FOUND,
                    format!(
                        "no console log at {} (xenconsoled must run with --log=guest); attach with: clickos-cli console {}",
                        xl::console_log_path(&d.name).display(),
                        d.name
                    ),
                )
            })?;
            if c.json {
                print_json(&json!({"name": d.name, "domid": d.domid, "lines": lines}));
            } else {
                for l in lines {
                    println!("{l}");
                }
            }
            Ok(())
        }
    }
}

// ---- routers --------------------------------------------------------------------------------

pub fn install(a: &InstallArgs, c: Common) -> Result<(), Failure> {
    let rid = check_rid(a.router)?;
    let (dom, cfg) = match a.args.as_slice() {
        [cfg] => (None, cfg.as_str()),
        [d, cfg] => (Some(d.as_str()), cfg.as_str()),
        _ => return Err(fail(exit::USAGE, "usage: install [DOMAIN] CONFIG")),
    };
    let (file, text) = load_for_guest(cfg, &a.defines)?;
    let mut xs = connect()?;
    let d = domains::resolve(&mut xs, dom, c.timeout())?;
    let r = RouterRef::new(d.domid, rid);
    let t0 = Instant::now();
    router::write_config(&mut xs, &r, &text, &file, c.timeout()).map_err(xs_failure)?;
    let t_written = t0.elapsed().as_secs_f64();
    let mut status = "Installed";
    if !a.no_start {
        router::start(&mut xs, &r, c.timeout()).map_err(|e| router_failure(e, &d, Some(&file)))?;
        status = "Running";
    }
    let secs = t0.elapsed().as_secs_f64();
    if c.json {
        print_json(&json!({
            "name": d.name, "domid": d.domid, "router": rid, "status": status,
            "config": file, "config_bytes": text.len(),
            "write_s": t_written, "seconds": secs,
        }));
    } else {
        println!(
            "domain {} (id {}): router {rid} {status} ({} bytes of {file}, {secs:.3} s)",
            d.name,
            d.domid,
            text.len()
        );
    }
    Ok(())
}

fn router_target(a: &RouterArgs, xs: &mut Xs, c: Common) -> Result<(Domain, u32), Failure> {
    let (dom, rid) = match a.args.as_slice() {
        [] => (None, None),
        [d] => (Some(d.as_str()), None),
        [d, r] => (
            Some(d.as_str()),
            Some(
                r.parse::<u32>()
                    .map_err(|_| fail(exit::USAGE, format!("router id '{r}' is not a number")))?,
            ),
        ),
        _ => return Err(fail(exit::USAGE, "usage: [DOMAIN] [ROUTER]")),
    };
    let rid = check_rid(rid.or(a.router).unwrap_or(0))?;
    let d = domains::resolve(xs, dom, c.timeout())?;
    let have = router::routers(xs, d.domid).map_err(xs_failure)?;
    if !have.iter().any(|r| r.rid == rid) {
        let ids: Vec<String> = have.iter().map(|r| r.rid.to_string()).collect();
        return Err(fail(
            exit::NOT_FOUND,
            format!(
                "domain {} has no router {rid} (routers: {})",
                d.name,
                if ids.is_empty() {
                    "none".into()
                } else {
                    ids.join(", ")
                }
            ),
        ));
    }
    Ok((d, rid))
}

#[derive(Clone, Copy)]
pub enum RouterOp {
    Start,
    Stop,
    Remove,
}

pub fn router_op(op: RouterOp, a: &RouterArgs, c: Common) -> Result<(), Failure> {
    let mut xs = connect()?;
    let (d, rid) = router_target(a, &mut xs, c)?;
    let r = RouterRef::new(d.domid, rid);
    let (verb, status) = match op {
        RouterOp::Start => {
            router::start(&mut xs, &r, c.timeout()).map_err(|e| router_failure(e, &d, None))?;
            ("started", "Running")
        }
        RouterOp::Stop => {
            router::stop(&mut xs, &r, c.timeout()).map_err(xs_failure)?;
            ("stopped", "Halted")
        }
        RouterOp::Remove => {
            router::remove(&mut xs, &r, c.timeout()).map_err(xs_failure)?;
            ("removed", "Removed")
        }
    };
    if c.json {
        print_json(&json!({"name": d.name, "domid": d.domid, "router": rid, "status": status}));
    } else {
        println!("domain {} (id {}): router {rid} {verb}", d.name, d.domid);
    }
    Ok(())
}

// ---- handlers -------------------------------------------------------------------------------

/// Whether `s` names a running domain (for telling `[DOMAIN] X` from `X Y`).
fn is_domain(xs: &mut Xs, s: &str) -> bool {
    domains::find(xs, s).ok().flatten().is_some()
}

pub fn handler(cmd: &HandlerCommand, c: Common) -> Result<(), Failure> {
    let mut xs = connect()?;
    let (access, a) = match cmd {
        HandlerCommand::Read(a) => (Some(Access::Read), a),
        HandlerCommand::Write(a) => (Some(Access::Write), a),
        HandlerCommand::List(a) => (None, a),
    };
    let rid = check_rid(a.router)?;
    let args: Vec<&str> = a.args.iter().map(|s| s.as_str()).collect();
    // Which argument is the domain: see each command's usage.
    let (dom, name, value): (Option<&str>, Option<&str>, &str) = match (access, args.as_slice()) {
        (Some(Access::Read), [h]) => (None, Some(*h), ""),
        (Some(Access::Read), [d, h]) => (Some(*d), Some(*h), ""),
        (Some(Access::Write), [h]) => (None, Some(*h), ""),
        (Some(Access::Write), [x, y]) => {
            // DOMAIN ELEM.HANDLER (empty value) or ELEM.HANDLER VALUE.
            if y.contains('.') && !x.contains('.') && is_domain(&mut xs, x) {
                (Some(*x), Some(*y), "")
            } else {
                (None, Some(*x), *y)
            }
        }
        (Some(Access::Write), [d, h, v]) => (Some(*d), Some(*h), *v),
        (None, []) => (None, None, ""),
        (None, [x]) => {
            if is_domain(&mut xs, x) {
                (Some(*x), None, "")
            } else {
                (None, Some(*x), "")
            }
        }
        (None, [d, e]) => (Some(*d), Some(*e), ""),
        _ => {
            return Err(fail(
                exit::USAGE,
                "usage: handler read [DOMAIN] ELEM.HANDLER | handler write [DOMAIN] ELEM.HANDLER [VALUE] | handler list [DOMAIN] [ELEM]",
            ))
        }
    };
    let d = domains::resolve(&mut xs, dom, c.timeout())?;
    let r = RouterRef::new(d.domid, rid);
    if !router::routers(&mut xs, d.domid)
        .map_err(xs_failure)?
        .iter()
        .any(|s| s.rid == rid && s.status == "Running")
    {
        return Err(fail(
            exit::NOT_FOUND,
            format!(
                "domain {}: router {rid} is not running (see: clickos-cli list)",
                d.name
            ),
        ));
    }
    let t = c.timeout();
    let rf = |e| router_failure(e, &d, None);
    match access {
        Some(Access::Read) => {
            let h = name.unwrap();
            let v = router::handler(&mut xs, &r, Access::Read, h, b"", t)
                .map_err(rf)?
                .unwrap_or_default();
            if c.json {
                print_json(
                    &json!({"domain": d.name, "domid": d.domid, "router": rid, "handler": h, "value": v}),
                );
            } else {
                // Handler values end with a newline or not; print exactly one.
                println!("{}", v.strip_suffix('\n').unwrap_or(&v));
            }
        }
        Some(Access::Write) => {
            let h = name.unwrap();
            router::handler(&mut xs, &r, Access::Write, h, value.as_bytes(), t).map_err(rf)?;
            if c.json {
                print_json(
                    &json!({"domain": d.name, "domid": d.domid, "router": rid, "handler": h, "written": value}),
                );
            }
        }
        None => match name {
            None => {
                let v = router::handler(&mut xs, &r, Access::Read, "list", b"", t)
                    .map_err(rf)?
                    .unwrap_or_default();
                // `list`: a count line, then one element name per line.
                let elems: Vec<&str> = v.lines().skip(1).filter(|l| !l.is_empty()).collect();
                if c.json {
                    print_json(&json!({"domain": d.name, "router": rid, "elements": elems,
                        "router_handlers": ["version", "config", "flatconfig", "list", "classes", "stop"]}));
                } else {
                    for e in elems {
                        println!("{e}");
                    }
                }
            }
            Some(e) => {
                let v =
                    router::handler(&mut xs, &r, Access::Read, &format!("{e}.handlers"), b"", t)
                        .map_err(rf)?
                        .unwrap_or_default();
                let hs: Vec<(String, String)> = v
                    .lines()
                    .filter_map(|l| l.split_once('\t'))
                    .map(|(n, m)| (n.to_string(), m.to_string()))
                    .collect();
                if c.json {
                    let list: Vec<Value> = hs
                        .iter()
                        .map(|(n, m)| json!({"name": n, "read": m.contains('r'), "write": m.contains('w')}))
                        .collect();
                    print_json(
                        &json!({"domain": d.name, "router": rid, "element": e, "handlers": list}),
                    );
                } else {
                    for (n, m) in hs {
                        println!("{e}.{n}\t{m}");
                    }
                }
            }
        },
    }
    Ok(())
}
