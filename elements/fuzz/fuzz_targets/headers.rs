//! Arbitrary bytes through every header-parsing element, on every input, in one router: nothing
//! may panic, and the router keeps working afterwards. The first byte picks the entry point and
//! the clock step; the rest is the packet.
#![no_main]

use std::cell::RefCell;

use elements::testing;
use libfuzzer_sys::fuzz_target;

const CONFIG: &str = "
    in0 :: Null; in1 :: Null; in2 :: Null; in3 :: Null; in4 :: Null; in5 :: Null; in6 :: Null; in7 :: Null;
    Idle -> in0; Idle -> in1; Idle -> in2; Idle -> in3; Idle -> in4; Idle -> in5; Idle -> in6; Idle -> in7;
    in0 -> chk :: CheckIPHeader(VERBOSE true) -> icmp :: ICMPPingResponder -> Discard;
    chk[1] -> Discard; icmp[1] -> Discard;
    in1 -> MarkIPHeader(14) -> rw :: IPRewriter(pattern 10.0.0.1 1024-65535 - - 0 1, drop);
    in2 -> [1] rw; rw[0] -> tcp :: CheckTCPHeader -> Discard; rw[1] -> udp :: CheckUDPHeader -> Discard;
    tcp[1] -> Discard; udp[1] -> Discard;
    in3 -> arpq :: ARPQuerier(10.0.0.1, 02:00:00:00:00:01) -> Discard; in4 -> [1] arpq; arpq[1] -> Discard;
    in5 -> arpr :: ARPResponder(10.0.0.1/24 02:00:00:00:00:01) -> Discard;
    in6 -> err :: ICMPError(10.0.0.1, unreachable, host) -> DecIPTTL -> frag :: IPFragmenter(576) -> Discard; frag[1] -> Discard;
    in7 -> StripToNetworkHeader -> GetIPAddress(16) -> lookup :: RadixIPLookup(10.0.0.0/8 0, 0.0.0.0/0 10.0.0.254 1);
    lookup[0] -> Discard; lookup[1] -> IPClassifier(tcp port 80, udp, -) => Discard, Discard, Discard;
";

thread_local! {
    static ROUTER: RefCell<Option<(elements::Router, testing::TestClock)>> = const { RefCell::new(None) };
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, packet)) = data.split_first() else { return };
    ROUTER.with(|cell| {
        let mut cell = cell.borrow_mut();
        let (r, clock) = cell.get_or_insert_with(|| testing::router_with_clock(CONFIG));
        clock.advance_ns((sel >> 3) as u64 * 1_000_000_000);
        let input = format!("in{}", sel & 7);
        testing::inject(r, &input, 0, &[packet]);
        r.run_timers();
        let _ = r.read_handler("rw.table");
        let _ = r.read_handler("arpq.table");
    });
});
