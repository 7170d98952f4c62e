//! Boots build/runner.eif in QEMU's nitro-enclave machine (TCG) and checks it
//! end to end: boot, the heartbeat, attested TLS with `sworn attest` (and
//! through a man in the middle), the PCRs, init's supervision. Run with `make test-e2e` (it builds the emulator and the
//! image and passes their paths); plain `cargo test` lists it as ignored.

use std::time::Duration;

use sworn_e2e::client::{describe, SwornCli};
use sworn_e2e::mitm::Mitm;
use sworn_e2e::{BootOptions, Enclave, ImageInputs, TempDir, Tools};

const RUNNER_PORT: u32 = sworn_wire::port::RUNNER;
// TCG on a shared 2-core machine: generous, but bounded.
const HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(240);
const FIRST_RESPONSE_TIMEOUT: Duration = Duration::from_secs(240);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

fn expected_pcrs(tools: &Tools) -> [String; 3] {
    let path = tools.eif_json();
    let m = sworn_attestation::Measurements::image_from_file(&path).unwrap_or_else(|e| panic!("{e}"));
    // `image_from_file` has checked that PCR0, PCR1 and PCR2 are there.
    [0u16, 1, 2].map(|i| m.pcrs.get(&i).map(hex_lower).unwrap_or_default())
}

fn hex_lower(bytes: &sworn_attestation::Pcr) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Finds PCR `index` as hex in the attestation JSON: `pcrs` either at the top
/// level or under `document`/`payload`, keyed "0" or "PCR0".
fn reported_pcr(json: &serde_json::Value, index: usize) -> Option<String> {
    let pcrs = [&json["pcrs"], &json["document"]["pcrs"], &json["payload"]["pcrs"]]
        .into_iter()
        .find(|v| v.is_object() || v.is_array())?;
    let v = if pcrs.is_array() {
        &pcrs[index]
    } else {
        let by_num = &pcrs[index.to_string()];
        if by_num.is_null() {
            &pcrs[format!("PCR{index}")]
        } else {
            by_num
        }
    };
    v.as_str().map(str::to_ascii_lowercase)
}

#[test]
#[ignore = "boots build/runner.eif under QEMU: run `make test-e2e`"]
fn runner_eif_boots_serves_attested_tls_reports_pcrs_and_stops() {
    let tools = Tools::from_env().unwrap_or_else(|e| panic!("{e}"));
    let sworn = SwornCli::from_env().unwrap_or_else(|e| panic!("{e}"));
    let expected = expected_pcrs(&tools);
    let mut enclave = Enclave::boot(&tools, &BootOptions::default()).unwrap_or_else(|e| panic!("boot: {e}"));

    let hb = enclave.wait_heartbeat(HEARTBEAT_TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(hb.byte, 0xB7, "heartbeat byte");
    let heartbeat_at = hb.at.duration_since(enclave.started);
    enclave.console.wait_for("init: heartbeat acknowledged", Duration::from_secs(30)).unwrap_or_else(|e| panic!("{e}"));
    let timings =
        enclave.console.wait_for("init: boot timings:", Duration::from_secs(60)).unwrap_or_else(|e| panic!("{e}"));

    // First HTTP response through the vsock bridge: /health stays plain
    // (`--plain-http compat`, the image default).
    let health =
        enclave.http_get_retry(RUNNER_PORT, "/health", FIRST_RESPONSE_TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    let first_response = enclave.started.elapsed();
    assert_eq!(health.status, 200, "GET /health: {}", health.text());
    assert!(!health.body.is_empty(), "GET /health: empty body");
    // Everything that is not health, Escrin's create or a worker call
    // needs TLS: the image terminates TLS by default.
    let plain = enclave.http_get_retry(RUNNER_PORT, "/attestation", REQUEST_TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(plain.status, 403, "plain GET /attestation: {}", plain.text());
    assert!(plain.text().contains("requires TLS"), "{}", plain.text());

    // `sworn attest` over TLS: the certificate's document (PCRs, the key
    // binding), then a fresh document for our nonce.
    let bridge = enclave.tcp_bridge(RUNNER_PORT).unwrap_or_else(|e| panic!("{e}"));
    let url = format!("https://127.0.0.1:{}", bridge.addr.port());
    let eif_json = tools.eif_json();
    let pcrs = eif_json.to_str().expect("UTF-8 path");
    let nonce = "5e1f0a11";
    let attest = sworn.run(&["attest", &url, "--pcrs", pcrs, "--emulator", "--json", "--nonce", nonce]);
    let attest = attest.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(attest.status.code(), Some(0), "sworn attest --emulator: {}", describe(&attest));
    let report: serde_json::Value = serde_json::from_slice(&attest.stdout)
        .unwrap_or_else(|e| panic!("sworn attest --json: {e}: {}", describe(&attest)));
    assert_eq!(report["fresh"]["kind"], "emulator", "QEMU's documents are unsigned: {report}");
    assert_eq!(report["authenticated"], false, "{report}");
    assert_eq!(report["fresh"]["document"]["nonce"], nonce, "{report}");
    for (i, want) in expected.iter().enumerate() {
        let got = reported_pcr(&report["fresh"], i).unwrap_or_else(|| panic!("no PCR{i} in {report}"));
        assert_eq!(&got, want, "PCR{i}: emulated NSM vs build/runner.eif.json");
    }
    assert!(String::from_utf8_lossy(&attest.stderr).contains("NOT AUTHENTICATED"), "{}", describe(&attest));

    // Refusals, each exit 1 and named: another image's PCRs; no --emulator
    // (QEMU's documents are not signed by AWS).
    let dir = TempDir::new("sworn-e2e-attestation").unwrap_or_else(|e| panic!("temp dir: {e}"));
    let other = dir.path().join("other-pcrs.json");
    let flipped = flip_first_hex_digit(&expected[2]);
    let json = serde_json::json!({ "Measurements": { "PCR0": expected[0], "PCR1": expected[1], "PCR2": flipped } });
    std::fs::write(&other, json.to_string()).unwrap_or_else(|e| panic!("write {}: {e}", other.display()));
    let wrong = sworn.run(&["attest", &url, "--pcrs", other.to_str().expect("UTF-8 path"), "--emulator"]);
    let wrong = wrong.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(wrong.status.code(), Some(1), "other PCRs: {}", describe(&wrong));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("PCR2"), "{}", describe(&wrong));
    let strict = sworn.run(&["attest", &url, "--pcrs", pcrs]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        strict.status.code(),
        Some(1),
        "an unsigned document must fail without --emulator: {}",
        describe(&strict)
    );

    // A man in the middle with its own key and the enclave's genuine
    // document: a client that checks nothing is served through it, sworn
    // refuses it in the handshake.
    let policy = || {
        let m = sworn_attestation::Measurements::image_from_file(&eif_json).unwrap_or_else(|e| panic!("{e}"));
        sworn::Policy::emulator(Some(m))
    };
    let mitm = Mitm::start(&url, policy()).unwrap_or_else(|e| panic!("{e}"));
    let through = std::process::Command::new("curl")
        .args(["-sk", "--max-time", "60", &format!("{}/health", mitm.url)])
        .output()
        .unwrap_or_else(|e| panic!("run curl: {e}"));
    assert!(through.status.success(), "curl -k through the man in the middle: {}", describe(&through));
    assert!(!through.stdout.is_empty(), "the man in the middle relays to the enclave: {}", describe(&through));
    let relayed = mitm.relayed();
    let fooled = sworn.run(&["attest", &mitm.url, "--pcrs", pcrs, "--emulator"]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(fooled.status.code(), Some(1), "through the man in the middle: {}", describe(&fooled));
    let why = String::from_utf8_lossy(&fooled.stderr);
    assert!(why.contains("key binding") && why.contains("public_key"), "{}", describe(&fooled));
    assert_eq!(mitm.relayed(), relayed, "sworn aborted the handshake: nothing was relayed");

    // A fresh document fetched over a verified connection: bound to the
    // connection's key and our nonce; the same document is refused for
    // another nonce (a replay) and by `eif attestation verify` without
    // --emulator.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap_or_else(|e| panic!("{e}"));
    let (fresh, tls_key, json) = rt.block_on(async {
        let mut conn =
            sworn::Client::connect(&url, sworn::Options::new(policy())).await.unwrap_or_else(|e| panic!("{e}"));
        let fresh = conn.fresh_attestation(&[0x5e, 0x1f, 0x0a, 0x11]).await.unwrap_or_else(|e| panic!("{e}"));
        let json = conn.get("/attestation?format=json").await.unwrap_or_else(|e| panic!("{e}"));
        (fresh, conn.verified().public_key.clone(), json)
    });
    let stale = sworn_atls::verify_fresh_document(&fresh.document, &tls_key, &[0xff; 4], &policy());
    match stale {
        Err(e @ sworn_atls::VerifyError::Claims(_)) => assert!(e.to_string().contains("nonce"), "{e}"),
        other => panic!("a document for another nonce must be refused on its nonce: {other:?}"),
    }
    let right = sworn_atls::verify_fresh_document(&fresh.document, &tls_key, &[0x5e, 0x1f, 0x0a, 0x11], &policy());
    assert!(right.is_ok(), "the same document for its own nonce: {right:?}");
    let json: serde_json::Value =
        serde_json::from_slice(&json.body).unwrap_or_else(|e| panic!("attestation JSON: {e}"));
    assert_eq!(json["nsm"], "hardware", "the runner must use the guest's /dev/nsm (virtio-nsm): {json}");
    assert_eq!(json["emulator"], true, "QEMU's documents are unsigned: {json}");
    let inputs = ImageInputs::from_env().unwrap_or_else(|e| panic!("{e}"));
    let doc_path = dir.path().join("attestation.cbor");
    std::fs::write(&doc_path, &fresh.document).unwrap_or_else(|e| panic!("write {}: {e}", doc_path.display()));
    let verify = |extra: &[&str]| {
        std::process::Command::new(&inputs.eif_tool)
            .args(["attestation", "verify"])
            .arg(&doc_path)
            .arg("--pcrs")
            .arg(&eif_json)
            .args(["--nonce", nonce])
            .args(extra)
            .output()
            .unwrap_or_else(|e| panic!("run {}: {e}", inputs.eif_tool.display()))
    };
    let emulator = verify(&["--emulator"]);
    assert!(emulator.status.success(), "eif attestation verify --emulator: {}", describe(&emulator));
    let strict = verify(&[]);
    assert_eq!(strict.status.code(), Some(1), "an unsigned document must fail strict verification");

    let fatal = enclave.console.grep("init: fatal");
    assert!(fatal.is_empty(), "init reported: {fatal:?}");

    drop((mitm, bridge));
    let status = enclave.shutdown(SHUTDOWN_TIMEOUT).unwrap_or_else(|e| panic!("shutdown: {e}"));
    assert!(status.success(), "QEMU exit status after SIGTERM: {status}");

    eprintln!("e2e: heartbeat {:.2}s after QEMU start", heartbeat_at.as_secs_f64());
    eprintln!(
        "e2e: boot-to-first-response {:.2}s (QEMU start to first HTTP 200 from the runner)",
        first_response.as_secs_f64()
    );
    eprintln!("e2e: guest {}", timings.trim());
    eprintln!("e2e: sworn attest over the enclave's TLS: PCR0/1/2 equal build/runner.eif.json; a man in the middle is refused");
}

/// `hex` with its first digit changed: a PCR of another image.
fn flip_first_hex_digit(hex: &str) -> String {
    let first = if hex.starts_with('0') { '1' } else { '0' };
    format!("{first}{}", &hex[1..])
}

#[test]
fn pcr_lookup_accepts_the_usual_shapes() {
    let hex = "ab".repeat(48);
    let shapes = [
        serde_json::json!({"pcrs": {"0": hex, "1": hex, "2": hex}}),
        serde_json::json!({"document": {"pcrs": {"PCR0": hex, "PCR1": hex, "PCR2": hex}}}),
        serde_json::json!({"payload": {"pcrs": [hex, hex, hex]}}),
    ];
    for s in shapes {
        for i in 0..3 {
            assert_eq!(reported_pcr(&s, i).as_deref(), Some(hex.as_str()), "{s}");
        }
    }
    assert_eq!(reported_pcr(&serde_json::json!({"pcrs": {"3": hex}}), 0), None);
}

/// init's supervision in the real guest: a child that keeps crashing is
/// restarted with doubling delays until the limit, then init reboots.
#[test]
#[ignore = "boots a variant of build/runner.eif under QEMU: run `make test-e2e`"]
fn init_restarts_a_crashing_child_with_backoff_then_reboots() {
    let tools = Tools::from_env().unwrap_or_else(|e| panic!("{e}"));
    let inputs = ImageInputs::from_env().unwrap_or_else(|e| panic!("{e}"));
    let dir = TempDir::new("sworn-e2e-variant").unwrap_or_else(|e| panic!("temporary directory: {e}"));
    // The runner rejects an unknown flag and exits with status 2.
    let eif = inputs.build_with_cmd(dir.path(), "/usr/bin/runner\n--no-such-flag\n").unwrap_or_else(|e| panic!("{e}"));
    let tools = Tools { eif, ..tools };
    let opts = BootOptions {
        append: format!(
            "{} {}=2 {}=300",
            sworn_e2e::emulator::parent_cid_is_host(),
            sworn_wire::kernel::RESTART_MAX,
            sworn_wire::kernel::BACKOFF_INITIAL
        ),
        ..BootOptions::default()
    };
    let mut enclave = Enclave::boot(&tools, &opts).unwrap_or_else(|e| panic!("boot: {e}"));
    enclave.wait_heartbeat(HEARTBEAT_TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    let c = &enclave.console;
    let wait = |needle: &str| c.wait_for(needle, Duration::from_secs(120)).unwrap_or_else(|e| panic!("{e}"));
    wait("init: boot timings:");
    assert!(wait("ended after").contains("exit status 2"));
    wait("init: restart 1 in 300 ms");
    wait("init: restart 2 in 600 ms");
    wait("gave up after 2 consecutive restarts");
    wait("init: rebooting");
    assert_eq!(c.grep("init: child restarted as pid").len(), 2, "two restarts");
    assert!(c.grep("init: fatal").is_empty(), "no fatal error expected");
    drop(enclave);
}

/// A panic in PID 1 must not become a kernel panic that waits `panic=30`:
/// init's panic hook prints the message and reboots at once. The reference
/// image is booted with `sworn.selftest=panic` on the (unmeasured) emulator
/// command line.
#[test]
#[ignore = "boots build/runner.eif under QEMU: run `make test-e2e`"]
fn init_panic_prints_its_message_and_reboots_at_once() {
    let tools = Tools::from_env().unwrap_or_else(|e| panic!("{e}"));
    let opts = BootOptions {
        append: format!("{} {}=panic", sworn_e2e::emulator::parent_cid_is_host(), sworn_wire::kernel::SELFTEST),
        ..BootOptions::default()
    };
    let enclave = Enclave::boot(&tools, &opts).unwrap_or_else(|e| panic!("boot: {e}"));
    let c = &enclave.console;
    let wait = |needle: &str| c.wait_for(needle, Duration::from_secs(240)).unwrap_or_else(|e| panic!("{e}"));
    let line = wait("init: panic at ");
    assert!(line.contains("self-test requested by sworn.selftest=panic"), "{line}");
    wait("init: rebooting");
    assert!(c.grep("Kernel panic").is_empty(), "the kernel must not panic: {:?}", c.grep("Kernel panic"));
    assert!(c.grep("Attempted to kill init").is_empty(), "init must not exit");
    drop(enclave);
}
