//! PCR values from a measurements file in nitro-cli's JSON shape:
//! `{"Measurements": {"HashAlgorithm": "Sha384 { ... }", "PCR0": "<hex>", ...}}`.

use std::collections::BTreeMap;
use std::path::Path;

use crate::protocol::MAX_PCRS;

/// Length of a SHA-384 PCR.
pub const PCR_LEN: usize = 48;

/// Initial PCR values for the development NSM.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Measurements {
    pub pcrs: BTreeMap<u16, [u8; PCR_LEN]>,
}

#[derive(Debug, thiserror::Error)]
pub enum MeasurementsError {
    #[error("measurements file {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("measurements file {path}: not JSON: {reason}")]
    Json { path: String, reason: String },
    #[error("measurements file {path}: {field}: {reason}")]
    Field { path: String, field: String, reason: String },
}

impl Measurements {
    /// Reads a nitro-cli (or `eif describe`) measurements JSON file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, MeasurementsError> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        let text = std::fs::read(path).map_err(|source| MeasurementsError::Read { path: shown.clone(), source })?;
        Self::from_json(&text, &shown)
    }

    /// Parses the JSON text; `origin` names it in errors.
    pub fn from_json(text: &[u8], origin: &str) -> Result<Self, MeasurementsError> {
        let field_err = |field: &str, reason: &str| MeasurementsError::Field {
            path: origin.to_string(),
            field: field.to_string(),
            reason: reason.to_string(),
        };
        let root: serde_json::Value = serde_json::from_slice(text)
            .map_err(|e| MeasurementsError::Json { path: origin.to_string(), reason: e.to_string() })?;
        let map = root
            .get("Measurements")
            .and_then(serde_json::Value::as_object)
            .ok_or_else(|| field_err("Measurements", "missing or not an object"))?;
        let mut pcrs = BTreeMap::new();
        for (key, value) in map {
            let Some(index) = key.strip_prefix("PCR") else { continue };
            let index: u16 = index.parse().map_err(|_| field_err(key, "not a PCR index"))?;
            if index >= MAX_PCRS {
                return Err(field_err(key, "PCR index out of range 0..32"));
            }
            let hex_text = value.as_str().ok_or_else(|| field_err(key, "not a string"))?;
            let bytes = hex::decode(hex_text).map_err(|e| field_err(key, &format!("not hex: {e}")))?;
            let pcr: [u8; PCR_LEN] =
                bytes.try_into().map_err(|_| field_err(key, "not 48 bytes (96 hex digits) of SHA-384"))?;
            pcrs.insert(index, pcr);
        }
        Ok(Self { pcrs })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
