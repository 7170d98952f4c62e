//! Owned workers over plain HTTP on a runner without TLS (local
//! development: credentials are issued and accepted there): the credential
//! of `POST /workers`, what needs it, replacing by name, workers without an
//! owner, bad `Authorization` headers, and an owner that survives a restart.
//! Then what a plain client gets from a runner with TLS enabled, and
//! `--deploy operator` (the harness has no TLS, so no operator: the
//! operator side of the rules is unit-tested in `auth.rs`).

mod common;

use std::sync::Arc;

use common::{test_limits, Reply, TestRunner};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sworn_runner::http_client::NoNetwork;

const V1: &str = "export default { fetch() { return new Response('v1') } }";
const V2: &str = "export default { fetch() { return new Response('v2') } }";
const ECHO_AUTH: &str =
    "export default { fetch(req) { return new Response(req.headers.get('authorization') || 'none') } }";

fn bearer(credential: &str) -> String {
    format!("Bearer {credential}")
}

async fn with_auth(r: &TestRunner, method: &str, path: &str, authorization: &str) -> Reply {
    r.request(method, path, &[("authorization", authorization)], "").await
}

fn error_of(reply: &Reply) -> String {
    reply.json()["error"].as_str().unwrap_or_else(|| panic!("no error in {}", reply.text())).to_string()
}

fn assert_challenge(reply: &Reply, what: &str) {
    assert_eq!(reply.status, 401, "{what}: {}", reply.text());
    let challenge = reply.headers.get("www-authenticate").map(|v| v.to_str().unwrap_or(""));
    assert_eq!(challenge, Some("Bearer realm=\"sworn\""), "{what}");
}

/// Creates worker `name` with `code` and returns its id and credential.
async fn create(r: &TestRunner, name: &str, code: &str) -> (String, String) {
    let reply = r.create(json!({ "code": code, "type": "module", "name": name })).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    let v = reply.json();
    (v["id"].as_str().expect("id").to_string(), v["credential"].as_str().expect("credential").to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creating_a_worker_issues_a_credential_that_no_public_route_shows() {
    let r = TestRunner::start(test_limits()).await;
    let reply = r.create(json!({ "code": V1, "type": "module", "name": "a" })).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    let v = reply.json();
    let mut keys: Vec<&str> = v.as_object().expect("object").keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["credential", "id", "measurement", "name"]);
    let credential = v["credential"].as_str().expect("credential");
    let hex = credential.strip_prefix("swc_").expect("swc_ prefix");
    assert!(hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)), "{hex}");
    let (_, other) = create(&r, "b", V1).await;
    assert_ne!(credential, other, "every worker gets its own credential");

    let list = r.get("/workers").await;
    assert_eq!(list.status, 200);
    for w in list.json()["workers"].as_array().expect("workers") {
        let mut keys: Vec<&str> = w.as_object().expect("object").keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(keys, ["id", "measurement", "name"], "{w}");
    }
    assert_eq!(r.get("/health").await.status, 200);
    for path in ["/workers", "/health", "/stats", "/workers/a"] {
        let text = with_auth(&r, "GET", path, &bearer(credential)).await.text();
        assert!(!text.contains(hex), "{path} shows the credential: {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn details_logs_and_delete_need_the_owners_credential() {
    let r = TestRunner::start(test_limits()).await;
    let (id, mine) = create(&r, "a", V1).await;
    let (_, theirs) = create(&r, "b", V1).await;
    for (method, path) in
        [("GET", "/workers/a"), ("GET", &format!("/workers/{id}/logs") as &str), ("DELETE", "/workers/a")]
    {
        let none = r.request(method, path, &[], "").await;
        assert_challenge(&none, &format!("{method} {path} without a credential"));
        assert!(error_of(&none).contains("send its credential"), "{}", none.text());
        let wrong = with_auth(&r, method, path, &bearer(&theirs)).await;
        assert_eq!(wrong.status, 403, "{method} {path} with b's credential: {}", wrong.text());
        assert!(error_of(&wrong).contains("does not own worker \"a\""), "{}", wrong.text());
    }
    let details = with_auth(&r, "GET", "/workers/a", &bearer(&mine)).await;
    assert_eq!((details.status, details.json()["id"].clone()), (200, Value::from(id.as_str())));
    let logs = with_auth(&r, "GET", &format!("/workers/{id}/logs"), &bearer(&mine)).await;
    assert_eq!(logs.status, 200, "{}", logs.text());
    // Worker calls stay public.
    assert_eq!(r.fetch("a", "").await.text(), "v1");
    assert_eq!(with_auth(&r, "DELETE", "/workers/a", &bearer(&mine)).await.status, 204);
    assert_eq!(r.fetch("a", "").await.status, 404);
    assert_eq!(r.fetch("b", "").await.text(), "v1", "b is untouched");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posting_an_existing_name_with_its_credential_replaces_the_worker() {
    let r = TestRunner::start(test_limits()).await;
    let (old_id, mine) = create(&r, "a", V1).await;
    let (_, theirs) = create(&r, "b", V1).await;
    let body = json!({ "code": V2, "type": "module", "name": "a" }).to_string();
    let post = |auth: Option<String>| {
        let body = body.clone();
        let r = &r;
        async move {
            let mut headers = vec![("content-type", "application/json".to_string())];
            if let Some(a) = auth {
                headers.push(("authorization", a));
            }
            let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            r.request("POST", "/workers", &headers, body).await
        }
    };

    let anonymous = post(None).await;
    assert_eq!(anonymous.status, 409, "{}", anonymous.text());
    assert_eq!(anonymous.json()["field"], "name");
    let wrong = post(Some(bearer(&theirs))).await;
    assert_eq!(wrong.status, 403, "{}", wrong.text());
    assert_eq!(r.fetch("a", "").await.text(), "v1", "refused attempts change nothing");

    let replaced = post(Some(bearer(&mine))).await;
    assert_eq!(replaced.status, 201, "{}", replaced.text());
    let v = replaced.json();
    assert_eq!(v["replaced"], old_id.as_str());
    assert_eq!(v["credential"], mine.as_str(), "the credential stays the same");
    assert_eq!(v["name"], "a");
    assert_eq!(v["measurement"], hex::encode(sha2::Sha384::digest(V2.as_bytes())));
    let new_id = v["id"].as_str().expect("id");
    assert_ne!(new_id, old_id);
    assert_eq!(r.fetch("a", "").await.text(), "v2");
    assert_eq!(r.get(&format!("/workers/{old_id}/fetch/")).await.status, 404, "the old worker is gone");
    let names: Vec<Value> = r.get("/workers").await.json()["workers"]
        .as_array()
        .expect("workers")
        .iter()
        .map(|w| w["name"].clone())
        .collect();
    assert_eq!(names.iter().filter(|n| *n == "a").count(), 1, "{names:?}");
    // The same credential manages the replacement.
    assert_eq!(with_auth(&r, "GET", "/workers/a", &bearer(&mine)).await.json()["id"], new_id);
    assert_eq!(with_auth(&r, "DELETE", &format!("/workers/{new_id}"), &bearer(&mine)).await.status, 204);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_from_the_anonymous_post_root_have_no_owner() {
    let r = TestRunner::start(test_limits()).await;
    let made = r
        .request(
            "POST",
            "/",
            &[("content-type", "application/json")],
            json!({ "code": V1, "name": "anon" }).to_string(),
        )
        .await;
    assert_eq!(made.status, 204, "{}", made.text());
    assert!(made.body.is_empty(), "Escrin's answer has no body, so no credential");
    assert_eq!(r.fetch("anon", "").await.text(), "v1", "worker calls work");
    let (_, someone) = create(&r, "other", V1).await;
    for (method, path) in [("GET", "/workers/anon"), ("GET", "/workers/anon/logs"), ("DELETE", "/workers/anon")] {
        for auth in [None, Some(bearer(&someone))] {
            let reply = match &auth {
                None => r.request(method, path, &[], "").await,
                Some(a) => with_auth(&r, method, path, a).await,
            };
            assert_eq!(reply.status, 403, "{method} {path} {auth:?}: {}", reply.text());
            let e = error_of(&reply);
            assert!(e.contains("has no owner") && e.contains("only an operator"), "{e}");
        }
    }
    let replace = json!({ "code": V2, "name": "anon" }).to_string();
    let ct = ("content-type", "application/json");
    assert_eq!(r.request("POST", "/workers", &[ct], replace.clone()).await.status, 409);
    let with = bearer(&someone);
    assert_eq!(r.request("POST", "/workers", &[ct, ("authorization", &with)], replace).await.status, 403);
    assert_eq!(r.fetch("anon", "").await.text(), "v1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_authorization_headers_are_refused_and_the_runner_keeps_serving() {
    let r = TestRunner::start(test_limits()).await;
    let (_, mine) = create(&r, "a", ECHO_AUTH).await;
    let long = format!("Bearer {}", "x".repeat(600));
    let reply = with_auth(&r, "GET", "/workers/a", &long).await;
    assert_eq!(reply.status, 400, "{}", reply.text());
    assert!(error_of(&reply).contains("over the limit of 512 bytes"), "{}", reply.text());
    let reply =
        r.request("POST", "/workers", &[("content-type", "application/json"), ("authorization", &long)], "{}").await;
    assert_eq!(reply.status, 400, "{}", reply.text());

    for (value, needle) in [
        ("Basic dXNlcjpwYXNz", "scheme \"Basic\" is not supported"),
        ("Bearer", "Bearer without a credential"),
        ("Bearer swc_nothex", "swc_ followed by 64 lowercase hex digits"),
        (&mine[..] as &str, "is not supported"),
    ] {
        let reply = with_auth(&r, "DELETE", "/workers/a", value).await;
        assert_challenge(&reply, value);
        let e = error_of(&reply);
        assert!(e.contains(needle), "{value}: {e}");
        assert!(!e.contains(&mine[4..]), "the error quotes the credential: {e}");
    }
    // Still serving: the worker is there, its calls pass any Authorization
    // through to it (they are the worker's business), and its owner works.
    assert_eq!(with_auth(&r, "GET", "/workers/a/fetch/", "Basic dXNlcjpwYXNz").await.text(), "Basic dXNlcjpwYXNz");
    assert_eq!(r.get("/health").await.status, 200);
    assert_eq!(with_auth(&r, "GET", "/workers/a", &bearer(&mine)).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_survives_a_restart_through_state_dir_as_a_hash() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let state = tmp.path().to_path_buf();
    let start =
        || TestRunner::start_full(test_limits(), Arc::new(NoNetwork), Arc::new(Vec::new()), Some(state.clone()));
    let first = start().await;
    let (id, mine) = create(&first, "a", V1).await;
    let (_, theirs) = create(&first, "b", V1).await;
    let entry = std::fs::read_to_string(state.join(format!("{id}.json"))).expect("entry");
    let entry_json: Value = serde_json::from_str(&entry).expect("json");
    assert_eq!(entry_json["credentialSha256"], hex::encode(Sha256::digest(mine.as_bytes())));
    assert!(!entry.contains(&mine[4..]), "the journal holds the credential itself");
    drop(first);

    let second = start().await;
    assert_challenge(&second.get("/workers/a").await, "after restart, without a credential");
    assert_eq!(with_auth(&second, "GET", "/workers/a", &bearer(&theirs)).await.status, 403);
    let details = with_auth(&second, "GET", "/workers/a", &bearer(&mine)).await;
    assert_eq!((details.status, details.json()["id"].clone()), (200, Value::from(id.as_str())));
    assert_eq!(with_auth(&second, "DELETE", "/workers/a", &bearer(&mine)).await.status, 204);
    assert!(!state.join(format!("{id}.json")).exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_tls_enabled_plain_http_reaches_only_health_escrin_create_and_worker_calls() {
    // Every connection of the test harness is plain: this is what a client
    // that bypasses the TLS listener gets.
    let r = TestRunner::start(sworn_runner::limits::Limits { tls_enabled: true, ..test_limits() }).await;
    assert_eq!(r.get("/health").await.status, 200);
    let made = r
        .request("POST", "/", &[("content-type", "application/json")], json!({ "code": V1, "name": "w" }).to_string())
        .await;
    assert_eq!(made.status, 204, "{}", made.text());
    assert_eq!(r.fetch("w", "").await.text(), "v1");
    for (method, path) in [
        ("GET", "/workers"),
        ("POST", "/workers"),
        ("GET", "/workers/w"),
        ("DELETE", "/workers/w"),
        ("GET", "/workers/w/logs"),
        ("GET", "/stats"),
        ("GET", "/attestation"),
    ] {
        let reply = r.request(method, path, &[("content-type", "application/json")], "{}").await;
        assert_eq!(reply.status, 403, "{method} {path}: {}", reply.text());
        assert!(error_of(&reply).starts_with(&format!("{method} {path} requires TLS")), "{}", reply.text());
    }
    let fake = format!("Bearer swc_{}", "0".repeat(64));
    for (method, path) in [("GET", "/health"), ("GET", "/workers/w/fetch/"), ("POST", "/"), ("GET", "/workers/w")] {
        let reply = with_auth(&r, method, path, &fake).await;
        assert_eq!(reply.status, 403, "{method} {path}: {}", reply.text());
        assert!(error_of(&reply).contains("credentials are accepted only over TLS"), "{}", reply.text());
    }
    assert_eq!(r.fetch("w", "").await.text(), "v1", "still serving");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_operator_refuses_creation_by_everyone_else() {
    let limits = sworn_runner::limits::Limits { deploy: sworn_runner::auth::DeployPolicy::Operator, ..test_limits() };
    let r = TestRunner::start(limits).await;
    for path in ["/workers", "/"] {
        let reply =
            r.request("POST", path, &[("content-type", "application/json")], json!({ "code": V1 }).to_string()).await;
        assert_eq!(reply.status, 403, "POST {path}: {}", reply.text());
        assert!(error_of(&reply).contains("--deploy operator"), "{}", reply.text());
    }
    assert!(r.get("/workers").await.json()["workers"].as_array().expect("workers").is_empty());
}
