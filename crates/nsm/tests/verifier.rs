//! Development documents checked by the project's own verifier
//! (`sworn-attestation`, the code behind `eif attestation verify`): they are
//! well-formed and correctly signed under the development root, and they
//! fail against the pinned AWS root, with or without `--emulator`.

use sworn_attestation::{self as attestation, AttestationError, VerifyOptions};
use sworn_nsm::{AttestationRequest, DevNsm, Measurements, Nsm};

fn dev_document() -> (Vec<u8>, Vec<u8>) {
    let dev = DevNsm::new(&Measurements::default()).unwrap();
    let root = dev.root_certificate_der().to_vec();
    let nsm = Nsm::with_device(dev);
    let req = AttestationRequest::from_hex(Some("0102"), Some("0304"), None).unwrap();
    (nsm.attest(&req).unwrap().bytes, root)
}

#[test]
fn dev_documents_fail_the_aws_root_check() {
    let (bytes, _) = dev_document();
    let doc = attestation::SignedDocument::parse(&bytes).unwrap();
    assert!(!doc.is_emulator_document());
    assert_eq!(attestation::verify(&doc, &VerifyOptions::aws()).unwrap_err(), AttestationError::UntrustedRoot);
    let emulator = VerifyOptions { allow_emulator: true, ..VerifyOptions::aws() };
    assert_eq!(attestation::verify(&doc, &emulator).unwrap_err(), AttestationError::UntrustedRoot);
}

#[test]
fn dev_documents_verify_fully_under_their_own_root() {
    let (bytes, root) = dev_document();
    let doc = attestation::SignedDocument::parse(&bytes).unwrap();
    assert_eq!(doc.document.user_data.as_deref(), Some(&[1u8, 2][..]));
    let opts = VerifyOptions { root_der: root, ..VerifyOptions::aws() };
    let auth = attestation::verify(&doc, &opts).unwrap();
    assert!(auth.authenticated);
    assert_eq!(auth.chain.len(), 2);
    // A flipped payload byte breaks the signature.
    let mut tampered = doc.clone();
    let last = tampered.payload.len() - 1;
    tampered.payload[last] ^= 1;
    assert_eq!(attestation::verify(&tampered, &opts).unwrap_err(), AttestationError::BadSignature);
}
