//! Outbound fetch through the direct client against a loopback server.

mod common;

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use hyper::{Request, Response};

use common::{test_limits, TestRunner};

async fn serve(req: Request<hyper::body::Incoming>) -> Result<Response<BoxBody<Bytes, Infallible>>, Infallible> {
    if req.uri().path() == "/drip" {
        // One chunk now, the next one much later.
        let chunks = futures_util::stream::unfold(0, |i| async move {
            match i {
                0 => Some((Ok(Frame::data(Bytes::from_static(b"first"))), 1)),
                1 => {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    Some((Ok(Frame::data(Bytes::from_static(b"second"))), 2))
                }
                _ => None,
            }
        });
        return Ok(Response::new(BodyExt::boxed(StreamBody::new(chunks))));
    }
    Ok(serve_full(req).await.map(|b| b.boxed()))
}

async fn serve_full(req: Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let to = query.strip_prefix("to=").unwrap_or("/").to_string();
    let resp = |status: u16, body: Bytes| Response::builder().status(status).body(Full::new(body)).unwrap();
    match path.as_str() {
        "/echo" => {
            let method = req.method().to_string();
            let full = req.uri().to_string();
            let headers: serde_json::Map<String, serde_json::Value> =
                req.headers().iter().map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").into())).collect();
            let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
            let v = serde_json::json!({ "method": method, "path": full, "headers": headers, "body": String::from_utf8_lossy(&body) });
            resp(200, v.to_string().into())
        }
        "/redirect" => Response::builder().status(302).header("location", to).body(Full::new(Bytes::new())).unwrap(),
        "/redirect303" => Response::builder().status(303).header("location", to).body(Full::new(Bytes::new())).unwrap(),
        "/loop" => Response::builder().status(307).header("location", "/loop").body(Full::new(Bytes::new())).unwrap(),
        "/slow" => {
            tokio::time::sleep(Duration::from_secs(2)).await;
            resp(200, "late".into())
        }
        "/big" => resp(200, Bytes::from(vec![b'x'; 300_000])),
        p if p.starts_with("/status/") => resp(p[8..].parse().unwrap_or(500), Bytes::new()),
        _ => resp(404, Bytes::new()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_through_direct_client() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), hyper::service::service_fn(serve))
                    .await;
            });
        }
    });
    let mut limits = test_limits();
    limits.response_body_bytes = 100_000;
    let client =
        sworn_runner::http_client::EgressHttpClient::new(sworn_egress::EgressConfig::new(sworn_egress::Route::Direct))
            .expect("client");
    let r = TestRunner::start_with(limits, Arc::new(client), Arc::new(Vec::new())).await;
    let harness = include_str!("wpt/harness.js");
    let code = format!("{harness}\n{}", include_str!("wpt/fetch.js"));
    let body = serde_json::json!({ "code": code, "type": "module", "name": "f", "config": { "base": format!("http://{addr}") } });
    let created = r.create(body).await;
    assert_eq!(created.status, 201, "{}", created.text());
    r.fetch("f", "").await.assert_all_passed("fetch");

    // The proxy pattern: a fetched response returned as is streams through.
    let proxy = "export default { fetch(req, env) { return fetch(env.config.base + '/echo?via=proxy') } }";
    let body = serde_json::json!({ "code": proxy, "type": "module", "name": "proxy", "config": { "base": format!("http://{addr}") } });
    let created = r.create(body).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let proxied = r.fetch("proxy", "").await;
    assert_eq!(proxied.status, 200, "{}", proxied.text());
    assert_eq!(proxied.json()["path"], "/echo?via=proxy");
    // The upstream's Content-Length stays, also through a rebuilt response.
    let length = |r: &common::Reply| r.headers.get("content-length").map(|v| v.to_str().unwrap_or("").to_string());
    assert_eq!(length(&proxied), Some(proxied.body.len().to_string()), "{:?}", proxied.headers);
    let rebuilt = "export default { async fetch(req, env) {
        const path = new URL(req.url).pathname;
        const r = await fetch(env.config.base + (path === '/drip' ? '/drip' : '/echo'));
        return new Response(r.body, r);
      } }";
    let body = serde_json::json!({ "code": rebuilt, "type": "module", "name": "rebuilt", "config": { "base": format!("http://{addr}") } });
    assert_eq!(r.create(body).await.status, 201);
    let echoed = r.fetch("rebuilt", "").await;
    assert_eq!(echoed.status, 200, "{}", echoed.text());
    assert_eq!(length(&echoed), Some(echoed.body.len().to_string()), "{:?}", echoed.headers);
    let drip = r.fetch("rebuilt", "drip").await;
    assert_eq!(drip.text(), "firstsecond");
    assert_eq!(length(&drip), None, "an upstream without a length streams chunked: {:?}", drip.headers);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_can_be_disabled() {
    let r = TestRunner::start(test_limits()).await;
    r.deploy("f", "module", "export default { async fetch() { try { await fetch('http://127.0.0.1:9/'); return new Response('reached') } catch (e) { return new Response(e.message) } } }").await;
    assert_eq!(r.fetch("f", "").await.text(), "fetch failed: fetch is disabled in this runner");
}

/// A loopback HTTP server that answers `/echo` and counts its connections.
async fn counting_server() -> (std::net::SocketAddr, Arc<std::sync::atomic::AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = connections.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), hyper::service::service_fn(serve))
                    .await;
            });
        }
    });
    (addr, connections)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn egress_allow_refuses_other_destinations_before_connecting_and_checks_redirect_hops() {
    use std::sync::atomic::Ordering;
    let (allowed, allowed_seen) = counting_server().await;
    let (refused, refused_seen) = counting_server().await;
    let rules = [format!("127.0.0.1:{}", allowed.port()), "*.allowed.test".to_string()];
    let mut config = sworn_egress::EgressConfig::new(sworn_egress::Route::Direct);
    config.allow = Some(sworn_egress::AllowList::parse(&rules).expect("rules"));
    let client = sworn_runner::http_client::EgressHttpClient::new(config).expect("client");
    let r = TestRunner::start_with(test_limits(), Arc::new(client), Arc::new(Vec::new())).await;
    let code = "export default { async fetch(req) {
        const target = new URL(req.url).searchParams.get('url');
        try { const res = await fetch(target); return new Response('ok ' + (await res.json()).path) }
        catch (e) { return new Response(`${e.name}: ${e.message}`) } } }";
    r.deploy("f", "module", code).await;
    let via = |url: String| {
        let query: String = url::form_urlencoded::Serializer::new(String::new()).append_pair("url", &url).finish();
        let r = &r;
        async move { r.fetch("f", &format!("?{query}")).await }
    };

    let text = via(format!("http://127.0.0.1:{}/echo", refused.port())).await.text();
    let expected = format!(
        "TypeError: fetch failed: 127.0.0.1:{} is not allowed by --egress-allow (allowed: {}, *.allowed.test)",
        refused.port(),
        rules[0]
    );
    assert_eq!(text, expected);
    let text = via(format!("http://localhost:{}/echo", refused.port())).await.text();
    assert!(
        text.starts_with(&format!("TypeError: fetch failed: localhost:{} is not allowed", refused.port())),
        "{text}"
    );

    assert_eq!(via(format!("http://127.0.0.1:{}/echo", allowed.port())).await.text(), "ok /echo");
    // A redirect from the allowed server to the refused one: the runner
    // follows it in JavaScript, and the hop is checked like a first request.
    let hop = format!("http://127.0.0.1:{}/echo", refused.port());
    let text = via(format!("http://127.0.0.1:{}/redirect?to={hop}", allowed.port())).await.text();
    assert!(text.contains(&format!("127.0.0.1:{} is not allowed by --egress-allow", refused.port())), "{text}");
    assert!(allowed_seen.load(Ordering::SeqCst) >= 1);
    assert_eq!(refused_seen.load(Ordering::SeqCst), 0, "the refused server saw a connection");

    let attestation = r.get("/attestation?format=json").await;
    assert_eq!(attestation.status, 200, "{}", attestation.text());
    assert_eq!(attestation.json()["egressAllow"], serde_json::json!(rules));
    let unrestricted = TestRunner::start(test_limits()).await;
    assert_eq!(unrestricted.get("/attestation?format=json").await.json()["egressAllow"], serde_json::json!([]));
}
