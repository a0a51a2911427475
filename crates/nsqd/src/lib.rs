//! nsqd as a library: everything but argument parsing and signal handling.
//!
//! Module map:
//! - [`options`]: every nsqd flag with its default.
//! - [`nsqd`]: the instance: topic map, clients, deadline scanner.
//! - [`topic`], [`channel`]: message fan-out, delivery, in-flight and deferred tracking.
//! - [`store`]: the queue seam behind topics and channels.
//! - [`guid`]: message id generation.
//! - [`client_stats`]: per-connection figures.
//! - `tcp`: the V2 protocol server.
//! - [`server`]: binding listeners and running everything until shutdown.

pub mod channel;
pub mod client_stats;
pub mod data_dir;
pub mod deferred_file;
pub mod durability;
pub mod flags;
pub mod guid;
mod http;
pub mod listener;
pub mod lookup;
pub mod metadata;
pub mod nsqd;
pub mod options;
pub mod server;
pub mod stats;
pub mod store;
mod tcp;
pub mod tls;
pub mod topic;

pub use crate::nsqd::Nsqd;
/// Parsing of `/pub` and `/mpub` parameters and bodies (public for tests and fuzzing).
pub use http::body as http_body;
pub use options::Options;
pub use server::{run, Listeners, ServerError};

/// The NSQ version this nsqd is compatible with (what clients read from IDENTIFY and `/info`).
pub const VERSION: &str = nsq_app::NSQ_VERSION;

/// The toolchain note printed after the version (`nsqd v1.3.0 (built w/...)`).
pub const BUILT_WITH: &str = nsq_app::BUILT_WITH;
pub mod auth;
pub mod e2e;
pub mod metrics;
pub mod statsd;
