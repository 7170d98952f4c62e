//! Listening on an endpoint.

use std::os::fd::AsFd;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use tokio::net::{TcpListener, UnixListener};
use tokio_vsock::{VsockAddr, VsockListener};

use crate::{Endpoint, Error, PeerAddr, Stream, VsockStream};

/// Where the kernel's limit on listen queues is published.
const SOMAXCONN_PATH: &str = "/proc/sys/net/core/somaxconn";
/// The listen backlog when `SOMAXCONN_PATH` cannot be read (Linux's
/// default `somaxconn` since 5.4).
pub const FALLBACK_BACKLOG: i32 = 4096;

/// The listen backlog every [`Listener`] gets: the system's `somaxconn`
/// (the kernel caps any backlog at it), or [`FALLBACK_BACKLOG`] when it
/// cannot be read. The standard library, mio and the vsock crate all
/// listen with 128, which drops handshakes in a burst of connects.
pub fn listen_backlog() -> i32 {
    std::fs::read_to_string(SOMAXCONN_PATH)
        .ok()
        .and_then(|s| s.trim().parse::<i32>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(FALLBACK_BACKLOG)
}

/// Sets the backlog of a socket already listening: on Linux, `listen(2)`
/// on a listening TCP, unix or vsock socket only changes its backlog.
fn set_backlog(fd: impl AsFd, backlog: i32) -> std::io::Result<()> {
    use nix::sys::socket::{listen, Backlog};
    // nix only names values up to libc's SOMAXCONN (4096); beyond it, -1,
    // which the kernel reads as "as many as somaxconn allows".
    let b = Backlog::new(backlog).unwrap_or(Backlog::MAXALLOWABLE);
    listen(&fd, b).map_err(std::io::Error::from)
}

/// A bound listener. Unix (and vhost-uds) listeners remove their socket
/// file when dropped, if it is still the one they created.
#[derive(Debug)]
pub struct Listener {
    inner: Inner,
    endpoint: Endpoint,
}

#[derive(Debug)]
enum Inner {
    Tcp(TcpListener),
    /// The `SocketFile` is held for its `Drop`.
    Unix(UnixListener, #[allow(dead_code)] SocketFile),
    Vsock(VsockListener),
}

/// The socket file a unix listener owns, identified by device and inode so
/// that drop never removes a file someone else put there since.
#[derive(Debug)]
struct SocketFile {
    path: PathBuf,
    dev: u64,
    ino: u64,
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        if let Ok(m) = std::fs::symlink_metadata(&self.path) {
            if m.dev() == self.dev && m.ino() == self.ino {
                let _ = std::fs::remove_file(&self.path);
            }
        }
    }
}

impl Listener {
    /// Binds `endpoint`. For unix paths, a leftover socket file is removed
    /// only if it is a socket and nobody accepts on it; any other file is an
    /// error. `vhost-uds:PATH:PORT` listens on `PATH_PORT`.
    pub async fn bind(endpoint: &Endpoint) -> Result<Self, Error> {
        let bind_err = |source| Error::Bind { endpoint: endpoint.to_string(), source };
        let inner = match endpoint {
            Endpoint::Tcp { host, port } => {
                Inner::Tcp(TcpListener::bind((host.as_str(), *port)).await.map_err(bind_err)?)
            }
            Endpoint::Vsock { cid, port } => {
                Inner::Vsock(VsockListener::bind(VsockAddr::new(*cid, *port)).map_err(bind_err)?)
            }
            Endpoint::Unix(path) => bind_unix(endpoint, path)?,
            Endpoint::VhostUds { path, port } => bind_unix(endpoint, &Endpoint::vhost_uds_listen_path(path, *port))?,
        };
        let backlog = listen_backlog();
        match &inner {
            Inner::Tcp(l) => set_backlog(l, backlog),
            Inner::Unix(l, _) => set_backlog(l, backlog),
            Inner::Vsock(l) => set_backlog(l, backlog),
        }
        .map_err(bind_err)?;
        Ok(Listener { inner, endpoint: endpoint.clone() })
    }

    /// The endpoint this listener was bound with.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The endpoint actually bound: differs from [`Self::endpoint`] when
    /// port 0 asked the kernel to pick a port.
    pub fn local_endpoint(&self) -> Result<Endpoint, Error> {
        let err = |source| Error::Bind { endpoint: self.endpoint.to_string(), source };
        Ok(match &self.inner {
            Inner::Tcp(l) => {
                let a = l.local_addr().map_err(err)?;
                Endpoint::Tcp { host: a.ip().to_string(), port: a.port() }
            }
            Inner::Vsock(l) => {
                let a = l.local_addr().map_err(err)?;
                Endpoint::Vsock { cid: a.cid(), port: a.port() }
            }
            Inner::Unix(..) => self.endpoint.clone(),
        })
    }

    /// Waits for the next connection. TCP streams get TCP_NODELAY.
    pub async fn accept(&self) -> Result<(Stream, PeerAddr), Error> {
        let err = |source| Error::Accept { endpoint: self.endpoint.to_string(), source };
        match &self.inner {
            Inner::Tcp(l) => {
                let (s, a) = l.accept().await.map_err(err)?;
                let _ = s.set_nodelay(true);
                Ok((Stream::Tcp(s), PeerAddr::Tcp(a)))
            }
            Inner::Unix(l, _) => {
                let (s, a) = l.accept().await.map_err(err)?;
                Ok((Stream::Unix(s), PeerAddr::Unix(a.as_pathname().map(Path::to_path_buf))))
            }
            Inner::Vsock(l) => {
                let (s, a) = l.accept().await.map_err(err)?;
                Ok((
                    Stream::Vsock(VsockStream::from_tokio(s).map_err(err)?),
                    PeerAddr::Vsock { cid: a.cid(), port: a.port() },
                ))
            }
        }
    }
}

fn bind_unix(endpoint: &Endpoint, path: &Path) -> Result<Inner, Error> {
    let shown = path.display().to_string();
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_socket() => {
            // A socket file: stale unless someone still accepts on it.
            if std::os::unix::net::UnixStream::connect(path).is_ok() {
                return Err(Error::InUse { endpoint: endpoint.to_string(), path: shown });
            }
            std::fs::remove_file(path).map_err(|source| Error::Bind { endpoint: endpoint.to_string(), source })?;
        }
        Ok(_) => return Err(Error::NotASocket { endpoint: endpoint.to_string(), path: shown }),
        Err(_) => {}
    }
    let l = UnixListener::bind(path).map_err(|source| Error::Bind { endpoint: endpoint.to_string(), source })?;
    let m = std::fs::symlink_metadata(path).map_err(|source| Error::Bind { endpoint: endpoint.to_string(), source })?;
    Ok(Inner::Unix(l, SocketFile { path: path.to_path_buf(), dev: m.dev(), ino: m.ino() }))
}
