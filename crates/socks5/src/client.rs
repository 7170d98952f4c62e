//! The client half: what egress sends (greeting and CONNECT request) and
//! what it parses (the server's method selection and reply).
//!
//! Host names go to the proxy as domain-name addresses (ATYP 3), as given:
//! the enclave never resolves names itself, so the host cannot steer it with
//! DNS answers, and the proxy's policy sees the name the worker asked for.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::{
    Destination, Error, Parsed, Reply, ATYP_DOMAIN, ATYP_IPV4, ATYP_IPV6, CMD_CONNECT, MAX_DOMAIN, MAX_REPLY,
    METHOD_NONE_ACCEPTABLE, METHOD_NO_AUTH, METHOD_SELECTION_LEN, VERSION,
};

/// The greeting: SOCKS 5, one method offered, no authentication.
pub fn encode_greeting() -> [u8; 3] {
    [VERSION, 1, METHOD_NO_AUTH]
}

/// Encodes a CONNECT request for `dest`. A domain name must be 1..=255 bytes.
pub fn encode_request(dest: &Destination) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(4 + 1 + MAX_DOMAIN + 2);
    out.extend_from_slice(&[VERSION, CMD_CONNECT, 0x00]);
    match dest {
        Destination::Domain(name, _) => {
            let len = u8::try_from(name.len()).map_err(|_| Error::DomainTooLong(name.len()))?;
            if len == 0 {
                return Err(Error::EmptyDomain);
            }
            out.push(ATYP_DOMAIN);
            out.push(len);
            out.extend_from_slice(name.as_bytes());
        }
        Destination::Addr(SocketAddr::V4(a)) => {
            out.push(ATYP_IPV4);
            out.extend_from_slice(&a.ip().octets());
        }
        Destination::Addr(SocketAddr::V6(a)) => {
            out.push(ATYP_IPV6);
            out.extend_from_slice(&a.ip().octets());
        }
    }
    out.extend_from_slice(&dest.port().to_be_bytes());
    Ok(out)
}

/// The greeting and the request in one buffer. Sent together they save a
/// round trip, and every RFC 1928 server reads them in order.
pub fn encode_connect(dest: &Destination) -> Result<Vec<u8>, Error> {
    let request = encode_request(dest)?;
    let mut out = Vec::with_capacity(3 + request.len());
    out.extend_from_slice(&encode_greeting());
    out.extend_from_slice(&request);
    Ok(out)
}

/// Parses the server's method selection (VER METHOD). Only no-auth, the one
/// method offered, is a success.
pub fn parse_method_selection(buf: &[u8]) -> Result<Parsed<()>, Error> {
    let Some(&ver) = buf.first() else {
        return Ok(Parsed::Incomplete);
    };
    if ver != VERSION {
        return Err(Error::Version(ver));
    }
    match buf.get(1) {
        None => Ok(Parsed::Incomplete),
        Some(&METHOD_NO_AUTH) => Ok(Parsed::Done((), METHOD_SELECTION_LEN)),
        Some(&METHOD_NONE_ACCEPTABLE) => Err(Error::NoAcceptableMethod),
        Some(&other) => Err(Error::UnofferedMethod(other)),
    }
}

/// Parses the server's reply to CONNECT (VER REP RSV ATYP BND.ADDR
/// BND.PORT); on success gives the bound address. A failure code is
/// [`Error::Refused`] as soon as REP is there. RSV is not checked, and a
/// bound domain name is taken as sent (lossily decoded, not validated):
/// the client has no use for it.
pub fn parse_reply(buf: &[u8]) -> Result<Parsed<Destination>, Error> {
    let Some(&ver) = buf.first() else {
        return Ok(Parsed::Incomplete);
    };
    if ver != VERSION {
        return Err(Error::Version(ver));
    }
    let Some(&rep) = buf.get(1) else {
        return Ok(Parsed::Incomplete);
    };
    if rep != Reply::Succeeded.as_byte() {
        return Err(Error::Refused(Reply::from_byte(rep)));
    }
    let Some(&atyp) = buf.get(3) else {
        return Ok(Parsed::Incomplete);
    };
    let Some(len) = reply_len(atyp, buf)? else {
        return Ok(Parsed::Incomplete);
    };
    let Some(msg) = buf.get(..len) else {
        return Ok(Parsed::Incomplete);
    };
    let (addr, port) = msg[4..].split_at(len - 4 - 2);
    let port = u16::from_be_bytes([port[0], port[1]]);
    let bound = match (atyp, addr.len()) {
        (ATYP_IPV4, 4) => {
            Destination::Addr(SocketAddr::new(IpAddr::V4(Ipv4Addr::new(addr[0], addr[1], addr[2], addr[3])), port))
        }
        (ATYP_IPV6, 16) => {
            let mut o = [0u8; 16];
            o.copy_from_slice(addr);
            Destination::Addr(SocketAddr::new(IpAddr::V6(Ipv6Addr::from(o)), port))
        }
        // ATYP_DOMAIN: the length byte, then the name.
        _ => Destination::Domain(String::from_utf8_lossy(addr.get(1..).unwrap_or_default()).into_owned(), port),
    };
    Ok(Parsed::Done(bound, len))
}

/// The whole reply's length once ATYP (and for a domain, its length byte)
/// has arrived: `Ok(None)` while it is not known yet.
fn reply_len(atyp: u8, buf: &[u8]) -> Result<Option<usize>, Error> {
    match atyp {
        ATYP_IPV4 => Ok(Some(4 + 4 + 2)),
        ATYP_IPV6 => Ok(Some(4 + 16 + 2)),
        ATYP_DOMAIN => Ok(buf.get(4).map(|&n| 4 + 1 + usize::from(n) + 2)),
        other => Err(Error::AddressType(other)),
    }
}

/// How many bytes of a reply to read at least, given the `buf` received so
/// far, without reading past its end: a driver that reads exactly this many
/// never takes bytes of the relayed stream. Always more than `buf.len()`
/// while [`parse_reply`] answers [`Parsed::Incomplete`], never above
/// [`MAX_REPLY`].
pub fn reply_bytes_needed(buf: &[u8]) -> usize {
    let known = match buf.get(3) {
        None => 4,
        Some(&atyp) => match reply_len(atyp, buf) {
            Ok(Some(len)) => len,
            // A domain's length byte is next.
            Ok(None) => 5,
            Err(_) => buf.len(),
        },
    };
    known.clamp(buf.len().min(MAX_REPLY), MAX_REPLY)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server;

    fn addr(s: &str) -> Destination {
        Destination::Addr(s.parse().unwrap())
    }

    #[test]
    fn greeting_offers_only_no_auth() {
        assert_eq!(encode_greeting(), [5, 1, 0]);
    }

    #[test]
    fn domain_names_are_sent_as_given() {
        let sent = encode_connect(&Destination::Domain("Example.com".into(), 443)).unwrap();
        let mut expected = vec![5, 1, 0, 5, 1, 0, 3, 11];
        expected.extend_from_slice(b"Example.com");
        expected.extend_from_slice(&[0x01, 0xBB]);
        assert_eq!(sent, expected);
    }

    #[test]
    fn addresses_are_sent_by_family() {
        assert_eq!(encode_request(&addr("10.1.2.3:80")).unwrap(), [5, 1, 0, 1, 10, 1, 2, 3, 0, 80]);
        let v6 = encode_request(&addr("[::1]:443")).unwrap();
        assert_eq!(v6[3], ATYP_IPV6);
        assert_eq!(v6.len(), 4 + 16 + 2);
        assert_eq!(&v6[4..20], &Ipv6Addr::LOCALHOST.octets());
    }

    #[test]
    fn domain_names_outside_1_to_255_bytes_are_refused() {
        assert_eq!(encode_request(&Destination::Domain(String::new(), 1)), Err(Error::EmptyDomain));
        assert_eq!(encode_request(&Destination::Domain("a".repeat(256), 1)), Err(Error::DomainTooLong(256)));
        assert!(encode_request(&Destination::Domain("a".repeat(255), 1)).is_ok());
    }

    #[test]
    fn method_selection_accepts_only_no_auth() {
        assert_eq!(parse_method_selection(&[]), Ok(Parsed::Incomplete));
        assert_eq!(parse_method_selection(&[5]), Ok(Parsed::Incomplete));
        assert_eq!(parse_method_selection(&[5, 0, 5, 0]), Ok(Parsed::Done((), 2)));
        assert_eq!(parse_method_selection(&[5, 0xFF]), Err(Error::NoAcceptableMethod));
        assert_eq!(parse_method_selection(&[5, 2]), Err(Error::UnofferedMethod(2)));
        assert_eq!(parse_method_selection(&[4, 0]), Err(Error::Version(4)));
    }

    #[test]
    fn reply_gives_the_bound_address_and_its_length() {
        let ok4 = [5, 0, 0, 1, 10, 0, 0, 1, 0x1F, 0x90, 0xAA];
        for cut in 0..10 {
            assert_eq!(parse_reply(&ok4[..cut]), Ok(Parsed::Incomplete), "cut {cut}");
        }
        assert_eq!(parse_reply(&ok4), Ok(Parsed::Done(addr("10.0.0.1:8080"), 10)));
        let mut ok6 = vec![5, 0, 0, 4];
        ok6.extend_from_slice(&Ipv6Addr::LOCALHOST.octets());
        ok6.extend_from_slice(&[0, 80]);
        assert_eq!(parse_reply(&ok6), Ok(Parsed::Done(addr("[::1]:80"), 22)));
        let okd = [5, 0, 0, 3, 3, b'a', b'.', b'b', 0, 80];
        assert_eq!(parse_reply(&okd), Ok(Parsed::Done(Destination::Domain("a.b".into(), 80), 10)));
    }

    #[test]
    fn failure_codes_are_refusals_once_rep_arrives() {
        assert_eq!(parse_reply(&[5, 2]), Err(Error::Refused(Reply::NotAllowedByRuleset)));
        assert_eq!(parse_reply(&[5, 5, 0, 9]), Err(Error::Refused(Reply::ConnectionRefused)));
        assert_eq!(parse_reply(&[5, 0x42]), Err(Error::Refused(Reply::Unassigned(0x42))));
    }

    #[test]
    fn malformed_replies_are_errors() {
        assert_eq!(parse_reply(&[4, 0]), Err(Error::Version(4)));
        assert_eq!(parse_reply(&[5, 0, 0, 9]), Err(Error::AddressType(9)));
    }

    #[test]
    fn reply_bytes_needed_never_overshoots_the_reply() {
        let mut ok6 = vec![5, 0, 0, 4];
        ok6.extend_from_slice(&[0; 18]);
        let okd = [5, 0, 0, 3, 3, b'a', b'.', b'b', 0, 80];
        for reply in [&server::encode_reply(Reply::Succeeded)[..], &ok6, &okd] {
            let mut have = 0;
            while let Ok(Parsed::Incomplete) = parse_reply(&reply[..have]) {
                let want = reply_bytes_needed(&reply[..have]);
                assert!(want > have && want <= reply.len(), "{reply:?} at {have}: {want}");
                have = want;
            }
            assert_eq!(parse_reply(&reply[..have]).map(|p| matches!(p, Parsed::Done(_, n) if n == have)), Ok(true));
        }
    }

    #[test]
    fn client_request_round_trips_through_the_server() {
        let dests = [
            addr("93.184.216.34:443"),
            addr("[2001:db8::1]:80"),
            Destination::Domain("example.com".into(), 8080),
            Destination::Domain(format!("{}.example", "a".repeat(63)), 1),
        ];
        for dest in dests {
            let bytes = encode_connect(&dest).unwrap();
            let Ok(Parsed::Done(true, n)) = server::parse_greeting(&bytes) else {
                panic!("greeting of {dest} not accepted");
            };
            assert_eq!(server::parse_request(&bytes[n..]), Ok(Parsed::Done(dest.clone(), bytes.len() - n)));
        }
    }

    #[test]
    fn server_answers_round_trip_to_the_client() {
        assert_eq!(parse_method_selection(&server::encode_method_selection(true)), Ok(Parsed::Done((), 2)));
        assert_eq!(parse_method_selection(&server::encode_method_selection(false)), Err(Error::NoAcceptableMethod));
        assert_eq!(parse_reply(&server::encode_reply(Reply::Succeeded)), Ok(Parsed::Done(addr("0.0.0.0:0"), 10)));
        for b in 1..=u8::MAX {
            let reply = Reply::from_byte(b);
            assert_eq!(parse_reply(&server::encode_reply(reply)), Err(Error::Refused(reply)));
        }
    }

    #[test]
    fn server_errors_with_a_reply_reach_the_client_as_that_refusal() {
        for req in [&[5u8, 2, 0, 1][..], &[5, 1, 0, 9], &[5, 1, 0, 3, 0, 0, 80]] {
            let err = server::parse_request(req).unwrap_err();
            let reply = err.reply().unwrap();
            assert_eq!(parse_reply(&server::encode_reply(reply)), Err(Error::Refused(reply)));
        }
    }
}
