//! QEMU's unsigned form. QEMU's virtio-nsm (the `nitro-enclave` machine)
//! returns documents whose PCRs are real but whose `certificate`, single
//! `cabundle` entry and signature are zero bytes (64 each), under the
//! protected header `{1: -1}`. Such a document proves nothing: parsing
//! accepts it, [`crate::verify()`] refuses it unless
//! [`crate::VerifyOptions::allow_emulator`] is set, and then reports that
//! nothing was authenticated.

use crate::document::AttestationDocument;

/// `alg` QEMU's virtio-nsm writes in the protected header of its unsigned
/// documents; accepted only on documents of the unsigned form.
pub const COSE_ALG_UNSIGNED_EMULATOR: i64 = -1;
/// QEMU's protected header: `{1: -1}`.
pub const PROTECTED_UNSIGNED_EMULATOR: [u8; 3] = [0xA1, 0x01, 0x20];

/// True when the signature, the certificate and every `cabundle` entry are
/// all zero bytes, as QEMU makes them.
pub fn is_unsigned_form(signature: &[u8], document: &AttestationDocument) -> bool {
    let zero = |b: &[u8]| b.iter().all(|x| *x == 0);
    zero(signature) && zero(&document.certificate) && document.cabundle.iter().all(|c| zero(c))
}
