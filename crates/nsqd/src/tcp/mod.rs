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
    // A peer that connects and never sends the magic would otherwise hold
    // its socket forever: it gets the same 60 s (client timeout) as a
    // silent client after IDENTIFY.
    let timeout = nsqd.opts.client_timeout;
    match tokio::time::timeout(timeout, stream.read_exact(&mut magic)).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => {
            tracing::error!("client({label}) failed to read protocol version - {e}");
            return;
        }
        Err(_) => {
            tracing::error!(
                "client({label}) failed to read protocol version - read timeout after {timeout:?}"
            );
            return;
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn a_peer_that_never_sends_the_magic_is_closed_after_the_client_timeout() {
        let opts = crate::Options {
            client_timeout: Duration::from_millis(200),
            ..crate::Options::default()
        };
        let nsqd = Nsqd::new(opts, crate::nsqd::BoundAddrs::default(), None);
        let (server, mut client) = tokio::io::duplex(64);
        let started = std::time::Instant::now();
        let task = tokio::spawn(handle_stream(nsqd, Box::pin(server), None));
        // Two bytes of the magic, then silence.
        client.write_all(b"  ").await.unwrap();
        let mut buf = [0u8; 8];
        let n = tokio::time::timeout(Duration::from_secs(5), client.read(&mut buf))
            .await
            .expect("the connection is closed well before 5 s")
            .unwrap();
        assert_eq!(n, 0, "closed without an answer");
        assert!(started.elapsed() >= Duration::from_millis(200));
        task.await.unwrap();
    }
}
