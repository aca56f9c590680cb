//! `vale-peer`: the other end of a `clickos-switchd` shared-memory port, for tests and debugging —
//! a well-behaved guest stand-in that sends and counts frames, or a deliberately hostile one.
//!
//! ```text
//! vale-peer --connect /dev/shm/g1 --mac 02:00:00:00:00:01 --announce --send 10000 --to 02:00:00:00:00:02
//! vale-peer --connect /dev/shm/g2 --mac 02:00:00:00:00:02 --announce --recv --from 02:00:00:00:00:01
//! vale-peer --connect /dev/shm/evil --hostile garbage|stall|flood|scribble --duration 2
//! ```
//!
//! Frames are `dst src 0x88b5 seq(u64 le) fill…`, the fill byte being `seq as u8`, so a receiver
//! can tell frames from `--from` apart, and check they arrive whole and in order. At exit it
//! prints one line: `sent=N received=N from=N corrupt=N reordered=N kicks=N`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use vale::ports::{format_mac, parse_mac, PeerFds, ShmPeer};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Hostile {
    /// Writes random producer/consumer indices and slot lengths into both rings' headers.
    Garbage,
    /// Announces itself, then never consumes what it is sent.
    Stall,
    /// Sends as fast as it can, from random source addresses to random and broadcast ones.
    Flood,
    /// Writes random bytes all over the shared region: control page, headers, slots, buffers.
    Scribble,
}

#[derive(Parser, Debug)]
#[command(
    name = "vale-peer",
    about = "A test peer for clickos-switchd shared-memory ports"
)]
struct Args {
    /// Attach to the port at PATH (through PATH.sock).
    #[arg(long, value_name = "PATH", conflicts_with = "fds")]
    connect: Option<PathBuf>,
    /// Attach to inherited descriptors REGION,SWITCH_KICK,PEER_KICK.
    #[arg(long, value_name = "FDS", value_parser = |s: &str| PeerFds::parse(s).ok_or("expected R,S,P"))]
    fds: Option<PeerFds>,
    /// This peer's MAC address.
    #[arg(long, default_value = "02:00:00:00:00:01", value_parser = mac)]
    mac: [u8; 6],
    /// Send one broadcast frame first, so the switch learns this peer's address.
    #[arg(long)]
    announce: bool,
    /// Frames to send.
    #[arg(long, default_value_t = 0)]
    send: u64,
    /// Where to send them.
    #[arg(long, default_value = "ff:ff:ff:ff:ff:ff", value_parser = mac)]
    to: [u8; 6],
    /// Frame size in bytes.
    #[arg(long, default_value_t = 60)]
    size: usize,
    /// Frames per publish.
    #[arg(long, default_value_t = 32)]
    batch: usize,
    /// Send at most this many frames per second (0: as fast as the ring takes them).
    #[arg(long, default_value_t = 0)]
    pps: u64,
    /// Receive and count frames.
    #[arg(long)]
    recv: bool,
    /// Count frames from this address separately, checking their contents and order.
    #[arg(long, value_parser = mac)]
    from: Option<[u8; 6]>,
    /// Stop after this many seconds (default: when done sending; receivers run until SIGTERM).
    #[arg(long)]
    duration: Option<f64>,
    /// With --send and --recv: keep receiving this many seconds after the last frame is sent,
    /// then exit.
    #[arg(long)]
    linger: Option<f64>,
    /// Misbehave.
    #[arg(long, value_enum)]
    hostile: Option<Hostile>,
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn mac(s: &str) -> Result<[u8; 6], String> {
    parse_mac(s).ok_or_else(|| format!("'{s}' is not a MAC address"))
}

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::Relaxed);
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn frame(buf: &mut [u8], dst: &[u8; 6], src: &[u8; 6], seq: u64) {
    buf[0..6].copy_from_slice(dst);
    buf[6..12].copy_from_slice(src);
    buf[12..14].copy_from_slice(&[0x88, 0xb5]);
    if buf.len() >= 22 {
        buf[14..22].copy_from_slice(&seq.to_le_bytes());
        buf[22..].fill(seq as u8);
    }
}

#[derive(Default)]
struct Counts {
    sent: u64,
    received: u64,
    from: u64,
    corrupt: u64,
    reordered: u64,
    next_seq: u64,
}

fn receive(peer: &mut ShmPeer, args: &Args, c: &mut Counts) -> u32 {
    let n = match peer.rx.pending() {
        Ok(n) => n,
        Err(e) => {
            eprintln!("vale-peer: the switch broke the ring: {e:?}");
            STOP.store(true, Ordering::Relaxed);
            return 0;
        }
    };
    for k in 0..n {
        peer.rx.peek(k, |d| {
            c.received += 1;
            if let Some(f) = &args.from {
                let seq = if d.len() >= 22 {
                    u64::from_le_bytes(d[14..22].try_into().expect("8"))
                } else {
                    0
                };
                // (u64::MAX marks an announcement.)
                if d.len() >= 22 && &d[6..12] == f && seq != u64::MAX {
                    c.from += 1;
                    if d[22..].iter().any(|&b| b != seq as u8) {
                        c.corrupt += 1;
                    }
                    if seq < c.next_seq {
                        c.reordered += 1;
                    }
                    c.next_seq = seq.wrapping_add(1);
                }
            }
        });
    }
    if n > 0 {
        peer.release(n);
    }
    n
}

fn main() {
    let args = Args::parse();
    // SAFETY: installs a handler that only stores to an atomic.
    unsafe {
        libc::signal(libc::SIGTERM, on_signal as *const () as libc::sighandler_t);
        libc::signal(libc::SIGINT, on_signal as *const () as libc::sighandler_t);
    }
    let peer = match (&args.connect, args.fds) {
        (Some(p), _) => ShmPeer::connect(p),
        (None, Some(f)) => ShmPeer::from_fds(f),
        (None, None) => {
            eprintln!("vale-peer: give --connect PATH or --fds R,S,P");
            std::process::exit(2);
        }
    };
    let mut peer = match peer {
        Ok(p) => p,
        Err(e) => {
            eprintln!("vale-peer: {e}");
            std::process::exit(1);
        }
    };
    let start = Instant::now();
    let deadline = args.duration.map(|d| start + Duration::from_secs_f64(d));
    let past = |deadline: Option<Instant>| deadline.is_some_and(|d| Instant::now() >= d);
    let mut c = Counts::default();
    let mut buf = vec![0u8; args.size.clamp(14, peer.geometry().buf_size as usize)];
    if args.announce || args.hostile == Some(Hostile::Stall) {
        frame(&mut buf, &[0xff; 6], &args.mac, u64::MAX);
        let _ = peer.tx.push(&buf);
        peer.publish();
    }
    let mut rng = Rng(args.seed.max(1).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    match args.hostile {
        None => {
            let batch = args.batch.max(1);
            let mut sent_at: Option<Instant> = None;
            while !STOP.load(Ordering::Relaxed) && !past(deadline) {
                let mut progress = 0;
                if args.recv {
                    progress += receive(&mut peer, &args, &mut c);
                }
                if c.sent < args.send {
                    let due = if args.pps > 0 {
                        (start.elapsed().as_secs_f64() * args.pps as f64) as u64 + 1
                    } else {
                        u64::MAX
                    };
                    let mut pushed = 0;
                    while pushed < batch && c.sent < args.send.min(due) {
                        frame(&mut buf, &args.to, &args.mac, c.sent);
                        match peer.tx.push(&buf) {
                            Ok(true) => {
                                c.sent += 1;
                                pushed += 1;
                            }
                            Ok(false) => break,
                            Err(e) => {
                                eprintln!("vale-peer: the switch broke the ring: {e:?}");
                                STOP.store(true, Ordering::Relaxed);
                                break;
                            }
                        }
                    }
                    if pushed > 0 {
                        peer.publish();
                        progress += pushed as u32;
                    } else if c.sent < due.min(args.send) {
                        // Full: sleep until the switch frees room.
                        let _ = peer.wait_tx(10);
                        continue;
                    } else {
                        std::thread::sleep(Duration::from_micros(50));
                        continue;
                    }
                } else if !args.recv && deadline.is_none() {
                    break;
                } else if let Some(l) = args.linger {
                    let until =
                        *sent_at.get_or_insert_with(|| Instant::now() + Duration::from_secs_f64(l));
                    if Instant::now() >= until {
                        break;
                    }
                }
                if progress == 0 {
                    if args.recv {
                        let _ = peer.wait_rx(10);
                    } else {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                }
            }
        }
        Some(Hostile::Stall) => {
            while !STOP.load(Ordering::Relaxed) && !past(deadline) {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        Some(Hostile::Garbage) => {
            while !STOP.load(Ordering::Relaxed) && !past(deadline) {
                let (a, b) = (rng.next(), rng.next());
                peer.tx.scribble(a as u32, (a >> 32) as u32, b as u32);
                peer.rx.scribble(b as u32, (b >> 32) as u32, a as u32);
                peer.kick_switch();
                std::thread::sleep(Duration::from_micros(200));
            }
        }
        Some(Hostile::Flood) => {
            while !STOP.load(Ordering::Relaxed) && !past(deadline) {
                for _ in 0..256 {
                    let r = rng.next();
                    let mut src = r.to_le_bytes();
                    src[0] = 0x02;
                    let mut dst = (r >> 8).to_le_bytes();
                    dst[0] = if r & 1 == 0 { 0xff } else { 0x06 };
                    if dst[0] == 0xff {
                        dst = [0xff; 8];
                    }
                    frame(
                        &mut buf,
                        &dst[..6].try_into().expect("6"),
                        &src[..6].try_into().expect("6"),
                        c.sent,
                    );
                    match peer.tx.push(&buf) {
                        Ok(true) => c.sent += 1,
                        _ => break,
                    }
                }
                peer.publish();
                peer.kick_switch();
            }
        }
        Some(Hostile::Scribble) => {
            let (base, len) = peer.region_ptr();
            while !STOP.load(Ordering::Relaxed) && !past(deadline) {
                for _ in 0..64 {
                    let r = rng.next();
                    let off = (r as usize % len) & !7;
                    let v = rng.next();
                    // SAFETY: an aligned 8-byte write inside our own mapping; the switch
                    // sees garbage, which is the point.
                    unsafe { (base.add(off) as *mut u64).write_volatile(v) };
                }
                peer.kick_switch();
                std::thread::sleep(Duration::from_micros(100));
            }
        }
    }
    println!(
        "sent={} received={} from={} corrupt={} reordered={} kicks={} mac={}",
        c.sent,
        c.received,
        c.from,
        c.corrupt,
        c.reordered,
        peer.kicks,
        format_mac(&args.mac)
    );
}
