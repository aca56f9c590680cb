// loadbalancer.click -- layer-4 load balancer VM (ClickOS).
//
// Virtual service 203.0.113.10 on netfront 0 (client side); real servers on
// netfront 1 (server side, 10.1.0.0/24).
//   * TCP/80 flows are spread over three web servers by hashing the IP
//     source+destination addresses (HashSwitch), so a client sticks to a
//     server even before the rewriter has a mapping for it.
//   * UDP/53 queries go round-robin to two resolvers (RoundRobinSwitch); the
//     rewriter's mapping table keeps each query/response pair together.
// The IPRewriter has one input per backend choice plus one for traffic
// coming back from the servers, and two outputs: 0 = towards the servers,
// 1 = towards the clients.  Neighbours are fixed, so frames are built with
// EtherEncap instead of ARP.

define($VIP 203.0.113.10, $VIP_MAC 02:00:cb:00:71:0a, $CLIENT_GW_MAC 02:00:cb:00:71:01);
define($LB_INSIDE 10.1.0.1, $LB_INSIDE_MAC 02:00:0a:01:00:01, $SERVER_SWITCH_MAC 02:00:0a:01:00:fe);

client_rx :: FromNetfront(0);
client_tx :: ToNetfront(0);
server_rx :: FromNetfront(1);
server_tx :: ToNetfront(1);

rw :: IPRewriter(pattern - - 10.1.0.11 8080 0 1,     // web backend A
                 pattern - - 10.1.0.12 8080 0 1,     // web backend B
                 pattern - - 10.1.0.13 8080 0 1,     // web backend C
                 pattern - - 10.1.0.21 53 0 1,       // resolver A
                 pattern - - 10.1.0.22 53 0 1,       // resolver B
                 drop,                               // from servers: mapped flows only
                 TCP_TIMEOUT 30min, TCP_DONE_TIMEOUT 15s, UDP_TIMEOUT 10s);

// ------------------------------------------------------------ client side
client_rx -> ccl :: Classifier(12/0806 20/0001, 12/0800, -);
ccl[0] -> ARPResponder($VIP $VIP_MAC) -> client_tx;
ccl[2] -> Discard;

ccl[1] -> Strip(14)
       -> CheckIPHeader
       -> svc :: IPClassifier(dst host $VIP and tcp dst port www,
                              dst host $VIP and udp dst port domain,
                              -);

svc[0] -> web_hash :: HashSwitch(12, 8);
web_hash[0] -> [0]rw;
web_hash[1] -> [1]rw;
web_hash[2] -> [2]rw;

svc[1] -> dns_rr :: RoundRobinSwitch;
dns_rr[0] -> [3]rw;
dns_rr[1] -> [4]rw;

svc[2] -> refused :: Counter -> Discard;

// ------------------------------------------------------------ server side
server_rx -> scl :: Classifier(12/0806 20/0001, 12/0800, -);
scl[0] -> ARPResponder($LB_INSIDE $LB_INSIDE_MAC) -> server_tx;
scl[1] -> Strip(14) -> CheckIPHeader -> [5]rw;
scl[2] -> Discard;

// ------------------------------------------------------------ rewriter outputs
rw[0] -> to_servers :: AverageCounter
      -> EtherEncap(0x0800, $LB_INSIDE_MAC, $SERVER_SWITCH_MAC)
      -> server_tx;
rw[1] -> to_clients :: AverageCounter
      -> EtherEncap(0x0800, $VIP_MAC, $CLIENT_GW_MAC)
      -> client_tx;
