//! QEMU's virtio-nsm signs nothing: certificate, CA bundle entry and
//! signature are 64 zero bytes each, while the PCRs are real. The client
//! must parse such answers, and flag them as emulator documents.

use std::collections::BTreeMap;

use sworn_nsm::*;

/// QEMU's protected header: `{1: -1}` ("we don't actually sign the data").
const PROTECTED_QEMU: [u8; 3] = [0xA1, 0x01, 0x20];

fn emulator_document(pcr0: [u8; 48]) -> Vec<u8> {
    emulator_document_with(pcr0, &PROTECTED_QEMU, vec![0; 64])
}

fn emulator_document_with(pcr0: [u8; 48], protected: &[u8], signature: Vec<u8>) -> Vec<u8> {
    let payload = AttestationDocument {
        module_id: "i-emulated-enc0".into(),
        digest: "SHA384".into(),
        timestamp: 1_700_000_000_000,
        pcrs: (0..16u16).map(|i| (i, if i == 0 { pcr0.to_vec() } else { vec![0; 48] })).collect::<BTreeMap<_, _>>(),
        certificate: vec![0; 64],
        cabundle: vec![vec![0; 64]],
        public_key: None,
        user_data: Some(b"hello".to_vec()),
        nonce: None,
    };
    SignedDocument { protected: protected.to_vec(), payload: payload.to_cbor(), signature, document: payload }.to_cbor()
}

struct VirtioNsm(Vec<u8>);

impl NsmDevice for VirtioNsm {
    fn process(&self, request: &[u8]) -> std::io::Result<Vec<u8>> {
        assert!(matches!(Request::from_cbor(request), Ok(Request::Attestation { .. })));
        Ok(Response::Attestation { document: self.0.clone() }.to_cbor())
    }
    fn kind(&self) -> DeviceKind {
        DeviceKind::Hardware
    }
    fn describe(&self) -> String {
        "virtio-nsm (synthesized)".into()
    }
}

#[test]
fn zero_signed_emulator_documents_parse_and_are_flagged() {
    let pcr0 = [0x5a; 48];
    let nsm = Nsm::with_device(VirtioNsm(emulator_document(pcr0)));
    let att = nsm.attest(&AttestationRequest::from_hex(Some("68656c6c6f"), None, None).unwrap()).unwrap();
    assert!(att.parsed.is_emulator_document());
    assert_eq!(att.parsed.document.pcrs[&0], pcr0.to_vec());
    assert_eq!(att.parsed.signature, vec![0; 64]);
    let json = att.to_json();
    assert_eq!(json["emulator"], true);
    assert_eq!(json["development"], false);
    assert_eq!(json["pcrs"]["0"], "5a".repeat(48));
}

#[test]
fn tagged_cose_sign1_is_accepted_too() {
    let doc = emulator_document([1; 48]);
    let mut tagged = vec![0xD2]; // tag 18
    tagged.extend_from_slice(&doc);
    let parsed = SignedDocument::from_cbor(&tagged).unwrap();
    assert_eq!(parsed.to_cbor(), doc);
    let mut other_tag = vec![0xD1]; // tag 17 (COSE_Mac0) is not a signature
    other_tag.extend_from_slice(&doc);
    assert!(SignedDocument::from_cbor(&other_tag).is_err());
}

#[test]
fn zero_signed_documents_with_the_es384_header_parse_too() {
    let doc = emulator_document_with([2; 48], &PROTECTED_ES384, vec![0; 64]);
    assert!(SignedDocument::from_cbor(&doc).unwrap().is_emulator_document());
}

#[test]
fn the_emulator_algorithm_is_refused_on_a_document_with_a_signature() {
    let doc = emulator_document_with([3; 48], &PROTECTED_QEMU, vec![7; 96]);
    assert_eq!(SignedDocument::from_cbor(&doc).map(|_| ()), Err(ProtocolError::OutOfRange { field: "protected.alg" }));
}
