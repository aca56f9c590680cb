// firewall.click -- transparent (bridging) perimeter firewall running as a
// ClickOS middlebox VM.
//
// Netfront device 0 faces the upstream router ("outside"), device 1 faces the
// server segment 10.10.1.0/24 ("inside").  ARP is bridged untouched in both
// directions; IPv4 is checked and filtered by two IPFilter rule sets; every
// other ethertype is dropped.  Each verdict has its own Counter so the
// toolstack can read per-rule statistics through the handlers.

define($OUTSIDE 0, $INSIDE 1);
define($SERVERS 10.10.1.0/24, $WEB 10.10.1.80, $MAIL 10.10.1.25,
       $RESOLVER 10.10.1.53, $ADMIN_NET 192.168.100.0/24);

out_rx :: FromNetfront($OUTSIDE);
out_tx :: ToNetfront($OUTSIDE);
in_rx  :: FromNetfront($INSIDE);
in_tx  :: ToNetfront($INSIDE);

// ---------------------------------------------------------------- outside -> inside
out_eth :: Classifier(12/0800,      // IPv4
                      12/0806,      // ARP
                      -);           // anything else

inbound :: IPFilter(
        // anti-spoofing: our own prefixes must never arrive from outside
        1     src net $SERVERS || src net $ADMIN_NET,
        // non-initial fragments carry no port information: refuse them
        drop  ip[6:2] & 0x1fff != 0,
        // replies to connections opened from the inside
        allow tcp && ack && !syn,
        allow dst host $WEB && tcp && (dst port www || https),
        allow dst host $MAIL && tcp && dst port smtp,
        allow dst host $RESOLVER && (udp || tcp) && dst port 53,
        allow icmp type echo && dst net $SERVERS,
        allow icmp type echo-reply or unreachable or timeexceeded,
        allow udp && src port 123 && dst port > 1023,
        deny  all);

out_rx -> rx_out :: Counter -> out_eth;

out_eth[0] -> Strip(14)
           -> in_chk :: CheckIPHeader(VERBOSE false)
           -> inbound
           -> Unstrip(14)
           -> pass_in :: Counter
           -> in_tx;
out_eth[1] -> arp_in :: Counter -> in_tx;
out_eth[2] -> other_out :: Counter -> Discard;

inbound[1] -> spoofed :: Counter -> Discard;
in_chk[1]  -> bad_in :: Counter -> Discard;

// ---------------------------------------------------------------- inside -> outside
in_eth :: Classifier(12/0800, 12/0806, -);

outbound :: IPFilter(
        // only our own addresses may leave (egress filtering)
        allow src net $SERVERS && (tcp || udp || icmp),
        deny  all);

in_rx -> rx_in :: Counter -> in_eth;

in_eth[0] -> Strip(14)
          -> out_chk :: CheckIPHeader
          -> outbound
          -> Unstrip(14)
          -> pass_out :: Counter
          -> out_tx;
in_eth[1] -> arp_out :: Counter -> out_tx;
in_eth[2] -> other_in :: Counter -> Discard;

out_chk[1] -> bad_out :: Counter -> Discard;
