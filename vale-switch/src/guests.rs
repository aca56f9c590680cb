//! Guest hot-plug for `clickos-switchd`: a Unix control socket on which the project's vif hotplug
//! script (`vif-clickos`) attaches and detaches ClickOS guests, and a watch on `@releaseDomain`
//! that detaches the vifs of domains that went away without a detach.
//!
//! Requests are one line each, answered with one line (`ok ...` or `error ...`; `stats` answers
//! with the counters as JSON):
//!
//! ```text
//! attach DOMID DEVID MAC     fast mode: grant rings, publish them, serve the guest as a port
//!                            netif mode: serve Linux netback's vifDOMID.DEVID through AF_PACKET
//! detach DOMID DEVID         stop the port, remove the nodes, free grants and event channel
//! resources                  descriptors and grants held (leak checks)
//! stats                      per-port counters (JSON)
//! ```

use std::boxed::Box;
use std::format;
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::string::{String, ToString};
use std::time::Instant;
use std::vec::Vec;

use netback_netmap::{RingSize, Store};
use xenstore::dom0::{Xs, TX_NONE};

use crate::ports::xen::XenGuestPort;
use crate::ports::{format_mac, parse_mac, AfPacketPort};
use crate::switch::Switch;

/// How guests are served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GuestMode {
    /// The fast path: granted rings (`feature-clickos-fast`).
    Fast,
    /// No fast path offered: the guest uses standard netif against Linux netback, and the switch
    /// serves its `vifD.N` interface through AF_PACKET.
    Netif,
}

/// A control request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    Attach {
        domid: u16,
        devid: u32,
        mac: [u8; 6],
    },
    Detach {
        domid: u16,
        devid: u32,
    },
    Resources,
    Stats,
}

impl Request {
    pub fn parse(line: &str) -> Result<Request, String> {
        let w: Vec<&str> = line.split_ascii_whitespace().collect();
        let domid = |s: &str| {
            s.parse::<u16>()
                .ok()
                .filter(|&d| d > 0 && d < 0x7ff0)
                .ok_or_else(|| format!("bad domid '{s}'"))
        };
        let devid = |s: &str| s.parse::<u32>().map_err(|_| format!("bad devid '{s}'"));
        match w.as_slice() {
            ["attach", d, n, m] => Ok(Request::Attach {
                domid: domid(d)?,
                devid: devid(n)?,
                mac: parse_mac(m).ok_or_else(|| format!("bad MAC '{m}'"))?,
            }),
            ["detach", d, n] => Ok(Request::Detach {
                domid: domid(d)?,
                devid: devid(n)?,
            }),
            ["resources"] => Ok(Request::Resources),
            ["stats"] => Ok(Request::Stats),
            _ => Err(format!("unknown request '{}'", line.trim())),
        }
    }
}

/// dom0's Xenstore client as the backend's [`Store`].
pub struct XsStore(pub Xs);

impl XsStore {
    pub fn open() -> io::Result<XsStore> {
        Xs::open().map(XsStore).map_err(xs_err)
    }
}

fn xs_err(e: xenstore::dom0::Error) -> io::Error {
    io::Error::other(e.to_string())
}

impl Store for XsStore {
    fn write(&mut self, path: &str, value: &str) -> io::Result<()> {
        self.0
            .write(TX_NONE, path, value.as_bytes())
            .map_err(xs_err)
    }
    fn remove(&mut self, path: &str) -> io::Result<()> {
        match self.0.rm(TX_NONE, path) {
            Err(e) if !e.is_enoent() => Err(xs_err(e)),
            _ => Ok(()),
        }
    }
}

struct Attached {
    domid: u16,
    devid: u32,
    port: usize,
    fast: bool,
    grants: usize,
}

/// `@releaseDomain` events, on a Xenstore connection of their own (polled at housekeeping).
struct ReleaseWatch {
    xs: Xs,
}

const RELEASE_TOKEN: &str = "clickos-switchd-release";

impl ReleaseWatch {
    fn start() -> io::Result<ReleaseWatch> {
        let mut xs = Xs::open().map_err(xs_err)?;
        xs.watch("@releaseDomain", RELEASE_TOKEN).map_err(xs_err)?;
        Ok(ReleaseWatch { xs })
    }

    /// Consumes pending events; true if a domain was released.
    fn fired(&mut self) -> bool {
        let mut any = false;
        while let Ok(Some(ev)) = self.xs.next_event(Some(Instant::now())) {
            any |= ev.token == RELEASE_TOKEN;
        }
        any
    }

    /// Domains that exist (children of `/local/domain`).
    fn live_domains(&mut self) -> io::Result<Vec<u16>> {
        let names = self
            .xs
            .directory(TX_NONE, "/local/domain")
            .map_err(xs_err)?;
        Ok(names.iter().filter_map(|n| n.parse().ok()).collect())
    }
}

/// The guests attached to one switch, and the control socket that attaches them.
pub struct Guests {
    listener: UnixListener,
    path: PathBuf,
    pub mode: GuestMode,
    pub size: RingSize,
    store: Box<dyn Store>,
    attached: Vec<Attached>,
    watch: Option<ReleaseWatch>,
    /// Housekeeping ticks left in which to look for domains gone (libxl removes a dead
    /// domain's Xenstore directory a little after `@releaseDomain`).
    recheck: u32,
    /// Guests detached because their domain disappeared without a detach request.
    pub reaped: u64,
    pub attaches: u64,
    pub detaches: u64,
}

impl Guests {
    /// Listens on `path` (replacing a stale socket). `watch_domains` starts the
    /// `@releaseDomain` watch (needs Xenstore).
    pub fn new(
        path: &Path,
        mode: GuestMode,
        size: RingSize,
        store: Box<dyn Store>,
        watch_domains: bool,
    ) -> io::Result<Guests> {
        let _ = std::fs::remove_file(path);
        let listener = UnixListener::bind(path)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        listener.set_nonblocking(true)?;
        let watch = if watch_domains {
            Some(ReleaseWatch::start()?)
        } else {
            None
        };
        Ok(Guests {
            listener,
            path: path.to_path_buf(),
            mode,
            size,
            store,
            attached: Vec::new(),
            watch,
            recheck: 0,
            reaped: 0,
            attaches: 0,
            detaches: 0,
        })
    }

    /// Descriptors that wake the switch for us (the release watch is polled at housekeeping,
    /// ten times a second at least).
    pub fn fds(&self, out: &mut Vec<i32>) {
        out.push(self.listener.as_raw_fd());
    }

    /// Answers pending requests and handles domain releases. Called after a wake-up on our
    /// descriptors and at every housekeeping tick.
    pub fn service(&mut self, sw: &mut Switch) {
        while let Ok((conn, _)) = self.listener.accept() {
            self.serve(conn, sw);
        }
        if self.watch.as_mut().is_some_and(|w| w.fired()) {
            self.recheck = 30;
        }
        if self.recheck > 0 {
            self.recheck -= 1;
            if !self.attached.is_empty() {
                self.reap(sw);
            }
        }
    }

    fn serve(&mut self, mut conn: UnixStream, sw: &mut Switch) {
        let _ = conn.set_nonblocking(false);
        let _ = conn.set_read_timeout(Some(std::time::Duration::from_secs(2)));
        let mut line = Vec::new();
        let mut b = [0u8; 256];
        while !line.contains(&b'\n') && line.len() < 1024 {
            match conn.read(&mut b) {
                Ok(n) if n > 0 => line.extend_from_slice(&b[..n]),
                _ => break,
            }
        }
        let text = String::from_utf8_lossy(&line).to_string();
        let reply = match Request::parse(text.lines().next().unwrap_or("")) {
            Ok(r) => self.handle(r, sw),
            Err(e) => format!("error {e}"),
        };
        let _ = conn.write_all(reply.as_bytes());
        let _ = conn.write_all(b"\n");
    }

    /// Carries out one request; the reply line.
    pub fn handle(&mut self, r: Request, sw: &mut Switch) -> String {
        match r {
            Request::Attach { domid, devid, mac } => match self.attach(domid, devid, mac, sw) {
                Ok(s) => s,
                Err(e) => format!("error attach {domid}.{devid}: {e}"),
            },
            Request::Detach { domid, devid } => {
                if self.detach(domid, devid, sw) {
                    format!("ok detached {domid}.{devid}")
                } else {
                    format!("ok not attached {domid}.{devid}")
                }
            }
            Request::Resources => {
                let (g, e) = netback_netmap::backend::count_xen_fds().unwrap_or((0, 0));
                let grants: usize = self.attached.iter().map(|a| a.grants).sum();
                format!(
                    "ok attached={} gntalloc_fds={g} evtchn_fds={e} grants={grants} attaches={} detaches={} reaped={}",
                    self.attached.len(),
                    self.attaches,
                    self.detaches,
                    self.reaped
                )
            }
            Request::Stats => crate::daemon::stats_json(sw),
        }
    }

    fn attach(
        &mut self,
        domid: u16,
        devid: u32,
        mac: [u8; 6],
        sw: &mut Switch,
    ) -> io::Result<String> {
        // A repeated attach (a hotplug script run twice) replaces the old port.
        self.detach(domid, devid, sw);
        let (port, fast, grants): (Box<dyn crate::switch::Port>, bool, usize) = match self.mode {
            GuestMode::Fast => {
                let p = XenGuestPort::attach(domid, devid, mac, self.size, self.store.as_mut())?;
                let g = p.grant_count();
                (Box::new(p), true, g)
            }
            GuestMode::Netif => {
                let ifname = format!("vif{domid}.{devid}");
                crate::ports::tap::set_up(&ifname)?;
                (Box::new(AfPacketPort::open(&ifname)?), false, 0)
            }
        };
        let k = sw.attach(port);
        // The vif's MAC is known: frames to the guest are not flooded to every port before it
        // has sent anything, and no other port can claim its address.
        sw.add_static_mac(mac, k);
        self.attached.push(Attached {
            domid,
            devid,
            port: k,
            fast,
            grants,
        });
        self.attaches += 1;
        Ok(format!(
            "ok {} {domid}.{devid} mac {} port {k}",
            if fast { "fast" } else { "netif" },
            format_mac(&mac)
        ))
    }

    /// Detaches vif `domid`.`devid`; false if it was not attached.
    pub fn detach(&mut self, domid: u16, devid: u32, sw: &mut Switch) -> bool {
        let Some(i) = self
            .attached
            .iter()
            .position(|a| a.domid == domid && a.devid == devid)
        else {
            return false;
        };
        let a = self.attached.swap_remove(i);
        if a.fast {
            let _ = netback_netmap::backend::unpublish(self.store.as_mut(), domid, devid);
        }
        // Dropping the port unmaps the rings, releases the grants, closes the event channel.
        drop(sw.detach(a.port));
        self.detaches += 1;
        true
    }

    /// Detaches the vifs of domains that no longer exist.
    fn reap(&mut self, sw: &mut Switch) {
        let Some(Ok(live)) = self.watch.as_mut().map(|w| w.live_domains()) else {
            return;
        };
        let gone: Vec<(u16, u32)> = self
            .attached
            .iter()
            .filter(|a| !live.contains(&a.domid))
            .map(|a| (a.domid, a.devid))
            .collect();
        for (d, n) in gone {
            if self.detach(d, n, sw) {
                self.reaped += 1;
            }
        }
    }

    /// Detaches everything (the daemon is stopping).
    pub fn detach_all(&mut self, sw: &mut Switch) {
        while let Some(a) = self.attached.first() {
            let (d, n) = (a.domid, a.devid);
            self.detach(d, n, sw);
        }
    }
}

impl crate::daemon::Hook for Guests {
    fn fds(&self, out: &mut Vec<i32>) {
        Guests::fds(self, out)
    }
    fn service(&mut self, sw: &mut Switch) {
        Guests::service(self, sw)
    }
}

impl Drop for Guests {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Sends one request to a switch's control socket and returns the reply.
pub fn request(socket: &Path, line: &str) -> io::Result<String> {
    let mut c = UnixStream::connect(socket)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", socket.display())))?;
    c.set_read_timeout(Some(std::time::Duration::from_secs(30)))?;
    c.write_all(line.as_bytes())?;
    c.write_all(b"\n")?;
    c.shutdown(std::net::Shutdown::Write)?;
    let mut s = String::new();
    c.read_to_string(&mut s)?;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_parse() {
        assert_eq!(
            Request::parse("attach 3 0 00:16:3e:00:00:01\n"),
            Ok(Request::Attach {
                domid: 3,
                devid: 0,
                mac: [0, 0x16, 0x3e, 0, 0, 1]
            })
        );
        assert_eq!(
            Request::parse("detach 3 1"),
            Ok(Request::Detach { domid: 3, devid: 1 })
        );
        assert_eq!(Request::parse("resources"), Ok(Request::Resources));
        assert_eq!(Request::parse("stats"), Ok(Request::Stats));
        assert!(
            Request::parse("attach 0 0 00:16:3e:00:00:01").is_err(),
            "dom0"
        );
        assert!(Request::parse("attach 70000 0 00:16:3e:00:00:01").is_err());
        assert!(Request::parse("attach 3 x 00:16:3e:00:00:01").is_err());
        assert!(Request::parse("attach 3 0 00:16:3e:00:00").is_err());
        assert!(Request::parse("detach 3").is_err());
        assert!(Request::parse("").is_err());
        assert!(Request::parse("reboot").is_err());
    }

    struct NullStore;
    impl Store for NullStore {
        fn write(&mut self, _: &str, _: &str) -> io::Result<()> {
            Ok(())
        }
        fn remove(&mut self, _: &str) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn control_socket_answers() {
        let dir = std::env::temp_dir().join(format!("vale-guests-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let sock = dir.join("ctl.sock");
        let mut g = Guests::new(
            &sock,
            GuestMode::Fast,
            RingSize {
                nslots: 64,
                buf_size: 2048,
            },
            Box::new(NullStore),
            false,
        )
        .unwrap();
        let mut sw = Switch::new(32, u64::MAX / 2);
        let s2 = sock.clone();
        let t = std::thread::spawn(move || {
            (
                request(&s2, "resources").unwrap(),
                request(&s2, "detach 5 0").unwrap(),
                request(&s2, "bogus").unwrap(),
            )
        });
        let start = std::time::Instant::now();
        while !t.is_finished() && start.elapsed().as_secs() < 10 {
            g.service(&mut sw);
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let (a, b, c) = t.join().unwrap();
        assert!(a.starts_with("ok attached=0 "), "{a}");
        assert_eq!(b.trim(), "ok not attached 5.0");
        assert!(c.starts_with("error unknown request 'bogus'"), "{c}");
        drop(g);
        assert!(!sock.exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
