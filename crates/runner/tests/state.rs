//! `--state-dir`: workers, their ids, measurements, ephemeral accounts and
//! schedules survive a runner killed with SIGKILL; bad journal entries are
//! reported and skipped; deleting a worker deletes its entry; without the
//! flag nothing is written.

mod common;

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{test_limits, TestRunner};
use serde_json::Value;
use sworn_runner::http_client::NoNetwork;
use sworn_runner::services::EnclaveServices;

const TICKER: &str = r#"
async function address(env) {
  const res = await env.iam.fetch("http://escrin", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ method: "get-account", params: { id: "ephemeral-account" } }),
  });
  return (await res.json()).address;
}
export default {
  async fetch(req, env) { return new Response(await address(env)); },
  scheduled(event) { console.log("tick " + event.cron); },
};
"#;

const CLASSIC: &str = r#"
addEventListener("fetch", (event) => event.respondWith((async () => {
  const res = await iam.fetch("http://escrin", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ method: "get-account", params: { id: "ephemeral-account" } }),
  });
  return new Response((await res.json()).address + " " + config.who);
})()));
"#;

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// The real binary, listening on a fresh port.
struct Binary {
    child: Child,
    client: TestRunner,
}

impl Binary {
    async fn start(extra: &[&str], cwd: &Path) -> Binary {
        Self::start_with_env(extra, cwd, &[]).await
    }

    async fn start_with_env(extra: &[&str], cwd: &Path, env: &[(&str, &str)]) -> Binary {
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_runner"))
            .env_remove("GAS_KEY")
            .envs(env.iter().copied())
            .args(["--listen", &format!("tcp:127.0.0.1:{port}"), "--fetch", "none", "--nsm", "off", "--threads", "2"])
            .args(extra)
            .current_dir(cwd)
            .env("RUNNER_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn runner");
        let client = TestRunner::connect(format!("http://127.0.0.1:{port}"));
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() && client.get("/health").await.status == 200 {
                break;
            }
            assert!(Instant::now() < deadline, "runner did not become ready");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Binary { child, client }
    }

    /// SIGKILL: no drain, no destructor, nothing flushed; returns stderr.
    fn kill(mut self) -> String {
        // SAFETY: plain kill(2) on our own child.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGKILL) };
        let status = self.child.wait().expect("wait");
        assert!(!status.success(), "runner exited by itself: {status:?}");
        let mut stderr = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut stderr);
        }
        stderr
    }
}

/// `(id, measurement)` of every listed worker, by name.
async fn listed(r: &TestRunner) -> Vec<(String, String, String)> {
    let list = r.get("/workers").await.json();
    let mut out: Vec<(String, String, String)> = list["workers"]
        .as_array()
        .expect("workers")
        .iter()
        .map(|w| {
            let s = |k: &str| w[k].as_str().expect(k).to_string();
            (s("name"), s("id"), s("measurement"))
        })
        .collect();
    out.sort();
    out
}

/// The worker entries in `dir` (the gas key's file beside them is not one).
fn entry_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("state dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name != sworn_runner::state::GAS_KEY_FILE)
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_accounts_and_schedules_survive_sigkill_and_bad_entries_are_skipped() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let state = tmp.path().join("state");
    let state_arg = state.to_str().expect("utf-8 path");
    let first = Binary::start(&["--state-dir", state_arg], tmp.path()).await;
    let r = &first.client;
    let created = r
        .create(serde_json::json!({ "code": TICKER, "type": "module", "name": "ticker", "schedule": "*/5 * * * *" }))
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let created = r
        .create(serde_json::json!({ "code": CLASSIC, "type": "sw", "name": "classic", "config": { "who": "sw" } }))
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let before = listed(r).await;
    let ticker_address = r.fetch("ticker", "").await.text();
    let classic_reply = r.fetch("classic", "").await.text();
    assert!(ticker_address.starts_with("0x") && ticker_address.len() == 42, "{ticker_address}");
    assert!(classic_reply.ends_with(" sw"), "{classic_reply}");
    assert_ne!(classic_reply, format!("{ticker_address} sw"), "each worker has its own account");
    let created_ms = r.owner_get("/workers/ticker").await.json()["created"].clone();
    let ticker_credential = r.credential("ticker").expect("credential issued");

    let dir_mode = std::fs::metadata(&state).expect("state dir").permissions().mode() & 0o777;
    assert_eq!(dir_mode, 0o700);
    for (_, id, _) in &before {
        let mode = std::fs::metadata(state.join(format!("{id}.json"))).expect("entry").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let secrets: Vec<String> = before
        .iter()
        .map(|(_, id, _)| {
            let entry: Value =
                serde_json::from_slice(&std::fs::read(state.join(format!("{id}.json"))).expect("entry")).expect("json");
            assert_eq!(entry["version"], 1, "{id}");
            entry["ephemeralAccount"]["secret"].as_str().expect("secret journaled").to_string()
        })
        .collect();
    let stderr = first.kill();
    for secret in &secrets {
        assert!(!stderr.contains(secret.as_str()), "a key is in the log");
    }
    assert!(!stderr.contains(&ticker_credential[4..]), "a credential is in the log");

    // A truncated copy of a good entry and a garbage file.
    let good = std::fs::read(state.join(format!("{}.json", before[0].1))).expect("entry");
    std::fs::write(state.join("00000000000000aa.json"), &good[..good.len() / 2]).expect("truncated");
    std::fs::write(state.join("garbage.json"), b"\x00\xffnot json at all").expect("garbage");
    let mut future: Value = serde_json::from_slice(&good).expect("json");
    future["version"] = 2.into();
    future["id"] = "00000000000000bb".into();
    std::fs::write(state.join("00000000000000bb.json"), future.to_string()).expect("unknown version");

    let second = Binary::start(&["--state-dir", state_arg], tmp.path()).await;
    let r = &second.client;
    r.remember("ticker", &ticker_credential);
    assert_eq!(listed(r).await, before, "same workers, ids and measurements");
    assert_eq!(r.fetch("ticker", "").await.text(), ticker_address, "same account");
    assert_eq!(r.fetch("classic", "").await.text(), classic_reply, "same account and config");
    let details = r.owner_get("/workers/ticker").await.json();
    assert_eq!(details["schedule"], "*/5 * * * *");
    assert_eq!(details["created"], created_ms);
    let next = details["nextScheduled"].as_u64().expect("next run");
    let now_ms = sworn_runner::registry::unix_ms();
    assert!(next > now_ms && next <= now_ms + 5 * 60_000 && next % 300_000 == 0, "{details}");
    let stderr = second.kill();
    for secret in &secrets {
        assert!(!stderr.contains(secret.as_str()), "a key is in the log");
    }
    for bad in [
        "00000000000000aa.json: not valid JSON",
        "00000000000000bb.json: format version 2 is not the supported 1",
        "garbage.json: not valid JSON",
    ] {
        assert!(stderr.contains(bad), "{bad:?} not reported in:\n{stderr}");
    }

    // And in process, where the cron tick can be driven: the schedule fires.
    let bindings = Arc::new(EnclaveServices::new(None, sworn_nsm::UserDataPolicy::BindWorker).bindings());
    let third = TestRunner::start_full(test_limits(), Arc::new(NoNetwork), bindings, Some(state.clone())).await;
    assert_eq!(listed(&third).await, before);
    third.remember("ticker", &ticker_credential);
    assert_eq!(third.fetch("ticker", "").await.text(), ticker_address);
    let running = third.running.as_ref().expect("running");
    // /stats shows each skipped file and why.
    let stats = third.get("/stats").await.json();
    assert_eq!(stats["state"]["dir"], state.display().to_string(), "{stats}");
    let skipped = stats["state"]["skipped"].as_array().cloned().unwrap_or_default();
    let mut shown: Vec<String> = skipped
        .iter()
        .map(|s| {
            let file = s["file"].as_str().and_then(|f| f.rsplit('/').next()).unwrap_or_default();
            format!("{file}: {}", s["reason"].as_str().unwrap_or_default())
        })
        .collect();
    shown.sort();
    assert_eq!(shown.len(), 3, "{stats}");
    assert!(shown[0].starts_with("00000000000000aa.json: not valid JSON"), "{shown:?}");
    assert!(shown[1].starts_with("00000000000000bb.json: format version 2 is not the supported 1"), "{shown:?}");
    assert!(shown[2].starts_with("garbage.json: not valid JSON"), "{shown:?}");
    let on_the_fifth = sworn_runner::cron::Minute { minute: 5, hour: 3, day: 2, month: 12, weekday: 3 };
    let off = sworn_runner::cron::Minute { minute: 6, ..on_the_fifth };
    assert_eq!(sworn_runner::app::fire_due(&running.pool, off), 0);
    assert_eq!(sworn_runner::app::fire_due(&running.pool, on_the_fifth), 1);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let logs = third.owner_get("/workers/ticker/logs").await.text();
        if logs.contains("tick */5 * * * *") {
            break;
        }
        assert!(Instant::now() < deadline, "scheduled handler did not run: {logs}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_worker_deletes_its_journal_entry() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let bindings = || Arc::new(EnclaveServices::new(None, sworn_nsm::UserDataPolicy::BindWorker).bindings());
    let state = tmp.path().to_path_buf();
    let r = TestRunner::start_full(test_limits(), Arc::new(NoNetwork), bindings(), Some(state.clone())).await;
    let keep = r.deploy("keep", "module", "export default { fetch() { return new Response('k') } }").await;
    let gone = r.deploy("gone", "module", "export default { fetch() { return new Response('g') } }").await;
    // Escrin's `POST /` (urlencoded here) is journaled like `POST /workers`.
    let escrin = r
        .request(
            "POST",
            "/",
            &[("content-type", "application/x-www-form-urlencoded")],
            "name=anon&type=sw&code=addEventListener('fetch',e=>e.respondWith(new%20Response('a')))",
        )
        .await;
    assert_eq!(escrin.status, 204, "{}", escrin.text());
    let anon = listed(&r).await.into_iter().find(|(name, _, _)| name == "anon").expect("anon listed").1;
    let mut all = vec![format!("{keep}.json"), format!("{gone}.json"), format!("{anon}.json")];
    all.sort();
    assert_eq!(entry_files(&state), all);
    assert_eq!(r.owner_request("DELETE", "/workers/gone", "").await.status, 204);
    all.retain(|f| *f != format!("{gone}.json"));
    assert_eq!(entry_files(&state), all);
    // Without an owner (and with no operator on a runner without TLS), the
    // anonymous worker cannot be deleted: its entry stays.
    assert_eq!(r.request("DELETE", "/workers/anon", &[], "").await.status, 403);
    assert_eq!(entry_files(&state), all);
    drop(r);
    let again = TestRunner::start_full(test_limits(), Arc::new(NoNetwork), bindings(), Some(state)).await;
    let names: Vec<String> = listed(&again).await.into_iter().map(|(name, _, _)| name).collect();
    assert_eq!(names, vec!["anon".to_string(), "keep".to_string()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_boot_worker_keeps_its_id_and_account_across_sigkill() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("ticker.mjs");
    std::fs::write(&file, TICKER).expect("write worker");
    let state = tmp.path().join("state");
    let args = ["--state-dir", state.to_str().expect("utf-8"), "--worker", file.to_str().expect("utf-8")];
    let first = Binary::start(&args, tmp.path()).await;
    let before = listed(&first.client).await;
    let address = first.client.fetch("ticker", "").await.text();
    first.kill();
    let second = Binary::start(&args, tmp.path()).await;
    assert_eq!(listed(&second.client).await, before);
    assert_eq!(second.client.fetch("ticker", "").await.text(), address);
    second.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_state_dir_nothing_is_written() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let binary = Binary::start(&[], tmp.path()).await;
    let r = &binary.client;
    assert_eq!(r.create(serde_json::json!({ "code": TICKER, "name": "t", "schedule": "@hourly" })).await.status, 201);
    assert!(r.fetch("t", "").await.text().starts_with("0x"));
    binary.kill();
    assert!(entry_files(tmp.path()).is_empty(), "{:?}", entry_files(tmp.path()));
    let in_process = TestRunner::start(test_limits()).await;
    assert!(in_process.running.as_ref().expect("running").pool.shared.registry.journal().is_none());
}

/// The gas key is born in the enclave and kept in the state directory: the
/// address the operator funded survives SIGKILL, the key file is 0600 and is
/// not taken for a worker entry; a file that cannot be read is set aside
/// and a new key made. Escrin's `GAS_KEY` is used when set, and not kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gas_account_survives_sigkill_and_gas_key_from_the_environment_is_used_and_not_kept() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let state = tmp.path().join("state");
    let args = ["--state-dir", state.to_str().expect("utf-8")];
    let first = Binary::start(&args, tmp.path()).await;
    let gas = first.client.get("/gas-account").await.json();
    assert_eq!(gas["origin"], "enclave", "{gas}");
    let address = gas["address"].as_str().expect("address").to_string();
    assert_eq!(first.client.get("/health").await.json()["gasAccount"], address.as_str());
    first.kill();
    let key_file = state.join(sworn_runner::state::GAS_KEY_FILE);
    let mode = std::fs::metadata(&key_file).expect("gas key file").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    let second = Binary::start(&args, tmp.path()).await;
    assert_eq!(second.client.get("/gas-account").await.json()["address"], address.as_str());
    let stats = second.client.get("/stats").await.json();
    assert_eq!(stats["state"]["skipped"], serde_json::json!([]), "{stats}");
    second.kill();

    std::fs::write(&key_file, b"{\"secret\": 7}").expect("spoil the key file");
    let third = Binary::start(&args, tmp.path()).await;
    let fresh = third.client.get("/gas-account").await.json();
    assert_ne!(fresh["address"], address.as_str());
    let stderr = third.kill();
    assert!(stderr.contains("gas key is unusable"), "{stderr}");
    assert!(state.join(format!("{}.unusable", sworn_runner::state::GAS_KEY_FILE)).exists());

    // Hardhat's first well-known account, as an Escrin deploy script passes it.
    let env = [("GAS_KEY", "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")];
    let fresh_state = tmp.path().join("state-env");
    let env_args = ["--state-dir", fresh_state.to_str().expect("utf-8")];
    let fourth = Binary::start_with_env(&env_args, tmp.path(), &env).await;
    let given = fourth.client.get("/gas-account").await.json();
    assert_eq!(
        given,
        serde_json::json!({ "address": "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", "origin": "environment" })
    );
    let stderr = fourth.kill();
    assert!(!stderr.contains("ac0974bec39a17e36ba4a6b4d238ff944bacb478"), "the key reached the log");
    assert!(!fresh_state.join(sworn_runner::state::GAS_KEY_FILE).exists(), "a key from the environment is not kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wasi_worker_comes_back_with_its_module_measurement_and_arguments() {
    use base64ct::Encoding;
    let path = common::wasi_example("cgi");
    let module = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (run `make wasi-examples`)", path.display()));
    let tmp = tempfile::tempdir().expect("tempdir");
    let bindings = || Arc::new(EnclaveServices::new(None, sworn_nsm::UserDataPolicy::BindWorker).bindings());
    let state = tmp.path().to_path_buf();
    let r = TestRunner::start_full(test_limits(), Arc::new(NoNetwork), bindings(), Some(state.clone())).await;
    let body = serde_json::json!({
        "name": "cgi", "type": "wasi", "args": ["kept"], "code": base64ct::Base64::encode_string(&module),
    });
    assert_eq!(r.create(body).await.status, 201);
    let before = listed(&r).await;
    drop(r);
    let again = TestRunner::start_full(test_limits(), Arc::new(NoNetwork), bindings(), Some(state)).await;
    assert_eq!(listed(&again).await, before, "same id and measurement");
    let echo = again.fetch("cgi", "echo").await;
    assert_eq!(echo.status, 200, "{}", echo.text());
    assert!(echo.text().contains("arg=kept"), "{}", echo.text());
}
