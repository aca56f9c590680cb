//! The ClickOS fast-path ring on the host: processes exchanging frames over memfd shared memory
//! with the production ring and switch code (`vale::ring`, `vale::switch`, `vale::ports::shm`),
//! against a Linux bridge + veth baseline measured in the same run.
//!
//! - (a) producer → consumer through one ring (2 processes);
//! - (b) guest → switch → guest (3 processes: the switch is `vale::daemon::run_until`, the loop
//!   `clickos-switchd` runs);
//! - (c) baseline: AF_PACKET sender on veth vA0 → vA1 ∈ br0 ∋ vB1 → veth vB0 → AF_PACKET receiver,
//!   in a network namespace of our own (needs root; skipped otherwise).
//!
//! Each for 60- and 1514-byte frames and batch sizes 1, 8, 32, 64, 128, 256, in two modes:
//! `notify` — every publish (one per batch; per packet at batch 1) is followed by an eventfd write
//! and every receiver blocks on its eventfd before each receive pass (the kick-request flag is
//! pinned on); `poll` — receivers poll and only sleep (kick-on-request) when idle, producers kick
//! only when asked: the ring's design. Throughput is what the final receiver counts.
//!
//! `ring [--quick] [--duration-ms N] [--reps N] [--only abcd] [--no-save]` (default: the best of 2
//! runs of 400 ms per point, each after 100 ms of warm-up; `--only` picks measurements;
//! `--no-save` leaves bench/results/ alone).

use std::os::fd::RawFd;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clickos_bench::Table;
use vale::ports::{self, AfPacketPort, PeerFds, ShmPeer, ShmRingPort};
use vale::ring::Geometry;
use vale::switch::{Port, Switch};

const SLOTS: u32 = 1024;
const BUF: u32 = 2048;
const DST: [u8; 6] = [2, 0, 0, 0, 0, 0x0b];
const SRC: [u8; 6] = [2, 0, 0, 0, 0, 0x0a];

// ---- the control page shared by the parent and its children --------------------------------

/// Words of the control page, one per cache line.
#[derive(Clone, Copy)]
enum W {
    Ready = 0,
    Start,
    Stop,
    /// Frames counted by the final receiver.
    Rx,
    /// Frames the bridge baseline's sender handed to the kernel.
    Tx,
    /// Eventfd writes by the producer, the switch, and wake-ups of the receiver.
    ProdKicks,
    SwitchKicks,
    RxWakeups,
    /// Frames the switch dropped (the receiving guest's ring was full).
    SwitchDrops,
    Done,
}

struct Ctl(*mut u8);

impl Ctl {
    fn w(&self, w: W) -> &AtomicU64 {
        // SAFETY: the control mapping is a page; words are 64 bytes apart, 8-aligned.
        unsafe { &*(self.0.add(w as usize * 64) as *const AtomicU64) }
    }
    fn get(&self, w: W) -> u64 {
        self.w(w).load(Ordering::Acquire)
    }
    fn set(&self, w: W, v: u64) {
        self.w(w).store(v, Ordering::Release)
    }
    fn stopped(&self) -> bool {
        self.get(W::Stop) != 0
    }
    fn ready_and_wait(&self) {
        self.w(W::Ready).fetch_add(1, Ordering::AcqRel);
        while self.get(W::Start) == 0 && !self.stopped() {
            std::thread::sleep(Duration::from_micros(200));
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Notify,
    Poll,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Notify => "notify",
            Mode::Poll => "poll",
        }
    }
}

fn template(size: usize) -> Vec<u8> {
    let mut f = vec![0u8; size];
    f[0..6].copy_from_slice(&DST);
    f[6..12].copy_from_slice(&SRC);
    f[12..14].copy_from_slice(&[0x88, 0xb5]);
    for (k, b) in f[14..].iter_mut().enumerate() {
        *b = k as u8;
    }
    f
}

/// Reads a frame the way a receiver would use it: the header and the length.
#[inline]
fn touch(f: &[u8]) -> u64 {
    if f.len() >= 14 {
        f[5] as u64 + f[13] as u64 + f.len() as u64
    } else {
        0
    }
}

fn wait_fd(fd: RawFd, ms: i32) {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one live pollfd.
    unsafe { libc::poll(&mut p, 1, ms) };
}

/// Empty polls before a polling receiver arms its kick flag and sleeps.
const SPIN: u32 = 256;

// ---- child roles -----------------------------------------------------------------------------

/// A guest sending into its port's "to switch" ring as fast as the ring takes frames.
fn role_producer(ctl: &Ctl, fds: PeerFds, size: usize, batch: usize, mode: Mode) {
    let mut p = ShmPeer::from_fds(fds).expect("attach");
    let buf = template(size);
    ctl.ready_and_wait();
    while !ctl.stopped() {
        let mut n = 0;
        while n < batch {
            match p.tx.push(&buf) {
                Ok(true) => n += 1,
                _ => break,
            }
        }
        if n > 0 {
            match mode {
                Mode::Notify => {
                    p.tx.publish();
                    p.kick_switch();
                }
                Mode::Poll => p.publish(),
            }
        } else {
            // Full: sleep until the consumer frees room (it kicks when asked).
            let _ = p.wait_tx(5);
        }
    }
    ctl.w(W::ProdKicks).fetch_add(p.kicks, Ordering::AcqRel);
}

/// The consumer of (a): the switch's end of the port, read through the `Port` interface.
fn role_consumer(ctl: &Ctl, fds: PeerFds, batch: usize, mode: Mode) {
    let mut port = ShmRingPort::from_fds("consumer", fds).expect("attach");
    let kick_fd = fds.switch_kick;
    ctl.ready_and_wait();
    let mut count = 0u64;
    let mut sink = 0u64;
    let mut idle = 0;
    let mut wakeups = 0;
    if mode == Mode::Notify {
        let _ = port.arm(); // the kick request stays on: a kick for every publish
    }
    while !ctl.stopped() {
        if mode == Mode::Notify {
            wait_fd(kick_fd, 5);
            ports::drain(kick_fd);
            wakeups += 1;
        }
        loop {
            let n = port.rx_batch(batch).expect("well-behaved producer");
            if n == 0 {
                break;
            }
            for k in 0..n {
                sink += touch(port.rx_frame(k));
            }
            port.rx_release(n);
            count += n as u64;
            ctl.set(W::Rx, count);
            idle = 0;
            if mode == Mode::Poll {
                break;
            }
        }
        if mode == Mode::Poll {
            idle += 1;
            if idle >= SPIN {
                idle = 0;
                if !port.arm().expect("ring") {
                    wait_fd(kick_fd, 5);
                    wakeups += 1;
                }
                port.disarm();
            }
        }
    }
    std::hint::black_box(sink);
    ctl.set(W::RxWakeups, wakeups);
    ctl.w(W::SwitchKicks)
        .fetch_add(port.kicks(), Ordering::AcqRel);
}

/// The switch of (b), between two ports.
fn role_switch(ctl: &Ctl, a: PeerFds, b: PeerFds, batch: usize, mode: Mode) {
    let pa = ShmRingPort::from_fds("a", a).expect("attach a");
    let pb = ShmRingPort::from_fds("b", b).expect("attach b");
    let mut sw = Switch::new(batch, u64::MAX / 2);
    sw.attach(Box::new(pa));
    sw.attach(Box::new(pb));
    // B announces itself, so frames to it are unicast (learned), not flooded.
    ctl.ready_and_wait();
    match mode {
        Mode::Poll => {
            let opts = vale::daemon::Options {
                signals: false,
                ..Default::default()
            };
            vale::daemon::run_until(&mut sw, &opts, || ctl.stopped(), |_| {}).expect("loop");
        }
        Mode::Notify => {
            sw.arm(); // kick requests stay on
            while !ctl.stopped() {
                wait_fd(a.switch_kick, 5);
                ports::drain(a.switch_kick);
                let t = ports::now_ns();
                while sw.forward(t) > 0 {}
            }
        }
    }
    let mut kicks = 0;
    for k in 0..2 {
        sw.with_port(k, |p| {
            let mut v = Vec::new();
            p.port_stats(&mut v);
            kicks += v.iter().find(|(n, _)| *n == "kicks").map_or(0, |x| x.1);
        });
    }
    ctl.set(W::SwitchKicks, kicks);
    ctl.set(W::SwitchDrops, sw.counters(1).map_or(0, |c| c.tx_drops));
}

/// The receiving guest of (b).
fn role_guest_recv(ctl: &Ctl, fds: PeerFds, batch: usize, mode: Mode) {
    let mut p = ShmPeer::from_fds(fds).expect("attach");
    // Announce: the switch learns B's address.
    let mut hello = template(60);
    hello[0..6].fill(0xff);
    hello[6..12].copy_from_slice(&DST);
    p.tx.push(&hello).expect("ring");
    p.tx.publish();
    p.kick_switch();
    ctl.ready_and_wait();
    let mut count = 0u64;
    let mut sink = 0u64;
    let mut idle = 0;
    let mut wakeups = 0;
    if mode == Mode::Notify {
        let _ = p.rx.consumer_sleep(); // stays on: kicked for every flush
    }
    while !ctl.stopped() {
        if mode == Mode::Notify {
            p.wait(5);
            wakeups += 1;
        }
        loop {
            let n =
                p.rx.pending()
                    .expect("well-behaved switch")
                    .min(batch as u32);
            if n == 0 {
                break;
            }
            for k in 0..n {
                sink += p.rx.peek(k, touch).unwrap_or(0);
            }
            p.release(n);
            count += n as u64;
            ctl.set(W::Rx, count);
            idle = 0;
            if mode == Mode::Poll {
                break;
            }
        }
        if mode == Mode::Poll {
            idle += 1;
            if idle >= SPIN {
                idle = 0;
                let _ = p.wait_rx(5);
                wakeups += 1;
            }
        }
    }
    std::hint::black_box(sink);
    ctl.set(W::RxWakeups, wakeups);
}

/// The bridge baseline's sender: AF_PACKET (TPACKET_V2 transmit ring), `batch` frames per send.
fn role_af_send(ctl: &Ctl, ifname: &str, size: usize, batch: usize) {
    let mut p = AfPacketPort::open(ifname).expect("open sender");
    let buf = template(size);
    ctl.ready_and_wait();
    let mut sent = 0u64;
    while !ctl.stopped() {
        let mut n = 0;
        while n < batch && p.tx(&buf).unwrap_or(false) {
            n += 1;
        }
        p.tx_flush();
        sent += n as u64;
        ctl.set(W::Tx, sent);
        if n == 0 {
            std::thread::yield_now();
        }
    }
}

/// The bridge baseline's receiver: AF_PACKET (TPACKET_V3 receive ring).
fn role_af_recv(ctl: &Ctl, ifname: &str) {
    let mut p = AfPacketPort::open(ifname).expect("open receiver");
    let mut fds = Vec::new();
    p.wake_fds(&mut fds);
    ctl.ready_and_wait();
    let mut count = 0u64;
    while !ctl.stopped() {
        let n = p.rx_batch(256).unwrap_or(0);
        if n == 0 {
            if !p.arm().unwrap_or(false) {
                wait_fd(fds[0], 5);
            }
            continue;
        }
        for k in 0..n {
            let f = p.rx_frame(k);
            count += (f.len() >= 14 && f[12..14] == [0x88, 0xb5]) as u64;
        }
        p.rx_release(n);
        ctl.set(W::Rx, count);
    }
    ctl.set(W::RxWakeups, p.kernel_drops());
}

fn child_main(args: &[String]) {
    let get = |k: &str| -> Option<String> {
        args.iter()
            .position(|a| a == k)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let num = |k: &str| get(k).and_then(|v| v.parse::<usize>().ok()).unwrap_or(0);
    let fds = |k: &str| get(k).and_then(|v| PeerFds::parse(&v)).expect("fds");
    let ctl_fd: RawFd = num("--ctl") as RawFd;
    // SAFETY: maps the inherited control page.
    let base = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            4096,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED,
            ctl_fd,
            0,
        )
    };
    assert!(base != libc::MAP_FAILED, "control page");
    let ctl = Ctl(base as *mut u8);
    if let Some(c) = get("--cpu") {
        let _ = ports::pin_to_cpu(c.parse().expect("cpu"));
    }
    let mode = if get("--mode").as_deref() == Some("notify") {
        Mode::Notify
    } else {
        Mode::Poll
    };
    let (size, batch) = (num("--size"), num("--batch").max(1));
    match get("--role").as_deref() {
        Some("producer") => role_producer(&ctl, fds("--fds"), size, batch, mode),
        Some("consumer") => role_consumer(&ctl, fds("--fds"), batch, mode),
        Some("switch") => role_switch(&ctl, fds("--fds"), fds("--fds2"), batch, mode),
        Some("guest-recv") => role_guest_recv(&ctl, fds("--fds"), batch, mode),
        Some("af-send") => role_af_send(&ctl, &get("--if").expect("if"), size, batch),
        Some("af-recv") => role_af_recv(&ctl, &get("--if").expect("if")),
        r => panic!("unknown role {r:?}"),
    }
    ctl.w(W::Done).fetch_add(1, Ordering::AcqRel);
}

// ---- the parent ------------------------------------------------------------------------------

struct Point {
    mpps: f64,
    /// Notifications (eventfd writes) per 1000 frames delivered.
    kicks_per_k: f64,
    drops: u64,
}

struct Run {
    ctl_region: ports::shm::ShmRegion,
    ports: Vec<ShmRingPort>,
    children: Vec<Child>,
}

impl Run {
    fn new(nports: usize) -> Run {
        let ctl_region = ports::shm::ShmRegion::memfd("bench-ctl", 4096).expect("memfd");
        ports::set_cloexec(ctl_region.fd(), false).expect("fcntl");
        let ports = (0..nports)
            .map(|k| {
                ShmRingPort::memfd(&format!("bench-port{k}"), Geometry::new(SLOTS, BUF))
                    .expect("port")
            })
            .collect();
        Run {
            ctl_region,
            ports,
            children: Vec::new(),
        }
    }

    fn ctl(&self) -> Ctl {
        Ctl(self.ctl_region.ptr())
    }

    fn fds(&self, k: usize) -> String {
        self.ports[k].peer_fds().expect("fds").to_arg()
    }

    fn spawn(&mut self, prefix: &[&str], args: &[String]) {
        let exe = std::env::current_exe().expect("exe");
        let (prog, pre): (String, Vec<&str>) = match prefix.split_first() {
            Some((p, rest)) => (p.to_string(), rest.to_vec()),
            None => (exe.display().to_string(), vec![]),
        };
        let mut c = Command::new(prog);
        c.args(pre);
        if !prefix.is_empty() {
            c.arg(&exe);
        }
        c.arg("--child")
            .arg("--ctl")
            .arg(self.ctl_region.fd().to_string())
            .args(args)
            .stdin(Stdio::null());
        self.children.push(c.spawn().expect("spawn child"));
    }

    /// Starts the children, measures the final receiver's count over `dur`, stops them.
    fn measure(mut self, dur: Duration, kick_fds: &[RawFd]) -> Option<Point> {
        let ctl = self.ctl();
        let n = self.children.len() as u64;
        let t = Instant::now();
        while ctl.get(W::Ready) < n {
            if t.elapsed() > Duration::from_secs(10)
                || self
                    .children
                    .iter_mut()
                    .any(|c| c.try_wait().ok().flatten().is_some())
            {
                eprintln!("ring: a child failed to start");
                ctl.set(W::Stop, 1);
                return self.finish(kick_fds).then_some(Point {
                    mpps: 0.0,
                    kicks_per_k: 0.0,
                    drops: 0,
                });
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        ctl.set(W::Start, 1);
        std::thread::sleep(Duration::from_millis(100));
        let (c0, s0, t0) = (ctl.get(W::Rx), ctl.get(W::Tx), Instant::now());
        std::thread::sleep(dur);
        let (c1, s1, t1) = (ctl.get(W::Rx), ctl.get(W::Tx), Instant::now());
        ctl.set(W::Stop, 1);
        let ok = self.finish(kick_fds);
        let total = ctl.get(W::Rx).max(1);
        let kicks = ctl.get(W::ProdKicks) + ctl.get(W::SwitchKicks);
        let p = Point {
            mpps: (c1 - c0) as f64 / (t1 - t0).as_secs_f64() / 1e6,
            kicks_per_k: kicks as f64 * 1000.0 / total as f64,
            // The switch's drops, or (bridge) what the sender handed to the kernel during the
            // measurement and the receiver never saw.
            drops: ctl.get(W::SwitchDrops) + (s1 - s0).saturating_sub(c1 - c0),
        };
        ok.then_some(p)
    }

    /// Wakes everyone (stop is set) and reaps the children.
    fn finish(&mut self, kick_fds: &[RawFd]) -> bool {
        let mut ok = true;
        let t = Instant::now();
        for c in &mut self.children {
            loop {
                for p in &self.ports {
                    let f = p.peer_fds().expect("fds");
                    ports::kick(f.switch_kick);
                    ports::kick(f.peer_kick);
                }
                for &fd in kick_fds {
                    ports::kick(fd);
                }
                match c.try_wait() {
                    Ok(Some(s)) => {
                        ok &= s.success();
                        break;
                    }
                    _ if t.elapsed() > Duration::from_secs(10) => {
                        let _ = c.kill();
                        let _ = c.wait();
                        ok = false;
                        break;
                    }
                    _ => std::thread::sleep(Duration::from_millis(2)),
                }
            }
        }
        ok
    }
}

/// The best of `reps` runs of a point: the one least disturbed by the machine's other load.
fn best(reps: usize, mut f: impl FnMut() -> Option<Point>) -> Option<Point> {
    let mut best: Option<Point> = None;
    for _ in 0..reps.max(1) {
        if let Some(p) = f() {
            if best.as_ref().is_none_or(|b| p.mpps > b.mpps) {
                best = Some(p);
            }
        }
    }
    best
}

fn s(v: impl ToString) -> String {
    v.to_string()
}

fn one_ring(size: usize, batch: usize, mode: Mode, dur: Duration) -> Option<Point> {
    let mut r = Run::new(1);
    let common = |role: &str, cpu: usize| {
        vec![
            s("--role"),
            s(role),
            s("--size"),
            s(size),
            s("--batch"),
            s(batch),
            s("--mode"),
            s(mode.name()),
            s("--cpu"),
            s(cpu),
        ]
    };
    let fds = r.fds(0);
    let mut a = common("producer", 0);
    a.extend([s("--fds"), fds.clone()]);
    r.spawn(&[], &a);
    let mut b = common("consumer", 1);
    b.extend([s("--fds"), fds]);
    r.spawn(&[], &b);
    r.measure(dur, &[])
}

fn through_switch(size: usize, batch: usize, mode: Mode, dur: Duration) -> Option<Point> {
    let mut r = Run::new(2);
    let common = |role: &str, cpu: usize| {
        vec![
            s("--role"),
            s(role),
            s("--size"),
            s(size),
            s("--batch"),
            s(batch),
            s("--mode"),
            s(mode.name()),
            s("--cpu"),
            s(cpu),
        ]
    };
    let (fa, fb) = (r.fds(0), r.fds(1));
    // The switch gets core 1 to itself; both guests share core 0.
    let mut sw = common("switch", 1);
    sw.extend([s("--fds"), fa.clone(), s("--fds2"), fb.clone()]);
    r.spawn(&[], &sw);
    let mut recv = common("guest-recv", 0);
    recv.extend([s("--fds"), fb]);
    r.spawn(&[], &recv);
    let mut send = common("producer", 0);
    send.extend([s("--fds"), fa]);
    r.spawn(&[], &send);
    r.measure(dur, &[])
}

/// (d) The switch core alone: guest A's pushes, the switch's pass and guest B's reads all on one
/// thread of this process over the same ring code — what one switch core can forward when the
/// guests cost it nothing but the shared cache lines.
fn switch_core(size: usize, batch: usize, dur: Duration) -> Point {
    use vale::ring::{OwnedRegion, Ring};
    use vale::switch::RingPort;
    let g = Geometry::new(SLOTS, BUF);
    let regions: Vec<OwnedRegion> = (0..4).map(|_| OwnedRegion::new(g)).collect();
    // SAFETY: the regions outlive the rings (dropped at the end of this function, after `sw`).
    let (mut a_tx, a_rx, b_tx, mut b_rx, x_rx, x_tx) = unsafe {
        let a_tx = Ring::format(regions[0].ptr(), g);
        let a_rx = Ring::attach(regions[0].ptr(), g, false).unwrap();
        let b_tx = Ring::format(regions[1].ptr(), g);
        let b_rx = Ring::attach(regions[1].ptr(), g, false).unwrap();
        let _ = Ring::format(regions[2].ptr(), g);
        let x_rx = Ring::attach(regions[2].ptr(), g, false).unwrap();
        let x_tx = Ring::format(regions[3].ptr(), g);
        (a_tx, a_rx, b_tx, b_rx, x_rx, x_tx)
    };
    let mut sw = Switch::new(batch, u64::MAX / 2);
    // Port 0: guest A sends; port 1: guest B receives (its address learned from a hello).
    sw.attach(Box::new(RingPort::new("a", a_rx, x_tx, None)));
    sw.attach(Box::new(RingPort::new("b", x_rx, b_tx, None)));
    let mut hello = template(60);
    hello[0..6].fill(0xff);
    hello[6..12].copy_from_slice(&DST);
    // SAFETY: region 2 is port b's "to switch" ring.
    let mut b_to_switch = unsafe { Ring::attach(regions[2].ptr(), g, true).unwrap() };
    b_to_switch.push(&hello).unwrap();
    b_to_switch.publish();
    sw.forward(0);
    let _ = b_rx.pending().map(|n| b_rx.release(n));
    let buf = template(size);
    let mut count = 0u64;
    let t = Instant::now();
    while t.elapsed() < dur {
        for _ in 0..64 {
            for _ in 0..batch {
                if !a_tx.push(&buf).unwrap() {
                    break;
                }
            }
            a_tx.publish();
            sw.forward(1);
            let n = b_rx.pending().unwrap();
            b_rx.release(n);
            count += n as u64;
        }
    }
    let mpps = count as f64 / t.elapsed().as_secs_f64() / 1e6;
    drop(sw);
    drop(regions);
    Point {
        mpps,
        kicks_per_k: 0.0,
        drops: 0,
    }
}

/// A network namespace with two veth pairs and a bridge; removed on drop.
struct Bridge {
    ns: String,
}

impl Bridge {
    fn new() -> Option<Bridge> {
        let ns = format!("clickos-bench-{}", std::process::id());
        let ip = |a: &str| {
            Command::new("ip")
                .args(a.split_whitespace())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        if !ip(&format!("netns add {ns}")) {
            return None;
        }
        let b = Bridge { ns: ns.clone() };
        let n = |a: &str| ip(&format!("-n {ns} {a}"));
        let ok = n("link add vA0 type veth peer name vA1")
            && n("link add vB0 type veth peer name vB1")
            && n("link add br0 type bridge")
            && n("link set vA1 master br0")
            && n("link set vB1 master br0")
            && ["lo", "vA0", "vA1", "vB0", "vB1", "br0"]
                .iter()
                .all(|d| n(&format!("link set {d} up")));
        let _ = Command::new("ip")
            .args(["netns", "exec", &ns, "sysctl", "-qw"])
            .arg("net.ipv6.conf.all.disable_ipv6=1")
            .status();
        ok.then_some(b)
    }

    fn run(&self, size: usize, batch: usize, dur: Duration) -> Option<Point> {
        let mut r = Run::new(0);
        let pre = ["ip", "netns", "exec", self.ns.as_str()];
        r.spawn(
            &pre,
            &[
                s("--role"),
                s("af-recv"),
                s("--if"),
                s("vB0"),
                s("--cpu"),
                s(1),
            ],
        );
        r.spawn(
            &pre,
            &[
                s("--role"),
                s("af-send"),
                s("--if"),
                s("vA0"),
                s("--size"),
                s(size),
                s("--batch"),
                s(batch),
                s("--cpu"),
                s(0),
            ],
        );
        let p = r.measure(dur, &[]);
        p.map(|p| Point {
            kicks_per_k: f64::NAN,
            ..p
        })
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).status();
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--child") {
        child_main(&args);
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    let dur_ms = args
        .iter()
        .position(|a| a == "--duration-ms")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 150 } else { 400 });
    let dur = Duration::from_millis(dur_ms);
    let reps: usize = args
        .iter()
        .position(|a| a == "--reps")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 1 } else { 2 });
    let batches: &[usize] = if quick {
        &[1, 32, 256]
    } else {
        &[1, 8, 32, 64, 128, 256]
    };
    // `--only abcd`: run some of the measurements (development).
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| "abcd".into());
    let want = |c: char| only.contains(c);
    let sizes = [60usize, 1514];
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();

    // (c) first: the baseline everything is compared with.
    let bridge = if want('c') { Bridge::new() } else { None };
    if want('c') && bridge.is_none() {
        eprintln!("ring: cannot create a network namespace (needs root): no bridge baseline");
    }
    let mut base = std::collections::HashMap::new();
    let mut table = Table::new(&[
        "path",
        "frame bytes",
        "batch",
        "notification",
        "Mp/s",
        "Gb/s",
        "kicks per 1k frames",
        "drops",
        "vs bridge",
    ]);
    let push = |table: &mut Table,
                path: &str,
                size: usize,
                batch: usize,
                mode: &str,
                p: Option<Point>,
                base: &std::collections::HashMap<(usize, usize), f64>| {
        let Some(p) = p else {
            table.row(vec![
                s(path),
                s(size),
                s(batch),
                s(mode),
                s("failed"),
                s("-"),
                s("-"),
                s("-"),
                s("-"),
            ]);
            return;
        };
        let gbps = p.mpps * 1e6 * size as f64 * 8.0 / 1e9;
        let ratio = base
            .get(&(size, batch))
            .filter(|b| **b > 0.0)
            .map_or(s("-"), |b| format!("{:.1}x", p.mpps / b));
        println!(
            "{path:<28} {size:>5} B  batch {batch:>3}  {mode:<7} {:>7.3} Mp/s {gbps:>7.2} Gb/s  {ratio}",
            p.mpps
        );
        table.row(vec![
            s(path),
            s(size),
            s(batch),
            s(mode),
            format!("{:.3}", p.mpps),
            format!("{gbps:.2}"),
            if p.kicks_per_k.is_nan() {
                s("-")
            } else {
                format!("{:.1}", p.kicks_per_k)
            },
            s(p.drops),
            ratio,
        ]);
    };
    if let Some(b) = &bridge {
        for &size in &sizes {
            for &batch in batches {
                let p = best(reps, || b.run(size, batch, dur));
                if let Some(p) = &p {
                    base.insert((size, batch), p.mpps);
                }
                push(
                    &mut table,
                    "(c) veth -> bridge -> veth",
                    size,
                    batch,
                    "AF_PACKET",
                    p,
                    &base,
                );
            }
        }
    }
    drop(bridge);
    for &size in sizes.iter().filter(|_| want('a')) {
        for mode in [Mode::Notify, Mode::Poll] {
            for &batch in batches {
                let p = best(reps, || one_ring(size, batch, mode, dur));
                push(
                    &mut table,
                    "(a) producer -> consumer",
                    size,
                    batch,
                    mode.name(),
                    p,
                    &base,
                );
            }
        }
    }
    for &size in sizes.iter().filter(|_| want('b')) {
        for mode in [Mode::Notify, Mode::Poll] {
            for &batch in batches {
                let p = best(reps, || through_switch(size, batch, mode, dur));
                push(
                    &mut table,
                    "(b) guest -> switch -> guest",
                    size,
                    batch,
                    mode.name(),
                    p,
                    &base,
                );
            }
        }
    }
    let _ = ports::pin_to_cpu(1);
    for &size in sizes.iter().filter(|_| want('d')) {
        for &batch in batches {
            let p = best(reps, || Some(switch_core(size, batch, dur))).expect("in-process");
            push(
                &mut table,
                "(d) switch core alone",
                size,
                batch,
                "none",
                Some(p),
                &base,
            );
        }
    }
    println!(
        "\nShared-memory rings between processes ({cpus} CPUs; load average at start: {}), {} ms per point\n",
        load.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
        dur_ms
    );
    print!("{}", table.markdown());
    let notes = format!(
        "\n{cpus} CPUs, load average {} at the start (the machine is shared). {dur_ms} ms per point after 100 ms of \
warm-up, best of {reps} runs; Mp/s counted at the final receiver. Pinning: (a) producer on CPU 0, consumer on CPU 1; (b) switch on \
CPU 1, both guests on CPU 0 — three processes on two cores, so the guests share one; (c) sender on CPU 0, receiver \
on CPU 1 (the kernel's veth and bridge work runs on the sender's CPU); (d) one thread on CPU 1 doing guest A's \
pushes, the switch pass and guest B's reads. notify: an eventfd write after every publish (every packet at batch \
1) and receivers blocking on it before every pass; poll: receivers poll and sleep only when idle, kicks only on \
request. Gb/s = frame bytes × 8 (no preamble or CRC). kicks per 1k frames: eventfd writes. drops: (b) frames \
the switch dropped because the receiving guest's ring was full; (c) frames handed to the kernel the receiver \
never saw. vs bridge: Mp/s over the bridge's at the same frame size and batch.\n",
        load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
    );
    println!("{notes}");
    if args.iter().any(|a| a == "--no-save") {
        return;
    }
    if let Err(e) = table.save("ring") {
        eprintln!("could not save results: {e}");
    } else {
        let md = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("results/ring.md");
        let _ = std::fs::OpenOptions::new()
            .append(true)
            .open(md)
            .and_then(|mut f| std::io::Write::write_all(&mut f, notes.as_bytes()));
    }
}
