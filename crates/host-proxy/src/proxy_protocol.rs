//! PROXY protocol version 2 header (haproxy's proxy-protocol.txt), sent to
//! the enclave before the client's bytes so the runner sees client
//! addresses although the connection arrives over vsock.

use std::net::SocketAddr;

use sworn_net::PeerAddr;

const SIGNATURE: [u8; 12] = *b"\r\n\r\n\0\r\nQUIT\n";
const VERSION_PROXY: u8 = 0x21;
const FAMILY_UNSPEC: u8 = 0x00;
const TCP4: u8 = 0x11;
const TCP6: u8 = 0x21;

/// Encodes the header for a connection from `source` accepted on `dest`.
/// Non-IP sources (unix, vsock clients) get the UNSPEC family: the
/// receiver then uses the connection's own addresses.
pub fn encode_v2(source: &PeerAddr, dest: &PeerAddr) -> Vec<u8> {
    let mut h = Vec::with_capacity(16 + 36);
    h.extend_from_slice(&SIGNATURE);
    h.push(VERSION_PROXY);
    match (source, dest) {
        (PeerAddr::Tcp(SocketAddr::V4(s)), PeerAddr::Tcp(SocketAddr::V4(d))) => {
            h.push(TCP4);
            h.extend_from_slice(&12u16.to_be_bytes());
            h.extend_from_slice(&s.ip().octets());
            h.extend_from_slice(&d.ip().octets());
            h.extend_from_slice(&s.port().to_be_bytes());
            h.extend_from_slice(&d.port().to_be_bytes());
        }
        (PeerAddr::Tcp(s), PeerAddr::Tcp(d)) => {
            let v6 = |a: &SocketAddr| match a {
                SocketAddr::V4(a) => a.ip().to_ipv6_mapped().octets(),
                SocketAddr::V6(a) => a.ip().octets(),
            };
            h.push(TCP6);
            h.extend_from_slice(&36u16.to_be_bytes());
            h.extend_from_slice(&v6(s));
            h.extend_from_slice(&v6(d));
            h.extend_from_slice(&s.port().to_be_bytes());
            h.extend_from_slice(&d.port().to_be_bytes());
        }
        _ => {
            h.push(FAMILY_UNSPEC);
            h.extend_from_slice(&0u16.to_be_bytes());
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_header_layout() {
        let h = encode_v2(
            &PeerAddr::Tcp("192.0.2.1:50000".parse().unwrap()),
            &PeerAddr::Tcp("10.0.0.1:1057".parse().unwrap()),
        );
        assert_eq!(&h[..12], b"\r\n\r\n\0\r\nQUIT\n");
        assert_eq!(h[12], 0x21);
        assert_eq!(h[13], 0x11);
        assert_eq!(u16::from_be_bytes([h[14], h[15]]), 12);
        assert_eq!(&h[16..20], &[192, 0, 2, 1]);
        assert_eq!(&h[20..24], &[10, 0, 0, 1]);
        assert_eq!(u16::from_be_bytes([h[24], h[25]]), 50000);
        assert_eq!(u16::from_be_bytes([h[26], h[27]]), 1057);
        assert_eq!(h.len(), 28);
    }

    #[test]
    fn ipv6_and_unspec() {
        let h = encode_v2(
            &PeerAddr::Tcp("[2001:db8::1]:1".parse().unwrap()),
            &PeerAddr::Tcp("127.0.0.1:2".parse().unwrap()),
        );
        assert_eq!((h[13], h.len()), (0x21, 16 + 36));
        let h = encode_v2(&PeerAddr::Unix(None), &PeerAddr::Unix(None));
        assert_eq!((h[13], h.len()), (0x00, 16));
    }
}
