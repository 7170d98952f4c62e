//! The hybrid vsock handshake of vhost-device-vsock and Firecracker:
//! the host writes `CONNECT <port>\n` and the backend answers `OK <n>\n`
//! once the guest accepted, after which the unix stream is the guest port.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

/// Longest reply line accepted (`OK 4294967295\n` is 14 bytes).
const MAX_REPLY: usize = 64;

#[derive(Debug)]
pub(crate) enum HandshakeError {
    Io(std::io::Error),
    Refused(String),
}

pub(crate) async fn client_handshake(s: &mut UnixStream, port: u32) -> Result<(), HandshakeError> {
    s.write_all(format!("CONNECT {port}\n").as_bytes()).await.map_err(HandshakeError::Io)?;
    // Read byte by byte: whatever follows the newline is guest data and
    // must stay in the socket for the caller.
    let mut line = Vec::with_capacity(16);
    loop {
        let mut b = [0u8; 1];
        let n = s.read(&mut b).await.map_err(HandshakeError::Io)?;
        if n == 0 {
            return Err(HandshakeError::Refused(format!(
                "backend closed the connection after {:?} (is anything listening on guest port {port}?)",
                String::from_utf8_lossy(&line)
            )));
        }
        if b[0] == b'\n' {
            break;
        }
        line.push(b[0]);
        if line.len() > MAX_REPLY {
            return Err(HandshakeError::Refused(format!("reply longer than {MAX_REPLY} bytes")));
        }
    }
    if line.starts_with(b"OK ") || line == b"OK" {
        Ok(())
    } else {
        Err(HandshakeError::Refused(format!("expected \"OK ...\", got {:?}", String::from_utf8_lossy(&line))))
    }
}
