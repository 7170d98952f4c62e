//! What `sworn attest` prints: the checked document for people, or one
//! JSON object for programs.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::json;
use sha2::{Digest, Sha256};
use sworn_atls::{DocumentKind, Verified};

use crate::connection::FreshAttestation;
use crate::target::Target;

/// The PCRs shown by default: the image (0, 1, 2) and its signer (8).
pub const SHOWN_PCRS: [u16; 4] = [0, 1, 2, 8];

/// The result of `sworn attest`.
#[derive(Debug)]
pub struct AttestReport<'a> {
    pub target: &'a Target,
    /// The certificate's document, checked in the handshake.
    pub certificate: &'a Verified,
    pub certificate_check: Duration,
    /// The document fetched for `nonce`.
    pub fresh: &'a FreshAttestation,
    pub nonce: &'a [u8],
    /// The nonce was made here (not given with `--nonce`).
    pub random_nonce: bool,
    pub tls_version: Option<String>,
}

/// The warning for documents that authenticate nothing, or `None` for
/// authenticated ones.
pub fn unauthenticated_warning(v: &Verified) -> Option<String> {
    if v.authenticated() {
        return None;
    }
    let why = match v.kind {
        DocumentKind::Emulator => "an unsigned document of QEMU's emulated NSM",
        DocumentKind::Development => "a development-NSM document signed under a throwaway root",
        DocumentKind::Aws => "an AWS document whose chain was not verified",
    };
    Some(format!(
        "WARNING: NOT AUTHENTICATED: the runner presented {why} (--emulator); the PCRs and the key binding were \
         checked, but anyone can make such a document: nothing proves an enclave"
    ))
}

/// SHA-256 of a DER SubjectPublicKeyInfo, hex: the key's fingerprint.
pub fn key_fingerprint(spki: &[u8]) -> String {
    hex::encode(Sha256::digest(spki))
}

/// Milliseconds with three decimals.
pub fn millis(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

/// RFC 3339 of Unix milliseconds (the document's and the logs' time).
pub fn rfc3339_ms(ms: u64) -> String {
    i64::try_from(ms)
        .ok()
        .and_then(|ms| time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok())
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| format!("{ms} ms"))
}

impl AttestReport<'_> {
    /// Total CPU time of the checks: certificate + fresh document.
    pub fn check_time(&self) -> Duration {
        self.certificate_check + self.fresh.check_time
    }

    /// The human-readable report, one `label  value` line each.
    pub fn human(&self) -> String {
        let v = &self.fresh.verified;
        let d = &v.document;
        let mut out = String::new();
        let mut line = |label: &str, value: &str| {
            let _ = writeln!(out, "{label:<15} {value}");
        };
        line("runner", &self.target.to_string());
        line("authenticated", if v.authenticated() { "yes (AWS Nitro root)" } else { "NO" });
        line("document", &format!("{:?}", v.kind).to_lowercase());
        line("module id", &d.module_id);
        line("timestamp", &format!("{} ({} ms)", rfc3339_ms(d.timestamp), d.timestamp));
        for i in SHOWN_PCRS {
            let value = d.pcrs.get(&i).map_or_else(|| "(absent)".to_owned(), hex::encode);
            line(&format!("PCR{i}"), &value);
        }
        line(
            "public key",
            &format!("sha256:{} (the TLS key, {} bytes DER)", key_fingerprint(&v.public_key), v.public_key.len()),
        );
        let source = if self.random_nonce { "random" } else { "--nonce" };
        line("nonce", &format!("{} ({source}, matched)", hex::encode(self.nonce)));
        let chain: Vec<&str> = v.authentication.chain.iter().map(|c| c.subject.as_str()).collect();
        line("chain", &if chain.is_empty() { "(none: unsigned document)".to_owned() } else { chain.join(" -> ") });
        if let Some(tls) = &self.tls_version {
            line("tls", tls);
        }
        line(
            "verified in",
            &format!(
                "{} (certificate {}, fresh document {})",
                millis(self.check_time()),
                millis(self.certificate_check),
                millis(self.fresh.check_time)
            ),
        );
        out
    }

    /// One JSON object: the fresh document's check, the certificate's
    /// kind, the nonce and the timings.
    pub fn json(&self) -> serde_json::Value {
        let v = &self.fresh.verified;
        json!({
            "runner": self.target.to_string(),
            "authenticated": v.authenticated() && self.certificate.authenticated(),
            "warning": unauthenticated_warning(v),
            "nonce": hex::encode(self.nonce),
            "randomNonce": self.random_nonce,
            "publicKeySha256": key_fingerprint(&v.public_key),
            "tls": self.tls_version,
            "certificate": { "kind": self.certificate.kind, "authenticated": self.certificate.authenticated() },
            "fresh": v.to_json(),
            "timing": {
                "certificateMs": self.certificate_check.as_secs_f64() * 1e3,
                "freshDocumentMs": self.fresh.check_time.as_secs_f64() * 1e3,
                "totalMs": self.check_time().as_secs_f64() * 1e3,
            },
        })
    }
}
