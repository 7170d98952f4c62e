//! Algorithm primitives over RustCrypto. No WebCrypto policy lives here
//! (usages, extractability); `subtle` applies it.

pub(crate) mod aes;
pub(crate) mod ec;
pub(crate) mod hash;
pub(crate) mod kdf;
pub(crate) mod okp;

/// Runs `$body` with `$H` bound to the RustCrypto hash type of `$alg`.
macro_rules! with_hash {
    ($alg:expr, $H:ident => $body:expr) => {
        match $alg {
            $crate::algorithm::HashAlg::Sha1 => {
                type $H = sha1::Sha1;
                $body
            }
            $crate::algorithm::HashAlg::Sha256 => {
                type $H = sha2::Sha256;
                $body
            }
            $crate::algorithm::HashAlg::Sha384 => {
                type $H = sha2::Sha384;
                $body
            }
            $crate::algorithm::HashAlg::Sha512 => {
                type $H = sha2::Sha512;
                $body
            }
        }
    };
}
pub(crate) use with_hash;

/// Keeps the first `bits` bits of `bytes` (trailing bits of the last byte zeroed).
pub(crate) fn truncate_bits(bytes: &mut Vec<u8>, bits: usize) {
    bytes.truncate(bits.div_ceil(8));
    let rem = bits % 8;
    if rem != 0 {
        if let Some(last) = bytes.last_mut() {
            *last &= 0xffu8 << (8 - rem);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn truncate_bits_masks_trailing_bits() {
        let mut v = vec![0xff; 4];
        super::truncate_bits(&mut v, 13);
        assert_eq!(v, vec![0xff, 0xf8]);
        let mut v = vec![0xff; 4];
        super::truncate_bits(&mut v, 16);
        assert_eq!(v, vec![0xff, 0xff]);
    }
}
