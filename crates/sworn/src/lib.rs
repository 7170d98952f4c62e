//! The verifying client of Sworn: talk to a runner only over a connection
//! that provably ends inside an enclave running the measured image.
//!
//! The runner terminates TLS with an *attested certificate*: its key was
//! born in the enclave and the certificate carries the NSM attestation
//! document whose `public_key` is that key ([`sworn_atls`]). Every
//! connection this crate opens checks, **inside the TLS handshake** and
//! before any request is sent:
//!
//! - the document's chain and signature against the pinned AWS Nitro root
//!   (or, with [`Policy::emulator`], accepts QEMU's and the development
//!   NSM's documents while reporting that nothing was authenticated),
//! - the PCRs against a measurements file,
//! - that the document binds the certificate's key (and rustls checks that
//!   the server holds it), under the TLS binding tag,
//! - the certificate's validity.
//!
//! Host names are not checked: the document, not a DNS name, is the
//! server's identity. Session resumption is off, so no connection skips
//! the check. [`AttestedConnection::fresh_attestation`] additionally asks
//! for a document with the caller's nonce over the same connection, which
//! proves the enclave is live now (not a recording of an old handshake's
//! document).
//!
//! # Modules
//!
//! - [`connection`]: [`Client`], [`AttestedStream`], [`AttestedConnection`] (HTTP/1.1).
//! - [`api`]: the management API (deploy, list, logs, delete).
//! - [`credentials`]: the local file of owner credentials.
//! - [`proxy`]: `sworn connect`, a local plain-HTTP endpoint relaying over verified connections.
//! - [`report`]: what `sworn attest` prints.
//! - [`target`], [`tls`], [`error`]: the runner URL, TLS configuration, errors.
//!
//! # Example
//!
//! ```no_run
//! use sworn::{Client, Options, Policy};
//! use sworn_attestation::Measurements;
//!
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let pcrs = Measurements::image_from_file("enclave/measurements.json")?;
//! // Policy::aws for production; Policy::emulator also accepts unsigned
//! // (QEMU) and development documents, and says nothing was authenticated.
//! let mut conn = Client::connect("https://runner.example:8443", Options::new(Policy::aws(Some(pcrs)))).await?;
//! println!("enclave key sha256:{}", sworn::report::key_fingerprint(&conn.verified().public_key));
//!
//! // Optional: prove freshness with a nonce of our own.
//! let nonce = sworn::connection::random_nonce()?;
//! let fresh = conn.fresh_attestation(&nonce).await?;
//! assert!(fresh.verified.authenticated());
//!
//! // Plain HTTP/1.1 over the verified connection.
//! let health = conn.get("/health").await?;
//! println!("{} {}", health.status, String::from_utf8_lossy(&health.body));
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]

pub mod api;
pub mod connection;
pub mod credentials;
pub mod error;
pub mod proxy;
pub mod report;
pub mod target;
pub mod tls;

pub use connection::{AttestedConnection, AttestedStream, Client, FreshAttestation, HttpResponse, Options};
pub use error::Error;
pub use sworn_atls::{DocumentKind, Policy, Verified, VerifyError};
pub use target::Target;
pub use tls::ClientCert;
