//! Single-file bundles as esbuild (and wrangler, which uses it) emit them run
//! unchanged, readable or minified.

mod common;

use common::{test_limits, TestRunner};

async fn check_router(r: &TestRunner, name: &str) {
    let root = r.fetch(name, "").await;
    assert_eq!(root.status, 200, "{}", root.text());
    assert!(root.text().starts_with("router example"));
    let json = r.fetch(name, "json").await.json();
    assert!(json["config"].is_object(), "{json}");
    let stream = r.fetch(name, "stream").await;
    assert_eq!(stream.text(), "tick 0\ntick 1\ntick 2\ntick 3\ntick 4\n");
    assert_eq!(r.fetch(name, "missing").await.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn esbuild_bundles_run_unchanged() {
    let r = TestRunner::start(test_limits()).await;
    // No `type`: the format is recognised from the code.
    for (name, code) in [
        ("readable", include_str!("../../../examples/router/dist/worker.js")),
        ("minified", include_str!("fixtures/router.min.js")),
    ] {
        let body = serde_json::json!({ "code": code, "name": name });
        let created = r.create(body).await;
        assert_eq!(created.status, 201, "{name}: {}", created.text());
        check_router(&r, name).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn example_service_worker() {
    let r = TestRunner::start(test_limits()).await;
    let body = serde_json::json!({ "code": include_str!("../../../examples/sw-hello.js"), "name": "sw" });
    let created = r.request("POST", "/", &[("content-type", "application/json")], body.to_string()).await;
    assert_eq!(created.status, 204, "{}", created.text());
    assert_eq!(r.fetch("sw", "x/y").await.text(), "Hello from a service worker at /x/y\n");
}
