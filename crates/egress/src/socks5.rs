//! SOCKS5 CONNECT over a byte stream: the I/O around `sworn_socks5`'s client
//! half (RFC 1928, no authentication).
//!
//! Host names go to the proxy as domain-name addresses (ATYP 3): the
//! enclave never resolves names itself, so the host cannot steer it with
//! DNS answers, and the proxy's policy sees the name the worker asked for.

use std::io;

use sworn_socks5::{client, Destination, Error, Parsed, Reply, MAX_REPLY, METHOD_SELECTION_LEN};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// A failed SOCKS5 handshake.
#[derive(Debug, thiserror::Error)]
pub enum SocksError {
    #[error("SOCKS5 proxy refused CONNECT to {target}: {code}")]
    Refused { target: String, code: Reply },
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
/// bytes to and from `dest`. Reads exactly the proxy's answer, no byte of
/// what follows it.
pub async fn connect<S>(stream: &mut S, dest: &Destination) -> Result<(), SocksError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let request = client::encode_connect(dest).map_err(|e| match e {
        Error::DomainTooLong(n) => SocksError::HostTooLong(n),
        _ => SocksError::HostTooLong(0),
    })?;
    stream.write_all(&request).await?;
    stream.flush().await?;

    let mut choice = [0u8; METHOD_SELECTION_LEN];
    read_exact(stream, &mut choice).await?;
    match client::parse_method_selection(&choice) {
        Ok(_) => {}
        Err(Error::NoAcceptableMethod) => return Err(SocksError::NoAcceptableMethod),
        Err(Error::Version(_)) => return Err(SocksError::Protocol("method selection is not SOCKS version 5")),
        Err(_) => return Err(SocksError::Protocol("proxy chose a method we did not offer")),
    }

    let mut reply = [0u8; MAX_REPLY];
    let mut have = 0;
    loop {
        match client::parse_reply(&reply[..have]) {
            // BND.ADDR and BND.PORT: we have no use for them.
            Ok(Parsed::Done(_, _)) => return Ok(()),
            Ok(Parsed::Incomplete) => {
                let want = client::reply_bytes_needed(&reply[..have]);
                let Some(more) = reply.get_mut(have..want).filter(|m| !m.is_empty()) else {
                    return Err(SocksError::Protocol("reply longer than SOCKS5 allows"));
                };
                read_exact(stream, more).await?;
                have = want;
            }
            Err(Error::Refused(code)) => return Err(SocksError::Refused { target: dest.to_string(), code }),
            Err(Error::Version(_)) => return Err(SocksError::Protocol("reply is not SOCKS version 5")),
            Err(Error::AddressType(_)) => return Err(SocksError::Protocol("unknown address type in reply")),
            Err(_) => return Err(SocksError::Protocol("malformed reply")),
        }
    }
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
    use crate::ReplyCode;
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
    use sworn_socks5::ATYP_IPV6;
    use tokio::io::duplex;

    fn domain(name: &str) -> Destination {
        Destination::Domain(name.into(), 443)
    }

    fn ip(ip: impl Into<std::net::IpAddr>) -> Destination {
        Destination::Addr(SocketAddr::new(ip.into(), 443))
    }

    async fn run_against(reply: &'static [u8], dest: Destination) -> (Result<(), SocksError>, Vec<u8>) {
        let (mut client, mut server) = duplex(1024);
        let server = tokio::spawn(async move {
            let mut got = vec![0u8; 512];
            let n = server.read(&mut got).await.unwrap();
            got.truncate(n);
            server.write_all(reply).await.unwrap();
            got
        });
        let result = connect(&mut client, &dest).await;
        drop(client);
        (result, server.await.unwrap())
    }

    #[tokio::test]
    async fn sends_domain_names_to_the_proxy() {
        let ok = &[5, 0, 5, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        let (res, sent) = run_against(ok, domain("example.com")).await;
        res.unwrap();
        let mut expected = vec![5, 1, 0, 5, 1, 0, 3, 11];
        expected.extend_from_slice(b"example.com");
        expected.extend_from_slice(&[0x01, 0xBB]);
        assert_eq!(sent, expected);
        let (res, sent) = run_against(ok, ip(Ipv6Addr::LOCALHOST)).await;
        res.unwrap();
        assert_eq!(sent[6], ATYP_IPV6);
        assert_eq!(sent.len(), 6 + 1 + 16 + 2);
    }

    #[tokio::test]
    async fn reply_codes_become_named_errors() {
        let (res, _) = run_against(&[5, 0, 5, 2, 0, 1, 0, 0, 0, 0, 0, 0], domain("a.b")).await;
        let err = res.unwrap_err();
        assert!(matches!(err, SocksError::Refused { code: ReplyCode::NotAllowedByRuleset, .. }));
        assert_eq!(
            err.to_string(),
            "SOCKS5 proxy refused CONNECT to a.b:443: connection not allowed by the proxy's ruleset (0x02)"
        );
        let (res, _) = run_against(&[5, 0, 5, 5, 0, 1, 0, 0, 0, 0, 0, 0], ip(Ipv4Addr::LOCALHOST)).await;
        assert!(matches!(res, Err(SocksError::Refused { code: ReplyCode::ConnectionRefused, .. })));
        let (res, _) = run_against(&[5, 0xFF], domain("a.b")).await;
        assert!(matches!(res, Err(SocksError::NoAcceptableMethod)));
    }

    #[tokio::test]
    async fn broken_proxies_are_protocol_errors() {
        let (res, _) = run_against(&[4, 0], domain("a.b")).await;
        assert!(matches!(res, Err(SocksError::Protocol(_))));
        let (res, _) = run_against(&[5, 0, 5, 0, 0, 9], domain("a.b")).await;
        assert!(matches!(res, Err(SocksError::Protocol("unknown address type in reply"))));
        let (res, _) = run_against(&[5, 0, 5, 0, 0, 1, 0], domain("a.b")).await;
        assert!(matches!(res, Err(SocksError::Protocol("proxy closed the connection during the handshake"))));
        let long = Destination::Domain("a".repeat(256), 1);
        let (mut c, _s) = duplex(64);
        assert!(matches!(connect(&mut c, &long).await, Err(SocksError::HostTooLong(256))));
    }
}
