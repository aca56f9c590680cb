//! The ClickOS-rs guest image. Phase 1 smoke behaviour: after boot, print the domid, write
//! `/local/domain/<domid>/data/clickos/boot = ok`, then follow watches on
//! `data/clickos/cmd` (`poweroff`, `reboot`, `crash`, `ping`) and `control/shutdown` (what
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
    use clickos_unikernel::kernel::{self, mm, Kernel};
    use clickos_unikernel::time::{secs_micros, NS_PER_MS, NS_PER_US};
    use clickos_unikernel::xenstore::{Errno, Error, TX_NONE};
    use clickos_unikernel::{entry, println};

    entry!(main);

    fn micros(ns: u64) -> u64 {
        ns / NS_PER_US
    }

    fn timer_diagnostics(k: &Kernel) {
        use clickos_unikernel::arch::{hypercall, rdtsc};
        use clickos_unikernel::kernel::events;
        let ti = kernel::time::info();
        println!(
            "timeinfo: version {} flags {:#x} mul {} shift {} system_time {} tsc_ts {}",
            ti.version,
            ti.flags,
            ti.tsc_to_system_mul,
            ti.tsc_shift,
            ti.system_time,
            ti.tsc_timestamp
        );
        for _ in 0..3 {
            let (t0, r0) = (k.now(), rdtsc());
            k.sleep(10 * NS_PER_MS);
            let (t1, r1) = (k.now(), rdtsc());
            println!(
                "timer: sleep 10 ms: now() +{} us, tsc +{}",
                micros(t1 - t0),
                r1 - r0
            );
        }
        // Poll timeout alone, no set_timer_op.
        for _ in 0..3 {
            let (t0, r0) = (k.now(), rdtsc());
            let r = hypercall::sched_poll(&[k.timer_port], t0 + 10 * NS_PER_MS);
            events::clear_pending(k.timer_port);
            let (t1, r1) = (k.now(), rdtsc());
            let ti = kernel::time::info();
            println!(
                "poll: timeout 10 ms: rc {r}, now() +{} us, tsc +{}, timeinfo v{} sys {}",
                micros(t1 - t0),
                r1 - r0,
                ti.version,
                ti.system_time
            );
        }
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
        let boot_us = micros(uptime());
        xs.transaction(|xs, tx| {
            xs.mkdir(tx, &root)?;
            xs.write(
                tx,
                &format!("{root}/boot-us"),
                format!("{boot_us}").as_bytes(),
            )?;
            xs.write(tx, &format!("{root}/boot"), b"ok")
        })
        .expect("write data/clickos/boot");
        let (s, us) = secs_micros(uptime());
        println!("xenstore: wrote {root}/boot = ok ({s}.{us:06} s after start)");
        // A write/read/rm round trip, and a listing.
        xs.write(TX_NONE, &format!("{root}/probe"), b"1")
            .expect("write probe");
        xs.rm(TX_NONE, &format!("{root}/probe")).expect("rm probe");
        match xs.read(TX_NONE, &format!("{root}/probe")) {
            Err(Error::Errno(Errno::ENOENT)) => {}
            other => panic!("probe still readable after rm: {other:?}"),
        }
        let children = xs.directory(TX_NONE, &root).expect("directory");
        println!("xenstore: {root}: {}", children.join(" "));

        let cmd_path = format!("{root}/cmd");
        xs.watch(&cmd_path, "cmd").expect("watch cmd");
        xs.watch("control/shutdown", "shutdown")
            .expect("watch control/shutdown");
        println!("ready: waiting for {cmd_path} (poweroff, reboot, crash, ping)");

        timer_diagnostics(&k);

        loop {
            let ev = match k.xs.next_watch_event(None) {
                Ok(ev) => ev,
                Err(e) => panic!("waiting for watch events: {e}"),
            };
            match ev.token.as_str() {
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
