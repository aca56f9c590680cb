//! A blocking Xenstore client for dom0 tools.
//!
//! It talks to xenstored over its Unix socket (`/var/run/xenstored/socket`) or, when that is not
//! there (xenstored running in a stub domain, or the socket not created), through the kernel's
//! `/dev/xen/xenbus` device; both carry the same framed messages ([`crate::wire`]). One request
//! is in flight at a time; watch events that arrive while waiting for a reply are queued and
//! returned by [`Xs::next_event`]. Every wait has a deadline and reports what it waited for.

use std::collections::VecDeque;
use std::fmt;
use std::fs::OpenOptions;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::wire::{self, Errno, Message, MessageReader, MsgType, Perm, Request, WatchEvent};

/// Where xenstored listens, in the order tried by [`Xs::open`].
pub const SOCKET_PATHS: [&str; 2] = ["/var/run/xenstored/socket", "/run/xenstored/socket"];
/// The kernel's Xenstore device (works even when xenstored has no socket).
pub const XENBUS_DEVICE: &str = "/dev/xen/xenbus";
/// Environment variable that overrides the path (like libxenstore's `XENSTORED_PATH`).
pub const PATH_ENV: &str = "XENSTORED_PATH";

/// How often [`Xs::transaction`] retries a commit that failed with `EAGAIN`.
pub const TRANSACTION_RETRIES: u32 = 64;
/// Default bound on one request's reply.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(30);

/// A transaction id; [`TX_NONE`] outside transactions.
pub type TxId = u32;
pub const TX_NONE: TxId = 0;

/// Why an operation failed.
#[derive(Debug)]
pub enum Error {
    /// The transport failed (connection refused, closed, ...).
    Io(io::Error),
    /// Xenstore answered with an error or sent something unexpected.
    Xs(wire::Error),
    /// A bounded wait ended: `what` names what was waited for.
    Timeout { what: String, after: Duration },
    /// A transaction kept conflicting.
    Conflict { retries: u32 },
}

impl Error {
    /// True for `ENOENT` (node does not exist).
    pub fn is_enoent(&self) -> bool {
        matches!(self, Error::Xs(wire::Error::Errno(Errno::ENOENT)))
    }
    pub fn errno(&self) -> Option<Errno> {
        match self {
            Error::Xs(wire::Error::Errno(e)) => Some(*e),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "xenstore: {e}"),
            Error::Xs(e) => write!(f, "xenstore: {e}"),
            Error::Timeout { what, after } => {
                write!(
                    f,
                    "timed out after {:.1} s waiting for {what}",
                    after.as_secs_f64()
                )
            }
            Error::Conflict { retries } => {
                write!(
                    f,
                    "xenstore transaction still conflicting after {retries} retries"
                )
            }
        }
    }
}

impl std::error::Error for Error {}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Error {
        Error::Io(e)
    }
}
impl From<wire::Error> for Error {
    fn from(e: wire::Error) -> Error {
        Error::Xs(e)
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// The byte stream under the client: a socket or the xenbus device.
trait Transport: Read + Write + AsRawFd + Send {}
impl<T: Read + Write + AsRawFd + Send> Transport for T {}

/// A connection to xenstored.
pub struct Xs {
    io: Box<dyn Transport>,
    path: PathBuf,
    next_req_id: u32,
    reader: MessageReader,
    events: VecDeque<WatchEvent>,
    /// Bound on each reply.
    pub reply_timeout: Duration,
}

impl fmt::Debug for Xs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Xs").field("path", &self.path).finish()
    }
}

impl Xs {
    /// Connects to xenstored: `$XENSTORED_PATH` if set, else its socket, else `/dev/xen/xenbus`.
    /// The error says every place tried (the usual cause: not in dom0, or Xen not running).
    pub fn open() -> Result<Xs> {
        if let Some(p) = std::env::var_os(PATH_ENV) {
            return Xs::connect(Path::new(&p));
        }
        let mut tried = Vec::new();
        for p in SOCKET_PATHS.iter().chain([XENBUS_DEVICE].iter()) {
            match Xs::connect(Path::new(p)) {
                Ok(xs) => return Ok(xs),
                Err(e) => tried.push(format!("{p}: {e}")),
            }
        }
        Err(Error::Io(io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "cannot reach xenstored (is this dom0 with Xen running and xenstored started?): {}",
                tried.join("; ")
            ),
        )))
    }

    /// Connects to a socket, or opens a device node, at `path`.
    pub fn connect(path: &Path) -> Result<Xs> {
        let meta = std::fs::metadata(path)?;
        use std::os::unix::fs::FileTypeExt;
        let io: Box<dyn Transport> = if meta.file_type().is_socket() {
            Box::new(UnixStream::connect(path)?)
        } else {
            Box::new(OpenOptions::new().read(true).write(true).open(path)?)
        };
        Ok(Xs::with_transport(io, path.to_path_buf()))
    }

    /// A client over an already connected stream (tests use a socketpair).
    pub fn from_stream(s: UnixStream) -> Xs {
        Xs::with_transport(Box::new(s), PathBuf::from("<stream>"))
    }

    fn with_transport(io: Box<dyn Transport>, path: PathBuf) -> Xs {
        Xs {
            io,
            path,
            next_req_id: 1,
            reader: MessageReader::new(),
            events: VecDeque::new(),
            reply_timeout: REPLY_TIMEOUT,
        }
    }

    /// Where this client is connected.
    pub fn path(&self) -> &Path {
        &self.path
    }

    // ---- transport ------------------------------------------------------------------------

    /// Waits until the transport is readable or `deadline` passes (`Ok(false)`).
    fn wait_readable(&self, deadline: Option<Instant>) -> Result<bool> {
        let fd: RawFd = self.io.as_raw_fd();
        loop {
            let timeout_ms: libc::c_int = match deadline {
                None => -1,
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    // Round up so that a wait never returns early and spins.
                    left.as_micros().div_ceil(1000).min(i32::MAX as u128) as libc::c_int
                }
            };
            let mut pfd = libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd, count 1.
            let r = unsafe { libc::poll(&mut pfd, 1, timeout_ms) };
            if r < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e.into());
            }
            if r > 0 {
                return Ok(true);
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(false);
            }
        }
    }

    /// Reads one whole message, or `None` when `deadline` passes first.
    fn read_message(&mut self, deadline: Option<Instant>) -> Result<Option<Message>> {
        loop {
            if !self.wait_readable(deadline)? {
                return Ok(None);
            }
            // The reader never asks for more than completes the current header or payload, so
            // bytes of the next message stay in the kernel until asked for.
            let spare = self.reader.spare();
            let n = if spare.is_empty() {
                0
            } else {
                match self.io.read(spare) {
                    Ok(0) => {
                        return Err(Error::Io(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "xenstored closed the connection",
                        )))
                    }
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e.into()),
                }
            };
            if let Some(m) = self.reader.filled(n)? {
                return Ok(Some(m));
            }
        }
    }

    /// Sends a request and returns its reply payload; watch events that come first are queued.
    fn request(&mut self, tx: TxId, req: &Request<'_>) -> Result<Vec<u8>> {
        let id = self.next_req_id;
        self.next_req_id = self.next_req_id.wrapping_add(1).max(1);
        let msg = req.encode(id, tx)?;
        // One write: the xenbus device wants whole messages.
        self.io.write_all(&msg)?;
        let deadline = Instant::now() + self.reply_timeout;
        loop {
            let Some(m) = self.read_message(Some(deadline))? else {
                return Err(Error::Timeout {
                    what: format!("xenstored's reply to {:?}", req.msg_type()),
                    after: self.reply_timeout,
                });
            };
            if m.header.ty == MsgType::WatchEvent as u32 {
                self.events.push_back(wire::parse_watch_event(&m.payload)?);
                continue;
            }
            if m.header.req_id != id {
                // A reply to nothing we asked: xenstored never does this; ignore it.
                continue;
            }
            return Ok(m.into_result()?);
        }
    }

    // ---- requests -------------------------------------------------------------------------

    pub fn read(&mut self, tx: TxId, path: &str) -> Result<Vec<u8>> {
        self.request(tx, &Request::Read(path))
    }

    /// Reads a node as text (invalid UTF-8 is replaced: values are guest-written and untrusted).
    pub fn read_string(&mut self, tx: TxId, path: &str) -> Result<String> {
        let v = self.read(tx, path)?;
        Ok(String::from_utf8_lossy(&v).into_owned())
    }

    /// Reads a node, `None` if it does not exist.
    pub fn try_read(&mut self, tx: TxId, path: &str) -> Result<Option<Vec<u8>>> {
        match self.read(tx, path) {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.is_enoent() => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub fn write(&mut self, tx: TxId, path: &str, value: &[u8]) -> Result<()> {
        let r = self.request(tx, &Request::Write(path, value))?;
        Ok(wire::parse_ok(&r)?)
    }

    pub fn mkdir(&mut self, tx: TxId, path: &str) -> Result<()> {
        let r = self.request(tx, &Request::Mkdir(path))?;
        Ok(wire::parse_ok(&r)?)
    }

    /// Removes a node and everything below it. Removing a missing node is not an error.
    pub fn rm(&mut self, tx: TxId, path: &str) -> Result<()> {
        match self.request(tx, &Request::Rm(path)) {
            Ok(r) => Ok(wire::parse_ok(&r)?),
            Err(e) if e.is_enoent() => Ok(()),
            Err(e) => Err(e),
        }
    }

    pub fn directory(&mut self, tx: TxId, path: &str) -> Result<Vec<String>> {
        let r = self.request(tx, &Request::Directory(path))?;
        Ok(wire::parse_directory(&r)?)
    }

    /// Children, or an empty list if the node does not exist.
    pub fn try_directory(&mut self, tx: TxId, path: &str) -> Result<Vec<String>> {
        match self.directory(tx, path) {
            Ok(v) => Ok(v),
            Err(e) if e.is_enoent() => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    pub fn get_perms(&mut self, tx: TxId, path: &str) -> Result<Vec<Perm>> {
        let r = self.request(tx, &Request::GetPerms(path))?;
        Ok(wire::parse_perms(&r)?)
    }

    pub fn set_perms(&mut self, tx: TxId, path: &str, perms: &[Perm]) -> Result<()> {
        let r = self.request(tx, &Request::SetPerms(path, perms))?;
        Ok(wire::parse_ok(&r)?)
    }

    pub fn get_domain_path(&mut self, domid: u16) -> Result<String> {
        let r = self.request(TX_NONE, &Request::GetDomainPath(domid))?;
        let end = r.iter().position(|&b| b == 0).unwrap_or(r.len());
        Ok(String::from_utf8_lossy(&r[..end]).into_owned())
    }

    /// Watches `path` and everything below it. xenstored fires the watch once right away.
    pub fn watch(&mut self, path: &str, token: &str) -> Result<()> {
        let r = self.request(TX_NONE, &Request::Watch(path, token))?;
        Ok(wire::parse_ok(&r)?)
    }

    /// Removes a watch and drops its queued events.
    pub fn unwatch(&mut self, path: &str, token: &str) -> Result<()> {
        let r = self.request(TX_NONE, &Request::Unwatch(path, token));
        self.events.retain(|e| e.token != token);
        match r {
            Ok(r) => Ok(wire::parse_ok(&r)?),
            Err(e) if e.is_enoent() => Ok(()),
            Err(e) => Err(e),
        }
    }

    pub fn transaction_start(&mut self) -> Result<TxId> {
        let r = self.request(TX_NONE, &Request::TransactionStart)?;
        Ok(wire::parse_tx_id(&r)?)
    }

    /// Commits (`true`) or aborts a transaction. A commit that conflicted fails with `EAGAIN`.
    pub fn transaction_end(&mut self, tx: TxId, commit: bool) -> Result<()> {
        let r = self.request(tx, &Request::TransactionEnd(commit))?;
        Ok(wire::parse_ok(&r)?)
    }

    /// Runs `f` in a transaction and commits, retrying the whole thing when the commit (or a
    /// request inside) fails with `EAGAIN` because another client changed what it read. `f`
    /// must be repeatable. An error from `f` aborts the transaction.
    pub fn transaction<T>(&mut self, mut f: impl FnMut(&mut Xs, TxId) -> Result<T>) -> Result<T> {
        for _ in 0..TRANSACTION_RETRIES {
            let tx = self.transaction_start()?;
            let v = match f(self, tx) {
                Ok(v) => v,
                Err(e) => {
                    let _ = self.transaction_end(tx, false);
                    if e.errno() == Some(Errno::EAGAIN) {
                        continue;
                    }
                    return Err(e);
                }
            };
            match self.transaction_end(tx, true) {
                Ok(()) => return Ok(v),
                Err(e) if e.errno() == Some(Errno::EAGAIN) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(Error::Conflict {
            retries: TRANSACTION_RETRIES,
        })
    }

    // ---- events and waits -----------------------------------------------------------------

    /// The next watch event, or `None` if none arrives before `deadline` (`None` = forever).
    pub fn next_event(&mut self, deadline: Option<Instant>) -> Result<Option<WatchEvent>> {
        if let Some(e) = self.events.pop_front() {
            return Ok(Some(e));
        }
        loop {
            let Some(m) = self.read_message(deadline)? else {
                return Ok(None);
            };
            if m.header.ty == MsgType::WatchEvent as u32 {
                return Ok(Some(wire::parse_watch_event(&m.payload)?));
            }
            // Replies outside a request cannot be matched to anything: drop them.
        }
    }

    /// Events queued and not yet returned.
    pub fn pending_events(&self) -> usize {
        self.events.len()
    }

    /// Watches `path`, then evaluates `check` (which may read Xenstore) after the watch is set
    /// and after every event under it, until it returns `Some`; gives up after `timeout` with an
    /// error naming `what`. The watch is removed before returning. Checking after the watch is
    /// set means a change that happened before the call is never missed.
    pub fn wait_for<T>(
        &mut self,
        path: &str,
        what: &str,
        timeout: Duration,
        mut check: impl FnMut(&mut Xs) -> Result<Option<T>>,
    ) -> Result<T> {
        static NEXT_TOKEN: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let token = format!(
            "clickos-wait-{}-{}",
            std::process::id(),
            NEXT_TOKEN.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let start = Instant::now();
        let deadline = start + timeout;
        self.watch(path, &token)?;
        let result = (|| loop {
            if let Some(v) = check(self)? {
                return Ok(v);
            }
            // Wait for an event of this watch; events of other watches stay queued.
            if self.next_event_for(&token, deadline)?.is_none() {
                return Err(Error::Timeout {
                    what: what.to_string(),
                    after: start.elapsed(),
                });
            }
            // Coalesce a burst of events into one check.
            while self.take_queued(&token).is_some() {}
        })();
        let _ = self.unwatch(path, &token);
        result
    }

    fn take_queued(&mut self, token: &str) -> Option<WatchEvent> {
        let i = self.events.iter().position(|e| e.token == token)?;
        self.events.remove(i)
    }

    /// The next event with `token`; other events are kept queued in order.
    fn next_event_for(&mut self, token: &str, deadline: Instant) -> Result<Option<WatchEvent>> {
        if let Some(e) = self.take_queued(token) {
            return Ok(Some(e));
        }
        loop {
            let Some(m) = self.read_message(Some(deadline))? else {
                return Ok(None);
            };
            if m.header.ty == MsgType::WatchEvent as u32 {
                let ev = wire::parse_watch_event(&m.payload)?;
                if ev.token == token {
                    return Ok(Some(ev));
                }
                self.events.push_back(ev);
            }
        }
    }

    /// Waits until `path` exists; returns its value.
    pub fn wait_exists(&mut self, path: &str, what: &str, timeout: Duration) -> Result<Vec<u8>> {
        let p = path.to_string();
        self.wait_for(path, what, timeout, |xs| xs.try_read(TX_NONE, &p))
    }

    /// Waits until `path` no longer exists.
    pub fn wait_gone(&mut self, path: &str, what: &str, timeout: Duration) -> Result<()> {
        let p = path.to_string();
        self.wait_for(path, what, timeout, |xs| {
            Ok(xs.try_read(TX_NONE, &p)?.is_none().then_some(()))
        })
    }
}

/// Removes duplicate slashes and a trailing slash so that paths built by joining compare equal.
pub fn join(base: &str, rel: &str) -> String {
    let mut s = String::with_capacity(base.len() + rel.len() + 1);
    s.push_str(base.trim_end_matches('/'));
    s.push('/');
    s.push_str(rel.trim_start_matches('/'));
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::FakeXenstored;

    fn client(f: &FakeXenstored) -> Xs {
        let mut xs = Xs::from_stream(f.connect());
        xs.reply_timeout = Duration::from_secs(5);
        xs
    }

    #[test]
    fn read_write_directory_rm() {
        let f = FakeXenstored::new();
        let mut xs = client(&f);
        xs.write(TX_NONE, "/local/domain/3/data/x", b"hello")
            .unwrap();
        assert_eq!(
            xs.read(TX_NONE, "/local/domain/3/data/x").unwrap(),
            b"hello"
        );
        assert_eq!(
            xs.read_string(TX_NONE, "/local/domain/3/data/x").unwrap(),
            "hello"
        );
        // Parents were created implicitly, empty.
        assert_eq!(xs.read(TX_NONE, "/local/domain/3/data").unwrap(), b"");
        xs.write(TX_NONE, "/local/domain/3/data/y", b"").unwrap();
        assert_eq!(
            xs.directory(TX_NONE, "/local/domain/3/data").unwrap(),
            ["x", "y"]
        );
        assert!(xs.read(TX_NONE, "/nope").unwrap_err().is_enoent());
        assert_eq!(xs.try_read(TX_NONE, "/nope").unwrap(), None);
        assert_eq!(
            xs.try_directory(TX_NONE, "/nope").unwrap(),
            Vec::<String>::new()
        );
        xs.rm(TX_NONE, "/local/domain/3/data").unwrap();
        assert!(xs
            .read(TX_NONE, "/local/domain/3/data/x")
            .unwrap_err()
            .is_enoent());
        xs.rm(TX_NONE, "/local/domain/3/data").unwrap(); // missing: fine
        xs.mkdir(TX_NONE, "/a/b").unwrap();
        assert_eq!(xs.read(TX_NONE, "/a/b").unwrap(), b"");
        // Relative paths are under dom0's home.
        xs.write(TX_NONE, "rel", b"1").unwrap();
        assert_eq!(xs.read(TX_NONE, "/local/domain/0/rel").unwrap(), b"1");
        assert_eq!(xs.get_domain_path(7).unwrap(), "/local/domain/7");
        // Invalid requests fail before anything is sent.
        assert!(matches!(
            xs.write(TX_NONE, "/a b", b""),
            Err(Error::Xs(wire::Error::InvalidPath))
        ));
        assert!(matches!(
            xs.write(TX_NONE, "/a", &[0; 5000]),
            Err(Error::Xs(wire::Error::TooBig))
        ));
        // The connection still works after those.
        assert_eq!(xs.read(TX_NONE, "/a/b").unwrap(), b"");
    }

    #[test]
    fn perms() {
        let f = FakeXenstored::new();
        let mut xs = client(&f);
        xs.write(TX_NONE, "/p", b"").unwrap();
        assert_eq!(
            xs.get_perms(TX_NONE, "/p").unwrap(),
            [Perm::parse("n0").unwrap()]
        );
        let p = [Perm::parse("b5").unwrap(), Perm::parse("r0").unwrap()];
        xs.set_perms(TX_NONE, "/p", &p).unwrap();
        assert_eq!(xs.get_perms(TX_NONE, "/p").unwrap(), p);
        assert!(xs.get_perms(TX_NONE, "/q").unwrap_err().is_enoent());
    }

    #[test]
    fn watches_fire_and_are_queued_across_requests() {
        let f = FakeXenstored::new();
        let mut xs = client(&f);
        let mut other = client(&f);
        xs.watch("/w", "tok").unwrap();
        // The initial event, like xenstored.
        let e = xs
            .next_event(Some(Instant::now() + Duration::from_secs(5)))
            .unwrap()
            .unwrap();
        assert_eq!((e.path.as_str(), e.token.as_str()), ("/w", "tok"));
        other.write(TX_NONE, "/w/a/b", b"1").unwrap();
        other.write(TX_NONE, "/elsewhere", b"1").unwrap();
        // A request in between: the event that arrives first is queued, not lost.
        assert_eq!(xs.read(TX_NONE, "/w/a/b").unwrap(), b"1");
        let e = xs
            .next_event(Some(Instant::now() + Duration::from_secs(5)))
            .unwrap()
            .unwrap();
        assert_eq!(e.path, "/w/a/b");
        // Nothing for /elsewhere.
        let none = xs
            .next_event(Some(Instant::now() + Duration::from_millis(100)))
            .unwrap();
        assert_eq!(none, None);
        xs.unwatch("/w", "tok").unwrap();
        other.write(TX_NONE, "/w/c", b"1").unwrap();
        let none = xs
            .next_event(Some(Instant::now() + Duration::from_millis(100)))
            .unwrap();
        assert_eq!(none, None);
    }

    #[test]
    fn wait_for_sees_later_and_earlier_changes_and_times_out_with_a_name() {
        let f = FakeXenstored::new();
        let mut xs = client(&f);
        // Already there: returns at once.
        xs.write(TX_NONE, "/d/boot", b"ok").unwrap();
        let v = xs
            .wait_exists("/d/boot", "boot", Duration::from_secs(5))
            .unwrap();
        assert_eq!(v, b"ok");
        // Written later by another client.
        let f2 = f.clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            let mut o = Xs::from_stream(f2.connect());
            o.write(TX_NONE, "/d/other", b"x").unwrap();
            std::thread::sleep(Duration::from_millis(50));
            o.write(TX_NONE, "/d/later", b"yes").unwrap();
        });
        let v = xs
            .wait_exists("/d/later", "the later node", Duration::from_secs(5))
            .unwrap();
        assert_eq!(v, b"yes");
        t.join().unwrap();
        // Gone.
        let f3 = f.clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            Xs::from_stream(f3.connect())
                .rm(TX_NONE, "/d/later")
                .unwrap();
        });
        xs.wait_gone("/d/later", "removal", Duration::from_secs(5))
            .unwrap();
        t.join().unwrap();
        // Never: the error names what was waited for.
        let t0 = Instant::now();
        let e = xs
            .wait_exists(
                "/d/never",
                "the guest's boot node /d/never",
                Duration::from_millis(200),
            )
            .unwrap_err();
        assert!(t0.elapsed() >= Duration::from_millis(200));
        assert!(matches!(e, Error::Timeout { .. }));
        let msg = e.to_string();
        assert!(msg.contains("the guest's boot node /d/never"), "{msg}");
        // The waits cleaned up their watches.
        assert_eq!(f.watch_count(), 0);
    }

    #[test]
    fn transactions_commit_abort_and_retry_on_eagain() {
        let f = FakeXenstored::new();
        let mut xs = client(&f);
        let mut other = client(&f);
        xs.write(TX_NONE, "/n", b"0").unwrap();
        // Abort: nothing written.
        let tx = xs.transaction_start().unwrap();
        xs.write(tx, "/t", b"1").unwrap();
        assert_eq!(xs.read(tx, "/t").unwrap(), b"1");
        assert!(other.read(TX_NONE, "/t").unwrap_err().is_enoent());
        xs.transaction_end(tx, false).unwrap();
        assert!(xs.read(TX_NONE, "/t").unwrap_err().is_enoent());
        // A conflicting write makes the first attempt fail with EAGAIN; the helper retries.
        let mut attempts = 0;
        let v = xs
            .transaction(|xs, tx| {
                attempts += 1;
                let n: u32 = xs.read_string(tx, "/n")?.parse().unwrap();
                if attempts == 1 {
                    other.write(TX_NONE, "/n", b"10").unwrap();
                }
                xs.write(tx, "/n", (n + 1).to_string().as_bytes())?;
                Ok(n + 1)
            })
            .unwrap();
        assert_eq!(attempts, 2);
        assert_eq!(v, 11);
        assert_eq!(xs.read(TX_NONE, "/n").unwrap(), b"11");
        // An error inside aborts and is returned as is.
        let e = xs
            .transaction(|xs, tx| {
                xs.write(tx, "/m", b"1")?;
                xs.read(tx, "/missing").map(|_| ())
            })
            .unwrap_err();
        assert!(e.is_enoent());
        assert!(xs.read(TX_NONE, "/m").unwrap_err().is_enoent());
        // Always conflicting: gives up with a clear error.
        let e = xs
            .transaction(|xs, tx| {
                xs.read(tx, "/n")?;
                other.write(TX_NONE, "/n", b"x").unwrap();
                xs.write(tx, "/n", b"y")
            })
            .unwrap_err();
        assert!(matches!(e, Error::Conflict { .. }), "{e}");
    }

    #[test]
    fn closed_connection_and_reply_timeout_are_errors() {
        let f = FakeXenstored::new();
        let mut xs = client(&f);
        f.set_mute(true);
        xs.reply_timeout = Duration::from_millis(150);
        let e = xs.read(TX_NONE, "/x").unwrap_err();
        assert!(e.to_string().contains("reply to Read"), "{e}");
        let (a, b) = UnixStream::pair().unwrap();
        drop(b);
        let mut xs = Xs::from_stream(a);
        assert!(matches!(xs.read(TX_NONE, "/x"), Err(Error::Io(_))));
    }

    #[test]
    fn connect_to_a_unix_socket_path_and_open_reports_what_it_tried() {
        let dir = std::env::temp_dir().join(format!("xs-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let sock = dir.join("socket");
        let f = FakeXenstored::new();
        f.listen(&sock);
        let mut xs = Xs::connect(&sock).unwrap();
        xs.write(TX_NONE, "/s", b"1").unwrap();
        assert_eq!(xs.read(TX_NONE, "/s").unwrap(), b"1");
        assert!(Xs::connect(&dir.join("missing")).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn join_paths() {
        assert_eq!(join("/local/domain/1/", "/data"), "/local/domain/1/data");
        assert_eq!(join("/a", "b/c"), "/a/b/c");
    }
}
