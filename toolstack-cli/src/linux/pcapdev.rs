//! A device backed by pcap files: receives the frames of one file, writes transmitted frames to
//! another. What `--netfront N=pcap:IN,OUT` maps to.

use elements::library::userlevel::pcap::{Encap, PcapSink, PcapSource};
use elements::platform::NetDevice;
use elements::{Batch, PacketPool};

pub struct PcapDevice {
    input: Option<PcapSource>,
    output: Option<PcapSink>,
    done: bool,
}

impl PcapDevice {
    pub fn open(input: Option<&str>, output: Option<&str>) -> Result<PcapDevice, String> {
        Ok(PcapDevice {
            input: input.map(PcapSource::open).transpose()?,
            output: output
                .map(|o| PcapSink::create(o, 65535, Encap::Ethernet))
                .transpose()?,
            done: input.is_none(),
        })
    }
}

impl NetDevice for PcapDevice {
    fn receive(&mut self, pool: &mut PacketPool, out: &mut Batch, max: usize) -> usize {
        let Some(src) = self.input.as_mut() else {
            return 0;
        };
        let mut n = 0;
        while n < max {
            match src.next(pool) {
                Some(p) => {
                    out.push(p);
                    n += 1;
                }
                None => {
                    self.done = true;
                    break;
                }
            }
        }
        n
    }

    fn transmit(&mut self, pool: &mut PacketPool, batch: &mut Batch) -> usize {
        let n = batch.len();
        for p in batch.drain() {
            if let Some(sink) = self.output.as_mut() {
                let _ = sink.write(&p);
            }
            pool.recycle(p);
        }
        n
    }

    fn exhausted(&self) -> bool {
        self.done
    }

    fn flush(&mut self) {
        if let Some(s) = self.output.as_mut() {
            s.flush();
        }
    }
}
