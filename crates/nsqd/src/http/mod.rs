//! nsqd's HTTP API (nsqd v1.3.0's routes, status codes and bodies), served on
//! the shared router in `nsq-http`.
//!
//! - `publish`: `/pub`, `/mpub`.
//! - [`body`]: parsing of the `/pub` and `/mpub` parameters and bodies.
//! - `admin`: topic and channel create/delete/empty/pause/unpause.
//! - `info`: `/ping`, `/info`, `/stats`, `/config/:opt`, debug stubs.

mod admin;
pub mod body;
mod config;
mod info;
mod publish;

use crate::listener::StreamListener;
use crate::nsqd::Nsqd;
use crate::options::TlsRequired;
use nsq_http::{Method, RouteOptions, Router};
use std::net::SocketAddr;
use std::sync::Arc;

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

/// Serves the HTTP API (over TLS when `tls`) until nsqd shuts down. With
/// `--tls-required=true` the plain listener answers every request with
/// `403 TLS_REQUIRED` and the HTTPS port.
pub async fn serve(nsqd: Arc<Nsqd>, listener: StreamListener, tls: bool) {
    let shutdown = nsqd.shutdown.clone();
    let app = if !tls && nsqd.opts.tls_required == TlsRequired::Yes {
        tls_required_app(nsqd.addrs.https.as_ref().map_or(0, |a| a.port()))
    } else {
        router(nsqd.clone()).into_axum()
    };
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => break,
            r = listener.accept() => r,
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
        };
        let (io, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                tracing::error!("http: Accept error: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let remote = peer.unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)));
        let app = app.clone();
        let acceptor = if tls { nsqd.tls.acceptor() } else { None };
        connections.spawn(async move {
            match acceptor {
                None => nsq_http::serve_io(io, remote, app).await,
                Some(acceptor) => match nsq_transport::stream::upgrade_server_tls(io, &acceptor)
                    .await
                {
                    Ok((tls_io, _)) => nsq_http::serve_io(tls_io, remote, app).await,
                    Err(e) => tracing::debug!("https: TLS handshake with {remote} failed - {e}"),
                },
            }
        });
    }
    connections.shutdown().await;
}

/// Every request on the plain listener gets nsqd's hand-formatted 403.
fn tls_required_app(https_port: i64) -> axum::Router {
    let body = format!(r#"{{"message": "TLS_REQUIRED", "https_port": {https_port}}}"#);
    axum::Router::new().fallback(move || {
        let body = body.clone();
        async move {
            axum::response::Response::builder()
                .status(403)
                .header("Content-Type", "application/json; charset=utf-8")
                .header("X-NSQ-Content-Type", "nsq; version=1.0")
                .body(axum::body::Body::from(body))
                .unwrap_or_default()
        }
    })
}
