//! The enclave as users run it (`make run`): QEMU's nitro-enclave machine
//! behind host-proxy. Workers are deployed with `sworn` over the runner's
//! attested TLS through host-proxy's ingress, owned by the credential it
//! stores, and called over plain HTTP (`--plain-http compat`); they fetch
//! from servers on the host through the SOCKS5 egress under the policy,
//! obtain attestation documents bound to their code, and the whole keeps
//! working after the runner is killed inside the enclave and after
//! host-proxy restarts. Run with `make test-e2e`.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use sworn_e2e::client::{describe, SwornCli};
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
    or_panic(e.ingress_request("GET", path, &[], b"", REQUEST_TIMEOUT))
}

fn json(r: &sworn_e2e::http::Response) -> serde_json::Value {
    serde_json::from_slice(&r.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", r.text()))
}

/// The runner behind host-proxy's ingress, over attested TLS: the `sworn`
/// CLI, and its library on a runtime of the test's.
struct OverTls {
    cli: SwornCli,
    url: String,
    measurements: PathBuf,
    client: sworn::Client,
    rt: tokio::runtime::Runtime,
    dir: TempDir,
}

impl OverTls {
    fn new(e: &Enclave, measurements: PathBuf) -> OverTls {
        let url = format!("https://{}", e.ingress().expect("booted behind host-proxy"));
        let m = or_panic(sworn_attestation::Measurements::image_from_file(&measurements));
        let client = or_panic(sworn::Client::new(&url, sworn::Options::new(sworn::Policy::emulator(Some(m)))));
        // Worker threads drive each connection's task, so dropping one closes
        // its socket at once (a restart of host-proxy waits for open ones).
        let rt = or_panic(tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build());
        let cli = or_panic(SwornCli::from_env());
        OverTls { cli, url, measurements, client, rt, dir: or_panic(TempDir::new("sworn-e2e-client")) }
    }

    /// `sworn COMMAND URL ARGS --pcrs M --emulator --credentials FILE`.
    fn sworn(&self, command: &str, args: &[&str]) -> std::process::Output {
        let m = self.measurements.to_string_lossy().into_owned();
        let creds = self.dir.path().join("credentials.json").to_string_lossy().into_owned();
        let mut all = vec![command, self.url.as_str()];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--pcrs", m.as_str(), "--emulator"]);
        if command != "attest" && !args.contains(&"--credentials") {
            all.extend_from_slice(&["--credentials", creds.as_str()]);
        }
        or_panic(self.cli.run(&all))
    }

    fn sworn_ok(&self, command: &str, args: &[&str]) -> String {
        let out = self.sworn(command, args);
        assert_eq!(out.status.code(), Some(0), "sworn {command} {args:?}: {}", describe(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// One verified connection, retried while the runner (re)starts.
    fn conn(&self) -> sworn::AttestedConnection {
        let deadline = Instant::now() + REQUEST_TIMEOUT;
        loop {
            match self.rt.block_on(self.client.open()) {
                Ok(c) => return c,
                Err(e) if Instant::now() >= deadline => panic!("verified connection to {}: {e}", self.url),
                Err(_) => std::thread::sleep(Duration::from_millis(250)),
            }
        }
    }

    /// GET `path` on a connection of its own, closed afterwards (an open
    /// one would hold host-proxy's drain on restart).
    fn get(&self, path: &str) -> sworn::HttpResponse {
        let mut conn = self.conn();
        or_panic(self.block_on(conn.get(path)))
    }

    fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// Writes WORKER and deploys it as `e2e` with `sworn deploy` (plus
    /// `extra` flags); returns its measurement from `sworn workers --json`.
    fn deploy(&self, e: &mut Enclave, extra: &[&str]) -> String {
        let file = self.dir.path().join("worker.js");
        or_panic(std::fs::write(&file, WORKER));
        let path = file.to_string_lossy().into_owned();
        let mut args = vec![path.as_str(), "--name", "e2e"];
        args.extend_from_slice(extra);
        let out = self.sworn_ok("deploy", &args);
        assert!(out.contains("deployed e2e") && out.contains("owner credential stored"), "{out}");
        let listed = self.listed_e2e();
        assert_eq!(listed["credentialStored"], true, "{listed}");
        let hello = get(e, "/workers/e2e/fetch/hello");
        assert_eq!((hello.status, hello.text().as_str()), (200, "hello from e2e"), "a plain worker call");
        listed["measurement"].as_str().expect("measurement").to_string()
    }

    /// The `e2e` worker's row of `sworn workers --json`.
    fn listed_e2e(&self) -> serde_json::Value {
        let out = self.sworn_ok("workers", &["--json"]);
        let list: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
        let found = list["workers"].as_array().and_then(|w| w.iter().find(|w| w["name"] == "e2e")).cloned();
        found.unwrap_or_else(|| panic!("no worker e2e in {list}"))
    }
}

/// The worker's outcome of fetching `url`.
fn worker_fetch(e: &mut Enclave, url: &str) -> serde_json::Value {
    let r = get(e, &format!("/workers/e2e/fetch/fetch?url={url}"));
    assert_eq!(r.status, 200, "worker fetch of {url}: {}", r.text());
    json(&r)
}

/// The HTTP status of a management API error.
fn status_of(r: Result<impl std::fmt::Debug, sworn::Error>) -> u16 {
    match r {
        Err(sworn::Error::Status { status, .. }) => status.as_u16(),
        other => panic!("expected an HTTP error status, got {other:?}"),
    }
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
fn workers_behind_host_proxy_deploy_over_tls_fetch_attest_and_survive_restarts() {
    let tools = or_panic(Tools::from_env());
    let inputs = or_panic(ImageInputs::from_env());
    let measurements = measurements_file();
    let host = or_panic(HostServer::http());
    let port = host.addr.port();
    // A loopback port no rule names: denied although something could listen there.
    let unlisted = port.wrapping_add(1).max(1024);
    let mut enclave = boot_allowing(&tools, &[port]);
    or_panic(enclave.console.wait_for("init: heartbeat acknowledged", BOOT_TIMEOUT));
    let health = or_panic(enclave.ingress_request("GET", "/health", &[], b"", BOOT_TIMEOUT));
    let first_response = enclave.started.elapsed();
    assert_eq!(health.status, 200, "GET /health through host-proxy: {}", health.text());

    // Management over plain HTTP is refused: the image terminates TLS.
    let body = serde_json::json!({ "name": "e2e", "type": "module", "code": WORKER }).to_string();
    let json_type = [("content-type", "application/json")];
    let plain = or_panic(enclave.ingress_request("POST", "/workers", &json_type, body.as_bytes(), REQUEST_TIMEOUT));
    assert_eq!(plain.status, 403, "plain POST /workers: {}", plain.text());
    assert!(plain.text().contains("requires TLS"), "{}", plain.text());

    // Deploy with `sworn` over attested TLS through host-proxy's ingress;
    // the worker's own calls stay plain (`--plain-http compat`).
    let tls = OverTls::new(&enclave, measurements.clone());
    let attest = tls.sworn_ok("attest", &[]);
    assert!(attest.contains("NOT AUTHENTICATED"), "{attest}");
    let measurement = tls.deploy(&mut enclave, &[]);

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

    // Memory inside the enclave, as the kernel and the runner see it (over TLS).
    let stats = tls.get("/stats");
    let stats: serde_json::Value = serde_json::from_slice(&stats.body).unwrap_or_else(|e| panic!("{e}"));
    let (used, total, rss) =
        (mib(&stats["system"]["memUsed"]), mib(&stats["system"]["memTotal"]), mib(&stats["memoryUsage"]));
    assert!(total > 0.0 && used > 0.0 && rss > 0.0, "/stats: {stats}");

    // Owner rules through host-proxy: the stored credential reads the logs;
    // no credential is 401, another worker's 403; a credential over plain
    // HTTP is refused before it is looked at.
    let logs = tls.sworn_ok("logs", &["e2e"]);
    assert!(!logs.contains("error"), "{logs}");
    let other = sworn::api::DeployRequest {
        code: WORKER.into(),
        name: "other".into(),
        kind: Some("module".into()),
        schedule: None,
        config: None,
        args: None,
    };
    let mut conn = tls.conn();
    let other = or_panic(tls.block_on(conn.deploy(&other)));
    let other_credential = other.credential.clone().expect("an owner credential");
    assert_eq!(status_of(tls.block_on(conn.logs("e2e", None))), 401, "no credential");
    assert_eq!(status_of(tls.block_on(conn.logs("e2e", Some(&other_credential)))), 403, "another worker's credential");
    assert_eq!(status_of(tls.block_on(conn.delete("e2e", Some(&other_credential)))), 403, "delete with another's");
    let bearer = format!("Bearer {other_credential}");
    let leaked = or_panic(enclave.ingress_request(
        "GET",
        "/workers/other/logs",
        &[("authorization", &bearer)],
        b"",
        REQUEST_TIMEOUT,
    ));
    assert_eq!(leaked.status, 403, "a credential over plain HTTP: {}", leaked.text());
    assert!(leaked.text().contains("only over TLS"), "{}", leaked.text());
    or_panic(tls.block_on(conn.delete("other", Some(&other_credential))));
    drop(conn);

    // The worker's ephemeral account, to compare after the restart.
    let account = get(&mut enclave, "/workers/e2e/fetch/account");
    assert_eq!(account.status, 200, "{}", account.text());
    let address = account.text();
    assert!(address.starts_with("0x") && address.len() == 42, "{address}");
    let id = tls.listed_e2e()["id"].as_str().expect("id").to_string();

    // Kill the runner inside the enclave (SysRq i: SIGKILL to all but init);
    // init restarts it and the runner restores its workers from the state
    // journal in /run (enclave RAM): same id, measurement, account and owner.
    let kill_at = Instant::now();
    or_panic(enclave.sysrq('i'));
    let ended = or_panic(enclave.console.wait_for("killed by signal 9", Duration::from_secs(60)));
    or_panic(enclave.console.wait_for("init: child restarted as pid", Duration::from_secs(60)));
    let health = get(&mut enclave, "/health");
    assert_eq!(health.status, 200, "{}", health.text());
    let recovered = kill_at.elapsed();
    let listed = {
        let mut conn = tls.conn();
        or_panic(tls.block_on(conn.workers()))
    };
    assert_eq!(listed.len(), 1, "the worker is restored: {listed:?}");
    let restored = tls.listed_e2e();
    assert_eq!(restored["id"], id.as_str(), "{restored}");
    assert_eq!(restored["measurement"], measurement.as_str(), "{restored}");
    tls.sworn_ok("logs", &["e2e"]);
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
    let deleted = tls.sworn_ok("delete", &["e2e"]);
    assert!(deleted.contains("deleted e2e"), "{deleted}");
    let gone = get(&mut enclave, "/workers/e2e/fetch/hello");
    assert_eq!(gone.status, 404, "{}", gone.text());

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
/// `127.0.0.1:port` for each of `ports` (the host's test servers) on top of
/// the defaults.
fn boot_allowing(tools: &Tools, ports: &[u16]) -> Enclave {
    let allow = ports.iter().flat_map(|p| ["--allow".to_string(), format!("127.0.0.1:{p}")]).collect();
    let proxy = or_panic(ProxyOptions::from_env(allow));
    or_panic(Enclave::boot_behind_proxy(tools, &BootOptions::default(), &proxy))
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A variant of the reference image whose `/cmd` adds what an operator
/// measures into PCR2: a CA the host's HTTPS test server chains to
/// (`--egress-ca`), an operator CA (`--operator-ca`, with `--deploy
/// operator`) and the enclave's own egress allowlist (`--egress-allow`).
/// HTTPS from a worker ends inside the enclave; only operators deploy; a
/// fetch outside the allowlist is refused before host-proxy sees it, even
/// though host-proxy's policy would let it through.
#[test]
#[ignore = "boots a variant of build/runner.eif under QEMU behind host-proxy: run `make test-e2e`"]
fn operator_image_fetches_https_with_its_ca_and_keeps_to_its_egress_allowlist() {
    let tools = or_panic(Tools::from_env());
    let inputs = or_panic(ImageInputs::from_env());
    let ca = or_panic(TestCa::new());
    let https = or_panic(HostServer::https(&ca));
    let port = https.addr.port();
    // Allowed by host-proxy, not by the enclave's own list.
    let outside = or_panic(HostServer::http());
    let outside_port = outside.addr.port();
    let operators = or_panic(TestCa::new());
    let operator = or_panic(operators.client_identity("e2e operator"));
    let stranger = or_panic(or_panic(TestCa::new()).client_identity("not an operator"));
    let dir = or_panic(TempDir::new("sworn-e2e-operator"));
    let cmd = [
        "/usr/bin/runner".to_string(),
        "--listen".into(),
        format!("vsock:-1:{}", sworn_wire::port::RUNNER),
        "--fetch".into(),
        "egress".into(),
        "--tls".into(),
        "--plain-http".into(),
        "compat".into(),
        "--egress-ca".into(),
        "/etc/sworn/test-ca.pem".into(),
        "--operator-ca".into(),
        "/etc/sworn/operator-ca.pem".into(),
        "--deploy".into(),
        "operator".into(),
        "--egress-allow".into(),
        format!("localhost:{port}"),
        "--egress-allow".into(),
        format!("127.0.0.1:{port}"),
    ]
    .map(|a| a + "\n")
    .concat();
    let files: [(&str, &[u8]); 2] = [
        ("rootfs/etc/sworn/test-ca.pem", ca.ca_pem.as_bytes()),
        ("rootfs/etc/sworn/operator-ca.pem", operators.ca_pem.as_bytes()),
    ];
    let eif = or_panic(inputs.build_variant(dir.path(), &cmd, &files));
    let tools = Tools { eif, ..tools };
    // The variant's own measurements: `eif build` writes them beside it.
    let measurements = tools.eif_json();
    let mut enclave = boot_allowing(&tools, &[port, outside_port]);
    or_panic(enclave.ingress_request("GET", "/health", &[], b"", BOOT_TIMEOUT));

    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        or_panic(std::fs::write(&path, text));
        path.to_string_lossy().into_owned()
    };
    let (cert, key) = (write("operator.pem", &operator.cert_pem), write("operator.key", &operator.key_pem));
    let (other_cert, other_key) = (write("stranger.pem", &stranger.cert_pem), write("stranger.key", &stranger.key_pem));

    // `--deploy operator`: without a certificate, and with one from
    // another CA, deploying is refused; the operator's deploys.
    let tls = OverTls::new(&enclave, measurements);
    let file = write("worker.js", WORKER);
    let anonymous = tls.sworn("deploy", &[&file, "--name", "e2e"]);
    assert_eq!(anonymous.status.code(), Some(1), "deploy without a certificate: {}", describe(&anonymous));
    assert!(String::from_utf8_lossy(&anonymous.stderr).contains("only operators"), "{}", describe(&anonymous));
    let strange = tls.sworn("deploy", &[&file, "--name", "e2e", "--cert", &other_cert, "--key", &other_key]);
    assert_eq!(strange.status.code(), Some(1), "a certificate of another CA: {}", describe(&strange));
    tls.deploy(&mut enclave, &["--cert", &cert, "--key", &key]);

    let ok = worker_fetch(&mut enclave, &format!("https://localhost:{port}/secret-path"));
    // localhost resolves on the host; only 127.0.0.1 is allowed, and ::1
    // must not be needed for the fetch to succeed.
    assert_eq!(ok["ok"], true, "{ok}");
    assert_eq!(ok["body"], "https hello from the host: /secret-path", "{ok}");
    let direct = worker_fetch(&mut enclave, &format!("https://127.0.0.1:{port}/by-address"));
    assert_eq!(direct["body"], "https hello from the host: /by-address", "{direct}");
    assert_eq!(https.requests(), ["GET /secret-path", "GET /by-address"]);

    // Outside --egress-allow: a TypeError naming the rule, and neither
    // host-proxy nor the server saw a connection.
    let refused = worker_fetch(&mut enclave, &format!("http://127.0.0.1:{outside_port}/should-not-leave"));
    let error = refused["error"].as_str().unwrap_or_default();
    assert!(error.starts_with("TypeError") && error.contains("--egress-allow"), "{refused}");
    assert!(outside.requests().is_empty(), "the server outside the allowlist was reached: {:?}", outside.requests());
    let log = enclave.proxy_log().expect("host-proxy's log");
    assert!(
        !log.grep(&format!("dest=127.0.0.1:{port}")).is_empty(),
        "host-proxy logs the destinations it is asked for"
    );
    let seen = log.grep(&format!("dest=127.0.0.1:{outside_port}"));
    assert!(seen.is_empty(), "host-proxy was asked for the destination outside the allowlist: {seen:?}");

    // An operator deletes any worker, without its owner's credential.
    let fresh = dir.path().join("no-credentials.json").to_string_lossy().into_owned();
    let deleted = tls.sworn("delete", &["e2e", "--cert", &cert, "--key", &key, "--credentials", &fresh]);
    assert_eq!(deleted.status.code(), Some(0), "an operator deletes: {}", describe(&deleted));

    let status = or_panic(enclave.shutdown(SHUTDOWN_TIMEOUT));
    assert!(status.success(), "QEMU exit status after SIGTERM: {status}");
    eprintln!(
        "e2e: operator image: HTTPS fetch with TLS ended in the enclave, operators-only deploy, egress allowlist held"
    );
}
