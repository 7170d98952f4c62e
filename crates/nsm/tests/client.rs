//! The client driven against the development NSM (which behaves like the
//! Nitro NSM) and against misbehaving devices.

use std::io;
use std::sync::Mutex;

use ring::signature::{UnparsedPublicKey, ECDSA_P384_SHA384_FIXED};
use sha2::{Digest, Sha384};
use sworn_nsm::*;

fn dev() -> (Nsm, Vec<u8>, Vec<u8>) {
    let dev = DevNsm::new(&Measurements::default()).unwrap();
    let key = dev.leaf_public_key().to_vec();
    let root = dev.root_certificate_der().to_vec();
    (Nsm::with_device(dev), key, root)
}

#[test]
fn pcrs_behave_like_the_nitro_nsm() {
    let (nsm, _, _) = dev();
    for i in 0..16 {
        let pcr = nsm.describe_pcr(i).unwrap();
        assert!(pcr.locked, "PCR{i} must be locked at boot");
        assert!(matches!(
            nsm.extend_pcr(i, b"x"),
            Err(NsmError::Rejected { request: "ExtendPCR", code: ErrorCode::ReadOnlyIndex })
        ));
    }
    let before = nsm.describe_pcr(16).unwrap();
    assert_eq!(before, PcrState { locked: false, value: vec![0; 48] });
    let after = nsm.extend_pcr(16, b"worker code").unwrap();
    let mut h = Sha384::new();
    h.update([0u8; 48]);
    h.update(b"worker code");
    assert_eq!(after, h.finalize().to_vec());
    // A second extend chains from the new value.
    let again = nsm.extend_pcr(16, b"more").unwrap();
    let mut h = Sha384::new();
    h.update(&after);
    h.update(b"more");
    assert_eq!(again, h.finalize().to_vec());
    assert_eq!(nsm.describe_pcr(16).unwrap().value, again);

    nsm.lock_pcr(16).unwrap();
    assert!(nsm.describe_pcr(16).unwrap().locked);
    assert!(matches!(nsm.extend_pcr(16, b"x"), Err(NsmError::Rejected { code: ErrorCode::ReadOnlyIndex, .. })));

    for bad in [32, 100, u16::MAX] {
        assert!(matches!(nsm.describe_pcr(bad), Err(NsmError::Rejected { code: ErrorCode::InvalidIndex, .. })));
        assert!(matches!(nsm.extend_pcr(bad, b""), Err(NsmError::Rejected { code: ErrorCode::InvalidIndex, .. })));
        assert!(matches!(nsm.lock_pcr(bad), Err(NsmError::Rejected { code: ErrorCode::InvalidIndex, .. })));
    }
    assert!(matches!(nsm.lock_pcrs(33), Err(NsmError::Rejected { code: ErrorCode::InvalidIndex, .. })));
    nsm.lock_pcrs(20).unwrap();
    let d = nsm.describe().unwrap();
    assert_eq!(d.locked_pcrs, (0..20).collect::<Vec<u16>>());
    assert_eq!(d.max_pcrs, 32);
    assert_eq!(d.digest, "SHA384");
    assert!(d.module_id.starts_with(DEV_MODULE_ID_PREFIX) && d.module_id.len() == 39, "{}", d.module_id);
    assert!(!nsm.describe_pcr(20).unwrap().locked);
}

#[test]
fn random_bytes_differ() {
    let (nsm, _, _) = dev();
    let a = nsm.get_random().unwrap();
    let b = nsm.get_random().unwrap();
    assert_eq!(a.len(), 256);
    assert_ne!(a, b);
}

#[test]
fn development_documents_have_the_aws_layout_and_a_valid_signature() {
    let measurements = Measurements::from_json(
        format!(
            r#"{{"Measurements": {{"PCR0": "{}", "PCR1": "{}", "PCR2": "{}"}}}}"#,
            "11".repeat(48),
            "22".repeat(48),
            "33".repeat(48)
        )
        .as_bytes(),
        "test",
    )
    .unwrap();
    let dev = DevNsm::new(&measurements).unwrap();
    let key = dev.leaf_public_key().to_vec();
    let leaf = dev.leaf_certificate_der().to_vec();
    let nsm = Nsm::with_device(dev);
    let req = AttestationRequest::new(Some(b"ud".to_vec()), Some(b"nonce".to_vec()), Some(vec![4; 65])).unwrap();
    let att = nsm.attest(&req).unwrap();
    // Untagged COSE_Sign1 with the ES384 protected header, like AWS.
    assert_eq!(&att.bytes[..6], &[0x84, 0x44, 0xA1, 0x01, 0x38, 0x22]);
    let doc = &att.parsed.document;
    assert!(doc.module_id.starts_with(DEV_MODULE_ID_PREFIX));
    assert_eq!(doc.pcrs.len(), 16);
    assert_eq!(doc.pcrs[&0], vec![0x11; 48]);
    assert_eq!(doc.pcrs[&2], vec![0x33; 48]);
    assert_eq!(doc.pcrs[&3], vec![0; 48]);
    assert_eq!(doc.user_data.as_deref(), Some(&b"ud"[..]));
    assert_eq!(doc.nonce.as_deref(), Some(&b"nonce"[..]));
    assert_eq!(doc.public_key.as_deref(), Some(&[4u8; 65][..]));
    assert_eq!(doc.certificate, leaf);
    assert_eq!(doc.cabundle.len(), 1);
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    assert!(doc.timestamp <= now_ms && doc.timestamp + 60_000 > now_ms);
    // The ES384 signature verifies with the leaf key over the Sig_structure...
    let sig_structure = att.parsed.sig_structure();
    UnparsedPublicKey::new(&ECDSA_P384_SHA384_FIXED, &key).verify(&sig_structure, &att.parsed.signature).unwrap();
    // ...and not over anything else.
    let mut tampered = sig_structure.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert!(UnparsedPublicKey::new(&ECDSA_P384_SHA384_FIXED, &key).verify(&tampered, &att.parsed.signature).is_err());
    // The JSON view flags it as a development document.
    let json = att.to_json();
    assert_eq!(json["development"], true);
    assert_eq!(json["emulator"], false);
    assert_eq!(json["user_data"], hex::encode(b"ud"));
    assert_eq!(json["pcrs"]["0"], "11".repeat(48));
}

#[test]
fn development_chain_is_not_the_aws_root() {
    let (nsm, _, root) = dev();
    let att = nsm.attest(&AttestationRequest::default()).unwrap();
    assert_eq!(att.parsed.document.cabundle[0], root);
    assert!(root.windows(DEV_ORGANIZATION.len()).any(|w| w == DEV_ORGANIZATION.as_bytes()));
    // AWS's root name (Escrin's permitter chains by name) with our own key:
    // verification against the pinned AWS root refuses it.
    assert!(root.windows(18).any(|w| w == b"aws.nitro-enclaves"));
    let e = sworn_attestation::verify(&att.parsed, &sworn_attestation::VerifyOptions::aws()).unwrap_err();
    assert!(matches!(e, sworn_attestation::AttestationError::UntrustedRoot), "{e}");
}

#[test]
fn attestation_limits_are_enforced_by_device_and_request() {
    let (nsm, _, _) = dev();
    // Directly through the device: the NSM answers InputTooLarge.
    let too_big = AttestationInputs { user_data: Some(vec![0; 513]), ..Default::default() };
    assert!(matches!(
        nsm.attestation(&too_big),
        Err(NsmError::Rejected { request: "Attestation", code: ErrorCode::InputTooLarge })
    ));
    let pk = AttestationInputs { public_key: Some(vec![0; 1025]), ..Default::default() };
    assert!(matches!(nsm.attestation(&pk), Err(NsmError::Rejected { code: ErrorCode::InputTooLarge, .. })));
    // The validated request stops it earlier, naming the limit.
    assert_eq!(
        AttestationRequest::new(None, Some(vec![0; 513]), None).unwrap_err().to_string(),
        "nonce is 513 bytes, over the limit of 512 bytes"
    );
}

#[test]
fn worker_binding_puts_the_measurement_first() {
    let (nsm, _, _) = dev();
    let code = b"export default { fetch() { return new Response('hi') } }";
    let m = WorkerMeasurement::of_code(code);
    let none = nsm.attest_for_worker(&m, UserDataPolicy::BindWorker, &AttestationRequest::default()).unwrap();
    assert_eq!(none.parsed.document.user_data.as_deref(), Some(&Sha384::digest(code)[..]));
    let req = AttestationRequest::from_hex(Some("c0ffee"), Some("01"), None).unwrap();
    let with = nsm.attest_for_worker(&m, UserDataPolicy::BindWorker, &req).unwrap();
    let ud = with.parsed.document.user_data.clone().unwrap();
    let (got, rest) = split_bound_user_data(&ud).unwrap();
    assert_eq!(got, m);
    assert_eq!(rest, [0xc0, 0xff, 0xee]);
    assert_eq!(with.parsed.document.nonce.as_deref(), Some(&[1u8][..]));
    let raw = nsm.attest_for_worker(&m, UserDataPolicy::Raw, &req).unwrap();
    assert_eq!(raw.parsed.document.user_data.as_deref(), Some(&[0xc0, 0xff, 0xee][..]));
    let long = AttestationRequest::new(Some(vec![0; 500]), None, None).unwrap();
    assert!(matches!(
        nsm.attest_for_worker(&m, UserDataPolicy::BindWorker, &long),
        Err(NsmError::Request(RequestError::TooLong { field: "user_data", len: 500, limit: 464 }))
    ));
}

#[test]
fn open_or_development_never_picks_development_when_the_device_exists() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nsm");
    let nsm = Nsm::open_or_development_at(&missing, &Measurements::default()).unwrap();
    assert_eq!(nsm.kind(), DeviceKind::Development);

    // A node at the path: the hardware client is used, and since this file
    // is not the driver, requests fail instead of falling back.
    std::fs::write(&missing, b"").unwrap();
    let nsm = Nsm::open_or_development_at(&missing, &Measurements::default()).unwrap();
    assert_eq!(nsm.kind(), DeviceKind::Hardware);
    assert!(matches!(nsm.get_random(), Err(NsmError::Device { .. })));

    // A node that exists but cannot be opened is an error, not a fallback.
    let dangling = dir.path().join("dangling");
    std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).unwrap();
    assert!(matches!(Nsm::open_or_development_at(&dangling, &Measurements::default()), Err(NsmError::Device { .. })));
}

/// A device that answers with canned bytes and records the request.
struct Canned {
    reply: Vec<u8>,
    seen: Mutex<Vec<Vec<u8>>>,
}

impl NsmDevice for Canned {
    fn process(&self, request: &[u8]) -> io::Result<Vec<u8>> {
        self.seen.lock().unwrap().push(request.to_vec());
        Ok(self.reply.clone())
    }
    fn kind(&self) -> DeviceKind {
        DeviceKind::Hardware
    }
    fn describe(&self) -> String {
        "canned".into()
    }
}

fn canned(reply: Vec<u8>) -> Nsm {
    Nsm::with_device(Canned { reply, seen: Mutex::new(vec![]) })
}

#[test]
fn misbehaving_devices_give_errors_not_panics() {
    // Wrong variant.
    let nsm = canned(Response::LockPcr.to_cbor());
    assert!(matches!(nsm.get_random(), Err(NsmError::UnexpectedResponse { request: "GetRandom", got: "LockPCR" })));
    // Truncated CBOR.
    let full = Response::GetRandom { random: vec![1; 256] }.to_cbor();
    let nsm = canned(full[..full.len() - 10].to_vec());
    let err = nsm.get_random().unwrap_err();
    assert!(matches!(err, NsmError::Protocol { request: "GetRandom", source: ProtocolError::Cbor { .. } }), "{err}");
    // Oversized field.
    let nsm = canned(Response::GetRandom { random: vec![1; 4000] }.to_cbor());
    let err = nsm.get_random().unwrap_err();
    assert_eq!(err.to_string(), "NSM response to GetRandom: field `random` is 4000 long, over the limit of 1024");
    // Error reply.
    let nsm = canned(Response::Error(ErrorCode::InternalError).to_cbor());
    assert!(matches!(
        nsm.describe(),
        Err(NsmError::Rejected { request: "DescribeNSM", code: ErrorCode::InternalError })
    ));
    // An attestation response whose document is garbage.
    let nsm = canned(Response::Attestation { document: vec![0x84, 0x40] }.to_cbor());
    assert!(matches!(
        nsm.attest(&AttestationRequest::default()),
        Err(NsmError::Protocol { request: "Attestation", .. })
    ));
    // Empty answer.
    let nsm = canned(vec![]);
    assert!(matches!(nsm.lock_pcr(16), Err(NsmError::Protocol { .. })));
}

#[test]
fn random_inputs_never_panic_the_parsers() {
    // A small deterministic fuzz pass over mutations of valid messages.
    let (nsm, _, _) = dev();
    let doc = nsm.attest(&AttestationRequest::default()).unwrap().bytes;
    let mut seeds = vec![doc, Response::DescribeNsm(nsm.describe().unwrap()).to_cbor()];
    seeds.push(Request::ExtendPcr { index: 16, data: vec![1, 2, 3] }.to_cbor());
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for seed in &seeds {
        for _ in 0..2000 {
            let mut m = seed.clone();
            for _ in 0..(next() % 4 + 1) {
                let i = (next() as usize) % m.len();
                m[i] = next() as u8;
            }
            let cut = (next() as usize) % (m.len() + 1);
            let m = &m[..cut.max(m.len() / 2)];
            let _ = SignedDocument::from_cbor(m);
            let _ = Response::from_cbor(m);
            let _ = Request::from_cbor(m);
        }
    }
}
