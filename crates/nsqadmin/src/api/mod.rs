//! The JSON API under `<base>/api` (nsqadmin.md §4–6) and `/config`.
//!
//! - [`read`]: topics, topic, channel, nodes, node, counter.
//! - [`write`]: create, pause/unpause/empty, delete, tombstone (admin only).
//! - [`config`]: `GET`/`PUT /config/:opt`.
//! - [`graphite`]: `/api/graphite` rates and the `/render` proxy.
//! - [`history`]: `/api/history`, the figures nsqadmin samples itself for
//!   its charts (an addition: v1.3.0 has no such route).

pub mod config;
pub mod graphite;
pub mod history;
pub mod read;
pub mod write;

use crate::cluster::{ClusterError, Warnings};
use crate::state::AppState;
use nsq_http::{ApiError, HandlerResult, Reply, StatusCode};
use serde::Serialize;
use std::sync::Arc;

/// The state handlers receive.
pub type State = Arc<AppState>;

/// `502 UPSTREAM_ERROR: <err>`: no peer of a required step answered.
pub fn upstream_error(e: ClusterError) -> ApiError {
    tracing::error!("{e}");
    ApiError::new(StatusCode::BAD_GATEWAY, format!("UPSTREAM_ERROR: {e}"))
}

/// A response object followed by its `message` key.
#[derive(Debug, Serialize)]
pub struct WithMessage<T: Serialize> {
    /// The object's own keys.
    #[serde(flatten)]
    pub inner: T,
    /// `""` or `WARNING: ...`.
    pub message: String,
}

/// Encodes `inner` + `message` (warnings are also logged).
pub fn reply<T: Serialize>(inner: T, warnings: &Warnings) -> HandlerResult {
    let message = warnings.message();
    if !message.is_empty() {
        tracing::warn!("{message}");
    }
    Reply::json(&WithMessage { inner, message })
}
