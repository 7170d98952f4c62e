//! Writing v2 headers, as host-proxy sends them to the enclave.

use std::net::SocketAddr;

use crate::parse::{
    Addresses, V2_FIXED, V2_SIGNATURE, V2_TCP4, V2_TCP6, V2_UNIX_PATH, V2_UNIX_STREAM, V2_UNSPEC, V2_VERSION_PROXY,
};

/// The v2 header (command PROXY) for a connection with `addresses`.
///
/// Two IPv4 ends give the TCP4 family; any IPv6 end gives TCP6, with the
/// IPv4 end written IPv4-mapped (the reader maps it back). Unix paths that
/// fit the 108-byte fields give the UNIX family; `Unknown`, and longer
/// paths, give UNSPEC, on which the receiver uses the connection's own
/// addresses.
pub fn encode_v2(addresses: &Addresses) -> Vec<u8> {
    let mut h = Vec::with_capacity(V2_FIXED + 2 * V2_UNIX_PATH);
    h.extend_from_slice(&V2_SIGNATURE);
    h.push(V2_VERSION_PROXY);
    let mut block = |family: u8, body: &[u8]| {
        h.push(family);
        // At most 216 bytes: always fits the u16 length.
        h.extend_from_slice(&(body.len() as u16).to_be_bytes());
        h.extend_from_slice(body);
    };
    match addresses {
        Addresses::Inet { source: SocketAddr::V4(s), destination: SocketAddr::V4(d) } => {
            let mut body = Vec::with_capacity(12);
            body.extend_from_slice(&s.ip().octets());
            body.extend_from_slice(&d.ip().octets());
            body.extend_from_slice(&s.port().to_be_bytes());
            body.extend_from_slice(&d.port().to_be_bytes());
            block(V2_TCP4, &body);
        }
        Addresses::Inet { source, destination } => {
            let v6 = |a: &SocketAddr| match a {
                SocketAddr::V4(a) => a.ip().to_ipv6_mapped().octets(),
                SocketAddr::V6(a) => a.ip().octets(),
            };
            let mut body = Vec::with_capacity(36);
            body.extend_from_slice(&v6(source));
            body.extend_from_slice(&v6(destination));
            body.extend_from_slice(&source.port().to_be_bytes());
            body.extend_from_slice(&destination.port().to_be_bytes());
            block(V2_TCP6, &body);
        }
        Addresses::Unix { source, destination }
            if source.len() <= V2_UNIX_PATH && destination.len() <= V2_UNIX_PATH =>
        {
            let mut body = vec![0u8; 2 * V2_UNIX_PATH];
            body[..source.len()].copy_from_slice(source);
            body[V2_UNIX_PATH..V2_UNIX_PATH + destination.len()].copy_from_slice(destination);
            block(V2_UNIX_STREAM, &body);
        }
        Addresses::Unix { .. } | Addresses::Unknown => block(V2_UNSPEC, &[]),
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{parse, Parsed, ProxyHeader, Version};

    fn round_trip(addresses: &Addresses) -> (ProxyHeader, usize) {
        let mut wire = encode_v2(addresses);
        let header_len = wire.len();
        wire.extend_from_slice(b"GET / HTTP/1.1\r\n");
        match parse(&wire) {
            Ok(Parsed::Complete { header, consumed }) => {
                assert_eq!(consumed, header_len, "the request is left for HTTP");
                (header, consumed)
            }
            other => panic!("{addresses:?}: {other:?}"),
        }
    }

    #[test]
    fn ipv4_header_layout() {
        let a = Addresses::Inet {
            source: "192.0.2.1:50000".parse().unwrap(),
            destination: "10.0.0.1:1057".parse().unwrap(),
        };
        let h = encode_v2(&a);
        assert_eq!(&h[..12], b"\r\n\r\n\0\r\nQUIT\n");
        assert_eq!((h[12], h[13]), (0x21, 0x11));
        assert_eq!(u16::from_be_bytes([h[14], h[15]]), 12);
        assert_eq!(&h[16..20], &[192, 0, 2, 1]);
        assert_eq!(&h[20..24], &[10, 0, 0, 1]);
        assert_eq!(u16::from_be_bytes([h[24], h[25]]), 50000);
        assert_eq!(u16::from_be_bytes([h[26], h[27]]), 1057);
        assert_eq!(h.len(), 28);
    }

    #[test]
    fn what_is_written_reads_back_as_the_same_addresses() {
        let cases = [
            Addresses::Inet {
                source: "192.0.2.1:50000".parse().unwrap(),
                destination: "10.0.0.1:1057".parse().unwrap(),
            },
            Addresses::Inet {
                source: "[2001:db8::1]:1".parse().unwrap(),
                destination: "[2001:db8::2]:2".parse().unwrap(),
            },
            Addresses::Unix { source: b"/run/client.sock".to_vec(), destination: b"/run/ingress.sock".to_vec() },
            Addresses::Unknown,
        ];
        for a in cases {
            let (h, _) = round_trip(&a);
            assert_eq!((h.version, h.local, &h.addresses), (Version::V2, false, &a));
        }
    }

    #[test]
    fn mixed_families_travel_as_ipv6_and_the_client_comes_back_as_ipv4() {
        let a =
            Addresses::Inet { source: "192.0.2.7:4000".parse().unwrap(), destination: "[::1]:1057".parse().unwrap() };
        let h = encode_v2(&a);
        assert_eq!((h[13], h.len()), (0x21, 16 + 36));
        let (header, _) = round_trip(&a);
        assert_eq!(header.client_ip(), Some("192.0.2.7".parse().unwrap()));
    }

    #[test]
    fn unix_paths_too_long_for_the_field_and_unknown_ends_are_unspec() {
        let long = Addresses::Unix { source: vec![b'a'; 109], destination: b"/x".to_vec() };
        for a in [long, Addresses::Unknown] {
            let h = encode_v2(&a);
            assert_eq!((h[13], h.len()), (0x00, 16), "{a:?}");
            assert_eq!(round_trip(&a).0.client_ip(), None);
        }
    }
}
