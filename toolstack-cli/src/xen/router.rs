//! The dom0 side of the ClickOS control protocol (docs/xenstore-protocol.md): installing,
//! starting, stopping and removing a router, and handler requests. Everything a guest writes is
//! untrusted: values are read as lossy text, bounded, and never used as paths.

use std::time::Duration;

use xenstore::clickos::{Access, RouterPaths, ROUTER_ELEMENT};
use xenstore::dom0::{Error as XsError, Xs, TX_NONE};

/// Chunk size for `config/N`. dom0 may write up to 4096 bytes of payload (path included); 3000
/// leaves room for any path and stays well under xenstored's per-node limit.
pub const CHUNK: usize = 3000;
/// Longest text taken from a guest-written node for display (errors, answers are ≤ 1900).
const MAX_GUEST_TEXT: usize = 64 * 1024;

/// Why a router operation failed.
#[derive(Debug)]
pub enum RouterError {
    Xs(XsError),
    /// The guest refused to start the configuration; its diagnostics, one per line.
    StartFailed(String),
    /// The guest answered a handler request with an error.
    Handler(String),
    /// A handler name that cannot be a Xenstore path.
    BadHandlerName(String),
}

impl From<XsError> for RouterError {
    fn from(e: XsError) -> Self {
        RouterError::Xs(e)
    }
}

/// A router of a domain: `/local/domain/<domid>/data/clickos/<rid>`.
pub struct RouterRef {
    pub domid: u32,
    pub rid: u32,
    pub paths: RouterPaths,
}

/// The root of a domain's ClickOS nodes.
pub fn clickos_root(domid: u32) -> String {
    format!("/local/domain/{domid}/data/clickos")
}

impl RouterRef {
    pub fn new(domid: u32, rid: u32) -> RouterRef {
        RouterRef {
            domid,
            rid,
            paths: RouterPaths::new(&clickos_root(domid), rid),
        }
    }
    pub fn config_name_path(&self) -> String {
        format!("{}/config_name", self.paths.base)
    }
}

/// Guest-written text: lossy UTF-8, bounded.
pub fn guest_text(v: &[u8]) -> String {
    let v = &v[..v.len().min(MAX_GUEST_TEXT)];
    String::from_utf8_lossy(v).into_owned()
}

/// A router's state as its nodes show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouterState {
    pub rid: u32,
    /// `Running`, `Halted`, `Error`, or `Installed` when a config is there and no status yet.
    pub status: String,
    pub config_name: Option<String>,
    pub config_len: Option<usize>,
    /// The guest's error text (empty after a successful start).
    pub error: Option<String>,
}

/// Reads the routers of a domain (numeric children of `data/clickos`).
pub fn routers(xs: &mut Xs, domid: u32) -> Result<Vec<RouterState>, XsError> {
    let root = clickos_root(domid);
    let mut out = Vec::new();
    let mut rids: Vec<u32> = xs
        .try_directory(TX_NONE, &root)?
        .iter()
        .filter_map(|c| xenstore::clickos::parse_rid(c))
        .collect();
    rids.sort_unstable();
    for rid in rids {
        let r = RouterRef::new(domid, rid);
        let status = xs
            .try_read(TX_NONE, &r.paths.status())?
            .map(|v| guest_text(&v));
        let config_len = xs
            .try_read(TX_NONE, &r.paths.config_len())?
            .and_then(|v| xenstore::clickos::parse_config_len(&v).ok());
        let config_name = xs
            .try_read(TX_NONE, &r.config_name_path())?
            .map(|v| guest_text(&v));
        let error = xs
            .try_read(TX_NONE, &r.paths.error())?
            .map(|v| guest_text(&v));
        let status = match status {
            Some(s) => s,
            None if config_len.is_some() => "Installed".into(),
            None => continue,
        };
        out.push(RouterState {
            rid,
            status,
            config_name,
            config_len,
            error,
        });
    }
    Ok(out)
}

/// Makes sure every watch event the guest got before now has been handled: a read request on the
/// router's own `version` handler is answered (or refused) only after the guest processed all
/// earlier events of its `data/clickos` watch, which it handles in order.
fn barrier(xs: &mut Xs, r: &RouterRef, timeout: Duration) -> Result<(), XsError> {
    let req = r.paths.request(Access::Read, ROUTER_ELEMENT, "version");
    xs.write(TX_NONE, &req, b"1")?;
    xs.wait_gone(
        &req,
        &format!(
            "domain {} to process the request {req} (is its ClickOS control loop alive?)",
            r.domid
        ),
        timeout,
    )
}

/// Stops a router (status `Halted`) and returns once the guest has acted on it.
pub fn stop(xs: &mut Xs, r: &RouterRef, timeout: Duration) -> Result<(), XsError> {
    xs.write(TX_NONE, &r.paths.status(), b"Halted")?;
    barrier(xs, r, timeout)
}

/// Stops a router and removes all its nodes.
pub fn remove(xs: &mut Xs, r: &RouterRef, timeout: Duration) -> Result<(), XsError> {
    stop(xs, r, timeout)?;
    xs.rm(TX_NONE, &r.paths.base)
}

/// Writes a configuration (stopping the router first if it runs). The chunks, `config_len` and
/// `config_name` go in one transaction, so the guest never sees a mix of old and new chunks.
pub fn write_config(
    xs: &mut Xs,
    r: &RouterRef,
    text: &str,
    name: &str,
    timeout: Duration,
) -> Result<(), XsError> {
    let status = xs.try_read(TX_NONE, &r.paths.status())?;
    if status.as_deref() == Some(b"Running") {
        stop(xs, r, timeout)?;
    }
    let chunks = xenstore::clickos::split_chunks(text.as_bytes(), CHUNK);
    let base = r.paths.base.clone();
    xs.transaction(|xs, tx| {
        // Old answers, requests and chunks go; the error node too, so that its reappearance
        // is the guest's answer to the next start.
        for sub in [
            "error",
            "config",
            "handlers",
            "handler-errors",
            "control",
            "status",
        ] {
            xs.rm(tx, &format!("{base}/{sub}"))?;
        }
        for (i, c) in chunks.iter().enumerate() {
            xs.write(tx, &r.paths.chunk(i), c)?;
        }
        xs.write(tx, &r.config_name_path(), name.as_bytes())?;
        xs.write(tx, &r.paths.config_len(), text.len().to_string().as_bytes())
    })
}

/// Starts a router from its installed configuration and waits for the guest's verdict.
pub fn start(xs: &mut Xs, r: &RouterRef, timeout: Duration) -> Result<(), RouterError> {
    if xs.try_read(TX_NONE, &r.paths.status())?.as_deref() == Some(b"Running") {
        return Ok(());
    }
    if xs.try_read(TX_NONE, &r.paths.config_len())?.is_none() {
        return Err(RouterError::StartFailed(format!(
            "router {} of domain {} has no configuration installed",
            r.rid, r.domid
        )));
    }
    xs.rm(TX_NONE, &r.paths.error())?;
    xs.write(TX_NONE, &r.paths.status(), b"Running")?;
    let err = xs.wait_exists(
        &r.paths.error(),
        &format!(
            "domain {} to start router {} (its answer in {})",
            r.domid,
            r.rid,
            r.paths.error()
        ),
        timeout,
    )?;
    let status = xs.read(TX_NONE, &r.paths.status())?;
    if status == b"Running" && err.is_empty() {
        Ok(())
    } else {
        let mut msg = guest_text(&err);
        if msg.is_empty() {
            msg = format!("router ended in status {:?}", guest_text(&status));
        }
        Err(RouterError::StartFailed(msg))
    }
}

/// `elem.handler` → (`elem`, `handler`); a name without a dot is the router's own handler.
pub fn split_handler(full: &str) -> Result<(String, String), RouterError> {
    let (e, h) = match full.rsplit_once('.') {
        Some((e, h)) => (e, h),
        None => (ROUTER_ELEMENT, full),
    };
    let ok = |s: &str| {
        !s.is_empty()
            && !s.starts_with('/')
            && !s.ends_with('/')
            && !s.contains("//")
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'/' | b'@'))
    };
    if !ok(e) || !ok(h) || h.contains('/') {
        return Err(RouterError::BadHandlerName(full.to_string()));
    }
    Ok((e.to_string(), h.to_string()))
}

/// One handler request; returns the answer of a read (`None` for writes).
pub fn handler(
    xs: &mut Xs,
    r: &RouterRef,
    access: Access,
    full: &str,
    value: &[u8],
    timeout: Duration,
) -> Result<Option<String>, RouterError> {
    let (e, h) = split_handler(full)?;
    let req = r.paths.request(access, &e, &h);
    let answer = r.paths.answer(&e, &h);
    let error = r.paths.answer_error(&e, &h);
    xs.rm(TX_NONE, &answer)?;
    // A read request's value must be non-empty; a write's is the argument.
    let v: &[u8] = match access {
        Access::Read => b"1",
        Access::Write => value,
    };
    xs.write(TX_NONE, &req, v)?;
    xs.wait_gone(
        &req,
        &format!("domain {} to answer {full} (request {req})", r.domid),
        timeout,
    )?;
    let err = xs.try_read(TX_NONE, &error)?.unwrap_or_default();
    if !err.is_empty() {
        return Err(RouterError::Handler(guest_text(&err)));
    }
    match access {
        Access::Write => Ok(None),
        Access::Read => match xs.try_read(TX_NONE, &answer)? {
            Some(v) => Ok(Some(guest_text(&v))),
            None => Err(RouterError::Handler(format!(
                "the guest removed the request but wrote no answer to {answer}"
            ))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;
    use xenstore::fake::FakeXenstored;

    /// A stand-in for the guest's control loop, enough to test the dom0 sequences: it starts a
    /// router when `status` = `Running` (config "bad" fails with a line:col error), answers
    /// `c.count` reads with the number of writes to `c.reset` so far, refuses other handlers.
    fn fake_guest(f: &FakeXenstored, domid: u32) -> std::thread::JoinHandle<()> {
        let mut xs = Xs::from_stream(f.connect());
        let root = clickos_root(domid);
        f.put(&format!("{root}/boot"), b"ok");
        xs.watch(&root, "g").unwrap();
        std::thread::spawn(move || {
            let mut resets = 0;
            let mut running = false;
            let deadline = Instant::now() + Duration::from_secs(20);
            while let Ok(Some(ev)) = xs.next_event(Some(deadline)) {
                let Some(rest) = ev.path.strip_prefix(&format!("{root}/0/")) else {
                    continue;
                };
                let base = format!("{root}/0");
                if rest == "status" {
                    let s = xs.try_read(TX_NONE, &ev.path).unwrap();
                    if s.as_deref() == Some(b"Running") && !running {
                        let cfg = xs.read(TX_NONE, &format!("{base}/config/0")).unwrap();
                        if cfg == b"bad" {
                            xs.write(TX_NONE, &format!("{base}/error"), b"config:1:1: error: bad")
                                .unwrap();
                            xs.write(TX_NONE, &format!("{base}/status"), b"Error")
                                .unwrap();
                        } else {
                            running = true;
                            xs.write(TX_NONE, &format!("{base}/error"), b"").unwrap();
                        }
                    } else if s.as_deref() == Some(b"Halted") {
                        running = false;
                    }
                } else if let Some(req) = rest.strip_prefix("control/") {
                    let Some(v) = xs.try_read(TX_NONE, &ev.path).unwrap() else {
                        continue;
                    };
                    let (access, key) = req.split_once('/').unwrap();
                    let (ans, err) = match (access, key, running) {
                        (_, _, false) => (None, "router 0 is not running".to_string()),
                        ("read", "c/count", _) => (Some(resets.to_string()), String::new()),
                        ("write", "c/reset", _) => {
                            resets += 1;
                            assert_eq!(v, b"");
                            (None, String::new())
                        }
                        ("read", "@/version", _) => (Some("v".into()), String::new()),
                        _ => (None, "no such handler; elements: c".to_string()),
                    };
                    if let Some(a) = ans {
                        xs.write(TX_NONE, &format!("{base}/handlers/{key}"), a.as_bytes())
                            .unwrap();
                    }
                    xs.write(
                        TX_NONE,
                        &format!("{base}/handler-errors/{key}"),
                        err.as_bytes(),
                    )
                    .unwrap();
                    xs.rm(TX_NONE, &ev.path).unwrap();
                }
            }
        })
    }

    #[test]
    fn install_start_handlers_stop_remove() {
        let f = FakeXenstored::new();
        let _g = fake_guest(&f, 5);
        let mut xs = Xs::from_stream(f.connect());
        let t = Duration::from_secs(5);
        let r = RouterRef::new(5, 0);
        let text = "x".repeat(CHUNK * 2 + 10);
        write_config(&mut xs, &r, &text, "big.click", t).unwrap();
        assert_eq!(f.get(&r.paths.chunk(2)).unwrap().len(), 10);
        assert_eq!(f.get(&r.paths.config_len()).unwrap(), b"6010");
        start(&mut xs, &r, t).unwrap();
        let st = routers(&mut xs, 5).unwrap();
        assert_eq!(st.len(), 1);
        assert_eq!(st[0].status, "Running");
        assert_eq!(st[0].config_name.as_deref(), Some("big.click"));
        let read = |xs: &mut Xs| handler(xs, &r, Access::Read, "c.count", b"", t).unwrap();
        assert_eq!(read(&mut xs).as_deref(), Some("0"));
        handler(&mut xs, &r, Access::Write, "c.reset", b"", t).unwrap();
        handler(&mut xs, &r, Access::Write, "c.reset", b"", t).unwrap();
        assert_eq!(read(&mut xs).as_deref(), Some("2"));
        match handler(&mut xs, &r, Access::Read, "c.nope", b"", t) {
            Err(RouterError::Handler(m)) => assert!(m.contains("elements: c"), "{m}"),
            other => panic!("{other:?}"),
        }
        stop(&mut xs, &r, t).unwrap();
        match handler(&mut xs, &r, Access::Read, "c.count", b"", t) {
            Err(RouterError::Handler(m)) => assert!(m.contains("not running"), "{m}"),
            other => panic!("{other:?}"),
        }
        remove(&mut xs, &r, t).unwrap();
        assert_eq!(f.get(&r.paths.base), None);
        assert!(routers(&mut xs, 5).unwrap().is_empty());
    }

    #[test]
    fn a_refused_start_reports_the_guest_error() {
        let f = FakeXenstored::new();
        let _g = fake_guest(&f, 6);
        let mut xs = Xs::from_stream(f.connect());
        let t = Duration::from_secs(5);
        let r = RouterRef::new(6, 0);
        write_config(&mut xs, &r, "bad", "bad.click", t).unwrap();
        match start(&mut xs, &r, t) {
            Err(RouterError::StartFailed(m)) => assert_eq!(m, "config:1:1: error: bad"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_silent_guest_gives_a_named_timeout() {
        let f = FakeXenstored::new();
        let mut xs = Xs::from_stream(f.connect());
        let r = RouterRef::new(9, 0);
        write_config(&mut xs, &r, "x", "x.click", Duration::from_millis(100)).unwrap();
        match start(&mut xs, &r, Duration::from_millis(100)) {
            Err(RouterError::Xs(e)) => {
                assert!(e.to_string().contains("domain 9 to start router 0"), "{e}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn handler_names() {
        assert_eq!(
            split_handler("counter.count").unwrap(),
            ("counter".into(), "count".into())
        );
        assert_eq!(
            split_handler("a/b.count").unwrap(),
            ("a/b".into(), "count".into())
        );
        assert_eq!(split_handler("list").unwrap(), ("@".into(), "list".into()));
        for bad in ["", ".x", "a.", "a b.c", "a..b", "/a.b", "a.b/c"] {
            assert!(split_handler(bad).is_err(), "{bad}");
        }
    }
}
