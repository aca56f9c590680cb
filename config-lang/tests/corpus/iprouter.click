// iprouter.click -- a standards-minded two-interface IPv4 router
// (user-level driver).
//
//   eth0: 10.0.0.1/24   00:16:3e:00:00:01
//   eth1: 10.0.1.1/24   00:16:3e:00:01:01   default route via 10.0.1.254
//
// Structure: per-interface ethertype demux, ARP responder and querier,
// shared IP input checks, one RadixIPLookup, then a per-interface output
// path that refuses link-level broadcasts, emits redirects for packets that
// would leave on the interface they arrived on, decrements the TTL and
// fragments to the interface MTU.  Every error case produces an ICMP error
// that is routed like any other locally generated packet.

define($IF0 eth0, $IP0 10.0.0.1, $MAC0 00:16:3e:00:00:01, $NET0 10.0.0.0/24, $BC0 10.0.0.255);
define($IF1 eth1, $IP1 10.0.1.1, $MAC1 00:16:3e:00:01:01, $NET1 10.0.1.0/24, $BC1 10.0.1.255);
define($DEFAULT_GW 10.0.1.254, $MTU 1500);

// routing table: output 0 = this host, 1 = via eth0, 2 = via eth1
rt :: RadixIPLookup($IP0/32 0, $BC0/32 0,
                    $IP1/32 0, $BC1/32 0,
                    255.255.255.255/32 0,
                    $NET0 1,
                    $NET1 2,
                    0.0.0.0/0 $DEFAULT_GW 2);

// shared IP input; declared up front because elements must be declared
// before they are referenced
ip_in :: Strip(14);

// ---------------------------------------------------------------- interface 0
c0 :: Classifier(12/0806 20/0001, 12/0806 20/0002, 12/0800, -);
out0 :: Queue(200);
arpq0 :: ARPQuerier($IP0, $MAC0);

FromDevice($IF0) -> c0;
out0 -> ToDevice($IF0);
c0[0] -> ARPResponder($IP0 $MAC0) -> out0;
c0[1] -> [1]arpq0;
c0[2] -> Paint(1) -> ip_in;
c0[3] -> Discard;
arpq0 -> out0;

// ---------------------------------------------------------------- interface 1
c1 :: Classifier(12/0806 20/0001, 12/0806 20/0002, 12/0800, -);
out1 :: Queue(200);
arpq1 :: ARPQuerier($IP1, $MAC1);

FromDevice($IF1) -> c1;
out1 -> ToDevice($IF1);
c1[0] -> ARPResponder($IP1 $MAC1) -> out1;
c1[1] -> [1]arpq1;
c1[2] -> Paint(2) -> ip_in;
c1[3] -> Discard;
arpq1 -> out1;

// ---------------------------------------------------------------- shared IP input
ip_in -> CheckIPHeader(INTERFACES $IP0/24 $IP1/24)
      -> GetIPAddress(16)
      -> rt;

// ---------------------------------------------------------------- local delivery
rt[0] -> local :: IPClassifier(icmp type echo, -);
local[0] -> ICMPPingResponder -> rt;
local[1] -> local_drops :: Counter -> Discard;

// ---------------------------------------------------------------- forwarding via eth0
rt[1] -> DropBroadcasts
      -> pt0 :: PaintTee(1)
      -> dt0 :: DecIPTTL
      -> fr0 :: IPFragmenter($MTU)
      -> [0]arpq0;
pt0[1] -> ICMPError($IP0, redirect, host) -> rt;
dt0[1] -> ICMPError($IP0, timeexceeded) -> rt;
fr0[1] -> ICMPError($IP0, unreachable, needfrag, PMTU $MTU) -> rt;

// ---------------------------------------------------------------- forwarding via eth1
rt[2] -> DropBroadcasts
      -> pt1 :: PaintTee(2)
      -> dt1 :: DecIPTTL
      -> fr1 :: IPFragmenter($MTU)
      -> [0]arpq1;
pt1[1] -> ICMPError($IP1, redirect, host) -> rt;
dt1[1] -> ICMPError($IP1, timeexceeded) -> rt;
fr1[1] -> ICMPError($IP1, unreachable, needfrag, PMTU $MTU) -> rt;
