//! Measurements files: nitro-cli's `{"Measurements": {...}}` shape, plus the
//! on-chain `PcrSelector` and the image's SHA-256 beside it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::pcr::{self, Pcr, Pcrs};

/// nitro-cli's `HashAlgorithm` value (the `Debug` form of sha2's hasher).
pub const HASH_ALGORITHM: &str = "Sha384 { ... }";

/// PCR values in nitro-cli's shape.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NitroMeasurements {
    #[serde(rename = "HashAlgorithm")]
    pub hash_algorithm: String,
    #[serde(rename = "PCR0")]
    pub pcr0: String,
    #[serde(rename = "PCR1")]
    pub pcr1: String,
    #[serde(rename = "PCR2")]
    pub pcr2: String,
    #[serde(rename = "PCR8", skip_serializing_if = "Option::is_none", default)]
    pub pcr8: Option<String>,
}

/// Escrin `NitroEnclavePermitter` selector.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PcrSelector {
    /// `0x`-prefixed 16-bit mask, e.g. `0x0007`.
    pub mask: String,
    /// `0x`-prefixed keccak256 hash.
    pub hash: String,
}

/// What `eif build` writes to `OUT.eif.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeasurementsFile {
    #[serde(rename = "Measurements")]
    pub measurements: NitroMeasurements,
    #[serde(rename = "PcrSelector", skip_serializing_if = "Option::is_none", default)]
    pub pcr_selector: Option<PcrSelector>,
    #[serde(rename = "EifSha256", skip_serializing_if = "Option::is_none", default)]
    pub eif_sha256: Option<String>,
}

impl MeasurementsFile {
    /// Describes an image with PCRs `pcrs` and file digest `sha256`.
    pub fn new(pcrs: &Pcrs, sha256: Option<[u8; 32]>) -> Self {
        MeasurementsFile {
            measurements: NitroMeasurements {
                hash_algorithm: HASH_ALGORITHM.to_owned(),
                pcr0: hex::encode(pcrs.pcr0),
                pcr1: hex::encode(pcrs.pcr1),
                pcr2: hex::encode(pcrs.pcr2),
                pcr8: pcrs.pcr8.map(hex::encode),
            },
            pcr_selector: Some(selector(pcrs, pcr::DEFAULT_SELECTOR_MASK)),
            eif_sha256: sha256.map(hex::encode),
        }
    }

    /// Pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }
}

/// The selector for PCRs 0, 1, 2 (0x0007), or with PCR8 when `mask` asks.
pub fn selector(pcrs: &Pcrs, mask: u16) -> PcrSelector {
    let hash = pcr::selector_hash(mask, |i| pcr_of(pcrs, i)).map(hex::encode).unwrap_or_default();
    PcrSelector { mask: format!("0x{mask:04x}"), hash: format!("0x{hash}") }
}

fn pcr_of(p: &Pcrs, i: u8) -> Option<Pcr> {
    match i {
        0 => Some(p.pcr0),
        1 => Some(p.pcr1),
        2 => Some(p.pcr2),
        8 => p.pcr8,
        _ => None,
    }
}

/// A measurements file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum MeasurementsError {
    #[error("not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("no \"Measurements\" object (nor PCR0 at the top level)")]
    NoMeasurements,
    #[error("missing field {0}")]
    Missing(&'static str),
    #[error("field {field}: expected 96 hex digits (a SHA-384 PCR), found {found:?}")]
    BadPcr { field: &'static str, found: String },
    #[error("field HashAlgorithm: {0:?} is not SHA-384")]
    HashAlgorithm(String),
}

/// Expected PCR values read from a measurements file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expected {
    /// PCR index -> value. Always holds 0, 1 and 2; 8 when the file has it.
    pub pcrs: BTreeMap<u8, Pcr>,
    /// Selector given in the file, if any.
    pub selector: Option<PcrSelector>,
}

impl Expected {
    /// Reads our `OUT.eif.json`, `nitro-cli build-enclave` output or
    /// `nitro-cli describe-eif` output (all carry a `Measurements` object),
    /// or a bare object with `PCR0`...
    pub fn from_json(text: &str) -> Result<Self, MeasurementsError> {
        let v: serde_json::Value = serde_json::from_str(text)?;
        let m = match v.get("Measurements") {
            Some(m) => m,
            None if v.get("PCR0").is_some() => &v,
            None => return Err(MeasurementsError::NoMeasurements),
        };
        if let Some(alg) = m.get("HashAlgorithm") {
            let alg = alg.as_str().unwrap_or_default();
            if !alg.to_ascii_lowercase().contains("sha384") {
                return Err(MeasurementsError::HashAlgorithm(alg.to_owned()));
            }
        }
        let mut pcrs = BTreeMap::new();
        for (i, field) in [(0u8, "PCR0"), (1, "PCR1"), (2, "PCR2"), (8, "PCR8")] {
            match m.get(field) {
                None if i == 8 => {}
                None => return Err(MeasurementsError::Missing(field)),
                Some(val) => {
                    pcrs.insert(i, parse_pcr(field, val)?);
                }
            }
        }
        let selector = v.get("PcrSelector").and_then(|s| serde_json::from_value(s.clone()).ok());
        Ok(Expected { pcrs, selector })
    }
}

fn parse_pcr(field: &'static str, v: &serde_json::Value) -> Result<Pcr, MeasurementsError> {
    let bad = || MeasurementsError::BadPcr { field, found: v.to_string().chars().take(120).collect() };
    let s = v.as_str().ok_or_else(bad)?;
    let s = s.strip_prefix("0x").unwrap_or(s);
    let mut out = [0u8; pcr::PCR_LEN];
    hex::decode_to_slice(s, &mut out).map_err(|_| bad())?;
    Ok(out)
}

/// One difference between expected and actual values.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    /// `PCR0`, `PCR8`, `PcrSelector`...
    pub field: String,
    pub expected: String,
    pub actual: String,
}

/// Compares `expected` with the `actual` PCR values (index -> value).
/// A PCR the file lists but `actual` lacks is a mismatch; PCR8 of a signed
/// image is not compared when the file does not list it.
pub fn compare(expected: &Expected, actual: &BTreeMap<u8, Pcr>) -> Vec<Mismatch> {
    let mut out = Vec::new();
    for (i, want) in &expected.pcrs {
        let got = actual.get(i);
        if got != Some(want) {
            out.push(Mismatch {
                field: format!("PCR{i}"),
                expected: hex::encode(want),
                actual: got.map(hex::encode).unwrap_or_else(|| "(absent)".to_owned()),
            });
        }
    }
    if let Some(sel) = &expected.selector {
        let mask = u16::from_str_radix(sel.mask.trim_start_matches("0x"), 16).unwrap_or(0);
        let actual_hash = pcr::selector_hash(mask, |i| actual.get(&i).copied())
            .map(|h| format!("0x{}", hex::encode(h)))
            .unwrap_or_else(|i| format!("(PCR{i} absent)"));
        if !actual_hash.eq_ignore_ascii_case(&sel.hash) {
            out.push(Mismatch {
                field: format!("PcrSelector[{}]", sel.mask),
                expected: sel.hash.clone(),
                actual: actual_hash,
            });
        }
    }
    out
}

/// PCR map of an image.
pub fn pcr_map(p: &Pcrs) -> BTreeMap<u8, Pcr> {
    let mut m = BTreeMap::from([(0, p.pcr0), (1, p.pcr1), (2, p.pcr2)]);
    if let Some(p8) = p.pcr8 {
        m.insert(8, p8);
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pcrs() -> Pcrs {
        Pcrs::compute(b"k", b"c", &[b"r0", b"r1"], None)
    }

    #[test]
    fn file_round_trips_and_matches() {
        let f = MeasurementsFile::new(&pcrs(), Some([1; 32]));
        let json = f.to_json();
        assert!(json.contains("\"HashAlgorithm\": \"Sha384 { ... }\""));
        assert!(json.contains("\"mask\": \"0x0007\""));
        assert!(!json.contains("PCR8"));
        let e = Expected::from_json(&json).unwrap();
        assert_eq!(e.pcrs.len(), 3);
        assert!(compare(&e, &pcr_map(&pcrs())).is_empty());
        let other = Pcrs::compute(b"k", b"c", &[b"r0", b"r2"], None);
        let diff = compare(&e, &pcr_map(&other));
        let fields: Vec<_> = diff.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(fields, ["PCR0", "PCR2", "PcrSelector[0x0007]"]);
    }

    #[test]
    fn bad_files_name_the_field() {
        let e = |s: &str| Expected::from_json(s).unwrap_err().to_string();
        assert!(e("{").contains("JSON"));
        assert!(e("{}").contains("Measurements"));
        assert!(e(r#"{"Measurements":{"PCR0":"00"}}"#).contains("PCR0"));
        let z = "0".repeat(96);
        assert!(e(&format!(r#"{{"Measurements":{{"PCR0":"{z}","PCR1":"{z}"}}}}"#)).contains("PCR2"));
        assert!(
            e(&format!(r#"{{"Measurements":{{"PCR0":"{z}","PCR1":"{z}","PCR2":"{z}","PCR8":7}}}}"#)).contains("PCR8")
        );
        assert!(e(&format!(
            r#"{{"Measurements":{{"HashAlgorithm":"Sha256","PCR0":"{z}","PCR1":"{z}","PCR2":"{z}"}}}}"#
        ))
        .contains("HashAlgorithm"));
    }
}
