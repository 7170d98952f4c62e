//! Escrin-style ephemeral Ethereum accounts.
//!
//! Each worker gets a secp256k1 key made inside the enclave at start-up; it
//! never leaves the enclave (no accessor returns the secret key) and dies
//! with the process. Its address is the last 20 bytes of
//! keccak256(uncompressed public key without the 0x04 prefix), shown with
//! the EIP-55 mixed-case checksum. A worker typically puts the address in
//! an attestation's user_data or public_key so a permitter can tie the
//! account to the attested code.
//!
//! The secret key is zeroized when the account is dropped (`k256`'s
//! [`SigningKey`] zeroizes its scalar on drop, and every copy of the raw
//! bytes made here is wiped), and [`EphemeralAccount`]'s `Debug` prints only
//! the address.

#![forbid(unsafe_code)]

use k256::ecdsa::{RecoveryId, Signature, SigningKey, VerifyingKey};
use sha3::{Digest, Keccak256};
use zeroize::{Zeroize, Zeroizing};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AccountError {
    #[error("system randomness failed: {0}")]
    Random(String),
    #[error("secret key is not a valid secp256k1 scalar")]
    InvalidKey,
    #[error("signing failed")]
    Signing,
}

/// keccak256, as Ethereum uses it.
pub fn keccak256(data: &[u8]) -> [u8; 32] {
    Keccak256::digest(data).into()
}

/// A 20-byte Ethereum address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Address(pub [u8; 20]);

impl Address {
    /// The address of a secp256k1 public key.
    pub fn from_public_key(key: &VerifyingKey) -> Self {
        let point = key.to_encoded_point(false);
        // Uncompressed SEC1 is 0x04 || X || Y; the address hashes X || Y.
        let hash = keccak256(&point.as_bytes()[1..]);
        let mut out = [0u8; 20];
        out.copy_from_slice(&hash[12..]);
        Self(out)
    }

    /// EIP-55 checksummed text, `0x`-prefixed.
    pub fn to_checksum(&self) -> String {
        let lower = hex::encode(self.0);
        let hash = keccak256(lower.as_bytes());
        let mut out = String::with_capacity(42);
        out.push_str("0x");
        for (i, c) in lower.chars().enumerate() {
            let nibble = (hash[i / 2] >> (if i % 2 == 0 { 4 } else { 0 })) & 0x0f;
            out.push(if c.is_ascii_alphabetic() && nibble >= 8 { c.to_ascii_uppercase() } else { c });
        }
        out
    }
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_checksum())
    }
}

/// A per-worker ephemeral account.
pub struct EphemeralAccount {
    key: SigningKey,
    address: Address,
}

impl std::fmt::Debug for EphemeralAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret key.
        f.debug_struct("EphemeralAccount").field("address", &self.address.to_checksum()).finish_non_exhaustive()
    }
}

impl EphemeralAccount {
    /// A fresh account from the system's randomness (inside an enclave the
    /// kernel pool is fed by the NSM's hardware RNG).
    pub fn generate() -> Result<Self, AccountError> {
        loop {
            let mut secret = Zeroizing::new([0u8; 32]);
            getrandom::fill(secret.as_mut()).map_err(|e| AccountError::Random(e.to_string()))?;
            // A random 32-byte string is a valid scalar except with
            // probability ~2^-128; retry in that case.
            if let Ok(account) = Self::from_secret_bytes(&secret) {
                return Ok(account);
            }
        }
    }

    /// An account from a known secret (tests, deterministic derivation).
    pub fn from_secret_bytes(secret: &[u8; 32]) -> Result<Self, AccountError> {
        let key = SigningKey::from_slice(secret.as_slice()).map_err(|_| AccountError::InvalidKey)?;
        let address = Address::from_public_key(key.verifying_key());
        Ok(Self { key, address })
    }

    pub fn address(&self) -> Address {
        self.address
    }

    /// The 32-byte secret scalar, for the runner's state journal only: it
    /// writes the key to enclave RAM (a tmpfs that dies with the enclave) so
    /// the account survives a restart of the runner process. The copy is
    /// wiped when dropped; nothing may log it or send it out of the enclave.
    /// [`EphemeralAccount::from_secret_bytes`] is the way back.
    pub fn secret_bytes_for_journal(&self) -> Zeroizing<[u8; 32]> {
        let mut bytes = self.key.to_bytes();
        let mut out = Zeroizing::new([0u8; 32]);
        out.copy_from_slice(&bytes);
        bytes.as_mut_slice().zeroize();
        out
    }

    /// Uncompressed SEC1 public key (65 bytes, `0x04 || X || Y`).
    pub fn public_key_uncompressed(&self) -> Vec<u8> {
        self.key.verifying_key().to_encoded_point(false).as_bytes().to_vec()
    }

    /// Signs a 32-byte digest; returns `r || s || v` with `v` in {27, 28}
    /// (Ethereum's `eth_sign` convention) and low-s normalised.
    /// Deterministic (RFC 6979); [`AccountError::Signing`] only in the
    /// negligible case that the nonce gives `r = 0` or `s = 0`.
    pub fn sign_digest(&self, digest: &[u8; 32]) -> Result<[u8; 65], AccountError> {
        let (signature, recovery): (Signature, RecoveryId) =
            self.key.sign_prehash_recoverable(digest).map_err(|_| AccountError::Signing)?;
        let mut out = [0u8; 65];
        out[..64].copy_from_slice(&signature.to_bytes());
        out[64] = 27 + recovery.to_byte();
        Ok(out)
    }

    /// EIP-191 personal message signature: keccak256("\x19Ethereum Signed
    /// Message:\n" || len || message), signed as above.
    pub fn sign_personal_message(&self, message: &[u8]) -> Result<[u8; 65], AccountError> {
        let mut data = format!("\x19Ethereum Signed Message:\n{}", message.len()).into_bytes();
        data.extend_from_slice(message);
        self.sign_digest(&keccak256(&data))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(hex_text: &str) -> [u8; 32] {
        hex::decode(hex_text).unwrap().try_into().unwrap()
    }

    #[test]
    fn known_private_keys_give_known_addresses() {
        // Private key 1: the generator point's address.
        let mut one = [0u8; 32];
        one[31] = 1;
        assert_eq!(
            EphemeralAccount::from_secret_bytes(&one).unwrap().address().to_checksum(),
            "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"
        );
        // The web3.js accounts documentation example.
        let acct = EphemeralAccount::from_secret_bytes(&secret(
            "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318",
        ))
        .unwrap();
        assert_eq!(acct.address().to_checksum(), "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23");
        assert_eq!(
            hex::encode(*acct.secret_bytes_for_journal()),
            "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
        );
    }

    #[test]
    fn eip55_test_vectors() {
        for expected in [
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
            "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
            "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
        ] {
            let bytes: [u8; 20] = hex::decode(expected[2..].to_lowercase()).unwrap().try_into().unwrap();
            assert_eq!(Address(bytes).to_checksum(), expected);
        }
    }

    #[test]
    fn keccak256_of_empty_input() {
        assert_eq!(hex::encode(keccak256(b"")), "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    }

    #[test]
    fn signatures_recover_to_the_address() {
        let acct = EphemeralAccount::generate().unwrap();
        let digest = keccak256(b"sworn");
        let sig = acct.sign_digest(&digest).unwrap();
        let signature = Signature::from_slice(&sig[..64]).unwrap();
        let recovery = RecoveryId::from_byte(sig[64] - 27).unwrap();
        let key = VerifyingKey::recover_from_prehash(&digest, &signature, recovery).unwrap();
        assert_eq!(Address::from_public_key(&key), acct.address());
        assert_ne!(EphemeralAccount::generate().unwrap().address(), acct.address());
        assert!(!format!("{acct:?}").contains("key:"));
        assert_eq!(EphemeralAccount::from_secret_bytes(&[0; 32]).unwrap_err(), AccountError::InvalidKey);
    }
}

#[cfg(test)]
mod known_answers {
    use super::*;

    /// The web3.js accounts documentation key.
    const WEB3_KEY: &str = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";

    fn web3_account() -> EphemeralAccount {
        let secret: [u8; 32] = hex::decode(WEB3_KEY).unwrap().try_into().unwrap();
        EphemeralAccount::from_secret_bytes(&secret).unwrap()
    }

    #[test]
    fn web3_key_gives_its_address_and_public_key() {
        let acct = web3_account();
        assert_eq!(acct.address().to_checksum(), "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23");
        assert_eq!(acct.address().to_string(), "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23");
        assert_eq!(
            hex::encode(acct.public_key_uncompressed()),
            "044e3b81af9c2234cad09d679ce6035ed1392347ce64ce405f5dcd36228a25de6e\
             47fd35c4215d1edf53e6f83de344615ce719bdb0fd878f6ed76f06dd277956de"
        );
    }

    #[test]
    fn personal_message_signature_matches_web3() {
        // web3.eth.accounts.sign("Some data", WEB3_KEY).signature, from the
        // web3.js documentation; also what k256 0.14 gave before the move.
        assert_eq!(
            hex::encode(web3_account().sign_personal_message(b"Some data").unwrap()),
            "b91467e570a6466aa9e9876cbcd013baba02900b8979d43fe208a4a4f339f5fd\
             6007e74cd82e037b800186422fc2da167c747ef045e5d18a5f5d4300f8e1a029\
             1c"
        );
    }

    #[test]
    fn digest_signature_is_the_one_k256_0_14_gave() {
        // Recorded with the previous implementation (nsm::eth on k256 0.14):
        // RFC 6979 signatures are deterministic, so the move changes nothing.
        assert_eq!(
            hex::encode(web3_account().sign_digest(&keccak256(b"sworn")).unwrap()),
            "a6973878efbfa4e38bd0c98064a6c29e4fe7374e439ca3262e8fc585c7a0f413\
             7d7a2d8be10ef85c0c562922b63c4ed2192ac38a064c8844e3370531a1dbde8e\
             1c"
        );
    }

    #[test]
    fn signatures_are_low_s() {
        let acct = web3_account();
        for i in 0u8..32 {
            let sig = acct.sign_digest(&keccak256(&[i])).unwrap();
            let signature = Signature::from_slice(&sig[..64]).unwrap();
            assert!(signature.normalize_s().is_none(), "high s for input {i}");
        }
    }

    #[test]
    fn secret_key_is_zeroized_on_drop_and_never_printed() {
        fn zeroize_on_drop<T: zeroize::ZeroizeOnDrop>() {}
        zeroize_on_drop::<SigningKey>();
        let acct = web3_account();
        let debug = format!("{acct:?}");
        assert!(!debug.contains(WEB3_KEY), "{debug}");
        assert!(!debug.to_lowercase().contains("4c0883a6"), "{debug}");
        assert!(debug.contains("0x2c7536E3605D9C16a7a3D7b1898e529396a65c23"), "{debug}");
    }
}
