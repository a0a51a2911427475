//! The TCP side of nsqd: accepting connections and running the V2 protocol on each.

mod connection;
mod handlers;
mod upgrade;

use crate::listener::StreamListener;
use crate::nsqd::Nsqd;
use nsq_transport::BoxedIo;
use std::sync::Arc;
use tokio::io::AsyncReadExt;
use tokio::io::AsyncWriteExt;
use tokio_util::task::TaskTracker;

/// Accepts connections until shutdown; each runs in its own task tracked by `tasks`.
pub async fn serve(nsqd: Arc<Nsqd>, listener: StreamListener, tasks: TaskTracker) {
    loop {
        let accepted = tokio::select! {
            _ = nsqd.shutdown.cancelled() => break,
            r = listener.accept() => r,
        };
        match accepted {
            Ok((stream, remote)) => {
                tracing::info!("TCP: new client({})", peer_label(remote));
                let nsqd = nsqd.clone();
                tasks.spawn(async move { handle_stream(nsqd, stream, remote).await });
            }
            Err(e) => {
                tracing::error!("TCP: accept error - {e}");
                // Out of file descriptors and the like: back off instead of spinning.
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
    tracing::info!(
        "TCP: closing {}",
        listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default()
    );
}

/// How a peer appears in logs: `ip:port`, or `unix` for a unix-socket peer.
pub(crate) fn peer_label(remote: Option<std::net::SocketAddr>) -> String {
    remote.map_or_else(|| "unix".to_string(), |r| r.to_string())
}

async fn handle_stream(nsqd: Arc<Nsqd>, mut stream: BoxedIo, remote: Option<std::net::SocketAddr>) {
    let label = peer_label(remote);
    let mut magic = [0u8; 4];
    if let Err(e) = stream.read_exact(&mut magic).await {
        tracing::error!("client({label}) failed to read protocol version - {e}");
        return;
    }
    tracing::info!(
        "CLIENT({label}): desired protocol magic '{}'",
        String::from_utf8_lossy(&magic)
    );
    if &magic != nsq_protocol::MAGIC_V2 {
        let mut buf = bytes::BytesMut::new();
        nsq_protocol::frame::write_error(&mut buf, b"E_BAD_PROTOCOL");
        let _ = stream.write_all(&buf).await;
        let _ = stream.flush().await;
        tracing::error!(
            "client({label}) bad protocol magic '{}'",
            String::from_utf8_lossy(&magic)
        );
        return;
    }
    connection::Connection::run(nsqd, stream, remote).await;
}
