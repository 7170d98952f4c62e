//! Nitro attestation documents and measurements files: the one copy.
//!
//! Used by the `eif` tool (`eif attestation verify`, `eif verify`), the NSM
//! client and the development NSM (`sworn-nsm`), the runner and the
//! end-to-end tests, so they all agree on what a document is.
//!
//! - [`cose`]: the COSE_Sign1 envelope (tagged or not) and the bytes its
//!   signature covers.
//! - [`document`]: the payload ([`AttestationDocument`]) and the parsed
//!   envelope with it ([`SignedDocument`]); every field type- and
//!   size-checked against [`limits`].
//! - [`cert`] and [`mod@verify`]: the chain `cabundle[0]` (the pinned AWS Nitro
//!   root, [`AWS_NITRO_ROOT_G1_PEM`]) -> intermediates -> leaf, validity at
//!   the document's time, and the ES384 signature.
//! - [`emulator`]: QEMU's unsigned form (zero certificates and signature),
//!   refused unless asked for.
//! - [`dev`]: the development NSM's form (a real ES384 chain under a
//!   throwaway root whose name says it is not AWS).
//! - [`measurements`]: the measurements JSON `eif build` writes (nitro-cli's
//!   shape plus `PcrSelector` and `EifSha256`): the one reader and writer.
//! - [`binding`]: the `user_data` tag of documents that bind the runner's
//!   TLS key (attested TLS, `sworn-atls`).
//! - [`cbor`]: the strict CBOR helpers the parsers (and the NSM messages of
//!   `sworn-nsm`) are built on.
//!
//! Nothing here panics on input: every malformed document is an error that
//! names the field or the limit at fault.
#![forbid(unsafe_code)]

pub mod binding;
pub mod cbor;
pub mod cert;
pub mod cose;
pub mod dev;
pub mod document;
pub mod emulator;
mod error;
pub mod limits;
pub mod measurements;
pub mod permitter;
pub mod verify;

pub use cert::{Cert, CertError};
pub use cose::{Sign1, COSE_ALG_ES384, COSE_SIGN1_TAG, PROTECTED_ES384};
pub use document::{AttestationDocument, SignedDocument};
pub use emulator::COSE_ALG_UNSIGNED_EMULATOR;
pub use error::ProtocolError;
pub use measurements::{Measurements, MeasurementsError, Mismatch, Pcr, PCR_LEN};
pub use verify::{
    check_claims, verify, AttestationError, Authentication, CertSummary, ChainCache, Expectations, VerifyOptions,
    AWS_NITRO_ROOT_G1_PEM, AWS_NITRO_ROOT_G1_SHA256,
};

/// RFC 3339 (UTC) of Unix seconds `epoch`, or the number when out of range.
pub(crate) fn rfc3339(epoch: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(epoch)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| epoch.to_string())
}
