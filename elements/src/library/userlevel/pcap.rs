//! Reading pcap and pcapng files and writing pcap files, through the `pcap-file` crate. Shared by
//! FromDump/ToDump and by `clickos-cli run`'s pcap-backed devices.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom};
use std::string::{String, ToString};
use std::time::Duration;

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapReader, PcapWriter};
use pcap_file::pcapng::{Block, PcapNgReader};
use pcap_file::{DataLink, TsResolution};

use crate::packet::{Packet, PacketPool};

enum Reader {
    Pcap(PcapReader<BufReader<File>>),
    PcapNg(PcapNgReader<BufReader<File>>),
}

/// Packets from a pcap or pcapng file, in order.
pub struct PcapSource {
    reader: Reader,
    path: String,
    /// Frames skipped because they did not fit a packet or the file was damaged there.
    pub errors: u64,
}

impl PcapSource {
    pub fn open(path: &str) -> Result<PcapSource, String> {
        let mut f = File::open(path).map_err(|e| std::format!("{path}: {e}"))?;
        let mut magic = [0u8; 4];
        f.read_exact(&mut magic)
            .map_err(|_| std::format!("{path}: not a pcap or pcapng file (too short)"))?;
        f.seek(SeekFrom::Start(0))
            .map_err(|e| std::format!("{path}: {e}"))?;
        let r = BufReader::with_capacity(1 << 16, f);
        let reader = if magic == [0x0a, 0x0d, 0x0d, 0x0a] {
            Reader::PcapNg(
                PcapNgReader::new(r).map_err(|e| std::format!("{path}: bad pcapng file: {e}"))?,
            )
        } else {
            Reader::Pcap(
                PcapReader::new(r)
                    .map_err(|e| std::format!("{path}: not a pcap or pcapng file: {e}"))?,
            )
        };
        Ok(PcapSource {
            reader,
            path: path.to_string(),
            errors: 0,
        })
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    /// The next frame as a packet from `pool`, with its timestamp annotation; `None` at the end
    /// (or at damage the reader cannot get past).
    pub fn next(&mut self, pool: &mut PacketPool) -> Option<Packet> {
        loop {
            match &mut self.reader {
                Reader::Pcap(r) => match r.next_packet()? {
                    Ok(p) => return Some(Self::packet(pool, &p.data, p.timestamp)),
                    Err(_) => {
                        self.errors += 1;
                        return None;
                    }
                },
                Reader::PcapNg(r) => match r.next_block()? {
                    Ok(Block::EnhancedPacket(p)) => {
                        return Some(Self::packet(pool, &p.data, p.timestamp))
                    }
                    Ok(Block::SimplePacket(p)) => {
                        return Some(Self::packet(pool, &p.data, Duration::ZERO))
                    }
                    Ok(_) => continue, // section, interface and statistics blocks
                    Err(_) => {
                        self.errors += 1;
                        return None;
                    }
                },
            }
        }
    }

    fn packet(pool: &mut PacketPool, data: &[u8], ts: Duration) -> Packet {
        let mut p = pool.make_from(data);
        p.anno_mut().timestamp_ns = ts.as_nanos() as u64;
        p
    }
}

/// Link type of a written file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encap {
    Ethernet,
    /// Raw IPv4 packets (linktype RAW).
    Ip,
}

/// Packets into a pcap file (microsecond timestamps, readable by tcpdump and Wireshark).
pub struct PcapSink {
    writer: Option<PcapWriter<BufWriter<File>>>,
    path: String,
    snaplen: u32,
}

impl PcapSink {
    pub fn create(path: &str, snaplen: u32, encap: Encap) -> Result<PcapSink, String> {
        let f = File::create(path).map_err(|e| std::format!("{path}: {e}"))?;
        let header = PcapHeader {
            snaplen,
            datalink: match encap {
                Encap::Ethernet => DataLink::ETHERNET,
                Encap::Ip => DataLink::RAW,
            },
            ts_resolution: TsResolution::MicroSecond,
            ..PcapHeader::default()
        };
        let writer = PcapWriter::with_header(BufWriter::with_capacity(1 << 16, f), header)
            .map_err(|e| std::format!("{path}: {e}"))?;
        Ok(PcapSink {
            writer: Some(writer),
            path: path.to_string(),
            snaplen,
        })
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn write(&mut self, p: &Packet) -> Result<(), String> {
        let data = p.data();
        let cut = &data[..data.len().min(self.snaplen as usize)];
        let ts = Duration::from_nanos(p.anno().timestamp_ns);
        let w = self.writer.as_mut().ok_or("file closed")?;
        w.write_packet(&PcapPacket::new(ts, data.len() as u32, cut))
            .map(|_| ())
            .map_err(|e| std::format!("{}: {e}", self.path))
    }

    /// Flushes buffered packets to the file.
    pub fn flush(&mut self) {
        if let Some(w) = self.writer.take() {
            let mut inner = w.into_writer();
            let _ = std::io::Write::flush(&mut inner);
            // Keep writing afterwards possible: reopen in append mode is not needed, since
            // flush is only called at the end of a run.
        }
    }
}

impl Drop for PcapSink {
    fn drop(&mut self) {
        self.flush();
    }
}
