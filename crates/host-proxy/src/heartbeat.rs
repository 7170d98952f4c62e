//! The Nitro boot heartbeat, answered where nitro-cli is absent (emulators):
//! the enclave connects, writes 0xB7 and expects 0xB7 back.

use std::sync::Arc;

use sworn_net::{PeerAddr, Stream};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::limits::Permit;
use crate::metrics::Role;
use crate::server::Shared;

/// The heartbeat byte, from the wire contract.
pub const HEARTBEAT: u8 = sworn_wire::heartbeat::BYTE;

pub async fn handle(mut s: Stream, peer: PeerAddr, _permit: Permit, shared: Arc<Shared>) {
    let _active = shared.metrics.accepted(Role::Heartbeat);
    let mut b = [0u8; 1];
    let res = tokio::time::timeout(shared.timeouts.handshake, async {
        s.read_exact(&mut b).await?;
        if b[0] != HEARTBEAT {
            return Ok(false);
        }
        s.write_all(&[HEARTBEAT]).await?;
        s.flush().await?;
        Ok::<_, std::io::Error>(true)
    })
    .await;
    match res {
        Ok(Ok(true)) => tracing::info!(%peer, "heartbeat answered: enclave booted"),
        Ok(Ok(false)) => {
            shared.metrics.error("heartbeat_bad_byte");
            tracing::warn!(%peer, byte = b[0], "heartbeat: unexpected byte, expected 0xB7");
        }
        Ok(Err(e)) => {
            shared.metrics.error("heartbeat_io");
            tracing::warn!(%peer, error = %e, "heartbeat failed");
        }
        Err(_) => {
            shared.metrics.error("heartbeat_timeout");
            tracing::warn!(%peer, "heartbeat: no byte within the handshake timeout");
        }
    }
}
