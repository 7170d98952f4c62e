//! Throughput of `sworn_webcrypto::dynamic` against Node's `crypto.subtle`
//! (OpenSSL) run side by side: `cargo bench -p sworn-webcrypto`.
//! Each case runs for a bounded time (`BENCH_SECS`, default 0.5 s per case
//! per implementation). Node is skipped when `node` is not on PATH.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

use sworn_webcrypto::{dynamic, AlgorithmIdentifier, AlgorithmInput, CryptoKey, KeyData};

fn obj(a: AlgorithmInput) -> AlgorithmIdentifier {
    AlgorithmIdentifier::Object(a)
}

fn name(n: &str) -> AlgorithmIdentifier {
    AlgorithmIdentifier::Name(n.to_owned())
}

/// Mean nanoseconds per call of `f`, run for about `budget`.
fn measure(budget: Duration, mut f: impl FnMut()) -> f64 {
    f();
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < budget {
        f();
        n += 1;
    }
    start.elapsed().as_nanos() as f64 / n as f64
}

fn pair(a: &AlgorithmIdentifier, usages: &[&str]) -> (CryptoKey, CryptoKey) {
    let p = dynamic::generate_key(a, true, usages).unwrap().into_pair().unwrap();
    (p.public_key, p.private_key)
}

fn ours(budget: Duration) -> BTreeMap<&'static str, f64> {
    let kib = vec![7u8; 1024];
    let mib = vec![7u8; 1 << 20];
    let mut r = BTreeMap::new();
    r.insert(
        "digest SHA-256 1 KiB",
        measure(budget, || {
            dynamic::digest(&name("SHA-256"), &kib).unwrap();
        }),
    );
    r.insert(
        "digest SHA-256 1 MiB",
        measure(budget, || {
            dynamic::digest(&name("SHA-256"), &mib).unwrap();
        }),
    );
    let hmac = dynamic::import_key(
        "raw",
        &KeyData::bytes(vec![1; 32]),
        &obj(AlgorithmInput::new("HMAC").with_str("hash", "SHA-256")),
        false,
        &["sign"],
    )
    .unwrap();
    r.insert(
        "HMAC-SHA-256 sign 1 KiB",
        measure(budget, || {
            dynamic::sign(&name("HMAC"), &hmac, &kib).unwrap();
        }),
    );
    let gcm_key =
        dynamic::import_key("raw", &KeyData::bytes(vec![2; 32]), &name("AES-GCM"), false, &["encrypt"]).unwrap();
    let gcm = obj(AlgorithmInput::new("AES-GCM").with_bytes("iv", vec![3; 12]));
    r.insert(
        "AES-256-GCM encrypt 1 MiB",
        measure(budget, || {
            dynamic::encrypt(&gcm, &gcm_key, &mib).unwrap();
        }),
    );
    let cbc_key =
        dynamic::import_key("raw", &KeyData::bytes(vec![2; 32]), &name("AES-CBC"), false, &["encrypt"]).unwrap();
    let cbc = obj(AlgorithmInput::new("AES-CBC").with_bytes("iv", vec![3; 16]));
    r.insert(
        "AES-256-CBC encrypt 1 MiB",
        measure(budget, || {
            dynamic::encrypt(&cbc, &cbc_key, &mib).unwrap();
        }),
    );
    let (ec_pub, ec_priv) =
        pair(&obj(AlgorithmInput::new("ECDSA").with_str("namedCurve", "P-256")), &["sign", "verify"]);
    let ecdsa = obj(AlgorithmInput::new("ECDSA").with_str("hash", "SHA-256"));
    let sig = dynamic::sign(&ecdsa, &ec_priv, &kib).unwrap();
    r.insert(
        "ECDSA P-256 sign",
        measure(budget, || {
            dynamic::sign(&ecdsa, &ec_priv, &kib).unwrap();
        }),
    );
    r.insert(
        "ECDSA P-256 verify",
        measure(budget, || {
            assert!(dynamic::verify(&ecdsa, &ec_pub, &sig, &kib).unwrap());
        }),
    );
    let (ed_pub, ed_priv) = pair(&name("Ed25519"), &["sign", "verify"]);
    let esig = dynamic::sign(&name("Ed25519"), &ed_priv, &kib).unwrap();
    r.insert(
        "Ed25519 sign",
        measure(budget, || {
            dynamic::sign(&name("Ed25519"), &ed_priv, &kib).unwrap();
        }),
    );
    r.insert(
        "Ed25519 verify",
        measure(budget, || {
            assert!(dynamic::verify(&name("Ed25519"), &ed_pub, &esig, &kib).unwrap());
        }),
    );
    let (dh_pub, dh_priv) = pair(&obj(AlgorithmInput::new("ECDH").with_str("namedCurve", "P-256")), &["deriveBits"]);
    let ecdh = obj(AlgorithmInput::new("ECDH").with_key("public", dh_pub));
    r.insert(
        "ECDH P-256 deriveBits",
        measure(budget, || {
            dynamic::derive_bits(&ecdh, &dh_priv, Some(256)).unwrap();
        }),
    );
    let (x_pub, x_priv) = pair(&name("X25519"), &["deriveBits"]);
    let x = obj(AlgorithmInput::new("X25519").with_key("public", x_pub));
    r.insert(
        "X25519 deriveBits",
        measure(budget, || {
            dynamic::derive_bits(&x, &x_priv, Some(256)).unwrap();
        }),
    );
    let pw = dynamic::import_key("raw", &KeyData::bytes(b"password".to_vec()), &name("PBKDF2"), false, &["deriveBits"])
        .unwrap();
    let pbkdf2 = obj(AlgorithmInput::new("PBKDF2")
        .with_str("hash", "SHA-256")
        .with_bytes("salt", b"salt".to_vec())
        .with_number("iterations", 100_000.0));
    r.insert(
        "PBKDF2-SHA-256 100k iterations",
        measure(budget, || {
            dynamic::derive_bits(&pbkdf2, &pw, Some(256)).unwrap();
        }),
    );
    r.insert(
        "generateKey ECDSA P-256",
        measure(budget, || {
            pair(&obj(AlgorithmInput::new("ECDSA").with_str("namedCurve", "P-256")), &["sign"]);
        }),
    );
    r
}

fn node(budget: Duration) -> Option<BTreeMap<String, f64>> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/subtle-node.mjs");
    let out = Command::new("node").arg(script).arg(budget.as_secs_f64().to_string()).output().ok()?;
    if !out.status.success() {
        eprintln!("node benchmark failed: {}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    serde_json::from_slice(&out.stdout).ok()
}

fn human(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.2} µs", ns / 1e3)
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing useful. Both run it.
    let secs: f64 = std::env::var("BENCH_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(0.5);
    let budget = Duration::from_secs_f64(secs);
    let ours = ours(budget);
    let node = node(budget);
    println!("{:<34} {:>12} {:>12} {:>10}", "operation", "sworn", "node", "node/sworn");
    for (op, ns) in &ours {
        let theirs = node.as_ref().and_then(|m| m.get(*op).copied());
        match theirs {
            Some(t) => println!("{op:<34} {:>12} {:>12} {:>9.2}x", human(*ns), human(t), t / ns),
            None => println!("{op:<34} {:>12} {:>12} {:>10}", human(*ns), "-", "-"),
        }
    }
}
