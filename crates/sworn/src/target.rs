//! The runner a client talks to: `https://HOST[:PORT]`, nothing else.
//!
//! Only the origin matters: the attested certificate names no host the
//! client could check (the document is the identity, not a DNS name), so a
//! path, query or user info in the URL would only suggest a meaning it does
//! not have and is refused.

use std::fmt;

use rustls_pki_types::ServerName;

/// A URL that is not a runner origin.
#[derive(Debug, thiserror::Error)]
#[error("URL {url:?}: {reason}")]
pub struct TargetError {
    pub url: String,
    pub reason: String,
}

/// A parsed runner origin.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Target {
    /// Host name or IP address (IPv6 without brackets), lower case.
    pub host: String,
    pub port: u16,
}

/// The port of `https://` URLs without one.
pub const DEFAULT_PORT: u16 = 443;

impl Target {
    /// Parses `https://HOST[:PORT][/]`.
    pub fn parse(url: &str) -> Result<Target, TargetError> {
        let err = |reason: &str| TargetError { url: url.to_owned(), reason: reason.to_owned() };
        let uri: hyper::Uri = url.parse().map_err(|e: hyper::http::uri::InvalidUri| err(&e.to_string()))?;
        match uri.scheme_str() {
            Some("https") => {}
            Some(other) => return Err(err(&format!("scheme {other:?}: only https:// (attested TLS) is supported"))),
            None => return Err(err("missing scheme: use https://HOST:PORT")),
        }
        let authority = uri.authority().ok_or_else(|| err("missing host"))?;
        if authority.as_str().contains('@') {
            return Err(err("user information is not supported"));
        }
        if uri.path() != "/" && !uri.path().is_empty() || uri.query().is_some() {
            return Err(err("only an origin (https://HOST:PORT) is allowed, without path or query"));
        }
        let host = authority.host();
        let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
        if host.is_empty() {
            return Err(err("missing host"));
        }
        // `Authority::port` is `None` for a port that is not a u16, so read
        // the text after the host (after `]` for IPv6 literals) ourselves.
        let text = authority.as_str();
        let after_host = &text[text.rfind(']').map_or(0, |i| i + 1)..];
        let port = match after_host.rsplit_once(':') {
            None => DEFAULT_PORT,
            Some((_, p)) => p.parse::<u16>().map_err(|e| err(&format!("port {p:?}: {e}")))?,
        };
        let target = Target { host: host.to_ascii_lowercase(), port };
        target.server_name().map_err(|reason| err(&reason))?;
        Ok(target)
    }

    /// The name for rustls: an IP address (no SNI is sent) or a DNS name
    /// (sent as SNI so a front end can route; never checked by the client).
    pub fn server_name(&self) -> Result<ServerName<'static>, String> {
        ServerName::try_from(self.host.clone()).map_err(|e| format!("host {:?}: {e}", self.host))
    }

    /// `HOST:PORT` for connecting and for the HTTP `Host` header.
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// The canonical origin, `https://HOST:PORT` (the port always written): the
/// key of a runner in the credentials file.
impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "https://{}", self.authority())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_parse_to_one_canonical_form() {
        let t = Target::parse("https://Example.COM").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("example.com", 443));
        assert_eq!(t.to_string(), "https://example.com:443");
        assert_eq!(Target::parse("https://127.0.0.1:8443/").unwrap().to_string(), "https://127.0.0.1:8443");
        let v6 = Target::parse("https://[::1]:9").unwrap();
        assert_eq!((v6.host.as_str(), v6.authority()), ("::1", "[::1]:9".to_owned()));
    }

    #[test]
    fn other_urls_are_refused_saying_why() {
        let e = |u: &str| Target::parse(u).unwrap_err().to_string();
        assert!(e("http://h:1").contains("only https"));
        assert!(e("h:1").contains("scheme"), "{}", e("h:1"));
        assert!(e("https://h:1/workers").contains("without path"));
        assert!(e("https://u@h:1").contains("user"));
        assert!(e("https://h:99999").contains("port \"99999\""), "{}", e("https://h:99999"));
        assert!(e("not a url").contains("URL"));
    }
}
