//! A loopback TCP port in front of a guest vsock port: what `sworn` (which
//! dials TCP) needs to reach an enclave booted without host-proxy. Bytes
//! pass unchanged, so TLS runs end to end between the client and the
//! runner in the guest.

use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::sleep;
use std::time::Duration;

use crate::emulator::connect_vsock;
use crate::{io_err, Result};

/// Relays each connection to `127.0.0.1:<addr.port()>` to the guest port;
/// stops accepting when dropped.
pub struct TcpBridge {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl TcpBridge {
    pub(crate) fn start(uds: PathBuf, port: u32) -> Result<TcpBridge> {
        let listener = TcpListener::bind("127.0.0.1:0").map_err(io_err("bind the bridge on 127.0.0.1"))?;
        let addr = listener.local_addr().map_err(io_err("bridge address"))?;
        listener.set_nonblocking(true).map_err(io_err("bridge listener nonblocking"))?;
        let stop = Arc::new(AtomicBool::new(false));
        let halt = stop.clone();
        std::thread::spawn(move || {
            while !halt.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((tcp, _)) => {
                        let uds = uds.clone();
                        std::thread::spawn(move || relay(tcp, &uds, port));
                    }
                    Err(_) => sleep(Duration::from_millis(20)),
                }
            }
        });
        Ok(TcpBridge { addr, stop })
    }
}

impl Drop for TcpBridge {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn relay(tcp: TcpStream, uds: &std::path::Path, port: u32) {
    let _ = tcp.set_nonblocking(false);
    let Ok(guest) = connect_vsock(uds, port, Duration::from_secs(30)) else {
        return;
    };
    // The CONNECT exchange is done; the relayed conversation may idle.
    let _ = guest.set_read_timeout(None);
    let _ = guest.set_write_timeout(None);
    let (Ok(tcp_read), Ok(guest_write)) = (tcp.try_clone(), guest.try_clone()) else {
        return;
    };
    // Each direction until EOF or an error on either side.
    let upstream = std::thread::spawn(move || {
        let _ = std::io::copy(&mut &tcp_read, &mut &guest_write);
        let _ = guest_write.shutdown(Shutdown::Write);
    });
    let _ = std::io::copy(&mut &guest, &mut &tcp);
    let _ = tcp.shutdown(Shutdown::Write);
    let _ = upstream.join();
}
