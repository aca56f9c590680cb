// fw.click — a ClickOS firewall middlebox.
//
// Packets arrive on netfront device 0, pass a stateless IP filter, and leave on device 1.
// Non-IP frames (ARP) are passed through untouched so the two sides can resolve each other.

define($IN 0, $OUT 1)

elementclass IPFirewall { __REST__ $rules |
    input -> Strip(14)
          -> CheckIPHeader
          -> filter :: IPFilter($rules)
          -> Unstrip(14)
          -> output
}

in  :: FromNetfront($IN, BURST 32);
out :: ToNetfront($OUT);

in -> eth :: Classifier(12/0800, 12/0806, -);

eth [0] -> counter :: Counter
        -> fw :: IPFirewall(allow udp && dst port 53,
                            allow tcp && dst port 80 or 443,
                            allow icmp,
                            deny all)
        -> out;
eth [1] -> out;          // ARP
eth [2] -> Discard;      // anything else
