// bras.click -- a small virtual BRAS (broadband remote access server) VM,
// ClickOS style.  No PPPoE: subscribers are plain IPoE hosts with addresses
// handed out by an external DHCP server.
//
// netfront 0 = access network (subscribers, 100.64.1.0/24)
// netfront 1 = core (next-hop router 100.64.0.1)
//
// Every subscriber gets a pair of shaped queues, one per direction, sized by
// the service plan.  Traffic is assigned to subscribers by IP address
// (IPClassifier on dst for downstream, src for upstream); packets of unknown
// subscribers are counted and dropped.  Shaped queues are served fairly with
// RoundRobinSched; ARP replies bypass the shapers through a priority queue.

define($ACCESS_MAC 02:42:64:40:01:01, $CORE_MAC 02:42:64:40:00:02,
       $CORE_ROUTER_MAC 02:42:64:40:00:01, $BRAS_ACCESS_IP 100.64.1.1,
       $BRAS_CORE_IP 100.64.0.2);

// service plans (downstream / upstream)
define($BRONZE_DOWN 4Mbps,  $BRONZE_UP 1Mbps,
       $SILVER_DOWN 16Mbps, $SILVER_UP 4Mbps,
       $GOLD_DOWN 50Mbps,   $GOLD_UP 10Mbps);

// One subscriber: input/output 0 = downstream, input/output 1 = upstream.
elementclass Subscriber {
    $mac, DOWN $down, UP $up |

    input[0] -> down_cnt :: Counter
             -> Queue(200)
             -> BandwidthShaper($down)
             -> EtherEncap(0x0800, $ACCESS_MAC, $mac)
             -> [0]output;

    input[1] -> up_cnt :: Counter
             -> Queue(100)
             -> BandwidthShaper($up)
             -> EtherEncap(0x0800, $CORE_MAC, $CORE_ROUTER_MAC)
             -> [1]output;
}

access_rx :: FromNetfront(0);
access_tx :: ToNetfront(0);
core_rx   :: FromNetfront(1);
core_tx   :: ToNetfront(1);

s1 :: Subscriber(52:54:00:10:00:0a, DOWN $BRONZE_DOWN, UP $BRONZE_UP);
s2 :: Subscriber(52:54:00:10:00:0b, DOWN $SILVER_DOWN, UP $SILVER_UP);
s3 :: Subscriber(52:54:00:10:00:0c, DOWN $GOLD_DOWN, UP $GOLD_UP);
s4 :: Subscriber(52:54:00:10:00:0d, UP $SILVER_UP, DOWN $GOLD_DOWN);   // keyword order is free

// ---------------------------------------------------------------- upstream (access -> core)
access_rx -> acl :: Classifier(12/0806 20/0001, 12/0800, -);
acl[0] -> ARPResponder($BRAS_ACCESS_IP $ACCESS_MAC) -> access_arp :: Queue(32);
acl[2] -> Discard;
acl[1] -> Strip(14)
       -> CheckIPHeader
       -> up_sel :: IPClassifier(src host 100.64.1.10,
                                 src host 100.64.1.11,
                                 src host 100.64.1.12,
                                 src host 100.64.1.13,
                                 -);
up_sel[0] -> [1]s1;
up_sel[1] -> [1]s2;
up_sel[2] -> [1]s3;
up_sel[3] -> [1]s4;
up_sel[4] -> unknown_up :: Counter -> Discard;

// ---------------------------------------------------------------- downstream (core -> access)
core_rx -> ccl :: Classifier(12/0806 20/0001, 12/0800, -);
ccl[0] -> ARPResponder($BRAS_CORE_IP $CORE_MAC) -> core_arp :: Queue(32);
ccl[2] -> Discard;
ccl[1] -> Strip(14)
       -> CheckIPHeader
       -> DecIPTTL
       -> down_sel :: IPClassifier(dst host 100.64.1.10,
                                   dst host 100.64.1.11,
                                   dst host 100.64.1.12,
                                   dst host 100.64.1.13,
                                   -);
down_sel[0] -> [0]s1;
down_sel[1] -> [0]s2;
down_sel[2] -> [0]s3;
down_sel[3] -> [0]s4;
down_sel[4] -> unknown_down :: Counter -> Discard;

// ---------------------------------------------------------------- schedulers
// "=>" with a bare element on the right numbers its inputs 0, 1, 2, 3
s1[0], s2[0], s3[0], s4[0] => down_rr :: RoundRobinSched;
s1[1], s2[1], s3[1], s4[1] => [0,1,2,3] up_rr :: RoundRobinSched;

// ARP replies first, then the shaped subscriber traffic
access_prio :: PrioSched;
access_arp -> [0]access_prio;
down_rr    -> [1]access_prio;
access_prio -> access_tx;

core_arp -> core_prio :: PrioSched -> core_tx;
up_rr -> [1]core_prio;
