//! Attestation document parsing and verification with untrusted bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sworn_eif::attestation::{self, Expectations, SignedDocument, VerifyOptions};

fuzz_target!(|data: &[u8]| {
    if let Ok(doc) = SignedDocument::parse(data) {
        let opts = VerifyOptions { allow_emulator: true, ..VerifyOptions::aws() };
        let _ = attestation::verify(&doc, &opts);
        let _ = attestation::check_claims(
            &doc.document,
            &Expectations { pcrs: None, nonce: Some(vec![1, 2, 3]), user_data: None },
        );
    }
});
