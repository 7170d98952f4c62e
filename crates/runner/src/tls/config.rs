//! What `--tls` is configured with, and why a configuration is refused.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};

/// Shortest `--tls-rotate`: a shorter interval would spend the runner on
/// NSM calls and key generation.
pub const MIN_ROTATE: Duration = Duration::from_secs(1);
/// Longest `--tls-rotate`: a certificate lives twice the interval, and the
/// X.509 validity of a much longer one stops being a meaningful bound.
pub const MAX_ROTATE: Duration = Duration::from_secs(365 * 86_400);

/// `--plain-http`: what a connection that does not start with a TLS
/// handshake gets while `--tls` is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlainHttp {
    /// Served as plain HTTP, as without `--tls` (its peer is
    /// [`crate::peer::Transport::Plain`], so the management rules can tell).
    Compat,
    /// Answered with a 400 saying the port speaks TLS only, then closed.
    Off,
}

/// The settings of attested TLS on the listener.
#[derive(Debug, Clone)]
pub struct TlsConfig {
    /// `--tls-rotate`: a new key, document and certificate this often.
    pub rotate: Duration,
    /// `--tls-name`: subject alternative names of the certificate.
    pub names: Vec<String>,
    /// `--plain-http`.
    pub plain_http: PlainHttp,
    /// `--operator-ca`: client certificates under it make operators.
    pub operator_ca: Option<OperatorCa>,
}

impl TlsConfig {
    /// The defaults of the flags: rotate daily, `localhost`, plain HTTP
    /// still served, no operator CA.
    pub fn new() -> TlsConfig {
        TlsConfig {
            rotate: Duration::from_secs(86_400),
            names: vec!["localhost".into()],
            plain_http: PlainHttp::Compat,
            operator_ca: None,
        }
    }

    /// Checks what the flags cannot: the rotation interval's range and that
    /// every name can be a subject alternative name.
    pub fn check(&self) -> Result<(), TlsError> {
        if !(MIN_ROTATE..=MAX_ROTATE).contains(&self.rotate) {
            return Err(TlsError::Rotate(self.rotate));
        }
        for name in &self.names {
            if ServerName::try_from(name.as_str()).is_err() {
                return Err(TlsError::Name(name.clone()));
            }
        }
        Ok(())
    }
}

impl Default for TlsConfig {
    fn default() -> Self {
        TlsConfig::new()
    }
}

/// The trust anchors of `--operator-ca`, and where they came from (for
/// error messages).
#[derive(Clone)]
pub struct OperatorCa {
    pub(super) source: String,
    pub(super) roots: Arc<RootCertStore>,
}

impl std::fmt::Debug for OperatorCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OperatorCa").field("source", &self.source).field("roots", &self.roots.len()).finish()
    }
}

impl OperatorCa {
    /// Reads the PEM file `path`: one or more CERTIFICATE blocks.
    pub fn from_pem_file(path: &Path) -> Result<OperatorCa, TlsError> {
        let source = path.display().to_string();
        let pem = std::fs::read(path).map_err(|e| TlsError::OperatorCaRead { path: source.clone(), source: e })?;
        OperatorCa::from_pem(&pem, &source)
    }

    /// Reads PEM text; `source` names it in errors (the file name).
    pub fn from_pem(pem: &[u8], source: &str) -> Result<OperatorCa, TlsError> {
        let bad = |reason: String| TlsError::OperatorCaPem { path: source.to_string(), reason };
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| bad(e.to_string()))?;
            roots.add(cert).map_err(|e| bad(format!("not a usable CA certificate: {e}")))?;
        }
        if roots.is_empty() {
            return Err(bad("no CERTIFICATE block found".into()));
        }
        Ok(OperatorCa { source: source.to_string(), roots: Arc::new(roots) })
    }
}

/// Why attested TLS could not be set up, or a certificate not be made.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("--tls needs attestation, but --nsm off switches it off (no attestation, no attested TLS)")]
    NoNsm,
    #[error("--tls-rotate {0:?}: must be between 1s and 365 days")]
    Rotate(Duration),
    #[error("--tls-name {0:?} is not a DNS name or IP address")]
    Name(String),
    #[error("--operator-ca {path}: cannot read it")]
    OperatorCaRead {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("--operator-ca {path}: {reason}")]
    OperatorCaPem { path: String, reason: String },
    #[error("TLS key: NSM GetRandom failed: {0}")]
    Random(#[source] sworn_nsm::NsmError),
    #[error("TLS key: the NSM gave no attestation document: {0}")]
    Attest(String),
    #[error("TLS key: {0}")]
    Issue(#[from] sworn_atls::IssueError),
    #[error("TLS server configuration: {0}")]
    Config(String),
    #[error("TLS key task failed: {0}")]
    Task(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_operator_ca_pem_is_refused_naming_the_file() {
        for pem in [&b""[..], b"hello", b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n"] {
            let e = OperatorCa::from_pem(pem, "/etc/ops.pem").unwrap_err();
            assert!(matches!(e, TlsError::OperatorCaPem { .. }), "{e}");
            assert!(e.to_string().starts_with("--operator-ca /etc/ops.pem: "), "{e}");
        }
        let e = OperatorCa::from_pem_file(Path::new("/nonexistent/ops.pem")).unwrap_err();
        assert!(e.to_string().contains("--operator-ca /nonexistent/ops.pem"), "{e}");
    }

    #[test]
    fn rotation_and_names_are_checked() {
        assert!(TlsConfig::new().check().is_ok());
        let short = TlsConfig { rotate: Duration::from_millis(999), ..TlsConfig::new() };
        assert!(short.check().unwrap_err().to_string().contains("--tls-rotate"));
        let bad = TlsConfig { names: vec!["no spaces allowed".into()], ..TlsConfig::new() };
        assert!(bad.check().unwrap_err().to_string().contains("--tls-name"));
        let ip = TlsConfig { names: vec!["127.0.0.1".into(), "runner.example".into()], ..TlsConfig::new() };
        assert!(ip.check().is_ok());
    }
}
