//! Binding listeners and running nsqd until a shutdown signal.

use crate::nsqd::{BoundAddrs, Nsqd};
use crate::options::Options;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_util::task::TaskTracker;

/// Why nsqd could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The data path is missing or in use.
    #[error(transparent)]
    DataDir(#[from] crate::data_dir::DataDirError),
    /// `nsqd.dat` could not be read or written.
    #[error(transparent)]
    Metadata(#[from] crate::metadata::MetadataError),
    /// A listener could not be bound.
    #[error("listen ({addr}) failed - {source}")]
    Listen {
        /// The address from the flags.
        addr: String,
        /// The OS error.
        source: std::io::Error,
    },
}

/// The bound sockets nsqd serves on.
#[derive(Debug)]
pub struct Listeners {
    /// V2 protocol listener (`--tcp-address`).
    pub tcp: TcpListener,
    /// HTTP API listener (`--http-address`), if enabled.
    pub http: Option<TcpListener>,
}

impl Listeners {
    /// Binds the addresses in `opts` (an empty HTTP address disables HTTP).
    pub async fn bind(opts: &Options) -> Result<Listeners, ServerError> {
        let tcp = bind(&opts.tcp_address).await?;
        let http = if opts.http_address.is_empty() {
            None
        } else {
            Some(bind(&opts.http_address).await?)
        };
        Ok(Listeners { tcp, http })
    }
}

async fn bind(addr: &str) -> Result<TcpListener, ServerError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServerError::Listen {
            addr: addr.to_string(),
            source,
        })
}

/// Serves until `shutdown` completes, then closes every connection and returns.
pub async fn run(
    opts: Options,
    listeners: Listeners,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServerError> {
    let _lock = crate::data_dir::lock_data_dir(&opts.data_path)?;
    let addrs = BoundAddrs {
        tcp: listeners.tcp.local_addr().ok(),
        http: listeners.http.as_ref().and_then(|l| l.local_addr().ok()),
    };
    if let Some(a) = addrs.tcp {
        tracing::info!("TCP: listening on {a}");
    }
    if let Some(a) = addrs.http {
        tracing::info!("HTTP: listening on {a}");
    }
    let nsqd: Arc<Nsqd> = Nsqd::new(opts, addrs);
    nsqd.load_metadata()?;
    nsqd.persist_metadata()?;
    nsqd.start_durability();

    nsqd.start_lookup();
    let tasks = TaskTracker::new();
    tasks.spawn(nsqd.clone().run_deadline_scanner());
    if !nsqd.opts.statsd_address.is_empty() {
        tasks.spawn(crate::statsd::run_statsd(nsqd.clone(), nsqd.shutdown.clone()));
    }
    tasks.spawn(crate::tcp::serve(
        nsqd.clone(),
        listeners.tcp,
        tasks.clone(),
    ));
    if let Some(http) = listeners.http {
        tasks.spawn(crate::http::serve(nsqd.clone(), http));
    }
    shutdown.await;
    tracing::info!("NSQ: closing");
    nsqd.shutdown.cancel();
    tasks.close();
    tasks.wait().await;
    if let Err(e) = nsqd.persist_metadata() {
        tracing::error!("{e}");
    }
    nsqd.close_queues();
    tracing::info!("NSQ: bye");
    Ok(())
}
