//! Management API: Escrin-compatible POST /, REST /workers, logs, stats.

mod common;

use std::time::Duration;

use common::{test_limits, TestRunner};
use sha2::{Digest, Sha384};

const MODULE: &str = r#"
export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    console.log("got", request.method, url.pathname);
    ctx.waitUntil(new Promise((r) => setTimeout(r, 10)).then(() => console.log("after response")));
    return Response.json({
      method: request.method,
      path: url.pathname,
      query: url.searchParams.get("q"),
      config: env.config,
      body: await request.text(),
      header: request.headers.get("x-test"),
    });
  },
  async scheduled(event, env, ctx) {
    console.log("scheduled", JSON.stringify(event.cron), typeof event.scheduledTime);
  },
};
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_lifecycle() {
    let r = TestRunner::start(test_limits()).await;
    let body = serde_json::json!({ "code": MODULE, "type": "module", "name": "echo", "config": { "greeting": "hi" } });
    let created = r.create(body).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let v = created.json();
    assert_eq!(v["name"], "echo");
    assert_eq!(v["measurement"], hex::encode(Sha384::digest(MODULE.as_bytes())));
    let id = v["id"].as_str().unwrap().to_string();

    let list = r.get("/workers").await.json();
    assert_eq!(list["workers"][0]["id"], id.as_str());

    let resp = r.request("POST", "/workers/echo/fetch/a/b?q=1", &[("x-test", "yes")], "payload").await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(resp.headers["content-type"], "application/json");
    let echo = resp.json();
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["path"], "/a/b");
    assert_eq!(echo["query"], "1");
    assert_eq!(echo["config"]["greeting"], "hi");
    assert_eq!(echo["body"], "payload");
    assert_eq!(echo["header"], "yes");

    // Same worker by id; scheduled ran once at creation.
    let details = r.owner_get(&format!("/workers/{id}")).await.json();
    assert_eq!(details["status"], "running");
    assert_eq!(details["handlers"]["scheduled"], true);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let logs = r.owner_get(&format!("/workers/{id}/logs")).await.json();
    let messages: Vec<&str> =
        logs["lines"].as_array().unwrap().iter().map(|l| l["message"].as_str().unwrap()).collect();
    assert!(messages.contains(&"scheduled \"\" number"), "{messages:?}");
    assert!(messages.contains(&"got POST /a/b"), "{messages:?}");
    assert!(messages.contains(&"after response"), "{messages:?}");

    let stats = r.get("/stats").await.json();
    assert!(stats["totalExecutions"].as_u64().unwrap() >= 2, "{stats}");
    assert_eq!(stats["failedExecutions"], 0);
    assert!(stats["memoryUsage"].as_u64().unwrap() > 0);
    assert!(stats["workers"][&id]["memoryUsage"].as_u64().unwrap() > 0, "{stats}");
    for key in ["activeSessions", "successfulExecutions", "averageExecutionTime", "uptime"] {
        assert!(stats.get(key).is_some(), "missing {key}");
    }

    assert_eq!(r.owner_request("DELETE", &format!("/workers/{id}"), "").await.status, 204);
    assert_eq!(r.owner_get(&format!("/workers/{id}")).await.status, 404);
    assert_eq!(r.fetch("echo", "").await.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escrin_post_root_accepts_json_form_and_multipart() {
    let r = TestRunner::start(test_limits()).await;
    let sw = "addEventListener('fetch', (e) => e.respondWith(new Response('sw ' + config.n)))";
    let json = serde_json::json!({ "code": sw, "type": "sw", "name": "a", "config": { "n": 1 } });
    let resp = r.request("POST", "/", &[("content-type", "application/json")], json.to_string()).await;
    assert_eq!(resp.status, 204, "{}", resp.text());
    assert_eq!(r.fetch("a", "").await.text(), "sw 1");

    let form: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("code", sw)
        .append_pair("type", "sw")
        .append_pair("name", "b")
        .append_pair("config", r#"{"n":2}"#)
        .finish();
    let resp = r.request("POST", "/", &[("content-type", "application/x-www-form-urlencoded")], form).await;
    assert_eq!(resp.status, 204, "{}", resp.text());
    assert_eq!(r.fetch("b", "").await.text(), "sw 2");

    let multipart = format!(
        "--B\r\nContent-Disposition: form-data; name=\"code\"; filename=\"w.js\"\r\nContent-Type: application/javascript\r\n\r\n{sw}\r\n\
         --B\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nc\r\n\
         --B\r\nContent-Disposition: form-data; name=\"config\"; filename=\"c.json\"\r\n\r\n{{\"n\":3}}\r\n--B--\r\n"
    );
    let resp = r.request("POST", "/", &[("content-type", "multipart/form-data; boundary=B")], multipart).await;
    assert_eq!(resp.status, 204, "{}", resp.text());
    assert_eq!(r.fetch("c", "").await.text(), "sw 3");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_get_json_errors() {
    let mut limits = test_limits();
    limits.max_workers = 1;
    limits.request_body_bytes = 4096;
    let r = TestRunner::start(limits).await;
    let cases: Vec<(&str, &str, &str, String, u16, &str)> = vec![
        ("POST", "/workers", "application/json", "{not json".into(), 400, "JSON"),
        ("POST", "/workers", "application/json", "[1]".into(), 400, "object"),
        ("POST", "/workers", "application/json", "{}".into(), 400, "\"code\""),
        ("POST", "/workers", "application/json", r#"{"code":1}"#.into(), 400, "string"),
        ("POST", "/workers", "application/json", r#"{"code":"x","type":"wasm"}"#.into(), 400, "\"type\""),
        ("POST", "/workers", "application/json", r#"{"code":"x","schedule":"* * *"}"#.into(), 400, "5 fields"),
        ("POST", "/workers", "application/json", r#"{"code":"x","name":"no spaces"}"#.into(), 400, "\"name\""),
        ("POST", "/workers", "text/plain", "x".into(), 400, "content type"),
        ("POST", "/workers", "multipart/form-data", "x".into(), 400, "form data"),
        ("POST", "/workers", "application/json", "x".repeat(5000), 413, "limit of 4096"),
        ("GET", "/nope", "", String::new(), 404, "no route"),
        ("PUT", "/workers", "", String::new(), 405, "not allowed"),
        ("GET", "/workers/unknown", "", String::new(), 404, "unknown"),
    ];
    for (method, path, ct, body, status, needle) in cases {
        let headers: Vec<(&str, &str)> = if ct.is_empty() { vec![] } else { vec![("content-type", ct)] };
        let resp = r.request(method, path, &headers, body.clone()).await;
        assert_eq!(resp.status, status, "{method} {path} {body:.40}: {}", resp.text());
        let v = resp.json();
        assert!(v["error"].as_str().unwrap().contains(needle), "{method} {path} {body:.40}: {v}");
    }
    r.deploy("one", "module", "export default { fetch() { return new Response('1') } }").await;
    let full = r.create(r#"{"code":"export default {}"}"#).await;
    assert_eq!(full.status, 429, "{}", full.text());
    assert!(full.json()["error"].as_str().unwrap().contains("worker limit of 1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_names_conflict() {
    let r = TestRunner::start(test_limits()).await;
    r.deploy("same", "module", "export default { fetch() { return new Response('1') } }").await;
    let again = r.create(r#"{"code":"export default {}","name":"same"}"#).await;
    assert_eq!(again.status, 409, "{}", again.text());
    assert_eq!(again.json()["field"], "name");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_response_arrives_in_chunks() {
    let r = TestRunner::start(test_limits()).await;
    r.deploy(
        "stream",
        "module",
        r#"export default { fetch() {
            const { readable, writable } = new TransformStream();
            const writer = writable.getWriter();
            const enc = new TextEncoder();
            (async () => {
              for (let i = 0; i < 5; i++) { await new Promise(r => setTimeout(r, 5)); await writer.write(enc.encode(`chunk${i};`)); }
              await writer.close();
            })();
            return new Response(readable, { headers: { "content-type": "text/plain" } });
        } }"#,
    )
    .await;
    let resp = r.fetch("stream", "").await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(resp.headers.get("transfer-encoding").map(|v| v.to_str().unwrap()), Some("chunked"));
    assert_eq!(resp.text(), "chunk0;chunk1;chunk2;chunk3;chunk4;");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_worker_waituntil_and_scheduled_listener() {
    let r = TestRunner::start(test_limits()).await;
    let code = r#"
      let hits = 0;
      addEventListener('fetch', (event) => {
        hits++;
        event.waitUntil(Promise.resolve().then(() => console.log('waited')));
        event.respondWith((async () => new Response('hits ' + hits))());
      });
      addEventListener('scheduled', (event) => {
        event.waitUntil(Promise.resolve().then(() => console.log('cron', event.cron === '')));
      });
    "#;
    r.deploy("sw", "sw", code).await;
    assert_eq!(r.fetch("sw", "").await.text(), "hits 1");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let logs = r.owner_get("/workers/sw/logs").await.text();
    assert!(logs.contains("waited"), "{logs}");
    assert!(logs.contains("cron true"), "{logs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn env_bindings_are_installed_per_worker() {
    struct Answer;
    impl sworn_runner::engine::bindings::EnvBinding for Answer {
        fn name(&self) -> &str {
            "answer"
        }
        fn install<'js>(
            &self,
            _ctx: &rquickjs::Ctx<'js>,
            env: &rquickjs::Object<'js>,
            worker: &std::sync::Arc<sworn_runner::registry::Worker>,
        ) -> rquickjs::Result<()> {
            env.set("answer", format!("42 for {}", worker.name))
        }
    }
    let r = TestRunner::start_with(
        test_limits(),
        std::sync::Arc::new(sworn_runner::http_client::NoNetwork),
        std::sync::Arc::new(vec![std::sync::Arc::new(Answer) as _]),
    )
    .await;
    r.deploy("m", "module", "export default { fetch(req, env) { return new Response(env.answer) } }").await;
    assert_eq!(r.fetch("m", "").await.text(), "42 for m");
    r.deploy("s", "sw", "addEventListener('fetch', e => e.respondWith(new Response(answer)))").await;
    assert_eq!(r.fetch("s", "").await.text(), "42 for s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_response_waits_for_a_slow_client() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut limits = test_limits();
    limits.response_body_bytes = 256 << 20;
    // Producing 256 MiB in a debug build takes more than the tests' 300 ms.
    limits.cpu_time = Duration::from_secs(20);
    let r = TestRunner::start(limits).await;
    r.deploy(
        "firehose",
        "module",
        r#"export default { fetch() {
            let mib = 0, chunks = 0;
            return new Response(new ReadableStream({ pull(c) {
                c.enqueue(new Uint8Array(65536));
                if (++chunks % 16 === 0) console.log(`produced ${++mib}`);
                if (mib === 256) c.close();
            } }));
        } }"#,
    )
    .await;
    let addr = r.base.trim_start_matches("http://").to_string();
    let mut conn = tokio::net::TcpStream::connect(&addr).await.expect("connect");
    conn.write_all(b"GET /workers/firehose/fetch/ HTTP/1.1\r\nhost: x\r\n\r\n").await.expect("send");
    let mut head = [0u8; 512];
    let n = conn.read(&mut head).await.expect("read head");
    assert!(head[..n].starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&head[..n]));
    // Read nothing more for a while: the worker must stop producing.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let logs = r.owner_get("/workers/firehose/logs").await.json();
    let produced = logs["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["message"].as_str()?.strip_prefix("produced ")?.parse::<u64>().ok())
        .max()
        .unwrap_or(0);
    assert!(produced < 64, "worker produced {produced} MiB for a client that read none");
    // Reading on lets it finish.
    let mut total = 0usize;
    let mut buf = vec![0u8; 1 << 16];
    while total < 256 << 20 {
        let n = tokio::time::timeout(Duration::from_secs(20), conn.read(&mut buf)).await.expect("read").expect("read");
        if n == 0 {
            break;
        }
        total += n;
    }
    assert!(total >= 256 << 20, "read {total} bytes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cron_schedule_fires_matching_minutes() {
    let r = TestRunner::start(test_limits()).await;
    let code = "export default { scheduled(event) { console.log('fired ' + event.cron) } }";
    let body = serde_json::json!({ "code": code, "type": "module", "name": "cron", "schedule": "30 12 * * mon" });
    let created = r.create(body).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let details = r.owner_get("/workers/cron").await.json();
    assert_eq!(details["schedule"], "30 12 * * mon");
    assert!(details["nextScheduled"].as_u64().unwrap() > 0);
    let pool = &r.running.as_ref().unwrap().pool;
    let monday_1230 = sworn_runner::cron::Minute { minute: 30, hour: 12, day: 6, month: 5, weekday: 1 };
    let tuesday = sworn_runner::cron::Minute { weekday: 2, ..monday_1230 };
    assert_eq!(sworn_runner::app::fire_due(pool, tuesday), 0);
    assert_eq!(sworn_runner::app::fire_due(pool, monday_1230), 1);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let logs = r.owner_get("/workers/cron/logs").await.text();
    // Once at creation (empty cron), once for the matching minute.
    assert!(logs.contains("fired \""), "{logs}");
    assert!(logs.contains("fired 30 12 * * mon"), "{logs}");
    let stats = r.owner_get("/workers/cron").await.json()["stats"].clone();
    assert_eq!(stats["successfulExecutions"], 2, "{stats}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_spread_over_both_threads_with_separate_heaps() {
    let r = std::sync::Arc::new(TestRunner::start(test_limits()).await);
    r.deploy(
        "who",
        "module",
        "const me = crypto.randomUUID(); let n = 0; export default { fetch() { n++; return new Response(me) } }",
    )
    .await;
    let mut handles = Vec::new();
    for _ in 0..8 {
        let r = r.clone();
        // Each request on a fresh connection: connections go round robin.
        handles.push(tokio::spawn(async move {
            r.request("GET", "/workers/who/fetch/", &[("connection", "close")], "").await.text()
        }));
    }
    let mut seen = std::collections::HashSet::new();
    for h in handles {
        seen.insert(h.await.unwrap());
    }
    assert_eq!(seen.len(), 2, "instances seen: {seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_formats_values_and_levels() {
    let r = TestRunner::start(test_limits()).await;
    r.deploy(
        "talk",
        "module",
        r#"export default { fetch() {
            const cyc = { a: 1 }; cyc.self = cyc;
            console.log("%s is %d years", "Ada", 36, { extra: [1, "two"] });
            console.info(new Map([["k", 1]]), new Set([2]), null, undefined, 3n);
            console.warn(cyc);
            console.error(new TypeError("bad thing"));
            console.debug(new Uint8Array([1, 2]), () => 1);
            return new Response("ok");
        } }"#,
    )
    .await;
    assert_eq!(r.fetch("talk", "").await.text(), "ok");
    let logs = r.owner_get("/workers/talk/logs").await.json();
    let lines: Vec<(String, String)> = logs["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["level"].as_str().unwrap().to_string(), l["message"].as_str().unwrap().to_string()))
        .collect();
    let expect = [
        ("log", "Ada is 36 years { extra: [ 1, \"two\" ] }"),
        ("info", "Map(1) { \"k\" => 1 } Set(1) { 2 } null undefined 3n"),
        ("warn", "{ a: 1, self: [Circular] }"),
        ("debug", "Uint8Array(2) [ 1, 2 ] [Function: (anonymous)]"),
    ];
    for (level, message) in expect {
        assert!(lines.iter().any(|(l, m)| l == level && m == message), "missing {level} {message:?} in {lines:?}");
    }
    assert!(lines.iter().any(|(l, m)| l == "error" && m.starts_with("TypeError: bad thing")), "{lines:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escrin_create_at_any_path_replaces_its_own_workers_by_name_and_reads_type_as_escrin_does() {
    let r = TestRunner::start(test_limits()).await;
    let json_ct = [("content-type", "application/json")];
    let sw = |text: &str| format!("addEventListener('fetch', (e) => e.respondWith(new Response('{text}')))");
    // Any path that is not a REST route creates, as Escrin's runner does;
    // a `type` other than `module` is a service worker there.
    for (path, name, kind) in [("/deploy", "a", "classic"), ("/some/where", "b", "anything")] {
        let body = serde_json::json!({ "code": sw(name), "type": kind, "name": name });
        let resp = r.request("POST", path, &json_ct, body.to_string()).await;
        assert_eq!(resp.status, 204, "POST {path}: {}", resp.text());
        assert_eq!(r.fetch(name, "").await.text(), name, "POST {path}");
    }
    // REST routes keep their own answers.
    assert_eq!(r.request("POST", "/stats", &[], "").await.status, 405);
    assert_eq!(r.request("POST", "/health", &[], "").await.status, 405);
    // Uploading again under a name through Escrin's create replaces that worker.
    let again = serde_json::json!({ "code": sw("a, again"), "name": "a" });
    let resp = r.request("POST", "/", &json_ct, again.to_string()).await;
    assert_eq!(resp.status, 204, "{}", resp.text());
    assert_eq!(r.fetch("a", "").await.text(), "a, again");
    // An owned worker keeps its name.
    r.deploy("owned", "module", "export default { fetch() { return new Response('mine') } }").await;
    let steal = serde_json::json!({ "code": sw("stolen"), "name": "owned" });
    let resp = r.request("POST", "/", &json_ct, steal.to_string()).await;
    assert_eq!(resp.status, 409, "{}", resp.text());
    assert_eq!(r.fetch("owned", "").await.text(), "mine");
    let list = r.get("/workers").await.json();
    assert_eq!(list["workers"].as_array().map(Vec::len), Some(3), "{list}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_retry_in_a_scheduled_run_stops_the_schedule_for_good() {
    let r = TestRunner::start(test_limits()).await;
    let workers = [
        ("stops", "module", "export default { scheduled(c) { console.log('ran [' + c.cron + ']'); c.noRetry(); } }"),
        ("sw-stops", "sw", "addEventListener('scheduled', (e) => { console.log('ran'); e.noRetry(); })"),
        ("keeps", "module", "export default { scheduled(c) { console.log('ran [' + c.cron + ']'); } }"),
    ];
    for (name, kind, code) in workers {
        let body = serde_json::json!({ "code": code, "type": kind, "name": name, "schedule": "*/5 * * * *" });
        let created = r.create(body).await;
        assert_eq!(created.status, 201, "{name}: {}", created.text());
    }
    // The run at upload (Escrin's, with an empty cron) calls noRetry().
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    for name in ["stops", "sw-stops"] {
        loop {
            let logs = r.owner_get(&format!("/workers/{name}/logs")).await.text();
            if logs.contains("noRetry(): the schedule is stopped") {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "{name}: no noRetry in {logs}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let details = r.owner_get(&format!("/workers/{name}")).await.json();
        assert_eq!(
            (details["scheduleStopped"].as_bool(), details["nextScheduled"].is_null()),
            (Some(true), true),
            "{details}"
        );
    }
    let keeps = r.owner_get("/workers/keeps").await.json();
    assert_eq!(keeps["scheduleStopped"], false, "{keeps}");
    assert!(keeps["nextScheduled"].as_u64().is_some(), "{keeps}");
    let pool = &r.running.as_ref().expect("running").pool;
    let five_past = sworn_runner::cron::Minute { minute: 5, hour: 3, day: 2, month: 12, weekday: 3 };
    assert_eq!(sworn_runner::app::fire_due(pool, five_past), 1, "only the worker that did not call noRetry()");
}
