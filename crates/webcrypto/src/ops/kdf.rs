//! HKDF (RFC 5869) and PBKDF2 (RFC 8018) with HMAC-SHA-*.

use hmac::Hmac;
use zeroize::Zeroizing;

use super::with_hash;
use crate::algorithm::{HkdfParams, Pbkdf2Params};
use crate::error::{operation, Result};

pub(crate) fn hkdf(p: &HkdfParams, ikm: &[u8], len: usize) -> Result<Zeroizing<Vec<u8>>> {
    let mut out = Zeroizing::new(vec![0u8; len]);
    with_hash!(p.hash, H => hkdf::Hkdf::<H>::new(Some(&p.salt), ikm)
        .expand(&p.info, &mut out)
        .map_err(|_| operation(format!(
            "HKDF-{}: {} bits exceeds the maximum of 255 * hash length",
            p.hash.name(), len * 8
        )))?);
    Ok(out)
}

pub(crate) fn pbkdf2(p: &Pbkdf2Params, password: &[u8], len: usize) -> Result<Zeroizing<Vec<u8>>> {
    let mut out = Zeroizing::new(vec![0u8; len]);
    with_hash!(p.hash, H => pbkdf2::pbkdf2::<Hmac<H>>(password, &p.salt, p.iterations, &mut out)
        .map_err(|_| operation("PBKDF2 derivation failed"))?);
    Ok(out)
}
