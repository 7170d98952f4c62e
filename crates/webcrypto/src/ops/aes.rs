//! AES-GCM (NIST SP 800-38D), AES-CBC with PKCS#7 padding, AES-CTR, and
//! AES-KW (RFC 3394).
//!
//! GCM is composed from the `aes`, `ctr` and `ghash` crates rather than the
//! `aes-gcm` crate because WebCrypto takes IVs of any non-zero length and
//! tags of 32..=128 bits at run time, while `aes-gcm` fixes both at compile
//! time and has no 32/64-bit tags. The composition is checked against NIST
//! and Wycheproof vectors and against `aes-gcm` itself in the tests.

use aes::cipher::consts::U16;
use aes::cipher::generic_array::GenericArray;
use aes::cipher::BlockSizeUser;
use aes::cipher::{
    block_padding::Pkcs7, BlockCipher, BlockDecryptMut, BlockEncrypt, BlockEncryptMut, KeyInit, KeyIvInit, StreamCipher,
};
use ghash::universal_hash::UniversalHash;
use ghash::GHash;
use subtle::ConstantTimeEq;

use crate::error::{data, operation, Result};

/// The GCM limit on plaintext: 2^39 - 256 bits.
const GCM_MAX_PLAINTEXT: u64 = (1 << 36) - 32;

/// Dispatches on the AES key size.
macro_rules! with_aes {
    ($key:expr, $C:ident => $body:expr) => {
        match $key.len() {
            16 => {
                type $C = aes::Aes128;
                $body
            }
            24 => {
                type $C = aes::Aes192;
                $body
            }
            32 => {
                type $C = aes::Aes256;
                $body
            }
            n => Err(data(format!("AES key is {} bits; expected 128, 192 or 256", n * 8))),
        }
    };
}

struct Gcm<C> {
    cipher: C,
    h: GenericArray<u8, U16>,
    j0: GenericArray<u8, U16>,
}

impl<C> Gcm<C>
where
    C: BlockCipher + BlockEncrypt + BlockSizeUser<BlockSize = U16> + KeyInit + Clone,
{
    fn new(key: &[u8], iv: &[u8]) -> Result<Self> {
        let cipher = C::new_from_slice(key).map_err(|_| data("AES key has an invalid length"))?;
        let mut h = GenericArray::default();
        cipher.encrypt_block(&mut h);
        let mut j0 = GenericArray::default();
        if iv.len() == 12 {
            j0[..12].copy_from_slice(iv);
            j0[15] = 1;
        } else {
            let mut g = GHash::new(&h);
            g.update_padded(iv);
            let mut len_block = GenericArray::default();
            len_block[8..].copy_from_slice(&(iv.len() as u64 * 8).to_be_bytes());
            g.update(&[len_block]);
            j0 = g.finalize();
        }
        Ok(Gcm { cipher, h, j0 })
    }

    /// Full 16-byte tag over `aad` and `ciphertext`.
    fn tag(&self, aad: &[u8], ciphertext: &[u8]) -> GenericArray<u8, U16> {
        let mut g = GHash::new(&self.h);
        g.update_padded(aad);
        g.update_padded(ciphertext);
        let mut len_block = GenericArray::default();
        len_block[..8].copy_from_slice(&(aad.len() as u64 * 8).to_be_bytes());
        len_block[8..].copy_from_slice(&(ciphertext.len() as u64 * 8).to_be_bytes());
        g.update(&[len_block]);
        let mut s = g.finalize();
        let mut ek = self.j0;
        self.cipher.encrypt_block(&mut ek);
        for (a, b) in s.iter_mut().zip(ek.iter()) {
            *a ^= b;
        }
        s
    }

    /// CTR keystream starting at inc32(J0).
    fn apply_ctr(&self, key: &[u8], buf: &mut [u8]) -> Result<()>
    where
        C: BlockEncryptMut,
    {
        let mut ctr0 = self.j0;
        let c = u32::from_be_bytes([ctr0[12], ctr0[13], ctr0[14], ctr0[15]]).wrapping_add(1);
        ctr0[12..].copy_from_slice(&c.to_be_bytes());
        let mut ctr =
            ctr::Ctr32BE::<C>::new_from_slices(key, &ctr0).map_err(|_| data("AES key has an invalid length"))?;
        ctr.try_apply_keystream(buf).map_err(|_| operation("AES-GCM: data exceeds the counter space"))
    }
}

fn check_gcm_params(iv: &[u8], tag_bits: u8) -> Result<usize> {
    if iv.is_empty() {
        return Err(operation("AES-GCM: iv must not be empty"));
    }
    match tag_bits {
        32 | 64 | 96 | 104 | 112 | 120 | 128 => Ok(usize::from(tag_bits / 8)),
        t => Err(operation(format!("AES-GCM: tagLength {t} is not one of 32, 64, 96, 104, 112, 120, 128"))),
    }
}

pub(crate) fn gcm_encrypt(key: &[u8], iv: &[u8], aad: &[u8], tag_bits: u8, plaintext: &[u8]) -> Result<Vec<u8>> {
    let tag_len = check_gcm_params(iv, tag_bits)?;
    if plaintext.len() as u64 > GCM_MAX_PLAINTEXT {
        return Err(operation("AES-GCM: plaintext exceeds 2^39 - 256 bits"));
    }
    with_aes!(key, C => {
        let gcm = Gcm::<C>::new(key, iv)?;
        let mut out = Vec::with_capacity(plaintext.len() + tag_len);
        out.extend_from_slice(plaintext);
        gcm.apply_ctr(key, &mut out)?;
        let tag = gcm.tag(aad, &out);
        out.extend_from_slice(&tag[..tag_len]);
        Ok(out)
    })
}

pub(crate) fn gcm_decrypt(key: &[u8], iv: &[u8], aad: &[u8], tag_bits: u8, input: &[u8]) -> Result<Vec<u8>> {
    let tag_len = check_gcm_params(iv, tag_bits)?;
    if input.len() < tag_len {
        return Err(operation(format!(
            "AES-GCM: ciphertext of {} bytes is shorter than the {tag_len}-byte tag",
            input.len()
        )));
    }
    let (ciphertext, tag) = input.split_at(input.len() - tag_len);
    with_aes!(key, C => {
        let gcm = Gcm::<C>::new(key, iv)?;
        let expected = gcm.tag(aad, ciphertext);
        if !bool::from(expected[..tag_len].ct_eq(tag)) {
            return Err(operation("AES-GCM: authentication tag mismatch"));
        }
        let mut out = ciphertext.to_vec();
        gcm.apply_ctr(key, &mut out)?;
        Ok(out)
    })
}

fn check_cbc_iv(iv: &[u8]) -> Result<()> {
    if iv.len() != 16 {
        return Err(operation(format!("AES-CBC: iv is {} bytes; it must be 16", iv.len())));
    }
    Ok(())
}

pub(crate) fn cbc_encrypt(key: &[u8], iv: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
    check_cbc_iv(iv)?;
    with_aes!(key, C => {
        let enc = cbc::Encryptor::<C>::new_from_slices(key, iv)
            .map_err(|_| data("AES-CBC: invalid key or iv length"))?;
        Ok(enc.encrypt_padded_vec_mut::<Pkcs7>(plaintext))
    })
}

pub(crate) fn cbc_decrypt(key: &[u8], iv: &[u8], ciphertext: &[u8]) -> Result<Vec<u8>> {
    check_cbc_iv(iv)?;
    if ciphertext.is_empty() || !ciphertext.len().is_multiple_of(16) {
        return Err(operation(format!(
            "AES-CBC: ciphertext of {} bytes is not a non-zero multiple of 16",
            ciphertext.len()
        )));
    }
    with_aes!(key, C => {
        let dec = cbc::Decryptor::<C>::new_from_slices(key, iv)
            .map_err(|_| data("AES-CBC: invalid key or iv length"))?;
        dec.decrypt_padded_vec_mut::<Pkcs7>(ciphertext)
            .map_err(|_| operation("AES-CBC: bad PKCS#7 padding"))
    })
}

/// AES-CTR (NIST SP 800-38A, section 6.5) as WebCrypto defines it: the
/// rightmost `length` bits of `counter` count blocks and wrap within those
/// bits, the others stay fixed. Encrypting and decrypting are the same. A
/// message that would reuse a counter value (more blocks than 2^length) is
/// refused, as the spec requires. Hand-written over the block cipher
/// because the `ctr` crate fixes the counter width at 32, 64 or 128 bits.
pub(crate) fn ctr(key: &[u8], counter: &[u8], length: u8, input: &[u8]) -> Result<Vec<u8>> {
    let Ok(initial) = <[u8; 16]>::try_from(counter) else {
        return Err(operation(format!("AES-CTR: counter is {} bytes; it must be 16", counter.len())));
    };
    if !(1..=128).contains(&length) {
        return Err(operation(format!("AES-CTR: length is {length}; it must be 1 to 128 bits")));
    }
    let blocks = input.len().div_ceil(16) as u128;
    if length < 128 && blocks > 1u128 << length {
        return Err(operation(format!(
            "AES-CTR: {blocks} blocks need more than the 2^{length} values of a {length}-bit counter"
        )));
    }
    let mask = if length == 128 { u128::MAX } else { (1u128 << length) - 1 };
    let start = u128::from_be_bytes(initial);
    with_aes!(key, C => {
        let cipher = C::new_from_slice(key).map_err(|_| data("AES-CTR: invalid key length"))?;
        let mut out = input.to_vec();
        // Keystream in batches, so the cipher can work on several blocks at once.
        let mut stream = vec![GenericArray::<u8, U16>::default(); 64];
        for (batch, chunk) in out.chunks_mut(16 * stream.len()).enumerate() {
            let first = (batch * stream.len()) as u128;
            let n = chunk.len().div_ceil(16);
            for (i, block) in stream[..n].iter_mut().enumerate() {
                let count = (start & mask).wrapping_add(first + i as u128) & mask;
                block.copy_from_slice(&((start & !mask) | count).to_be_bytes());
            }
            cipher.encrypt_blocks(&mut stream[..n]);
            for (byte, key_byte) in chunk.iter_mut().zip(stream[..n].iter().flatten()) {
                *byte ^= key_byte;
            }
        }
        Ok(out)
    })
}

/// AES-KW (RFC 3394) wrapping of a key's bytes: at least 16 and a multiple
/// of 8, as the RFC requires (OperationError otherwise).
pub(crate) fn kw_wrap(key: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
    if plaintext.len() < 16 || !plaintext.len().is_multiple_of(8) {
        return Err(operation(format!(
            "AES-KW: the key to wrap is {} bytes; it must be at least 16 and a multiple of 8",
            plaintext.len()
        )));
    }
    with_aes!(key, C => {
        let kek = aes_kw::Kek::<C>::try_from(key).map_err(|_| data("AES-KW: invalid key length"))?;
        kek.wrap_vec(plaintext).map_err(|e| operation(format!("AES-KW: {e}")))
    })
}

/// AES-KW unwrapping; a wrong key or altered data fails the RFC's integrity
/// check (OperationError).
pub(crate) fn kw_unwrap(key: &[u8], wrapped: &[u8]) -> Result<Vec<u8>> {
    if wrapped.len() < 24 || !wrapped.len().is_multiple_of(8) {
        return Err(operation(format!(
            "AES-KW: wrapped data is {} bytes; it must be at least 24 and a multiple of 8",
            wrapped.len()
        )));
    }
    with_aes!(key, C => {
        let kek = aes_kw::Kek::<C>::try_from(key).map_err(|_| data("AES-KW: invalid key length"))?;
        kek.unwrap_vec(wrapped).map_err(|_| operation("AES-KW: the wrapped key fails its integrity check"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kw_matches_rfc_3394_and_checks_integrity() {
        // RFC 3394 4.1 (128-bit KEK, 128-bit key) and 4.6 (256-bit KEK, 256-bit key).
        let cases = [
            (
                "000102030405060708090a0b0c0d0e0f",
                "00112233445566778899aabbccddeeff",
                "1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5",
            ),
            (
                "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
                "00112233445566778899aabbccddeeff000102030405060708090a0b0c0d0e0f",
                "28c9f404c4b810f4cbccb35cfb87f8263f5786e2d80ed326cbc7f0e71a99f43bfb988b9b7a02dd21",
            ),
        ];
        for (kek, key, want) in cases {
            let (kek, key) = (hex::decode(kek).unwrap(), hex::decode(key).unwrap());
            let wrapped = kw_wrap(&kek, &key).unwrap();
            assert_eq!(hex::encode(&wrapped), want);
            assert_eq!(kw_unwrap(&kek, &wrapped).unwrap(), key);
            let mut bad = wrapped.clone();
            bad[10] ^= 1;
            assert!(kw_unwrap(&kek, &bad).unwrap_err().to_string().contains("integrity"));
        }
        let kek = [1u8; 16];
        assert!(kw_wrap(&kek, &[0u8; 8]).is_err(), "one semiblock");
        assert!(kw_wrap(&kek, &[0u8; 20]).is_err(), "not a multiple of 8");
        assert!(kw_unwrap(&kek, &[0u8; 16]).is_err());
        assert!(kw_unwrap(&kek, &[0u8; 25]).is_err());
    }

    #[test]
    fn ctr_matches_nist_sp_800_38a_f_5_1_and_is_its_own_inverse() {
        let key = hex::decode("2b7e151628aed2a6abf7158809cf4f3c").unwrap();
        let counter = hex::decode("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff").unwrap();
        let pt = hex::decode(
            "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51\
             30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710",
        )
        .unwrap();
        let want = "874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff\
                    5ae4df3edbd5d35e5b4f09020db03eab1e031dda2fbe03d1792170a0f3009cee";
        let ct = ctr(&key, &counter, 128, &pt).unwrap();
        assert_eq!(hex::encode(&ct), want);
        assert_eq!(ctr(&key, &counter, 128, &ct).unwrap(), pt);
        // The low 64 bits count: this counter does not carry into the nonce.
        assert_eq!(hex::encode(ctr(&key, &counter, 64, &pt).unwrap()), want);
    }

    #[test]
    fn ctr_wraps_within_the_counter_bits_and_refuses_reuse() {
        let key = [9u8; 16];
        let mut counter = [0xa5u8; 16];
        counter[15] = 0xff; // the 8-bit counter starts at its last value
        let pt = vec![0u8; 32];
        let ks = ctr(&key, &counter, 8, &pt).unwrap();
        // Block 2 uses counter 0x00 with the nonce unchanged, not 0xa6 00.
        let mut second = counter;
        second[15] = 0x00;
        assert_eq!(&ks[16..], &ctr(&key, &second, 8, &[0u8; 16]).unwrap()[..]);
        // 256 blocks fit an 8-bit counter, 257 would reuse one.
        assert!(ctr(&key, &counter, 8, &vec![0u8; 256 * 16]).is_ok());
        let err = ctr(&key, &counter, 8, &vec![0u8; 256 * 16 + 1]).unwrap_err();
        assert!(err.to_string().contains("257 blocks"), "{err}");
        assert!(ctr(&key, &counter, 0, b"x").is_err());
        assert!(ctr(&key, &counter, 129, b"x").is_err());
        assert!(ctr(&key, &counter[..8], 64, b"x").is_err());
        assert!(ctr(&key, &counter, 128, b"").unwrap().is_empty());
    }

    #[test]
    fn gcm_matches_aes_gcm_crate_for_96_bit_iv() {
        use aes_gcm::aead::{Aead, KeyInit as _, Payload};
        for key_len in [16usize, 32] {
            let key: Vec<u8> = (0..key_len as u8).collect();
            let iv = [7u8; 12];
            for len in [0usize, 1, 15, 16, 17, 100] {
                let pt: Vec<u8> = (0..len).map(|i| i as u8).collect();
                let ours = gcm_encrypt(&key, &iv, b"aad", 128, &pt).unwrap();
                let theirs = if key_len == 16 {
                    aes_gcm::Aes128Gcm::new_from_slice(&key)
                        .unwrap()
                        .encrypt((&iv).into(), Payload { msg: &pt, aad: b"aad" })
                        .unwrap()
                } else {
                    aes_gcm::Aes256Gcm::new_from_slice(&key)
                        .unwrap()
                        .encrypt((&iv).into(), Payload { msg: &pt, aad: b"aad" })
                        .unwrap()
                };
                assert_eq!(ours, theirs, "key {key_len} len {len}");
                assert_eq!(gcm_decrypt(&key, &iv, b"aad", 128, &ours).unwrap(), pt);
            }
        }
    }

    #[test]
    fn gcm_truncated_tags_are_prefixes_and_checked() {
        let key = [1u8; 16];
        let full = gcm_encrypt(&key, &[2; 16], b"", 128, b"hello").unwrap();
        let short = gcm_encrypt(&key, &[2; 16], b"", 32, b"hello").unwrap();
        assert_eq!(short, full[..5 + 4]);
        let mut bad = short.clone();
        bad[6] ^= 1;
        assert_eq!(gcm_decrypt(&key, &[2; 16], b"", 32, &bad).unwrap_err().dom_name(), "OperationError");
        assert_eq!(gcm_decrypt(&key, &[2; 16], b"", 32, &short).unwrap(), b"hello");
    }

    #[test]
    fn gcm_rejects_bad_params() {
        let key = [1u8; 16];
        assert_eq!(gcm_encrypt(&key, &[], b"", 128, b"x").unwrap_err().dom_name(), "OperationError");
        assert_eq!(gcm_encrypt(&key, &[0; 12], b"", 48, b"x").unwrap_err().dom_name(), "OperationError");
        assert_eq!(gcm_decrypt(&key, &[0; 12], b"", 128, &[0; 15]).unwrap_err().dom_name(), "OperationError");
    }

    #[test]
    fn cbc_rejects_bad_iv_and_lengths() {
        let key = [1u8; 16];
        assert_eq!(cbc_encrypt(&key, &[0; 15], b"x").unwrap_err().dom_name(), "OperationError");
        assert_eq!(cbc_decrypt(&key, &[0; 16], &[0; 15]).unwrap_err().dom_name(), "OperationError");
        assert_eq!(cbc_decrypt(&key, &[0; 16], &[]).unwrap_err().dom_name(), "OperationError");
        let ct = cbc_encrypt(&key, &[0; 16], b"").unwrap();
        assert_eq!(ct.len(), 16);
        assert_eq!(cbc_decrypt(&key, &[0; 16], &ct).unwrap(), b"");
        // Wrong key: padding check fails (or, rarely, garbage that happens to unpad).
        let other = cbc_decrypt(&[2u8; 16], &[0; 16], &ct);
        assert!(other.is_err() || other.unwrap() != b"x");
    }
}
