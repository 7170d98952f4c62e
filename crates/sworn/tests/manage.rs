//! `sworn deploy | workers | logs | delete` against the test server: the
//! owner credential is stored, used and forgotten; the credentials file is
//! private; operators use mutual TLS.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::{pcrs_file, sworn, sworn_env, text, Mode, Operator, Server, GOOD};

struct Setup {
    server: Server,
    dir: tempfile::TempDir,
    pcrs: String,
    creds: String,
    worker: String,
}

fn setup_with(operator: Option<&Operator>, dir: tempfile::TempDir) -> Setup {
    let server = Server::start_with(Mode::Genuine, operator);
    let pcrs = pcrs_file(dir.path(), GOOD).to_str().unwrap().to_owned();
    let creds = dir.path().join("creds/credentials.json").to_str().unwrap().to_owned();
    let worker = dir.path().join("hello.js");
    std::fs::write(&worker, "export default { fetch() { return new Response('hi') } }").unwrap();
    Setup { server, dir, pcrs, creds, worker: worker.to_str().unwrap().to_owned() }
}

fn setup() -> Setup {
    setup_with(None, tempfile::tempdir().unwrap())
}

impl Setup {
    /// `sworn SUB URL [args] --pcrs … --emulator --credentials …`.
    fn run(&self, sub: &str, args: &[&str]) -> std::process::Output {
        let mut all = vec![sub, self.server.url.as_str()];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--pcrs", &self.pcrs, "--emulator", "--credentials", &self.creds]);
        sworn(&all)
    }

    fn deploy(&self, name: &str) -> std::process::Output {
        self.run("deploy", &[&self.worker, "--name", name])
    }

    fn stored(&self) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(&self.creds).unwrap()).unwrap()
    }
}

fn mode(path: &str) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn deploy_workers_logs_delete_store_use_and_forget_the_credential() {
    let s = setup();
    let out = s.run(
        "deploy",
        &[
            &s.worker,
            "--name",
            "hello",
            "--schedule",
            "*/5 * * * *",
            "--config",
            r#"{"greeting":"hi"}"#,
            "--type",
            "module",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("owner credential stored in"), "{}", text(&out.stdout));
    assert_eq!(mode(&s.creds), 0o600, "the credentials file is private");
    let worker = s.server.seen.lock().unwrap().workers.values().next().unwrap().clone();
    assert_eq!(worker.body["schedule"], "*/5 * * * *");
    assert_eq!(worker.body["config"]["greeting"], "hi");
    assert_eq!(worker.body["type"], "module");
    let entry = &s.stored()["runners"][&s.server.url]["hello"];
    assert_eq!(entry["credential"], worker.credential.as_str());
    assert_eq!(entry["id"], worker.id.as_str());

    let out = s.run("workers", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let listing = text(&out.stdout);
    assert!(listing.contains("hello") && listing.contains("stored"), "{listing}");

    let out = s.run("logs", &["hello"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("hello from hello"), "{}", text(&out.stdout));
    assert!(text(&out.stderr).contains("dropped 2"), "{}", text(&out.stderr));

    // By id as well as by name.
    let out = s.run("delete", &[&worker.id]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(s.server.seen.lock().unwrap().workers.is_empty());
    let bearer = format!("Bearer {}", worker.credential);
    let seen = s.server.seen.lock().unwrap();
    assert_eq!(seen.authorizations, [Some(bearer.clone()), Some(bearer)], "logs and delete sent the credential");
    assert!(s.stored()["runners"].as_object().unwrap().is_empty(), "delete forgot it: {}", s.stored());
    assert_eq!(mode(&s.creds), 0o600, "still private after the rewrite");
}

#[test]
fn a_group_or_world_readable_credentials_file_is_refused_naming_file_and_mode() {
    let s = setup();
    assert_eq!(s.deploy("hello").status.code(), Some(0));
    std::fs::set_permissions(&s.creds, std::fs::Permissions::from_mode(0o644)).unwrap();
    let before = std::fs::read(&s.creds).unwrap();
    for (sub, args) in
        [("logs", vec!["hello"]), ("delete", vec!["hello"]), ("deploy", vec![s.worker.as_str(), "--name", "b"])]
    {
        let out = s.run(sub, &args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{sub}: {stderr}");
        assert!(stderr.contains(&s.creds) && stderr.contains("0644"), "{sub}: {stderr}");
    }
    assert_eq!(std::fs::read(&s.creds).unwrap(), before, "the file was left alone");
    assert_eq!(s.server.seen.lock().unwrap().workers.len(), 1, "nothing deployed or deleted");
}

#[test]
fn the_default_credentials_file_is_under_xdg_config_home() {
    let server = Server::start(Mode::Genuine);
    let dir = tempfile::tempdir().unwrap();
    let pcrs = pcrs_file(dir.path(), GOOD);
    let worker = dir.path().join("w.js");
    std::fs::write(&worker, "addEventListener('fetch', () => {})").unwrap();
    let config = dir.path().join("config");
    let args = [
        "deploy",
        &server.url,
        worker.to_str().unwrap(),
        "--name",
        "sw1",
        "--type",
        "sw",
        "--pcrs",
        pcrs.to_str().unwrap(),
        "--emulator",
    ];
    let out = sworn_env(&args, &[("XDG_CONFIG_HOME", &config)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let file = config.join("sworn/credentials.json");
    assert_eq!(mode(file.to_str().unwrap()), 0o600);
    assert!(std::fs::read_to_string(&file).unwrap().contains("sw1"));
    assert_eq!(std::fs::metadata(config.join("sworn")).unwrap().permissions().mode() & 0o777, 0o700);
}

#[test]
fn without_a_stored_credential_the_runners_401_is_shown_with_the_missing_credential() {
    let s = setup();
    assert_eq!(s.deploy("hello").status.code(), Some(0));
    std::fs::remove_file(&s.creds).unwrap();
    let out = s.run("logs", &["hello"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("HTTP 401") && stderr.contains("owner credential"), "the runner's error: {stderr}");
    assert!(stderr.contains("no credential for \"hello\"") && stderr.contains(&s.creds), "{stderr}");
    assert_eq!(s.server.seen.lock().unwrap().authorizations, [None]);
}

#[test]
fn an_operator_certificate_reaches_a_worker_without_a_credential() {
    let dir = tempfile::tempdir().unwrap();
    let op = Operator::new(dir.path());
    let s = setup_with(Some(&op), dir);
    assert_eq!(s.deploy("hello").status.code(), Some(0));
    let other = s.dir.path().join("other.json");
    let (cert, key) = (op.cert.to_str().unwrap(), op.key.to_str().unwrap());
    let out = sworn(&[
        "delete",
        &s.server.url,
        "hello",
        "--pcrs",
        &s.pcrs,
        "--emulator",
        "--credentials",
        other.to_str().unwrap(),
        "--cert",
        cert,
        "--key",
        key,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let seen = s.server.seen.lock().unwrap();
    assert_eq!((seen.operator.as_slice(), seen.authorizations.as_slice()), (&[true][..], &[None][..]));
    assert!(seen.workers.is_empty());
}

#[test]
fn bad_management_input_exits_2_before_any_request() {
    let s = setup();
    let missing_key = s.dir.path().join("missing.key");
    let cases: [(&str, Vec<&str>, &str); 3] = [
        ("deploy", vec![s.worker.as_str(), "--name", "x", "--config", "{not json"], "--config"),
        ("deploy", vec!["/nonexistent/w.js", "--name", "x"], "/nonexistent/w.js"),
        ("workers", vec!["--cert", s.worker.as_str(), "--key", missing_key.to_str().unwrap()], "client certificate"),
    ];
    for (sub, args, want) in cases {
        let out = s.run(sub, &args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{sub} {args:?}: {stderr}");
        assert!(stderr.contains(want), "{stderr}");
    }
    assert_eq!(s.server.requests.load(std::sync::atomic::Ordering::SeqCst), 0);
    assert!(!Path::new(&s.creds).exists());
}

#[test]
fn a_wasm_file_is_deployed_as_a_wasi_worker_in_base64_with_its_arguments() {
    let s = setup();
    // The smallest module: magic and version. The runner checks the rest.
    let module = b"\0asm\x01\0\0\0";
    let file = s.dir.path().join("tool.wasm");
    std::fs::write(&file, module).unwrap();
    let out = s.run("deploy", &[file.to_str().unwrap(), "--name", "tool", "--arg", "-v", "--arg", "two words"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let body = s.server.seen.lock().unwrap().workers.values().next().unwrap().body.clone();
    assert_eq!(body["type"], "wasi");
    assert_eq!(body["code"], "AGFzbQEAAAA=", "the module's bytes in base64");
    assert_eq!(body["args"], serde_json::json!(["-v", "two words"]));
}

#[test]
fn arguments_for_a_javascript_worker_are_refused_before_anything_is_sent() {
    let s = setup();
    let out = s.run("deploy", &[&s.worker, "--name", "hello", "--arg", "x"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("--arg: only a wasi worker"), "{}", text(&out.stderr));
    assert!(s.server.seen.lock().unwrap().workers.is_empty(), "nothing deployed");
}
