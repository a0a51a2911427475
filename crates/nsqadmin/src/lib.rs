//! nsqadmin: the NSQ cluster web UI and its JSON API, compatible with
//! NSQ v1.3.0's nsqadmin (same flags, same `/api` paths and JSON shapes).
//!
//! Module map:
//!
//! | module | job |
//! |---|---|
//! | [`options`] | flags → [`Options`], start-up checks ([`OptionsError`]) |
//! | [`cidr`] | `--allow-config-from-cidr` networks |
//! | [`client`] | the outgoing HTTP client and its [`UpstreamError`] texts |
//! | [`tls_required`] | the `403 TLS_REQUIRED` → `https://` retry rule |
//! | [`upstream`] | nsqd / nsqlookupd JSON as read from them |
//! | [`producers`] | the nsqd node list (`/api/nodes`), merged over lookupds |
//! | [`stats`] | admin-flavoured topic/channel/client stats and their aggregation |
//! | [`e2e`] | end-to-end latency percentiles, per node and aggregated |
//! | [`cluster`] | parallel fan-out to lookupds / nsqd with partial failures |
//! | [`history`] | the depth/rate samples behind the built-in charts |
//! | [`acl`] | the admin check (`--admin-user`, `--acl-http-header`) |
//! | [`notify`] | admin-action notifications |
//! | [`api`] | the `/api` and `/config` handlers |
//! | [`assets`] | the embedded UI files |
//! | [`ui`] | the HTML shell with its JS globals |
//! | [`compress`] | gzip / deflate responses |
//! | [`state`] | [`AppState`], shared by all requests |
//! | [`server`] | routes, static files, Graphite proxy, [`run`] |
//!
//! Additions to v1.3.0 (nothing of v1.3.0's API changes):
//! `GET <base>/api/history` (the charts' samples, see [`api::history`]) and
//! a UI that refreshes itself and charts depth and rates without Graphite.

pub mod acl;
pub mod api;
pub mod assets;
pub mod cidr;
pub mod client;
pub mod cluster;
pub mod compress;
pub mod e2e;
pub mod history;
pub mod metrics;
pub mod notify;
pub mod options;
pub mod producers;
pub mod server;
pub mod state;
pub mod stats;
pub mod tls_required;
pub mod ui;
pub mod upstream;

pub use client::UpstreamError;
pub use options::{Options, OptionsError};
pub use server::run;
pub use state::AppState;

/// The NSQ version this nsqadmin is compatible with.
pub const VERSION: &str = "1.3.0";

/// The toolchain note printed after the version (`nsqadmin v1.3.0 (built w/...)`).
pub const BUILT_WITH: &str = concat!("nsq-rs ", env!("CARGO_PKG_VERSION"));
