//! The ClickOS control protocol on Xenstore, the plain-Rust part: which node a watch event is
//! about, reassembling a configuration from its chunks, and handler requests. The guest driver
//! (`kernel::click`) does the Xenstore I/O and runs the routers; the protocol itself is
//! described in `docs/xenstore-protocol.md`.
//!
//! Everything lives under `/local/domain/<domid>/data/clickos/<rid>/`:
//!
//! | node | writer | meaning |
//! |---|---|---|
//! | `config/0`, `config/1`, … | tool | the configuration text in chunks |
//! | `config_len` | tool | total bytes of all chunks (written after them) |
//! | `status` | tool: `Running`/`Halted`; guest: `Running`/`Error` | start, stop, outcome |
//! | `error` | guest | `""` after a successful start, else the one-line diagnostics |
//! | `control/read/<elem>/<handler>` | tool | read request (any non-empty value) |
//! | `control/write/<elem>/<handler>` | tool | write request, the value is the argument |
//! | `handlers/<elem>/<handler>` | guest | the answer to a read request |
//! | `handler-errors/<elem>/<handler>` | guest | why a request failed (`""` when it did not) |
//!
//! `<elem>` may contain `/` (compound element names): the handler is the last component.
//! `@` as the element names the router's own handlers (`@/list`, `@/config`, `@/stop`).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// Router ids the guest accepts: `0..MAX_ROUTERS`.
pub const MAX_ROUTERS: u32 = 64;
/// The largest configuration the guest assembles.
pub const MAX_CONFIG_LEN: usize = 1 << 20;
/// The element name that stands for the router itself in handler requests.
pub const ROUTER_ELEMENT: &str = "@";

/// Whether a handler request reads or writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// What a node under `data/clickos` is, for the guest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node<'a> {
    /// `<rid>/status`.
    Status(u32),
    /// `<rid>/config_len` or `<rid>/config/<i>`: part of the configuration.
    Config(u32),
    /// `<rid>/control/{read,write}/<elem>/<handler>`.
    Request {
        rid: u32,
        access: Access,
        element: &'a str,
        handler: &'a str,
    },
    /// Anything else: the root itself, nodes the guest writes (`error`, `handlers/…`,
    /// `handler-errors/…`), `config_name`, incomplete request paths, bad router ids, and paths
    /// outside the root. The guest never acts on these (so its own answers never trigger it).
    Other,
}

/// Parses a router id: decimal, no sign, no leading zeros, below [`MAX_ROUTERS`].
pub fn parse_rid(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 2 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if s.len() > 1 && s.starts_with('0') {
        return None;
    }
    let v: u32 = s.parse().ok()?;
    (v < MAX_ROUTERS).then_some(v)
}

/// Classifies `path` (as a watch event reports it) against the watched `root`
/// (`/local/domain/<domid>/data/clickos`).
pub fn classify<'a>(root: &str, path: &'a str) -> Node<'a> {
    let Some(rest) = path.strip_prefix(root) else {
        return Node::Other;
    };
    let Some(rest) = rest.strip_prefix('/') else {
        return Node::Other;
    };
    let (rid, rest) = match rest.split_once('/') {
        Some((r, rest)) => (r, rest),
        None => return Node::Other,
    };
    let Some(rid) = parse_rid(rid) else {
        return Node::Other;
    };
    if rest == "status" {
        return Node::Status(rid);
    }
    if rest == "config_len" {
        return Node::Config(rid);
    }
    if let Some(i) = rest.strip_prefix("config/") {
        if !i.is_empty() && i.bytes().all(|b| b.is_ascii_digit()) {
            return Node::Config(rid);
        }
        return Node::Other;
    }
    let (access, key) = if let Some(k) = rest.strip_prefix("control/read/") {
        (Access::Read, k)
    } else if let Some(k) = rest.strip_prefix("control/write/") {
        (Access::Write, k)
    } else {
        return Node::Other;
    };
    match key.rsplit_once('/') {
        Some((element, handler)) if !element.is_empty() && !handler.is_empty() => Node::Request {
            rid,
            access,
            element,
            handler,
        },
        _ => Node::Other,
    }
}

/// The name the element runtime uses for a handler: `elem.handler`, or `handler` for the
/// router's own.
pub fn handler_name(element: &str, handler: &str) -> String {
    if element == ROUTER_ELEMENT {
        String::from(handler)
    } else {
        format!("{element}.{handler}")
    }
}

/// Paths of one router's nodes.
pub struct RouterPaths {
    pub base: String,
}

impl RouterPaths {
    pub fn new(root: &str, rid: u32) -> Self {
        RouterPaths {
            base: format!("{root}/{rid}"),
        }
    }
    pub fn status(&self) -> String {
        format!("{}/status", self.base)
    }
    pub fn error(&self) -> String {
        format!("{}/error", self.base)
    }
    pub fn config_len(&self) -> String {
        format!("{}/config_len", self.base)
    }
    pub fn chunk(&self, i: usize) -> String {
        format!("{}/config/{i}", self.base)
    }
    pub fn request(&self, access: Access, element: &str, handler: &str) -> String {
        let dir = match access {
            Access::Read => "read",
            Access::Write => "write",
        };
        format!("{}/control/{dir}/{element}/{handler}", self.base)
    }
    pub fn answer(&self, element: &str, handler: &str) -> String {
        format!("{}/handlers/{element}/{handler}", self.base)
    }
    pub fn answer_error(&self, element: &str, handler: &str) -> String {
        format!("{}/handler-errors/{element}/{handler}", self.base)
    }
}

/// Parses `config_len`: decimal bytes, 1..=[`MAX_CONFIG_LEN`].
pub fn parse_config_len(v: &[u8]) -> Result<usize, String> {
    let s = core::str::from_utf8(v).map_err(|_| String::from("config_len is not text"))?;
    let s = s.trim();
    let n: usize = s
        .parse()
        .map_err(|_| format!("config_len {s:?} is not a number"))?;
    if n == 0 {
        return Err(String::from("config_len is 0 (empty configuration)"));
    }
    if n > MAX_CONFIG_LEN {
        return Err(format!(
            "config_len {n} is larger than the guest's limit ({MAX_CONFIG_LEN} bytes)"
        ));
    }
    Ok(n)
}

/// The outcome of putting the chunks together.
#[derive(Debug, PartialEq, Eq)]
pub enum Assembly {
    /// Chunks `0..n` add up to exactly `config_len` bytes of UTF-8.
    Complete(String),
    /// Not there yet (a chunk is missing or empty, or the chunks are longer than `config_len`:
    /// stale chunks of an older configuration, or a new one half written). Never parsed; the
    /// next write under the router's `config` makes the guest look again.
    Incomplete { have: usize, want: usize },
    /// Complete but unusable: the text is not UTF-8.
    Invalid(String),
}

/// Reassembles a configuration of `want` bytes from `chunk(i)` (`None`: the node does not
/// exist). Reads chunks only until `want` bytes are there. Errors of `chunk` are passed on.
pub fn assemble<E>(
    want: usize,
    mut chunk: impl FnMut(usize) -> Result<Option<Vec<u8>>, E>,
) -> Result<Assembly, E> {
    let mut buf = Vec::with_capacity(want);
    let mut i = 0;
    while buf.len() < want {
        match chunk(i)? {
            Some(c) if !c.is_empty() => buf.extend_from_slice(&c),
            _ => {
                return Ok(Assembly::Incomplete {
                    have: buf.len(),
                    want,
                })
            }
        }
        i += 1;
    }
    if buf.len() != want {
        return Ok(Assembly::Incomplete {
            have: buf.len(),
            want,
        });
    }
    match String::from_utf8(buf) {
        Ok(s) => Ok(Assembly::Complete(s)),
        Err(e) => Ok(Assembly::Invalid(format!(
            "configuration is not UTF-8 (byte {})",
            e.utf8_error().valid_up_to()
        ))),
    }
}

/// Splits `text` into chunks of at most `max` bytes (what a tool does; used by tests and
/// clickos-cli).
pub fn split_chunks(text: &[u8], max: usize) -> Vec<&[u8]> {
    text.chunks(max.max(1)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::vec;

    const ROOT: &str = "/local/domain/7/data/clickos";

    fn p(rest: &str) -> String {
        format!("{ROOT}/{rest}")
    }

    #[test]
    fn router_ids() {
        assert_eq!(parse_rid("0"), Some(0));
        assert_eq!(parse_rid("63"), Some(63));
        for bad in ["", "64", "100", "01", "-1", "+1", "a", "1a", " 1"] {
            assert_eq!(parse_rid(bad), None, "{bad}");
        }
    }

    #[test]
    fn classify_nodes() {
        assert_eq!(classify(ROOT, ROOT), Node::Other);
        assert_eq!(classify(ROOT, &p("0")), Node::Other);
        assert_eq!(classify(ROOT, &p("boot")), Node::Other);
        assert_eq!(classify(ROOT, &p("cmd")), Node::Other);
        assert_eq!(classify(ROOT, &p("0/status")), Node::Status(0));
        assert_eq!(classify(ROOT, &p("12/status")), Node::Status(12));
        assert_eq!(classify(ROOT, &p("64/status")), Node::Other);
        assert_eq!(classify(ROOT, &p("0/config_len")), Node::Config(0));
        assert_eq!(classify(ROOT, &p("0/config/0")), Node::Config(0));
        assert_eq!(classify(ROOT, &p("3/config/17")), Node::Config(3));
        assert_eq!(classify(ROOT, &p("3/config")), Node::Other);
        assert_eq!(classify(ROOT, &p("3/config/x")), Node::Other);
        assert_eq!(classify(ROOT, &p("0/config_name")), Node::Other);
        // Another domain's tree, or a prefix that is not a path component.
        assert_eq!(
            classify(ROOT, "/local/domain/8/data/clickos/0/status"),
            Node::Other
        );
        assert_eq!(classify(ROOT, &format!("{ROOT}x/0/status")), Node::Other);
    }

    #[test]
    fn classify_requests() {
        assert_eq!(
            classify(ROOT, &p("0/control/read/c/count")),
            Node::Request {
                rid: 0,
                access: Access::Read,
                element: "c",
                handler: "count"
            }
        );
        assert_eq!(
            classify(ROOT, &p("2/control/write/c/reset")),
            Node::Request {
                rid: 2,
                access: Access::Write,
                element: "c",
                handler: "reset"
            }
        );
        // Compound element names keep their slashes; the handler is the last component.
        assert_eq!(
            classify(ROOT, &p("0/control/read/a/b/count")),
            Node::Request {
                rid: 0,
                access: Access::Read,
                element: "a/b",
                handler: "count"
            }
        );
        assert_eq!(
            classify(ROOT, &p("0/control/read/@/list")),
            Node::Request {
                rid: 0,
                access: Access::Read,
                element: "@",
                handler: "list"
            }
        );
        // Incomplete keys (the implicit directories xenstored creates) are not requests.
        for other in [
            "0/control",
            "0/control/read",
            "0/control/read/c",
            "0/control/read/c/",
            "0/control/other/c/count",
        ] {
            assert_eq!(classify(ROOT, &p(other)), Node::Other, "{other}");
        }
    }

    #[test]
    fn own_answers_never_trigger() {
        // Everything the guest writes must classify as Other (or as a status, which the guest
        // ignores unless it is Running/Halted from the tool): the original's bug B2.
        let rp = RouterPaths::new(ROOT, 0);
        for path in [
            rp.answer("c", "count"),
            rp.answer_error("c", "count"),
            rp.answer("a/b", "count"),
            rp.error(),
        ] {
            assert_eq!(classify(ROOT, &path), Node::Other, "{path}");
        }
        assert_eq!(
            classify(ROOT, &rp.request(Access::Read, "a/b", "count")),
            Node::Request {
                rid: 0,
                access: Access::Read,
                element: "a/b",
                handler: "count"
            }
        );
    }

    #[test]
    fn handler_names() {
        assert_eq!(handler_name("c", "count"), "c.count");
        assert_eq!(handler_name("a/b", "count"), "a/b.count");
        assert_eq!(handler_name("@", "list"), "list");
    }

    #[test]
    fn config_len_values() {
        assert_eq!(parse_config_len(b"42"), Ok(42));
        assert_eq!(parse_config_len(b" 42\n"), Ok(42));
        assert!(parse_config_len(b"0").is_err());
        assert!(parse_config_len(b"").is_err());
        assert!(parse_config_len(b"-3").is_err());
        assert!(parse_config_len(b"4x").is_err());
        assert!(parse_config_len(b"99999999999").is_err());
        assert!(parse_config_len(&[0xff]).is_err());
    }

    fn store(chunks: &[&[u8]]) -> BTreeMap<usize, Vec<u8>> {
        chunks
            .iter()
            .enumerate()
            .map(|(i, c)| (i, c.to_vec()))
            .collect()
    }

    fn run(want: usize, s: &BTreeMap<usize, Vec<u8>>) -> (Assembly, Vec<usize>) {
        let mut read = vec![];
        let a = assemble::<()>(want, |i| {
            read.push(i);
            Ok(s.get(&i).cloned())
        })
        .unwrap();
        (a, read)
    }

    #[test]
    fn assemble_complete() {
        let text = b"InfiniteSource(LIMIT 1000, STOP true) -> c :: Counter -> Discard;";
        for max in [1, 7, 16, 64, 1000] {
            let s = store(&split_chunks(text, max));
            let (a, read) = run(text.len(), &s);
            assert_eq!(
                a,
                Assembly::Complete(String::from_utf8(text.to_vec()).unwrap())
            );
            // Only the chunks needed are read.
            assert_eq!(read.len(), text.len().div_ceil(max));
        }
    }

    #[test]
    fn assemble_partial_writes_are_never_complete() {
        let text = b"0123456789abcdefghij";
        let chunks = split_chunks(text, 8);
        // Any prefix of the chunks, with config_len already saying 20: incomplete.
        for n in 0..chunks.len() {
            let s = store(&chunks[..n]);
            let (a, _) = run(text.len(), &s);
            assert!(matches!(a, Assembly::Incomplete { want: 20, .. }), "{n}");
        }
        // A hole (chunk 1 missing, or still empty) stops the walk.
        let mut s = store(&chunks);
        s.remove(&1);
        assert_eq!(run(20, &s).0, Assembly::Incomplete { have: 8, want: 20 });
        s.insert(1, vec![]);
        assert_eq!(run(20, &s).0, Assembly::Incomplete { have: 8, want: 20 });
        // Chunks of an older, longer configuration: the sum overshoots config_len.
        let s = store(&[b"0123456789", b"abcdefghijXYZ"]);
        assert_eq!(run(20, &s).0, Assembly::Incomplete { have: 23, want: 20 });
    }

    #[test]
    fn assemble_invalid_utf8() {
        let s = store(&[b"ab", &[0xff, 0xfe]]);
        assert!(matches!(run(4, &s).0, Assembly::Invalid(m) if m.contains("byte 2")));
    }

    #[test]
    fn assemble_passes_errors_on() {
        let r = assemble(10, |i| {
            if i == 0 {
                Ok(Some(b"abc".to_vec()))
            } else {
                Err("boom")
            }
        });
        assert_eq!(r, Err("boom"));
    }

    #[test]
    fn paths() {
        let rp = RouterPaths::new(ROOT, 3);
        assert_eq!(rp.status(), p("3/status"));
        assert_eq!(rp.chunk(2), p("3/config/2"));
        assert_eq!(rp.config_len(), p("3/config_len"));
        assert_eq!(
            rp.request(Access::Write, "c", "reset"),
            p("3/control/write/c/reset")
        );
        assert_eq!(rp.answer("c", "count"), p("3/handlers/c/count"));
        assert_eq!(rp.answer_error("c", "count"), p("3/handler-errors/c/count"));
        // All are valid Xenstore paths.
        for path in [rp.status(), rp.answer("Counter@2", "count"), rp.error()] {
            assert_eq!(crate::wire::validate_path(&path), Ok(()));
        }
    }
}
