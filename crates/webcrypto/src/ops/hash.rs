//! SHA digests and HMAC.

use hmac::{Hmac, Mac};
use sha2::Digest;

use super::with_hash;
use crate::algorithm::HashAlg;

pub(crate) fn digest(alg: HashAlg, data: &[u8]) -> Vec<u8> {
    with_hash!(alg, H => H::digest(data).to_vec())
}

pub(crate) fn hmac_sign(alg: HashAlg, key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail.
    with_hash!(alg, H => match <Hmac<H> as Mac>::new_from_slice(key) {
        Ok(mut m) => {
            m.update(data);
            m.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    })
}

/// Constant-time comparison of the full MAC; a shorter or longer `sig` is false.
pub(crate) fn hmac_verify(alg: HashAlg, key: &[u8], data: &[u8], sig: &[u8]) -> bool {
    with_hash!(alg, H => match <Hmac<H> as Mac>::new_from_slice(key) {
        Ok(mut m) => {
            m.update(data);
            m.verify_slice(sig).is_ok()
        }
        Err(_) => false,
    })
}
