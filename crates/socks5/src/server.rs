//! The server half: what host-proxy parses (the client's greeting and
//! CONNECT request) and what it answers (method selection, reply).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::{
    Destination, Error, Parsed, Reply, ATYP_DOMAIN, ATYP_IPV4, ATYP_IPV6, CMD_CONNECT, METHOD_NONE_ACCEPTABLE,
    METHOD_NO_AUTH, VERSION,
};

/// Parses the method-selection greeting; returns whether no-auth is offered.
pub fn parse_greeting(buf: &[u8]) -> Result<Parsed<bool>, Error> {
    let Some(&ver) = buf.first() else {
        return Ok(Parsed::Incomplete);
    };
    if ver != VERSION {
        return Err(Error::Version(ver));
    }
    let Some(&n) = buf.get(1) else {
        return Ok(Parsed::Incomplete);
    };
    if n == 0 {
        return Err(Error::NoMethods);
    }
    let end = 2 + n as usize;
    match buf.get(2..end) {
        None => Ok(Parsed::Incomplete),
        Some(methods) => Ok(Parsed::Done(methods.contains(&METHOD_NO_AUTH), end)),
    }
}

/// Builds a destination from fixed-size address bytes and a port.
type DestFromBytes = fn(&[u8], u16) -> Result<Destination, Error>;

/// Parses a CONNECT request.
pub fn parse_request(buf: &[u8]) -> Result<Parsed<Destination>, Error> {
    if buf.len() < 4 {
        // Validate what we have early so garbage is rejected at once.
        if let Some(&v) = buf.first() {
            if v != VERSION {
                return Err(Error::Version(v));
            }
        }
        return Ok(Parsed::Incomplete);
    }
    let (ver, cmd, rsv, atyp) = (buf[0], buf[1], buf[2], buf[3]);
    if ver != VERSION {
        return Err(Error::Version(ver));
    }
    if cmd != CMD_CONNECT {
        return Err(Error::Command(cmd));
    }
    if rsv != 0 {
        return Err(Error::Reserved(rsv));
    }
    let rest = &buf[4..];
    let (addr_len, dest_of): (usize, DestFromBytes) = match atyp {
        ATYP_IPV4 => (4, |a, port| {
            let ip = Ipv4Addr::new(a[0], a[1], a[2], a[3]);
            Ok(Destination::Addr(SocketAddr::new(IpAddr::V4(ip), port)))
        }),
        ATYP_IPV6 => (16, |a, port| {
            let mut o = [0u8; 16];
            o.copy_from_slice(a);
            Ok(Destination::Addr(SocketAddr::new(IpAddr::V6(Ipv6Addr::from(o)), port)))
        }),
        ATYP_DOMAIN => {
            let Some(&n) = rest.first() else {
                return Ok(Parsed::Incomplete);
            };
            if n == 0 {
                return Err(Error::EmptyDomain);
            }
            return match rest.get(1..1 + n as usize + 2) {
                None => Ok(Parsed::Incomplete),
                Some(b) => {
                    let (name, port) = b.split_at(n as usize);
                    let port = u16::from_be_bytes([port[0], port[1]]);
                    Ok(Parsed::Done(domain_destination(name, port)?, 4 + 1 + n as usize + 2))
                }
            };
        }
        other => return Err(Error::AddressType(other)),
    };
    match rest.get(..addr_len + 2) {
        None => Ok(Parsed::Incomplete),
        Some(b) => {
            let port = u16::from_be_bytes([b[addr_len], b[addr_len + 1]]);
            Ok(Parsed::Done(dest_of(&b[..addr_len], port)?, 4 + addr_len + 2))
        }
    }
}

/// Validates a domain name as a DNS host name (letters, digits, `-`, `_`,
/// dots; labels of 1..=63 bytes). An IP literal sent as a domain becomes an
/// address, so policy sees it as one.
fn domain_destination(name: &[u8], port: u16) -> Result<Destination, Error> {
    let bad = || Error::BadDomain(String::from_utf8_lossy(name).into_owned());
    let s = std::str::from_utf8(name).map_err(|_| bad())?;
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(Destination::Addr(SocketAddr::new(ip, port)));
    }
    let s = s.strip_suffix('.').unwrap_or(s);
    if s.is_empty() {
        return Err(bad());
    }
    for label in s.split('.') {
        let ok_chars = label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if label.is_empty() || label.len() > 63 || !ok_chars {
            return Err(bad());
        }
    }
    Ok(Destination::Domain(s.to_ascii_lowercase(), port))
}

/// Encodes the method selection: no-auth when the greeting offered it,
/// else "no acceptable methods" (after which the client must close).
pub fn encode_method_selection(no_auth: bool) -> [u8; 2] {
    [VERSION, if no_auth { METHOD_NO_AUTH } else { METHOD_NONE_ACCEPTABLE }]
}

/// Encodes a reply. The bound address is always sent as 0.0.0.0:0: the
/// enclave has no use for the host's outbound address and should not learn
/// the host's network layout.
pub fn encode_reply(reply: Reply) -> [u8; 10] {
    [VERSION, reply.as_byte(), 0, ATYP_IPV4, 0, 0, 0, 0, 0, 0]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error as ParseError;

    #[test]
    fn greeting() {
        assert_eq!(parse_greeting(&[]), Ok(Parsed::Incomplete));
        assert_eq!(parse_greeting(&[5]), Ok(Parsed::Incomplete));
        assert_eq!(parse_greeting(&[5, 2, 0]), Ok(Parsed::Incomplete));
        assert_eq!(parse_greeting(&[5, 2, 2, 0]), Ok(Parsed::Done(true, 4)));
        assert_eq!(parse_greeting(&[5, 1, 2, 99]), Ok(Parsed::Done(false, 3)));
        assert_eq!(parse_greeting(&[4, 1, 0]), Err(ParseError::Version(4)));
        assert_eq!(parse_greeting(b"GET / HTTP/1.1"), Err(ParseError::Version(b'G')));
        assert_eq!(parse_greeting(&[5, 0]), Err(ParseError::NoMethods));
    }

    #[test]
    fn request_ipv4_ipv6_domain() {
        let r = [5, 1, 0, 1, 93, 184, 216, 34, 0x01, 0xBB];
        for cut in 0..r.len() {
            assert_eq!(parse_request(&r[..cut]), Ok(Parsed::Incomplete), "cut {cut}");
        }
        assert_eq!(parse_request(&r), Ok(Parsed::Done(Destination::Addr("93.184.216.34:443".parse().unwrap()), 10)));
        let mut r6 = vec![5, 1, 0, 4];
        r6.extend_from_slice(&"2001:db8::1".parse::<Ipv6Addr>().unwrap().octets());
        r6.extend_from_slice(&[0, 80, 0xAA]);
        assert_eq!(parse_request(&r6), Ok(Parsed::Done(Destination::Addr("[2001:db8::1]:80".parse().unwrap()), 22)));
        let mut rd = vec![5, 1, 0, 3, 12];
        rd.extend_from_slice(b"Example.COM.");
        rd.extend_from_slice(&[0x1F, 0x90]);
        assert_eq!(parse_request(&rd), Ok(Parsed::Done(Destination::Domain("example.com".into(), 8080), rd.len())));
    }

    #[test]
    fn ip_literal_in_domain_is_an_address() {
        let mut rd = vec![5, 1, 0, 3, 9];
        rd.extend_from_slice(b"127.0.0.1");
        rd.extend_from_slice(&[0, 22]);
        assert_eq!(parse_request(&rd), Ok(Parsed::Done(Destination::Addr("127.0.0.1:22".parse().unwrap()), rd.len())));
    }

    #[test]
    fn request_errors() {
        assert_eq!(parse_request(&[4]), Err(ParseError::Version(4)));
        assert_eq!(parse_request(&[5, 2, 0, 1]), Err(ParseError::Command(2)));
        assert_eq!(parse_request(&[5, 3, 0, 1]), Err(ParseError::Command(3)));
        assert_eq!(parse_request(&[5, 1, 1, 1]), Err(ParseError::Reserved(1)));
        assert_eq!(parse_request(&[5, 1, 0, 9]), Err(ParseError::AddressType(9)));
        assert_eq!(parse_request(&[5, 1, 0, 3, 0, 0, 80]), Err(ParseError::EmptyDomain));
        for bad in [&b"a b"[..], b"a/b", b"..", b"a..b", b"\xff\xfe", b"."] {
            let mut r = vec![5, 1, 0, 3, bad.len() as u8];
            r.extend_from_slice(bad);
            r.extend_from_slice(&[0, 80]);
            assert!(matches!(parse_request(&r), Err(ParseError::BadDomain(_))), "{bad:?}");
        }
        assert_eq!(ParseError::Command(2).reply(), Some(Reply::CommandNotSupported));
        assert_eq!(ParseError::AddressType(9).reply(), Some(Reply::AddressTypeNotSupported));
    }

    #[test]
    fn reply_bytes() {
        assert_eq!(encode_reply(Reply::NotAllowedByRuleset), [5, 2, 0, 1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(encode_reply(Reply::Succeeded)[1], 0);
    }

    #[test]
    fn method_selection_accepts_no_auth_or_none() {
        assert_eq!(encode_method_selection(true), [5, 0]);
        assert_eq!(encode_method_selection(false), [5, 0xFF]);
    }

    #[test]
    fn every_server_reply_is_ten_bytes_with_an_unspecified_bound_address() {
        for b in 0..=u8::MAX {
            let r = encode_reply(Reply::from_byte(b));
            assert_eq!(r[1], b);
            assert_eq!([r[0], r[2], r[3]], [5, 0, 1]);
            assert_eq!(&r[4..], &[0; 6]);
        }
    }
}
