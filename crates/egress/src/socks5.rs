//! SOCKS5 CONNECT client (RFC 1928), no authentication.
//!
//! Host names go to the proxy as domain-name addresses (ATYP 3): the
//! enclave never resolves names itself, so the host cannot steer it with
//! DNS answers, and the proxy's policy sees the name the worker asked for.

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

const VERSION: u8 = 0x05;
const METHOD_NO_AUTH: u8 = 0x00;
const METHOD_NONE_ACCEPTABLE: u8 = 0xFF;
const CMD_CONNECT: u8 = 0x01;
const ATYP_IPV4: u8 = 0x01;
const ATYP_DOMAIN: u8 = 0x03;
const ATYP_IPV6: u8 = 0x04;

/// Where the proxy should connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetHost {
    Domain(String),
    Ipv4(Ipv4Addr),
    Ipv6(Ipv6Addr),
}

impl fmt::Display for TargetHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetHost::Domain(d) => f.write_str(d),
            TargetHost::Ipv4(a) => write!(f, "{a}"),
            TargetHost::Ipv6(a) => write!(f, "[{a}]"),
        }
    }
}

/// The proxy's reply codes (RFC 1928 section 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyCode {
    GeneralFailure,
    NotAllowedByRuleset,
    NetworkUnreachable,
    HostUnreachable,
    ConnectionRefused,
    TtlExpired,
    CommandNotSupported,
    AddressTypeNotSupported,
    Unassigned(u8),
}

impl ReplyCode {
    pub fn from_byte(b: u8) -> Self {
        match b {
            0x01 => ReplyCode::GeneralFailure,
            0x02 => ReplyCode::NotAllowedByRuleset,
            0x03 => ReplyCode::NetworkUnreachable,
            0x04 => ReplyCode::HostUnreachable,
            0x05 => ReplyCode::ConnectionRefused,
            0x06 => ReplyCode::TtlExpired,
            0x07 => ReplyCode::CommandNotSupported,
            0x08 => ReplyCode::AddressTypeNotSupported,
            other => ReplyCode::Unassigned(other),
        }
    }

    pub fn as_byte(self) -> u8 {
        match self {
            ReplyCode::GeneralFailure => 0x01,
            ReplyCode::NotAllowedByRuleset => 0x02,
            ReplyCode::NetworkUnreachable => 0x03,
            ReplyCode::HostUnreachable => 0x04,
            ReplyCode::ConnectionRefused => 0x05,
            ReplyCode::TtlExpired => 0x06,
            ReplyCode::CommandNotSupported => 0x07,
            ReplyCode::AddressTypeNotSupported => 0x08,
            ReplyCode::Unassigned(b) => b,
        }
    }

    /// RFC 1928's wording.
    pub fn description(self) -> &'static str {
        match self {
            ReplyCode::GeneralFailure => "general SOCKS server failure",
            ReplyCode::NotAllowedByRuleset => "connection not allowed by the proxy's ruleset",
            ReplyCode::NetworkUnreachable => "network unreachable",
            ReplyCode::HostUnreachable => "host unreachable",
            ReplyCode::ConnectionRefused => "connection refused",
            ReplyCode::TtlExpired => "TTL expired",
            ReplyCode::CommandNotSupported => "command not supported",
            ReplyCode::AddressTypeNotSupported => "address type not supported",
            ReplyCode::Unassigned(_) => "unassigned reply code",
        }
    }
}

impl fmt::Display for ReplyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (0x{:02x})", self.description(), self.as_byte())
    }
}

/// A failed SOCKS5 handshake.
#[derive(Debug, thiserror::Error)]
pub enum SocksError {
    #[error("SOCKS5 proxy refused CONNECT to {target}: {code}")]
    Refused { target: String, code: ReplyCode },
    #[error("SOCKS5 proxy offers no method we accept (we offer only 'no authentication')")]
    NoAcceptableMethod,
    #[error("SOCKS5 proxy sent a malformed reply: {0}")]
    Protocol(&'static str),
    #[error("SOCKS5 host name is {0} bytes; at most 255 fit")]
    HostTooLong(usize),
    #[error("SOCKS5 proxy connection: {0}")]
    Io(#[from] io::Error),
}

/// Runs the CONNECT handshake on `stream`; afterwards the stream carries
/// bytes to and from `host:port`.
pub async fn connect<S>(stream: &mut S, host: &TargetHost, port: u16) -> Result<(), SocksError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut request = Vec::with_capacity(3 + 4 + 256 + 2);
    // Greeting and request go out together: one round trip less, and every
    // RFC 1928 server reads them in order.
    request.extend_from_slice(&[VERSION, 1, METHOD_NO_AUTH]);
    request.extend_from_slice(&[VERSION, CMD_CONNECT, 0x00]);
    match host {
        TargetHost::Domain(name) => {
            let len = u8::try_from(name.len()).map_err(|_| SocksError::HostTooLong(name.len()))?;
            if len == 0 {
                return Err(SocksError::HostTooLong(0));
            }
            request.push(ATYP_DOMAIN);
            request.push(len);
            request.extend_from_slice(name.as_bytes());
        }
        TargetHost::Ipv4(a) => {
            request.push(ATYP_IPV4);
            request.extend_from_slice(&a.octets());
        }
        TargetHost::Ipv6(a) => {
            request.push(ATYP_IPV6);
            request.extend_from_slice(&a.octets());
        }
    }
    request.extend_from_slice(&port.to_be_bytes());
    stream.write_all(&request).await?;
    stream.flush().await?;

    let mut choice = [0u8; 2];
    read_exact(stream, &mut choice).await?;
    if choice[0] != VERSION {
        return Err(SocksError::Protocol("method selection is not SOCKS version 5"));
    }
    match choice[1] {
        METHOD_NO_AUTH => {}
        METHOD_NONE_ACCEPTABLE => return Err(SocksError::NoAcceptableMethod),
        _ => return Err(SocksError::Protocol("proxy chose a method we did not offer")),
    }

    let mut head = [0u8; 4];
    read_exact(stream, &mut head).await?;
    if head[0] != VERSION {
        return Err(SocksError::Protocol("reply is not SOCKS version 5"));
    }
    if head[1] != 0x00 {
        return Err(SocksError::Refused { target: format!("{host}:{port}"), code: ReplyCode::from_byte(head[1]) });
    }
    // Skip BND.ADDR and BND.PORT; we have no use for them.
    let addr_len = match head[3] {
        ATYP_IPV4 => 4,
        ATYP_IPV6 => 16,
        ATYP_DOMAIN => {
            let mut len = [0u8; 1];
            read_exact(stream, &mut len).await?;
            usize::from(len[0])
        }
        _ => return Err(SocksError::Protocol("unknown address type in reply")),
    };
    let mut skip = [0u8; 255 + 2];
    read_exact(stream, &mut skip[..addr_len + 2]).await?;
    Ok(())
}

async fn read_exact<S: AsyncRead + Unpin>(stream: &mut S, buf: &mut [u8]) -> Result<(), SocksError> {
    match stream.read_exact(buf).await {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
            Err(SocksError::Protocol("proxy closed the connection during the handshake"))
        }
        Err(e) => Err(SocksError::Io(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::duplex;

    async fn run_against(reply: &'static [u8], host: TargetHost) -> (Result<(), SocksError>, Vec<u8>) {
        let (mut client, mut server) = duplex(1024);
        let server = tokio::spawn(async move {
            let mut got = vec![0u8; 512];
            let n = server.read(&mut got).await.unwrap();
            got.truncate(n);
            server.write_all(reply).await.unwrap();
            got
        });
        let result = connect(&mut client, &host, 443).await;
        drop(client);
        (result, server.await.unwrap())
    }

    #[tokio::test]
    async fn sends_domain_names_to_the_proxy() {
        let ok = &[5, 0, 5, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        let (res, sent) = run_against(ok, TargetHost::Domain("example.com".into())).await;
        res.unwrap();
        let mut expected = vec![5, 1, 0, 5, 1, 0, 3, 11];
        expected.extend_from_slice(b"example.com");
        expected.extend_from_slice(&[0x01, 0xBB]);
        assert_eq!(sent, expected);
        let (res, sent) = run_against(ok, TargetHost::Ipv6(Ipv6Addr::LOCALHOST)).await;
        res.unwrap();
        assert_eq!(sent[6], ATYP_IPV6);
        assert_eq!(sent.len(), 6 + 1 + 16 + 2);
    }

    #[tokio::test]
    async fn reply_codes_become_named_errors() {
        let (res, _) = run_against(&[5, 0, 5, 2, 0, 1, 0, 0, 0, 0, 0, 0], TargetHost::Domain("a.b".into())).await;
        let err = res.unwrap_err();
        assert!(matches!(err, SocksError::Refused { code: ReplyCode::NotAllowedByRuleset, .. }));
        assert_eq!(
            err.to_string(),
            "SOCKS5 proxy refused CONNECT to a.b:443: connection not allowed by the proxy's ruleset (0x02)"
        );
        let (res, _) = run_against(&[5, 0, 5, 5, 0, 1, 0, 0, 0, 0, 0, 0], TargetHost::Ipv4(Ipv4Addr::LOCALHOST)).await;
        assert!(matches!(res, Err(SocksError::Refused { code: ReplyCode::ConnectionRefused, .. })));
        let (res, _) = run_against(&[5, 0xFF], TargetHost::Domain("a.b".into())).await;
        assert!(matches!(res, Err(SocksError::NoAcceptableMethod)));
    }

    #[tokio::test]
    async fn broken_proxies_are_protocol_errors() {
        let (res, _) = run_against(&[4, 0], TargetHost::Domain("a.b".into())).await;
        assert!(matches!(res, Err(SocksError::Protocol(_))));
        let (res, _) = run_against(&[5, 0, 5, 0, 0, 9], TargetHost::Domain("a.b".into())).await;
        assert!(matches!(res, Err(SocksError::Protocol("unknown address type in reply"))));
        let (res, _) = run_against(&[5, 0, 5, 0, 0, 1, 0], TargetHost::Domain("a.b".into())).await;
        assert!(matches!(res, Err(SocksError::Protocol("proxy closed the connection during the handshake"))));
        let long = TargetHost::Domain("a".repeat(256));
        let (mut c, _s) = duplex(64);
        assert!(matches!(connect(&mut c, &long, 1).await, Err(SocksError::HostTooLong(256))));
    }
}
