//! What the runner knows about the client of a connection, from its
//! transport alone: whether the bytes were protected by TLS that ends in
//! this process, and whether the client proved itself an operator with a
//! certificate under `--operator-ca`. The management rules (owners,
//! operators, what plain HTTP may reach) decide on this and nothing the
//! client says in a header.

use std::net::IpAddr;
use std::sync::Arc;

/// How a connection reached the runner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// Plain HTTP: the host (and anyone on the path) reads and can forge it.
    Plain,
    /// TLS terminated by the runner. `operator` is true when the client
    /// presented a certificate that chains to `--operator-ca`.
    Tls { operator: bool },
}

/// The attested certificate a TLS connection was served with: what
/// `GET /attestation` on that connection binds its document to. Shared by
/// every connection of one certificate generation (`--tls-rotate`).
#[derive(Debug, PartialEq, Eq)]
pub struct TlsKey {
    /// DER SubjectPublicKeyInfo of the certificate's (= the document's) key.
    pub public_key: Vec<u8>,
    /// SHA-256 of the DER certificate, so a client can tell which of the
    /// rotating certificates it saw.
    pub certificate_sha256: [u8; 32],
}

/// The client side of one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    pub transport: Transport,
    /// From a PROXY header under `--proxy-protocol`; never from the client's headers.
    pub client_ip: Option<IpAddr>,
    /// The certificate this connection's TLS was served with; `Some` exactly
    /// when `transport` is [`Transport::Tls`].
    pub tls_key: Option<Arc<TlsKey>>,
}

impl Peer {
    /// A plain connection.
    pub fn plain(client_ip: Option<IpAddr>) -> Peer {
        Peer { transport: Transport::Plain, client_ip, tls_key: None }
    }

    /// A connection whose TLS, terminated here, was served with `key`;
    /// `operator` as in [`Transport::Tls`].
    pub fn tls(client_ip: Option<IpAddr>, operator: bool, key: Arc<TlsKey>) -> Peer {
        Peer { transport: Transport::Tls { operator }, client_ip, tls_key: Some(key) }
    }

    pub fn is_tls(&self) -> bool {
        matches!(self.transport, Transport::Tls { .. })
    }

    pub fn is_operator(&self) -> bool {
        matches!(self.transport, Transport::Tls { operator: true })
    }
}
