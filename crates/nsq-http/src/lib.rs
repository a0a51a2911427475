//! The HTTP conventions shared by nsqd, nsqlookupd and nsqadmin (NSQ v1.3.0).
//!
//! Module map:
//! - [`router`]: the route table ([`Router`]), the request context handed to
//!   handlers ([`RequestContext`]), per-route options ([`RouteOptions`]).
//! - [`reply`]: what handlers return ([`Reply`]) and how it is rendered.
//! - [`error`]: [`ApiError`], rendered as `{"message":"CODE"}`.
//! - [`query`]: query-string parameters with Go's parsing rules ([`Query`]).
//! - [`json`]: JSON written exactly as Go's `encoding/json` writes it.
//! - [`serve()`]: serving on a bound listener with Go-cased header names.
//! - `path`: route patterns and the path fix-ups of the redirects.
//! - `log`: the per-request log line.
//!
//! # Response rules
//!
//! Every response except [`Reply::Plain`] carries
//! `X-NSQ-Content-Type: nsq; version=1.0` (go-nsq needs it to read lookupd
//! answers). Text is `text/plain; charset=utf-8`, JSON is compact
//! `application/json; charset=utf-8`, an empty reply has no content type,
//! errors are `{"message":"CODE"}` with the error's status.
//!
//! # Router behaviour (httprouter v1.3.0 as NSQ configures it)
//!
//! | request | answer |
//! |---|---|
//! | unknown path | `404 {"message":"NOT_FOUND"}` |
//! | known path, other method | `405 {"message":"METHOD_NOT_ALLOWED"}` + `Allow: <sorted methods>, OPTIONS` |
//! | `OPTIONS` on a known path | `200`, empty, `Allow`, no X-NSQ header |
//! | `HEAD` on a GET route | `405` (HEAD is not GET) |
//! | trailing slash added/missing, wrong letter case, `//`, `.`/`..` | `301` (GET) / `307` (other methods) to the canonical path, query kept; GET gets the body `<a href="/ping">Moved Permanently</a>.\n\n` |
//! | handler panic | `500 {"message":"INTERNAL_ERROR"}`, logged at ERROR |
//! | malformed `%` escape in the path | `400` plain `400 Bad Request` (Go's server) |
//!
//! Redirects happen only for a method that has at least one route, as in
//! httprouter. Each routed request, 404 and 405 is logged at INFO as
//! `<status> <METHOD> <uri> (<remote addr>) <elapsed>` unless the route is
//! [`RouteOptions::unlogged`].
//!
//! # Usage
//!
//! ```no_run
//! use nsq_http::{ApiError, Reply, RequestContext, RouteOptions, Router};
//! use std::sync::Arc;
//!
//! struct State {
//!     version: &'static str,
//! }
//!
//! async fn ping(_: Arc<State>, _: RequestContext) -> Result<Reply, ApiError> {
//!     Ok(Reply::plain("OK")) // no X-NSQ-Content-Type, like Go's PlainText routes
//! }
//!
//! async fn info(state: Arc<State>, _: RequestContext) -> Result<Reply, ApiError> {
//!     Reply::json(&serde_json::json!({ "version": state.version }))
//! }
//!
//! async fn create(_: Arc<State>, req: RequestContext) -> Result<Reply, ApiError> {
//!     let query = req.query()?; // 400 INVALID_REQUEST on a bad query string
//!     let topic = query.require("topic", "MISSING_ARG_TOPIC")?;
//!     if topic.is_empty() {
//!         return Err(ApiError::bad_request("INVALID_ARG_TOPIC"));
//!     }
//!     Ok(Reply::Empty)
//! }
//!
//! async fn config(_: Arc<State>, req: RequestContext) -> Result<Reply, ApiError> {
//!     let opt = req.param("opt").unwrap_or_default();
//!     Reply::json(&opt)
//! }
//!
//! async fn publish(_: Arc<State>, req: RequestContext) -> Result<Reply, ApiError> {
//!     if req.body.len() == 1024 + 1 {
//!         return Err(ApiError::new(nsq_http::StatusCode::PAYLOAD_TOO_LARGE, "MSG_TOO_BIG"));
//!     }
//!     Ok(Reply::text("OK"))
//! }
//!
//! # async fn run() -> std::io::Result<()> {
//! let state = Arc::new(State { version: "1.3.0" });
//! let app = Router::new(state)
//!     .get("/ping", ping)
//!     .get("/info", info)
//!     .post("/topic/create", create)
//!     .get("/config/:opt", config)
//!     .put("/config/:opt", config)
//!     .route_with(
//!         nsq_http::Method::POST,
//!         "/pub",
//!         RouteOptions::unlogged().with_body_limit(1024 + 1),
//!         publish,
//!     )
//!     .into_axum();
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! tracing::info!("HTTP: listening on {}", listener.local_addr()?);
//! nsq_http::serve(listener, app, async { /* shutdown signal */ }).await;
//! # Ok(())
//! # }
//! ```

pub mod client;
pub mod connector;
pub mod error;
pub mod json;
mod log;
mod path;
pub mod prometheus;
pub mod query;
pub mod reply;
pub mod router;
mod serve;

pub use axum::http::{HeaderMap, Method, StatusCode};
pub use client::{HttpClient, HttpClientError};
pub use error::ApiError;
pub use log::go_duration;
pub use path::PatternError;
pub use query::{Query, QueryError};
pub use reply::{
    render, render_error, Reply, JSON_CONTENT_TYPE, NSQ_CONTENT_TYPE_HEADER, NSQ_CONTENT_TYPE_V1,
    TEXT_CONTENT_TYPE,
};
pub use router::{
    Handler, HandlerResult, RequestContext, RouteOptions, Router, DEFAULT_BODY_LIMIT,
};
pub use serve::{serve, serve_io};

#[cfg(test)]
mod tests;
