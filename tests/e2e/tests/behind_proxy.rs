//! The enclave as users run it (`make run`): QEMU's nitro-enclave machine
//! behind host-proxy. Workers are uploaded and called through host-proxy's
//! ingress, fetch from servers on the host through its SOCKS5 egress under
//! the policy, obtain attestation documents bound to their code, and the
//! whole keeps working after the runner is killed inside the enclave and
//! after host-proxy restarts. Run with `make test-e2e`.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use sworn_e2e::hostserver::{HostServer, TestCa};
use sworn_e2e::{BootOptions, Enclave, ImageInputs, ProxyOptions, TempDir, Tools};

const BOOT_TIMEOUT: Duration = Duration::from_secs(240);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(90);
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

/// The worker the tests upload: `/hello`, `/fetch?url=U` (JSON outcome of
/// fetching U), `/attest?nonce=HEX` (the document from `env.nsm`, user data
/// "e2e" after the binding's measurement).
const WORKER: &str = r#"
const bytes = (hex) => new Uint8Array((hex.match(/../g) || []).map((b) => parseInt(b, 16)));
export default {
  async fetch(req, env) {
    const url = new URL(req.url);
    switch (url.pathname) {
      case "/hello":
        return new Response("hello from e2e");
      case "/fetch":
        try {
          const r = await fetch(url.searchParams.get("url"));
          return Response.json({ ok: true, status: r.status, body: await r.text() });
        } catch (e) {
          return Response.json({ ok: false, error: `${e.name}: ${e.message}` });
        }
      case "/account": {
        const res = await env.iam.fetch("http://escrin", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ method: "get-account", params: { id: "ephemeral-account" } }),
        });
        return new Response((await res.json()).address);
      }
      case "/attest":
        return new Response(env.nsm.attestation({
          userData: new TextEncoder().encode("e2e"),
          nonce: bytes(url.searchParams.get("nonce") || ""),
        }), { headers: { "content-type": "application/cbor" } });
    }
    return new Response("not found", { status: 404 });
  },
};
"#;

fn or_panic<T, E: std::fmt::Display>(r: Result<T, E>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

fn measurements_file() -> PathBuf {
    let p = PathBuf::from(std::env::var_os("SWORN_MEASUREMENTS").expect("SWORN_MEASUREMENTS (set by make test-e2e)"));
    assert!(p.exists(), "{} does not exist", p.display());
    p
}

fn get(e: &mut Enclave, path: &str) -> sworn_e2e::http::Response {
    or_panic(e.ingress_request("GET", path, None, b"", REQUEST_TIMEOUT))
}

fn json(r: &sworn_e2e::http::Response) -> serde_json::Value {
    serde_json::from_slice(&r.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", r.text()))
}

/// Uploads WORKER as `e2e` through the ingress; returns its measurement.
fn deploy(e: &mut Enclave) -> String {
    let body = serde_json::json!({ "name": "e2e", "type": "module", "code": WORKER }).to_string();
    let r = or_panic(e.ingress_request("POST", "/workers", Some("application/json"), body.as_bytes(), REQUEST_TIMEOUT));
    assert_eq!(r.status, 201, "POST /workers: {}", r.text());
    let m = json(&r)["measurement"].as_str().expect("measurement").to_string();
    let hello = get(e, "/workers/e2e/fetch/hello");
    assert_eq!((hello.status, hello.text().as_str()), (200, "hello from e2e"));
    m
}

/// The `e2e` worker's entry in the public list (`GET /workers`).
fn listed_e2e(e: &mut Enclave) -> serde_json::Value {
    let list = json(&get(e, "/workers"));
    let found = list["workers"].as_array().and_then(|w| w.iter().find(|w| w["name"] == "e2e")).cloned();
    found.unwrap_or_else(|| panic!("no worker e2e in {list}"))
}

/// The worker's outcome of fetching `url`.
fn worker_fetch(e: &mut Enclave, url: &str) -> serde_json::Value {
    let r = get(e, &format!("/workers/e2e/fetch/fetch?url={url}"));
    assert_eq!(r.status, 200, "worker fetch of {url}: {}", r.text());
    json(&r)
}

fn assert_denied(outcome: &serde_json::Value, what: &str) {
    assert_eq!(outcome["ok"], false, "{what} must be refused: {outcome}");
    let error = outcome["error"].as_str().unwrap_or_default();
    assert!(error.starts_with("TypeError") && error.contains("not allowed by the proxy's ruleset"), "{what}: {error}");
}

fn eif_attestation_verify(tool: &std::path::Path, doc: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(tool)
        .args(["attestation", "verify"])
        .arg(doc)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", tool.display()))
}

fn mib(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap_or(0.0) / (1024.0 * 1024.0)
}

#[test]
#[ignore = "boots build/runner.eif under QEMU behind host-proxy: run `make test-e2e`"]
fn workers_behind_host_proxy_fetch_attest_and_survive_restarts() {
    let tools = or_panic(Tools::from_env());
    let inputs = or_panic(ImageInputs::from_env());
    let measurements = measurements_file();
    let host = or_panic(HostServer::http());
    let port = host.addr.port();
    // A loopback port no rule names: denied although something could listen there.
    let unlisted = port.wrapping_add(1).max(1024);
    let mut enclave = boot_allowing(&tools, port);
    or_panic(enclave.console.wait_for("init: heartbeat acknowledged", BOOT_TIMEOUT));
    let health = or_panic(enclave.ingress_request("GET", "/health", None, b"", BOOT_TIMEOUT));
    let first_response = enclave.started.elapsed();
    assert_eq!(health.status, 200, "GET /health through host-proxy: {}", health.text());

    // Upload and call a worker through host-proxy's ingress.
    let measurement = deploy(&mut enclave);

    // Egress: allowed host server over HTTP; metadata service and an
    // unlisted loopback port refused by the policy.
    let ok = worker_fetch(&mut enclave, &format!("http://127.0.0.1:{port}/from-enclave"));
    assert_eq!(ok["ok"], true, "{ok}");
    assert_eq!(ok["body"], "http hello from the host: /from-enclave", "{ok}");
    assert_eq!(host.requests(), ["GET /from-enclave"]);
    assert_denied(&worker_fetch(&mut enclave, "http://169.254.169.254/latest/meta-data/"), "the metadata service");
    assert_denied(&worker_fetch(&mut enclave, &format!("http://127.0.0.1:{unlisted}/")), "an unlisted loopback port");
    assert_denied(&worker_fetch(&mut enclave, "http://10.0.0.1/"), "a private address");
    assert_eq!(host.requests().len(), 1, "denied fetches never reach a server");

    // An attestation document requested by the worker: the committed PCRs
    // and user_data = SHA-384(worker code) || "e2e".
    let nonce = "0e2e0e2e";
    let doc = get(&mut enclave, &format!("/workers/e2e/fetch/attest?nonce={nonce}"));
    assert_eq!(doc.status, 200, "attest: {}", doc.text());
    let dir = or_panic(TempDir::new("sworn-e2e-proxy"));
    let doc_path = dir.path().join("worker-attestation.cbor");
    or_panic(std::fs::write(&doc_path, &doc.body));
    let user_data = format!("{measurement}{}", hex_of(b"e2e"));
    let m = measurements.to_string_lossy().into_owned();
    let checks = ["--pcrs", m.as_str(), "--nonce", nonce, "--user-data", user_data.as_str()];
    let emulator = eif_attestation_verify(&inputs.eif_tool, &doc_path, &[&checks[..], &["--emulator"]].concat());
    assert!(
        emulator.status.success(),
        "eif attestation verify --emulator --pcrs {m}: {}\n{}",
        String::from_utf8_lossy(&emulator.stdout),
        String::from_utf8_lossy(&emulator.stderr)
    );
    let wrong = format!("{}{}", "00".repeat(48), hex_of(b"e2e"));
    let mismatch =
        eif_attestation_verify(&inputs.eif_tool, &doc_path, &["--emulator", "--pcrs", &m, "--user-data", &wrong]);
    assert_eq!(mismatch.status.code(), Some(1), "another worker's measurement must not match");
    let strict = eif_attestation_verify(&inputs.eif_tool, &doc_path, &checks);
    assert_eq!(strict.status.code(), Some(1), "an emulator document must fail strict verification");

    // Memory inside the enclave, as the kernel and the runner see it.
    let stats = json(&get(&mut enclave, "/stats"));
    let (used, total, rss) =
        (mib(&stats["system"]["memUsed"]), mib(&stats["system"]["memTotal"]), mib(&stats["memoryUsage"]));
    assert!(total > 0.0 && used > 0.0 && rss > 0.0, "/stats: {stats}");

    // The worker's ephemeral account, to compare after the restart.
    let account = get(&mut enclave, "/workers/e2e/fetch/account");
    assert_eq!(account.status, 200, "{}", account.text());
    let address = account.text();
    assert!(address.starts_with("0x") && address.len() == 42, "{address}");
    // Details need the owner's credential; the public list shows id and measurement.
    let id = listed_e2e(&mut enclave)["id"].as_str().expect("id").to_string();

    // Kill the runner inside the enclave (SysRq i: SIGKILL to all but init);
    // init restarts it and the runner restores its workers from the state
    // journal in /run (enclave RAM): same id, measurement and account.
    let kill_at = Instant::now();
    or_panic(enclave.sysrq('i'));
    let ended = or_panic(enclave.console.wait_for("killed by signal 9", Duration::from_secs(60)));
    or_panic(enclave.console.wait_for("init: child restarted as pid", Duration::from_secs(60)));
    let health = get(&mut enclave, "/health");
    assert_eq!(health.status, 200, "{}", health.text());
    let recovered = kill_at.elapsed();
    let listed = json(&get(&mut enclave, "/workers"));
    assert_eq!(listed["workers"].as_array().map(Vec::len), Some(1), "the worker is restored: {listed}");
    let restored = listed_e2e(&mut enclave);
    assert_eq!(restored["id"], id.as_str(), "{restored}");
    assert_eq!(restored["measurement"], measurement.as_str(), "{restored}");
    let again = get(&mut enclave, "/workers/e2e/fetch/account");
    assert_eq!((again.status, again.text()), (200, address.clone()), "same account after the restart");
    let hello = get(&mut enclave, "/workers/e2e/fetch/hello");
    assert_eq!((hello.status, hello.text().as_str()), (200, "hello from e2e"));

    // Restart host-proxy: ingress and egress come back.
    let status = or_panic(enclave.restart_proxy(SHUTDOWN_TIMEOUT));
    assert!(status.success(), "host-proxy exit status after SIGTERM: {status}");
    let hello = get(&mut enclave, "/workers/e2e/fetch/hello");
    assert_eq!((hello.status, hello.text().as_str()), (200, "hello from e2e"));
    let again = worker_fetch(&mut enclave, &format!("http://127.0.0.1:{port}/after-restart"));
    assert_eq!(again["body"], "http hello from the host: /after-restart", "{again}");

    let fatal = enclave.console.grep("init: fatal");
    assert!(fatal.is_empty(), "init reported: {fatal:?}");
    let status = or_panic(enclave.shutdown(SHUTDOWN_TIMEOUT));
    assert!(status.success(), "QEMU exit status after SIGTERM: {status}");

    eprintln!("e2e: boot-to-first-response through host-proxy {:.2}s", first_response.as_secs_f64());
    eprintln!("e2e: enclave memory used {used:.1} MiB of {total:.1} MiB; runner RSS {rss:.1} MiB");
    eprintln!("e2e: runner killed ({}), API answering again after {:.2}s", ended.trim(), recovered.as_secs_f64());
    eprintln!(
        "e2e: worker attestation verified against {m} (emulator document), user_data bound to {}",
        &measurement[..16]
    );
}

/// Boots `tools.eif` behind host-proxy whose egress policy allows
/// `127.0.0.1:port` (the host's test server) on top of the defaults.
fn boot_allowing(tools: &Tools, port: u16) -> Enclave {
    let proxy = or_panic(ProxyOptions::from_env(vec!["--allow".into(), format!("127.0.0.1:{port}")]));
    or_panic(Enclave::boot_behind_proxy(tools, &BootOptions::default(), &proxy))
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// HTTPS from a worker, with TLS terminated inside the enclave: the image is a
/// variant of the reference one whose application ramdisk carries a CA made
/// for this run (`--egress-ca`), which the host's test server's certificate
/// chains to.
#[test]
#[ignore = "boots a variant of build/runner.eif under QEMU behind host-proxy: run `make test-e2e`"]
fn worker_fetches_https_with_the_image_ca() {
    let tools = or_panic(Tools::from_env());
    let inputs = or_panic(ImageInputs::from_env());
    let ca = or_panic(TestCa::new());
    let https = or_panic(HostServer::https(&ca));
    let port = https.addr.port();
    let dir = or_panic(TempDir::new("sworn-e2e-https"));
    let cmd = format!(
        "/usr/bin/runner\n--listen\nvsock:-1:{}\n--fetch\negress\n--egress-ca\n/etc/sworn/test-ca.pem\n",
        sworn_wire::port::RUNNER
    );
    let eif =
        or_panic(inputs.build_variant(dir.path(), &cmd, &[("rootfs/etc/sworn/test-ca.pem", ca.ca_pem.as_bytes())]));
    let tools = Tools { eif, ..tools };
    let mut enclave = boot_allowing(&tools, port);
    or_panic(enclave.ingress_request("GET", "/health", None, b"", BOOT_TIMEOUT));
    deploy(&mut enclave);

    let ok = worker_fetch(&mut enclave, &format!("https://localhost:{port}/secret-path"));
    // localhost resolves on the host; only 127.0.0.1 is allowed, and ::1
    // must not be needed for the fetch to succeed.
    assert_eq!(ok["ok"], true, "{ok}");
    assert_eq!(ok["body"], "https hello from the host: /secret-path", "{ok}");
    let direct = worker_fetch(&mut enclave, &format!("https://127.0.0.1:{port}/by-address"));
    assert_eq!(direct["body"], "https hello from the host: /by-address", "{direct}");
    assert_eq!(https.requests(), ["GET /secret-path", "GET /by-address"]);

    let status = or_panic(enclave.shutdown(SHUTDOWN_TIMEOUT));
    assert!(status.success(), "QEMU exit status after SIGTERM: {status}");
    eprintln!("e2e: HTTPS fetch through host-proxy with TLS terminated in the enclave (test CA in the image)");
}
