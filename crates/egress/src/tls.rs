//! The rustls client configuration: ring provider, bundled Mozilla roots
//! plus configured PEM files, ALPN `h2` then `http/1.1`.

use std::path::Path;
use std::sync::Arc;

use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

use crate::config::EgressConfig;
use crate::error::ConfigError;

pub(crate) const ALPN_H2: &[u8] = b"h2";
pub(crate) const ALPN_HTTP11: &[u8] = b"http/1.1";

pub(crate) fn client_config(config: &EgressConfig) -> Result<Arc<ClientConfig>, ConfigError> {
    let mut roots = RootCertStore::empty();
    if config.webpki_roots {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    for path in &config.extra_ca_files {
        add_pem_file(&mut roots, path)?;
    }
    if roots.is_empty() {
        return Err(ConfigError::NoTrustAnchors);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ConfigError::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![ALPN_H2.to_vec(), ALPN_HTTP11.to_vec()];
    Ok(Arc::new(tls))
}

fn add_pem_file(roots: &mut RootCertStore, path: &Path) -> Result<(), ConfigError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| ConfigError::CaFile { path: shown.clone(), source })?;
    let mut added = 0usize;
    for cert in CertificateDer::pem_slice_iter(&bytes) {
        let cert = cert.map_err(|e| ConfigError::CaPem { path: shown.clone(), reason: e.to_string() })?;
        roots.add(cert).map_err(|e| ConfigError::CaPem { path: shown.clone(), reason: e.to_string() })?;
        added += 1;
    }
    if added == 0 {
        return Err(ConfigError::CaPem { path: shown, reason: "no CERTIFICATE block found".into() });
    }
    Ok(())
}
