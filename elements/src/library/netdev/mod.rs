//! Network devices: FromNetfront / ToNetfront (and FromDevice / ToDevice, the names ClickOS's
//! public code used). A numeric device is the guest's netfront N — on Linux, whatever
//! `clickos-cli run --netfront N=SPEC` maps it to; a name is a host interface (Linux only).

mod fromnetfront;
mod tonetfront;

use alloc::boxed::Box;
use alloc::string::String;

use crate::element::Registry;
use crate::platform::{NetDevice, Platform};

pub fn register(r: &mut Registry) {
    for c in [
        fromnetfront::CLASS,
        fromnetfront::DEVICE_CLASS,
        tonetfront::CLASS,
        tonetfront::DEVICE_CLASS,
    ] {
        r.add(c);
    }
}

/// A device argument: netfront number or interface name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) enum DeviceRef {
    #[default]
    None,
    Netfront(u32),
    Interface(String),
}

impl DeviceRef {
    pub fn parse(s: &str) -> DeviceRef {
        let s = s.trim();
        match s.parse::<u32>() {
            Ok(n) => DeviceRef::Netfront(n),
            Err(_) => DeviceRef::Interface(String::from(s.trim_matches('"'))),
        }
    }

    pub fn open(&self, p: &mut dyn Platform) -> Result<Box<dyn NetDevice>, String> {
        match self {
            DeviceRef::Netfront(n) => p.net_device(*n),
            DeviceRef::Interface(name) => p.interface(name),
            DeviceRef::None => Err(String::from("no device given")),
        }
    }
}
