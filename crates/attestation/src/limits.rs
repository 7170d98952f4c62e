//! The one set of limits on attestation documents.
//!
//! They follow AWS's published document specification (the "syntactical
//! validation" of the Nitro Enclaves user guide and the NSM API): where the
//! two earlier parsers of this project disagreed, the AWS value was kept.
//!
//! | field | limit | earlier |
//! |---|---|---|
//! | whole document | [`MAX_DOCUMENT_LEN`] = 0x3000 (the NSM response buffer) | 16 KiB in `eif`, 0x3000 in `nsm` |
//! | `certificate`, each `cabundle` entry | 1..=[`MAX_CERT_LEN`] = 1024 bytes (AWS) | 1024 in `eif`, 4096 in `nsm` |
//! | `cabundle` | 1..=[`MAX_CABUNDLE`] entries | 1..=16 in `eif`, 0..=16 in `nsm` |
//! | `pcrs` | 1..=[`MAX_PCRS`] entries, index `0..MAX_PCRS` (`u16`, as the NSM API numbers PCRs), 32/48/64 bytes | keys `u8` in `eif`'s PCR map, `u16` in `nsm` |
//! | `module_id` | 1..=[`MAX_MODULE_ID_LEN`] bytes | non-empty in `eif`, at most 256 in `nsm` |
//! | `digest` | exactly `"SHA384"` | checked in `eif` only |
//! | `timestamp` | positive (milliseconds) | checked in `eif` only |
//! | `public_key` | at most [`MAX_PUBLIC_KEY_LEN`] = 1024 bytes | same in both |
//! | `user_data`, `nonce` | at most [`MAX_USER_DATA_LEN`], [`MAX_NONCE_LEN`] = 512 bytes | same in both |
//! | unknown or duplicate payload keys | rejected | rejected in `nsm` only |
//! | protected header `alg` | ES384 (-35), or -1 for QEMU's unsigned form only | checked at parse time in `nsm`, at verification in `eif` |

/// Largest document accepted: the NSM answers into a 0x3000-byte buffer, so
/// no real document is larger.
pub const MAX_DOCUMENT_LEN: usize = 0x3000;
/// Largest DER certificate (`certificate` and every `cabundle` entry), as AWS
/// specifies it. Real Nitro certificates are about 500-700 bytes.
pub const MAX_CERT_LEN: usize = 1024;
/// Most `cabundle` entries accepted (AWS chains have 4).
pub const MAX_CABUNDLE: usize = 16;
/// Number of PCRs of a Nitro NSM; indices are `0..MAX_PCRS`.
pub const MAX_PCRS: u16 = 32;
/// Largest optional `public_key`.
pub const MAX_PUBLIC_KEY_LEN: usize = 1024;
/// Largest optional `user_data`.
pub const MAX_USER_DATA_LEN: usize = 512;
/// Largest optional `nonce`.
pub const MAX_NONCE_LEN: usize = 512;
/// Largest `module_id` text.
pub const MAX_MODULE_ID_LEN: usize = 256;
/// Largest serialized protected header (real ones are 4 bytes).
pub const MAX_PROTECTED_LEN: usize = 64;
/// Largest signature (ES384 is 96 bytes; QEMU writes 64 zero bytes).
pub const MAX_SIGNATURE_LEN: usize = 512;
/// The only PCR digest Nitro uses.
pub const DIGEST: &str = "SHA384";
