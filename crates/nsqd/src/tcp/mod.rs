//! The TCP side of nsqd: accepting connections and running the V2 protocol on each.

mod connection;
mod handlers;

use crate::nsqd::Nsqd;
use std::sync::Arc;
use tokio::io::AsyncReadExt;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::task::TaskTracker;

/// Accepts connections until shutdown; each runs in its own task tracked by `tasks`.
pub async fn serve(nsqd: Arc<Nsqd>, listener: TcpListener, tasks: TaskTracker) {
    loop {
        let accepted = tokio::select! {
            _ = nsqd.shutdown.cancelled() => break,
            r = listener.accept() => r,
        };
        match accepted {
            Ok((stream, remote)) => {
                tracing::info!("TCP: new client({remote})");
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

async fn handle_stream(nsqd: Arc<Nsqd>, mut stream: TcpStream, remote: std::net::SocketAddr) {
    let _ = stream.set_nodelay(true);
    let mut magic = [0u8; 4];
    if let Err(e) = stream.read_exact(&mut magic).await {
        tracing::error!("client({remote}) failed to read protocol version - {e}");
        return;
    }
    tracing::info!(
        "CLIENT({remote}): desired protocol magic '{}'",
        String::from_utf8_lossy(&magic)
    );
    if &magic != nsq_protocol::MAGIC_V2 {
        let mut buf = bytes::BytesMut::new();
        nsq_protocol::frame::write_error(&mut buf, b"E_BAD_PROTOCOL");
        let _ = stream.write_all(&buf).await;
        tracing::error!(
            "client({remote}) bad protocol magic '{}'",
            String::from_utf8_lossy(&magic)
        );
        return;
    }
    connection::Connection::run(nsqd, stream, remote).await;
}
