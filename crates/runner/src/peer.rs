//! What the runner knows about the client of a connection, from its
//! transport alone: whether the bytes were protected by TLS that ends in
//! this process, and whether the client proved itself an operator with a
//! certificate under `--operator-ca`. The management rules (owners,
//! operators, what plain HTTP may reach) decide on this and nothing the
//! client says in a header.

use std::net::IpAddr;

/// How a connection reached the runner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// Plain HTTP: the host (and anyone on the path) reads and can forge it.
    Plain,
    /// TLS terminated by the runner. `operator` is true when the client
    /// presented a certificate that chains to `--operator-ca`.
    Tls { operator: bool },
}

/// The client side of one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    pub transport: Transport,
    /// From a PROXY header under `--proxy-protocol`; never from the client's headers.
    pub client_ip: Option<IpAddr>,
}

impl Peer {
    /// A plain connection (the only kind before TLS was set up).
    pub fn plain(client_ip: Option<IpAddr>) -> Peer {
        Peer { transport: Transport::Plain, client_ip }
    }

    pub fn is_tls(&self) -> bool {
        matches!(self.transport, Transport::Tls { .. })
    }

    pub fn is_operator(&self) -> bool {
        matches!(self.transport, Transport::Tls { operator: true })
    }
}
