//! The state shared by every request: options, the live-changeable
//! settings, the cluster gatherer and the sampled history.

use crate::assets::Assets;
use crate::client::UpstreamClient;
use crate::cluster::{ClusterInfo, Upstreams};
use crate::history::History;
use crate::options::Options;
use parking_lot::RwLock;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// Shared state (one per server).
#[derive(Debug)]
pub struct AppState {
    /// Start-up options.
    pub opts: Options,
    /// The current lookupd list (`PUT /config/nsqlookupd_http_addresses`).
    pub lookupds: RwLock<Vec<String>>,
    /// The current log level number (`PUT /config/log_level`).
    pub log_level: AtomicI64,
    /// The cluster gatherer.
    pub ci: ClusterInfo,
    /// Depth and rate history sampled by nsqadmin itself.
    pub history: Arc<History>,
    /// UI files.
    pub assets: Assets,
    /// This machine's hostname (notifications' `via`).
    pub hostname: String,
}

impl AppState {
    /// State for `opts`.
    pub fn new(opts: Options) -> AppState {
        // The TLS files were checked by `Options::validate`; should they have
        // gone since, https upstreams fail with a TLS error instead.
        let tls = match opts.tls_client_config() {
            Ok(config) => Some(config),
            Err(e) => {
                tracing::error!(
                    "--http-client-tls-* settings unusable, https upstreams will fail - {e}"
                );
                None
            }
        };
        let client = UpstreamClient::with_tls(opts.connect_timeout, opts.request_timeout, tls);
        AppState {
            lookupds: RwLock::new(opts.lookupd_http_addresses.clone()),
            log_level: AtomicI64::new(opts.log_level),
            ci: ClusterInfo::new(client),
            history: Arc::new(History::default()),
            assets: Assets::new(&opts.dev_static_dir),
            hostname: gethostname::gethostname().to_string_lossy().into_owned(),
            opts,
        }
    }

    /// Where the topology comes from right now: lookupd mode while the
    /// lookupd list is non-empty, else the listed nsqd.
    pub fn upstreams(&self) -> Upstreams {
        let lookupds = self.lookupds.read().clone();
        if lookupds.is_empty() {
            Upstreams::Nsqd(self.opts.nsqd_http_addresses.clone())
        } else {
            Upstreams::Lookupd(lookupds)
        }
    }

    /// The current log level number.
    pub fn log_level(&self) -> i64 {
        self.log_level.load(Ordering::Relaxed)
    }
}
