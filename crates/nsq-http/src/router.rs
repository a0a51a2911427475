//! The route table and the request dispatcher reproducing httprouter v1.3.0
//! as NSQ configures it (see the crate docs for the rules).

use crate::error::ApiError;
use crate::log::log_request;
use crate::path::{
    clean_path, decode_path, escape_path, html_escape, toggle_trailing_slash, Pattern,
};
use crate::query::Query;
use crate::reply::{build, render, render_error, status_of, Reply, TEXT_CONTENT_TYPE};
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderMap, HeaderValue, Method, Request, Response, StatusCode, Uri};
use bytes::{Bytes, BytesMut};
use futures::future::BoxFuture;
use futures::FutureExt;
use http_body_util::BodyExt;
use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

/// Bodies longer than this are cut here unless a route sets its own limit.
pub const DEFAULT_BODY_LIMIT: usize = 16 * 1024 * 1024;

/// Everything a handler may look at.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// The request method.
    pub method: Method,
    /// The request target as sent (path and raw query).
    pub uri: Uri,
    /// The percent-decoded path that was matched.
    pub path: String,
    /// Path parameters (`:name` / `*name`) in pattern order.
    pub params: Vec<(String, String)>,
    /// Request headers.
    pub headers: HeaderMap,
    /// The body, at most the route's `body_limit` bytes (longer bodies are
    /// cut, so `body.len() == limit` means "too big" when the limit is set
    /// to the maximum accepted size plus one).
    pub body: Bytes,
    /// The peer's address, when the server provided it.
    pub remote_addr: Option<SocketAddr>,
}

impl RequestContext {
    /// A path parameter by name (`/config/:opt` → `param("opt")`).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The raw query string (after `?`, still escaped); `""` when absent.
    pub fn raw_query(&self) -> &str {
        self.uri.query().unwrap_or("")
    }

    /// The parsed query string; `Err(400 INVALID_REQUEST)` when Go would refuse it.
    pub fn query(&self) -> Result<Query, ApiError> {
        Ok(Query::parse(self.raw_query())?)
    }

    /// The request target as logged: path plus `?query` as sent.
    pub fn request_uri(&self) -> &str {
        request_uri(&self.uri)
    }
}

fn request_uri(uri: &Uri) -> &str {
    uri.path_and_query()
        .map(|pq| pq.as_str())
        .unwrap_or_else(|| uri.path())
}

/// The result type of every handler.
pub type HandlerResult = Result<Reply, ApiError>;

/// An async handler: `async fn(state: S, req: RequestContext) -> HandlerResult`.
/// Implemented for every such function or closure.
pub trait Handler<S>: Send + Sync + 'static {
    /// Runs the handler.
    fn call(&self, state: S, req: RequestContext) -> BoxFuture<'static, HandlerResult>;
}

impl<S, F, Fut> Handler<S> for F
where
    F: Fn(S, RequestContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = HandlerResult> + Send + 'static,
{
    fn call(&self, state: S, req: RequestContext) -> BoxFuture<'static, HandlerResult> {
        Box::pin(self(state, req))
    }
}

/// Per-route settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteOptions {
    /// Log `<status> <METHOD> <uri> (<addr>) <elapsed>` at INFO (default true;
    /// nsqd's `/pub` and `/mpub` are not logged).
    pub log: bool,
    /// Most body bytes read for the handler (default [`DEFAULT_BODY_LIMIT`]).
    pub body_limit: usize,
}

impl Default for RouteOptions {
    fn default() -> Self {
        RouteOptions {
            log: true,
            body_limit: DEFAULT_BODY_LIMIT,
        }
    }
}

impl RouteOptions {
    /// Default options without the request log line.
    pub fn unlogged() -> Self {
        RouteOptions {
            log: false,
            ..Self::default()
        }
    }

    /// These options with another body limit.
    pub fn with_body_limit(self, body_limit: usize) -> Self {
        RouteOptions { body_limit, ..self }
    }
}

struct Route<S> {
    method: Method,
    pattern: Pattern,
    options: RouteOptions,
    handler: Arc<dyn Handler<S>>,
}

/// The route table of one daemon, built once at start-up.
///
/// `S` is the shared state handed to every handler (typically an `Arc`).
pub struct Router<S> {
    state: S,
    routes: Vec<Route<S>>,
}

impl<S: Clone + Send + Sync + 'static> Router<S> {
    /// An empty table.
    pub fn new(state: S) -> Self {
        Router {
            state,
            routes: Vec::new(),
        }
    }

    /// Adds a logged route.
    ///
    /// # Panics
    /// On a malformed pattern or a duplicate `(method, pattern)`: both are
    /// programming errors in the daemon's route list, never request input.
    pub fn route(self, method: Method, pattern: &str, handler: impl Handler<S>) -> Self {
        self.route_with(method, pattern, RouteOptions::default(), handler)
    }

    /// Adds a route with explicit options. Panics as [`Router::route`].
    pub fn route_with(
        mut self,
        method: Method,
        pattern: &str,
        options: RouteOptions,
        handler: impl Handler<S>,
    ) -> Self {
        let pattern = match Pattern::parse(pattern) {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        };
        assert!(
            !self
                .routes
                .iter()
                .any(|r| r.method == method && r.pattern == pattern),
            "route {method} {} registered twice",
            pattern.as_str()
        );
        self.routes.push(Route {
            method,
            pattern,
            options,
            handler: Arc::new(handler),
        });
        self.routes.sort_by_key(|r| r.pattern.priority());
        self
    }

    /// Adds a logged `GET` route.
    pub fn get(self, pattern: &str, handler: impl Handler<S>) -> Self {
        self.route(Method::GET, pattern, handler)
    }

    /// Adds a logged `POST` route.
    pub fn post(self, pattern: &str, handler: impl Handler<S>) -> Self {
        self.route(Method::POST, pattern, handler)
    }

    /// Adds a logged `PUT` route.
    pub fn put(self, pattern: &str, handler: impl Handler<S>) -> Self {
        self.route(Method::PUT, pattern, handler)
    }

    /// An axum router whose single fallback dispatches every request through
    /// this table. The remote address is taken from axum's
    /// `ConnectInfo<SocketAddr>` request extension when present
    /// ([`crate::serve`] always sets it).
    pub fn into_axum(self) -> axum::Router {
        let table = Arc::new(self);
        axum::Router::new().fallback(move |req: Request<Body>| {
            let table = table.clone();
            async move { table.dispatch(req).await }
        })
    }

    /// Handles one request.
    pub async fn dispatch(&self, req: Request<Body>) -> Response<Body> {
        let start = Instant::now();
        let (parts, body) = req.into_parts();
        let remote = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0);
        let method = parts.method;
        let uri = parts.uri;
        let Some(path) = decode_path(uri.path()) else {
            return go_bad_request();
        };
        let log = |status: StatusCode| {
            log_request(status, &method, request_uri(&uri), remote, start.elapsed());
        };
        match self.resolve(&method, &path) {
            Resolution::Handler { index, params } => {
                let route = &self.routes[index];
                let body = match read_body(body, route.options.body_limit).await {
                    Ok(b) => b,
                    Err(e) => {
                        tracing::warn!("failed to read request body from {remote:?} - {e}");
                        let err = ApiError::invalid_request();
                        log(err.status);
                        return render_error(&err);
                    }
                };
                let ctx = RequestContext {
                    method: method.clone(),
                    uri: uri.clone(),
                    path,
                    params,
                    headers: parts.headers,
                    body,
                    remote_addr: remote,
                };
                let (result, panicked) =
                    run_handler(route.handler.as_ref(), &self.state, ctx).await;
                if route.options.log || panicked {
                    log(status_of(&result));
                }
                render(result)
            }
            Resolution::Redirect { status, path } => {
                let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
                redirect(&method, status, &format!("{}{query}", escape_path(&path)))
            }
            Resolution::Options { allow } => {
                let mut resp = build(StatusCode::OK, None, false, Bytes::new());
                insert_allow(&mut resp, &allow);
                resp
            }
            Resolution::MethodNotAllowed { allow } => {
                let err = ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED");
                log(err.status);
                let mut resp = render_error(&err);
                insert_allow(&mut resp, &allow);
                resp
            }
            Resolution::NotFound => {
                let err = ApiError::not_found("NOT_FOUND");
                log(err.status);
                render_error(&err)
            }
        }
    }

    fn find(&self, method: &Method, path: &str) -> Option<(usize, Vec<(String, String)>)> {
        self.routes
            .iter()
            .enumerate()
            .filter(|(_, r)| r.method == method)
            .find_map(|(i, r)| r.pattern.matches(path).map(|p| (i, p)))
    }

    fn find_ignore_case(&self, method: &Method, path: &str) -> Option<String> {
        self.routes
            .iter()
            .filter(|r| r.method == method)
            .find_map(|r| r.pattern.matches_ignore_case(path))
    }

    /// httprouter's decision sequence: handler, trailing-slash redirect,
    /// fixed-path redirect (only when the method has routes), then
    /// OPTIONS / 405 / 404.
    fn resolve(&self, method: &Method, path: &str) -> Resolution {
        let method_has_routes = self.routes.iter().any(|r| r.method == method);
        if method_has_routes {
            if let Some((index, params)) = self.find(method, path) {
                return Resolution::Handler { index, params };
            }
            if method != Method::CONNECT && path != "/" {
                let status = if method == Method::GET {
                    StatusCode::MOVED_PERMANENTLY
                } else {
                    StatusCode::TEMPORARY_REDIRECT
                };
                let toggled = toggle_trailing_slash(path);
                if self.find(method, &toggled).is_some() {
                    return Resolution::Redirect {
                        status,
                        path: toggled,
                    };
                }
                let cleaned = clean_path(path);
                let fixed = self
                    .find_ignore_case(method, &cleaned)
                    .or_else(|| self.find_ignore_case(method, &toggle_trailing_slash(&cleaned)));
                if let Some(fixed) = fixed {
                    return Resolution::Redirect {
                        status,
                        path: fixed,
                    };
                }
            }
        }
        let allow = self.allowed(path, method);
        match allow {
            Some(allow) if method == Method::OPTIONS => Resolution::Options { allow },
            Some(allow) => Resolution::MethodNotAllowed { allow },
            None => Resolution::NotFound,
        }
    }

    /// The `Allow` value for `path`: the other methods that route it, plus
    /// OPTIONS, sorted, `", "`-separated; `None` when no other method does.
    fn allowed(&self, path: &str, method: &Method) -> Option<String> {
        let mut methods: Vec<&str> = Vec::new();
        for r in &self.routes {
            if r.method == Method::OPTIONS || methods.contains(&r.method.as_str()) {
                continue;
            }
            let matches = if path == "*" {
                true
            } else {
                r.method != method && r.pattern.matches(path).is_some()
            };
            if matches {
                methods.push(r.method.as_str());
            }
        }
        if methods.is_empty() {
            return None;
        }
        methods.push("OPTIONS");
        methods.sort_unstable();
        Some(methods.join(", "))
    }
}

enum Resolution {
    Handler {
        index: usize,
        params: Vec<(String, String)>,
    },
    Redirect {
        status: StatusCode,
        path: String,
    },
    Options {
        allow: String,
    },
    MethodNotAllowed {
        allow: String,
    },
    NotFound,
}

/// Runs a handler, turning a panic into `500 INTERNAL_ERROR` (logged at ERROR).
async fn run_handler<S: Clone + 'static>(
    handler: &dyn Handler<S>,
    state: &S,
    ctx: RequestContext,
) -> (HandlerResult, bool) {
    let started = std::panic::catch_unwind(AssertUnwindSafe(|| handler.call(state.clone(), ctx)));
    let outcome = match started {
        Ok(fut) => AssertUnwindSafe(fut).catch_unwind().await,
        Err(panic) => Err(panic),
    };
    match outcome {
        Ok(result) => (result, false),
        Err(panic) => {
            let text = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            tracing::error!("panic in HTTP handler - {text}");
            (Err(ApiError::internal("INTERNAL_ERROR")), true)
        }
    }
}

/// Reads at most `limit` bytes of the body; the rest is left unread.
async fn read_body(mut body: Body, limit: usize) -> Result<Bytes, axum::Error> {
    let mut buf = BytesMut::new();
    while buf.len() < limit {
        let Some(frame) = body.frame().await else {
            break;
        };
        if let Ok(data) = frame?.into_data() {
            let room = limit - buf.len();
            buf.extend_from_slice(&data[..data.len().min(room)]);
        }
    }
    Ok(buf.freeze())
}

fn insert_allow(resp: &mut Response<Body>, allow: &str) {
    if let Ok(v) = HeaderValue::from_str(allow) {
        // Go writes headers sorted: Allow comes first.
        let rest = std::mem::take(resp.headers_mut());
        resp.headers_mut().insert(header::ALLOW, v);
        resp.headers_mut().extend(rest);
    }
}

/// Go's `http.Redirect`: `Location`; for GET an HTML body and content type.
fn redirect(method: &Method, status: StatusCode, location: &str) -> Response<Body> {
    let body = if method == Method::GET {
        let reason = status.canonical_reason().unwrap_or("");
        format!("<a href=\"{}\">{reason}</a>.\n\n", html_escape(location))
    } else {
        String::new()
    };
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    if method == Method::GET || method == Method::HEAD {
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
    }
    if let Ok(v) = HeaderValue::from_str(location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

/// What Go's server answers to a request whose path has a malformed escape.
fn go_bad_request() -> Response<Body> {
    let mut resp = Response::new(Body::from("400 Bad Request"));
    *resp.status_mut() = StatusCode::BAD_REQUEST;
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(TEXT_CONTENT_TYPE),
    );
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    resp
}
