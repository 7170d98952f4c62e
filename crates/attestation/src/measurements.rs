//! Measurements files: the one reader and writer of the JSON `eif build`
//! writes to `OUT.eif.json` (and `enclave/measurements.json`):
//! nitro-cli's `{"Measurements": {"HashAlgorithm": "Sha384 { ... }",
//! "PCR0": "<hex>", ...}}`, plus the on-chain `PcrSelector` and the image's
//! SHA-256 (`EifSha256`) beside it. The reader also takes `nitro-cli
//! build-enclave` / `describe-eif` output and a bare object with `PCR0`...

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha3::{Digest, Keccak256};

use crate::limits::MAX_PCRS;

/// Length of a SHA-384 PCR value.
pub const PCR_LEN: usize = 48;

/// One PCR value.
pub type Pcr = [u8; PCR_LEN];

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
    /// Describes an image with PCRs 0, 1, 2 (and 8 when signed), the
    /// default selector, and file digest `sha256`.
    pub fn new(pcr0: &Pcr, pcr1: &Pcr, pcr2: &Pcr, pcr8: Option<&Pcr>, sha256: Option<[u8; 32]>) -> Self {
        let mut pcrs = BTreeMap::from([(0, *pcr0), (1, *pcr1), (2, *pcr2)]);
        if let Some(p8) = pcr8 {
            pcrs.insert(8, *p8);
        }
        MeasurementsFile {
            measurements: NitroMeasurements {
                hash_algorithm: HASH_ALGORITHM.to_owned(),
                pcr0: hex::encode(pcr0),
                pcr1: hex::encode(pcr1),
                pcr2: hex::encode(pcr2),
                pcr8: pcr8.map(hex::encode),
            },
            pcr_selector: Some(selector(&pcrs, DEFAULT_SELECTOR_MASK)),
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

/// Bit mask of the PCRs a permitter may select (0..=4 and 8).
pub const SELECTOR_MASK_ALLOWED: u16 = 0x011f;
/// The default selector: PCR0, PCR1, PCR2.
pub const DEFAULT_SELECTOR_MASK: u16 = 0x0007;
/// Order in which selected PCRs enter the hash.
const SELECTOR_ORDER: [u8; 6] = [0, 1, 2, 3, 4, 8];

/// Escrin `NitroEnclavePermitter` selector hash:
/// `keccak256(uint256(mask & 0x011f) || PCR[i] for each set bit i in 0,1,2,3,4,8)`.
/// `pcr(i)` returns the value of PCR `i`, or `None` when it is unknown
/// (then the error is that index).
pub fn selector_hash(mask: u16, pcr: impl Fn(u8) -> Option<Pcr>) -> Result<[u8; 32], u8> {
    let mask = mask & SELECTOR_MASK_ALLOWED;
    let mut h = Keccak256::new();
    let mut word = [0u8; 32];
    word[30..].copy_from_slice(&mask.to_be_bytes());
    h.update(word);
    for i in SELECTOR_ORDER {
        if mask & (1 << i) != 0 {
            h.update(pcr(i).ok_or(i)?);
        }
    }
    Ok(h.finalize().into())
}

/// The selector of `mask` over the PCRs `pcrs` (index -> value).
pub fn selector(pcrs: &BTreeMap<u16, Pcr>, mask: u16) -> PcrSelector {
    let hash = selector_hash(mask, |i| pcrs.get(&u16::from(i)).copied()).map(hex::encode).unwrap_or_default();
    PcrSelector { mask: format!("0x{mask:04x}"), hash: format!("0x{hash}") }
}

/// A measurements file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum MeasurementsError {
    #[error("measurements file {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("measurements file {path}: not JSON: {reason}")]
    Json { path: String, reason: String },
    #[error("measurements file {path}: {field}: {reason}")]
    Field { path: String, field: String, reason: String },
}

/// PCR values read from a measurements file: what a document is expected
/// to carry, and what the development NSM starts with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Measurements {
    /// PCR index (`0..32`) -> value, for every `PCRn` the file lists.
    pub pcrs: BTreeMap<u16, Pcr>,
    /// Selector given in the file, if any.
    pub selector: Option<PcrSelector>,
}

/// Name of JSON text given without a file in errors.
const TEXT_ORIGIN: &str = "(text)";

impl Measurements {
    /// Reads a measurements JSON file (ours, or nitro-cli's).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, MeasurementsError> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        let text = std::fs::read(path).map_err(|source| MeasurementsError::Read { path: shown.clone(), source })?;
        Self::from_json(&text, &shown)
    }

    /// Parses the JSON text; `origin` names it in errors. Every `PCRn` key
    /// (n in 0..32) must hold 96 hex digits (`0x` allowed); other keys of
    /// the `Measurements` object are ignored, except `HashAlgorithm`, which
    /// must name SHA-384 when present.
    pub fn from_json(text: &[u8], origin: &str) -> Result<Self, MeasurementsError> {
        let field_err = |field: &str, reason: &str| MeasurementsError::Field {
            path: origin.to_string(),
            field: field.to_string(),
            reason: reason.to_string(),
        };
        let root: serde_json::Value = serde_json::from_slice(text)
            .map_err(|e| MeasurementsError::Json { path: origin.to_string(), reason: e.to_string() })?;
        let map = match root.get("Measurements") {
            Some(m) => m.as_object(),
            None if root.get("PCR0").is_some() => root.as_object(),
            None => None,
        }
        .ok_or_else(|| field_err("Measurements", "missing or not an object"))?;
        if let Some(alg) = map.get("HashAlgorithm") {
            let name = alg.as_str().unwrap_or_default();
            if !name.to_ascii_lowercase().contains("sha384") {
                return Err(field_err("HashAlgorithm", &format!("{alg} is not SHA-384")));
            }
        }
        let mut pcrs = BTreeMap::new();
        for (key, value) in map {
            let Some(index) = key.strip_prefix("PCR") else { continue };
            let index: u16 = index.parse().map_err(|_| field_err(key, "not a PCR index"))?;
            if index >= MAX_PCRS {
                return Err(field_err(key, "PCR index out of range 0..32"));
            }
            let hex_text = value.as_str().ok_or_else(|| field_err(key, "not a string"))?;
            let hex_text = hex_text.strip_prefix("0x").unwrap_or(hex_text);
            let bytes = hex::decode(hex_text).map_err(|e| field_err(key, &format!("not hex: {e}")))?;
            let pcr: Pcr = bytes.try_into().map_err(|_| field_err(key, "not 48 bytes (96 hex digits) of SHA-384"))?;
            pcrs.insert(index, pcr);
        }
        let selector = root.get("PcrSelector").and_then(|s| serde_json::from_value(s.clone()).ok());
        Ok(Self { pcrs, selector })
    }

    /// The expected values of an image: [`Self::from_json`], and PCR0, PCR1
    /// and PCR2 must be there.
    pub fn image_from_json(text: &str) -> Result<Self, MeasurementsError> {
        Self::from_json(text.as_bytes(), TEXT_ORIGIN)?.require_image(TEXT_ORIGIN)
    }

    /// The expected values of an image from a file ([`Self::from_file`] and
    /// [`Self::require_image`]).
    pub fn image_from_file(path: impl AsRef<Path>) -> Result<Self, MeasurementsError> {
        let path = path.as_ref();
        Self::from_file(path)?.require_image(&path.display().to_string())
    }

    /// Errs unless PCR0, PCR1 and PCR2 are listed (every image has them).
    pub fn require_image(self, origin: &str) -> Result<Self, MeasurementsError> {
        for i in 0..3u16 {
            if !self.pcrs.contains_key(&i) {
                return Err(MeasurementsError::Field {
                    path: origin.to_string(),
                    field: format!("PCR{i}"),
                    reason: "missing".into(),
                });
            }
        }
        Ok(self)
    }
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
pub fn compare(expected: &Measurements, actual: &BTreeMap<u16, Pcr>) -> Vec<Mismatch> {
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
        let actual_hash = selector_hash(mask, |i| actual.get(&u16::from(i)).copied())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> (MeasurementsFile, BTreeMap<u16, Pcr>) {
        let pcrs = BTreeMap::from([(0, [1; 48]), (1, [2; 48]), (2, [3; 48])]);
        (MeasurementsFile::new(&pcrs[&0], &pcrs[&1], &pcrs[&2], None, Some([1; 32])), pcrs)
    }

    #[test]
    fn file_round_trips_and_matches() {
        let (f, pcrs) = file();
        let json = f.to_json();
        assert!(json.contains("\"HashAlgorithm\": \"Sha384 { ... }\""));
        assert!(json.contains("\"mask\": \"0x0007\""));
        assert!(!json.contains("PCR8"));
        let e = Measurements::image_from_json(&json).unwrap();
        assert_eq!(e.pcrs.len(), 3);
        assert!(compare(&e, &pcrs).is_empty());
        let mut other = pcrs.clone();
        other.insert(0, [9; 48]);
        other.insert(2, [9; 48]);
        let diff = compare(&e, &other);
        let fields: Vec<_> = diff.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(fields, ["PCR0", "PCR2", "PcrSelector[0x0007]"]);
    }

    #[test]
    fn the_committed_measurements_file_reads() {
        // The file `make eif` writes and `make verify` checks; a missing
        // file fails the build of this test.
        let text = include_str!("../../../enclave/measurements.json");
        let m = Measurements::image_from_json(text).unwrap();
        assert_eq!(m.pcrs.len(), 3);
        assert_eq!(m.selector.as_ref().map(|s| s.mask.as_str()), Some("0x0007"));
        assert!(compare(&m, &m.pcrs).is_empty(), "the committed selector hash matches its PCRs");
        let again: MeasurementsFile = serde_json::from_str(text).unwrap();
        let f = MeasurementsFile::new(&m.pcrs[&0], &m.pcrs[&1], &m.pcrs[&2], None, None);
        assert_eq!(again.pcr_selector, f.pcr_selector);
    }

    #[test]
    fn bad_files_name_the_field() {
        let e = |s: &str| Measurements::image_from_json(s).unwrap_err().to_string();
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

    #[test]
    fn reads_nitro_cli_shape() {
        let json = format!(
            r#"{{"Measurements": {{"HashAlgorithm": "Sha384 {{ ... }}", "PCR0": "{}", "PCR2": "{}"}}}}"#,
            "ab".repeat(48),
            "01".repeat(48)
        );
        let m = Measurements::from_json(json.as_bytes(), "m.json").unwrap();
        assert_eq!(m.pcrs.len(), 2);
        assert_eq!(m.pcrs[&0], [0xab; 48]);
        assert_eq!(m.pcrs[&2], [0x01; 48]);
    }

    #[test]
    fn errors_name_the_field() {
        let err = Measurements::from_json(br#"{"Measurements": {"PCR1": "abcd"}}"#, "m.json").unwrap_err();
        assert_eq!(err.to_string(), "measurements file m.json: PCR1: not 48 bytes (96 hex digits) of SHA-384");
        let err = Measurements::from_json(br#"{"Measurements": {"PCR99": "00"}}"#, "m.json").unwrap_err();
        assert!(err.to_string().contains("PCR99"));
        assert!(Measurements::from_json(b"{}", "m.json").unwrap_err().to_string().contains("Measurements"));
        assert!(matches!(Measurements::from_file("/nonexistent/m.json"), Err(MeasurementsError::Read { .. })));
    }
}
