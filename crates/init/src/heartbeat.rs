//! Boot heartbeat: one byte 0xB7 to the parent over vsock, echoed back.
//! nitro-cli treats a missing heartbeat as a failed boot.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::thread::sleep;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::socket::{connect, setsockopt, socket, sockopt, AddressFamily, SockFlag, SockType, VsockAddr};
use nix::sys::time::TimeVal;
use thiserror::Error;

use sworn_wire::heartbeat::BYTE as HEARTBEAT_BYTE;

const RETRY_EVERY: Duration = Duration::from_millis(100);

#[derive(Debug, Error)]
pub enum HeartbeatError {
    #[error("no vsock support in this kernel: {0}")]
    NoVsock(Errno),
    #[error("connect failed until the {timeout:?} deadline, last error: {last}")]
    Connect { timeout: Duration, last: Errno },
    #[error("send: {0}")]
    Send(io::Error),
    #[error("no echo within the deadline: {0}")]
    Receive(io::Error),
    #[error("parent closed the connection without echoing")]
    Closed,
    #[error("parent echoed 0x{0:02X}, expected 0x{byte:02X}", byte = HEARTBEAT_BYTE)]
    WrongEcho(u8),
}

/// Sends the heartbeat and checks the echo, retrying the connection until
/// `timeout` has passed. Returns the time it took.
pub fn send(cid: u32, port: u32, timeout: Duration) -> Result<Duration, HeartbeatError> {
    let start = Instant::now();
    let deadline = start + timeout;
    let stream = loop {
        let fd = socket(AddressFamily::Vsock, SockType::Stream, SockFlag::SOCK_CLOEXEC, None)
            .map_err(HeartbeatError::NoVsock)?;
        match connect(fd.as_raw_fd(), &VsockAddr::new(cid, port)) {
            Ok(()) => break File::from(fd),
            // Refused or reset: the parent may not listen yet; retry.
            Err(_) if Instant::now() + RETRY_EVERY < deadline => sleep(RETRY_EVERY),
            Err(last) => return Err(HeartbeatError::Connect { timeout, last }),
        }
    };
    let left = deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(100));
    let tv = TimeVal::new(left.as_secs() as _, left.subsec_micros() as _);
    setsockopt(&stream, sockopt::ReceiveTimeout, &tv).map_err(|e| HeartbeatError::Receive(e.into()))?;
    let mut stream = stream;
    stream.write_all(&[HEARTBEAT_BYTE]).map_err(HeartbeatError::Send)?;
    let mut echo = [0u8; 1];
    match stream.read(&mut echo) {
        Ok(0) => Err(HeartbeatError::Closed),
        Ok(_) if echo[0] == HEARTBEAT_BYTE => Ok(start.elapsed()),
        Ok(_) => Err(HeartbeatError::WrongEcho(echo[0])),
        Err(e) => Err(HeartbeatError::Receive(e)),
    }
}
