//! The netfront side of the xenbus handshake with Linux netback, as plain data and decisions:
//! what to read from the frontend directory (`device/vif/<n>/`), what to write to connect, and
//! how to judge the backend's `state`. The guest's driver does the Xenstore I/O.
//!
//! Linux 6.1 netback (`drivers/net/xen-netback/xenbus.c`) connects when the frontend's `state`
//! becomes 4 (Connected); it then requires `tx-ring-ref`, `rx-ring-ref`, `event-channel` (or the
//! split pair) and `request-rx-copy` = 1 (it refuses to connect otherwise), and reads the
//! optional `feature-*` keys; its own `state` becomes 4 only after that and after the hotplug
//! script reported `hotplug-status` = connected.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// `XenbusState` values, written as decimal text in `state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XenbusState {
    Unknown = 0,
    Initialising = 1,
    InitWait = 2,
    Initialised = 3,
    Connected = 4,
    Closing = 5,
    Closed = 6,
    Reconfiguring = 7,
    Reconfigured = 8,
}

impl XenbusState {
    pub fn parse(s: &[u8]) -> Option<XenbusState> {
        let s = core::str::from_utf8(s).ok()?.trim_end_matches('\0').trim();
        Some(match s.parse::<u32>().ok()? {
            0 => XenbusState::Unknown,
            1 => XenbusState::Initialising,
            2 => XenbusState::InitWait,
            3 => XenbusState::Initialised,
            4 => XenbusState::Connected,
            5 => XenbusState::Closing,
            6 => XenbusState::Closed,
            7 => XenbusState::Reconfiguring,
            8 => XenbusState::Reconfigured,
            _ => return None,
        })
    }
}

/// What to do after reading the backend's `state` while waiting for it to connect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Wait,
    Connected,
    Failed(String),
}

/// Judges the backend's `state` node (None: it does not exist).
pub fn backend_step(state: Option<&[u8]>) -> Step {
    let Some(raw) = state else {
        return Step::Failed(String::from("the backend's state node is gone"));
    };
    match XenbusState::parse(raw) {
        Some(XenbusState::Connected) => Step::Connected,
        Some(XenbusState::Closing | XenbusState::Closed) => Step::Failed(format!(
            "the backend closed the device (state {})",
            String::from_utf8_lossy(raw)
        )),
        Some(_) => Step::Wait,
        None => Step::Failed(format!(
            "the backend's state {:?} is not a xenbus state",
            String::from_utf8_lossy(raw)
        )),
    }
}

/// The frontend directory of vif `n`, relative to the guest's home.
pub fn frontend_dir(n: u32) -> String {
    format!("device/vif/{n}")
}

/// What the toolstack wrote for one vif, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VifInfo {
    pub backend: String,
    pub backend_id: u16,
    pub mac: [u8; 6],
}

impl VifInfo {
    /// From the values of `backend`, `backend-id` and `mac`.
    pub fn parse(backend: &[u8], backend_id: &[u8], mac: &[u8]) -> Result<VifInfo, String> {
        let backend = core::str::from_utf8(backend)
            .map_err(|_| String::from("backend path is not text"))?
            .trim_end_matches('\0');
        // /local/domain/<backend domid>/backend/vif/<our domid>/<devid>
        let parts: Vec<&str> = backend.split('/').collect();
        let ok = parts.len() == 8
            && parts[0].is_empty()
            && parts[1] == "local"
            && parts[2] == "domain"
            && parts[4] == "backend"
            && parts[5] == "vif"
            && [3, 6, 7].iter().all(|&i| parts[i].parse::<u32>().is_ok());
        if !ok {
            return Err(format!("unexpected backend path {backend:?}"));
        }
        let id = core::str::from_utf8(backend_id)
            .ok()
            .and_then(|s| s.trim_end_matches('\0').trim().parse::<u16>().ok())
            .filter(|&d| d < 0x7FF0)
            .ok_or_else(|| format!("bad backend-id {:?}", String::from_utf8_lossy(backend_id)))?;
        if parts[3] != format!("{id}") {
            return Err(format!(
                "backend path {backend:?} is not in domain {id} (backend-id)"
            ));
        }
        let mac =
            parse_mac(mac).ok_or_else(|| format!("bad mac {:?}", String::from_utf8_lossy(mac)))?;
        Ok(VifInfo {
            backend: String::from(backend),
            backend_id: id,
            mac,
        })
    }
}

/// `aa:bb:cc:dd:ee:ff`.
pub fn parse_mac(s: &[u8]) -> Option<[u8; 6]> {
    let s = core::str::from_utf8(s).ok()?.trim_end_matches('\0').trim();
    let mut mac = [0u8; 6];
    let mut n = 0;
    for part in s.split(':') {
        if n == 6 || part.len() != 2 {
            return None;
        }
        mac[n] = u8::from_str_radix(part, 16).ok()?;
        n += 1;
    }
    (n == 6).then_some(mac)
}

/// The keys the frontend writes (in one transaction) to connect, `state` last.
pub fn connect_keys(
    tx_ring_ref: u32,
    rx_ring_ref: u32,
    evtchn: u32,
) -> Vec<(&'static str, String)> {
    let mut v: Vec<(&'static str, String)> = Vec::new();
    v.push(("tx-ring-ref", format!("{tx_ring_ref}")));
    v.push(("rx-ring-ref", format!("{rx_ring_ref}")));
    // One channel for both directions: we poll, so split channels buy nothing.
    v.push(("event-channel", format!("{evtchn}")));
    // Mandatory for Linux netback: the backend copies into our pages (no page flipping).
    v.push(("request-rx-copy", String::from("1")));
    // We refill RX buffers and say so through the event channel; without this key netback
    // shortens its drain timeout to 30 ms.
    v.push(("feature-rx-notify", String::from("1")));
    // One slot per frame, both ways.
    v.push(("feature-sg", String::from("0")));
    v.push(("feature-gso-tcpv4", String::from("0")));
    v.push(("feature-gso-tcpv6", String::from("0")));
    // A router forwards what it receives: frames must arrive with full checksums, not the
    // partial ones checksum offload would give.
    v.push(("feature-no-csum-offload", String::from("1")));
    v.push(("feature-ipv6-csum-offload", String::from("0")));
    v.push(("state", format!("{}", XenbusState::Connected as u32)));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_libxl_writes() {
        let v = VifInfo::parse(
            b"/local/domain/0/backend/vif/3/1",
            b"0",
            b"00:16:3e:01:02:0a",
        )
        .unwrap();
        assert_eq!(v.backend_id, 0);
        assert_eq!(v.mac, [0x00, 0x16, 0x3e, 0x01, 0x02, 0x0a]);
        assert_eq!(v.backend, "/local/domain/0/backend/vif/3/1");
    }

    #[test]
    fn rejects_what_libxl_would_not_write() {
        let be = b"/local/domain/0/backend/vif/3/1".as_slice();
        assert!(VifInfo::parse(
            b"/local/domain/0/backend/vbd/3/1",
            b"0",
            b"00:16:3e:01:02:03"
        )
        .is_err());
        assert!(VifInfo::parse(b"../../etc", b"0", b"00:16:3e:01:02:03").is_err());
        assert!(
            VifInfo::parse(be, b"1", b"00:16:3e:01:02:03").is_err(),
            "path not in backend-id"
        );
        assert!(VifInfo::parse(be, b"x", b"00:16:3e:01:02:03").is_err());
        assert!(VifInfo::parse(be, b"32752", b"00:16:3e:01:02:03").is_err());
        for mac in [
            &b"00:16:3e:01:02"[..],
            b"00:16:3e:01:02:03:04",
            b"0:16:3e:01:02:03",
            b"zz:16:3e:01:02:03",
            b"",
        ] {
            assert!(VifInfo::parse(be, b"0", mac).is_err(), "{mac:?}");
        }
    }

    #[test]
    fn backend_states() {
        assert_eq!(backend_step(Some(b"2")), Step::Wait);
        assert_eq!(backend_step(Some(b"1")), Step::Wait);
        assert_eq!(backend_step(Some(b"4")), Step::Connected);
        assert!(matches!(backend_step(Some(b"5")), Step::Failed(_)));
        assert!(matches!(backend_step(Some(b"6")), Step::Failed(_)));
        assert!(matches!(backend_step(Some(b"nine")), Step::Failed(_)));
        assert!(matches!(backend_step(Some(b"9")), Step::Failed(_)));
        assert!(matches!(backend_step(None), Step::Failed(_)));
    }

    #[test]
    fn connect_writes_what_netback_requires_with_state_last() {
        let k = connect_keys(8, 9, 5);
        let get = |n: &str| k.iter().find(|(k, _)| *k == n).map(|(_, v)| v.as_str());
        assert_eq!(get("tx-ring-ref"), Some("8"));
        assert_eq!(get("rx-ring-ref"), Some("9"));
        assert_eq!(get("event-channel"), Some("5"));
        assert_eq!(get("request-rx-copy"), Some("1"));
        assert_eq!(get("feature-rx-notify"), Some("1"));
        assert_eq!(get("feature-sg"), Some("0"));
        assert_eq!(get("feature-no-csum-offload"), Some("1"));
        assert_eq!(k.last().unwrap(), &("state", String::from("4")));
    }
}
