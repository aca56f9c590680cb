//! Any bytes as an element configuration string read with every typed reader: no panic.
#![no_main]

use config_lang::args::{Args, Bandwidth, EtherAddr, HexData, Ipv4Prefix, PacketRate, Word};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut a = Args::new(text);
    let _ = a.read_p::<u64>("A");
    let _ = a.read_p::<i32>("B");
    let _ = a.read_p::<bool>("C");
    let _ = a.read_p::<std::net::Ipv4Addr>("D");
    let _ = a.read_p::<Ipv4Prefix>("E");
    let _ = a.read_p::<EtherAddr>("F");
    let _ = a.read_p::<core::time::Duration>("G");
    let _ = a.read_p::<Bandwidth>("H");
    let _ = a.read_p::<PacketRate>("I");
    let _ = a.read_p::<String>("J");
    let _ = a.read_p::<Word>("K");
    let _ = a.read_p::<HexData>("L");
    let _ = a.read::<f64>("LIMIT");
    let _ = a.read_all::<u8>("X");
    let _ = a.complete();
    let _ = config_lang::args::unquote(text);
});
