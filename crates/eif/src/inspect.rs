//! `eif describe` and `eif verify`: everything a reader can learn from an image.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::container::{Eif, EifError, FLAG_ARCH_AARCH64};
use crate::measurements::{self, Measurements, MeasurementsFile, Mismatch};
use crate::pcr::Pcrs;
use crate::sign::{self, SignError, SignatureReport};

/// An image could not be inspected.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    #[error(transparent)]
    Eif(#[from] EifError),
    #[error(transparent)]
    Sign(#[from] SignError),
    #[error("metadata section: not valid JSON: {0}")]
    Metadata(String),
}

/// Header fields worth showing.
#[derive(Clone, Debug, Serialize)]
pub struct HeaderInfo {
    pub version: u16,
    pub flags: u16,
    pub arch: &'static str,
    pub default_mem: u64,
    pub default_cpus: u64,
    pub num_sections: u16,
    pub crc32: String,
    pub computed_crc32: String,
    pub crc_ok: bool,
}

/// One section's place in the file.
#[derive(Clone, Debug, Serialize)]
pub struct SectionInfo {
    pub index: usize,
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Offset of the section header.
    pub offset: u64,
    /// Data size (header excluded).
    pub size: u64,
}

/// Full description of an image.
#[derive(Clone, Debug, Serialize)]
pub struct Description {
    pub file_size: u64,
    pub sha256: String,
    pub header: HeaderInfo,
    pub sections: Vec<SectionInfo>,
    pub cmdline: String,
    pub metadata: serde_json::Value,
    #[serde(flatten)]
    pub measurements: MeasurementsFile,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<SignatureReport>,
    #[serde(skip)]
    pub pcrs: Pcrs,
}

/// Describes an image held in `bytes`; `now` (Unix seconds) is used for
/// the signing certificate's validity.
pub fn describe(bytes: &[u8], now: i64) -> Result<Description, InspectError> {
    let eif = Eif::parse(bytes)?;
    let metadata: serde_json::Value =
        serde_json::from_slice(eif.metadata()).map_err(|e| InspectError::Metadata(e.to_string()))?;
    let ramdisks = eif.ramdisks();
    let mut pcrs = Pcrs::compute(eif.kernel(), eif.cmdline(), &ramdisks, None);
    let signature = match eif.signature() {
        Some(section) => {
            pcrs.pcr8 = Some(sign::section_pcr8(section)?);
            Some(sign::check_section(section, &pcrs.pcr0, now)?)
        }
        None => None,
    };
    let h = &eif.header;
    Ok(Description {
        file_size: bytes.len() as u64,
        sha256: hex::encode(Sha256::digest(bytes)),
        header: HeaderInfo {
            version: h.version,
            flags: h.flags,
            arch: if h.flags & FLAG_ARCH_AARCH64 != 0 { "aarch64" } else { "x86_64" },
            default_mem: h.default_mem,
            default_cpus: h.default_cpus,
            num_sections: h.num_sections,
            crc32: format!("{:08x}", h.crc32),
            computed_crc32: format!("{:08x}", eif.computed_crc32),
            crc_ok: eif.crc_ok(),
        },
        sections: eif
            .sections
            .iter()
            .enumerate()
            .map(|(index, s)| SectionInfo { index, kind: s.kind.name(), offset: s.offset, size: s.data.len() as u64 })
            .collect(),
        cmdline: String::from_utf8_lossy(eif.cmdline()).into_owned(),
        metadata,
        measurements: measurements::file(&pcrs, None),
        signature,
        pcrs,
    })
}

/// Outcome of `eif verify`.
#[derive(Clone, Debug, Serialize)]
pub struct Verdict {
    pub crc_ok: bool,
    /// `None` for unsigned images.
    pub signature_ok: Option<bool>,
    pub mismatches: Vec<Mismatch>,
}

impl Verdict {
    pub fn ok(&self) -> bool {
        self.crc_ok && self.signature_ok != Some(false) && self.mismatches.is_empty()
    }
}

/// Compares a described image with expected measurements.
pub fn verify(d: &Description, expected: &Measurements) -> Verdict {
    Verdict {
        crc_ok: d.header.crc_ok,
        signature_ok: d.signature.as_ref().map(SignatureReport::ok),
        mismatches: measurements::compare(expected, &measurements::pcr_map(&d.pcrs)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::{EifWriter, SectionType};
    use crate::sign::{encode_section, PcrSignature};

    fn image_with_signature(section: &[u8]) -> Vec<u8> {
        let w = EifWriter::new(
            0,
            vec![
                (SectionType::Kernel, b"k".as_slice()),
                (SectionType::Cmdline, b"c"),
                (SectionType::Metadata, b"{}"),
                (SectionType::Ramdisk, b"r"),
                (SectionType::Signature, section),
            ],
        )
        .unwrap();
        let mut v = Vec::new();
        w.write_to(&mut v).unwrap();
        v
    }

    fn err(section: &[u8]) -> String {
        describe(&image_with_signature(section), 0).unwrap_err().to_string()
    }

    #[test]
    fn bad_signature_sections_name_the_field() {
        assert!(err(&[0xff, 0x00]).starts_with("signature section"), "{}", err(&[0xff]));
        let bad_pem = encode_section(&[PcrSignature { signing_certificate: b"not a pem".to_vec(), signature: vec![] }]);
        assert!(err(&bad_pem).contains("signing certificate: certificate PEM"), "{}", err(&bad_pem));
        let bad_der = encode_section(&[PcrSignature {
            signing_certificate: b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".to_vec(),
            signature: vec![],
        }]);
        assert!(err(&bad_der).contains("signing certificate: certificate"), "{}", err(&bad_der));
        let cert = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/signing-cert.pem")).unwrap();
        let bad_cose = encode_section(&[PcrSignature { signing_certificate: cert, signature: vec![0x84, 0x40] }]);
        assert!(err(&bad_cose).contains("COSE_Sign1"), "{}", err(&bad_cose));
    }

    #[test]
    fn metadata_must_be_json() {
        let w = EifWriter::new(
            0,
            vec![
                (SectionType::Kernel, b"k".as_slice()),
                (SectionType::Cmdline, b"c"),
                (SectionType::Metadata, b"{not json"),
                (SectionType::Ramdisk, b"r"),
            ],
        )
        .unwrap();
        let mut v = Vec::new();
        w.write_to(&mut v).unwrap();
        assert!(describe(&v, 0).unwrap_err().to_string().starts_with("metadata section"));
    }
}
