//! A small in-process xenstored for unit tests of dom0 code: a tree of nodes with values and
//! permissions, implicit parents, watches (with the initial event), and transactions that fail
//! with `EAGAIN` at commit when anything was written since they started. It speaks the real
//! wire format over Unix sockets, so clients are tested through their real transport code.
//! It is not Xen: no domains, quotas, or permission checks. Tests of the real thing run in the
//! Xen test host (images/scenarios).

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use crate::wire::{self, Header, MsgType, Perm, HEADER_LEN};

type Tree = BTreeMap<String, (Vec<u8>, Vec<Perm>)>;

struct Tx {
    tree: Tree,
    start_gen: u64,
    touched: Vec<String>,
}

#[derive(Default)]
struct State {
    tree: Tree,
    generation: u64,
    next_tx: u32,
    txs: HashMap<u32, Tx>,
    /// (connection, path, token)
    watches: Vec<(u32, String, String)>,
    conns: HashMap<u32, Arc<Mutex<UnixStream>>>,
}

/// A handle on the fake server; clones share it.
#[derive(Clone, Default)]
pub struct FakeXenstored {
    state: Arc<Mutex<State>>,
    next_conn: Arc<AtomicU32>,
    mute: Arc<AtomicBool>,
    /// The first event of a watch just set, sent after the reply to `WATCH`.
    initial_event: Arc<Mutex<HashMap<u32, (String, String)>>>,
}

fn default_perms() -> Vec<Perm> {
    vec![Perm {
        domid: 0,
        read: false,
        write: false,
    }]
}

fn absolute(p: &str) -> String {
    if p.starts_with('/') || p.starts_with('@') {
        p.to_string()
    } else {
        format!("/local/domain/0/{p}")
    }
}

fn is_under(path: &str, top: &str) -> bool {
    top == "/"
        || path == top
        || (path.starts_with(top) && path.as_bytes().get(top.len()) == Some(&b'/'))
}

fn insert(tree: &mut Tree, path: &str, value: &[u8]) {
    // Implicit parents, empty, like xenstored.
    let mut i = 0;
    while let Some(j) = path[i + 1..].find('/') {
        let parent = &path[..i + 1 + j];
        tree.entry(parent.to_string())
            .or_insert_with(|| (Vec::new(), default_perms()));
        i += 1 + j;
    }
    match tree.get_mut(path) {
        Some(n) => n.0 = value.to_vec(),
        None => {
            tree.insert(path.to_string(), (value.to_vec(), default_perms()));
        }
    }
}

fn children(tree: &Tree, path: &str) -> Vec<String> {
    let prefix = if path == "/" {
        "/".to_string()
    } else {
        format!("{path}/")
    };
    tree.range(prefix.clone()..)
        .take_while(|(k, _)| k.starts_with(&prefix))
        .filter_map(|(k, _)| {
            let rest = &k[prefix.len()..];
            (!rest.is_empty() && !rest.contains('/')).then(|| rest.to_string())
        })
        .collect()
}

impl FakeXenstored {
    pub fn new() -> FakeXenstored {
        let f = FakeXenstored::default();
        f.state
            .lock()
            .unwrap()
            .tree
            .insert("/".into(), (Vec::new(), default_perms()));
        f
    }

    /// A new client connection (the other end is served by a thread).
    pub fn connect(&self) -> UnixStream {
        let (a, b) = UnixStream::pair().expect("socketpair");
        self.serve(b);
        a
    }

    /// Serves connections on a Unix socket at `path` (a background thread accepts them).
    pub fn listen(&self, path: &Path) {
        let _ = std::fs::remove_file(path);
        let l = UnixListener::bind(path).expect("bind");
        let me = self.clone();
        std::thread::spawn(move || {
            for s in l.incoming().flatten() {
                me.serve(s);
            }
        });
    }

    /// While muted the server reads requests and answers none (for timeout tests).
    pub fn set_mute(&self, mute: bool) {
        self.mute.store(mute, Ordering::SeqCst);
    }

    /// Watches registered by all connections.
    pub fn watch_count(&self) -> usize {
        self.state.lock().unwrap().watches.len()
    }

    /// Number of nodes (like `xenstore-ls / | wc -l`, plus the root).
    pub fn node_count(&self) -> usize {
        self.state.lock().unwrap().tree.len()
    }

    /// A node's value, read directly.
    pub fn get(&self, path: &str) -> Option<Vec<u8>> {
        self.state
            .lock()
            .unwrap()
            .tree
            .get(path)
            .map(|n| n.0.clone())
    }

    /// Writes a node directly (as if another client did; watches fire).
    pub fn put(&self, path: &str, value: &[u8]) {
        let mut st = self.state.lock().unwrap();
        insert(&mut st.tree, path, value);
        st.generation += 1;
        Self::fire(&st, path, false);
    }

    fn serve(&self, s: UnixStream) {
        let id = self.next_conn.fetch_add(1, Ordering::SeqCst) + 1;
        let w = Arc::new(Mutex::new(s.try_clone().expect("clone")));
        self.state.lock().unwrap().conns.insert(id, w.clone());
        let me = self.clone();
        std::thread::spawn(move || {
            let mut r = s;
            loop {
                let mut h = [0u8; HEADER_LEN];
                if r.read_exact(&mut h).is_err() {
                    break;
                }
                let h = Header::decode(&h);
                let mut payload = vec![0; h.len as usize];
                if r.read_exact(&mut payload).is_err() {
                    break;
                }
                let (ty, body) = me.handle(id, &h, &payload);
                if me.mute.load(Ordering::SeqCst) {
                    continue;
                }
                let out = Header {
                    ty: ty as u32,
                    req_id: h.req_id,
                    tx_id: h.tx_id,
                    len: body.len() as u32,
                };
                let mut msg = out.encode().to_vec();
                msg.extend_from_slice(&body);
                if w.lock().unwrap().write_all(&msg).is_err() {
                    break;
                }
                let first = me.initial_event.lock().unwrap().remove(&id);
                if let Some((p, t)) = first {
                    Self::send_event(&me.state.lock().unwrap(), id, &p, &t);
                }
            }
            let mut st = me.state.lock().unwrap();
            st.conns.remove(&id);
            st.watches.retain(|(c, _, _)| *c != id);
        });
    }

    fn send_event(st: &State, conn: u32, path: &str, token: &str) {
        if let Some(w) = st.conns.get(&conn) {
            let mut body = path.as_bytes().to_vec();
            body.push(0);
            body.extend_from_slice(token.as_bytes());
            body.push(0);
            let h = Header {
                ty: MsgType::WatchEvent as u32,
                req_id: 0,
                tx_id: 0,
                len: body.len() as u32,
            };
            let mut msg = h.encode().to_vec();
            msg.extend_from_slice(&body);
            let _ = w.lock().unwrap().write_all(&msg);
        }
    }

    /// Fires the watches a change of `path` concerns (for a removal, also watches below it).
    fn fire(st: &State, path: &str, removed: bool) {
        for (c, wp, tok) in &st.watches {
            if is_under(path, wp) {
                Self::send_event(st, *c, path, tok);
            } else if removed && is_under(wp, path) {
                Self::send_event(st, *c, wp, tok);
            }
        }
    }

    fn handle(&self, conn: u32, h: &Header, payload: &[u8]) -> (MsgType, Vec<u8>) {
        let err = |e: &str| (MsgType::Error, format!("{e}\0").into_bytes());
        let Some(ty) = h.msg_type() else {
            return err("EINVAL");
        };
        let ok = || (ty, b"OK\0".to_vec());
        let fields: Vec<&[u8]> = payload.split(|&b| b == 0).collect();
        let s = |i: usize| {
            fields
                .get(i)
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default()
        };
        let mut st = self.state.lock().unwrap();
        let tx = h.tx_id;
        if tx != 0 && !st.txs.contains_key(&tx) {
            return err("ENOENT");
        }
        let reply_ty = ty;
        match ty {
            MsgType::Read | MsgType::Directory | MsgType::GetPerms => {
                let path = absolute(&s(0));
                let tree = if tx != 0 { &st.txs[&tx].tree } else { &st.tree };
                let Some(node) = tree.get(&path) else {
                    return err("ENOENT");
                };
                let body = match ty {
                    MsgType::Read => node.0.clone(),
                    MsgType::Directory => {
                        let mut b = Vec::new();
                        for c in children(tree, &path) {
                            b.extend_from_slice(c.as_bytes());
                            b.push(0);
                        }
                        b
                    }
                    _ => {
                        let mut b = Vec::new();
                        for p in &node.1 {
                            b.extend_from_slice(p.to_string().as_bytes());
                            b.push(0);
                        }
                        b
                    }
                };
                (reply_ty, body)
            }
            MsgType::Write | MsgType::Mkdir | MsgType::Rm | MsgType::SetPerms => {
                let path = absolute(&s(0));
                if wire::validate_path(&path).is_err() {
                    return err("EINVAL");
                }
                let value: Vec<u8> = match ty {
                    MsgType::Write => {
                        let at = payload
                            .iter()
                            .position(|&b| b == 0)
                            .unwrap_or(payload.len());
                        payload.get(at + 1..).unwrap_or(&[]).to_vec()
                    }
                    _ => Vec::new(),
                };
                let perms: Vec<Perm> = if ty == MsgType::SetPerms {
                    match wire::parse_perms(payload.get(path.len() + 1..).unwrap_or(&[])) {
                        Ok(p) if !p.is_empty() => p,
                        _ => return err("EINVAL"),
                    }
                } else {
                    Vec::new()
                };
                let tree = if tx != 0 {
                    &mut st.txs.get_mut(&tx).unwrap().tree
                } else {
                    &mut st.tree
                };
                match ty {
                    MsgType::Write => insert(tree, &path, &value),
                    MsgType::Mkdir => {
                        if !tree.contains_key(&path) {
                            insert(tree, &path, b"");
                        }
                    }
                    MsgType::Rm => {
                        if !tree.contains_key(&path) {
                            return err("ENOENT");
                        }
                        let gone: Vec<String> = tree
                            .keys()
                            .filter(|k| is_under(k, &path))
                            .cloned()
                            .collect();
                        for k in gone {
                            tree.remove(&k);
                        }
                    }
                    _ => match tree.get_mut(&path) {
                        Some(n) => n.1 = perms,
                        None => return err("ENOENT"),
                    },
                }
                if tx != 0 {
                    st.txs.get_mut(&tx).unwrap().touched.push(path);
                } else {
                    st.generation += 1;
                    Self::fire(&st, &path, ty == MsgType::Rm);
                }
                ok()
            }
            MsgType::Watch => {
                let (path, token) = (absolute(&s(0)), s(1));
                st.watches.push((conn, path.clone(), token.clone()));
                // xenstored fires a new watch once, after its reply.
                self.initial_event
                    .lock()
                    .unwrap()
                    .insert(conn, (path, token));
                ok()
            }
            MsgType::Unwatch => {
                let (path, token) = (absolute(&s(0)), s(1));
                let before = st.watches.len();
                st.watches
                    .retain(|(c, p, t)| !(*c == conn && *p == path && *t == token));
                if st.watches.len() == before {
                    return err("ENOENT");
                }
                ok()
            }
            MsgType::TransactionStart => {
                st.next_tx += 1;
                let id = st.next_tx;
                let t = Tx {
                    tree: st.tree.clone(),
                    start_gen: st.generation,
                    touched: Vec::new(),
                };
                st.txs.insert(id, t);
                (reply_ty, format!("{id}\0").into_bytes())
            }
            MsgType::TransactionEnd => {
                let Some(t) = st.txs.remove(&tx) else {
                    return err("ENOENT");
                };
                if s(0) != "T" {
                    return ok();
                }
                if t.start_gen != st.generation {
                    return err("EAGAIN");
                }
                st.tree = t.tree;
                if !t.touched.is_empty() {
                    st.generation += 1;
                }
                for p in &t.touched {
                    let removed = !st.tree.contains_key(p);
                    Self::fire(&st, p, removed);
                }
                ok()
            }
            MsgType::GetDomainPath => (reply_ty, format!("/local/domain/{}\0", s(0)).into_bytes()),
            _ => err("ENOSYS"),
        }
    }
}
