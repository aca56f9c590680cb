//! The Xenstore wire protocol (`io/xs_wire.h`, `docs/misc/xenstore.txt`): message header,
//! request encoding, reply decoding, watch events, error names, and an incremental message
//! reader for byte streams (a guest's shared ring, or dom0's socket / `/dev/xen/xenbus`).
//!
//! Plain Rust with `alloc`, no architecture or hypervisor dependence: dom0 tools can use it.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// Largest payload in one message; xenstored drops a connection that sends more.
pub const PAYLOAD_MAX: usize = 4096;
pub const HEADER_LEN: usize = 16;
/// Longest absolute / relative path (`XENSTORE_ABS_PATH_MAX`, `XENSTORE_REL_PATH_MAX`).
pub const ABS_PATH_MAX: usize = 3072;
pub const REL_PATH_MAX: usize = 2048;

/// `enum xsd_sockmsg_type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum MsgType {
    Control = 0,
    Directory = 1,
    Read = 2,
    GetPerms = 3,
    Watch = 4,
    Unwatch = 5,
    TransactionStart = 6,
    TransactionEnd = 7,
    Introduce = 8,
    Release = 9,
    GetDomainPath = 10,
    Write = 11,
    Mkdir = 12,
    Rm = 13,
    SetPerms = 14,
    WatchEvent = 15,
    Error = 16,
    IsDomainIntroduced = 17,
    Resume = 18,
    SetTarget = 19,
    ResetWatches = 21,
    DirectoryPart = 22,
}

impl MsgType {
    pub fn from_u32(v: u32) -> Option<MsgType> {
        use MsgType::*;
        Some(match v {
            0 => Control,
            1 => Directory,
            2 => Read,
            3 => GetPerms,
            4 => Watch,
            5 => Unwatch,
            6 => TransactionStart,
            7 => TransactionEnd,
            8 => Introduce,
            9 => Release,
            10 => GetDomainPath,
            11 => Write,
            12 => Mkdir,
            13 => Rm,
            14 => SetPerms,
            15 => WatchEvent,
            16 => Error,
            17 => IsDomainIntroduced,
            18 => Resume,
            19 => SetTarget,
            21 => ResetWatches,
            22 => DirectoryPart,
            _ => return None,
        })
    }
}

/// `struct xsd_sockmsg`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Raw type (unknown types are kept, not rejected).
    pub ty: u32,
    pub req_id: u32,
    pub tx_id: u32,
    pub len: u32,
}

impl Header {
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut b = [0; HEADER_LEN];
        b[0..4].copy_from_slice(&self.ty.to_le_bytes());
        b[4..8].copy_from_slice(&self.req_id.to_le_bytes());
        b[8..12].copy_from_slice(&self.tx_id.to_le_bytes());
        b[12..16].copy_from_slice(&self.len.to_le_bytes());
        b
    }

    pub fn decode(b: &[u8; HEADER_LEN]) -> Header {
        let w = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        Header {
            ty: w(0),
            req_id: w(4),
            tx_id: w(8),
            len: w(12),
        }
    }

    pub fn msg_type(&self) -> Option<MsgType> {
        MsgType::from_u32(self.ty)
    }
}

/// Error names a server sends in an `ERROR` reply (`xsd_errors`, in table order).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Errno {
    EINVAL,
    EACCES,
    EEXIST,
    EISDIR,
    ENOENT,
    ENOMEM,
    ENOSPC,
    EIO,
    ENOTEMPTY,
    ENOSYS,
    EROFS,
    EBUSY,
    EAGAIN,
    EISCONN,
    E2BIG,
    EPERM,
}

const ERRNOS: [(Errno, &str); 16] = [
    (Errno::EINVAL, "EINVAL"),
    (Errno::EACCES, "EACCES"),
    (Errno::EEXIST, "EEXIST"),
    (Errno::EISDIR, "EISDIR"),
    (Errno::ENOENT, "ENOENT"),
    (Errno::ENOMEM, "ENOMEM"),
    (Errno::ENOSPC, "ENOSPC"),
    (Errno::EIO, "EIO"),
    (Errno::ENOTEMPTY, "ENOTEMPTY"),
    (Errno::ENOSYS, "ENOSYS"),
    (Errno::EROFS, "EROFS"),
    (Errno::EBUSY, "EBUSY"),
    (Errno::EAGAIN, "EAGAIN"),
    (Errno::EISCONN, "EISCONN"),
    (Errno::E2BIG, "E2BIG"),
    (Errno::EPERM, "EPERM"),
];

impl Errno {
    pub fn name(self) -> &'static str {
        ERRNOS.iter().find(|(e, _)| *e == self).unwrap().1
    }
    pub fn from_name(s: &str) -> Option<Errno> {
        ERRNOS.iter().find(|(_, n)| *n == s).map(|(e, _)| *e)
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a request failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// The server answered with an error name; unknown names are kept as text.
    Errno(Errno),
    UnknownErrno(String),
    /// The request would exceed [`PAYLOAD_MAX`], or a path is not acceptable.
    TooBig,
    InvalidPath,
    /// The server sent something this client cannot make sense of.
    Protocol(&'static str),
    /// No answer in time.
    Timeout,
}

impl From<Errno> for Error {
    fn from(e: Errno) -> Error {
        Error::Errno(e)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Errno(e) => write!(f, "{e}"),
            Error::UnknownErrno(s) => write!(f, "error {s:?}"),
            Error::TooBig => f.write_str("request too big"),
            Error::InvalidPath => f.write_str("invalid path"),
            Error::Protocol(w) => write!(f, "protocol error: {w}"),
            Error::Timeout => f.write_str("timed out"),
        }
    }
}

/// Checks a node path as xenstored would (`is_valid_nodename`): characters `[A-Za-z0-9-/_@]`,
/// no `//`, no trailing `/` (except the root `/`), and a length limit. Watch paths starting
/// with `@` (special watches such as `@releaseDomain`) are accepted.
pub fn validate_path(path: &str) -> Result<(), Error> {
    let abs = path.starts_with('/');
    let max = if abs { ABS_PATH_MAX } else { REL_PATH_MAX };
    if path.is_empty() || path.len() > max {
        return Err(Error::InvalidPath);
    }
    if path == "/" {
        return Ok(());
    }
    if path.ends_with('/') || path.contains("//") {
        return Err(Error::InvalidPath);
    }
    let ok = path
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'/' | b'_' | b'@'));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidPath)
    }
}

/// One permission entry (`w<domid>`, `r<domid>`, `b<domid>`, `n<domid>`). In a list, the first
/// entry names the owner and the default for other domains.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Perm {
    pub domid: u16,
    pub read: bool,
    pub write: bool,
}

impl Perm {
    pub fn parse(s: &str) -> Option<Perm> {
        let (c, id) = s.split_at_checked(1)?;
        let (read, write) = match c {
            "n" => (false, false),
            "r" => (true, false),
            "w" => (false, true),
            "b" => (true, true),
            _ => return None,
        };
        Some(Perm {
            domid: id.parse().ok()?,
            read,
            write,
        })
    }
}

impl fmt::Display for Perm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = match (self.read, self.write) {
            (false, false) => 'n',
            (true, false) => 'r',
            (false, true) => 'w',
            (true, true) => 'b',
        };
        write!(f, "{c}{}", self.domid)
    }
}

/// A request, before framing.
#[derive(Clone, Debug)]
pub enum Request<'a> {
    Read(&'a str),
    /// The value is sent as is (no terminating NUL); missing parents are created.
    Write(&'a str, &'a [u8]),
    Mkdir(&'a str),
    Rm(&'a str),
    Directory(&'a str),
    GetPerms(&'a str),
    SetPerms(&'a str, &'a [Perm]),
    Watch(&'a str, &'a str),
    Unwatch(&'a str, &'a str),
    TransactionStart,
    /// `true` commits, `false` aborts.
    TransactionEnd(bool),
    GetDomainPath(u16),
}

impl Request<'_> {
    pub fn msg_type(&self) -> MsgType {
        match self {
            Request::Read(_) => MsgType::Read,
            Request::Write(..) => MsgType::Write,
            Request::Mkdir(_) => MsgType::Mkdir,
            Request::Rm(_) => MsgType::Rm,
            Request::Directory(_) => MsgType::Directory,
            Request::GetPerms(_) => MsgType::GetPerms,
            Request::SetPerms(..) => MsgType::SetPerms,
            Request::Watch(..) => MsgType::Watch,
            Request::Unwatch(..) => MsgType::Unwatch,
            Request::TransactionStart => MsgType::TransactionStart,
            Request::TransactionEnd(_) => MsgType::TransactionEnd,
            Request::GetDomainPath(_) => MsgType::GetDomainPath,
        }
    }

    /// The path the request names (checked by [`Self::validate`]).
    fn path(&self) -> Option<&str> {
        match self {
            Request::Read(p)
            | Request::Write(p, _)
            | Request::Mkdir(p)
            | Request::Rm(p)
            | Request::Directory(p)
            | Request::GetPerms(p)
            | Request::SetPerms(p, _)
            | Request::Watch(p, _)
            | Request::Unwatch(p, _) => Some(p),
            _ => None,
        }
    }

    /// The payload bytes (`|` = NUL): `path|`, `path|value`, `path|perm|perm|`, `path|token|`,
    /// `|` (transaction start: a lone NUL, as xenstored expects), `T|`/`F|`, `domid|`.
    pub fn payload(&self) -> Vec<u8> {
        let mut v = Vec::new();
        let z = |v: &mut Vec<u8>, s: &[u8]| {
            v.extend_from_slice(s);
            v.push(0);
        };
        match self {
            Request::Read(p)
            | Request::Mkdir(p)
            | Request::Rm(p)
            | Request::Directory(p)
            | Request::GetPerms(p) => z(&mut v, p.as_bytes()),
            Request::Write(p, val) => {
                z(&mut v, p.as_bytes());
                v.extend_from_slice(val);
            }
            Request::SetPerms(p, perms) => {
                z(&mut v, p.as_bytes());
                for perm in *perms {
                    z(&mut v, alloc::format!("{perm}").as_bytes());
                }
            }
            Request::Watch(p, t) | Request::Unwatch(p, t) => {
                z(&mut v, p.as_bytes());
                z(&mut v, t.as_bytes());
            }
            Request::TransactionStart => v.push(0),
            Request::TransactionEnd(commit) => z(&mut v, if *commit { b"T" } else { b"F" }),
            Request::GetDomainPath(d) => z(&mut v, alloc::format!("{d}").as_bytes()),
        }
        v
    }

    /// Checks the path(s) and token.
    pub fn validate(&self) -> Result<(), Error> {
        if let Some(p) = self.path() {
            // Watches may name special paths like `@introduceDomain`.
            validate_path(p)?;
        }
        if let Request::Watch(_, t) | Request::Unwatch(_, t) = self {
            if t.as_bytes().contains(&0) {
                return Err(Error::InvalidPath);
            }
        }
        if let Request::SetPerms(_, perms) = self {
            if perms.is_empty() {
                return Err(Error::InvalidPath);
            }
        }
        Ok(())
    }

    /// The whole message: header + payload. Fails if the payload is over [`PAYLOAD_MAX`] or a
    /// path is invalid.
    pub fn encode(&self, req_id: u32, tx_id: u32) -> Result<Vec<u8>, Error> {
        self.validate()?;
        let payload = self.payload();
        if payload.len() > PAYLOAD_MAX {
            return Err(Error::TooBig);
        }
        let h = Header {
            ty: self.msg_type() as u32,
            req_id,
            tx_id,
            len: payload.len() as u32,
        };
        let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
        out.extend_from_slice(&h.encode());
        out.extend_from_slice(&payload);
        Ok(out)
    }
}

/// A complete message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub header: Header,
    pub payload: Vec<u8>,
}

impl Message {
    pub fn msg_type(&self) -> Option<MsgType> {
        self.header.msg_type()
    }

    /// `Err` if this is an `ERROR` reply, else the payload.
    pub fn into_result(self) -> Result<Vec<u8>, Error> {
        if self.header.ty == MsgType::Error as u32 {
            Err(parse_error(&self.payload))
        } else {
            Ok(self.payload)
        }
    }
}

/// The text of a NUL-terminated (or not) string field.
fn text(b: &[u8]) -> &[u8] {
    match b.iter().position(|&c| c == 0) {
        Some(i) => &b[..i],
        None => b,
    }
}

/// The error of an `ERROR` reply (`ENOENT|`).
pub fn parse_error(payload: &[u8]) -> Error {
    let name = core::str::from_utf8(text(payload)).unwrap_or("?");
    match Errno::from_name(name) {
        Some(e) => Error::Errno(e),
        None => Error::UnknownErrno(String::from(name)),
    }
}

/// The `OK|` reply of write/mkdir/rm/watch/...
pub fn parse_ok(payload: &[u8]) -> Result<(), Error> {
    if text(payload) == b"OK" {
        Ok(())
    } else {
        Err(Error::Protocol("expected OK"))
    }
}

/// NUL-separated strings (a trailing NUL does not make an empty last item).
pub fn split_nul(payload: &[u8]) -> impl Iterator<Item = &[u8]> {
    let trimmed = payload.strip_suffix(&[0]).unwrap_or(payload);
    let empty = trimmed.is_empty() && payload.len() <= 1;
    trimmed.split(|&b| b == 0).filter(move |_| !empty)
}

/// Children of a `DIRECTORY` reply.
pub fn parse_directory(payload: &[u8]) -> Result<Vec<String>, Error> {
    split_nul(payload)
        .map(|s| {
            core::str::from_utf8(s)
                .map(String::from)
                .map_err(|_| Error::Protocol("non-UTF-8 child name"))
        })
        .collect()
}

/// Permissions of a `GET_PERMS` reply.
pub fn parse_perms(payload: &[u8]) -> Result<Vec<Perm>, Error> {
    split_nul(payload)
        .map(|s| {
            core::str::from_utf8(s)
                .ok()
                .and_then(Perm::parse)
                .ok_or(Error::Protocol("bad permission"))
        })
        .collect()
}

/// Transaction id of a `TRANSACTION_START` reply (`123|`).
pub fn parse_tx_id(payload: &[u8]) -> Result<u32, Error> {
    core::str::from_utf8(text(payload))
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&id| id != 0)
        .ok_or(Error::Protocol("bad transaction id"))
}

/// A watch firing: the path that changed and the token given to `WATCH`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchEvent {
    pub path: String,
    pub token: String,
}

/// Parses a `WATCH_EVENT` payload (`path|token|`).
pub fn parse_watch_event(payload: &[u8]) -> Result<WatchEvent, Error> {
    let mut it = payload.split(|&b| b == 0);
    let path = it
        .next()
        .ok_or(Error::Protocol("watch event without path"))?;
    let token = it
        .next()
        .ok_or(Error::Protocol("watch event without token"))?;
    let s = |b: &[u8]| {
        core::str::from_utf8(b)
            .map(String::from)
            .map_err(|_| Error::Protocol("non-UTF-8 watch event"))
    };
    Ok(WatchEvent {
        path: s(path)?,
        token: s(token)?,
    })
}

/// Reassembles messages from a byte stream delivered in arbitrary pieces.
///
/// Use [`Self::spare`] to get the buffer to fill (never more than what completes the current
/// header or payload, so no bytes of the next message are taken), then [`Self::filled`].
#[derive(Default)]
pub struct MessageReader {
    hdr: [u8; HEADER_LEN],
    hdr_len: usize,
    header: Option<Header>,
    body: Vec<u8>,
    body_len: usize,
}

impl MessageReader {
    pub fn new() -> Self {
        Self::default()
    }

    /// True when no bytes of a message have been read.
    pub fn is_idle(&self) -> bool {
        self.hdr_len == 0 && self.header.is_none()
    }

    /// Where the next bytes go.
    pub fn spare(&mut self) -> &mut [u8] {
        match self.header {
            None => &mut self.hdr[self.hdr_len..],
            Some(_) => &mut self.body[self.body_len..],
        }
    }

    /// Records that `n` bytes were written into [`Self::spare`]; returns a message when one is
    /// complete.
    pub fn filled(&mut self, n: usize) -> Result<Option<Message>, Error> {
        match self.header {
            None => {
                self.hdr_len += n;
                debug_assert!(self.hdr_len <= HEADER_LEN);
                if self.hdr_len < HEADER_LEN {
                    return Ok(None);
                }
                let h = Header::decode(&self.hdr);
                self.hdr_len = 0;
                if h.len as usize > PAYLOAD_MAX {
                    return Err(Error::Protocol("message longer than 4096 bytes"));
                }
                self.body = alloc::vec![0; h.len as usize];
                self.body_len = 0;
                self.header = Some(h);
            }
            Some(_) => {
                self.body_len += n;
                debug_assert!(self.body_len <= self.body.len());
            }
        }
        if self.body_len == self.body.len() {
            let header = self.header.take().unwrap();
            let payload = core::mem::take(&mut self.body);
            self.body_len = 0;
            return Ok(Some(Message { header, payload }));
        }
        Ok(None)
    }

    /// Feeds bytes from a slice; returns how many were used and the message completed, if any
    /// (at most one per call: call again with the rest).
    pub fn feed(&mut self, input: &[u8]) -> Result<(usize, Option<Message>), Error> {
        let mut used = 0;
        loop {
            let spare = self.spare();
            let n = spare.len().min(input.len() - used);
            spare[..n].copy_from_slice(&input[used..used + n]);
            used += n;
            // A zero-length step is still meaningful when it completes an empty payload.
            let done = self.filled(n)?;
            if done.is_some() || used == input.len() {
                return Ok((used, done));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn header_round_trip_and_layout() {
        let h = Header {
            ty: MsgType::Write as u32,
            req_id: 0x01020304,
            tx_id: 7,
            len: 300,
        };
        let b = h.encode();
        assert_eq!(&b[..4], &[11, 0, 0, 0]);
        assert_eq!(&b[4..8], &[4, 3, 2, 1]);
        assert_eq!(&b[12..], &[44, 1, 0, 0]);
        assert_eq!(Header::decode(&b), h);
        assert_eq!(h.msg_type(), Some(MsgType::Write));
        assert_eq!(MsgType::from_u32(20), None);
        for t in 0..23 {
            if let Some(m) = MsgType::from_u32(t) {
                assert_eq!(m as u32, t);
            }
        }
    }

    #[test]
    fn request_payloads() {
        assert_eq!(Request::Read("domid").payload(), b"domid\0");
        assert_eq!(Request::Write("data/x", b"ok").payload(), b"data/x\0ok");
        assert_eq!(Request::Write("a", b"").payload(), b"a\0");
        assert_eq!(Request::Watch("a/b", "tok").payload(), b"a/b\0tok\0");
        assert_eq!(Request::TransactionStart.payload(), b"\0");
        assert_eq!(Request::TransactionEnd(true).payload(), b"T\0");
        assert_eq!(Request::TransactionEnd(false).payload(), b"F\0");
        assert_eq!(Request::GetDomainPath(12).payload(), b"12\0");
        let perms = [
            Perm {
                domid: 5,
                read: false,
                write: false,
            },
            Perm {
                domid: 0,
                read: true,
                write: true,
            },
        ];
        assert_eq!(Request::SetPerms("x", &perms).payload(), b"x\0n5\0b0\0");
        let m = Request::Mkdir("/local/domain/3/data").encode(9, 2).unwrap();
        let h = Header::decode(m[..16].try_into().unwrap());
        assert_eq!(
            h,
            Header {
                ty: 12,
                req_id: 9,
                tx_id: 2,
                len: 21
            }
        );
        assert_eq!(&m[16..], b"/local/domain/3/data\0");
    }

    #[test]
    fn request_limits() {
        let big = vec![b'x'; PAYLOAD_MAX - 2];
        assert!(Request::Write("a", &big).encode(1, 0).is_ok()); // 2 + 4094 = 4096
        let big = vec![b'x'; PAYLOAD_MAX - 1];
        assert_eq!(Request::Write("a", &big).encode(1, 0), Err(Error::TooBig));
        assert_eq!(Request::Read("a//b").encode(1, 0), Err(Error::InvalidPath));
        assert_eq!(Request::Read("").encode(1, 0), Err(Error::InvalidPath));
        assert_eq!(
            Request::SetPerms("a", &[]).encode(1, 0),
            Err(Error::InvalidPath)
        );
    }

    #[test]
    fn path_validation() {
        for ok in [
            "/",
            "/local/domain/1",
            "data/clickos",
            "@releaseDomain",
            "a-b_c@d",
        ] {
            assert_eq!(validate_path(ok), Ok(()), "{ok}");
        }
        for bad in ["", "a/", "/a//b", "a b", "a.b", "ä"] {
            assert_eq!(validate_path(bad), Err(Error::InvalidPath), "{bad}");
        }
        let long = "a".repeat(REL_PATH_MAX + 1);
        assert!(validate_path(&long).is_err());
        let long_abs = alloc::format!("/{}", "a".repeat(REL_PATH_MAX + 1));
        assert!(validate_path(&long_abs).is_ok());
    }

    #[test]
    fn replies() {
        assert_eq!(parse_error(b"ENOENT\0"), Error::Errno(Errno::ENOENT));
        assert_eq!(parse_error(b"EAGAIN"), Error::Errno(Errno::EAGAIN));
        assert_eq!(parse_error(b"EWHAT\0"), Error::UnknownErrno("EWHAT".into()));
        assert_eq!(parse_ok(b"OK\0"), Ok(()));
        assert!(parse_ok(b"NO\0").is_err());
        assert_eq!(parse_directory(b"a\0bc\0d\0").unwrap(), ["a", "bc", "d"]);
        assert_eq!(parse_directory(b"").unwrap(), Vec::<String>::new());
        assert_eq!(parse_directory(b"\0").unwrap(), Vec::<String>::new());
        assert_eq!(parse_directory(b"only").unwrap(), ["only"]);
        assert_eq!(parse_tx_id(b"42\0"), Ok(42));
        assert!(parse_tx_id(b"0\0").is_err());
        assert!(parse_tx_id(b"x\0").is_err());
        assert_eq!(
            parse_perms(b"w3\0r0\0").unwrap(),
            [
                Perm {
                    domid: 3,
                    read: false,
                    write: true
                },
                Perm {
                    domid: 0,
                    read: true,
                    write: false
                }
            ]
        );
        assert!(parse_perms(b"q3\0").is_err());
        assert_eq!(
            parse_watch_event(b"/local/domain/1/data/clickos/cmd\0cmd-token\0").unwrap(),
            WatchEvent {
                path: "/local/domain/1/data/clickos/cmd".into(),
                token: "cmd-token".into()
            }
        );
        assert!(parse_watch_event(b"path-only").is_err());
        for (e, n) in ERRNOS {
            assert_eq!(Errno::from_name(n), Some(e));
            assert_eq!(e.name(), n);
        }
    }

    #[test]
    fn reader_reassembles_from_any_split() {
        let mut stream = Vec::new();
        let msgs = [
            Message {
                header: Header {
                    ty: 15,
                    req_id: 0,
                    tx_id: 0,
                    len: 6,
                },
                payload: b"p\0tok\0".to_vec(),
            },
            Message {
                header: Header {
                    ty: 2,
                    req_id: 1,
                    tx_id: 0,
                    len: 0,
                },
                payload: vec![],
            },
            Message {
                header: Header {
                    ty: 2,
                    req_id: 2,
                    tx_id: 0,
                    len: 4096,
                },
                payload: (0..4096).map(|i| i as u8).collect(),
            },
        ];
        for m in &msgs {
            stream.extend_from_slice(&m.header.encode());
            stream.extend_from_slice(&m.payload);
        }
        for chunk in [1, 3, 15, 16, 17, 1000, 5000] {
            let mut r = MessageReader::new();
            let mut got = Vec::new();
            for piece in stream.chunks(chunk) {
                let mut rest = piece;
                while !rest.is_empty() {
                    let (n, m) = r.feed(rest).unwrap();
                    rest = &rest[n..];
                    got.extend(m);
                }
            }
            assert!(r.is_idle());
            assert_eq!(got, msgs, "chunk {chunk}");
        }
    }

    #[test]
    fn reader_rejects_oversized() {
        let mut r = MessageReader::new();
        let h = Header {
            ty: 2,
            req_id: 1,
            tx_id: 0,
            len: 4097,
        };
        assert!(r.feed(&h.encode()).is_err());
    }

    #[test]
    fn into_result() {
        let m = Message {
            header: Header {
                ty: 16,
                req_id: 1,
                tx_id: 0,
                len: 7,
            },
            payload: b"EACCES\0".to_vec(),
        };
        assert_eq!(m.into_result(), Err(Error::Errno(Errno::EACCES)));
    }
}
