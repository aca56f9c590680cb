// clickos-paper.click -- the small micro-benchmark graphs used to evaluate a
// ClickOS VM, collected in one configuration.
//
//  1. "generator": InfiniteSource builds minimum-size frames which are
//     Ethernet-encapsulated and counted.  One copy is thrown away (CPU cost
//     of the element chain alone), the other leaves through netfront 0.
//  2. "forwarder": the classic two-port bridge -- whatever arrives on
//     netfront 1 goes out on netfront 2 and vice versa, with a counter on
//     each direction.
//  3. "reflector": frames from netfront 3 have their MAC addresses swapped
//     and are bounced back, a cheap way to measure round-trip latency.

// ---------------------------------------------------------------- 1. generator
gen :: InfiniteSource(LENGTH 60, LIMIT -1, BURST 32);
gen -> EtherEncap(0x0800, 1:1:1:1:1:1, 2:2:2:2:2:2)
    -> gen_count :: Counter
    -> dup :: Tee;
dup[0] -> Discard;
dup[1] -> ToNetfront(0);

// a second, rate-limited generator feeding the same sink
RatedSource(\<45 00 00 1c 00 00 00 00 40 11 00 00 0a 00 00 01 0a 00 00 02
              04 00 04 00 00 08 00 00>, 1000)
    -> EtherEncap(0x0800, 00:15:17:15:5d:75, 00:15:17:15:5d:74)
    -> Discard;

// ---------------------------------------------------------------- 2. forwarder
FromNetfront(1) -> fwd_12 :: Counter -> ToNetfront(2);
FromNetfront(2) -> fwd_21 :: Counter -> ToNetfront(1);

// ---------------------------------------------------------------- 3. reflector
FromNetfront(3) -> EtherMirror -> reflected :: AverageCounter -> ToNetfront(3);
