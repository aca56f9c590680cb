// nat.click -- home/branch-office NAPT gateway (user-level driver).
//
// eth0 is the uplink (198.51.100.2/24, default gateway 198.51.100.1),
// eth1 the private LAN 192.168.10.0/24.  Outgoing TCP/UDP flows are
// masqueraded behind the uplink address with IPRewriter; external port 2222
// is forwarded to the SSH server 192.168.10.20:22.  ARP is answered and
// resolved on both sides; frames are sorted by ethertype with Classifier.

define($EXT_IF eth0, $EXT_IP 198.51.100.2, $EXT_MAC 52:54:00:aa:01:02,
       $EXT_NET 198.51.100.0/24, $EXT_GW 198.51.100.1);
define($INT_IF eth1, $INT_IP 192.168.10.1, $INT_MAC 52:54:00:bb:01:01,
       $INT_NET 192.168.10.0/24, $SSH_HOST 192.168.10.20);

// ------------------------------------------------------------ devices
ext_out :: Queue(1024) -> ToDevice($EXT_IF);
int_out :: Queue(1024) -> ToDevice($INT_IF);

FromDevice($EXT_IF, SNIFFER false)
    -> HostEtherFilter($EXT_MAC, DROP_OWN true)
    -> ext_cl :: Classifier(12/0806 20/0001,   // ARP request
                            12/0806 20/0002,   // ARP reply
                            12/0800,           // IPv4
                            -);                // everything else

FromDevice($INT_IF, SNIFFER false)
    -> HostEtherFilter($INT_MAC, DROP_OWN true)
    -> int_cl :: Classifier(12/0806 20/0001, 12/0806 20/0002, 12/0800, -);

// ------------------------------------------------------------ ARP
ext_arpq :: ARPQuerier($EXT_IP, $EXT_MAC, TIMEOUT 10min, POLL_TIMEOUT 1min);
int_arpq :: ARPQuerier($INT_IP, $INT_MAC, CAPACITY 512);

ext_cl[0] -> ARPResponder($EXT_IP $EXT_MAC) -> ext_out;
ext_cl[1] -> [1]ext_arpq;
int_cl[0] -> ARPResponder($INT_IP $INT_MAC) -> int_out;
int_cl[1] -> [1]int_arpq;
ext_arpq -> ext_out;
int_arpq -> int_out;

ext_cl[3] -> Discard;
int_cl[3] -> Discard;

// ------------------------------------------------------------ the translator
// output 0 leads to the uplink, output 1 to the LAN
rw :: IPRewriter(
        // input 0: new flows from the LAN, source-NATed (ports allocated
        // sequentially from the range, which makes traces easier to read)
        pattern $EXT_IP 20000-59999# - - 0 1,
        // input 1: unsolicited traffic from outside that no mapping knows
        drop,
        // input 2: port forward 2222 -> SSH host
        pattern - - $SSH_HOST 22 1 0,
        // input 3: ICMP and other protocols from the LAN, no translation
        pass 0,
        TCP_TIMEOUT 2h, TCP_DONE_TIMEOUT 30s,
        UDP_TIMEOUT 90s, REAP_INTERVAL 5min,
        MAPPING_CAPACITY 16384);

int_cl[2] -> Strip(14)
          -> CheckIPHeader(INTERFACES $INT_IP/24)
          -> lan_ip :: IPClassifier(src net $INT_NET and (tcp or udp),
                                    src net $INT_NET,
                                    -);
lan_ip[0] -> [0]rw;
lan_ip[1] -> [3]rw;
lan_ip[2] -> Discard;

ext_cl[2] -> Strip(14)
          -> CheckIPHeader
          -> wan_ip :: IPClassifier(dst host $EXT_IP and tcp dst port 2222,
                                    dst host $EXT_IP,
                                    -);
wan_ip[0] -> [2]rw;
wan_ip[1] -> [1]rw;
wan_ip[2] -> Discard;

// ------------------------------------------------------------ routing after translation
rw[0] -> dt :: DecIPTTL
      -> RadixIPLookup($EXT_NET 0, 0.0.0.0/0 $EXT_GW 0)
      -> [0]ext_arpq;
dt[1] -> ttl_drops :: Counter -> Discard;

rw[1] -> RadixIPLookup($INT_NET 0)
      -> [0]int_arpq;
