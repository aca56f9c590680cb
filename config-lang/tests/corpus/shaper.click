// shaper.click -- egress QoS for a 20 Mbit/s WAN link (user-level driver).
//
// LAN traffic arriving on eth1 is classified by DSCP and port into four
// classes, policed and queued, then scheduled onto eth0:
//
//   EF (voice)        -> Queue -> BandwidthShaper 2 Mbit/s ---------\
//   AF31/AF41 (video) -> Queue -> BandwidthShaper 8 Mbit/s --\        PrioSched -> eth0
//   interactive       -> Queue ------------------------------ RoundRobinSched -/
//   best effort       -> Meter -> Queue ---------------------/
//
// Best effort above 3000 packets/s is demoted (Meter output 1) into a small
// scavenger queue that only gets served when everything else is idle.  A
// 1-in-N sample of all traffic is paced out with RatedUnqueue into a pcap for
// offline inspection.
//
// Note: Meter parses its rates with the bandwidth parser, so a unit-less rate
// such as 3000 draws a harmless "no units ... assuming Bps" warning from Click;
// Meter still compares it against packets per second.

define($WAN eth0, $LAN eth1, $LINK 20Mbps);

FromDevice($LAN, SNIFFER false, BURST 8)
    -> Strip(14)
    -> CheckIPHeader
    -> sample :: Tee(2)
    -> cls :: IPClassifier(ip dscp 46,                          // EF
                           ip dscp 26 or ip dscp 34,            // AF31, AF41
                           tcp port ssh or udp port domain or icmp,
                           -);

// ---------------------------------------------------------------- per-class queues
cls[0] -> ef_q :: Queue(64);
cls[1] -> af_q :: Queue(256);
cls[2] -> ia_q :: Queue(128);
cls[3] -> police :: Meter(3000);

police[0] -> be_q :: Queue(1000);
police[1] -> scav_q :: Queue(100);

ef_q -> ef_shape :: BandwidthShaper(2Mbps);
af_q -> af_shape :: BandwidthShaper(8 Mbps);

fair :: RoundRobinSched;
af_shape -> [0]fair;
ia_q     -> [1]fair;
be_q     -> [2]fair;

// strict priority: voice first, then the fair group, scavenger last
prio :: PrioSched;
ef_shape -> [0]prio;
fair     -> [1]prio;
scav_q   -> [2]prio;

prio -> Unstrip(14)
     -> link :: BandwidthShaper($LINK)
     -> ToDevice($WAN);

// ---------------------------------------------------------------- sampling tap
sample[1] -> sample_q :: Queue(50)
          -> RatedUnqueue(25, BURST_DURATION 200ms)
          -> Unstrip(14)
          -> ToDump(/var/log/qos-sample.pcap, SNAPLEN 128, ENCAP ETHER);
