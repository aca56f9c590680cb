//! Hostile peers, process against process: a `clickos-switchd` with shared-memory ports, two
//! well-behaved `vale-peer`s exchanging numbered frames, and one peer that misbehaves on purpose
//! (garbage indices, never consuming, flooding, scribbling over the whole shared region). The
//! switch must keep forwarding between the good peers, count what happened, and exit cleanly.
//!
//! Frame loss between the good peers is allowed only where the switch counted it (a full receive
//! ring on a loaded two-core machine); corruption and reordering are not allowed at all.

mod common;

use std::time::Duration;

use common::*;

const FRAMES: u64 = 10_000;
const PPS: &str = "20000";

/// g1 sends FRAMES numbered frames to g2 while `evil` does its worst; returns g2's summary and
/// the switch's counters.
fn good_traffic_alongside(
    test: &str,
    hostile: &str,
    evil_secs: &str,
) -> (
    std::collections::HashMap<String, String>,
    std::collections::HashMap<String, String>,
    Stats,
) {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut rig = Rig::start(test, &["g1", "g2", "evil"], &["--slots", "1024", "-q"]);
    let g2 = rig.peer(
        "g2",
        &["--mac", &mac(2), "--announce", "--recv", "--from", &mac(1)],
    );
    let evil = rig.peer(
        "evil",
        &[
            "--mac",
            &mac(0x66),
            "--hostile",
            hostile,
            "--duration",
            evil_secs,
            "--seed",
            "7",
        ],
    );
    std::thread::sleep(Duration::from_millis(300));
    let g1 = rig.peer(
        "g1",
        &[
            "--mac",
            &mac(1),
            "--announce",
            "--recv",
            "--send",
            &FRAMES.to_string(),
            "--to",
            &mac(2),
            "--pps",
            PPS,
            "--linger",
            "0.2",
        ],
    );
    // g1 exits 0.2 s after it has sent everything (it also drains what evil floods at it).
    let s1 = finish(g1, false);
    assert_eq!(num(&s1, "sent"), FRAMES, "g1 was not held up: {s1:?}");
    let _ = finish(evil, false);
    std::thread::sleep(Duration::from_millis(300));
    let s2 = finish(g2, true);
    let stats = rig.stop();
    eprintln!("{test}: g1 {s1:?}\n{test}: g2 {s2:?}\n{test}: switch {stats:#?}");
    // The switch took every frame g1 offered.
    assert_eq!(
        stats.get("g1", "rx_packets"),
        FRAMES + 1,
        "announce + frames"
    );
    // What reached g2 from g1 is whole and in order, and every frame for g2 is either delivered
    // or counted as dropped.
    assert_eq!(num(&s2, "corrupt"), 0);
    assert_eq!(num(&s2, "reordered"), 0);
    // g2 received what the switch put in its ring, but for what still sat in its 1024-slot ring
    // when it was stopped (a loaded machine may not let it drain the flooder's last frames).
    let (got, put) = (num(&s2, "received"), stats.get("g2", "tx_packets"));
    assert!(
        got <= put && put - got <= 1024,
        "g2 received {got}, the switch put {put} in its ring"
    );
    (s1, s2, stats)
}

#[test]
fn garbage_indices_disable_only_the_hostile_port_until_a_new_peer_connects() {
    let (_s1, s2, stats) = good_traffic_alongside("garbage", "garbage", "1");
    assert!(
        stats.get("evil", "faulty") == 1,
        "the garbage writer is cut off"
    );
    assert!(stats.get("evil", "protocol_errors") >= 1);
    assert_eq!(stats.get("g1", "protocol_errors"), 0);
    assert_eq!(stats.get("g2", "protocol_errors"), 0);
    assert_eq!(stats.get("g1", "faulty"), 0);
    assert_eq!(stats.get("g2", "faulty"), 0);
    let from = num(&s2, "from");
    assert!(
        from + stats.get("g2", "tx_drops") >= FRAMES,
        "every frame for g2 delivered or counted"
    );
    assert!(from >= FRAMES / 2, "g2 kept receiving: {from}");
}

#[test]
fn a_new_peer_resets_a_port_disabled_for_garbage() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut rig = Rig::start("reset", &["g1", "p"], &["--slots", "256", "-q"]);
    let evil = rig.peer("p", &["--hostile", "garbage", "--duration", "0.5"]);
    let _ = finish(evil, false);
    // The evil peer left; a good one connects to the same port and gets it back.
    let good = rig.peer(
        "p",
        &["--mac", &mac(2), "--announce", "--recv", "--from", &mac(1)],
    );
    std::thread::sleep(Duration::from_millis(300));
    let g1 = rig.peer("g1", &["--mac", &mac(1), "--send", "100", "--to", &mac(2)]);
    let s1 = finish(g1, false);
    assert_eq!(num(&s1, "sent"), 100);
    std::thread::sleep(Duration::from_millis(300));
    let s = finish(good, true);
    let stats = rig.stop();
    assert_eq!(num(&s, "from"), 100, "{s:?} {stats:?}");
    assert_eq!(stats.get("p", "faulty"), 0);
    assert!(
        stats.get("p", "protocol_errors") >= 1,
        "the fault was counted"
    );
    assert_eq!(stats.get("p", "connects"), 2);
}

#[test]
fn a_peer_that_stops_consuming_only_loses_its_own_frames() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut rig = Rig::start("stall", &["g1", "g2", "stuck"], &["--slots", "1024", "-q"]);
    let stuck = rig.peer("stuck", &["--mac", &mac(0x55), "--hostile", "stall"]);
    // Its connect resets its rings: nothing may be flooded its way before that, or the count of
    // frames its ring holds would include one the reset threw away.
    rig.wait_connected("stuck");
    let g2 = rig.peer(
        "g2",
        &["--mac", &mac(2), "--announce", "--recv", "--from", &mac(1)],
    );
    std::thread::sleep(Duration::from_millis(300));
    // Broadcasts: every one goes to g2 and to the stuck peer.
    let g1 = rig.peer(
        "g1",
        &[
            "--mac",
            &mac(1),
            "--send",
            &FRAMES.to_string(),
            "--pps",
            PPS,
        ],
    );
    let s1 = finish(g1, false);
    std::thread::sleep(Duration::from_millis(300));
    let s2 = finish(g2, true);
    let _ = finish(stuck, true);
    let stats = rig.stop();
    eprintln!("stall: g2 {s2:?}\nstall: switch {stats:#?}");
    assert_eq!(num(&s1, "sent"), FRAMES);
    assert_eq!(stats.get("stuck", "tx_packets"), 1024, "its ring filled up");
    // Everything flooded its way after that was dropped, and counted.
    let flooded = stats.get("g1", "rx_packets") + stats.get("g2", "rx_packets");
    assert_eq!(
        stats.get("stuck", "tx_packets") + stats.get("stuck", "tx_drops"),
        flooded
    );
    assert_eq!(stats.get("stuck", "faulty"), 0, "slow is not hostile");
    assert_eq!(num(&s2, "corrupt"), 0);
    let from = num(&s2, "from");
    assert!(from + stats.get("g2", "tx_drops") >= FRAMES);
    assert!(from >= FRAMES / 2, "g2 kept receiving: {from}");
}

#[test]
fn a_flooding_peer_cannot_stall_the_others_or_fill_the_mac_table() {
    let (_s1, s2, stats) = good_traffic_alongside("flood", "flood", "1.5");
    assert!(
        stats.get("evil", "rx_packets") > FRAMES,
        "the flood went through the switch"
    );
    // Random source addresses fill the flooder's share only (1024 per port by default).
    assert!(stats.mac_entries <= 1024 + 2, "{}", stats.mac_entries);
    assert_eq!(
        stats.get("evil", "faulty"),
        0,
        "flooding is not a protocol error"
    );
    let from = num(&s2, "from");
    assert!(
        from + stats.get("g2", "tx_drops") >= FRAMES,
        "every frame for g2 delivered or counted"
    );
    assert!(from > 0, "g2 kept receiving from g1");
}

#[test]
fn a_peer_scribbling_over_its_whole_region_cannot_touch_other_traffic() {
    let (_s1, s2, stats) = good_traffic_alongside("scribble", "scribble", "1");
    assert_eq!(stats.get("g1", "protocol_errors"), 0);
    assert_eq!(stats.get("g2", "protocol_errors"), 0);
    let from = num(&s2, "from");
    assert!(from + stats.get("g2", "tx_drops") >= FRAMES);
    assert!(from >= FRAMES / 2, "g2 kept receiving: {from}");
}
