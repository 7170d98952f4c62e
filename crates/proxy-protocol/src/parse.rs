//! Reading v1 and v2 headers: [`parse`] looks at the bytes a connection has
//! delivered so far and says whether they hold a complete header, need more
//! bytes, or are not a valid one.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The v2 signature: 12 bytes no HTTP request can start with.
pub const V2_SIGNATURE: [u8; 12] = *b"\r\n\r\n\0\r\nQUIT\n";
/// What a v1 header starts with.
pub const V1_PREFIX: &[u8] = b"PROXY ";
/// The longest v1 header, CRLF included (spec section 2.1).
pub const V1_MAX_BYTES: usize = 107;
/// The most address and TLV bytes a v2 header may carry here. The spec
/// allows 65,535; real senders use well under 300 (addresses plus a few
/// TLVs), and the bound keeps what one connection may make the runner
/// buffer before HTTP small.
pub const V2_MAX_PAYLOAD: usize = 1024;
/// The fixed part of a v2 header: signature, version/command, family, length.
pub(crate) const V2_FIXED: usize = 16;
/// v2 version 2 (high nibble) with the PROXY command (low nibble).
pub(crate) const V2_VERSION_PROXY: u8 = 0x21;
/// v2 address family and transport bytes.
pub(crate) const V2_UNSPEC: u8 = 0x00;
pub(crate) const V2_TCP4: u8 = 0x11;
pub(crate) const V2_TCP6: u8 = 0x21;
pub(crate) const V2_UNIX_STREAM: u8 = 0x31;
/// Bytes of each AF_UNIX path in a v2 address block (NUL-padded).
pub(crate) const V2_UNIX_PATH: usize = 108;

/// Why bytes are not a PROXY header the runner accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProxyHeaderError {
    #[error("connection does not start with a PROXY protocol signature")]
    BadSignature,
    #[error("PROXY v1 header is longer than {limit} bytes")]
    V1TooLong { limit: usize },
    #[error("PROXY v1 header has an invalid {field}")]
    V1Field { field: &'static str },
    #[error("PROXY v2 header has version {0}, not 2")]
    V2Version(u8),
    #[error("PROXY v2 header has unknown command {0:#x}")]
    V2Command(u8),
    #[error("PROXY v2 header has unknown address family/protocol {0:#04x}")]
    V2Family(u8),
    #[error("PROXY v2 header carries {len} address bytes, more than the limit of {limit}")]
    V2TooLong { len: usize, limit: usize },
    #[error("PROXY v2 address block of {len} bytes is too short for its family (needs {need})")]
    V2AddressTooShort { len: usize, need: usize },
}

/// Which version of the protocol a header used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V1,
    V2,
}

/// Where the proxied connection came from, as far as the header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Addresses {
    /// TCP or UDP over IPv4 or IPv6.
    Inet { source: SocketAddr, destination: SocketAddr },
    /// AF_UNIX paths (NUL-padded to 108 bytes on the wire, trimmed here).
    Unix { source: Vec<u8>, destination: Vec<u8> },
    /// v1 `UNKNOWN`, v2 `UNSPEC` or `LOCAL`: the proxy does not say; the
    /// receiver uses the connection's own addresses.
    Unknown,
}

/// A complete, valid PROXY header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyHeader {
    pub version: Version,
    /// v2 `LOCAL`: the proxy's own connection (a health check), not a
    /// client's; its addresses (if any) must be ignored.
    pub local: bool,
    pub addresses: Addresses,
}

impl ProxyHeader {
    /// The client's IP address, if the header names one. IPv4-mapped IPv6
    /// addresses (host-proxy writes them when source and destination
    /// families differ) come back as IPv4.
    pub fn client_ip(&self) -> Option<IpAddr> {
        match (&self.addresses, self.local) {
            (Addresses::Inet { source, .. }, false) => Some(source.ip().to_canonical()),
            _ => None,
        }
    }
}

/// What the bytes seen so far amount to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// A prefix of a valid header: read more.
    Incomplete,
    /// A header, and how many bytes of the input it took; the rest belongs
    /// to the application protocol.
    Complete { header: ProxyHeader, consumed: usize },
}

/// Whether `buf` starts like a PROXY header (v1 or v2): `Some(true)` once it
/// holds a whole signature, `Some(false)` once it cannot be one, `None` while
/// it is a prefix of a signature too short to tell.
pub fn detect_signature(buf: &[u8]) -> Option<bool> {
    for sig in [V1_PREFIX, &V2_SIGNATURE[..]] {
        let n = buf.len().min(sig.len());
        if buf[..n] == sig[..n] {
            return if n == sig.len() { Some(true) } else { None };
        }
    }
    Some(false)
}

/// Reads a PROXY header (v1 or v2) at the start of `buf`.
pub fn parse(buf: &[u8]) -> Result<Parsed, ProxyHeaderError> {
    match detect_signature(buf) {
        None => Ok(Parsed::Incomplete),
        Some(false) => Err(ProxyHeaderError::BadSignature),
        Some(true) if buf.starts_with(V1_PREFIX) => parse_v1(buf),
        Some(true) => parse_v2(buf),
    }
}

fn parse_v1(buf: &[u8]) -> Result<Parsed, ProxyHeaderError> {
    let window = &buf[..buf.len().min(V1_MAX_BYTES)];
    let Some(end) = window.windows(2).position(|w| w == b"\r\n") else {
        return if buf.len() >= V1_MAX_BYTES {
            Err(ProxyHeaderError::V1TooLong { limit: V1_MAX_BYTES })
        } else {
            Ok(Parsed::Incomplete)
        };
    };
    let field = |field| ProxyHeaderError::V1Field { field };
    let line = std::str::from_utf8(&buf[V1_PREFIX.len()..end]).map_err(|_| field("encoding"))?;
    let mut parts = line.split(' ');
    let addresses = match parts.next() {
        // The rest of an UNKNOWN line is to be ignored (spec 2.1).
        Some("UNKNOWN") => Addresses::Unknown,
        Some(proto @ ("TCP4" | "TCP6")) => {
            let ip = |text: Option<&str>, field_name| -> Result<IpAddr, ProxyHeaderError> {
                let text = text.ok_or(field(field_name))?;
                let ip = if proto == "TCP4" {
                    IpAddr::V4(text.parse::<Ipv4Addr>().map_err(|_| field(field_name))?)
                } else {
                    IpAddr::V6(text.parse::<Ipv6Addr>().map_err(|_| field(field_name))?)
                };
                Ok(ip)
            };
            let port = |text: Option<&str>, field_name| -> Result<u16, ProxyHeaderError> {
                let text = text.ok_or(field(field_name))?;
                // No sign, no leading zeros (spec 2.1), decimal only.
                if text.is_empty()
                    || !text.bytes().all(|b| b.is_ascii_digit())
                    || (text.len() > 1 && text.starts_with('0'))
                {
                    return Err(field(field_name));
                }
                text.parse::<u16>().map_err(|_| field(field_name))
            };
            let src = ip(parts.next(), "source address")?;
            let dst = ip(parts.next(), "destination address")?;
            let sport = port(parts.next(), "source port")?;
            let dport = port(parts.next(), "destination port")?;
            if parts.next().is_some() {
                return Err(field("field count"));
            }
            Addresses::Inet { source: SocketAddr::new(src, sport), destination: SocketAddr::new(dst, dport) }
        }
        _ => return Err(field("protocol")),
    };
    Ok(Parsed::Complete { header: ProxyHeader { version: Version::V1, local: false, addresses }, consumed: end + 2 })
}

fn parse_v2(buf: &[u8]) -> Result<Parsed, ProxyHeaderError> {
    if buf.len() < V2_FIXED {
        return Ok(Parsed::Incomplete);
    }
    let version = buf[12] >> 4;
    let command = buf[12] & 0x0f;
    let family = buf[13];
    let len = usize::from(u16::from_be_bytes([buf[14], buf[15]]));
    if version != 2 {
        return Err(ProxyHeaderError::V2Version(version));
    }
    let local = match command {
        0x0 => true,
        0x1 => false,
        other => return Err(ProxyHeaderError::V2Command(other)),
    };
    if len > V2_MAX_PAYLOAD {
        return Err(ProxyHeaderError::V2TooLong { len, limit: V2_MAX_PAYLOAD });
    }
    // Checked before the payload arrives: a bad family is refused at once.
    let need = match family {
        0x00 => 0,
        0x11 | 0x12 => 12,
        0x21 | 0x22 => 36,
        0x31 | 0x32 => 2 * V2_UNIX_PATH,
        other => return Err(ProxyHeaderError::V2Family(other)),
    };
    if len < need {
        return Err(ProxyHeaderError::V2AddressTooShort { len, need });
    }
    let Some(payload) = buf.get(V2_FIXED..V2_FIXED + len) else {
        return Ok(Parsed::Incomplete);
    };
    let be16 = |at: usize| u16::from_be_bytes([payload[at], payload[at + 1]]);
    let addresses = match family {
        0x11 | 0x12 => {
            let ip = |at: usize| Ipv4Addr::new(payload[at], payload[at + 1], payload[at + 2], payload[at + 3]);
            Addresses::Inet {
                source: SocketAddr::new(IpAddr::V4(ip(0)), be16(8)),
                destination: SocketAddr::new(IpAddr::V4(ip(4)), be16(10)),
            }
        }
        0x21 | 0x22 => {
            let ip = |at: usize| {
                let mut o = [0u8; 16];
                o.copy_from_slice(&payload[at..at + 16]);
                Ipv6Addr::from(o)
            };
            Addresses::Inet {
                source: SocketAddr::new(IpAddr::V6(ip(0)), be16(32)),
                destination: SocketAddr::new(IpAddr::V6(ip(16)), be16(34)),
            }
        }
        0x31 | 0x32 => {
            let path = |at: usize| {
                let raw = &payload[at..at + V2_UNIX_PATH];
                raw[..raw.iter().position(|&b| b == 0).unwrap_or(raw.len())].to_vec()
            };
            Addresses::Unix { source: path(0), destination: path(V2_UNIX_PATH) }
        }
        _ => Addresses::Unknown,
    };
    // LOCAL: the receiver must ignore whatever addresses came along.
    let addresses = if local { Addresses::Unknown } else { addresses };
    Ok(Parsed::Complete { header: ProxyHeader { version: Version::V2, local, addresses }, consumed: V2_FIXED + len })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete(buf: &[u8]) -> (ProxyHeader, usize) {
        match parse(buf) {
            Ok(Parsed::Complete { header, consumed }) => (header, consumed),
            other => panic!("expected a complete header, got {other:?}"),
        }
    }

    fn v2(command: u8, family: u8, payload: &[u8]) -> Vec<u8> {
        let mut h = V2_SIGNATURE.to_vec();
        h.push(0x20 | command);
        h.push(family);
        h.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        h.extend_from_slice(payload);
        h
    }

    #[test]
    fn v1_tcp4_gives_the_client_address_and_leaves_the_request() {
        let buf = b"PROXY TCP4 192.0.2.7 10.0.0.1 56324 443\r\nGET / HTTP/1.1\r\n";
        let (h, used) = complete(buf);
        assert_eq!(&buf[used..], b"GET / HTTP/1.1\r\n");
        assert_eq!(h.version, Version::V1);
        assert_eq!(h.client_ip(), Some("192.0.2.7".parse().unwrap()));
        assert_eq!(
            h.addresses,
            Addresses::Inet {
                source: "192.0.2.7:56324".parse().unwrap(),
                destination: "10.0.0.1:443".parse().unwrap()
            }
        );
    }

    #[test]
    fn v1_tcp6_gives_the_client_address() {
        let (h, _) = complete(b"PROXY TCP6 2001:db8::7 2001:db8::1 1 65535\r\n");
        assert_eq!(h.client_ip(), Some("2001:db8::7".parse().unwrap()));
    }

    #[test]
    fn v1_unknown_names_no_client_and_ignores_the_rest_of_its_line() {
        for buf in [&b"PROXY UNKNOWN\r\n"[..], b"PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n"] {
            let (h, used) = complete(buf);
            assert_eq!((h.client_ip(), &h.addresses, used), (None, &Addresses::Unknown, buf.len()));
        }
    }

    #[test]
    fn v1_with_bad_fields_is_refused_naming_the_field() {
        let cases: [(&[u8], &str); 7] = [
            (b"PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", "protocol"),
            (b"PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n", "source address"),
            (b"PROXY TCP4 1.2.3.4 ::1 1 2\r\n", "destination address"),
            (b"PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n", "source port"),
            (b"PROXY TCP4 1.2.3.4 5.6.7.8 1 02\r\n", "destination port"),
            (b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", "field count"),
            (b"PROXY TCP6 1.2.3.4 ::1 1 2\r\n", "source address"),
        ];
        for (buf, field) in cases {
            assert_eq!(parse(buf), Err(ProxyHeaderError::V1Field { field }), "{}", String::from_utf8_lossy(buf));
        }
    }

    #[test]
    fn v1_truncated_is_incomplete_and_oversized_is_refused() {
        let full = b"PROXY TCP4 192.0.2.7 10.0.0.1 56324 443\r\n";
        for n in 0..full.len() {
            assert_eq!(parse(&full[..n]), Ok(Parsed::Incomplete), "prefix of {n} bytes");
        }
        let mut long = b"PROXY UNKNOWN ".to_vec();
        long.resize(V1_MAX_BYTES, b'x');
        assert_eq!(parse(&long), Err(ProxyHeaderError::V1TooLong { limit: V1_MAX_BYTES }));
        long.truncate(V1_MAX_BYTES - 2);
        long.extend_from_slice(b"\r\n");
        assert!(matches!(parse(&long), Ok(Parsed::Complete { .. })), "107 bytes is the limit, not over it");
    }

    #[test]
    fn v2_proxy_inet4_and_inet6() {
        let mut p = vec![192, 0, 2, 7, 10, 0, 0, 1];
        p.extend_from_slice(&50000u16.to_be_bytes());
        p.extend_from_slice(&1057u16.to_be_bytes());
        let mut buf = v2(1, 0x11, &p);
        buf.extend_from_slice(b"GET /");
        let (h, used) = complete(&buf);
        assert_eq!((&buf[used..], h.version, h.local), (&b"GET /"[..], Version::V2, false));
        assert_eq!(
            h.addresses,
            Addresses::Inet {
                source: "192.0.2.7:50000".parse().unwrap(),
                destination: "10.0.0.1:1057".parse().unwrap()
            }
        );

        let src: Ipv6Addr = "2001:db8::7".parse().unwrap();
        let mut p = src.octets().to_vec();
        p.extend_from_slice(&Ipv6Addr::LOCALHOST.octets());
        p.extend_from_slice(&[0, 1, 0, 2]);
        let (h, _) = complete(&v2(1, 0x21, &p));
        assert_eq!(h.client_ip(), Some(IpAddr::V6(src)));
    }

    #[test]
    fn v2_ipv4_mapped_source_is_reported_as_ipv4() {
        let mut p = "::ffff:192.0.2.9".parse::<Ipv6Addr>().unwrap().octets().to_vec();
        p.extend_from_slice(&Ipv6Addr::LOCALHOST.octets());
        p.extend_from_slice(&[0, 1, 0, 2]);
        assert_eq!(complete(&v2(1, 0x21, &p)).0.client_ip(), Some("192.0.2.9".parse().unwrap()));
    }

    #[test]
    fn v2_unix_paths_are_trimmed_and_name_no_ip() {
        let mut p = vec![0u8; 216];
        p[..5].copy_from_slice(b"/a.sk");
        p[108..113].copy_from_slice(b"/b.sk");
        let (h, _) = complete(&v2(1, 0x31, &p));
        assert_eq!(h.addresses, Addresses::Unix { source: b"/a.sk".to_vec(), destination: b"/b.sk".to_vec() });
        assert_eq!(h.client_ip(), None);
    }

    #[test]
    fn v2_local_and_unspec_name_no_client_and_skip_tlvs() {
        let mut p = vec![1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0, 2];
        let (h, used) = complete(&v2(0, 0x11, &p));
        assert_eq!((h.local, h.client_ip(), &h.addresses, used), (true, None, &Addresses::Unknown, 28));
        p.extend_from_slice(&[0x04, 0x00, 0x01, 0xaa]); // a TLV after the addresses
        let (h, used) = complete(&v2(1, 0x00, &p));
        assert_eq!((h.addresses, used), (Addresses::Unknown, 16 + p.len()));
    }

    #[test]
    fn v2_truncated_is_incomplete() {
        let p = [192, 0, 2, 7, 10, 0, 0, 1, 0, 1, 0, 2];
        let buf = v2(1, 0x11, &p);
        for n in 0..buf.len() {
            assert_eq!(parse(&buf[..n]), Ok(Parsed::Incomplete), "prefix of {n} bytes");
        }
    }

    #[test]
    fn v2_bad_version_command_family_or_length_is_refused() {
        let mut bad_version = v2(1, 0x11, &[0; 12]);
        bad_version[12] = 0x11;
        assert_eq!(parse(&bad_version), Err(ProxyHeaderError::V2Version(1)));
        assert_eq!(parse(&v2(2, 0x11, &[0; 12])), Err(ProxyHeaderError::V2Command(2)));
        assert_eq!(parse(&v2(1, 0x41, &[])), Err(ProxyHeaderError::V2Family(0x41)));
        assert_eq!(parse(&v2(1, 0x11, &[0; 4])), Err(ProxyHeaderError::V2AddressTooShort { len: 4, need: 12 }));
        // Oversized is refused from the fixed part alone, before its payload arrives.
        let mut huge = v2(1, 0x11, &[]);
        huge[14..16].copy_from_slice(&u16::MAX.to_be_bytes());
        assert_eq!(parse(&huge), Err(ProxyHeaderError::V2TooLong { len: 65535, limit: V2_MAX_PAYLOAD }));
    }

    #[test]
    fn bad_signature_is_refused_and_http_is_told_apart_early() {
        assert_eq!(parse(b"GET / HTTP/1.1\r\n"), Err(ProxyHeaderError::BadSignature));
        assert_eq!(parse(b"PROXZ"), Err(ProxyHeaderError::BadSignature));
        assert_eq!(parse(b"\r\n\r\n\0\r\nQUIX"), Err(ProxyHeaderError::BadSignature));
        assert_eq!(detect_signature(b"PROPFIND / HTTP/1.1"), Some(false));
        assert_eq!(detect_signature(b"POST"), Some(false));
        assert_eq!(detect_signature(b"PRO"), None);
        assert_eq!(detect_signature(b"\r\n\r\n"), None);
        assert_eq!(detect_signature(b"PROXY "), Some(true));
        assert_eq!(detect_signature(&V2_SIGNATURE), Some(true));
    }
}
