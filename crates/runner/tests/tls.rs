//! Attested TLS on the runner's listener (`--tls`), with the development
//! NSM: clients verify the certificate with sworn-atls, documents fetched
//! over a connection bind its key, plain HTTP is served or refused as
//! `--plain-http` says, the key rotates without touching open connections,
//! operator certificates are checked, and broken handshakes cost only their
//! own connection.

mod common;

use std::time::Duration;

use common::{client_hello, test_limits, tls_connect, tls_handshake, TestCa, TestRunner, TlsClient};
use sha2::{Digest, Sha256};
use sworn_atls::{verify_fresh_document, Policy};
use sworn_attestation::binding::TLS_KEY_USER_DATA;
use sworn_runner::limits::Limits;
use sworn_runner::tls::{OperatorCa, PlainHttp, TlsConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn tls_runner(config: TlsConfig) -> TestRunner {
    TestRunner::start_tls(test_limits(), config).await
}

async fn connect(r: &TestRunner) -> TlsClient {
    tls_connect(r.addr(), None).await.expect("attested TLS handshake")
}

/// Writes `bytes` on a new plain connection (then half-closes it if
/// `close_write`) and returns all the runner sends before it closes the
/// connection; panics if it never does.
async fn exchange(r: &TestRunner, bytes: &[u8], close_write: bool) -> Vec<u8> {
    let mut s = TcpStream::connect(r.addr()).await.expect("connect");
    s.write_all(bytes).await.expect("write");
    if close_write {
        s.shutdown().await.expect("half-close");
    }
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(60), s.read_to_end(&mut out))
        .await
        .expect("the runner closes the connection")
        .unwrap_or_default();
    out
}

/// The runner still serves a TLS client and a plain one.
async fn still_serving(r: &TestRunner) {
    let mut c = connect(r).await;
    assert_eq!(c.get("/health").await.expect("health over TLS").status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_client_verifies_the_attested_certificate_and_gets_health() {
    let r = tls_runner(TlsConfig::new()).await;
    let mut c = connect(&r).await;
    let document = &c.verified.document;
    assert_eq!(document.public_key.as_deref(), Some(c.public_key()), "the handshake's key is the document's");
    assert_eq!(document.user_data.as_deref(), Some(TLS_KEY_USER_DATA));
    let served = r.running.as_ref().and_then(|x| x.tls.as_ref()).expect("TLS on").current_key();
    assert_eq!(served.public_key, c.public_key(), "the runner's current key");
    assert_eq!(served.certificate_sha256, <[u8; 32]>::from(Sha256::digest(&c.certificate)));
    let reply = c.get("/health").await.expect("health");
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["status"], "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attestation_over_tls_is_fresh_and_binds_the_connection_key() {
    let r = tls_runner(TlsConfig::new()).await;
    let mut c = connect(&r).await;
    let nonce = [0x5a; 32];
    let reply = c.get(&format!("/attestation?nonce={}", hex::encode(nonce))).await.expect("attestation");
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.headers["content-type"], "application/cbor");
    let policy = Policy::emulator(None);
    verify_fresh_document(&reply.body, c.public_key(), &nonce, &policy).expect("fresh document for this connection");
    assert!(verify_fresh_document(&reply.body, c.public_key(), &[0xa5; 32], &policy).is_err(), "another nonce");
    let view = c.get("/attestation?format=json&nonce=01").await.expect("json").json();
    assert_eq!(view["public_key"], hex::encode(c.public_key()));
    assert_eq!(view["user_data"], hex::encode(TLS_KEY_USER_DATA));
    assert_eq!(view["nonce"], "01");
    assert_eq!(view["tls"]["publicKey"], hex::encode(c.public_key()));
    assert_eq!(view["tls"]["certificateSha256"], hex::encode(Sha256::digest(&c.certificate)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attestation_over_tls_refuses_a_chosen_public_key_or_user_data() {
    let r = tls_runner(TlsConfig::new()).await;
    let mut c = connect(&r).await;
    for query in ["public_key=3059", "user_data=68656c6c6f", "nonce=01&user_data=00"] {
        let reply = c.get(&format!("/attestation?{query}")).await.expect("attestation");
        assert_eq!(reply.status, 400, "{query}: {}", reply.text());
        assert!(reply.json()["error"].as_str().unwrap_or("").contains("binds this connection's key"), "{query}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_attestation_refuses_user_data_with_the_tls_tag() {
    let tagged = format!("/attestation?user_data={}", hex::encode([TLS_KEY_USER_DATA, b"forged"].concat()));
    let r = TestRunner::start(test_limits()).await;
    let reply = r.get(&tagged).await;
    assert_eq!(reply.status, 400, "{}", reply.text());
    assert!(reply.text().contains("TLS binding tag"), "{}", reply.text());
    assert_eq!(r.get("/attestation?user_data=68656c6c6f").await.status, 200, "other user_data still works");
    // With TLS on, plain HTTP gets no document at all (the management rules).
    let r = tls_runner(TlsConfig::new()).await;
    for path in [tagged.as_str(), "/attestation?user_data=68656c6c6f"] {
        let reply = r.get(path).await;
        assert_eq!(reply.status, 403, "{path}: {}", reply.text());
        assert!(reply.text().contains("requires TLS"), "{}", reply.text());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_is_served_under_compat() {
    let r = tls_runner(TlsConfig { plain_http: PlainHttp::Compat, ..TlsConfig::new() }).await;
    let reply = r.get("/health").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    still_serving(&r).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_off_refuses_plain_http_and_serves_tls_clients() {
    let r = tls_runner(TlsConfig { plain_http: PlainHttp::Off, ..TlsConfig::new() }).await;
    let reply = exchange(&r, b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n", false).await;
    let reply = String::from_utf8_lossy(&reply);
    assert!(reply.starts_with("HTTP/1.1 400"), "{reply}");
    assert!(reply.contains("TLS only") && reply.contains("--plain-http off"), "{reply}");
    still_serving(&r).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_header_comes_before_the_handshake_and_workers_see_its_address() {
    const WHO: &str =
        "export default { fetch(req) { return new Response(req.headers.get('cf-connecting-ip') ?? 'none') } }";
    let r = TestRunner::start_tls(Limits { proxy_protocol: true, ..test_limits() }, TlsConfig::new()).await;
    let behind_proxy = |header: &'static [u8]| {
        let addr = r.addr().to_string();
        async move {
            let mut tcp = TcpStream::connect(addr).await.expect("connect");
            tcp.write_all(header).await.expect("PROXY header");
            tls_handshake(tcp, None).await.expect("TLS after the PROXY header")
        }
    };
    let mut c = behind_proxy(b"PROXY TCP4 192.0.2.7 10.0.0.1 50000 1057\r\n").await;
    // Deploy over plain HTTP (compat: Escrin's anonymous create), behind a PROXY header too.
    let code = serde_json::json!({ "code": WHO, "type": "module", "name": "who" }).to_string();
    let post = format!(
        "PROXY UNKNOWN\r\nPOST / HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{code}",
        code.len()
    );
    let created = exchange(&r, post.as_bytes(), false).await;
    assert!(created.starts_with(b"HTTP/1.1 204"), "{}", String::from_utf8_lossy(&created));
    let reply = c.get("/workers/who/fetch/").await.expect("worker over TLS");
    assert_eq!((reply.status, reply.text().as_str()), (200, "192.0.2.7"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_gives_later_connections_a_new_key_and_keeps_open_ones() {
    let r = tls_runner(TlsConfig { rotate: Duration::from_secs(1), ..TlsConfig::new() }).await;
    let mut first = connect(&r).await;
    assert_eq!(first.get("/health").await.expect("health").status, 200);
    // Rotation runs every second: new connections until one gets a new key.
    let mut later = None;
    for _ in 0..300 {
        let c = connect(&r).await;
        if c.public_key() != first.public_key() {
            later = Some(c);
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut later = later.expect("a connection after a rotation gets another key");
    // Both certificates verified (tls_connect checks them at the handshake).
    assert_eq!(later.verified.document.public_key.as_deref(), Some(later.public_key()));
    assert_ne!(later.certificate, first.certificate);
    assert_eq!(later.get("/health").await.expect("health on the new key").status, 200);
    // The connection opened before the rotation keeps working, on its own key.
    assert_eq!(first.get("/health").await.expect("the old connection still works").status, 200);
    let nonce = [7u8; 16];
    let reply = first.get(&format!("/attestation?nonce={}", hex::encode(nonce))).await.expect("attestation");
    verify_fresh_document(&reply.body, first.public_key(), &nonce, &Policy::emulator(None))
        .expect("the old connection's documents bind the old key");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_an_operator_ca_its_clients_and_clients_without_certificates_are_served_and_others_fail() {
    let operators = TestCa::new("operators");
    let other = TestCa::new("someone else");
    let ca = OperatorCa::from_pem(operators.pem.as_bytes(), "operators.pem").expect("CA");
    let r = tls_runner(TlsConfig { operator_ca: Some(ca), ..TlsConfig::new() }).await;
    let mut op = tls_connect(r.addr(), Some(operators.client("op"))).await.expect("operator handshake");
    assert_eq!(op.get("/health").await.expect("operator").status, 200);
    let mut anonymous = connect(&r).await;
    assert_eq!(anonymous.get("/health").await.expect("no certificate").status, 200);
    // TLS 1.3 clients finish their side before the server checks their
    // certificate, so the refusal may arrive at the first request.
    if let Ok(mut stranger) = tls_connect(r.addr(), Some(other.client("x"))).await {
        assert!(stranger.get("/health").await.is_err(), "a certificate from another CA must not be served");
    }
    still_serving(&r).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_client_hello_closes_only_its_connection() {
    let r = tls_runner(TlsConfig::new()).await;
    let hello = client_hello();
    let reply = exchange(&r, &hello[..hello.len() / 2], true).await;
    assert!(!reply.starts_with(b"HTTP/"), "no HTTP answer: {reply:?}");
    still_serving(&r).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_bytes_after_a_handshake_byte_close_only_their_connection() {
    let r = TestRunner::start_tls(Limits { header_timeout: Duration::from_secs(2), ..test_limits() }, TlsConfig::new())
        .await;
    for _ in 0..4 {
        let mut junk = vec![0u8; 512];
        getrandom::fill(&mut junk).expect("random");
        junk[0] = 0x16;
        // Not half-closed: the runner must end it on its own (an invalid
        // record, or the header timeout for a record still "incomplete").
        let reply = exchange(&r, &junk, false).await;
        assert!(!reply.starts_with(b"HTTP/"), "no HTTP answer: {reply:?}");
    }
    still_serving(&r).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_mid_handshake_is_closed_and_others_are_served_meanwhile() {
    let r = TestRunner::start_tls(Limits { header_timeout: Duration::from_secs(2), ..test_limits() }, TlsConfig::new())
        .await;
    let mut stalled = TcpStream::connect(r.addr()).await.expect("connect");
    stalled.write_all(&client_hello()).await.expect("ClientHello");
    let mut first = [0u8; 1];
    stalled.read_exact(&mut first).await.expect("the server's flight");
    assert_eq!(first[0], 0x16, "a handshake record (ServerHello)");
    // The stalled client never answers; another is served in the meantime.
    still_serving(&r).await;
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(60), stalled.read_to_end(&mut rest))
        .await
        .expect("the runner closes the stalled handshake (--header-timeout)")
        .unwrap_or_default();
    still_serving(&r).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_tls_a_client_hello_is_just_bad_http() {
    let r = TestRunner::start(test_limits()).await;
    let reply = exchange(&r, &client_hello(), false).await;
    assert!(reply.starts_with(b"HTTP/1.1 400"), "{}", String::from_utf8_lossy(&reply));
    assert_eq!(r.get("/health").await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owners_and_operators_are_told_apart_by_the_attested_listener() {
    const CODE: &str = "export default { fetch() { return new Response('hi') } }";
    let operators = TestCa::new("operators");
    let ca = OperatorCa::from_pem(operators.pem.as_bytes(), "operators.pem").expect("CA");
    let r = tls_runner(TlsConfig { operator_ca: Some(ca), ..TlsConfig::new() }).await;
    let json = [("content-type", "application/json")];
    // Escrin's anonymous create over plain HTTP (compat): a worker without owner.
    let anon = serde_json::json!({ "code": CODE, "type": "module", "name": "anon" }).to_string();
    assert_eq!(r.request("POST", "/", &json, anon).await.status, 204);
    // An owner over TLS.
    let mut client = connect(&r).await;
    let body = serde_json::json!({ "code": CODE, "type": "module", "name": "mine" }).to_string();
    let made = client.request("POST", "/workers", &json, body).await.expect("create");
    assert_eq!(made.status, 201, "{}", made.text());
    let credential = made.json()["credential"].as_str().expect("credential").to_string();
    let bearer = format!("Bearer {credential}");
    let auth = [("authorization", bearer.as_str())];
    assert_eq!(client.get("/workers/mine/logs").await.expect("logs").status, 401);
    assert_eq!(client.request("GET", "/workers/mine/logs", &auth, "").await.expect("logs").status, 200);
    let unowned = client.request("DELETE", "/workers/anon", &auth, "").await.expect("delete");
    assert_eq!(unowned.status, 403, "another worker's credential: {}", unowned.text());
    // The same credential over plain HTTP is refused, even on a worker call.
    for path in ["/workers/mine/logs", "/workers/mine/fetch/"] {
        let plain = r.request("GET", path, &auth, "").await;
        assert_eq!(plain.status, 403, "{path}: {}", plain.text());
        assert!(plain.text().contains("only over TLS"), "{}", plain.text());
    }
    // An operator deletes the unowned worker and inspects the owned one.
    let mut op = tls_connect(r.addr(), Some(operators.client("op"))).await.expect("operator handshake");
    assert_eq!(op.get("/workers/mine").await.expect("details").status, 200);
    assert_eq!(op.request("DELETE", "/workers/anon", &[], "").await.expect("delete").status, 204);
    // The owner deletes its own.
    assert_eq!(client.request("DELETE", "/workers/mine", &auth, "").await.expect("delete").status, 204);
    let left = client.get("/workers").await.expect("list").json();
    assert_eq!(left["workers"].as_array().map(Vec::len), Some(0), "{left}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_deploy_operator_only_operator_certificates_create_workers() {
    const CODE: &str = "export default { fetch() { return new Response('hi') } }";
    let operators = TestCa::new("operators");
    let ca = OperatorCa::from_pem(operators.pem.as_bytes(), "operators.pem").expect("CA");
    let limits = Limits { deploy: sworn_runner::auth::DeployPolicy::Operator, ..test_limits() };
    let r = TestRunner::start_tls(limits, TlsConfig { operator_ca: Some(ca), ..TlsConfig::new() }).await;
    let json = [("content-type", "application/json")];
    let body = serde_json::json!({ "code": CODE, "type": "module", "name": "w" }).to_string();
    let mut anyone = connect(&r).await;
    let refused = anyone.request("POST", "/workers", &json, body.clone()).await.expect("create");
    assert_eq!(refused.status, 403, "{}", refused.text());
    assert_eq!(r.request("POST", "/", &json, body.clone()).await.status, 403, "nor Escrin's create over plain");
    let mut op = tls_connect(r.addr(), Some(operators.client("op"))).await.expect("operator handshake");
    assert_eq!(op.request("POST", "/workers", &json, body).await.expect("create").status, 201);
}
