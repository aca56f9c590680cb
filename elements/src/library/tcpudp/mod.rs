//! UDP and TCP header checking, checksums, and UDP/IP encapsulation: Click's `elements/tcpudp`.

mod checktcpheader;
mod checkudpheader;
mod settcpchecksum;
mod setudpchecksum;
mod udpipencap;

use crate::element::Registry;

pub fn register(r: &mut Registry) {
    for c in [
        checktcpheader::CLASS,
        checkudpheader::CLASS,
        settcpchecksum::CLASS,
        setudpchecksum::CLASS,
        udpipencap::CLASS,
    ] {
        r.add(c);
    }
}
