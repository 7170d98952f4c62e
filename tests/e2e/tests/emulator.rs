//! Boots build/runner.eif in QEMU's nitro-enclave machine (TCG) and checks it
//! end to end. Run with `make test-e2e` (it builds the emulator and the
//! image and passes their paths); plain `cargo test` lists it as ignored.

use std::time::Duration;

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
fn runner_eif_boots_serves_http_reports_pcrs_and_stops() {
    let tools = Tools::from_env().unwrap_or_else(|e| panic!("{e}"));
    let expected = expected_pcrs(&tools);
    let mut enclave = Enclave::boot(&tools, &BootOptions::default()).unwrap_or_else(|e| panic!("boot: {e}"));

    let hb = enclave.wait_heartbeat(HEARTBEAT_TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(hb.byte, 0xB7, "heartbeat byte");
    let heartbeat_at = hb.at.duration_since(enclave.started);
    enclave.console.wait_for("init: heartbeat acknowledged", Duration::from_secs(30)).unwrap_or_else(|e| panic!("{e}"));
    let timings =
        enclave.console.wait_for("init: boot timings:", Duration::from_secs(60)).unwrap_or_else(|e| panic!("{e}"));

    // First HTTP response through the vsock bridge.
    let health =
        enclave.http_get_retry(RUNNER_PORT, "/health", FIRST_RESPONSE_TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    let first_response = enclave.started.elapsed();
    assert_eq!(health.status, 200, "GET /health: {}", health.text());
    assert!(!health.body.is_empty(), "GET /health: empty body");

    // PCRs as the emulated NSM reports them (QEMU computes them from the EIF on its own).
    let att = enclave
        .http_get_retry(RUNNER_PORT, "/attestation?format=json", REQUEST_TIMEOUT)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(att.status, 200, "GET /attestation?format=json: {}", att.text());
    let json: serde_json::Value =
        serde_json::from_slice(&att.body).unwrap_or_else(|e| panic!("attestation JSON: {e}: {}", att.text()));
    assert_eq!(json["nsm"], "hardware", "the runner must use the guest's /dev/nsm (virtio-nsm): {json}");
    assert_eq!(json["emulator"], true, "QEMU's documents are unsigned: {json}");
    for (i, want) in expected.iter().enumerate() {
        let got = reported_pcr(&json, i).unwrap_or_else(|| panic!("attestation JSON has no PCR{i}: {json}"));
        assert_eq!(&got, want, "PCR{i}: emulated NSM vs build/runner.eif.json");
    }

    // The raw document passes `eif attestation verify` only as an emulator
    // document: PCRs and nonce are checked, nothing is authenticated.
    let nonce = "5e1f0a11";
    let doc = enclave
        .http_get_retry(RUNNER_PORT, &format!("/attestation?nonce={nonce}"), REQUEST_TIMEOUT)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(doc.status, 200, "GET /attestation: {}", String::from_utf8_lossy(&doc.body));
    let inputs = ImageInputs::from_env().unwrap_or_else(|e| panic!("{e}"));
    let dir = TempDir::new("sworn-e2e-attestation").unwrap_or_else(|e| panic!("temp dir: {e}"));
    let doc_path = dir.path().join("attestation.cbor");
    std::fs::write(&doc_path, &doc.body).unwrap_or_else(|e| panic!("write {}: {e}", doc_path.display()));
    let verify = |extra: &[&str]| {
        std::process::Command::new(&inputs.eif_tool)
            .args(["attestation", "verify"])
            .arg(&doc_path)
            .arg("--pcrs")
            .arg(tools.eif_json())
            .args(["--nonce", nonce])
            .args(extra)
            .output()
            .unwrap_or_else(|e| panic!("run {}: {e}", inputs.eif_tool.display()))
    };
    let emulator = verify(&["--emulator"]);
    assert!(
        emulator.status.success(),
        "eif attestation verify --emulator: {}\n{}",
        String::from_utf8_lossy(&emulator.stdout),
        String::from_utf8_lossy(&emulator.stderr)
    );
    let strict = verify(&[]);
    assert_eq!(strict.status.code(), Some(1), "an unsigned document must fail strict verification");

    let fatal = enclave.console.grep("init: fatal");
    assert!(fatal.is_empty(), "init reported: {fatal:?}");

    let status = enclave.shutdown(SHUTDOWN_TIMEOUT).unwrap_or_else(|e| panic!("shutdown: {e}"));
    assert!(status.success(), "QEMU exit status after SIGTERM: {status}");

    eprintln!("e2e: heartbeat {:.2}s after QEMU start", heartbeat_at.as_secs_f64());
    eprintln!(
        "e2e: boot-to-first-response {:.2}s (QEMU start to first HTTP 200 from the runner)",
        first_response.as_secs_f64()
    );
    eprintln!("e2e: guest {}", timings.trim());
    eprintln!("e2e: PCR0/1/2 reported by the emulated NSM equal build/runner.eif.json");
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
