//! `type: "wasi"` workers through the management API: the C workload of
//! `examples/wasi/cgi.c` (built by `make wasi-examples`) answers requests
//! the CGI way, its hostile routes fail alone, bad modules are refused.

mod common;

use base64ct::{Base64, Encoding};
use common::{test_limits, TestRunner};
use serde_json::json;
use sha2::{Digest, Sha384};

const GOOD: &str = "export default { fetch() { return new Response('fine') } }";

fn cgi_wasm() -> Vec<u8> {
    let path = common::wasi_example("cgi");
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (run `make wasi-examples` first)", path.display()))
}

async fn deploy_cgi(r: &TestRunner, extra: serde_json::Value) -> serde_json::Value {
    let mut body = json!({ "name": "cgi", "type": "wasi", "code": Base64::encode_string(&cgi_wasm()) });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    let resp = r.create(body).await;
    assert_eq!(resp.status, 201, "{}", resp.text());
    resp.json()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wasi_worker_answers_from_stdout_with_the_request_on_stdin_and_in_its_environment() {
    let r = TestRunner::start(test_limits()).await;
    let created = deploy_cgi(&r, json!({ "args": ["--verbose"] })).await;
    let expected = hex::encode(Sha384::digest(cgi_wasm()));
    assert_eq!(created["measurement"], expected.as_str(), "the measurement is SHA-384 of the module: {created}");

    let resp = r
        .request("POST", "/workers/cgi/fetch/echo?x=1", &[("x-test", "hi"), ("content-type", "text/plain")], "the body")
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(resp.headers["content-type"], "text/plain");
    assert_eq!(resp.text(), "method=POST path=/echo query=x=1 x-test=hi\narg=--verbose\nbody=the body\n");

    let teapot = r.fetch("cgi", "status").await;
    assert_eq!(teapot.status, 418);
    assert_eq!(teapot.headers["x-kind"], "teapot");

    assert_eq!(r.fetch("cgi", "stderr").await.text(), "logged\n");
    let logs = r.owner_get("/workers/cgi/logs").await.text();
    assert!(logs.contains("cgi: a line for the log"), "{logs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_runs_fail_alone_and_the_runner_keeps_serving() {
    // A 1 MiB response limit: the flood reaches it well within its CPU time.
    let r = TestRunner::start(sworn_runner::limits::Limits { response_body_bytes: 1 << 20, ..test_limits() }).await;
    r.deploy("good", "module", GOOD).await;
    deploy_cgi(&r, json!({})).await;
    for (path, status, says) in [
        ("spin", 503, "CPU time limit"),
        ("alloc", 503, "over its limit of 32 MiB"),
        ("recurse", 500, "trapped"),
        ("flood", 502, "bytes to stdout"),
    ] {
        let resp = r.fetch("cgi", path).await;
        assert_eq!(resp.status, status, "{path}: {}", resp.text());
        assert!(resp.text().contains(says), "{path}: {}", resp.text());
        let good = r.fetch("good", "").await;
        assert_eq!((good.status, good.text().as_str()), (200, "fine"), "after {path}");
    }
    // The module itself is unharmed: the next run answers.
    assert_eq!(r.fetch("cgi", "status").await.status, 418);
    let details = r.owner_get("/workers/cgi").await.json();
    assert_eq!(details["stats"]["failedExecutions"], 4, "{details}");
    assert!(details["lastError"].as_str().unwrap_or("").contains("stdout"), "{details}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_module_can_be_uploaded_as_a_multipart_file_and_runs_on_its_schedule() {
    let r = TestRunner::start(test_limits()).await;
    let boundary = "sworn-boundary";
    let mut body = Vec::new();
    for (name, value) in [("name", "cron"), ("type", "wasi"), ("schedule", "*/5 * * * *")] {
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").bytes(),
        );
    }
    body.extend(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"code\"; filename=\"cgi.wasm\"\r\n\
             Content-Type: application/wasm\r\n\r\n"
        )
        .bytes(),
    );
    body.extend(cgi_wasm());
    body.extend(format!("\r\n--{boundary}--\r\n").bytes());
    let ct = format!("multipart/form-data; boundary={boundary}");
    let resp = r.request("POST", "/workers", &[("content-type", ct.as_str())], body).await;
    assert_eq!(resp.status, 201, "{}", resp.text());
    let credential = resp.json()["credential"].as_str().expect("credential").to_string();
    r.remember("cron", &credential);
    // As for JavaScript workers, the scheduled run happens once at deploy:
    // with no PATH_INFO the program writes its 404 page, which goes to the log.
    let mut logs = String::new();
    for _ in 0..100 {
        logs = r.owner_get("/workers/cron/logs").await.text();
        if logs.contains("no route") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(logs.contains("no route"), "{logs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn modules_that_cannot_run_are_refused_at_upload_with_the_reason() {
    let r = TestRunner::start(test_limits()).await;
    let upload = |code: String, args: serde_json::Value| json!({ "type": "wasi", "code": code, "args": args });
    // A module importing something that is not WASI (the import section of
    // `(module (import "env" "f" (func)))`).
    let foreign = Base64::encode_string(b"\0asm\x01\0\0\0\x01\x04\x01\x60\0\0\x02\x09\x01\x03env\x01f\0\0");
    let cases = [
        (upload("bm90IHdhc20=".into(), json!([])), "code", "WebAssembly module"),
        (upload("%%%".into(), json!([])), "code", "base64"),
        (upload(foreign, json!([])), "code", "imports env.f"),
        (upload(Base64::encode_string(b"\0asm\x01\0\0\0"), json!([])), "code", "_start"),
        (upload(Base64::encode_string(&cgi_wasm()), json!({"a": 1})), "args", "array of strings"),
    ];
    for (body, field, says) in cases {
        let resp = r.create(body.clone()).await;
        assert_eq!(resp.status, 400, "{body}: {}", resp.text());
        let v = resp.json();
        assert_eq!(v["field"], field, "{v}");
        assert!(v["error"].as_str().unwrap_or("").contains(says), "{v}");
    }
}
