//! The example firewall, run on a pcap trace: the output trace holds exactly the packets the rules
//! allow, in order, and tcpdump reads it.

use std::path::{Path, PathBuf};
use std::process::Command;

use elements::library::userlevel::pcap::{Encap, PcapSink, PcapSource};
use elements::{Packet, PacketPool};

const CLI: &str = env!("CARGO_BIN_EXE_clickos-cli");

fn checksum(b: &[u8]) -> u16 {
    let mut s = 0u32;
    for c in b.chunks(2) {
        s += u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]) as u32;
    }
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}

fn ether(ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// IPv4 10.0.0.1 -> 10.0.0.2 carrying `l4` with protocol `proto`, valid checksums.
fn ipv4(proto: u8, l4: &[u8]) -> Vec<u8> {
    let mut ip = vec![0u8; 20];
    ip[0] = 0x45;
    ip[2..4].copy_from_slice(&((20 + l4.len()) as u16).to_be_bytes());
    ip[8] = 64;
    ip[9] = proto;
    ip[12..16].copy_from_slice(&[10, 0, 0, 1]);
    ip[16..20].copy_from_slice(&[10, 0, 0, 2]);
    let c = checksum(&ip);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    ip.extend_from_slice(l4);
    ether(0x0800, &ip)
}

fn udp(dport: u16) -> Vec<u8> {
    let mut u = vec![0u8; 8 + 4];
    u[0..2].copy_from_slice(&5555u16.to_be_bytes());
    u[2..4].copy_from_slice(&dport.to_be_bytes());
    u[4..6].copy_from_slice(&12u16.to_be_bytes());
    ipv4(17, &u)
}

fn tcp(dport: u16) -> Vec<u8> {
    let mut t = vec![0u8; 20];
    t[0..2].copy_from_slice(&40000u16.to_be_bytes());
    t[2..4].copy_from_slice(&dport.to_be_bytes());
    t[12] = 5 << 4;
    t[13] = 0x02; // SYN
    ipv4(6, &t)
}

fn icmp_echo() -> Vec<u8> {
    let mut m = vec![8, 0, 0, 0, 0, 1, 0, 1];
    let c = checksum(&m);
    m[2..4].copy_from_slice(&c.to_be_bytes());
    ipv4(1, &m)
}

fn arp_request() -> Vec<u8> {
    let mut a = vec![0, 1, 8, 0, 6, 4, 0, 1];
    a.extend_from_slice(&[2, 0, 0, 0, 0, 1, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2]);
    ether(0x0806, &a)
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("clickos-fw-test-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

fn write_pcap(path: &Path, frames: &[Vec<u8>]) {
    let mut sink = PcapSink::create(path.to_str().unwrap(), 65535, Encap::Ethernet).unwrap();
    for (k, f) in frames.iter().enumerate() {
        let mut p = Packet::from_slice(f);
        p.anno_mut().timestamp_ns = 1_700_000_000_000_000_000 + k as u64 * 1000;
        sink.write(&p).unwrap();
    }
    sink.flush();
}

fn read_pcap(path: &Path) -> Vec<Vec<u8>> {
    let mut src = PcapSource::open(path.to_str().unwrap()).unwrap();
    let mut pool = PacketPool::default();
    let mut v = Vec::new();
    while let Some(p) = src.next(&mut pool) {
        v.push(p.data().to_vec());
    }
    v
}

#[test]
fn firewall_forwards_exactly_what_the_rules_allow() {
    let mut truncated = udp(53);
    truncated.truncate(14 + 12); // IP header cut short: CheckIPHeader drops it
    let trace = vec![
        udp(53),                    // allowed: DNS
        udp(123),                   // denied: NTP
        tcp(80),                    // allowed: HTTP
        tcp(443),                   // allowed: HTTPS
        tcp(22),                    // denied: SSH
        icmp_echo(),                // allowed
        arp_request(),              // passes untouched (not IP)
        ether(0x86dd, &[0x60; 40]), // IPv6: discarded
        truncated,                  // bad IP header: dropped
    ];
    let allowed: Vec<Vec<u8>> = [0usize, 2, 3, 5, 6]
        .iter()
        .map(|&k| trace[k].clone())
        .collect();
    let input = tmp("in.pcap");
    let output = tmp("out.pcap");
    write_pcap(&input, &trace);
    let fw = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/fw.click");
    let out = Command::new(CLI)
        .args(["run", fw, "-h", "counter.count"])
        .arg("--netfront")
        .arg(format!("0=pcap:{}", input.display()))
        .arg("--netfront")
        .arg(format!("1=pcap:-,{}", output.display()))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("counter.count:\n7\n"), "{stdout}");
    assert_eq!(read_pcap(&output), allowed);
    let td = Command::new("tcpdump")
        .args(["-n", "-r"])
        .arg(&output)
        .output()
        .expect("tcpdump is needed: run `make deps`");
    let lines = String::from_utf8_lossy(&td.stdout).into_owned();
    assert_eq!(lines.lines().count(), 5, "{lines}");
    assert!(lines.contains("10.0.0.2.53:"), "{lines}");
    assert!(lines.contains("10.0.0.2.443:"), "{lines}");
    assert!(lines.contains("ICMP echo request"), "{lines}");
    assert!(lines.contains("ARP, Request"), "{lines}");
}
