//! The Linux platform `clickos-cli run` gives the element graph: a monotonic clock, a console, and
//! network devices mapped from `--netfront N=SPEC` and interface names.

mod afpacket;
mod pcapdev;
mod tap;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use elements::platform::{NetDevice, Platform};
use elements::{Batch, PacketPool};

/// What a netfront number stands for on Linux.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeviceSpec {
    /// `pcap:IN[,OUT]`: receive the frames of IN (`-` for none), write transmitted ones to OUT.
    Pcap {
        input: Option<String>,
        output: Option<String>,
    },
    /// `if:NAME`: a host interface through an AF_PACKET socket.
    Interface(String),
    /// `tap:NAME`: a TAP device (created if it does not exist).
    Tap(String),
}

impl DeviceSpec {
    pub fn parse(s: &str) -> Result<DeviceSpec, String> {
        let (kind, rest) = s
            .split_once(':')
            .ok_or_else(|| format!("'{s}': expected pcap:IN[,OUT], if:NAME or tap:NAME"))?;
        let opt = |x: &str| (!x.is_empty() && x != "-").then(|| x.to_string());
        match kind {
            "pcap" => {
                let (i, o) = rest.split_once(',').unwrap_or((rest, ""));
                let spec = DeviceSpec::Pcap {
                    input: opt(i),
                    output: opt(o),
                };
                if spec
                    == (DeviceSpec::Pcap {
                        input: None,
                        output: None,
                    })
                {
                    return Err(format!(
                        "'{s}': give an input file, an output file, or both"
                    ));
                }
                Ok(spec)
            }
            "if" if !rest.is_empty() => Ok(DeviceSpec::Interface(rest.to_string())),
            "tap" if !rest.is_empty() => Ok(DeviceSpec::Tap(rest.to_string())),
            _ => Err(format!(
                "'{s}': expected pcap:IN[,OUT], if:NAME or tap:NAME"
            )),
        }
    }

    fn is_live(&self) -> bool {
        !matches!(self, DeviceSpec::Pcap { .. })
    }
}

/// A device several elements share (FromNetfront(0) and ToNetfront(0) use one).
struct Shared(Rc<RefCell<dyn NetDevice>>);

impl NetDevice for Shared {
    fn receive(&mut self, pool: &mut PacketPool, out: &mut Batch, max: usize) -> usize {
        self.0.borrow_mut().receive(pool, out, max)
    }
    fn transmit(&mut self, pool: &mut PacketPool, batch: &mut Batch) -> usize {
        self.0.borrow_mut().transmit(pool, batch)
    }
    fn exhausted(&self) -> bool {
        self.0.borrow().exhausted()
    }
    fn flush(&mut self) {
        self.0.borrow_mut().flush()
    }
}

pub struct LinuxPlatform {
    start: Instant,
    specs: HashMap<u32, DeviceSpec>,
    netfronts: HashMap<u32, Rc<RefCell<dyn NetDevice>>>,
    interfaces: HashMap<String, Rc<RefCell<dyn NetDevice>>>,
    /// Set when a device that never runs out (an interface) is open: the run then lasts until
    /// stopped.
    pub live: Rc<std::cell::Cell<bool>>,
}

impl LinuxPlatform {
    pub fn new(specs: HashMap<u32, DeviceSpec>) -> LinuxPlatform {
        LinuxPlatform {
            start: Instant::now(),
            specs,
            netfronts: HashMap::new(),
            interfaces: HashMap::new(),
            live: Rc::new(std::cell::Cell::new(false)),
        }
    }

    fn open(spec: &DeviceSpec) -> Result<Rc<RefCell<dyn NetDevice>>, String> {
        Ok(match spec {
            DeviceSpec::Pcap { input, output } => Rc::new(RefCell::new(pcapdev::PcapDevice::open(
                input.as_deref(),
                output.as_deref(),
            )?)),
            DeviceSpec::Interface(name) => Rc::new(RefCell::new(afpacket::AfPacket::open(name)?)),
            DeviceSpec::Tap(name) => Rc::new(RefCell::new(tap::Tap::open(name)?)),
        })
    }
}

impl Platform for LinuxPlatform {
    fn now_ns(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }

    fn wall_ns(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
    }

    fn print(&mut self, line: &str) {
        // Click's Print writes to standard error; so do we, keeping standard output for handlers.
        eprintln!("{line}");
    }

    fn net_device(&mut self, id: u32) -> Result<Box<dyn NetDevice>, String> {
        if let Some(d) = self.netfronts.get(&id) {
            return Ok(Box::new(Shared(d.clone())));
        }
        let spec = self.specs.get(&id).ok_or_else(|| {
            format!("netfront device {id} is not mapped: run with --netfront {id}=pcap:IN.pcap,OUT.pcap, --netfront {id}=if:IFACE or --netfront {id}=tap:NAME")
        })?;
        let d = Self::open(spec)?;
        if spec.is_live() {
            self.live.set(true);
        }
        self.netfronts.insert(id, d.clone());
        Ok(Box::new(Shared(d)))
    }

    fn interface(&mut self, name: &str) -> Result<Box<dyn NetDevice>, String> {
        if let Some(d) = self.interfaces.get(name) {
            return Ok(Box::new(Shared(d.clone())));
        }
        let d: Rc<RefCell<dyn NetDevice>> = Rc::new(RefCell::new(afpacket::AfPacket::open(name)?));
        self.live.set(true);
        self.interfaces.insert(name.to_string(), d.clone());
        Ok(Box::new(Shared(d)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_specs() {
        assert_eq!(
            DeviceSpec::parse("pcap:in.pcap,out.pcap"),
            Ok(DeviceSpec::Pcap {
                input: Some("in.pcap".into()),
                output: Some("out.pcap".into())
            })
        );
        assert_eq!(
            DeviceSpec::parse("pcap:-,out.pcap"),
            Ok(DeviceSpec::Pcap {
                input: None,
                output: Some("out.pcap".into())
            })
        );
        assert_eq!(
            DeviceSpec::parse("pcap:in.pcap"),
            Ok(DeviceSpec::Pcap {
                input: Some("in.pcap".into()),
                output: None
            })
        );
        assert_eq!(
            DeviceSpec::parse("if:veth0"),
            Ok(DeviceSpec::Interface("veth0".into()))
        );
        assert_eq!(
            DeviceSpec::parse("tap:tap0"),
            Ok(DeviceSpec::Tap("tap0".into()))
        );
        assert!(DeviceSpec::parse("pcap:-").is_err());
        assert!(DeviceSpec::parse("eth0").is_err());
    }
}
