//! Prints an attestation document from `/dev/nsm`, or from the development
//! NSM when there is none:
//!
//!   cargo run -p sworn-nsm --example attest -- [--measurements FILE] [--user-data HEX] [--nonce HEX] [--cbor OUT]
//!
//! The JSON view goes to stdout; `--cbor OUT` also writes the raw document
//! (for `eif attestation verify`, which rejects development documents).

use std::io::Write;

use sworn_nsm::{AttestationRequest, Measurements, Nsm};

fn fail(msg: impl std::fmt::Display) -> ! {
    eprintln!("attest: {msg}");
    std::process::exit(1)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut measurements, mut user_data, mut nonce, mut out) = (None, None, None, None);
    while let Some(a) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| fail(format!("{a} needs a value")));
        match a.as_str() {
            "--measurements" => measurements = Some(value()),
            "--user-data" => user_data = Some(value()),
            "--nonce" => nonce = Some(value()),
            "--cbor" => out = Some(value()),
            other => fail(format!("unknown argument {other}")),
        }
    }
    let measurements = match measurements {
        Some(path) => Measurements::from_file(path).unwrap_or_else(|e| fail(e)),
        None => Measurements::default(),
    };
    let nsm = Nsm::open_or_development(&measurements).unwrap_or_else(|e| fail(e));
    let request =
        AttestationRequest::from_hex(user_data.as_deref(), nonce.as_deref(), None).unwrap_or_else(|e| fail(e));
    let attestation = nsm.attest(&request).unwrap_or_else(|e| fail(e));
    if let Some(path) = out {
        std::fs::write(&path, &attestation.bytes).unwrap_or_else(|e| fail(format!("{path}: {e}")));
    }
    let text = serde_json::to_string_pretty(&attestation.to_json()).unwrap_or_default();
    // A closed stdout (`| head`) is not an error worth a panic.
    let _ = writeln!(std::io::stdout(), "{text}");
}
