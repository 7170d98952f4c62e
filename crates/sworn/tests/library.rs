//! The library API: the same checks as the CLI, for Rust programs.

mod common;

use common::{pcrs, Mode, Server, GOOD};
use sworn::{Client, DocumentKind, Error, Options, Policy};

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
}

#[test]
fn a_verified_connection_exposes_the_document_a_fresh_attestation_and_http() {
    let server = Server::start(Mode::Genuine);
    block_on(async {
        let mut conn = Client::connect(&server.url, Options::new(Policy::emulator(Some(pcrs(GOOD))))).await.unwrap();
        assert_eq!(conn.verified().kind, DocumentKind::Development);
        assert!(!conn.verified().authenticated());
        let nonce = sworn::connection::random_nonce().unwrap();
        let fresh = conn.fresh_attestation(&nonce).await.unwrap();
        assert_eq!(fresh.verified.document.nonce.as_deref(), Some(&nonce[..]));
        assert_eq!(fresh.verified.public_key, conn.verified().public_key, "bound to this connection's key");
        let health = conn.get("/health").await.unwrap();
        assert_eq!(health.status, 200);
        assert_eq!(&health.body[..], br#"{"ok":true}"#);
        // One handshake: the handshake check, the fresh document and the request share one connection.
        assert_eq!(server.handshakes.load(std::sync::atomic::Ordering::SeqCst), 1);
    });
}

#[test]
fn failed_checks_say_which_check_failed() {
    let mitm = Server::start(Mode::Mitm);
    let genuine = Server::start(Mode::Genuine);
    let stale = Server::start(Mode::StaleNonce);
    block_on(async {
        let check = |e: &Error| e.attestation_failure().map(sworn::error::check_name);
        let e = Client::connect(&mitm.url, Options::new(Policy::emulator(None))).await.unwrap_err();
        assert_eq!(check(&e), Some("key binding"), "{e}");
        let e = Client::connect(&genuine.url, Options::new(Policy::emulator(Some(pcrs(1))))).await.unwrap_err();
        assert_eq!(check(&e), Some("measurements"), "{e}");
        let e = Client::connect(&genuine.url, Options::new(Policy::aws(None))).await.unwrap_err();
        assert_eq!(check(&e), Some("development document"), "{e}");
        let mut conn = Client::connect(&stale.url, Options::new(Policy::emulator(None))).await.unwrap();
        let e = conn.fresh_attestation(&[1; 32]).await.unwrap_err();
        assert_eq!(check(&e), Some("nonce"), "{e}");
        assert!(!e.is_input());
        let e = conn.fresh_attestation(&[]).await.unwrap_err();
        assert!(e.is_input(), "an empty nonce is the caller's mistake: {e}");
    });
}
