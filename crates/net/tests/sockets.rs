//! Listener/connect behaviour over real sockets (loopback and unix only).

use std::time::Duration;

use sworn_net::{connect, Endpoint, Error, Listener, PeerAddr};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixListener;

fn ep(s: &str) -> Endpoint {
    s.parse().unwrap()
}

async fn echo_once(l: Listener) -> PeerAddr {
    let (mut s, peer) = l.accept().await.unwrap();
    let mut buf = Vec::new();
    // Reads to EOF: works only if the client half-closed.
    s.read_to_end(&mut buf).await.unwrap();
    s.write_all(&buf).await.unwrap();
    s.shutdown().await.unwrap();
    peer
}

async fn round_trip(listen: Endpoint, target: Endpoint) -> PeerAddr {
    let l = Listener::bind(&listen).await.unwrap();
    let target = match target {
        Endpoint::Tcp { port: 0, .. } => l.local_endpoint().unwrap(),
        t => t,
    };
    let server = tokio::spawn(echo_once(l));
    let mut c = connect(&target).await.unwrap();
    c.write_all(b"hello half-close").await.unwrap();
    c.shutdown().await.unwrap();
    let mut back = Vec::new();
    c.read_to_end(&mut back).await.unwrap();
    assert_eq!(back, b"hello half-close");
    tokio::time::timeout(Duration::from_secs(5), server).await.unwrap().unwrap()
}

#[tokio::test]
async fn tcp_ipv4_and_ipv6_half_close() {
    let peer = round_trip(ep("tcp:127.0.0.1:0"), ep("tcp:127.0.0.1:0")).await;
    assert!(matches!(peer, PeerAddr::Tcp(a) if a.ip().is_loopback()));
    // IPv6 loopback may be disabled in some sandboxes; only then skip.
    if std::net::TcpListener::bind("[::1]:0").is_ok() {
        round_trip(ep("tcp:[::1]:0"), ep("tcp:[::1]:0")).await;
    }
}

#[tokio::test]
async fn unix_half_close_and_cleanup_on_drop() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sock");
    let e = Endpoint::Unix(path.clone());
    let peer = round_trip(e.clone(), e).await;
    assert_eq!(peer, PeerAddr::Unix(None));
    // The listener was dropped with the server task: its file is gone.
    assert!(!path.exists());
}

#[tokio::test]
async fn unix_removes_stale_socket_but_not_other_files_or_live_sockets() {
    let dir = tempfile::tempdir().unwrap();
    let stale = dir.path().join("stale.sock");
    // A socket file nobody listens on any more.
    drop(std::os::unix::net::UnixListener::bind(&stale).unwrap());
    assert!(stale.exists());
    let l = Listener::bind(&Endpoint::Unix(stale.clone())).await.unwrap();

    // While it is live, a second bind must not steal it.
    let err = Listener::bind(&Endpoint::Unix(stale.clone())).await.unwrap_err();
    assert!(matches!(err, Error::InUse { .. }), "{err}");
    drop(l);

    let regular = dir.path().join("data.txt");
    std::fs::write(&regular, b"precious").unwrap();
    let err = Listener::bind(&Endpoint::Unix(regular.clone())).await.unwrap_err();
    assert!(matches!(err, Error::NotASocket { .. }), "{err}");
    assert!(err.to_string().contains("data.txt"));
    assert_eq!(std::fs::read(&regular).unwrap(), b"precious");
}

#[tokio::test]
async fn drop_does_not_remove_a_replaced_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sock");
    let l = Listener::bind(&Endpoint::Unix(path.clone())).await.unwrap();
    std::fs::remove_file(&path).unwrap();
    std::fs::write(&path, b"someone else's").unwrap();
    drop(l);
    assert_eq!(std::fs::read(&path).unwrap(), b"someone else's");
}

#[tokio::test]
async fn vhost_uds_listens_on_path_underscore_port() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("vm.vsock");
    let l = Listener::bind(&Endpoint::VhostUds { path: base.clone(), port: 9000 }).await.unwrap();
    let guest_side = dir.path().join("vm.vsock_9000");
    assert!(guest_side.exists());
    // The backend (vhost-device-vsock) connects there for guest connections.
    let server = tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        let mut b = [0u8; 1];
        s.read_exact(&mut b).await.unwrap();
        s.write_all(&b).await.unwrap();
    });
    let mut c = tokio::net::UnixStream::connect(&guest_side).await.unwrap();
    c.write_all(&[0xB7]).await.unwrap();
    let mut b = [0u8; 1];
    c.read_exact(&mut b).await.unwrap();
    assert_eq!(b, [0xB7]);
    server.await.unwrap();
}

/// A minimal stand-in for the vhost-device-vsock host socket.
async fn fake_backend(path: std::path::PathBuf, reply: &'static [u8]) -> tokio::task::JoinHandle<String> {
    let l = UnixListener::bind(&path).unwrap();
    tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        let mut req = Vec::new();
        let mut b = [0u8; 1];
        while s.read(&mut b).await.unwrap() == 1 && b[0] != b'\n' {
            req.push(b[0]);
        }
        // Reply and guest data in one write: the client must not eat the data.
        s.write_all(reply).await.unwrap();
        if reply.is_empty() {
            // Like the backend when nothing listens on the guest port.
            return String::from_utf8(req).unwrap();
        }
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest).await;
        String::from_utf8(req).unwrap()
    })
}

#[tokio::test]
async fn vhost_uds_connect_handshake_keeps_following_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("vm.vsock");
    let backend = fake_backend(base.clone(), b"OK 1073741824\nguest-data").await;
    let mut c = connect(&Endpoint::VhostUds { path: base, port: 1057 }).await.unwrap();
    let mut got = [0u8; 10];
    c.read_exact(&mut got).await.unwrap();
    assert_eq!(&got, b"guest-data");
    c.shutdown().await.unwrap();
    assert_eq!(backend.await.unwrap(), "CONNECT 1057");
}

#[tokio::test]
async fn vhost_uds_connect_rejects_bad_reply_and_eof() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("a.vsock");
    let _b = fake_backend(base.clone(), b"NO\n").await;
    let err = connect(&Endpoint::VhostUds { path: base, port: 5 }).await.unwrap_err();
    assert!(matches!(err, Error::Handshake { .. }), "{err}");
    assert!(err.to_string().contains("expected \"OK ...\""), "{err}");

    let base = dir.path().join("b.vsock");
    let _b = fake_backend(base.clone(), b"").await;
    let err = connect(&Endpoint::VhostUds { path: base, port: 6 }).await.unwrap_err();
    assert!(err.to_string().contains("closed the connection"), "{err}");
}

#[tokio::test]
async fn connect_refused_reports_endpoint_and_kind() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    let err = connect(&ep(&format!("tcp:127.0.0.1:{port}"))).await.unwrap_err();
    assert_eq!(err.io_kind(), Some(std::io::ErrorKind::ConnectionRefused));
    assert!(err.to_string().contains(&format!("tcp:127.0.0.1:{port}")));
}

#[tokio::test]
async fn vsock_bind_any() {
    // Binding needs /dev/vsock (vsock loopback delivery is not available here).
    let port = 40_000 + std::process::id() % 20_000;
    match Listener::bind(&Endpoint::Vsock { cid: sworn_net::VMADDR_CID_ANY, port }).await {
        Ok(l) => {
            let local = l.local_endpoint().unwrap();
            assert!(matches!(local, Endpoint::Vsock { port: p, .. } if p == port), "{local}");
        }
        Err(e) => eprintln!("vsock unavailable on this machine, skipped: {e}"),
    }
}
