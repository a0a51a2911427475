//! Binding listeners and running nsqd until a shutdown signal.

use crate::listener::{ListenAddr, StreamListener};
use crate::nsqd::{BoundAddrs, Nsqd};
use crate::options::Options;
use std::future::Future;
use std::sync::Arc;
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
    /// The TLS files could not be used.
    #[error("failed to build TLS config - {0}")]
    Tls(#[from] nsq_transport::TlsError),
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
    pub tcp: StreamListener,
    /// HTTP API listener (`--http-address`), if enabled.
    pub http: Option<StreamListener>,
    /// HTTPS API listener (`--https-address`), when TLS is configured.
    pub https: Option<StreamListener>,
}

impl Listeners {
    /// Binds the addresses in `opts` (an empty HTTP address disables HTTP;
    /// HTTPS is opened only with a TLS certificate and key).
    pub async fn bind(opts: &Options) -> Result<Listeners, ServerError> {
        let tcp = bind(&opts.tcp_address).await?;
        let http = if opts.http_address.is_empty() {
            None
        } else {
            Some(bind(&opts.http_address).await?)
        };
        let tls = !opts.tls_cert.is_empty() && !opts.tls_key.is_empty();
        let https = if tls && !opts.https_address.is_empty() {
            Some(bind(&opts.https_address).await?)
        } else {
            None
        };
        Ok(Listeners { tcp, http, https })
    }
}

async fn bind(addr: &str) -> Result<StreamListener, ServerError> {
    StreamListener::bind(addr)
        .await
        .map_err(|source| ServerError::Listen {
            addr: addr.to_string(),
            source,
        })
}

fn local(l: &StreamListener) -> Option<ListenAddr> {
    l.local_addr().ok()
}

/// Serves until `shutdown` completes, then closes every connection, writes
/// what it holds to disk and returns.
pub async fn run(
    opts: Options,
    listeners: Listeners,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServerError> {
    let _lock = crate::data_dir::lock_data_dir(&opts.data_path)?;
    let tls = crate::tls::acceptor_from_options(&opts)?;
    let addrs = BoundAddrs {
        tcp: local(&listeners.tcp),
        http: listeners.http.as_ref().and_then(local),
        https: listeners.https.as_ref().and_then(local),
    };
    for (kind, addr) in [
        ("TCP", &addrs.tcp),
        ("HTTP", &addrs.http),
        ("HTTPS", &addrs.https),
    ] {
        if let Some(a) = addr {
            tracing::info!("{kind}: listening on {a}");
        }
    }
    let nsqd: Arc<Nsqd> = Nsqd::new(opts, addrs, tls);
    nsqd.load_metadata()?;
    nsqd.persist_metadata()?;
    nsqd.start_durability();
    nsqd.start_lookup();
    let tasks = TaskTracker::new();
    tasks.spawn(nsqd.clone().run_deadline_scanner());
    if !nsqd.opts.statsd_address.is_empty() {
        tasks.spawn(crate::statsd::run_statsd(
            nsqd.clone(),
            nsqd.shutdown.clone(),
        ));
    }
    tasks.spawn(reload_tls_on_sighup(nsqd.clone()));
    tasks.spawn(crate::tcp::serve(
        nsqd.clone(),
        listeners.tcp,
        tasks.clone(),
    ));
    if let Some(http) = listeners.http {
        tasks.spawn(crate::http::serve(nsqd.clone(), http, false));
    }
    if let Some(https) = listeners.https {
        tasks.spawn(crate::http::serve(nsqd.clone(), https, true));
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

/// SIGHUP re-reads the TLS certificate files; connections keep their sessions.
async fn reload_tls_on_sighup(nsqd: Arc<Nsqd>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let Ok(mut hup) = signal(SignalKind::hangup()) else {
            return;
        };
        loop {
            tokio::select! {
                _ = nsqd.shutdown.cancelled() => return,
                got = hup.recv() => {
                    if got.is_none() {
                        return;
                    }
                    tracing::info!("SIGHUP: reloading TLS certificates");
                    nsqd.tls.reload(&nsqd.opts);
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        nsqd.shutdown.cancelled().await;
    }
}
