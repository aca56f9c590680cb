//! A Xenstore client over the guest's shared ring page.
//!
//! Both 1024-byte rings are streams: a request (up to 16 + 4096 bytes) is written in as many
//! pieces as the free room allows, and a reply is read in pieces as it arrives, notifying the
//! server after each piece so it can go on. Watch events that arrive while waiting for a reply
//! are queued for [`Client::next_watch_event`]. Single-threaded: one request at a time.

use super::wire::{self, Errno, Error, Message, MessageReader, MsgType, Perm, Request, WatchEvent};
use crate::abi::{XenstoreDomainInterface, XENSTORE_RING_SIZE};
use crate::events::Channel;
use crate::ring::ByteRing;
use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;
use core::ptr::addr_of_mut;

/// A transaction id; [`TX_NONE`] for requests outside any transaction.
pub type TxId = u32;
pub const TX_NONE: TxId = 0;

/// How often [`Client::transaction`] retries a commit that failed with `EAGAIN`.
pub const TRANSACTION_RETRIES: usize = 32;

pub struct Client<C: Channel> {
    req: ByteRing,
    rsp: ByteRing,
    chan: C,
    next_req_id: u32,
    reader: MessageReader,
    events: VecDeque<WatchEvent>,
    /// Replies that matched no outstanding request (should stay 0).
    pub stray_replies: u32,
}

impl<C: Channel> Client<C> {
    /// # Safety
    /// `intf` must point to the Xenstore ring page for the life of the value, and nothing else
    /// in this domain may use it.
    pub unsafe fn new(intf: *mut XenstoreDomainInterface, chan: C) -> Self {
        let size = XENSTORE_RING_SIZE as u32;
        Client {
            req: ByteRing::new(
                addr_of_mut!((*intf).req) as *mut u8,
                size,
                addr_of_mut!((*intf).req_cons),
                addr_of_mut!((*intf).req_prod),
            ),
            rsp: ByteRing::new(
                addr_of_mut!((*intf).rsp) as *mut u8,
                size,
                addr_of_mut!((*intf).rsp_cons),
                addr_of_mut!((*intf).rsp_prod),
            ),
            chan,
            next_req_id: 1,
            reader: MessageReader::new(),
            events: VecDeque::new(),
            stray_replies: 0,
        }
    }

    pub fn channel(&mut self) -> &mut C {
        &mut self.chan
    }

    fn timed_out(&self, deadline: Option<u64>) -> bool {
        deadline.is_some_and(|d| self.chan.now() >= d)
    }

    /// Writes all of `bytes` into the request ring.
    fn send(&mut self, mut bytes: &[u8]) -> Result<(), Error> {
        while !bytes.is_empty() {
            let n = self
                .req
                .produce(bytes)
                .map_err(|_| Error::Protocol("request ring indices corrupt"))?;
            if n > 0 {
                bytes = &bytes[n..];
                self.chan.notify();
            } else {
                self.chan.wait(None);
            }
        }
        Ok(())
    }

    /// Reads the next whole message from the response ring.
    /// The next message; with `interruptible`, gives up with [`Error::Timeout`] when the
    /// channel reports another event source fired (the idle wait of the main loop).
    fn recv(&mut self, deadline: Option<u64>, interruptible: bool) -> Result<Message, Error> {
        loop {
            let n = self
                .rsp
                .consume(self.reader.spare())
                .map_err(|_| Error::Protocol("response ring indices corrupt"))?;
            if n > 0 {
                // Room was freed: the server may be waiting for it.
                self.chan.notify();
                if let Some(m) = self.reader.filled(n)? {
                    return Ok(m);
                }
                continue;
            }
            if self.timed_out(deadline) || (interruptible && self.chan.interrupted()) {
                return Err(Error::Timeout);
            }
            self.chan.wait(deadline);
        }
    }

    /// Keeps a watch event for later, or returns a reply.
    fn sort(&mut self, m: Message) -> Result<Option<Message>, Error> {
        if m.header.ty == MsgType::WatchEvent as u32 {
            self.events.push_back(wire::parse_watch_event(&m.payload)?);
            Ok(None)
        } else {
            Ok(Some(m))
        }
    }

    /// Sends one request and waits for its reply's payload.
    pub fn request(&mut self, tx: TxId, req: &Request<'_>) -> Result<Vec<u8>, Error> {
        let id = self.next_req_id;
        self.next_req_id = self.next_req_id.wrapping_add(1).max(1);
        let msg = req.encode(id, tx)?;
        self.send(&msg)?;
        loop {
            let m = self.recv(None, false)?;
            let Some(m) = self.sort(m)? else { continue };
            if m.header.req_id != id {
                self.stray_replies += 1;
                continue;
            }
            return m.into_result();
        }
    }

    pub fn read(&mut self, tx: TxId, path: &str) -> Result<Vec<u8>, Error> {
        self.request(tx, &Request::Read(path))
    }

    /// A node's value as text (lossy for non-UTF-8 bytes).
    pub fn read_string(&mut self, tx: TxId, path: &str) -> Result<String, Error> {
        let v = self.read(tx, path)?;
        Ok(String::from_utf8(v)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
    }

    /// Writes a value (creating missing parents).
    pub fn write(&mut self, tx: TxId, path: &str, value: &[u8]) -> Result<(), Error> {
        wire::parse_ok(&self.request(tx, &Request::Write(path, value))?)
    }

    pub fn mkdir(&mut self, tx: TxId, path: &str) -> Result<(), Error> {
        wire::parse_ok(&self.request(tx, &Request::Mkdir(path))?)
    }

    pub fn rm(&mut self, tx: TxId, path: &str) -> Result<(), Error> {
        wire::parse_ok(&self.request(tx, &Request::Rm(path))?)
    }

    pub fn directory(&mut self, tx: TxId, path: &str) -> Result<Vec<String>, Error> {
        wire::parse_directory(&self.request(tx, &Request::Directory(path))?)
    }

    pub fn get_perms(&mut self, tx: TxId, path: &str) -> Result<Vec<Perm>, Error> {
        wire::parse_perms(&self.request(tx, &Request::GetPerms(path))?)
    }

    pub fn set_perms(&mut self, tx: TxId, path: &str, perms: &[Perm]) -> Result<(), Error> {
        wire::parse_ok(&self.request(tx, &Request::SetPerms(path, perms))?)
    }

    /// Watches `path` and everything below it. The watch fires once right away.
    pub fn watch(&mut self, path: &str, token: &str) -> Result<(), Error> {
        wire::parse_ok(&self.request(TX_NONE, &Request::Watch(path, token))?)
    }

    pub fn unwatch(&mut self, path: &str, token: &str) -> Result<(), Error> {
        wire::parse_ok(&self.request(TX_NONE, &Request::Unwatch(path, token))?)?;
        // Forget events of this watch that are still queued.
        self.events.retain(|e| e.token != token);
        Ok(())
    }

    pub fn transaction_start(&mut self) -> Result<TxId, Error> {
        wire::parse_tx_id(&self.request(TX_NONE, &Request::TransactionStart)?)
    }

    /// Commits (`commit = true`) or aborts. A commit may fail with `EAGAIN`: then redo the
    /// whole transaction.
    pub fn transaction_end(&mut self, tx: TxId, commit: bool) -> Result<(), Error> {
        wire::parse_ok(&self.request(tx, &Request::TransactionEnd(commit))?)
    }

    /// Runs `body` in a transaction and commits it, redoing everything when the commit fails
    /// with `EAGAIN`. An error from `body` aborts the transaction.
    pub fn transaction<T>(
        &mut self,
        mut body: impl FnMut(&mut Self, TxId) -> Result<T, Error>,
    ) -> Result<T, Error> {
        for _ in 0..TRANSACTION_RETRIES {
            let tx = self.transaction_start()?;
            match body(self, tx) {
                Ok(v) => match self.transaction_end(tx, true) {
                    Ok(()) => return Ok(v),
                    Err(Error::Errno(Errno::EAGAIN)) => continue,
                    Err(e) => return Err(e),
                },
                Err(e) => {
                    let _ = self.transaction_end(tx, false);
                    return Err(e);
                }
            }
        }
        Err(Error::Errno(Errno::EAGAIN))
    }

    /// The next watch event, waiting for one until `deadline` (Xen system time, ns; `None`:
    /// forever). Replies to nothing (there is no request outstanding) are dropped.
    pub fn next_watch_event(&mut self, deadline: Option<u64>) -> Result<WatchEvent, Error> {
        loop {
            if let Some(e) = self.events.pop_front() {
                return Ok(e);
            }
            let m = self.recv(deadline, true)?;
            if self.sort(m)?.is_some() {
                self.stray_replies += 1;
            }
        }
    }

    /// Watch events already received and not yet taken.
    pub fn queued_events(&self) -> usize {
        self.events.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xenstore::wire::Header;
    use std::boxed::Box;
    use std::collections::BTreeMap;
    use std::format;
    use std::string::ToString;
    use std::vec;

    /// An in-memory xenstored on the other end of the ring. It runs when the client waits, and
    /// moves at most `chunk` bytes per ring per step, so messages cross the ring in pieces.
    struct FakeXenstored {
        intf: *mut XenstoreDomainInterface,
        chunk: usize,
        reader: MessageReader,
        out: VecDeque<u8>,
        nodes: BTreeMap<String, Vec<u8>>,
        watches: Vec<(String, String)>,
        next_tx: u32,
        /// Commits to fail with EAGAIN before one succeeds.
        eagain_commits: u32,
        commits: u32,
        steps: u32,
        now: u64,
        notifies: u32,
        /// Stop answering (to test timeouts).
        mute: bool,
    }

    impl FakeXenstored {
        fn new(intf: *mut XenstoreDomainInterface, chunk: usize) -> Self {
            let mut nodes = BTreeMap::new();
            nodes.insert("/local/domain/7".to_string(), vec![]);
            nodes.insert("/local/domain/7/domid".to_string(), b"7".to_vec());
            FakeXenstored {
                intf,
                chunk,
                reader: MessageReader::new(),
                out: VecDeque::new(),
                nodes,
                watches: vec![],
                next_tx: 1,
                eagain_commits: 0,
                commits: 0,
                steps: 0,
                now: 0,
                notifies: 0,
                mute: false,
            }
        }

        fn abs(p: &str) -> String {
            if p.starts_with('/') {
                p.to_string()
            } else {
                format!("/local/domain/7/{p}")
            }
        }

        fn reply(&mut self, ty: u32, req_id: u32, tx_id: u32, payload: &[u8]) {
            let h = Header {
                ty,
                req_id,
                tx_id,
                len: payload.len() as u32,
            };
            self.out.extend(h.encode());
            self.out.extend(payload);
        }

        fn fire(&mut self, changed: &str) {
            let hits: Vec<_> = self
                .watches
                .iter()
                .filter(|(p, _)| {
                    let p = Self::abs(p);
                    changed == p || changed.starts_with(&format!("{p}/"))
                })
                .cloned()
                .collect();
            for (_, tok) in hits {
                let payload = format!("{changed}\0{tok}\0");
                self.reply(15, 0, 0, payload.as_bytes());
            }
        }

        fn handle(&mut self, m: Message) {
            let h = m.header;
            let parts: Vec<&[u8]> = m.payload.split(|&b| b == 0).collect();
            let s = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
            let err = |me: &mut Self, e: &str| {
                me.reply(16, h.req_id, h.tx_id, format!("{e}\0").as_bytes())
            };
            match MsgType::from_u32(h.ty).unwrap() {
                MsgType::Read => match self.nodes.get(&Self::abs(&s(parts[0]))).cloned() {
                    Some(v) => self.reply(2, h.req_id, h.tx_id, &v),
                    None => err(self, "ENOENT"),
                },
                MsgType::Write => {
                    let path = Self::abs(&s(parts[0]));
                    let value = &m.payload[parts[0].len() + 1..];
                    // Create parents.
                    let mut p = path.clone();
                    while let Some(i) = p.rfind('/') {
                        p.truncate(i);
                        if p.is_empty() {
                            break;
                        }
                        self.nodes.entry(p.clone()).or_default();
                    }
                    self.nodes.insert(path.clone(), value.to_vec());
                    self.reply(11, h.req_id, h.tx_id, b"OK\0");
                    self.fire(&path);
                }
                MsgType::Mkdir => {
                    let path = Self::abs(&s(parts[0]));
                    self.nodes.entry(path.clone()).or_default();
                    self.reply(12, h.req_id, h.tx_id, b"OK\0");
                    self.fire(&path);
                }
                MsgType::Rm => {
                    let path = Self::abs(&s(parts[0]));
                    if self.nodes.remove(&path).is_none() {
                        return err(self, "ENOENT");
                    }
                    let prefix = format!("{path}/");
                    self.nodes.retain(|k, _| !k.starts_with(&prefix));
                    self.reply(13, h.req_id, h.tx_id, b"OK\0");
                    self.fire(&path);
                }
                MsgType::Directory => {
                    let path = Self::abs(&s(parts[0]));
                    if !self.nodes.contains_key(&path) {
                        return err(self, "ENOENT");
                    }
                    let prefix = format!("{path}/");
                    let mut out = Vec::new();
                    for k in self.nodes.keys() {
                        if let Some(rest) = k.strip_prefix(&prefix) {
                            if !rest.contains('/') {
                                out.extend_from_slice(rest.as_bytes());
                                out.push(0);
                            }
                        }
                    }
                    self.reply(1, h.req_id, h.tx_id, &out);
                }
                MsgType::GetPerms => self.reply(3, h.req_id, h.tx_id, b"n7\0r0\0"),
                MsgType::Watch => {
                    let (p, t) = (s(parts[0]), s(parts[1]));
                    self.watches.push((p.clone(), t.clone()));
                    self.reply(4, h.req_id, h.tx_id, b"OK\0");
                    // A new watch fires once, with the watched path as given.
                    self.reply(15, 0, 0, format!("{p}\0{t}\0").as_bytes());
                }
                MsgType::Unwatch => {
                    let (p, t) = (s(parts[0]), s(parts[1]));
                    self.watches.retain(|w| *w != (p.clone(), t.clone()));
                    self.reply(5, h.req_id, h.tx_id, b"OK\0");
                }
                MsgType::TransactionStart => {
                    assert_eq!(m.payload, b"\0");
                    let id = self.next_tx;
                    self.next_tx += 1;
                    self.reply(6, h.req_id, 0, format!("{id}\0").as_bytes());
                }
                MsgType::TransactionEnd => {
                    assert_ne!(h.tx_id, 0);
                    if m.payload == b"T\0" {
                        self.commits += 1;
                        if self.eagain_commits > 0 {
                            self.eagain_commits -= 1;
                            return err(self, "EAGAIN");
                        }
                    }
                    self.reply(7, h.req_id, h.tx_id, b"OK\0");
                }
                _ => err(self, "ENOSYS"),
            }
        }

        fn step(&mut self) {
            self.steps += 1;
            self.now += 1000;
            if self.mute {
                return;
            }
            let intf = self.intf;
            let size = XENSTORE_RING_SIZE as u32;
            // The server consumes requests and produces responses.
            let req = unsafe {
                ByteRing::new(
                    addr_of_mut!((*intf).req) as *mut u8,
                    size,
                    addr_of_mut!((*intf).req_cons),
                    addr_of_mut!((*intf).req_prod),
                )
            };
            let rsp = unsafe {
                ByteRing::new(
                    addr_of_mut!((*intf).rsp) as *mut u8,
                    size,
                    addr_of_mut!((*intf).rsp_cons),
                    addr_of_mut!((*intf).rsp_prod),
                )
            };
            let mut budget = self.chunk;
            while budget > 0 {
                let spare = self.reader.spare();
                let lim = spare.len().min(budget);
                let n = req.consume(&mut spare[..lim]).unwrap();
                if n == 0 {
                    break;
                }
                budget -= n;
                if let Some(m) = self.reader.filled(n).unwrap() {
                    self.handle(m);
                }
            }
            let take = self.out.len().min(self.chunk);
            let bytes: Vec<u8> = self.out.iter().take(take).copied().collect();
            let n = rsp.produce(&bytes).unwrap();
            self.out.drain(..n);
        }
    }

    impl Channel for FakeXenstored {
        fn notify(&mut self) {
            self.notifies += 1;
        }
        fn wait(&mut self, _deadline: Option<u64>) -> bool {
            self.step();
            true
        }
        fn now(&self) -> u64 {
            self.now
        }
    }

    fn setup(
        chunk: usize,
        start_idx: u32,
    ) -> (Box<XenstoreDomainInterface>, Client<FakeXenstored>) {
        let mut page: Box<XenstoreDomainInterface> = Box::new(unsafe { core::mem::zeroed() });
        page.req_cons = start_idx;
        page.req_prod = start_idx;
        page.rsp_cons = start_idx;
        page.rsp_prod = start_idx;
        let p: *mut XenstoreDomainInterface = &mut *page;
        let c = unsafe { Client::new(p, FakeXenstored::new(p, chunk)) };
        (page, c)
    }

    #[test]
    fn basic_operations() {
        let (_page, mut xs) = setup(64, 0);
        assert_eq!(xs.read_string(TX_NONE, "domid").unwrap(), "7");
        xs.mkdir(TX_NONE, "data/clickos").unwrap();
        xs.write(TX_NONE, "data/clickos/boot", b"ok").unwrap();
        assert_eq!(
            xs.read(TX_NONE, "/local/domain/7/data/clickos/boot")
                .unwrap(),
            b"ok"
        );
        assert_eq!(xs.directory(TX_NONE, "data/clickos").unwrap(), ["boot"]);
        assert_eq!(xs.read(TX_NONE, "nope"), Err(Error::Errno(Errno::ENOENT)));
        xs.rm(TX_NONE, "data/clickos/boot").unwrap();
        assert_eq!(
            xs.directory(TX_NONE, "data/clickos").unwrap(),
            Vec::<String>::new()
        );
        assert_eq!(
            xs.rm(TX_NONE, "data/clickos/boot"),
            Err(Error::Errno(Errno::ENOENT))
        );
        let perms = xs.get_perms(TX_NONE, "data").unwrap();
        assert_eq!(
            perms[0],
            Perm {
                domid: 7,
                read: false,
                write: false
            }
        );
        assert_eq!(xs.stray_replies, 0);
        assert!(xs.channel().notifies > 0);
    }

    #[test]
    fn large_values_cross_the_ring_in_pieces() {
        for (chunk, start) in [(1000, 0), (37, u32::MAX - 100), (1024, 1000), (5, 3)] {
            let (page, mut xs) = setup(chunk, start);
            // 4096 - len("big") - 1 bytes: the largest value in one WRITE.
            let big: Vec<u8> = (0..4092u32).map(|i| (i % 251) as u8).collect();
            xs.write(TX_NONE, "big", &big).unwrap();
            assert_eq!(xs.read(TX_NONE, "big").unwrap(), big);
            assert_eq!(page.rsp_cons, page.rsp_prod);
            assert_eq!(page.req_cons, page.req_prod);
        }
    }

    #[test]
    fn too_big_requests_are_refused_locally() {
        let (_page, mut xs) = setup(64, 0);
        let big = vec![b'x'; 4093];
        assert_eq!(xs.write(TX_NONE, "big", &big), Err(Error::TooBig));
        assert_eq!(xs.read(TX_NONE, "a//b"), Err(Error::InvalidPath));
        // The connection still works.
        assert_eq!(xs.read_string(TX_NONE, "domid").unwrap(), "7");
    }

    #[test]
    fn watch_events_arrive_and_are_queued_during_requests() {
        let (_page, mut xs) = setup(50, 0);
        xs.watch("data/clickos/cmd", "cmd").unwrap();
        // The initial firing.
        let e = xs.next_watch_event(None).unwrap();
        assert_eq!(
            e,
            WatchEvent {
                path: "data/clickos/cmd".into(),
                token: "cmd".into()
            }
        );
        // Our own write fires the watch while we wait for the write's reply: it is queued.
        xs.write(TX_NONE, "data/clickos/cmd", b"poweroff").unwrap();
        xs.write(TX_NONE, "data/clickos/other", b"x").unwrap(); // not watched
        assert_eq!(xs.queued_events(), 1);
        let e = xs.next_watch_event(None).unwrap();
        assert_eq!(e.path, "/local/domain/7/data/clickos/cmd");
        assert_eq!(xs.read_string(TX_NONE, &e.path).unwrap(), "poweroff");
        // Nothing else: a deadline gives Timeout.
        let now = xs.channel().now();
        assert_eq!(xs.next_watch_event(Some(now + 10_000)), Err(Error::Timeout));
        xs.unwatch("data/clickos/cmd", "cmd").unwrap();
        xs.write(TX_NONE, "data/clickos/cmd", b"again").unwrap();
        assert_eq!(xs.queued_events(), 0);
    }

    #[test]
    fn transactions_retry_on_eagain() {
        let (_page, mut xs) = setup(64, 0);
        xs.channel().eagain_commits = 2;
        let mut runs = 0;
        let v = xs
            .transaction(|xs, tx| {
                runs += 1;
                assert_ne!(tx, TX_NONE);
                xs.write(tx, "data/clickos/boot", b"ok")?;
                xs.read_string(tx, "domid")
            })
            .unwrap();
        assert_eq!(v, "7");
        assert_eq!(runs, 3);
        assert_eq!(xs.channel().commits, 3);
        // An error inside aborts (no commit).
        let r: Result<(), Error> = xs.transaction(|xs, tx| xs.read(tx, "missing").map(|_| ()));
        assert_eq!(r, Err(Error::Errno(Errno::ENOENT)));
        assert_eq!(xs.channel().commits, 3);
    }

    #[test]
    fn a_silent_server_times_out_watch_waits() {
        let (_page, mut xs) = setup(64, 0);
        xs.channel().mute = true;
        assert_eq!(xs.next_watch_event(Some(5_000)), Err(Error::Timeout));
    }
}
