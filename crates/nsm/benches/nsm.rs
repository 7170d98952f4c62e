//! NSM-side costs the runner pays per request, and the cost of parsing and
//! verifying the real AWS document with `sworn-attestation` (the one parser).
//!
//!   cargo bench -p sworn-nsm --bench nsm

use std::time::{Duration, Instant};

use sworn_nsm::{AttestationRequest, DevNsm, Measurements, Nsm, SignedDocument, UserDataPolicy, WorkerMeasurement};

fn time<F: FnMut()>(n: u32, mut f: F) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        f();
    }
    start.elapsed() / n
}

fn main() {
    let nsm = Nsm::with_device(DevNsm::new(&Measurements::default()).expect("dev nsm"));
    let m = WorkerMeasurement::of_code(&vec![b'x'; 100_000]);
    let req = AttestationRequest::from_hex(Some("c0ffee"), Some("01020304"), None).expect("request");
    let attest = time(300, || {
        nsm.attest_for_worker(&m, UserDataPolicy::BindWorker, &req).expect("attest");
    });
    let pcr = time(20_000, || {
        nsm.describe_pcr(16).expect("pcr");
    });
    let measure = time(200, || {
        std::hint::black_box(WorkerMeasurement::of_code(&[b'x'; 1 << 20]));
    });

    let real: Result<&[u8], ()> = Ok(include_bytes!("../../../tests/data/aws-nitro-attestation-debug.cbor"));
    println!("\nsworn-nsm benchmark");
    println!("{:<52} {:>12}", "operation", "time");
    println!("{:<52} {:>10.1}us", "dev NSM attestation (bound, ES384 sign + parse)", attest.as_secs_f64() * 1e6);
    println!("{:<52} {:>10.1}us", "dev NSM DescribePCR round trip (CBOR both ways)", pcr.as_secs_f64() * 1e6);
    println!("{:<52} {:>10.1}us", "worker measurement, SHA-384 of 1 MiB of code", measure.as_secs_f64() * 1e6);
    if let Ok(real) = real {
        let real = real.to_vec();
        let ours = time(20_000, || {
            std::hint::black_box(SignedDocument::from_cbor(&real).expect("parse"));
        });
        let parsed = SignedDocument::from_cbor(&real).expect("parse");
        let opts = sworn_attestation::VerifyOptions::aws();
        let verify = time(200, || {
            std::hint::black_box(sworn_attestation::verify(&parsed, &opts).expect("verify"));
        });
        println!("{:<52} {:>10.1}us", "parse real AWS document", ours.as_secs_f64() * 1e6);
        println!("{:<52} {:>10.1}us", "verify real AWS document (chain + ES384)", verify.as_secs_f64() * 1e6);
    }
}
