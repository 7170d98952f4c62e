//! Times [`sworn_attestation::verify`] on a real AWS document (by default
//! `tests/data/aws-nitro-attestation-debug.cbor`, checked at its own
//! timestamp): the first check of a chain, and the next document with the
//! same chain remembered, which is what `sworn attest` does with the
//! certificate's document and then the fresh one. `bench/tls/run.sh`
//! prints the medians beside the attested-TLS figures.
//!
//! Usage: verify_timing [DOC] [RUNS]   (one JSON line on stdout)

use std::process::ExitCode;
use std::time::Instant;

use sworn_attestation::{verify, ChainCache, SignedDocument, VerifyOptions};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or_else(|| "tests/data/aws-nitro-attestation-debug.cbor".into());
    let runs: usize = match args.next().map(|r| r.parse()) {
        None => 50,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("verify_timing: RUNS must be a positive integer");
            return ExitCode::from(2);
        }
    };
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("verify_timing: {path}: {e}");
            return ExitCode::from(2);
        }
    };
    let (mut first, mut remembered) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
    for _ in 0..runs {
        let opts = VerifyOptions { chains: Some(ChainCache::default()), ..VerifyOptions::aws() };
        let checks = [(); 2].map(|()| {
            let started = Instant::now();
            let outcome = SignedDocument::parse(&bytes)
                .map_err(|e| e.to_string())
                .and_then(|d| verify(&d, &opts).map_err(|e| e.to_string()));
            (outcome, started.elapsed())
        });
        for (outcome, _) in &checks {
            if let Err(e) = outcome {
                eprintln!("verify_timing: {path}: {e}");
                return ExitCode::from(1);
            }
        }
        first.push(checks[0].1.as_secs_f64() * 1e3);
        remembered.push(checks[1].1.as_secs_f64() * 1e3);
    }
    let (first, remembered) = (median(first), median(remembered));
    println!(
        "{{\"document\":{:?},\"runs\":{runs},\"firstMs\":{first:.3},\"rememberedChainMs\":{remembered:.3},\"bothMs\":{:.3}}}",
        path,
        first + remembered
    );
    ExitCode::SUCCESS
}
