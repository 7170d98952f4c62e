//! Egress policy: which destinations the enclave may reach.
//!
//! Semantics, in order, for each resolved address of a request:
//! 1. a deny rule matching the requested host name or the address (and
//!    port) denies;
//! 2. a *special* address (loopback, private, link-local with the cloud
//!    metadata service, multicast, unspecified, reserved, or one of the
//!    host's own addresses) is denied unless an allow rule names it
//!    explicitly: an IP/CIDR rule lying inside that special range (for the
//!    host's own addresses, the exact address). `*`, host names and wide
//!    CIDRs such as `0.0.0.0/0` never unlock special addresses, so DNS
//!    cannot smuggle them in (checked on the resolved address at connect);
//! 3. otherwise the first matching allow rule allows;
//! 4. otherwise deny. With no allow rules configured, the default is
//!    `*:80,443` (public addresses, HTTP and HTTPS).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;

/// An IP network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn new(addr: IpAddr, prefix: u8) -> Option<Self> {
        let addr = addr.to_canonical();
        let (addr, prefix) = match (addr, prefix) {
            // A v4-mapped network written in IPv6 form: /96 + v4 prefix.
            (IpAddr::V4(a), p) if p > 32 && prefix >= 96 => (IpAddr::V4(a), p - 96),
            (IpAddr::V4(_), p) if p > 32 => return None,
            (IpAddr::V6(_), p) if p > 128 => return None,
            x => x,
        };
        Some(Cidr { addr: mask(addr, prefix), prefix })
    }

    const fn v4(a: [u8; 4], prefix: u8) -> Self {
        Cidr { addr: IpAddr::V4(Ipv4Addr::new(a[0], a[1], a[2], a[3])), prefix }
    }

    const fn v6(a: [u16; 8], prefix: u8) -> Self {
        Cidr { addr: IpAddr::V6(Ipv6Addr::new(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7])), prefix }
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        match (self.addr, ip) {
            (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) => mask(ip, self.prefix) == self.addr,
            _ => false,
        }
    }

    fn full_length(&self) -> bool {
        self.prefix == if self.addr.is_ipv4() { 32 } else { 128 }
    }
}

fn mask(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(a) => {
            let m = if prefix == 0 { 0 } else { u32::MAX << (32 - prefix as u32) };
            IpAddr::V4(Ipv4Addr::from(u32::from(a) & m))
        }
        IpAddr::V6(a) => {
            let m = if prefix == 0 { 0 } else { u128::MAX << (128 - prefix as u32) };
            IpAddr::V6(Ipv6Addr::from(u128::from(a) & m))
        }
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.addr {
            IpAddr::V4(a) => write!(f, "{a}/{}", self.prefix),
            IpAddr::V6(a) => write!(f, "[{a}]/{}", self.prefix),
        }
    }
}

/// Why an address is special (denied unless named explicitly).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Special {
    Unspecified,
    Loopback,
    Private,
    LinkLocal,
    Multicast,
    Reserved,
    HostOwn,
}

impl Special {
    pub fn as_str(self) -> &'static str {
        match self {
            Special::Unspecified => "unspecified",
            Special::Loopback => "loopback",
            Special::Private => "private",
            Special::LinkLocal => "link-local",
            Special::Multicast => "multicast",
            Special::Reserved => "reserved",
            Special::HostOwn => "host-own-address",
        }
    }
}

/// The special ranges. IPv4-mapped and NAT64 IPv6 addresses are checked by
/// their embedded IPv4 address.
const SPECIAL_RANGES: &[(Cidr, Special)] = &[
    (Cidr::v4([0, 0, 0, 0], 8), Special::Unspecified),
    (Cidr::v4([127, 0, 0, 0], 8), Special::Loopback),
    (Cidr::v4([10, 0, 0, 0], 8), Special::Private),
    (Cidr::v4([172, 16, 0, 0], 12), Special::Private),
    (Cidr::v4([192, 168, 0, 0], 16), Special::Private),
    (Cidr::v4([100, 64, 0, 0], 10), Special::Private),
    (Cidr::v4([192, 0, 0, 0], 24), Special::Reserved),
    (Cidr::v4([198, 18, 0, 0], 15), Special::Reserved),
    (Cidr::v4([169, 254, 0, 0], 16), Special::LinkLocal),
    (Cidr::v4([224, 0, 0, 0], 4), Special::Multicast),
    (Cidr::v4([240, 0, 0, 0], 4), Special::Reserved),
    (Cidr::v6([0, 0, 0, 0, 0, 0, 0, 0], 128), Special::Unspecified),
    (Cidr::v6([0, 0, 0, 0, 0, 0, 0, 1], 128), Special::Loopback),
    (Cidr::v6([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7), Special::Private),
    (Cidr::v6([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10), Special::Private),
    (Cidr::v6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10), Special::LinkLocal),
    (Cidr::v6([0xff00, 0, 0, 0, 0, 0, 0, 0], 8), Special::Multicast),
    (Cidr::v6([0x0100, 0, 0, 0, 0, 0, 0, 0], 64), Special::Reserved),
    (Cidr::v6([0, 0, 0, 0, 0, 0, 0, 0], 96), Special::Reserved),
];

/// The address policy applies to: IPv4-mapped (`::ffff:a.b.c.d`) and
/// NAT64 (`64:ff9b::a.b.c.d`) addresses stand for their IPv4 address.
pub fn effective_ip(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                let o = v6.octets();
                IpAddr::V4(Ipv4Addr::new(o[12], o[13], o[14], o[15]))
            } else {
                IpAddr::V6(v6)
            }
        }
        v4 => v4,
    }
}

/// The special range containing `ip`, if any.
pub fn special_range(ip: IpAddr) -> Option<(Cidr, Special)> {
    let ip = effective_ip(ip);
    SPECIAL_RANGES.iter().copied().find(|(net, _)| net.contains(ip))
}

/// Which ports a rule covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ports {
    Any,
    Ranges(Vec<(u16, u16)>),
}

impl Ports {
    fn matches(&self, port: u16) -> bool {
        match self {
            Ports::Any => true,
            Ports::Ranges(r) => r.iter().any(|&(lo, hi)| lo <= port && port <= hi),
        }
    }
}

/// What a rule matches besides ports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostPattern {
    /// `*`: every host name and address (never unlocks special addresses).
    Any,
    /// An exact host name (lower case, no trailing dot).
    Name(String),
    /// `*.suffix`: strict subdomains of the suffix.
    Suffix(String),
    /// An address or network.
    Net(Cidr),
}

/// One allow or deny rule: `HOST[:PORTS]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub host: HostPattern,
    pub ports: Ports,
    text: String,
}

/// Why a rule does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("policy rule {rule:?}: {reason}")]
pub struct RuleError {
    rule: String,
    reason: String,
}

impl FromStr for Rule {
    type Err = RuleError;

    fn from_str(text: &str) -> Result<Self, RuleError> {
        let err = |reason: String| RuleError { rule: text.to_owned(), reason };
        let t = text.trim();
        if t.is_empty() {
            return Err(err("empty rule".into()));
        }
        // Split HOST and PORTS; IPv6 goes in brackets.
        let (host, ports) = if let Some(rest) = t.strip_prefix('[') {
            let (inside, after) =
                rest.split_once(']').ok_or_else(|| err("unbalanced '[': write IPv6 as [2001:db8::/32]:443".into()))?;
            let (suffix, ports) = match after.split_once(':') {
                Some((s, p)) => (s, Some(p)),
                None => (after, None),
            };
            // Accept both [net/len] and [addr]/len.
            let host = format!("{inside}{suffix}");
            (host, ports)
        } else {
            if t.matches(':').count() > 1 {
                return Err(err("IPv6 addresses need brackets, e.g. [::1]:443".into()));
            }
            match t.split_once(':') {
                Some((h, p)) => (h.to_owned(), Some(p)),
                None => (t.to_owned(), None),
            }
        };
        let ports = match ports {
            None | Some("*") => Ports::Any,
            Some(p) => parse_ports(p).map_err(err)?,
        };
        let host = parse_host(&host).map_err(err)?;
        Ok(Rule { host, ports, text: t.to_owned() })
    }
}

fn parse_ports(p: &str) -> Result<Ports, String> {
    let mut ranges = Vec::new();
    for part in p.split(',') {
        let num = |s: &str| {
            s.trim()
                .parse::<u16>()
                .map_err(|e| format!("port {s:?}: {e} (ports are 0..=65535, lists 80,443, ranges 8000-8100 or *)"))
        };
        let (lo, hi) = match part.split_once('-') {
            Some((a, b)) => (num(a)?, num(b)?),
            None => {
                let n = num(part)?;
                (n, n)
            }
        };
        if lo > hi {
            return Err(format!("port range {part:?} is reversed"));
        }
        ranges.push((lo, hi));
    }
    Ok(Ports::Ranges(ranges))
}

fn parse_host(h: &str) -> Result<HostPattern, String> {
    if h == "*" {
        return Ok(HostPattern::Any);
    }
    if let Some((a, len)) = h.split_once('/') {
        let ip: IpAddr = a.parse().map_err(|e| format!("network address {a:?}: {e}"))?;
        let len: u8 = len.parse().map_err(|e| format!("prefix length {len:?}: {e}"))?;
        return Cidr::new(ip, len)
            .map(HostPattern::Net)
            .ok_or_else(|| format!("prefix length /{len} too long for {ip}"));
    }
    if let Ok(ip) = h.parse::<IpAddr>() {
        let full = if ip.to_canonical().is_ipv4() { 32 } else { 128 };
        return Ok(HostPattern::Net(Cidr::new(ip, full).ok_or("bad address")?));
    }
    let (suffix, name) = match h.strip_prefix("*.") {
        Some(s) => (true, s),
        None => (false, h),
    };
    let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
    let valid = !name.is_empty()
        && name.split('.').all(|l| {
            !l.is_empty() && l.len() <= 63 && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    if !valid {
        return Err(format!("{h:?} is not *, a host name, *.suffix, an IP address or a CIDR network"));
    }
    Ok(if suffix { HostPattern::Suffix(name) } else { HostPattern::Name(name) })
}

impl Rule {
    /// The rule as written, for logs and metrics labels.
    pub fn text(&self) -> &str {
        &self.text
    }

    fn matches_name(&self, name: &str, port: u16) -> bool {
        let hit = match &self.host {
            HostPattern::Any => true,
            HostPattern::Name(n) => n == name,
            HostPattern::Suffix(s) => {
                name.len() > s.len() + 1
                    && name.ends_with(s.as_str())
                    && name.as_bytes()[name.len() - s.len() - 1] == b'.'
            }
            HostPattern::Net(_) => false,
        };
        hit && self.ports.matches(port)
    }

    fn matches_addr(&self, ip: IpAddr, port: u16) -> bool {
        let hit = match &self.host {
            HostPattern::Any => true,
            HostPattern::Net(n) => n.contains(ip),
            HostPattern::Name(_) | HostPattern::Suffix(_) => false,
        };
        hit && self.ports.matches(port)
    }

    /// Whether this rule names `ip` explicitly enough to unlock it although
    /// it lies in the special range `range`.
    fn names_special(&self, ip: IpAddr, port: u16, range: Option<Cidr>, host_own: bool) -> bool {
        let HostPattern::Net(net) = &self.host else {
            return false;
        };
        if !net.contains(ip) || !self.ports.matches(port) {
            return false;
        }
        if host_own && !net.full_length() {
            return false;
        }
        match range {
            Some(r) => net.prefix >= r.prefix,
            None => true,
        }
    }
}

/// The outcome of a policy check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// What decided: the rule text, `default:*:80,443`, `special:<class>`
    /// or `no-allow-rule`. Used as the metrics label.
    pub by: String,
}

/// Where the host's own addresses come from.
#[derive(Debug, Clone)]
enum OwnAddrs {
    /// A fixed list (tests, or a caller that snapshots on purpose).
    Fixed(Vec<IpAddr>),
    /// Read from the kernel (`getifaddrs`) at every address check, so an
    /// address added at any time is denied from the next connect on.
    Live,
}

/// A complete policy. Cheap to share (`Arc`) and swapped whole on reload.
#[derive(Debug, Clone)]
pub struct Policy {
    allow: Vec<Rule>,
    deny: Vec<Rule>,
    own_addrs: OwnAddrs,
    default_allow: bool,
}

const DEFAULT_ALLOW: &str = "*:80,443";

impl Policy {
    /// Builds a policy with a fixed list of host addresses (`own_addrs`,
    /// always special). The daemon uses [`Policy::live`] instead.
    pub fn new(allow: Vec<Rule>, deny: Vec<Rule>, own_addrs: Vec<IpAddr>) -> Self {
        Self::build(allow, deny, OwnAddrs::Fixed(own_addrs.into_iter().map(effective_ip).collect()))
    }

    /// Builds a policy that reads the host's addresses from the kernel at
    /// every address check (one `getifaddrs`, only for an address no deny
    /// rule already refused): an address added after start, or a name
    /// resolving to it, is denied at once. If the addresses cannot be
    /// read, the check fails closed.
    pub fn live(allow: Vec<Rule>, deny: Vec<Rule>) -> Self {
        Self::build(allow, deny, OwnAddrs::Live)
    }

    fn build(allow: Vec<Rule>, deny: Vec<Rule>, own_addrs: OwnAddrs) -> Self {
        let default_allow = allow.is_empty();
        let allow = if default_allow { vec![default_rule()] } else { allow };
        Policy { allow, deny, own_addrs, default_allow }
    }

    /// Whether `ip` (already effective) is one of the host's addresses;
    /// `Err` when the live list cannot be read.
    fn is_host_own(&self, ip: IpAddr) -> Result<bool, HostAddrError> {
        match &self.own_addrs {
            OwnAddrs::Fixed(v) => Ok(v.contains(&ip)),
            OwnAddrs::Live => Ok(read_host_addresses()?.any(|a| effective_ip(a) == ip)),
        }
    }

    pub fn rules(&self) -> (&[Rule], &[Rule]) {
        (&self.allow, &self.deny)
    }

    fn label(&self, r: &Rule) -> String {
        if self.default_allow {
            format!("default:{}", r.text)
        } else {
            r.text.clone()
        }
    }

    /// Checks the requested host name before resolving it, so denied names
    /// are not even looked up.
    pub fn check_name(&self, name: &str, port: u16) -> Option<Decision> {
        self.deny.iter().find(|r| r.matches_name(name, port)).map(|r| Decision { allowed: false, by: r.text.clone() })
    }

    /// Checks one address to connect to; `name` is the requested host name
    /// when the client sent one.
    pub fn check(&self, name: Option<&str>, addr: SocketAddr) -> Decision {
        let ip = effective_ip(addr.ip());
        let port = addr.port();
        let deny = |by: String| Decision { allowed: false, by };
        if let Some(r) =
            self.deny.iter().find(|r| r.matches_addr(ip, port) || name.is_some_and(|n| r.matches_name(n, port)))
        {
            return deny(r.text.clone());
        }
        let range = special_range(ip);
        let host_own = match self.is_host_own(ip) {
            Ok(own) => own,
            Err(e) => {
                tracing::warn!(error = %e, address = %ip, "cannot read the host's addresses; denying");
                return deny("host-addresses-unreadable".into());
            }
        };
        if range.is_some() || host_own {
            let class = range.map(|r| r.1).unwrap_or(Special::HostOwn);
            return match self.allow.iter().find(|r| r.names_special(ip, port, range.map(|r| r.0), host_own)) {
                Some(r) => Decision { allowed: true, by: r.text.clone() },
                None => deny(format!("special:{}", class.as_str())),
            };
        }
        match self.allow.iter().find(|r| r.matches_addr(ip, port) || name.is_some_and(|n| r.matches_name(n, port))) {
            Some(r) => Decision { allowed: true, by: self.label(r) },
            None => deny("no-allow-rule".into()),
        }
    }
}

/// The rule that applies when no allow rule is configured.
fn default_rule() -> Rule {
    Rule { host: HostPattern::Any, ports: Ports::Ranges(vec![(80, 80), (443, 443)]), text: DEFAULT_ALLOW.to_owned() }
}

/// The host's addresses could not be read.
#[derive(Debug, thiserror::Error)]
#[error("reading the host's interface addresses (getifaddrs): {0}")]
pub struct HostAddrError(#[from] nix::errno::Errno);

/// The addresses of this host's interfaces, read now.
fn read_host_addresses() -> Result<impl Iterator<Item = IpAddr>, HostAddrError> {
    let addrs = nix::ifaddrs::getifaddrs()?;
    Ok(addrs.filter_map(|i| i.address).filter_map(|a| {
        if let Some(v4) = a.as_sockaddr_in() {
            Some(IpAddr::V4(v4.ip()))
        } else {
            a.as_sockaddr_in6().map(|v6| IpAddr::V6(v6.ip()))
        }
    }))
}

/// The addresses of this host's interfaces (empty if they cannot be read).
pub fn host_addresses() -> Vec<IpAddr> {
    read_host_addresses().map(Iterator::collect).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(v: &[&str]) -> Vec<Rule> {
        v.iter().map(|r| r.parse().unwrap()).collect()
    }

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn rule_syntax() {
        let r: Rule = "*.example.com:443".parse().unwrap();
        assert_eq!(r.host, HostPattern::Suffix("example.com".into()));
        assert_eq!(r.ports, Ports::Ranges(vec![(443, 443)]));
        let r: Rule = "10.0.0.0/8:80,8000-8100".parse().unwrap();
        assert_eq!(r.ports, Ports::Ranges(vec![(80, 80), (8000, 8100)]));
        let r: Rule = "[2001:db8::/32]:443".parse().unwrap();
        assert!(matches!(r.host, HostPattern::Net(n) if n.prefix == 32));
        let r: Rule = "[::1]/128".parse().unwrap();
        assert!(matches!(r.host, HostPattern::Net(_)));
        assert_eq!(r.ports, Ports::Any);
        let r: Rule = "API.Example.com.".parse().unwrap();
        assert_eq!(r.host, HostPattern::Name("api.example.com".into()));
        let e = |s: &str| s.parse::<Rule>().unwrap_err().to_string();
        assert!(e("::1:80").contains("brackets"));
        assert!(e("a.com:99999").contains("port"));
        assert!(e("a.com:90-80").contains("reversed"));
        assert!(e("10.0.0.0/33").contains("too long"));
        assert!(e("bad host").contains("not *, a host name"));
        assert!(e("").contains("empty"));
    }

    #[test]
    fn default_allows_public_web_only() {
        let p = Policy::new(vec![], vec![], vec![]);
        assert!(p.check(None, sa("93.184.216.34:443")).allowed);
        assert!(p.check(Some("example.com"), sa("93.184.216.34:80")).allowed);
        assert_eq!(p.check(None, sa("93.184.216.34:443")).by, "default:*:80,443");
        let d = p.check(None, sa("93.184.216.34:22"));
        assert!(!d.allowed);
        assert_eq!(d.by, "no-allow-rule");
        for (addr, class) in [
            ("127.0.0.1:80", "loopback"),
            ("169.254.169.254:80", "link-local"),
            ("10.1.2.3:443", "private"),
            ("172.31.0.1:443", "private"),
            ("192.168.1.1:80", "private"),
            ("100.64.0.1:80", "private"),
            ("0.0.0.0:80", "unspecified"),
            ("224.0.0.1:80", "multicast"),
            ("255.255.255.255:80", "reserved"),
            ("[::1]:443", "loopback"),
            ("[::]:443", "unspecified"),
            ("[fd00:ec2::254]:80", "private"),
            ("[fe80::1]:80", "link-local"),
            ("[ff02::1]:80", "multicast"),
            ("[::ffff:127.0.0.1]:80", "loopback"),
            ("[::ffff:169.254.169.254]:80", "link-local"),
            ("[64:ff9b::a9fe:a9fe]:80", "link-local"),
        ] {
            let d = p.check(Some("rebind.example"), sa(addr));
            assert!(!d.allowed, "{addr}");
            assert_eq!(d.by, format!("special:{class}"), "{addr}");
        }
    }

    #[test]
    fn wide_rules_never_unlock_special_addresses() {
        let p = Policy::new(rules(&["*", "0.0.0.0/0", "[::/0]", "localhost", "*.internal"]), vec![], vec![]);
        assert!(p.check(None, sa("8.8.8.8:53")).allowed);
        assert!(!p.check(Some("localhost"), sa("127.0.0.1:80")).allowed);
        assert!(!p.check(Some("metadata.internal"), sa("169.254.169.254:80")).allowed);
        assert!(!p.check(None, sa("[::1]:80")).allowed);
        // 0.0.0.0/0 contains 10/8 but is wider: not explicit.
        assert!(!p.check(None, sa("10.0.0.1:80")).allowed);
    }

    #[test]
    fn explicit_rules_unlock_special_addresses() {
        let p =
            Policy::new(rules(&["127.0.0.1:8080", "10.0.0.0/8:5432", "[::1]:9000", "192.168.0.0/16"]), vec![], vec![]);
        assert!(p.check(None, sa("127.0.0.1:8080")).allowed);
        assert!(!p.check(None, sa("127.0.0.1:8081")).allowed);
        assert!(!p.check(None, sa("127.0.0.2:8080")).allowed);
        assert!(p.check(Some("db.internal"), sa("10.9.8.7:5432")).allowed);
        assert!(p.check(None, sa("[::1]:9000")).allowed);
        assert!(p.check(None, sa("[::ffff:127.0.0.1]:8080")).allowed);
        assert!(p.check(None, sa("192.168.3.4:1")).allowed);
        // Explicit allow rules replace the default.
        assert!(!p.check(None, sa("93.184.216.34:443")).allowed);
        // 10.0.0.0/7 would also cover 11/8 and is wider than 10/8: not explicit.
        let p = Policy::new(rules(&["10.0.0.0/7"]), vec![], vec![]);
        assert!(!p.check(None, sa("10.0.0.1:80")).allowed);
        assert!(p.check(None, sa("11.0.0.1:80")).allowed);
    }

    #[test]
    fn host_own_addresses_need_an_exact_rule() {
        let own = vec!["203.0.113.7".parse().unwrap(), "10.0.0.5".parse().unwrap()];
        let p = Policy::new(rules(&["*:443", "10.0.0.0/8:443"]), vec![], own.clone());
        let d = p.check(None, sa("203.0.113.7:443"));
        assert_eq!((d.allowed, d.by.as_str()), (false, "special:host-own-address"));
        assert!(!p.check(None, sa("10.0.0.5:443")).allowed);
        assert!(p.check(None, sa("10.0.0.6:443")).allowed);
        let p = Policy::new(rules(&["10.0.0.5:443"]), vec![], own);
        assert!(p.check(None, sa("10.0.0.5:443")).allowed);
    }

    #[test]
    fn deny_wins_and_names_match() {
        let p = Policy::new(
            rules(&["*.example.com:443", "api.other.org", "127.0.0.0/8"]),
            rules(&["evil.example.com", "93.184.216.0/24:443", "127.0.0.1:22"]),
            vec![],
        );
        assert!(p.check(Some("a.example.com"), sa("1.2.3.4:443")).allowed);
        assert!(p.check(Some("a.b.example.com"), sa("1.2.3.4:443")).allowed);
        assert!(!p.check(Some("example.com"), sa("1.2.3.4:443")).allowed);
        assert!(!p.check(Some("badexample.com"), sa("1.2.3.4:443")).allowed);
        assert!(!p.check(Some("a.example.com"), sa("1.2.3.4:80")).allowed);
        assert!(p.check(Some("api.other.org"), sa("1.2.3.4:22")).allowed);
        let d = p.check(Some("evil.example.com"), sa("1.2.3.4:443"));
        assert_eq!((d.allowed, d.by.as_str()), (false, "evil.example.com"));
        assert_eq!(p.check_name("evil.example.com", 443).map(|d| d.allowed), Some(false));
        assert_eq!(p.check_name("good.example.com", 443), None);
        let d = p.check(Some("a.example.com"), sa("93.184.216.34:443"));
        assert_eq!((d.allowed, d.by.as_str()), (false, "93.184.216.0/24:443"));
        assert!(p.check(None, sa("127.0.0.1:80")).allowed);
        assert!(!p.check(None, sa("127.0.0.1:22")).allowed);
        // An IP-only request is not matched by host-name rules.
        assert!(!p.check(None, sa("1.2.3.4:443")).allowed);
    }

    #[test]
    fn default_rule_is_the_documented_one() {
        assert_eq!(default_rule(), DEFAULT_ALLOW.parse::<Rule>().unwrap());
    }

    #[test]
    fn live_policy_sees_the_host_addresses_now() {
        let p = Policy::live(rules(&["*"]), vec![]);
        // Whatever non-special address this host has is denied as its own.
        for a in host_addresses().into_iter().filter(|a| special_range(*a).is_none()) {
            let d = p.check(None, SocketAddr::new(a, 443));
            assert_eq!((d.allowed, d.by.as_str()), (false, "special:host-own-address"), "{a}");
        }
        assert!(
            p.check(None, sa("93.184.216.34:443")).allowed
                || host_addresses().contains(&"93.184.216.34".parse().unwrap())
        );
    }

    #[test]
    fn host_addresses_include_loopback() {
        assert!(host_addresses().iter().any(|a| a.is_loopback()));
    }
}
