// ids.click -- offline signature-style intrusion detection over a packet
// trace (user-level driver).
//
// Reads an Ethernet pcap, validates IP/TCP/UDP headers, and sorts packets
// with one large IPClassifier whose patterns use most of the expression
// language: src/dst/"src or dst"/"src and dst" qualifiers, qualifier and
// protocol inheritance ("dst tcp port 135 or 139 or 445"), named ports,
// protocols and ICMP types, relational operators, bit masks on header
// fields, ip[...] / tcp[...] / transp[...] byte ranges, ternaries and deep
// parenthesisation.  Every alert class is counted, pretty-printed with
// IPPrint and written to its own pcap with ToDump.

define($HOME_NET 172.20.0.0/16, $DMZ 172.20.8.0/24, $DNS_SERVERS 172.20.8.53);
define($TRACE /var/trace/uplink-2014-03-01.pcap, $ALERTS /var/trace/alerts);

elementclass Alert {
    $name |
    input -> Counter
          -> IPPrint($name, TTL true, LENGTH true, ACTIVE false)
          -> ToDump($ALERTS/$name.pcap, SNAPLEN 256);
}

sig :: IPClassifier(
    // 0: Xmas and NULL scans (flag byte of the TCP header)
    tcp and (tcp[13] & 0x29 == 0x29 or tcp[13] == 0),
    // 1: SYN+FIN is never legitimate
    syn and fin,
    // 2: land attack: same endpoint on both sides
    src host 172.20.8.10 and dst host 172.20.8.10,
    // 3: spoofed internal source entering from the outside
    src net $HOME_NET and not (dst net $HOME_NET),
    // 4: SMB / NetBIOS towards the DMZ from anywhere
    dst net $DMZ and (dst tcp port 135 or 139 or 445 or udp port netbios-ns),
    // 5: DNS that does not go to our resolvers, or oversized DNS responses
    (udp dst port dns and not dst host $DNS_SERVERS)
        or (udp src port 53 and ip len > 1400),
    // 6: ICMP oddities: redirects, timestamp probes, big echo requests
    icmp type redirect or icmp type timestamp
        or (icmp type echo and ip len >= 1000),
    // 7: tiny fragments and reserved-bit packets
    (ip frag and ip len < 68) || ip[6] & 0x80 != 0,
    // 8: low TTL or ECN congestion marks towards the DMZ (ternary form)
    dst net $DMZ ? (ip ttl <= 2 or ip ce) : false,
    // 9: traffic from a suspect host, either direction, to high ports
    src or dst host 198.18.7.77 && transp[2:2] > 1023,
    // 10: telnet/rlogin/rsh anywhere
    tcp && (dst port telnet || dst port 513 || dst port 514),
    // 11: everything else is clean
    -);

FromDump($TRACE, STOP true, FORCE_IP true)
    -> Strip(14)
    -> ipchk :: CheckIPHeader(VERBOSE true)
    -> l4 :: IPClassifier(tcp, udp, -);

ipchk[1] -> Alert(malformed_ip);

l4[0] -> tcpchk :: CheckTCPHeader -> sig;
l4[1] -> udpchk :: CheckUDPHeader -> sig;
l4[2] -> sig;
tcpchk[1] -> Alert(malformed_tcp);
udpchk[1] -> Alert(malformed_udp);

sig[0]  -> Alert(scan_flags);
sig[1]  -> Alert(syn_fin);
sig[2]  -> Alert(land);
sig[3]  -> Alert(spoofed);
sig[4]  -> Alert(smb);
sig[5]  -> Alert(dns);
sig[6]  -> Alert(icmp);
sig[7]  -> Alert(fragments);
sig[8]  -> Alert(ttl_ecn);
sig[9]  -> Alert(suspect);
sig[10] -> Alert(cleartext_login);
sig[11] -> clean :: Counter -> Discard;
