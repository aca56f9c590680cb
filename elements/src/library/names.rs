//! Names Click accepts for IP protocols, ICMP types and codes, TCP flags and well-known ports, in
//! both directions: configuration parsing (IPClassifier expressions, ICMPError arguments) and
//! output (IPPrint). One table for every element.

pub const IP_PROTOS: &[(&str, u8)] = &[
    ("egp", 8),
    ("rsvp", 46),
    ("esp", 50),
    ("ah", 51),
    ("icmp6", 58),
    ("ipv6", 41),
    ("ospf", 89),
    ("pim", 103),
    ("vrrp", 112),
    ("udplite", 136),
    ("icmp", 1),
    ("igmp", 2),
    ("ipip", 4),
    ("tcp", 6),
    ("udp", 17),
    ("dccp", 33),
    ("gre", 47),
    ("sctp", 132),
];

pub const ICMP_ECHO_REPLY: u8 = 0;
pub const ICMP_UNREACH: u8 = 3;
pub const ICMP_REDIRECT: u8 = 5;
pub const ICMP_ECHO: u8 = 8;
pub const ICMP_TIMXCEED: u8 = 11;
pub const ICMP_PARAMPROB: u8 = 12;

pub const UNREACH_PROTOCOL: u8 = 2;
pub const UNREACH_PORT: u8 = 3;
pub const UNREACH_NEEDFRAG: u8 = 4;
pub const PARAMPROB_ERRATPTR: u8 = 0;

pub const ICMP_TYPES: &[(&str, u8)] = &[
    ("echo-reply", 0),
    ("unreachable", 3),
    ("sourcequench", 4),
    ("redirect", 5),
    ("echo", 8),
    ("routeradvert", 9),
    ("routersolicit", 10),
    ("timeexceeded", 11),
    ("parameterproblem", 12),
    ("timestamp", 13),
    ("timestamp-reply", 14),
    ("inforeq", 15),
    ("inforeq-reply", 16),
    ("maskreq", 17),
    ("maskreq-reply", 18),
];

const UNREACH_CODES: &[(&str, u8)] = &[
    ("net", 0),
    ("host", 1),
    ("protocol", 2),
    ("port", 3),
    ("needfrag", 4),
    ("srcroutefail", 5),
    ("netunknown", 6),
    ("hostunknown", 7),
    ("isolated", 8),
    ("netprohibited", 9),
    ("hostprohibited", 10),
    ("tosnet", 11),
    ("toshost", 12),
    ("filterprohibited", 13),
    ("hostprecedence", 14),
    ("precedencecutoff", 15),
];

const REDIRECT_CODES: &[(&str, u8)] = &[("net", 0), ("host", 1), ("tosnet", 2), ("toshost", 3)];
const TIMXCEED_CODES: &[(&str, u8)] = &[("transit", 0), ("reassembly", 1)];
const PARAMPROB_CODES: &[(&str, u8)] = &[("erroratptr", 0), ("missingopt", 1), ("length", 2)];

pub const PORTS: &[(&str, u16)] = &[
    ("time", 37),
    ("gopher", 70),
    ("kerberos", 88),
    ("imap", 143),
    ("bgp", 179),
    ("ldap", 389),
    ("syslog", 514),
    ("ldaps", 636),
    ("echo", 7),
    ("discard", 9),
    ("daytime", 13),
    ("chargen", 19),
    ("ftp-data", 20),
    ("ftp", 21),
    ("ssh", 22),
    ("telnet", 23),
    ("smtp", 25),
    ("dns", 53),
    ("domain", 53),
    ("bootps", 67),
    ("bootpc", 68),
    ("tftp", 69),
    ("finger", 79),
    ("www", 80),
    ("http", 80),
    ("pop3", 110),
    ("sunrpc", 111),
    ("auth", 113),
    ("nntp", 119),
    ("ntp", 123),
    ("netbios-ns", 137),
    ("netbios-dgm", 138),
    ("netbios-ssn", 139),
    ("snmp", 161),
    ("snmp-trap", 162),
    ("irc", 194),
    ("imap3", 220),
    ("https", 443),
    ("rip", 520),
    ("route", 520),
    ("imaps", 993),
    ("pop3s", 995),
    ("pptp", 1723),
];

fn lookup<T: Copy>(table: &[(&str, T)], name: &str) -> Option<T> {
    table.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
}

fn rlookup<T: Copy + PartialEq>(table: &[(&'static str, T)], v: T) -> Option<&'static str> {
    table.iter().find(|(_, x)| *x == v).map(|(n, _)| *n)
}

/// A number (as Click's integer syntax) or a name from `table`.
fn number_or<T: Copy + config_lang::args::ArgValue>(table: &[(&str, T)], s: &str) -> Option<T> {
    let s = s.trim();
    lookup(table, s).or_else(|| T::parse_arg(s).ok())
}

/// An IP protocol: `6`, `tcp`, `udp`, `icmp`, `ipip`, ...
pub fn ip_proto(s: &str) -> Option<u8> {
    number_or(IP_PROTOS, s)
}

pub fn ip_proto_name(p: u8) -> Option<&'static str> {
    rlookup(IP_PROTOS, p)
}

/// An ICMP type: a number or a name (`unreachable`, `timeexceeded`, `echo`, ...).
pub fn icmp_type(s: &str) -> Option<u8> {
    number_or(ICMP_TYPES, s)
}

pub fn icmp_type_name(t: u8) -> Option<&'static str> {
    rlookup(ICMP_TYPES, t)
}

fn codes_of(icmp_type: u8) -> &'static [(&'static str, u8)] {
    match icmp_type {
        ICMP_UNREACH => UNREACH_CODES,
        ICMP_REDIRECT => REDIRECT_CODES,
        ICMP_TIMXCEED => TIMXCEED_CODES,
        ICMP_PARAMPROB => PARAMPROB_CODES,
        _ => &[],
    }
}

/// An ICMP code for `icmp_type`: a number or a name of that type's codes (`port`, `needfrag`,
/// `transit`, ...).
pub fn icmp_code(icmp_type: u8, s: &str) -> Option<u8> {
    number_or(codes_of(icmp_type), s)
}

pub fn icmp_code_name(icmp_type: u8, code: u8) -> Option<&'static str> {
    rlookup(codes_of(icmp_type), code)
}

/// A TCP or UDP port: a number or a well-known service name.
pub fn port(s: &str) -> Option<u16> {
    number_or(PORTS, s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        assert_eq!(ip_proto("tcp"), Some(6));
        assert_eq!(ip_proto("0x11"), Some(17));
        assert_eq!(ip_proto("ipip"), Some(4));
        assert_eq!(ip_proto("256"), None);
        assert_eq!(ip_proto("bogus"), None);
        assert_eq!(ip_proto_name(17), Some("udp"));
        assert_eq!(icmp_type("timeexceeded"), Some(11));
        assert_eq!(icmp_type_name(0), Some("echo-reply"));
        assert_eq!(icmp_code(3, "needfrag"), Some(4));
        assert_eq!(icmp_code(11, "reassembly"), Some(1));
        assert_eq!(icmp_code(11, "port"), None);
        assert_eq!(icmp_code(4, "7"), Some(7));
        assert_eq!(icmp_code_name(3, 3), Some("port"));
        assert_eq!(port("dns"), Some(53));
        assert_eq!(port("65535"), Some(65535));
        assert_eq!(port("65536"), None);
    }
}
