//! Finding domains in Xenstore: `/local/domain/<domid>/name`, and whether a domain is a
//! ClickOS-rs guest (`data/clickos/boot` = `ok`, written by the guest once its control plane
//! runs). Names and values come from Xenstore nodes the guest can write to, so they are read
//! as bounded lossy text and never trusted as paths.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use xenstore::dom0::{Error as XsError, Xs, TX_NONE};

use super::router::{clickos_root, guest_text};
use super::{exit, fail, xs_failure};
use crate::Failure;

#[derive(Debug, Clone)]
pub struct Domain {
    pub domid: u32,
    pub name: String,
    /// The guest reported `data/clickos/boot` = `ok`.
    pub clickos: bool,
    /// The guest's own boot time (`_start` to `boot` = `ok`), if it reported it.
    pub boot_us: Option<u64>,
    /// Seconds since the domain was created (libxl's `/vm/<uuid>/start_time`).
    pub uptime: Option<f64>,
}

fn domain_path(domid: u32) -> String {
    format!("/local/domain/{domid}")
}

/// Reads one domain's entry; `None` if it does not exist (any more).
pub fn get(xs: &mut Xs, domid: u32) -> Result<Option<Domain>, XsError> {
    let base = domain_path(domid);
    let Some(name) = xs.try_read(TX_NONE, &format!("{base}/name"))? else {
        // A domain being built or torn down may lack its name: treat as absent.
        return Ok(None);
    };
    let root = clickos_root(domid);
    let boot = xs.try_read(TX_NONE, &format!("{root}/boot"))?;
    let boot_us = xs
        .try_read(TX_NONE, &format!("{root}/boot-us"))?
        .and_then(|v| guest_text(&v).trim().parse().ok());
    let mut uptime = None;
    if let Some(vm) = xs.try_read(TX_NONE, &format!("{base}/vm"))? {
        let vm = guest_text(&vm);
        if vm.starts_with("/vm/") && xenstore::wire::validate_path(&vm).is_ok() {
            if let Some(t) = xs.try_read(TX_NONE, &format!("{vm}/start_time"))? {
                if let Ok(t) = guest_text(&t).trim().parse::<f64>() {
                    let now = SystemTime::now()
                        .duration_since(UNIX_EPOCH)
                        .map(|d| d.as_secs_f64())
                        .unwrap_or(0.0);
                    uptime = Some((now - t).max(0.0));
                }
            }
        }
    }
    Ok(Some(Domain {
        domid,
        name: guest_text(&name),
        clickos: boot.as_deref() == Some(b"ok"),
        boot_us,
        uptime,
    }))
}

/// Every domain but dom0, by domid.
pub fn all(xs: &mut Xs) -> Result<Vec<Domain>, XsError> {
    let mut ids: Vec<u32> = xs
        .try_directory(TX_NONE, "/local/domain")?
        .iter()
        .filter_map(|s| s.parse().ok())
        .filter(|&d| d != 0)
        .collect();
    ids.sort_unstable();
    let mut out = Vec::new();
    for id in ids {
        if let Some(d) = get(xs, id)? {
            out.push(d);
        }
    }
    Ok(out)
}

/// The domain named `arg` (a name, or a domid), among all domains.
pub fn find(xs: &mut Xs, arg: &str) -> Result<Option<Domain>, XsError> {
    if let Ok(id) = arg.parse::<u32>() {
        if id != 0 {
            if let Some(d) = get(xs, id)? {
                return Ok(Some(d));
            }
        }
    }
    Ok(all(xs)?.into_iter().find(|d| d.name == arg))
}

fn names(ds: &[Domain]) -> String {
    ds.iter()
        .map(|d| format!("{} (id {})", d.name, d.domid))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The domain a command is about: `arg` if given, else the only ClickOS domain. A domain that
/// exists but has not reported its ClickOS boot yet is waited for (bounded): it may still be
/// booting, which is not an error.
pub fn resolve(xs: &mut Xs, arg: Option<&str>, timeout: Duration) -> Result<Domain, Failure> {
    let d = match arg {
        Some(a) => match find(xs, a).map_err(xs_failure)? {
            Some(d) => d,
            None => {
                let ds = all(xs).map_err(xs_failure)?;
                let known = if ds.is_empty() {
                    "no domains run besides dom0".to_string()
                } else {
                    format!("running: {}", names(&ds))
                };
                return Err(fail(exit::NOT_FOUND, format!("no domain '{a}' ({known})")));
            }
        },
        None => {
            let ds: Vec<Domain> = all(xs)
                .map_err(xs_failure)?
                .into_iter()
                .filter(|d| d.clickos)
                .collect();
            match ds.len() {
                1 => return Ok(ds.into_iter().next().unwrap()),
                0 => return Err(fail(
                    exit::NOT_FOUND,
                    "no ClickOS domain is running (create one: clickos-cli create CONFIG.click)",
                )),
                _ => {
                    return Err(fail(
                        exit::USAGE,
                        format!(
                            "{} ClickOS domains run; name one of them: {}",
                            ds.len(),
                            names(&ds)
                        ),
                    ))
                }
            }
        }
    };
    if d.clickos {
        return Ok(d);
    }
    wait_boot(xs, &d, timeout)?;
    Ok(Domain { clickos: true, ..d })
}

/// Waits for a domain's `data/clickos/boot` = `ok`; fails if the domain disappears.
pub fn wait_boot(xs: &mut Xs, d: &Domain, timeout: Duration) -> Result<(), Failure> {
    let base = domain_path(d.domid);
    let boot = format!("{}/boot", clickos_root(d.domid));
    let what = format!(
        "domain {} (id {}) to report its ClickOS boot ({boot} = ok); if it is not a ClickOS \
         domain or its boot failed, see: clickos-cli console {}",
        d.name, d.domid, d.name
    );
    let r = xs.wait_for(&base, &what, timeout, |xs| {
        if xs.try_read(TX_NONE, &format!("{base}/name"))?.is_none() {
            return Ok(Some(false));
        }
        Ok((xs.try_read(TX_NONE, &boot)?.as_deref() == Some(b"ok")).then_some(true))
    });
    match r {
        Ok(true) => Ok(()),
        Ok(false) => Err(fail(
            exit::DOMAIN_FAILED,
            format!(
                "domain {} (id {}) died before its ClickOS boot",
                d.name, d.domid
            ),
        )),
        Err(e) => Err(xs_failure(e)),
    }
}
