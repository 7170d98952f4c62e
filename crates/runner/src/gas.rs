//! The gas account: the secp256k1 key that pays for Smart Workers'
//! on-chain calls (Escrin's `acquire-identity`). By default it is born in
//! the enclave when the runner first starts: no API returns the secret and
//! nothing logs it; the operator learns only its address
//! (`GET /gas-account`, `/health`) and funds that. With `--state-dir` it is
//! kept there (in the image a tmpfs, enclave memory only), so a runner
//! restart keeps the address the operator funded; it dies with the
//! enclave.
//!
//! Escrin's runner reads a `GAS_KEY` from its environment instead. Sworn
//! takes one too, for local runs that move over from Escrin, and says so
//! (`origin: "environment"`): in an image the environment is measured and
//! packed into the EIF, where anyone holding the file reads it, so a key
//! given that way is not born in the enclave.

use serde_json::{json, Value};
use sworn_eth::{Address, EphemeralAccount};
use zeroize::Zeroizing;

use crate::state::{Journal, StateError};

/// Where the key came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GasOrigin {
    /// Made in this enclave (or restored from its state directory).
    Enclave,
    /// Escrin's `GAS_KEY` variable.
    Environment,
}

#[derive(Debug, thiserror::Error)]
pub enum GasError {
    #[error("GAS_KEY must be 0x followed by 64 hex digits of a secp256k1 secret key")]
    BadEnvironmentKey,
    #[error("making the gas key: {0}")]
    Generate(sworn_eth::AccountError),
    #[error(transparent)]
    State(#[from] StateError),
}

/// The runner's gas account.
pub struct GasAccount {
    account: EphemeralAccount,
    origin: GasOrigin,
}

impl std::fmt::Debug for GasAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GasAccount")
            .field("address", &self.address().to_checksum())
            .field("origin", &self.origin)
            .finish()
    }
}

impl GasAccount {
    /// The key from `env_key` (Escrin's `GAS_KEY`) when given; else the one
    /// kept in `journal`; else a new one, kept there when there is one. A
    /// kept key that cannot be read is reported, set aside and replaced.
    pub fn load_or_create(journal: Option<&Journal>, env_key: Option<&str>) -> Result<GasAccount, GasError> {
        if let Some(text) = env_key {
            let account = parse_secret(text).ok_or(GasError::BadEnvironmentKey)?;
            return Ok(GasAccount { account, origin: GasOrigin::Environment });
        }
        if let Some(journal) = journal {
            match journal.read_gas_key() {
                Ok(Some(account)) => return Ok(GasAccount { account, origin: GasOrigin::Enclave }),
                Ok(None) => {}
                Err(e) => {
                    tracing::error!("state: the kept gas key is unusable ({e}); it is set aside and a new one made");
                    journal.set_gas_key_aside()?;
                }
            }
        }
        let account = EphemeralAccount::generate().map_err(GasError::Generate)?;
        if let Some(journal) = journal {
            journal.write_gas_key(&account)?;
        }
        Ok(GasAccount { account, origin: GasOrigin::Enclave })
    }

    pub fn address(&self) -> Address {
        self.account.address()
    }

    pub fn origin(&self) -> GasOrigin {
        self.origin
    }

    /// `GET /gas-account`: the address to fund and where the key came from.
    pub fn to_json(&self) -> Value {
        let origin = match self.origin {
            GasOrigin::Enclave => "enclave",
            GasOrigin::Environment => "environment",
        };
        json!({ "address": self.address().to_checksum(), "origin": origin })
    }
}

/// `0x` and 64 hex digits of a valid secret key.
fn parse_secret(text: &str) -> Option<EphemeralAccount> {
    let digits = text.trim().strip_prefix("0x")?;
    if digits.len() != 64 {
        return None;
    }
    let mut secret = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(digits, secret.as_mut()).ok()?;
    EphemeralAccount::from_secret_bytes(&secret).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_keys_must_be_0x_and_64_hex_digits_of_a_valid_scalar() {
        // The well-known first Hardhat account.
        let key = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
        let gas = GasAccount::load_or_create(None, Some(key)).unwrap();
        assert_eq!(gas.address().to_checksum(), "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
        assert_eq!(gas.to_json()["origin"], "environment");
        for bad in ["", "0x", &key[2..], &key[..65], &format!("{key}00"), &format!("0x{}", "0".repeat(64))] {
            assert!(matches!(GasAccount::load_or_create(None, Some(bad)), Err(GasError::BadEnvironmentKey)), "{bad}");
        }
    }

    #[test]
    fn without_a_journal_each_start_makes_a_new_key_and_debug_shows_only_the_address() {
        let a = GasAccount::load_or_create(None, None).unwrap();
        let b = GasAccount::load_or_create(None, None).unwrap();
        assert_ne!(a.address(), b.address());
        assert_eq!(a.origin(), GasOrigin::Enclave);
        let shown = format!("{a:?}");
        assert!(shown.contains(&a.address().to_checksum()) && !shown.contains("secret"), "{shown}");
    }
}
