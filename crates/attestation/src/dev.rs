//! The development NSM's form (`sworn-nsm`'s `DevNsm`, local mode without
//! `/dev/nsm`). Its documents have the exact AWS layout (untagged
//! COSE_Sign1, ES384, the same payload fields and limits) and a real chain,
//! but under a development root made when that NSM starts: they fail
//! [`crate::verify()`] against the AWS root with
//! [`crate::AttestationError::UntrustedRoot`] and verify only with
//! [`crate::VerifyOptions::development`] and that root.

use crate::document::AttestationDocument;

/// Prefix of every development module id.
pub const DEV_MODULE_ID_PREFIX: &str = "dev-";
/// Common name of the development root: deliberately not `aws.nitro-enclaves`.
pub const DEV_ROOT_COMMON_NAME: &str = "sworn development NSM root (not AWS)";
/// How many PCRs a development document lists; AWS documents list PCR0..PCR15.
pub const DOCUMENT_PCRS: u16 = 16;

/// True when the document says it comes from the development NSM (its
/// module id). This is a label, not a proof: only verification against the
/// AWS root says a document is real.
pub fn is_development_document(document: &AttestationDocument) -> bool {
    document.module_id.starts_with(DEV_MODULE_ID_PREFIX)
}
