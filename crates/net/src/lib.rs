//! Addressing and async sockets shared by Sworn's host proxy and runner.
//!
//! One textual [`Endpoint`] syntax names every transport a Sworn component
//! may listen on or connect to:
//!
//! | syntax | meaning |
//! |---|---|
//! | `vsock:CID:PORT` | AF_VSOCK; CID `-1` or `any` is `VMADDR_CID_ANY` |
//! | `tcp:HOST:PORT` | TCP; IPv6 literals in brackets: `tcp:[::1]:80` |
//! | `unix:PATH` | unix stream socket |
//! | `vhost-uds:PATH:PORT` | vsock mapped to unix sockets by vhost-device-vsock or Firecracker ("hybrid vsock") |
//!
//! For `vhost-uds`, *listening* means accepting connections the guest opens
//! to host port `PORT`, which the backend delivers on the unix socket
//! `PATH_PORT`; *connecting* means opening guest port `PORT` through the
//! backend's socket `PATH` with the `CONNECT PORT\n` / `OK ...\n` handshake.
//!
//! [`Listener`] and [`connect`] turn endpoints into tokio sockets, and
//! [`Stream`] is the one stream type for all of them (with half-close).

mod endpoint;
mod error;
mod hybrid;
mod listener;
mod stream;
mod vsock;

pub use endpoint::{Endpoint, ParseEndpointError, VMADDR_CID_ANY};
pub use error::Error;
pub use listener::{listen_backlog, Listener, FALLBACK_BACKLOG};
pub use stream::{connect, PeerAddr, Stream};
pub use vsock::VsockStream;
