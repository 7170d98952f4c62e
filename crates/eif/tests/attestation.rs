//! `eif attestation verify` on the real AWS document, tampered copies of it,
//! and QEMU-style unsigned documents.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ciborium::Value;
use sworn_eif::attestation::{self, AttestationError, SignedDocument, VerifyOptions};

const DOC: &[u8] = include_bytes!("../../../tests/data/aws-nitro-attestation-debug.cbor");

fn eif(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_eif")).args(args).output().unwrap()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn find(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).position(|w| w == needle).unwrap()
}

fn verify(bytes: &[u8]) -> Result<attestation::Authentication, AttestationError> {
    attestation::verify(&SignedDocument::parse(bytes)?, &VerifyOptions::aws())
}

#[test]
fn tampered_documents_fail() {
    let doc = SignedDocument::parse(DOC).unwrap();
    // One byte of the payload (inside user_data).
    let mut t = DOC.to_vec();
    let at = find(&t, doc.document.user_data.as_ref().unwrap());
    t[at + 5] ^= 1;
    assert_eq!(verify(&t).unwrap_err(), AttestationError::BadSignature);
    // One byte of the signature (the last 96 bytes).
    let mut t = DOC.to_vec();
    let n = t.len();
    t[n - 10] ^= 1;
    assert_eq!(verify(&t).unwrap_err(), AttestationError::BadSignature);
    // One byte of a certificate's signed part: the chain breaks first.
    for (i, der) in doc.document.cabundle.iter().enumerate().skip(1) {
        let mut t = DOC.to_vec();
        let at = find(&t, der);
        t[at + der.len() / 2] ^= 1;
        let e = verify(&t).unwrap_err();
        assert!(matches!(&e, AttestationError::Cert { .. } | AttestationError::BadSignature), "cabundle[{i}]: {e}");
    }
    let mut t = DOC.to_vec();
    let leaf = &doc.document.certificate;
    let at = find(&t, leaf);
    t[at + 200] ^= 0x40;
    assert!(verify(&t).is_err());
    // The pinned root itself altered (cabundle[0]).
    let mut t = DOC.to_vec();
    let at = find(&t, &doc.document.cabundle[0]);
    t[at + 100] ^= 1;
    assert_eq!(verify(&t).unwrap_err(), AttestationError::UntrustedRoot);
}

#[test]
fn truncated_and_garbage_documents_are_errors_not_panics() {
    for len in [0, 1, 5, 100, DOC.len() / 2, DOC.len() - 1] {
        assert!(SignedDocument::parse(&DOC[..len]).is_err(), "len {len}");
    }
    assert!(matches!(SignedDocument::parse(&[0x82, 0x40, 0x40]), Err(AttestationError::Cose(_))));
    let mut long = DOC.to_vec();
    long.push(0);
    assert!(matches!(SignedDocument::parse(&long), Err(AttestationError::Cose(m)) if m.contains("trailing")));
    assert!(matches!(SignedDocument::parse(&vec![0u8; 20_000]), Err(AttestationError::TooLarge(20_000))));
}

fn cbor(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(v, &mut out).unwrap();
    out
}

/// A document shaped like QEMU's virtio-nsm output: protected header
/// {1: -1}, PCRs 0..15, 64 zero bytes for certificate, cabundle entry and
/// signature.
fn emulator_doc(pcr0: &[u8], nonce: Option<&[u8]>) -> Vec<u8> {
    let t = |s: &str| Value::Text(s.into());
    let pcrs = (0..16u8)
        .map(|i| (Value::Integer(i.into()), Value::Bytes(if i == 0 { pcr0.to_vec() } else { vec![0; 48] })))
        .collect();
    let payload = Value::Map(vec![
        (t("module_id"), t("i-emulated-enc")),
        (t("digest"), t("SHA384")),
        (t("timestamp"), Value::Integer(1_763_000_000_000u64.into())),
        (t("pcrs"), Value::Map(pcrs)),
        (t("certificate"), Value::Bytes(vec![0; 64])),
        (t("cabundle"), Value::Array(vec![Value::Bytes(vec![0; 64])])),
        (t("public_key"), Value::Null),
        (t("user_data"), Value::Null),
        (t("nonce"), nonce.map(|n| Value::Bytes(n.to_vec())).unwrap_or(Value::Null)),
    ]);
    let protected = cbor(&Value::Map(vec![(Value::Integer(1.into()), Value::Integer((-1).into()))]));
    cbor(&Value::Array(vec![
        Value::Bytes(protected),
        Value::Map(vec![]),
        Value::Bytes(cbor(&payload)),
        Value::Bytes(vec![0; 64]),
    ]))
}

#[test]
fn cli_real_document() {
    let d = tempfile::tempdir().unwrap();
    let doc = write(d.path(), "doc.cbor", DOC);
    let ok = eif(&["attestation", "verify", doc.to_str().unwrap()]);
    assert_eq!(ok.status.code(), Some(0), "{}", String::from_utf8_lossy(&ok.stdout));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("OK (authenticated)"));
    let parsed = SignedDocument::parse(DOC).unwrap();
    let nonce = hex::encode(parsed.document.nonce.as_ref().unwrap());
    let user = hex::encode(parsed.document.user_data.as_ref().unwrap());
    // Debug-mode document: PCR0-2 are zero.
    let zero = "0".repeat(96);
    let m = write(
        d.path(),
        "m.json",
        format!(r#"{{"Measurements":{{"PCR0":"{zero}","PCR1":"{zero}","PCR2":"{zero}"}}}}"#).as_bytes(),
    );
    let all = eif(&[
        "attestation",
        "verify",
        doc.to_str().unwrap(),
        "--pcrs",
        m.to_str().unwrap(),
        "--nonce",
        &nonce,
        "--user-data",
        &user,
        "--json",
    ]);
    assert_eq!(all.status.code(), Some(0), "{}", String::from_utf8_lossy(&all.stdout));
    let v: serde_json::Value = serde_json::from_slice(&all.stdout).unwrap();
    assert_eq!(v["authenticated"], true);
    assert_eq!(v["document"]["module_id"], "i-04e250099155f9e9f-enc018c88bffa961e5d");
    let bad_nonce = eif(&["attestation", "verify", doc.to_str().unwrap(), "--nonce", "00"]);
    assert_eq!(bad_nonce.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad_nonce.stdout).contains("FAIL nonce"));
    let expired = eif(&["attestation", "verify", doc.to_str().unwrap(), "--at", "2024-06-01T00:00:00Z"]);
    assert_eq!(expired.status.code(), Some(1));
    let mut t = DOC.to_vec();
    let n = t.len();
    t[n - 1] ^= 1;
    let tampered = write(d.path(), "t.cbor", &t);
    let f = eif(&["attestation", "verify", tampered.to_str().unwrap()]);
    assert_eq!(f.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&f.stdout).contains("signature does not verify"));
    let garbage = write(d.path(), "g.cbor", b"\xa1\x01");
    assert_eq!(eif(&["attestation", "verify", garbage.to_str().unwrap()]).status.code(), Some(2));
    assert_eq!(eif(&["attestation", "verify", doc.to_str().unwrap(), "--nonce", "xyz"]).status.code(), Some(2));
    assert_eq!(eif(&["attestation", "verify", doc.to_str().unwrap(), "--at", "tomorrow"]).status.code(), Some(2));
}

#[test]
fn cli_emulator_documents() {
    let d = tempfile::tempdir().unwrap();
    let pcr0 = [0xabu8; 48];
    let doc = write(d.path(), "emu.cbor", &emulator_doc(&pcr0, Some(b"nonce-1")));
    let m = write(
        d.path(),
        "m.json",
        format!(
            r#"{{"Measurements":{{"HashAlgorithm":"Sha384 {{ ... }}","PCR0":"{}","PCR1":"{z}","PCR2":"{z}"}}}}"#,
            hex::encode(pcr0),
            z = "0".repeat(96)
        )
        .as_bytes(),
    );
    let doc_s = doc.to_str().unwrap();
    // Without --emulator: refused.
    let r = eif(&["attestation", "verify", doc_s, "--pcrs", m.to_str().unwrap()]);
    assert_eq!(r.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&r.stdout).contains("--emulator"));
    // With it: PCRs and nonce checked, loud warning.
    let nonce = hex::encode(b"nonce-1");
    let ok = eif(&["attestation", "verify", doc_s, "--emulator", "--pcrs", m.to_str().unwrap(), "--nonce", &nonce]);
    assert_eq!(ok.status.code(), Some(0), "{}", String::from_utf8_lossy(&ok.stdout));
    assert!(String::from_utf8_lossy(&ok.stderr).contains("NOTHING WAS AUTHENTICATED"));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("NOT AUTHENTICATED"));
    // Wrong PCR0 still fails under --emulator.
    let other = write(d.path(), "other.cbor", &emulator_doc(&[0xcd; 48], Some(b"nonce-1")));
    let bad = eif(&["attestation", "verify", other.to_str().unwrap(), "--emulator", "--pcrs", m.to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stdout).contains("FAIL PCR0"));
    let wrong_nonce = eif(&["attestation", "verify", doc_s, "--emulator", "--nonce", "00"]);
    assert_eq!(wrong_nonce.status.code(), Some(1));
    // --emulator does not weaken checks of a real document.
    let mut t = DOC.to_vec();
    let n = t.len();
    t[n - 1] ^= 1;
    let tampered = write(d.path(), "t.cbor", &t);
    assert_eq!(eif(&["attestation", "verify", tampered.to_str().unwrap(), "--emulator"]).status.code(), Some(1));
}

#[test]
fn eif_build_json_is_accepted_by_attestation_verify() {
    // The measurements file `eif build` writes works as --pcrs.
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("kernel"), b"kernel").unwrap();
    std::fs::create_dir(d.path().join("rd")).unwrap();
    std::fs::write(d.path().join("rd/init"), b"init").unwrap();
    let out = d.path().join("x.eif");
    let b = Command::new(env!("CARGO_BIN_EXE_eif"))
        .args(["build", "--kernel", "kernel", "--cmdline", "c", "--ramdisk", "rd", "--output"])
        .arg(&out)
        .current_dir(d.path())
        .output()
        .unwrap();
    assert!(b.status.success());
    let j: serde_json::Value = serde_json::from_slice(&b.stdout).unwrap();
    let pcr0 = hex::decode(j["Measurements"]["PCR0"].as_str().unwrap()).unwrap();
    let pcr1 = hex::decode(j["Measurements"]["PCR1"].as_str().unwrap()).unwrap();
    let pcr2 = hex::decode(j["Measurements"]["PCR2"].as_str().unwrap()).unwrap();
    // Emulator document carrying exactly these PCRs.
    let t = |s: &str| Value::Text(s.into());
    let pcrs = (0..16u8)
        .map(|i| {
            let v = match i {
                0 => pcr0.clone(),
                1 => pcr1.clone(),
                2 => pcr2.clone(),
                _ => vec![0; 48],
            };
            (Value::Integer(i.into()), Value::Bytes(v))
        })
        .collect();
    let payload = Value::Map(vec![
        (t("module_id"), t("i-emulated-enc")),
        (t("digest"), t("SHA384")),
        (t("timestamp"), Value::Integer(1_763_000_000_000u64.into())),
        (t("pcrs"), Value::Map(pcrs)),
        (t("certificate"), Value::Bytes(vec![0; 64])),
        (t("cabundle"), Value::Array(vec![Value::Bytes(vec![0; 64])])),
        (t("public_key"), Value::Null),
        (t("user_data"), Value::Null),
        (t("nonce"), Value::Null),
    ]);
    let protected = cbor(&Value::Map(vec![(Value::Integer(1.into()), Value::Integer((-1).into()))]));
    let doc = cbor(&Value::Array(vec![
        Value::Bytes(protected),
        Value::Map(vec![]),
        Value::Bytes(cbor(&payload)),
        Value::Bytes(vec![0; 64]),
    ]));
    let docp = write(d.path(), "doc.cbor", &doc);
    let json = format!("{}.json", out.display());
    let r = eif(&["attestation", "verify", docp.to_str().unwrap(), "--emulator", "--pcrs", &json]);
    assert_eq!(r.status.code(), Some(0), "{}", String::from_utf8_lossy(&r.stdout));
}

/// `eif attestation permitter`: the contract's verdict on a document, with
/// its revert and selector, exit 1 when it would revert and 2 on bad input.
#[test]
fn permitter_reports_the_contracts_verdict() {
    use sworn_attestation::permitter::binding;
    let dir = tempfile::tempdir().unwrap();
    let aws = write(dir.path(), "aws.cbor", DOC);
    let aws = aws.to_str().unwrap();
    let (registry, identity, requester) = ([0x5f; 20], [0xb7; 32], [0x70; 20]);
    let hex0x = |b: &[u8]| format!("0x{}", hex::encode(b));
    let (reg, id, who) = (hex0x(&registry), hex0x(&identity), hex0x(&requester));
    // Mask 7 over the debug document's zero PCRs (the facts' value).
    let zero_pcrs = "0xf922ae56a1ff9042aa9a8c0a75eb438642db50c431b56e6f9b0421bcca8cf60f";
    let base = |chain: &str, doc: &str, at: &str| -> Vec<String> {
        ["attestation", "permitter", doc, "--chain-id", chain, "--registry", &reg, "--identity", &id]
            .iter()
            .map(|s| s.to_string())
            .chain(["--requester", &who, "--pcr-hash", zero_pcrs, "--at", at].iter().map(|s| s.to_string()))
            .collect()
    };
    let run = |args: Vec<String>| eif(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let at_its_time = "2023-12-20T19:42:50Z";
    // AWS's own document: genuine chain and signature, an older binding.
    let out = run(base("23295", aws, at_its_time));
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("BindingMismatch()") && text.contains("0x438c4873") && text.contains("signatures checked"),
        "{text}"
    );
    let out = run(base("23295", aws, "2026-01-01T00:00:00Z"));
    assert!(String::from_utf8_lossy(&out.stdout).contains("CertExpired()"));
    let mut long = base("23295", aws, at_its_time);
    long.extend(["--duration".into(), "3600".into()]);
    assert!(String::from_utf8_lossy(&run(long).stdout).contains("DurationTooLong()"));
    let out = run(base("1", aws, at_its_time));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--chain-id 1"), "{}", String::from_utf8_lossy(&out.stderr));

    // A development document bound to this call: granted on a development
    // chain; where signatures count its key is not AWS's.
    let nsm = sworn_nsm::Nsm::development(&sworn_attestation::Measurements::default()).unwrap();
    let user_data = binding(31337, &registry, &identity, &requester, true).to_vec();
    let req = sworn_nsm::AttestationRequest::new(Some(user_data), Some(vec![9; 32]), Some(Vec::new())).unwrap();
    let dev = write(dir.path(), "dev.cbor", &nsm.attest(&req).unwrap().bytes);
    let dev = dev.to_str().unwrap();
    let now = time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap();
    let mut json = base("31337", dev, &now);
    json.push("--json".into());
    let out = run(json);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ok"], true, "{report}");
    let out = run(base("23295", dev, &now));
    assert!(String::from_utf8_lossy(&out.stdout).contains("InvalidSignature()"));
}
