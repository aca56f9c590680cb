//! Click's packet annotations: per-packet metadata that travels with the packet between elements.

use core::net::Ipv4Addr;

/// Size of the free-form user annotation area (Click's `USER_ANNO`).
pub const USER_ANNO_SIZE: usize = 48;

const NO_HEADER: i32 = i32::MIN;

/// Values of [`Annotations::packet_type`], numbered as in Click (and Linux's `PACKET_*`).
pub mod packet_type {
    /// Addressed to this host (the default).
    pub const HOST: u8 = 0;
    /// Link-level broadcast.
    pub const BROADCAST: u8 = 1;
    /// Link-level multicast.
    pub const MULTICAST: u8 = 2;
    /// Unicast to another host (seen in promiscuous mode).
    pub const OTHERHOST: u8 = 3;
    /// Sent by this host.
    pub const OUTGOING: u8 = 4;
    pub const LOOPBACK: u8 = 5;
    pub const FASTROUTE: u8 = 6;
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Annotations {
    /// Offsets from the start of the data; `NO_HEADER` when unset. Kept as offsets (not
    /// pointers) so they stay right when a clone is copied on write.
    network: i32,
    transport: i32,
    /// Destination IP annotation (set by GetIPAddress, used by lookups and ARPQuerier).
    pub dst_ip: Ipv4Addr,
    /// Paint color (Paint, PaintSwitch, CheckPaint).
    pub paint: u8,
    /// Link-level packet type: one of the [`packet_type`] values.
    pub packet_type: u8,
    /// Receive or generation time, nanoseconds since the Unix epoch (0 when unknown).
    pub timestamp_ns: u64,
    /// Input device number, for elements that care where a packet came from.
    pub device: u16,
    pub user: [u8; USER_ANNO_SIZE],
}

impl Default for Annotations {
    fn default() -> Self {
        Annotations {
            network: NO_HEADER,
            transport: NO_HEADER,
            dst_ip: Ipv4Addr::UNSPECIFIED,
            paint: 0,
            packet_type: 0,
            timestamp_ns: 0,
            device: 0,
            user: [0; USER_ANNO_SIZE],
        }
    }
}

impl Annotations {
    pub fn network_offset(&self) -> Option<usize> {
        (self.network >= 0).then_some(self.network as usize)
    }

    pub fn transport_offset(&self) -> Option<usize> {
        (self.transport >= 0).then_some(self.transport as usize)
    }

    pub fn set_network_offset(&mut self, off: usize) {
        self.network = off as i32;
    }

    pub fn set_transport_offset(&mut self, off: usize) {
        self.transport = off as i32;
    }

    pub fn clear_headers(&mut self) {
        self.network = NO_HEADER;
        self.transport = NO_HEADER;
    }

    /// The data start moved by `n` bytes (positive: stripped). Headers that fall off the front
    /// are cleared.
    #[inline]
    pub(crate) fn shift_headers(&mut self, n: i32) {
        for h in [&mut self.network, &mut self.transport] {
            if *h != NO_HEADER {
                *h -= n;
                if *h < 0 {
                    *h = NO_HEADER;
                }
            }
        }
    }

    /// Resets everything (for a recycled packet).
    #[inline]
    pub(crate) fn reset(&mut self) {
        self.network = NO_HEADER;
        self.transport = NO_HEADER;
        self.dst_ip = Ipv4Addr::UNSPECIFIED;
        self.paint = 0;
        self.packet_type = 0;
        self.timestamp_ns = 0;
        self.device = 0;
        self.user = [0; USER_ANNO_SIZE];
    }
}
