//! Egress: the SOCKS5 server the enclave reaches the world through, with
//! every destination checked against the policy after resolution.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use sworn_net::{PeerAddr, Stream};
use sworn_socks5::{server, Destination, Parsed, Reply};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::limits::Permit;
use crate::metrics::Role;
use crate::relay::{relay_with_prefix, RelayError};
use crate::server::Shared;

/// Why a SOCKS5 session ended before relaying.
#[derive(Debug, thiserror::Error)]
enum HandshakeError {
    #[error("client sent malformed SOCKS5: {0}")]
    Parse(#[from] sworn_socks5::Error),
    #[error("client offers no acceptable authentication method (only no-auth is supported)")]
    NoAcceptableMethod,
    #[error("client closed during the handshake")]
    Eof,
    #[error("handshake timed out")]
    Timeout,
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// A bounded buffer for the handshake: a greeting plus a request at most.
struct HandshakeBuf {
    buf: [u8; sworn_socks5::MAX_GREETING + sworn_socks5::MAX_REQUEST],
    len: usize,
}

impl HandshakeBuf {
    async fn fill(&mut self, s: &mut Stream) -> Result<(), HandshakeError> {
        if self.len == self.buf.len() {
            // Cannot happen with the parser's bounds; refuse rather than loop.
            return Err(HandshakeError::Io(io::Error::other("handshake buffer full")));
        }
        let n = s.read(&mut self.buf[self.len..]).await?;
        if n == 0 {
            return Err(HandshakeError::Eof);
        }
        self.len += n;
        Ok(())
    }

    fn consume(&mut self, n: usize) {
        self.buf.copy_within(n..self.len, 0);
        self.len -= n;
    }
}

/// Runs the SOCKS5 negotiation; returns the destination and any bytes the
/// client sent early (optimistic data), which go to the target first.
async fn negotiate(s: &mut Stream) -> Result<(Destination, Vec<u8>), HandshakeError> {
    let mut hb = HandshakeBuf { buf: [0; sworn_socks5::MAX_GREETING + sworn_socks5::MAX_REQUEST], len: 0 };
    let no_auth = loop {
        match server::parse_greeting(&hb.buf[..hb.len])? {
            Parsed::Incomplete => hb.fill(s).await?,
            Parsed::Done(ok, used) => {
                hb.consume(used);
                break ok;
            }
        }
    };
    s.write_all(&server::encode_method_selection(no_auth)).await?;
    if !no_auth {
        return Err(HandshakeError::NoAcceptableMethod);
    }
    loop {
        match server::parse_request(&hb.buf[..hb.len]) {
            Ok(Parsed::Incomplete) => hb.fill(s).await?,
            Ok(Parsed::Done(dest, used)) => {
                hb.consume(used);
                return Ok((dest, hb.buf[..hb.len].to_vec()));
            }
            Err(e) => {
                if let Some(reply) = e.reply() {
                    let _ = s.write_all(&server::encode_reply(reply)).await;
                }
                return Err(e.into());
            }
        }
    }
}

/// Resolves, checks the policy for every address and connects to the first
/// allowed one that answers. The checked address is the one connected to:
/// no second resolution, so DNS rebinding cannot slip past the policy.
async fn open(
    dest: &Destination,
    peer: &PeerAddr,
    shared: &Shared,
    deadline: Instant,
) -> Result<TcpStream, (Reply, String)> {
    let policy = shared.policy();
    let m = &shared.metrics;
    let (name, addrs): (Option<&str>, Vec<SocketAddr>) = match dest {
        Destination::Addr(a) => (None, vec![*a]),
        Destination::Domain(d, port) => {
            if let Some(dec) = policy.check_name(d, *port) {
                m.denied(&dec.by);
                tracing::info!(%peer, dest = %dest, decision = "deny", rule = %dec.by, "egress policy decision");
                return Err((Reply::NotAllowedByRuleset, format!("denied by rule {}", dec.by)));
            }
            let lookup = tokio::time::timeout_at(deadline, tokio::net::lookup_host((d.as_str(), *port))).await;
            match lookup {
                Ok(Ok(a)) => (Some(d.as_str()), a.collect()),
                Ok(Err(e)) => {
                    m.error("resolve");
                    return Err((Reply::HostUnreachable, format!("resolving {d}: {e}")));
                }
                Err(_) => {
                    m.error("resolve");
                    return Err((Reply::HostUnreachable, format!("resolving {d}: timed out")));
                }
            }
        }
    };
    let mut denied_by: Option<String> = None;
    let mut last_err: Option<(Reply, String)> = None;
    for addr in addrs {
        let dec = policy.check(name, addr);
        tracing::info!(
            %peer,
            dest = %dest,
            address = %addr,
            decision = if dec.allowed { "allow" } else { "deny" },
            rule = %dec.by,
            "egress policy decision"
        );
        if !dec.allowed {
            denied_by.get_or_insert(dec.by);
            continue;
        }
        m.allowed();
        // Connect to the canonical form: a v4-mapped address is policed
        // (and dialled) as the IPv4 address it stands for.
        let target = SocketAddr::new(addr.ip().to_canonical(), addr.port());
        match tokio::time::timeout_at(deadline, TcpStream::connect(target)).await {
            Ok(Ok(s)) => {
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Ok(Err(e)) => {
                m.error("egress_connect");
                last_err = Some((Reply::for_io_error(&e), format!("connect {target}: {e}")));
            }
            Err(_) => {
                m.error("egress_connect");
                last_err = Some((Reply::HostUnreachable, format!("connect {target}: timed out")));
                break;
            }
        }
    }
    if let Some(e) = last_err {
        return Err(e);
    }
    let by = denied_by.unwrap_or_else(|| "no-address".into());
    m.denied(&by);
    Err((Reply::NotAllowedByRuleset, format!("denied by {by}")))
}

/// Serves one SOCKS5 client.
pub async fn handle(mut client: Stream, peer: PeerAddr, _permit: Permit, shared: Arc<Shared>) {
    let m = &shared.metrics;
    let _active = m.accepted(Role::Egress);
    let negotiated = match tokio::time::timeout(shared.timeouts.handshake, negotiate(&mut client)).await {
        Ok(r) => r,
        Err(_) => Err(HandshakeError::Timeout),
    };
    let (dest, early) = match negotiated {
        Ok(d) => d,
        Err(e) => {
            m.error(match e {
                HandshakeError::Timeout => "socks_handshake_timeout",
                HandshakeError::Parse(_) | HandshakeError::NoAcceptableMethod => "socks_protocol",
                HandshakeError::Eof | HandshakeError::Io(_) => "socks_io",
            });
            tracing::debug!(%peer, error = %e, "SOCKS5 handshake failed");
            return;
        }
    };
    let deadline = Instant::now() + shared.timeouts.connect;
    let mut upstream = match open(&dest, &peer, &shared, deadline).await {
        Ok(s) => s,
        Err((reply, why)) => {
            if reply == Reply::NotAllowedByRuleset {
                tracing::warn!(%peer, dest = %dest, reason = %why, "egress denied");
            } else {
                tracing::info!(%peer, dest = %dest, reason = %why, "egress failed");
            }
            let _ = client.write_all(&server::encode_reply(reply)).await;
            return;
        }
    };
    if client.write_all(&server::encode_reply(Reply::Succeeded)).await.is_err() {
        return;
    }
    // Early bytes go first, through the relay (idle timeout, counters).
    let r = relay_with_prefix(
        &mut client,
        &mut upstream,
        early,
        shared.idle(),
        &m.bytes_up[Role::Egress as usize],
        &m.bytes_down[Role::Egress as usize],
    )
    .await;
    match r {
        Ok(t) => tracing::debug!(%peer, dest = %dest, up = t.a_to_b, down = t.b_to_a, "egress closed"),
        Err(RelayError::Idle(_)) => m.error("idle_timeout"),
        Err(RelayError::Io(e)) => {
            m.error("egress_io");
            tracing::debug!(%peer, error = %e, "egress relay error");
        }
    }
}
