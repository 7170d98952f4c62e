//! The limits, QEMU's unsigned form and the rules where the two earlier
//! parsers disagreed, on documents built here and on the real AWS document
//! (tests/data; a missing fixture fails the build of this test).

use std::collections::BTreeMap;

use sworn_attestation::emulator::{is_unsigned_form, PROTECTED_UNSIGNED_EMULATOR};
use sworn_attestation::limits::{MAX_CERT_LEN, MAX_DOCUMENT_LEN};
use sworn_attestation::{
    cbor, cose, verify, AttestationDocument, AttestationError, ProtocolError, SignedDocument, VerifyOptions,
    COSE_ALG_ES384, PROTECTED_ES384,
};

const REAL: &[u8] = include_bytes!("../../../tests/data/aws-nitro-attestation-debug.cbor");

fn payload() -> AttestationDocument {
    AttestationDocument {
        module_id: "i-emulated-enc0".into(),
        digest: "SHA384".into(),
        timestamp: 1_700_000_000_000,
        pcrs: (0..16u16).map(|i| (i, vec![0; 48])).collect::<BTreeMap<_, _>>(),
        certificate: vec![0; 64],
        cabundle: vec![vec![0; 64]],
        public_key: None,
        user_data: None,
        nonce: None,
    }
}

fn envelope(protected: &[u8], doc: &AttestationDocument, signature: &[u8]) -> Vec<u8> {
    cose::encode(protected, &doc.to_cbor(), signature)
}

fn parse_payload(doc: &AttestationDocument) -> Result<AttestationDocument, ProtocolError> {
    AttestationDocument::from_cbor(&doc.to_cbor())
}

#[test]
fn the_real_document_parses_the_same_through_both_entry_points() {
    let a = SignedDocument::from_cbor(REAL).unwrap();
    let b = SignedDocument::parse(REAL).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.alg(), Some(COSE_ALG_ES384));
    assert!(a.document.certificate.len() <= MAX_CERT_LEN);
    assert!(a.document.cabundle.iter().all(|c| c.len() <= MAX_CERT_LEN));
    assert!(!a.is_development_document());
    assert!(verify(&a, &VerifyOptions::aws()).unwrap().authenticated);
}

#[test]
fn certificates_are_limited_to_1024_bytes() {
    let mut d = payload();
    d.certificate = vec![1; MAX_CERT_LEN];
    assert!(parse_payload(&d).is_ok());
    d.certificate = vec![1; MAX_CERT_LEN + 1];
    assert_eq!(
        parse_payload(&d),
        Err(ProtocolError::FieldTooLong { field: "certificate", len: MAX_CERT_LEN + 1, limit: MAX_CERT_LEN })
    );
    let mut d = payload();
    d.cabundle = vec![vec![1; 10], vec![2; MAX_CERT_LEN + 1]];
    assert_eq!(
        parse_payload(&d),
        Err(ProtocolError::FieldTooLong { field: "cabundle", len: MAX_CERT_LEN + 1, limit: MAX_CERT_LEN })
    );
}

#[test]
fn payload_rules_name_the_field() {
    let field = |d: &AttestationDocument| match parse_payload(d) {
        Err(e) => e.to_string(),
        Ok(_) => String::from("(accepted)"),
    };
    let mut d = payload();
    d.digest = "SHA256".into();
    assert!(field(&d).contains("digest"), "{}", field(&d));
    let mut d = payload();
    d.timestamp = 0;
    assert!(field(&d).contains("timestamp"));
    let mut d = payload();
    d.module_id.clear();
    assert!(field(&d).contains("module_id"));
    let mut d = payload();
    d.cabundle.clear();
    assert!(field(&d).contains("cabundle"));
    let mut d = payload();
    d.pcrs.clear();
    assert!(field(&d).contains("pcrs"));
    let mut d = payload();
    d.pcrs.insert(3, vec![0; 20]);
    assert!(field(&d).contains("pcrs"));
    let mut d = payload();
    d.nonce = Some(vec![0; 513]);
    assert_eq!(parse_payload(&d), Err(ProtocolError::FieldTooLong { field: "nonce", len: 513, limit: 512 }));
    let mut d = payload();
    d.public_key = Some(vec![0; 1025]);
    assert_eq!(parse_payload(&d), Err(ProtocolError::FieldTooLong { field: "public_key", len: 1025, limit: 1024 }));
}

#[test]
fn unknown_and_duplicate_keys_are_refused() {
    let ciborium::Value::Map(mut entries) = ciborium::from_reader(payload().to_cbor().as_slice()).unwrap() else {
        panic!("payload is a map")
    };
    entries.push((ciborium::Value::Text("extra".into()), ciborium::Value::Null));
    let bytes = cbor::encode(&ciborium::Value::Map(entries.clone()));
    assert!(matches!(
        AttestationDocument::from_cbor(&bytes),
        Err(ProtocolError::UnknownField { field, .. }) if field == "extra"
    ));
    entries.pop();
    let first = entries[0].clone();
    entries.push(first);
    let bytes = cbor::encode(&ciborium::Value::Map(entries));
    assert!(matches!(
        AttestationDocument::from_cbor(&bytes),
        Err(ProtocolError::DuplicateField { field, .. }) if field == "module_id"
    ));
}

#[test]
fn documents_over_the_nsm_buffer_are_refused() {
    assert_eq!(
        SignedDocument::parse(&vec![0u8; MAX_DOCUMENT_LEN + 1]),
        Err(AttestationError::TooLarge(MAX_DOCUMENT_LEN + 1))
    );
    assert!(matches!(
        SignedDocument::from_cbor(&vec![0u8; MAX_DOCUMENT_LEN + 1]),
        Err(ProtocolError::TooLarge { limit: MAX_DOCUMENT_LEN, .. })
    ));
}

#[test]
fn qemu_unsigned_form_parses_and_verifies_only_when_allowed() {
    let d = payload();
    let bytes = envelope(&PROTECTED_UNSIGNED_EMULATOR, &d, &[0; 64]);
    let doc = SignedDocument::parse(&bytes).unwrap();
    assert!(doc.is_emulator_document());
    assert!(is_unsigned_form(&doc.signature, &doc.document));
    assert_eq!(verify(&doc, &VerifyOptions::aws()).unwrap_err(), AttestationError::Unsigned);
    let allowed = VerifyOptions { allow_emulator: true, ..VerifyOptions::aws() };
    let auth = verify(&doc, &allowed).unwrap();
    assert!(!auth.authenticated && auth.emulator_document && auth.chain.is_empty());
    // The emulator's algorithm on a document with a signature is refused
    // at parse time, ES256 always.
    let signed = envelope(&PROTECTED_UNSIGNED_EMULATOR, &d, &[7; 96]);
    assert_eq!(
        SignedDocument::parse(&signed),
        Err(AttestationError::Document(ProtocolError::OutOfRange { field: "protected.alg" }))
    );
    let es256 = envelope(&[0xA1, 0x01, 0x26], &d, &[0; 64]);
    assert!(SignedDocument::parse(&es256).is_err());
    // A zero-signed document under the ES384 header is still the unsigned form.
    let zero_es384 = envelope(&PROTECTED_ES384, &d, &[0; 64]);
    assert!(SignedDocument::parse(&zero_es384).unwrap().is_emulator_document());
}

#[test]
fn a_tampered_envelope_is_a_cose_error_naming_the_part() {
    let e = SignedDocument::parse(&[0x82, 0x40, 0x40]).unwrap_err();
    assert!(matches!(&e, AttestationError::Cose(m) if m.contains("COSE_Sign1 items")), "{e}");
    let mut tagged = vec![0xD1];
    tagged.extend_from_slice(REAL);
    assert!(matches!(SignedDocument::parse(&tagged), Err(AttestationError::Cose(m)) if m.contains("tag 18")));
}
