//! The image side of measurements files: the one reader and writer lives
//! in [`sworn_attestation::measurements`]; this module turns an image's
//! [`Pcrs`] into its PCR map and its `OUT.eif.json`.

use std::collections::BTreeMap;

pub use sworn_attestation::measurements::*;

use crate::pcr::Pcrs;

/// The measurements file of an image with PCRs `p` and file digest `sha256`.
pub fn file(p: &Pcrs, sha256: Option<[u8; 32]>) -> MeasurementsFile {
    MeasurementsFile::new(&p.pcr0, &p.pcr1, &p.pcr2, p.pcr8.as_ref(), sha256)
}

/// PCR map of an image.
pub fn pcr_map(p: &Pcrs) -> BTreeMap<u16, Pcr> {
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
        let f = file(&pcrs(), Some([1; 32]));
        let json = f.to_json();
        assert!(json.contains("\"HashAlgorithm\": \"Sha384 { ... }\""));
        assert!(json.contains("\"mask\": \"0x0007\""));
        assert!(!json.contains("PCR8"));
        let e = Measurements::image_from_json(&json).unwrap();
        assert_eq!(e.pcrs.len(), 3);
        assert!(compare(&e, &pcr_map(&pcrs())).is_empty());
        let other = Pcrs::compute(b"k", b"c", &[b"r0", b"r2"], None);
        let diff = compare(&e, &pcr_map(&other));
        let fields: Vec<_> = diff.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(fields, ["PCR0", "PCR2", "PcrSelector[0x0007]"]);
    }
}
