//! The ClickOS-rs guest image. Phase 1 smoke behaviour: after boot, print the domid, write
//! `/local/domain/<domid>/data/clickos/boot = ok`, then follow watches on
//! `data/clickos/cmd` (`poweroff`, `reboot`, `crash`, `ping`, `big`) and `control/shutdown` (what
//! `xl shutdown` / `xl reboot` write).
//!
//! Built for `x86_64-unknown-none` with `--features guest` (`make image`). On the host this file
//! compiles to a stub so that `cargo build --all-features` does not break.

#![cfg_attr(target_os = "none", no_std)]
#![cfg_attr(target_os = "none", no_main)]

#[cfg(target_os = "none")]
mod guest {
    extern crate alloc;

    use alloc::format;
    use alloc::string::String;
    use alloc::vec::Vec;
    use clickos_unikernel::abi::ShutdownReason;
    use clickos_unikernel::kernel::click::Control;
    use clickos_unikernel::kernel::{self, mm, Kernel};
    use clickos_unikernel::time::{secs_micros, NS_PER_MS, NS_PER_US};
    use clickos_unikernel::xenstore::{Errno, Error, TX_NONE};
    use clickos_unikernel::{entry, println};

    entry!(main);

    /// 32-bit FNV-1a.
    fn fnv1a(data: &[u8]) -> u32 {
        data.iter().fold(0x811c_9dc5u32, |h, &b| {
            (h ^ b as u32).wrapping_mul(16_777_619)
        })
    }

    fn micros(ns: u64) -> u64 {
        ns / NS_PER_US
    }

    /// The one-shot timer and a poll timeout, measured with the guest's clock.
    fn timer_check(k: &Kernel) {
        use clickos_unikernel::arch::hypercall;
        use clickos_unikernel::kernel::events;
        let t0 = k.now();
        k.sleep(10 * NS_PER_MS);
        let slept = k.now() - t0;
        events::clear_pending(k.timer_port);
        let t0 = k.now();
        hypercall::sched_poll(&[k.timer_port], t0 + 10 * NS_PER_MS);
        let polled = k.now() - t0;
        println!(
            "time: 10 ms one-shot timer sleep took {} us; 10 ms poll timeout took {} us",
            micros(slept),
            micros(polled)
        );
    }

    fn main(mut k: Kernel) -> ! {
        // Heap.
        let v: Vec<u64> = (0..1000).collect();
        let (size, used) = mm::heap_usage();
        println!(
            "heap: {} KiB, {} bytes used after a test allocation (sum {})",
            size / 1024,
            used,
            v.iter().sum::<u64>()
        );
        drop(v);

        // Xenstore.
        let boot_ns = k.boot_ns;
        let uptime = || kernel::time::now().saturating_sub(boot_ns);
        let xs = &mut k.xs;
        let domid = xs.read_string(TX_NONE, "domid").expect("read domid");
        let name = xs.read_string(TX_NONE, "name").unwrap_or_default();
        println!("xenstore: domid {domid}, name {name:?}");
        let home = format!("/local/domain/{domid}");
        let root = format!("{home}/data/clickos");
        match xs.get_perms(TX_NONE, &format!("{home}/data")) {
            Ok(p) => {
                let p: Vec<String> = p.iter().map(|p| format!("{p}")).collect();
                println!("xenstore: {home}/data permissions {}", p.join(","));
            }
            Err(e) => println!("xenstore: get_perms {home}/data: {e}"),
        }
        xs.transaction(|xs, tx| {
            xs.mkdir(tx, &root)?;
            xs.write(tx, &format!("{root}/boot"), b"ok")
        })
        .expect("write data/clickos/boot");
        // Time from `_start` to boot=ok committed, for the test host.
        let boot_us = micros(uptime());
        xs.write(
            TX_NONE,
            &format!("{root}/boot-us"),
            format!("{boot_us}").as_bytes(),
        )
        .expect("write boot-us");
        let (s, us) = secs_micros(boot_us * NS_PER_US);
        println!("xenstore: wrote {root}/boot = ok ({s}.{us:06} s after start)");
        // A write/read/rm round trip with a value larger than the 1024-byte request ring (the
        // request goes out in pieces; unprivileged nodes must stay under 2048 bytes), and a
        // listing.
        let probe: Vec<u8> = (0..1900u32).map(|i| b'a' + (i % 26) as u8).collect();
        xs.write(TX_NONE, &format!("{root}/probe"), &probe)
            .expect("write probe");
        let back = xs
            .read(TX_NONE, &format!("{root}/probe"))
            .expect("read probe");
        assert!(back == probe, "1900-byte probe read back differently");
        xs.rm(TX_NONE, &format!("{root}/probe")).expect("rm probe");
        match xs.read(TX_NONE, &format!("{root}/probe")) {
            Err(Error::Errno(Errno::ENOENT)) => {}
            other => panic!("probe still readable after rm: {other:?}"),
        }
        let children = xs.directory(TX_NONE, &root).expect("directory");
        println!("xenstore: {root}: {}", children.join(" "));

        let cmd_path = format!("{root}/cmd");
        xs.watch(&cmd_path, "cmd").expect("watch cmd");
        // The Click control protocol (docs/xenstore-protocol.md): one recursive watch on the
        // whole tree; the driver ignores the nodes it writes itself.
        let mut click = Control::new(root.clone());
        xs.watch(&root, "clickos").expect("watch data/clickos");
        xs.watch("control/shutdown", "shutdown")
            .expect("watch control/shutdown");
        println!("ready: waiting for {cmd_path} (poweroff, reboot, crash, ping, big)");

        timer_check(&k);

        // netfront: connect every vif now; the devices stay up for the domain's lifetime.
        let own: u16 = domid.trim().parse().unwrap_or(0);
        // The ClickOS fast path first: vifs whose backend (clickos-switchd) offers it are not
        // netfront's.
        kernel::fastpath::connect_all(&mut k.xs);
        kernel::netfront::connect_all(&mut k.xs, own);

        println!("click: ready: routers under {root}/<rid>/ (config/N, config_len, status)");

        loop {
            // The routers run in their own threads while this one waits for watch events.
            let ev = match k.xs.next_watch_event(None) {
                Ok(ev) => ev,
                Err(Error::Timeout) => continue,
                Err(e) => panic!("waiting for watch events: {e}"),
            };
            match ev.token.as_str() {
                "clickos" => click.on_event(&mut k.xs, &ev.path),
                "cmd" => {
                    let cmd = match k.xs.read_string(TX_NONE, &cmd_path) {
                        Ok(c) => c,
                        Err(Error::Errno(Errno::ENOENT)) => continue,
                        Err(e) => panic!("read {cmd_path}: {e}"),
                    };
                    match cmd.trim() {
                        "" => {}
                        "poweroff" => {
                            println!("cmd: poweroff after {} ms up", k.uptime() / NS_PER_MS);
                            k.shutdown(ShutdownReason::Poweroff);
                        }
                        "reboot" => {
                            println!("cmd: reboot");
                            k.shutdown(ShutdownReason::Reboot);
                        }
                        "crash" => panic!("crash requested through {cmd_path}"),
                        "ping" => {
                            let up = format!("{}", micros(k.uptime()));
                            k.xs.write(TX_NONE, &format!("{root}/pong"), up.as_bytes())
                                .expect("write pong");
                            k.xs.write(TX_NONE, &cmd_path, b"").expect("clear cmd");
                            println!("cmd: ping (pong = {up} us)");
                        }
                        "big" => {
                            // Reads data/clickos/big (dom0 may write up to 4096 bytes: the
                            // reply crosses the 1024-byte response ring in pieces) and reports
                            // its length and FNV-1a hash.
                            let v =
                                k.xs.read(TX_NONE, &format!("{root}/big"))
                                    .expect("read big");
                            let h = fnv1a(&v);
                            let answer = format!("{} {h}", v.len());
                            k.xs.write(TX_NONE, &format!("{root}/big-hash"), answer.as_bytes())
                                .expect("write big-hash");
                            k.xs.write(TX_NONE, &cmd_path, b"").expect("clear cmd");
                            println!("cmd: big: {} bytes, fnv1a {h}", v.len());
                        }
                        other => println!("cmd: unknown command {other:?}"),
                    }
                }
                "shutdown" => {
                    let req = match k.xs.read_string(TX_NONE, "control/shutdown") {
                        Ok(r) => r,
                        Err(_) => continue,
                    };
                    let reason = match req.as_str() {
                        "" => continue,
                        "poweroff" | "halt" => ShutdownReason::Poweroff,
                        "reboot" => ShutdownReason::Reboot,
                        other => {
                            println!("control/shutdown: ignoring {other:?}");
                            continue;
                        }
                    };
                    // Acknowledge, as Linux and Mini-OS do.
                    let _ = k.xs.write(TX_NONE, "control/shutdown", b"");
                    println!("control/shutdown: {req}");
                    k.shutdown(reason);
                }
                other => println!("watch: unexpected token {other:?} for {}", ev.path),
            }
        }
    }
}

#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!("clickos-unikernel is a Xen PV guest: build it with `make image`");
    std::process::exit(2);
}
