//! Randomness from the OS (`getrandom`), with failure as an error, not a panic.

use rand_core::{OsRng, RngCore};

use crate::error::{operation, Error, Result};

/// Fills `buf` from the OS RNG.
pub(crate) fn fill(buf: &mut [u8]) -> Result<()> {
    OsRng.try_fill_bytes(buf).map_err(|e| operation(format!("OS random number generator failed: {e}")))
}

/// `crypto.getRandomValues`: at most 65536 bytes, else `QuotaExceededError`.
/// (The binding checks the typed-array kind: only integer arrays are allowed.)
pub fn get_random_values(buf: &mut [u8]) -> Result<()> {
    if buf.len() > 65536 {
        return Err(Error::QuotaExceeded(format!(
            "getRandomValues: {} bytes requested, the limit is 65536",
            buf.len()
        )));
    }
    fill(buf)
}

/// `crypto.randomUUID`: an RFC 9562 version 4 UUID, lowercase.
pub fn random_uuid() -> Result<String> {
    let mut b = [0u8; 16];
    fill(&mut b)?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_is_65536_bytes() {
        let mut ok = vec![0u8; 65536];
        get_random_values(&mut ok).unwrap();
        assert!(ok.iter().any(|&b| b != 0));
        let mut big = vec![0u8; 65537];
        assert_eq!(get_random_values(&mut big).unwrap_err().dom_name(), "QuotaExceededError");
    }

    #[test]
    fn uuid_has_version_and_variant() {
        let u = random_uuid().unwrap();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"), "{u}");
        assert_ne!(u, random_uuid().unwrap());
    }
}
