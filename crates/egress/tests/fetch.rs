//! End-to-end fetches through a local SOCKS5 proxy (and directly) to a
//! local HTTPS server whose CA is made by the test.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use common::*;
use http::{Method, StatusCode, Version};
use sworn_egress::*;

fn socks_config(proxy: &SocksServer, ca: &TestCa) -> EgressConfig {
    let mut cfg = EgressConfig::new(Route::Socks5 { proxy: proxy.endpoint.clone() });
    cfg.webpki_roots = false;
    cfg.extra_ca_files = vec![ca.ca_file()];
    cfg
}

const BOTH: &[&[u8]] = &[b"h2", b"http/1.1"];
const H1_ONLY: &[&[u8]] = &[b"http/1.1"];

#[tokio::test]
async fn https_through_socks_negotiates_http2_and_sends_the_host_name() {
    let ca = TestCa::new();
    let server = start_server(Some(&ca), BOTH).await;
    let proxy = start_socks(&[], SocksBehaviour::Relay, None).await;
    let client = EgressClient::new(socks_config(&proxy, &ca)).unwrap();
    let url = format!("https://localhost:{}/hello", server.addr.port());
    let resp = client.fetch(FetchRequest::get(&url)).await.unwrap();
    assert_eq!(resp.status, StatusCode::OK);
    assert_eq!(resp.version, Version::HTTP_2);
    assert_eq!(resp.headers["x-seen-version"], "HTTP/2.0");
    assert!(!resp.redirected);
    assert_eq!(resp.url.as_str(), url);
    assert_eq!(resp.body.bytes().await.unwrap(), Bytes::from_static(b"hello"));
    // The proxy got the name, not an address: no DNS inside the enclave.
    assert_eq!(proxy.log.connects.lock().unwrap()[0], (3, "localhost".to_string(), server.addr.port()));
}

#[tokio::test]
async fn http1_only_servers_get_http1() {
    let ca = TestCa::new();
    let server = start_server(Some(&ca), H1_ONLY).await;
    let proxy = start_socks(&[], SocksBehaviour::Relay, None).await;
    let client = EgressClient::new(socks_config(&proxy, &ca)).unwrap();
    let resp =
        client.fetch(FetchRequest::get(format!("https://localhost:{}/hello", server.addr.port()))).await.unwrap();
    assert_eq!(resp.version, Version::HTTP_11);
    assert_eq!(resp.headers["x-seen-version"], "HTTP/1.1");
    assert_eq!(resp.body.bytes().await.unwrap(), "hello");
}

#[tokio::test]
async fn the_proxy_relays_only_ciphertext() {
    let ca = TestCa::new();
    let server = start_server(Some(&ca), BOTH).await;
    let proxy = start_socks(&[], SocksBehaviour::Relay, None).await;
    let client = EgressClient::new(socks_config(&proxy, &ca)).unwrap();
    let mut req = FetchRequest::new(Method::POST, format!("https://localhost:{}/secret", server.addr.port()));
    req.headers.insert("authorization", "Bearer TOP-SECRET-TOKEN".parse().unwrap());
    req.body = Bytes::from_static(b"TOP-SECRET-REQUEST-BODY");
    let resp = client.fetch(req).await.unwrap();
    assert_eq!(resp.body.bytes().await.unwrap(), "TOP-SECRET-RESPONSE-BODY");
    let up = proxy.log.upstream.lock().unwrap().clone();
    let down = proxy.log.downstream.lock().unwrap().clone();
    assert!(up.len() > 100 && down.len() > 100, "traffic was relayed");
    assert_eq!(up[0], 0x16, "first relayed byte is a TLS handshake record");
    for secret in [&b"TOP-SECRET"[..], b"/secret", b"authorization"] {
        assert!(
            !contains(&up, secret) && !contains(&down, secret),
            "{:?} visible to the proxy",
            String::from_utf8_lossy(secret)
        );
    }
}

#[tokio::test]
async fn proxy_refusal_is_a_named_error() {
    let ca = TestCa::new();
    let proxy = start_socks(&["denied.example"], SocksBehaviour::Relay, None).await;
    let client = EgressClient::new(socks_config(&proxy, &ca)).unwrap();
    let err = client.fetch(FetchRequest::get("https://denied.example/")).await.unwrap_err();
    assert_eq!(
        err,
        FetchError::ProxyRefused { target: "denied.example:443".into(), code: ReplyCode::NotAllowedByRuleset }
    );
    assert_eq!(
        err.to_string(),
        "egress proxy refused denied.example:443: connection not allowed by the proxy's ruleset (0x02)"
    );
    // The test proxy answers "host unreachable" for names it cannot reach.
    let err = client.fetch(FetchRequest::get("https://unreachable.example/")).await.unwrap_err();
    assert!(matches!(err, FetchError::ProxyRefused { code: ReplyCode::HostUnreachable, .. }), "{err}");
}

#[tokio::test]
async fn unreachable_proxy_is_a_named_error() {
    // Bind then drop to get a loopback port with nobody listening.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let proxy: Endpoint = format!("tcp:127.0.0.1:{port}").parse().unwrap();
    let mut cfg = EgressConfig::new(Route::Socks5 { proxy });
    cfg.webpki_roots = true;
    let client = EgressClient::new(cfg).unwrap();
    let err = client.fetch(FetchRequest::get("https://example.com/")).await.unwrap_err();
    assert!(matches!(&err, FetchError::ProxyUnreachable { proxy, .. } if proxy.contains(&port.to_string())), "{err}");
}

#[tokio::test]
async fn a_proxy_over_a_unix_socket_works_the_same() {
    let ca = TestCa::new();
    let server = start_server(Some(&ca), BOTH).await;
    let dir = tempfile::tempdir().unwrap();
    let proxy = start_socks(&[], SocksBehaviour::Relay, Some(&dir.path().join("socks.sock"))).await;
    let client = EgressClient::new(socks_config(&proxy, &ca)).unwrap();
    let resp =
        client.fetch(FetchRequest::get(format!("https://localhost:{}/hello", server.addr.port()))).await.unwrap();
    assert_eq!(resp.body.bytes().await.unwrap(), "hello");
}

#[tokio::test]
async fn unknown_certificate_authorities_fail_tls() {
    let ca = TestCa::new();
    let other = TestCa::new();
    let server = start_server(Some(&ca), BOTH).await;
    let proxy = start_socks(&[], SocksBehaviour::Relay, None).await;
    let mut cfg = socks_config(&proxy, &other);
    cfg.webpki_roots = true; // Mozilla roots plus a CA that did not sign it
    let client = EgressClient::new(cfg).unwrap();
    let err =
        client.fetch(FetchRequest::get(format!("https://localhost:{}/hello", server.addr.port()))).await.unwrap_err();
    match err {
        FetchError::Tls { host, reason } => {
            assert_eq!(host, "localhost");
            assert!(reason.starts_with("invalid peer certificate"), "{reason}");
        }
        other => panic!("expected a TLS error, got {other}"),
    }
}

#[tokio::test]
async fn direct_mode_has_the_same_api() {
    let ca = TestCa::new();
    let server = start_server(Some(&ca), BOTH).await;
    let mut cfg = EgressConfig::new(Route::Direct);
    cfg.extra_ca_files = vec![ca.ca_file()];
    let client = EgressClient::new(cfg).unwrap();
    for host in ["localhost", "127.0.0.1"] {
        let resp =
            client.fetch(FetchRequest::get(format!("https://{host}:{}/hello", server.addr.port()))).await.unwrap();
        assert_eq!(resp.version, Version::HTTP_2);
        assert_eq!(resp.body.bytes().await.unwrap(), "hello");
    }
    let plain = start_server(None, &[]).await;
    let resp = client.fetch(FetchRequest::get(format!("http://127.0.0.1:{}/hello", plain.addr.port()))).await.unwrap();
    assert_eq!(resp.version, Version::HTTP_11);
    assert_eq!(resp.body.bytes().await.unwrap(), "hello");
}

#[tokio::test]
async fn plain_http_can_be_disabled() {
    let plain = start_server(None, &[]).await;
    let mut cfg = EgressConfig::new(Route::Direct);
    cfg.allow_http = false;
    let client = EgressClient::new(cfg).unwrap();
    let err =
        client.fetch(FetchRequest::get(format!("http://127.0.0.1:{}/hello", plain.addr.port()))).await.unwrap_err();
    assert_eq!(err, FetchError::HttpNotAllowed("127.0.0.1".into()));
    assert_eq!(plain.log.connections.load(Ordering::SeqCst), 0);
    let err = client.fetch(FetchRequest::get("ftp://127.0.0.1/x")).await.unwrap_err();
    assert_eq!(err, FetchError::UnsupportedScheme("ftp".into()));
    assert!(matches!(client.fetch(FetchRequest::get("not a url")).await, Err(FetchError::InvalidUrl { .. })));
    let err = client.fetch(FetchRequest::new(Method::CONNECT, "https://127.0.0.1/")).await.unwrap_err();
    assert!(matches!(err, FetchError::InvalidRequest(_)));
    let mut cfg = EgressConfig::new(Route::Direct);
    cfg.max_request_bytes = 10;
    let client = EgressClient::new(cfg).unwrap();
    let mut big = FetchRequest::new(Method::POST, format!("http://127.0.0.1:{}/echo", plain.addr.port()));
    big.body = Bytes::from_static(b"eleven byte");
    assert_eq!(client.fetch(big).await.unwrap_err(), FetchError::RequestTooLarge { len: 11, limit: 10 });
}

#[tokio::test]
async fn redirects_are_followed_up_to_the_limit() {
    let ca = TestCa::new();
    let server = start_server(Some(&ca), BOTH).await;
    let proxy = start_socks(&[], SocksBehaviour::Relay, None).await;
    let mut cfg = socks_config(&proxy, &ca);
    cfg.max_redirects = 3;
    let client = EgressClient::new(cfg).unwrap();
    let base = format!("https://localhost:{}", server.addr.port());

    let resp = client.fetch(FetchRequest::get(format!("{base}/redirect/3"))).await.unwrap();
    assert!(resp.redirected);
    assert_eq!(resp.url.as_str(), format!("{base}/redirect/0"));
    assert_eq!(resp.body.bytes().await.unwrap(), "done");

    let err = client.fetch(FetchRequest::get(format!("{base}/redirect/4"))).await.unwrap_err();
    assert!(matches!(err, FetchError::TooManyRedirects { limit: 3, .. }), "{err}");
    let err = client.fetch(FetchRequest::get(format!("{base}/loop"))).await.unwrap_err();
    assert!(matches!(err, FetchError::TooManyRedirects { limit: 3, .. }), "{err}");

    let mut manual = FetchRequest::get(format!("{base}/redirect/1"));
    manual.redirect = RedirectMode::Manual;
    let resp = client.fetch(manual).await.unwrap();
    assert_eq!(resp.status, StatusCode::FOUND);
    assert_eq!(resp.headers["location"], "/redirect/0");

    let mut error = FetchRequest::get(format!("{base}/redirect/1"));
    error.redirect = RedirectMode::Error;
    assert!(matches!(client.fetch(error).await, Err(FetchError::RedirectRefused { .. })));
}

#[tokio::test]
async fn redirects_rewrite_methods_and_drop_credentials_across_origins() {
    let ca = TestCa::new();
    let server = start_server(Some(&ca), BOTH).await;
    let proxy = start_socks(&[], SocksBehaviour::Relay, None).await;
    let client = EgressClient::new(socks_config(&proxy, &ca)).unwrap();
    let base = format!("https://localhost:{}", server.addr.port());
    let post = |path: &str| {
        let mut r = FetchRequest::new(Method::POST, format!("{base}{path}"));
        r.body = Bytes::from_static(b"payload");
        r.headers.insert("content-type", "text/plain".parse().unwrap());
        r.headers.insert("authorization", "Bearer t".parse().unwrap());
        // Connection-level headers are dropped, not sent (HTTP/2 forbids them).
        r.headers.insert("connection", "keep-alive".parse().unwrap());
        r.headers.insert("host", "evil.example".parse().unwrap());
        r
    };
    // 303: becomes a GET without body or body headers.
    let resp = client.fetch(post("/status/303/echo")).await.unwrap();
    assert_eq!(resp.body.bytes().await.unwrap(), "GET  auth=Bearer t ct=-");
    // 307 keeps method and body.
    let resp = client.fetch(post("/status/307/echo")).await.unwrap();
    assert_eq!(resp.body.bytes().await.unwrap(), "POST payload auth=Bearer t ct=text/plain");
    // 307 to another origin (127.0.0.1 vs localhost): no Authorization.
    let resp = client.fetch(post("/cross")).await.unwrap();
    assert_eq!(resp.url.host_str(), Some("127.0.0.1"));
    assert_eq!(resp.body.bytes().await.unwrap(), "POST payload auth=- ct=text/plain");
}

#[tokio::test]
async fn response_size_is_limited() {
    let ca = TestCa::new();
    let server = start_server(Some(&ca), BOTH).await;
    let proxy = start_socks(&[], SocksBehaviour::Relay, None).await;
    let mut cfg = socks_config(&proxy, &ca);
    cfg.max_response_bytes = 4096;
    let client = EgressClient::new(cfg).unwrap();
    let base = format!("https://localhost:{}", server.addr.port());
    // At the limit: fine.
    let ok = client.fetch(FetchRequest::get(format!("{base}/big/4096"))).await.unwrap();
    assert_eq!(ok.body.bytes().await.unwrap().len(), 4096);
    // Streamed without Content-Length: fails while reading.
    let mut resp = client.fetch(FetchRequest::get(format!("{base}/big/100000"))).await.unwrap();
    let mut got = 0;
    let err = loop {
        match resp.body.chunk().await {
            Some(Ok(c)) => got += c.len(),
            Some(Err(e)) => break e,
            None => panic!("body ended without hitting the limit"),
        }
    };
    assert!(got <= 4096);
    assert!(matches!(err, FetchError::ResponseTooLarge { limit: 4096, .. }), "{err}");
    // With a Content-Length over the limit: fails before the body.
    let err = client.fetch(FetchRequest::get(format!("{base}/big-cl/5000"))).await.unwrap_err();
    assert!(matches!(err, FetchError::ResponseTooLarge { limit: 4096, .. }), "{err}");
}

#[tokio::test]
async fn connect_timeout_covers_a_silent_proxy() {
    let ca = TestCa::new();
    let proxy = start_socks(&[], SocksBehaviour::Silent, None).await;
    let mut cfg = socks_config(&proxy, &ca);
    cfg.connect_timeout = Duration::from_millis(300);
    let client = EgressClient::new(cfg).unwrap();
    let err = client.fetch(FetchRequest::get("https://localhost:1/")).await.unwrap_err();
    assert_eq!(err, FetchError::ConnectTimeout { target: "localhost:1".into(), after: Duration::from_millis(300) });
}

#[tokio::test]
async fn total_timeout_covers_headers_and_body() {
    let ca = TestCa::new();
    let server = start_server(Some(&ca), BOTH).await;
    let proxy = start_socks(&[], SocksBehaviour::Relay, None).await;
    let mut cfg = socks_config(&proxy, &ca);
    cfg.total_timeout = Duration::from_millis(700);
    let client = EgressClient::new(cfg).unwrap();
    let base = format!("https://localhost:{}", server.addr.port());
    let err = client.fetch(FetchRequest::get(format!("{base}/slow-head"))).await.unwrap_err();
    assert!(matches!(err, FetchError::Timeout { after, .. } if after == Duration::from_millis(700)), "{err}");
    // Headers arrive at once; the 10 chunks take 2 s in all.
    let resp = client.fetch(FetchRequest::get(format!("{base}/slow-body"))).await.unwrap();
    assert_eq!(resp.status, StatusCode::OK);
    let err = resp.body.bytes().await.unwrap_err();
    assert!(matches!(err, FetchError::Timeout { .. }), "{err}");
    // A per-request timeout shortens the deadline, never extends it.
    let mut short = FetchRequest::get(format!("{base}/slow-head"));
    short.timeout = Some(Duration::from_millis(100));
    let err = client.fetch(short).await.unwrap_err();
    assert!(matches!(err, FetchError::Timeout { after, .. } if after == Duration::from_millis(100)), "{err}");
    let mut long = FetchRequest::get(format!("{base}/slow-head"));
    long.timeout = Some(Duration::from_secs(60));
    let err = client.fetch(long).await.unwrap_err();
    assert!(matches!(err, FetchError::Timeout { after, .. } if after == Duration::from_millis(700)), "{err}");
}

#[tokio::test]
async fn connections_are_pooled() {
    let ca = TestCa::new();
    for alpn in [BOTH, H1_ONLY] {
        let server = start_server(Some(&ca), alpn).await;
        let proxy = start_socks(&[], SocksBehaviour::Relay, None).await;
        let client = EgressClient::new(socks_config(&proxy, &ca)).unwrap();
        for _ in 0..5 {
            let resp = client
                .fetch(FetchRequest::get(format!("https://localhost:{}/hello", server.addr.port())))
                .await
                .unwrap();
            assert_eq!(resp.body.bytes().await.unwrap(), "hello");
        }
        assert_eq!(proxy.log.sessions.load(Ordering::SeqCst), 1);
        assert_eq!(server.log.connections.load(Ordering::SeqCst), 1);
    }
}

#[tokio::test]
async fn bad_ca_files_are_configuration_errors() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate").unwrap();
    let mut cfg = EgressConfig::new(Route::Direct);
    cfg.extra_ca_files = vec![junk.clone()];
    let err = EgressClient::new(cfg).unwrap_err();
    assert!(err.to_string().contains("junk.pem") && err.to_string().contains("no CERTIFICATE"), "{err}");
    let mut cfg = EgressConfig::new(Route::Direct);
    cfg.extra_ca_files = vec![dir.path().join("missing.pem")];
    assert!(matches!(EgressClient::new(cfg), Err(ConfigError::CaFile { .. })));
    let mut cfg = EgressConfig::new(Route::Direct);
    cfg.webpki_roots = false;
    assert!(matches!(EgressClient::new(cfg), Err(ConfigError::NoTrustAnchors)));
}

#[tokio::test]
async fn the_allowlist_refuses_before_any_proxy_connection_and_checks_every_redirect_hop() {
    let ca = TestCa::new();
    let server = start_server(Some(&ca), BOTH).await;
    let proxy = start_socks(&[], SocksBehaviour::Relay, None).await;
    let mut cfg = socks_config(&proxy, &ca);
    cfg.allow = Some(AllowList::parse(["localhost", "*.example.org:443"]).unwrap());
    let client = EgressClient::new(cfg).unwrap();
    let port = server.addr.port();

    let err = client.fetch(FetchRequest::get(format!("https://127.0.0.1:{port}/hello"))).await.unwrap_err();
    assert_eq!(
        err,
        FetchError::NotAllowed {
            destination: format!("127.0.0.1:{port}"),
            rules: vec!["localhost".into(), "*.example.org:443".into()],
        }
    );
    assert!(err.to_string().contains("not allowed by the egress allowlist"), "{err}");
    assert_eq!(proxy.log.sessions.load(Ordering::SeqCst), 0, "no SOCKS session for a refused destination");
    assert_eq!(server.log.connections.load(Ordering::SeqCst), 0);

    let resp = client.fetch(FetchRequest::get(format!("https://localhost:{port}/hello"))).await.unwrap();
    assert_eq!(resp.body.bytes().await.unwrap(), "hello");

    // /cross answers 307 from localhost to 127.0.0.1: that hop is refused.
    let mut post = FetchRequest::new(Method::POST, format!("https://localhost:{port}/cross"));
    post.body = Bytes::from_static(b"x");
    let err = client.fetch(post).await.unwrap_err();
    let hop = format!("127.0.0.1:{port}");
    assert!(matches!(&err, FetchError::NotAllowed { destination, .. } if *destination == hop), "{err}");
    let connects = proxy.log.connects.lock().unwrap().clone();
    assert!(!connects.is_empty() && connects.iter().all(|(_, host, _)| host == "localhost"), "{connects:?}");
}
