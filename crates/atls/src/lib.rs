//! Attested TLS: the one copy of how a Sworn enclave proves, inside the TLS
//! handshake, that the key it handshakes with was born in an enclave
//! running the measured image.
//!
//! # The certificate
//!
//! The runner generates an ECDSA P-256 key pair inside the enclave
//! ([`EnclaveKey::generate`], entropy from the NSM mixed with the kernel's),
//! asks the NSM for a document with
//!
//! - `public_key` = the DER SubjectPublicKeyInfo of that key,
//! - `user_data` = [`sworn_attestation::binding::TLS_KEY_USER_DATA`] (a tag
//!   no worker and no HTTP client can get into a document, so a document
//!   made for anything else is never mistaken for a TLS binding),
//!
//! and self-signs a certificate for the key that carries the document in an
//! X.509 extension ([`extension`]: the IETF RATS Conceptual Message Wrapper
//! extension, `id-pe-cmw`, 1.3.6.1.5.5.7.1.35). The private key never
//! leaves the process; it is never written anywhere.
//!
//! # The check
//!
//! [`verify_certificate`] is everything a client needs: the document's chain
//! and signature against the AWS root, the PCRs against a measurements
//! file, `public_key` equal to the certificate's key, the tag, and the
//! certificate's validity. [`AttestedServerVerifier`] runs it inside a
//! rustls handshake, and rustls itself checks that the server holds the
//! certificate's private key (the handshake signature), so a completed
//! handshake means: this connection ends inside that enclave.
//! [`verify_fresh_document`] checks a document fetched over the connection
//! (`GET /attestation?nonce=…`) for clients that want a fresh one.
#![forbid(unsafe_code)]

pub mod extension;
mod issue;
mod verify;

pub use issue::{EnclaveKey, IssueError, CERT_COMMON_NAME};
pub use verify::{
    handshake_failure, verify_certificate, verify_fresh_document, AttestedServerVerifier, DocumentKind, Policy,
    Verified, VerifyError,
};
