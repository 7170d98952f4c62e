//! The attack attested TLS exists to stop: the host terminates TLS itself
//! and relays to the enclave. This man in the middle holds its own key, in
//! a certificate that carries a genuine document of the enclave (fetched
//! over a verified connection moments before), and relays every connection
//! it accepts to the enclave over a verified connection of its own. A
//! client that checks nothing (`curl -k`) is served through it; `sworn`
//! must refuse it in the handshake, because the document binds the
//! enclave's key, not the one it is talking to.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use sworn::{Client, Options, Policy};
use sworn_atls::EnclaveKey;

use crate::{io_err, E2eError, Result};

/// A running man in the middle; stops when dropped.
pub struct Mitm {
    /// `https://127.0.0.1:PORT`
    pub url: String,
    relayed: Arc<AtomicUsize>,
    runtime: Option<tokio::runtime::Runtime>,
}

fn failed(what: &str) -> impl FnOnce(sworn::Error) -> E2eError + '_ {
    move |e| E2eError::Protocol(format!("man in the middle: {what}: {e}"))
}

impl Mitm {
    /// Starts in front of `upstream` (`https://…` of the real runner),
    /// which must pass `policy`.
    pub fn start(upstream: &str, policy: Policy) -> Result<Mitm> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(io_err("man in the middle: tokio runtime"))?;
        let client = Client::new(upstream, Options::new(policy)).map_err(failed("upstream URL"))?;
        let genuine = runtime.block_on(async {
            let mut conn = client.open().await.map_err(failed("verified connection to the enclave"))?;
            let nonce = sworn::connection::random_nonce().map_err(failed("nonce"))?;
            conn.fresh_attestation(&nonce).await.map_err(failed("GET /attestation"))
        })?;
        let own = EnclaveKey::generate(&[0x4d; 32])
            .map_err(|e| E2eError::Protocol(format!("man in the middle: key: {e}")))?;
        let names = ["localhost".to_owned()];
        let certified = own
            .certify(&genuine.document, &names, SystemTime::now(), Duration::from_secs(3600))
            .map_err(|e| E2eError::Protocol(format!("man in the middle: certificate: {e}")))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| E2eError::Protocol(format!("man in the middle: TLS versions: {e}")))?
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(rustls::sign::SingleCertAndKey::from(certified)));
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .map_err(io_err("man in the middle: bind 127.0.0.1"))?;
        let port = listener.local_addr().map_err(io_err("man in the middle: address"))?.port();
        let relayed = Arc::new(AtomicUsize::new(0));
        let count = relayed.clone();
        runtime.spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (acceptor, client, count) = (acceptor.clone(), client.clone(), count.clone());
                tokio::spawn(async move {
                    let Ok(mut victim) = acceptor.accept(tcp).await else { return };
                    count.fetch_add(1, Ordering::SeqCst);
                    let Ok(mut enclave) = client.open_stream().await else { return };
                    let _ = tokio::io::copy_bidirectional(&mut victim, &mut enclave.stream).await;
                });
            }
        });
        Ok(Mitm { url: format!("https://127.0.0.1:{port}"), relayed, runtime: Some(runtime) })
    }

    /// Client handshakes it completed (each one then relayed to the enclave).
    pub fn relayed(&self) -> usize {
        self.relayed.load(Ordering::SeqCst)
    }
}

impl Drop for Mitm {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}
