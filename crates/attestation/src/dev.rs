//! The development NSM's form (`sworn-nsm`'s `DevNsm`, local mode without
//! `/dev/nsm`). Its documents have the exact AWS layout (untagged
//! COSE_Sign1, ES384, the same payload fields and limits) and a real chain,
//! but under a development root made when that NSM starts: they fail
//! [`crate::verify()`] against the AWS root with
//! [`crate::AttestationError::UntrustedRoot`] and verify only with
//! [`crate::VerifyOptions::development`] and that root.

use crate::document::AttestationDocument;

/// Prefix of every development module id: AWS's form (`i-<17 hex>-enc<16
/// hex>`, 39 characters, which Escrin's permitter requires: 24 or more) with
/// the all-zero instance id, which no EC2 instance has.
pub const DEV_MODULE_ID_PREFIX: &str = "i-00000000000000000-enc";
/// Common name of the development root: AWS's, because Escrin's permitter
/// chains issuers by common name from `aws.nitro-enclaves` (its signatures
/// are unchecked on development chains). The key is our own, made when the
/// NSM starts, so [`crate::verify()`] refuses the chain all the same.
pub const DEV_ROOT_COMMON_NAME: &str = "aws.nitro-enclaves";
/// Organization of the development root and leaf: what says, to a reader of
/// the certificate, that it is not AWS's.
pub const DEV_ORGANIZATION: &str = "Sworn development NSM (not AWS, not attested)";
/// How many PCRs a development document lists; AWS documents list PCR0..PCR15.
pub const DOCUMENT_PCRS: u16 = 16;

/// True when the document says it comes from the development NSM (its
/// module id). This is a label, not a proof: only verification against the
/// AWS root says a document is real.
pub fn is_development_document(document: &AttestationDocument) -> bool {
    document.module_id.starts_with(DEV_MODULE_ID_PREFIX)
}
