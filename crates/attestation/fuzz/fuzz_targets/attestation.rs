//! Attestation document parsing and verification with untrusted bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sworn_attestation::{self as attestation, Expectations, SignedDocument, VerifyOptions};

fuzz_target!(|data: &[u8]| {
    // The two entry points must agree on what they accept.
    let parsed = SignedDocument::parse(data);
    assert_eq!(parsed.is_ok(), SignedDocument::from_cbor(data).is_ok());
    if let Ok(doc) = parsed {
        // What parses re-encodes to a document that parses to the same thing.
        assert_eq!(SignedDocument::from_cbor(&doc.to_cbor()).as_ref(), Ok(&doc));
        let opts = VerifyOptions { allow_emulator: true, ..VerifyOptions::aws() };
        let _ = attestation::verify(&doc, &opts);
        let _ = attestation::check_claims(
            &doc.document,
            &Expectations { pcrs: None, nonce: Some(vec![1, 2, 3]), user_data: None },
        );
        let _ = doc.document.to_json();
    }
    let _ = sworn_attestation::Measurements::from_json(data, "fuzz");
});
