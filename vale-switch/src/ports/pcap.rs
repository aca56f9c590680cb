//! A pcap file as a switch port, for tests and replay: the frames of an input file come into the
//! switch (as fast as the switch takes them), and what the switch sends to the port is captured
//! into an output file. Either side may be absent. Ethernet pcap files (microsecond or nanosecond
//! timestamps) via the `pcap-file` crate.

use std::fs::File;
use std::io::{self, BufReader, BufWriter};
use std::string::String;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapReader, PcapWriter};
use pcap_file::{DataLink, TsResolution};

use super::{Frames, MAX_FRAME};
use crate::ring::RingError;
use crate::switch::{Port, MAX_BURST};

pub struct PcapPort {
    name: String,
    input: Option<PcapReader<BufReader<File>>>,
    output: Option<PcapWriter<BufWriter<File>>>,
    frames: Frames,
    /// Frames read from the input so far.
    pub replayed: u64,
    /// Input frames skipped (longer than a buffer) and damage that ended the replay.
    pub input_errors: u64,
    /// Frames written to the output.
    pub captured: u64,
    pub output_errors: u64,
}

fn err(path: &str, e: impl std::fmt::Display) -> io::Error {
    io::Error::other(std::format!("{path}: {e}"))
}

impl PcapPort {
    /// `input` is replayed into the switch, frames sent to the port go to `output`.
    pub fn open(input: Option<&str>, output: Option<&str>) -> io::Result<PcapPort> {
        let input = match input {
            Some(p) => {
                let f = File::open(p).map_err(|e| err(p, e))?;
                let r = PcapReader::new(BufReader::with_capacity(1 << 16, f))
                    .map_err(|e| err(p, std::format!("not a pcap file: {e}")))?;
                if r.header().datalink != DataLink::ETHERNET {
                    return Err(err(p, "not an Ethernet capture"));
                }
                Some(r)
            }
            None => None,
        };
        let output = match output {
            Some(p) => {
                let f = File::create(p).map_err(|e| err(p, e))?;
                let header = PcapHeader {
                    snaplen: MAX_FRAME as u32,
                    datalink: DataLink::ETHERNET,
                    ts_resolution: TsResolution::MicroSecond,
                    ..PcapHeader::default()
                };
                Some(
                    PcapWriter::with_header(BufWriter::with_capacity(1 << 16, f), header)
                        .map_err(|e| err(p, e))?,
                )
            }
            None => None,
        };
        let name = std::format!(
            "pcap:{},{}",
            input.as_ref().map_or("-", |_| "in"),
            output.as_ref().map_or("-", |_| "out")
        );
        Ok(PcapPort {
            name,
            input,
            output,
            frames: Frames::new(MAX_BURST),
            replayed: 0,
            input_errors: 0,
            captured: 0,
            output_errors: 0,
        })
    }

    /// Names the port (the daemon uses the spec it was given).
    pub fn named(mut self, name: &str) -> PcapPort {
        self.name = name.into();
        self
    }

    /// Whether the input (if any) is used up.
    pub fn replay_done(&self) -> bool {
        self.input.is_none()
    }

    /// Writes buffered output to the file and closes it (frames sent afterwards are dropped).
    pub fn finish(&mut self) {
        if let Some(w) = self.output.take() {
            let _ = std::io::Write::flush(&mut w.into_writer());
        }
    }
}

impl Port for PcapPort {
    fn rx_batch(&mut self, max: usize) -> Result<usize, RingError> {
        self.frames.clear();
        let max = max.min(self.frames.capacity());
        while self.frames.len() < max {
            let Some(r) = self.input.as_mut() else { break };
            match r.next_packet() {
                None => {
                    self.input = None;
                }
                Some(Err(_)) => {
                    self.input_errors += 1;
                    self.input = None;
                }
                Some(Ok(p)) => {
                    if p.data.len() > MAX_FRAME {
                        self.input_errors += 1;
                        continue;
                    }
                    let buf = self.frames.next_buf();
                    buf[..p.data.len()].copy_from_slice(&p.data);
                    let n = p.data.len();
                    self.frames.commit(n);
                    self.replayed += 1;
                }
            }
        }
        Ok(self.frames.len())
    }

    fn rx_frame(&self, k: usize) -> &[u8] {
        self.frames.get(k)
    }

    fn rx_release(&mut self, _n: usize) {
        self.frames.clear();
    }

    fn tx(&mut self, frame: &[u8]) -> Result<bool, RingError> {
        let Some(w) = self.output.as_mut() else {
            return Ok(false);
        };
        let ts = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO);
        match w.write_packet(&PcapPacket::new(ts, frame.len() as u32, frame)) {
            Ok(_) => {
                self.captured += 1;
                Ok(true)
            }
            Err(_) => {
                self.output_errors += 1;
                Ok(false)
            }
        }
    }

    fn tx_flush(&mut self) {}

    fn name(&self) -> &str {
        &self.name
    }

    /// Frames still to replay are input waiting: the switch must not sleep.
    fn arm(&mut self) -> Result<bool, RingError> {
        Ok(self.input.is_some())
    }

    fn exhausted(&self) -> bool {
        self.input.is_none()
    }

    fn port_stats(&self, out: &mut std::vec::Vec<(&'static str, u64)>) {
        out.push(("replayed", self.replayed));
        out.push(("input_errors", self.input_errors));
        out.push(("captured", self.captured));
        out.push(("output_errors", self.output_errors));
    }
}

impl Drop for PcapPort {
    fn drop(&mut self) {
        self.finish();
    }
}
