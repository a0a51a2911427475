//! nsqd's HTTP API (nsqd v1.3.0's routes, status codes and bodies), served on
//! the shared router in `nsq-http`.
//!
//! - `publish`: `/pub`, `/mpub`.
//! - `admin`: topic and channel create/delete/empty/pause/unpause.
//! - `info`: `/ping`, `/info`, `/stats`, `/config/:opt`, debug stubs.

mod admin;
mod config;
mod info;
mod publish;

use crate::nsqd::Nsqd;
use nsq_http::{Method, RouteOptions, Router};
use std::sync::Arc;
use tokio::net::TcpListener;

/// Builds the route table.
pub fn router(nsqd: Arc<Nsqd>) -> Router<Arc<Nsqd>> {
    let pub_limit = nsqd.opts.max_msg_size.max(0) as usize + 1;
    let mpub_limit = nsqd.opts.max_body_size.max(0) as usize + 1;
    Router::new(nsqd)
        .get("/ping", info::ping)
        .get("/info", info::info)
        .get("/stats", info::stats)
        .get("/metrics", info::metrics)
        .route_with(
            Method::POST,
            "/pub",
            RouteOptions::unlogged().with_body_limit(pub_limit),
            publish::publish,
        )
        .route_with(
            Method::POST,
            "/mpub",
            RouteOptions::unlogged().with_body_limit(mpub_limit),
            publish::multi_publish,
        )
        .post("/topic/create", admin::topic_create)
        .post("/topic/delete", admin::topic_delete)
        .post("/topic/empty", admin::topic_empty)
        .post("/topic/pause", admin::topic_pause)
        .post("/topic/unpause", admin::topic_unpause)
        .post("/channel/create", admin::channel_create)
        .post("/channel/delete", admin::channel_delete)
        .post("/channel/empty", admin::channel_empty)
        .post("/channel/pause", admin::channel_pause)
        .post("/channel/unpause", admin::channel_unpause)
        .get("/config/:opt", config::get)
        .put("/config/:opt", config::put)
        .get("/debug/pprof/", info::debug_unavailable)
        .get("/debug/pprof/cmdline", info::debug_unavailable)
        .get("/debug/pprof/symbol", info::debug_unavailable)
        .post("/debug/pprof/symbol", info::debug_unavailable)
        .get("/debug/pprof/profile", info::debug_unavailable)
        .get("/debug/pprof/heap", info::debug_unavailable)
        .get("/debug/pprof/goroutine", info::debug_unavailable)
        .get("/debug/pprof/block", info::debug_unavailable)
        .get("/debug/pprof/threadcreate", info::debug_unavailable)
        .put("/debug/setblockrate", info::set_block_rate)
        .post("/debug/freememory", info::free_memory)
}

/// Serves the HTTP API until nsqd shuts down.
pub async fn serve(nsqd: Arc<Nsqd>, listener: TcpListener) {
    let shutdown = nsqd.shutdown.clone();
    let app = router(nsqd).into_axum();
    nsq_http::serve(listener, app, async move { shutdown.cancelled().await }).await;
}
