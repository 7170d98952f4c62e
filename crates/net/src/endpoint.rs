//! The textual endpoint syntax.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// `VMADDR_CID_ANY`: listen on every CID of this machine.
pub const VMADDR_CID_ANY: u32 = sworn_wire::cid::ANY;

/// Where to listen or connect. See the crate documentation for the syntax.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// AF_VSOCK `cid:port`.
    Vsock { cid: u32, port: u32 },
    /// TCP to a host name or IP literal (IPv6 without brackets here).
    Tcp { host: String, port: u16 },
    /// Unix stream socket at a filesystem path.
    Unix(PathBuf),
    /// Hybrid vsock through a vhost-device-vsock / Firecracker unix socket.
    VhostUds { path: PathBuf, port: u32 },
}

/// Why a string is not an [`Endpoint`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseEndpointError {
    #[error(
        "endpoint {0:?}: missing scheme, expected vsock:CID:PORT, tcp:HOST:PORT, unix:PATH or vhost-uds:PATH:PORT"
    )]
    MissingScheme(String),
    #[error("endpoint {input:?}: unknown scheme {scheme:?}, expected vsock, tcp, unix or vhost-uds")]
    UnknownScheme { input: String, scheme: String },
    #[error("endpoint {input:?}: missing {what}")]
    Missing { input: String, what: &'static str },
    #[error("endpoint {input:?}: invalid {what} {value:?}: {reason}")]
    Invalid { input: String, what: &'static str, value: String, reason: String },
}

impl Endpoint {
    /// The unix socket path on which a vhost-uds listener accepts guest
    /// connections to `port`: `PATH_PORT`, as vhost-device-vsock names it.
    pub fn vhost_uds_listen_path(path: &std::path::Path, port: u32) -> PathBuf {
        let mut s = path.as_os_str().to_owned();
        s.push(format!("_{port}"));
        PathBuf::from(s)
    }
}

impl FromStr for Endpoint {
    type Err = ParseEndpointError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let (scheme, rest) =
            input.split_once(':').ok_or_else(|| ParseEndpointError::MissingScheme(input.to_owned()))?;
        let missing = |what| ParseEndpointError::Missing { input: input.to_owned(), what };
        let invalid = |what, value: &str, reason: String| ParseEndpointError::Invalid {
            input: input.to_owned(),
            what,
            value: value.to_owned(),
            reason,
        };
        match scheme {
            "vsock" => {
                let (cid, port) = rest.rsplit_once(':').ok_or_else(|| missing("port (vsock:CID:PORT)"))?;
                let cid = match cid {
                    "" => return Err(missing("CID (vsock:CID:PORT)")),
                    "-1" | "any" => VMADDR_CID_ANY,
                    c => c.parse::<u32>().map_err(|e| invalid("CID", c, format!("{e}; use a number, -1 or any")))?,
                };
                let port = parse_port_u32(port).map_err(|r| invalid("port", port, r))?;
                Ok(Endpoint::Vsock { cid, port })
            }
            "tcp" => {
                let (host, port) = rest.rsplit_once(':').ok_or_else(|| missing("port (tcp:HOST:PORT)"))?;
                let host = if let Some(inner) = host.strip_prefix('[') {
                    let inner =
                        inner.strip_suffix(']').ok_or_else(|| invalid("host", host, "unbalanced '['".into()))?;
                    inner
                        .parse::<std::net::Ipv6Addr>()
                        .map_err(|e| invalid("host", host, format!("bracketed host must be an IPv6 address: {e}")))?;
                    inner
                } else {
                    if host.contains(':') {
                        return Err(invalid("host", host, "IPv6 addresses need brackets, e.g. tcp:[::1]:80".into()));
                    }
                    if host.contains(|c: char| c.is_whitespace() || c == '/' || c == ']' || c == '[') {
                        return Err(invalid("host", host, "not a host name or IP address".into()));
                    }
                    host
                };
                if host.is_empty() {
                    return Err(missing("host (tcp:HOST:PORT)"));
                }
                if port.is_empty() {
                    return Err(missing("port (tcp:HOST:PORT)"));
                }
                let port =
                    port.parse::<u16>().map_err(|e| invalid("port", port, format!("{e}; TCP ports are 0..=65535")))?;
                Ok(Endpoint::Tcp { host: host.to_owned(), port })
            }
            "unix" => {
                if rest.is_empty() {
                    return Err(missing("path (unix:PATH)"));
                }
                Ok(Endpoint::Unix(PathBuf::from(rest)))
            }
            "vhost-uds" => {
                let (path, port) = rest.rsplit_once(':').ok_or_else(|| missing("port (vhost-uds:PATH:PORT)"))?;
                if path.is_empty() {
                    return Err(missing("path (vhost-uds:PATH:PORT)"));
                }
                let port = parse_port_u32(port).map_err(|r| invalid("port", port, r))?;
                Ok(Endpoint::VhostUds { path: PathBuf::from(path), port })
            }
            other => Err(ParseEndpointError::UnknownScheme { input: input.to_owned(), scheme: other.to_owned() }),
        }
    }
}

fn parse_port_u32(port: &str) -> Result<u32, String> {
    if port.is_empty() {
        return Err("empty".into());
    }
    port.parse::<u32>().map_err(|e| format!("{e}; vsock ports are 0..=4294967295"))
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Vsock { cid, port } if *cid == VMADDR_CID_ANY => write!(f, "vsock:-1:{port}"),
            Endpoint::Vsock { cid, port } => write!(f, "vsock:{cid}:{port}"),
            Endpoint::Tcp { host, port } if host.contains(':') => write!(f, "tcp:[{host}]:{port}"),
            Endpoint::Tcp { host, port } => write!(f, "tcp:{host}:{port}"),
            Endpoint::Unix(path) => write!(f, "unix:{}", path.display()),
            Endpoint::VhostUds { path, port } => write!(f, "vhost-uds:{}:{port}", path.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> Endpoint {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn parses_every_scheme() {
        assert_eq!(ok("vsock:16:1057"), Endpoint::Vsock { cid: 16, port: 1057 });
        assert_eq!(ok("vsock:-1:1057"), Endpoint::Vsock { cid: VMADDR_CID_ANY, port: 1057 });
        assert_eq!(ok("vsock:any:9000"), Endpoint::Vsock { cid: VMADDR_CID_ANY, port: 9000 });
        assert_eq!(ok("tcp:127.0.0.1:80"), Endpoint::Tcp { host: "127.0.0.1".into(), port: 80 });
        assert_eq!(ok("tcp:[::1]:443"), Endpoint::Tcp { host: "::1".into(), port: 443 });
        assert_eq!(ok("tcp:example.com:0"), Endpoint::Tcp { host: "example.com".into(), port: 0 });
        assert_eq!(ok("unix:/run/x.sock"), Endpoint::Unix("/run/x.sock".into()));
        assert_eq!(ok("unix:rel:with:colons"), Endpoint::Unix("rel:with:colons".into()));
        assert_eq!(ok("vhost-uds:/tmp/v.sock:1057"), Endpoint::VhostUds { path: "/tmp/v.sock".into(), port: 1057 });
        assert_eq!(ok("vhost-uds:/tmp/a:b:9000"), Endpoint::VhostUds { path: "/tmp/a:b".into(), port: 9000 });
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "vsock:16:1057",
            "vsock:-1:1057",
            "tcp:127.0.0.1:80",
            "tcp:[::1]:443",
            "tcp:localhost:8080",
            "unix:/run/sworn.sock",
            "vhost-uds:/tmp/v.sock:1057",
        ] {
            let e = ok(s);
            assert_eq!(e.to_string(), s);
            assert_eq!(ok(&e.to_string()), e);
        }
        assert_eq!(ok("vsock:any:1").to_string(), "vsock:-1:1");
    }

    #[test]
    fn errors_name_the_problem() {
        let err = |s: &str| s.parse::<Endpoint>().unwrap_err().to_string();
        assert!(err("1057").contains("missing scheme"));
        assert!(err("udp:1.2.3.4:5").contains("unknown scheme \"udp\""));
        assert!(err("vsock:16").contains("missing port"));
        assert!(err("vsock::5").contains("missing CID"));
        assert!(err("vsock:x:5").contains("invalid CID \"x\""));
        assert!(err("vsock:3:").contains("invalid port \"\""));
        assert!(err("vsock:3:99999999999").contains("invalid port"));
        assert!(err("tcp:::1:80").contains("IPv6 addresses need brackets"));
        assert!(err("tcp:[::1:80").contains("unbalanced"));
        assert!(err("tcp:[foo]:80").contains("must be an IPv6 address"));
        assert!(err("tcp::80").contains("missing host"));
        assert!(err("tcp:h:").contains("missing port"));
        assert!(err("tcp:h:65536").contains("invalid port \"65536\""));
        assert!(err("tcp:h").contains("missing port"));
        assert!(err("unix:").contains("missing path"));
        assert!(err("vhost-uds:/x").contains("missing port"));
        assert!(err("vhost-uds::5").contains("missing path"));
    }

    #[test]
    fn vhost_uds_listen_path_appends_port() {
        assert_eq!(Endpoint::vhost_uds_listen_path("/tmp/v.sock".as_ref(), 9000), PathBuf::from("/tmp/v.sock_9000"));
    }
}
