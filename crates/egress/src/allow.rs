//! The egress allowlist: which destinations `fetch` may reach at all.
//!
//! Sans-IO: rules are parsed from text and matched against a parsed
//! [`Url`], nothing else. The client checks every request it is about to
//! send (each redirect hop included) before it opens a connection, so a
//! refused destination costs no SOCKS CONNECT, no DNS lookup and no byte on
//! the wire.
//!
//! A rule is one of
//!
//! * an exact host, `api.example.com`;
//! * a host glob, `*.example.com`: any subdomain at any depth
//!   (`a.example.com`, `a.b.example.com`), never the apex `example.com`
//!   itself (add that as its own rule);
//! * an IPv4 or IPv6 address or CIDR block, `10.0.0.0/8`, `192.0.2.7`,
//!   `[2001:db8::]/32`, `[::1]` (IPv6 always in brackets, so a port can
//!   follow without ambiguity);
//!
//! each with an optional `:PORT` (`api.example.com:8443`); without one any
//! port matches.
//!
//! Host names are compared on the ASCII form the `url` crate gives a URL's
//! host (lower case, IDNA to punycode), and patterns go through the same
//! parser, so `Bücher.Example` and `xn--bcher-kva.example` are one rule
//! and match the same URLs. One trailing dot (a fully qualified name) is
//! ignored on both sides.
//!
//! IP rules match only URLs whose host *is* an IP literal. The enclave never
//! resolves a name to check it against a CIDR block: DNS answers come from
//! the host, which could point an allowed-looking name anywhere (and, over
//! SOCKS, the proxy resolves the name, not the enclave). So `10.0.0.0/8`
//! allows `http://10.1.2.3/` but not `http://internal.example/`, whatever
//! that name resolves to; name rules never match IP literals either. An
//! IPv4-mapped IPv6 literal (`[::ffff:10.0.0.1]`) is an IPv6 address here
//! and matches only IPv6 rules, so it cannot slip past an IPv4 rule.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use url::{Host, Url};

/// Why an allowlist pattern does not parse. Every message quotes the
/// pattern.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllowRuleError {
    #[error("empty egress allow pattern")]
    Empty,
    #[error("egress allow pattern {pattern:?}: port {port:?} is not a number from 1 to 65535")]
    Port { pattern: String, port: String },
    #[error("egress allow pattern {pattern:?}: {reason}")]
    Host { pattern: String, reason: String },
    #[error("egress allow pattern {pattern:?}: prefix length {prefix:?} is not a number from 0 to {max}")]
    Prefix { pattern: String, prefix: String, max: u8 },
    #[error(
        "egress allow pattern {pattern:?}: address has bits set past the /{prefix} prefix (did you mean {canonical}?)"
    )]
    HostBits { pattern: String, prefix: u8, canonical: String },
}

/// What a rule's host part matches.
#[derive(Debug, Clone, PartialEq, Eq)]
enum HostRule {
    /// One name, ASCII lower case, no trailing dot.
    Exact(String),
    /// Names ending in `.suffix` (stored with its leading dot), apex excluded.
    Subdomains(String),
    V4 {
        net: u32,
        prefix: u8,
    },
    V6 {
        net: u128,
        prefix: u8,
    },
}

/// One parsed `--egress-allow` pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowRule {
    /// The pattern as given, for messages and for the attestation view.
    source: String,
    host: HostRule,
    port: Option<u16>,
}

impl AllowRule {
    /// The pattern exactly as it was given.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether a request to `host` on `port` is allowed by this rule.
    pub fn matches(&self, host: &Host<&str>, port: u16) -> bool {
        if self.port.is_some_and(|p| p != port) {
            return false;
        }
        match (&self.host, host) {
            (HostRule::Exact(name), Host::Domain(d)) => trim_dot(d).eq_ignore_ascii_case(name),
            (HostRule::Subdomains(suffix), Host::Domain(d)) => {
                let d = trim_dot(d);
                // Longer than the suffix: ".example.com" itself is not a subdomain.
                d.len() > suffix.len()
                    && d.get(d.len() - suffix.len()..).is_some_and(|tail| tail.eq_ignore_ascii_case(suffix))
            }
            (HostRule::V4 { net, prefix }, Host::Ipv4(ip)) => mask32(u32::from(*ip), *prefix) == *net,
            (HostRule::V6 { net, prefix }, Host::Ipv6(ip)) => mask128(u128::from(*ip), *prefix) == *net,
            _ => false,
        }
    }
}

impl fmt::Display for AllowRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

fn trim_dot(name: &str) -> &str {
    name.strip_suffix('.').unwrap_or(name)
}

fn mask32(addr: u32, prefix: u8) -> u32 {
    match prefix {
        0 => 0,
        p => addr & (u32::MAX << (32 - u32::from(p))),
    }
}

fn mask128(addr: u128, prefix: u8) -> u128 {
    match prefix {
        0 => 0,
        p => addr & (u128::MAX << (128 - u32::from(p))),
    }
}

impl FromStr for AllowRule {
    type Err = AllowRuleError;

    fn from_str(pattern: &str) -> Result<Self, Self::Err> {
        if pattern.trim().is_empty() {
            return Err(AllowRuleError::Empty);
        }
        let host_err = |reason: &str| AllowRuleError::Host { pattern: pattern.to_string(), reason: reason.into() };
        if pattern != pattern.trim() {
            return Err(host_err("leading or trailing white space"));
        }
        // Split off the host part and the port text.
        let (host_text, port_text) = if let Some(rest) = pattern.strip_prefix('[') {
            let (inside, after) = rest.split_once(']').ok_or_else(|| host_err("'[' without a closing ']'"))?;
            // `[addr]`, `[addr]/N`, `[addr]:P`, `[addr]/N:P`.
            let (prefix, port) = match after.split_once(':') {
                Some((prefix, port)) => (prefix, Some(port)),
                None => (after, None),
            };
            let prefix = match prefix {
                "" => None,
                p => Some(p.strip_prefix('/').ok_or_else(|| host_err("unexpected text after ']'"))?),
            };
            let ip = Ipv6Addr::from_str(inside).map_err(|_| host_err("the text in brackets is not an IPv6 address"))?;
            let port = port.map(|p| parse_port(pattern, p)).transpose()?;
            let prefix = prefix.map(|p| parse_prefix(pattern, p, 128)).transpose()?.unwrap_or(128);
            let net = mask128(u128::from(ip), prefix);
            if net != u128::from(ip) {
                let canonical = format!("[{}]/{prefix}", Ipv6Addr::from(net));
                return Err(AllowRuleError::HostBits { pattern: pattern.into(), prefix, canonical });
            }
            return Ok(AllowRule { source: pattern.into(), host: HostRule::V6 { net, prefix }, port });
        } else {
            match pattern.matches(':').count() {
                0 => (pattern, None),
                1 => pattern.split_once(':').map(|(h, p)| (h, Some(p))).unwrap_or((pattern, None)),
                _ => return Err(host_err("IPv6 addresses go in brackets, e.g. [2001:db8::]/32 or [::1]:8080")),
            }
        };
        let port = port_text.map(|p| parse_port(pattern, p)).transpose()?;
        if host_text.is_empty() {
            return Err(host_err("no host"));
        }
        if let Some((addr, prefix)) = host_text.split_once('/') {
            let ip = Ipv4Addr::from_str(addr)
                .map_err(|_| host_err("a CIDR block needs an IPv4 address (or an IPv6 one in brackets)"))?;
            let prefix = parse_prefix(pattern, prefix, 32)?;
            let net = mask32(u32::from(ip), prefix);
            if net != u32::from(ip) {
                let canonical = format!("{}/{prefix}", Ipv4Addr::from(net));
                return Err(AllowRuleError::HostBits { pattern: pattern.into(), prefix, canonical });
            }
            return Ok(AllowRule { source: pattern.into(), host: HostRule::V4 { net, prefix }, port });
        }
        let (glob, name) = match host_text.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, host_text),
        };
        if name.contains('*') {
            return Err(host_err("'*' may only be the whole first label, as in *.example.com"));
        }
        // The same host parser URLs go through, so both sides normalise alike
        // (IDNA, case, and the numeric IPv4 forms such as 127.1).
        let host = match Host::parse(name) {
            Ok(h) => h,
            Err(e) => return Err(host_err(&format!("not a host name: {e}"))),
        };
        let host = match host {
            Host::Domain(d) => {
                let d = trim_dot(&d).to_ascii_lowercase();
                if d.is_empty() || d.starts_with('.') || d.contains("..") {
                    return Err(host_err("empty label in the host name"));
                }
                if glob {
                    HostRule::Subdomains(format!(".{d}"))
                } else {
                    HostRule::Exact(d)
                }
            }
            Host::Ipv4(ip) if !glob => HostRule::V4 { net: u32::from(ip), prefix: 32 },
            Host::Ipv4(_) | Host::Ipv6(_) => {
                return Err(host_err("a glob needs a host name after '*.', not an address"))
            }
        };
        Ok(AllowRule { source: pattern.into(), host, port })
    }
}

fn parse_port(pattern: &str, text: &str) -> Result<u16, AllowRuleError> {
    match text.parse::<u16>() {
        Ok(p) if p > 0 && text.bytes().all(|b| b.is_ascii_digit()) => Ok(p),
        _ => Err(AllowRuleError::Port { pattern: pattern.into(), port: text.into() }),
    }
}

fn parse_prefix(pattern: &str, text: &str, max: u8) -> Result<u8, AllowRuleError> {
    match text.parse::<u8>() {
        Ok(p) if p <= max && text.bytes().all(|b| b.is_ascii_digit()) => Ok(p),
        _ => Err(AllowRuleError::Prefix { pattern: pattern.into(), prefix: text.into(), max }),
    }
}

/// The destinations `fetch` may reach. An `EgressConfig` without one
/// (`allow: None`) reaches everywhere; an empty list reaches nowhere.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList {
    rules: Vec<AllowRule>,
}

/// A destination refused by an [`AllowList`]: what was asked for, and what
/// would have been allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// `host:port` as the URL gave them (IPv6 in brackets).
    pub destination: String,
    /// The patterns of the list, as given.
    pub rules: Vec<String>,
}

impl AllowList {
    pub fn new(rules: Vec<AllowRule>) -> AllowList {
        AllowList { rules }
    }

    /// Parses every pattern; the first one that does not parse is the error.
    pub fn parse<S: AsRef<str>>(patterns: impl IntoIterator<Item = S>) -> Result<AllowList, AllowRuleError> {
        let rules = patterns.into_iter().map(|p| p.as_ref().parse()).collect::<Result<_, _>>()?;
        Ok(AllowList { rules })
    }

    pub fn rules(&self) -> &[AllowRule] {
        &self.rules
    }

    /// The patterns as given.
    pub fn patterns(&self) -> Vec<String> {
        self.rules.iter().map(|r| r.source.clone()).collect()
    }

    /// Whether `url` may be fetched: some rule matches its host and its
    /// port (the scheme's default when the URL names none). A URL without
    /// a host or a port is refused.
    pub fn check(&self, url: &Url) -> Result<(), Refused> {
        let refused = || Refused {
            destination: match (url.host_str(), url.port_or_known_default()) {
                (Some(h), Some(p)) => format!("{h}:{p}"),
                (Some(h), None) => h.to_string(),
                (None, _) => url.as_str().to_string(),
            },
            rules: self.patterns(),
        };
        let (Some(host), Some(port)) = (url.host(), url.port_or_known_default()) else {
            return Err(refused());
        };
        if self.rules.iter().any(|r| r.matches(&host, port)) {
            Ok(())
        } else {
            Err(refused())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(patterns: &[&str]) -> AllowList {
        AllowList::parse(patterns).unwrap_or_else(|e| panic!("{patterns:?}: {e}"))
    }

    fn allows(patterns: &[&str], url: &str) -> bool {
        let url = Url::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
        list(patterns).check(&url).is_ok()
    }

    fn parse_error(pattern: &str) -> String {
        match pattern.parse::<AllowRule>() {
            Ok(r) => panic!("{pattern:?} parsed as {r:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn an_exact_host_matches_only_itself_on_any_port() {
        let p = &["api.example.com"];
        assert!(allows(p, "https://api.example.com/x"));
        assert!(allows(p, "http://api.example.com:8080/"));
        assert!(!allows(p, "https://example.com/"));
        assert!(!allows(p, "https://x.api.example.com/"));
        assert!(!allows(p, "https://api.example.com.evil.net/"));
        assert!(!allows(p, "https://apiXexample.com/"));
    }

    #[test]
    fn hosts_compare_case_insensitively_and_on_punycode() {
        assert!(allows(&["API.Example.COM"], "https://api.example.com/"));
        assert!(allows(&["api.example.com"], "https://API.EXAMPLE.com/"));
        assert!(allows(&["bücher.example"], "https://xn--bcher-kva.example/"));
        assert!(allows(&["xn--bcher-kva.example"], "https://Bücher.example/"));
        assert!(allows(&["*.bücher.example"], "https://shop.BÜCHER.example/"));
    }

    #[test]
    fn one_trailing_dot_is_the_same_name() {
        assert!(allows(&["api.example.com"], "https://api.example.com./"));
        assert!(allows(&["api.example.com."], "https://api.example.com/"));
        assert!(allows(&["*.example.com"], "https://a.example.com./"));
    }

    #[test]
    fn a_glob_matches_subdomains_at_any_depth_but_not_the_apex() {
        let p = &["*.example.com"];
        assert!(allows(p, "https://a.example.com/"));
        assert!(allows(p, "https://a.b.c.example.com/"));
        assert!(!allows(p, "https://example.com/"));
        assert!(!allows(p, "https://badexample.com/"));
        assert!(!allows(p, "https://example.com.evil.net/"));
        assert!(allows(&["*.example.com", "example.com"], "https://example.com/"));
    }

    #[test]
    fn a_port_restricts_the_rule_and_default_ports_count() {
        let p = &["api.example.com:443"];
        assert!(allows(p, "https://api.example.com/"));
        assert!(allows(p, "http://api.example.com:443/"));
        assert!(!allows(p, "http://api.example.com/"), "http's default is 80");
        assert!(!allows(p, "https://api.example.com:8443/"));
        assert!(allows(&["*.example.com:8443"], "https://a.example.com:8443/"));
        assert!(!allows(&["*.example.com:8443"], "https://a.example.com/"));
        assert!(allows(&["10.0.0.0/8:80"], "http://10.2.3.4/"));
        assert!(!allows(&["10.0.0.0/8:80"], "https://10.2.3.4/"));
        assert!(allows(&["[2001:db8::]/32:443"], "https://[2001:db8::1]/"));
        assert!(!allows(&["[2001:db8::]/32:443"], "https://[2001:db8::1]:444/"));
        assert!(allows(&["[::1]:8080"], "http://[::1]:8080/"));
    }

    #[test]
    fn ipv4_cidrs_and_addresses_match_ip_literals() {
        let p = &["10.0.0.0/8"];
        assert!(allows(p, "http://10.0.0.1/"));
        assert!(allows(p, "http://10.255.255.255/"));
        assert!(!allows(p, "http://11.0.0.1/"));
        assert!(!allows(p, "http://9.255.255.255/"));
        assert!(allows(&["192.0.2.7"], "http://192.0.2.7/"));
        assert!(!allows(&["192.0.2.7"], "http://192.0.2.8/"));
        assert!(allows(&["192.0.2.7/32"], "http://192.0.2.7/"));
        assert!(allows(&["0.0.0.0/0"], "http://203.0.113.9/"));
        // The url crate's numeric forms are the same address.
        assert!(allows(&["127.0.0.1"], "http://127.1/"));
        assert!(allows(&["127.1"], "http://127.0.0.1/"));
    }

    #[test]
    fn ipv6_cidrs_match_ipv6_literals_only() {
        let p = &["[2001:db8::]/32"];
        assert!(allows(p, "https://[2001:db8::1]/"));
        assert!(allows(p, "https://[2001:DB8:ffff::]/"));
        assert!(!allows(p, "https://[2001:db9::1]/"));
        assert!(allows(&["[::1]"], "http://[::1]:3000/"));
        assert!(!allows(&["[::1]"], "http://[::2]/"));
        assert!(allows(&["[::]/0"], "http://[fe80::1]/"));
        assert!(!allows(&["[::]/0"], "http://10.0.0.1/"), "an IPv6 rule never matches IPv4");
        assert!(!allows(&["0.0.0.0/0"], "http://[::1]/"), "an IPv4 rule never matches IPv6");
        assert!(!allows(&["10.0.0.0/8"], "http://[::ffff:10.0.0.1]/"), "mapped addresses are IPv6 here");
    }

    #[test]
    fn ip_rules_never_match_names_and_name_rules_never_match_ips() {
        // The enclave does no DNS to check: a name that the host may resolve
        // to 10.x is not an IP-literal URL.
        assert!(!allows(&["10.0.0.0/8"], "http://internal.example/"));
        assert!(!allows(&["0.0.0.0/0", "[::]/0"], "https://example.com/"));
        assert!(!allows(&["*.example.com"], "http://10.0.0.1/"));
        assert!(!allows(&["localhost"], "http://127.0.0.1/"));
    }

    #[test]
    fn any_rule_of_several_may_allow_and_an_empty_list_allows_nothing() {
        let p = &["a.example", "*.b.example", "10.0.0.0/8"];
        assert!(allows(p, "https://a.example/"));
        assert!(allows(p, "https://x.b.example/"));
        assert!(allows(p, "http://10.9.9.9/"));
        assert!(!allows(p, "https://c.example/"));
        assert!(!allows(&[], "https://a.example/"));
    }

    #[test]
    fn a_refusal_names_the_destination_and_the_rules() {
        let l = list(&["a.example", "10.0.0.0/8"]);
        let r = l.check(&Url::parse("https://evil.example/path?q").expect("url")).unwrap_err();
        assert_eq!(r.destination, "evil.example:443");
        assert_eq!(r.rules, vec!["a.example".to_string(), "10.0.0.0/8".to_string()]);
        let r = l.check(&Url::parse("http://[::1]:9/").expect("url")).unwrap_err();
        assert_eq!(r.destination, "[::1]:9");
    }

    #[test]
    fn patterns_are_kept_as_given() {
        let l = list(&["API.example.com:443", "*.Example.org", "[2001:db8::]/32"]);
        assert_eq!(l.patterns(), vec!["API.example.com:443", "*.Example.org", "[2001:db8::]/32"]);
        assert_eq!(l.rules()[0].to_string(), "API.example.com:443");
    }

    #[test]
    fn bad_patterns_are_errors_that_quote_them() {
        for (pattern, needle) in [
            ("api.example.com:0", "port \"0\""),
            ("api.example.com:65536", "port"),
            ("api.example.com:+1", "port"),
            ("api.example.com:", "port"),
            ("10.0.0.0/33", "prefix length \"33\""),
            ("10.0.0.0/", "prefix length"),
            ("10.0.0.1/8", "did you mean 10.0.0.0/8"),
            ("[2001:db8::1]/32", "did you mean [2001:db8::]/32"),
            ("[2001:db8::]/129", "from 0 to 128"),
            ("2001:db8::/32", "brackets"),
            ("[2001:db8::", "closing ']'"),
            ("[nope]", "not an IPv6 address"),
            ("[::1]x", "after ']'"),
            ("example.com/8", "IPv4 address"),
            ("*", "first label"),
            ("*.*.example.com", "first label"),
            ("a*.example.com", "first label"),
            ("*.10.0.0.1", "not an address"),
            ("exa mple.com", "not a host name"),
            ("a..example.com", "empty label"),
            (":443", "no host"),
            (" api.example.com", "white space"),
        ] {
            let message = parse_error(pattern);
            assert!(message.contains(&format!("{pattern:?}")), "{pattern:?}: {message}");
            assert!(message.contains(needle), "{pattern:?}: {message} lacks {needle:?}");
        }
        assert_eq!("".parse::<AllowRule>(), Err(AllowRuleError::Empty));
        assert!(AllowList::parse(["ok.example", "bad:port"]).unwrap_err().to_string().contains("\"bad:port\""));
    }
}
