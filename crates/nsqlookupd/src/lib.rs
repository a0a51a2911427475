//! nsqlookupd as a library: everything but flag parsing, logging set-up and
//! signal handling (those live in the `nsqlookupd` binary).
//!
//! Module map:
//! - [`options`]: the daemon's settings and their v1.3.0 defaults.
//! - [`registration_db`]: producers and topic/channel registrations, the
//!   active filter and tombstones.
//! - `tcp`: the V1 lookup protocol server nsqd connects to.
//! - `http`: the HTTP API (`/lookup`, `/topics`, `/nodes`, ...), built on `nsq-http`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), nsqlookupd::RunError> {
//! let opts = nsqlookupd::Options::default();
//! let tcp = nsqlookupd::bind(&opts.tcp_address).await?;
//! let http = nsqlookupd::bind(&opts.http_address).await?;
//! nsqlookupd::run(opts, tcp, http, async { /* shutdown signal */ }).await
//! # }
//! ```

mod http;
mod metrics;
pub mod options;
pub mod registration_db;
mod tcp;

pub use options::Options;
pub use registration_db::RegistrationDb;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

/// The NSQ version this nsqlookupd is compatible with (`/info`, IDENTIFY replies).
pub const VERSION: &str = "1.3.0";

/// Why the daemon could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Binding a listener failed (address in use, bad address, permissions).
    #[error("listen ({address}) failed - {source}")]
    Listen {
        /// The address that was asked for.
        address: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// A listener handed to [`run`] has no local address.
    #[error("cannot read the local address of the {which} listener - {source}")]
    LocalAddr {
        /// `TCP` or `HTTP`.
        which: &'static str,
        /// The OS error.
        source: std::io::Error,
    },
}

/// Binds a TCP listener on `address` (`host:port`; port 0 picks a free one;
/// an empty host, as in Go's `:4160`, means every IPv4 interface).
pub async fn bind(address: &str) -> Result<TcpListener, RunError> {
    let target = match address.strip_prefix(':') {
        Some(port) => format!("0.0.0.0:{port}"),
        None => address.to_string(),
    };
    TcpListener::bind(target.as_str())
        .await
        .map_err(|source| RunError::Listen {
            address: address.to_string(),
            source,
        })
}

/// State shared by the TCP and HTTP servers.
#[derive(Debug)]
pub struct Context {
    /// The options the daemon runs with.
    pub opts: Options,
    /// The registrations.
    pub db: RegistrationDb,
    /// The bound TCP address (its port is reported in IDENTIFY replies).
    pub tcp_addr: SocketAddr,
    /// The bound HTTP address (its port is reported in IDENTIFY replies).
    pub http_addr: SocketAddr,
    /// The OS hostname reported in IDENTIFY replies.
    pub hostname: String,
}

/// Serves nsqd connections on `tcp` and the HTTP API on `http` until
/// `shutdown` completes; then closes both listeners and every connection.
pub async fn run<F>(
    opts: Options,
    tcp: TcpListener,
    http: TcpListener,
    shutdown: F,
) -> Result<(), RunError>
where
    F: Future<Output = ()> + Send,
{
    let tcp_addr = tcp.local_addr().map_err(|source| RunError::LocalAddr {
        which: "TCP",
        source,
    })?;
    let http_addr = http.local_addr().map_err(|source| RunError::LocalAddr {
        which: "HTTP",
        source,
    })?;
    let ctx = Arc::new(Context {
        opts,
        db: RegistrationDb::new(),
        tcp_addr,
        http_addr,
        hostname: options::os_hostname(),
    });
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let tcp_task = tokio::spawn(tcp::serve(tcp, ctx.clone(), stopped(stop_rx.clone())));
    let app = http::router(ctx.clone()).into_axum();
    let http_task = tokio::spawn(nsq_http::serve(http, app, stopped(stop_rx)));

    shutdown.await;
    let _ = stop_tx.send(true);
    if let Err(e) = tcp_task.await {
        tracing::error!("TCP server task failed - {e}");
    }
    tracing::info!("TCP: closing {tcp_addr}");
    if let Err(e) = http_task.await {
        tracing::error!("HTTP server task failed - {e}");
    }
    tracing::info!("HTTP: closing {http_addr}");
    Ok(())
}
