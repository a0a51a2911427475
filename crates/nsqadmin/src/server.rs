//! The HTTP server: the route table (on the shared NSQ router, so 404/405,
//! OPTIONS and redirects behave as in v1.3.0), static files, the Graphite
//! proxy and response compression around it.

use crate::api::{self, State};
use crate::compress;
use crate::history;
use crate::state::AppState;
use crate::ui;
use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method, Request, Response, StatusCode};
use nsq_http::{HandlerResult, Reply, RequestContext, RouteOptions, Router};
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;
use tokio::net::TcpListener;

async fn ping(_: State, _: RequestContext) -> HandlerResult {
    Ok(Reply::plain("OK"))
}

async fn page(st: State, req: RequestContext) -> HandlerResult {
    Ok(Reply::plain(ui::shell(&st, &req.headers)))
}

/// Reached only for methods other than GET (GET is served before routing).
async fn asset(_: State, _: RequestContext) -> HandlerResult {
    Ok(Reply::plain_status(StatusCode::NOT_FOUND, "NOT_FOUND"))
}

/// The route table of nsqadmin under `prefix` (`""` or e.g. `/admin`).
pub fn routes(state: State) -> Router<State> {
    let prefix = state.opts.route_prefix().to_string();
    let p = |path: &str| {
        if path == "/" && !prefix.is_empty() {
            prefix.clone()
        } else {
            format!("{prefix}{path}")
        }
    };
    let mut r = Router::new(state.clone())
        .get(&p("/ping"), ping)
        .get(&p("/static/:asset"), asset)
        .get(&p("/fonts/:asset"), asset);
    for page_path in [
        "/",
        "/topics",
        "/topics/:topic",
        "/topics/:topic/:channel",
        "/nodes",
        "/nodes/:node",
        "/counter",
        "/lookup",
    ] {
        r = r.get(&p(page_path), page);
    }
    let config_body = RouteOptions::default().with_body_limit(api::config::MAX_CONFIG_BODY + 1);
    r = r
        .get(&p("/api/topics"), api::read::topics)
        .post(&p("/api/topics"), api::write::create)
        .get(&p("/api/topics/:topic"), api::read::topic)
        .post(&p("/api/topics/:topic"), api::write::action)
        .route(Method::DELETE, &p("/api/topics/:topic"), api::write::delete)
        .get(&p("/api/topics/:topic/:channel"), api::read::channel)
        .post(&p("/api/topics/:topic/:channel"), api::write::action)
        .route(
            Method::DELETE,
            &p("/api/topics/:topic/:channel"),
            api::write::delete,
        )
        .get(&p("/api/nodes"), api::read::nodes)
        .get(&p("/api/nodes/:node"), api::read::node)
        .route(
            Method::DELETE,
            &p("/api/nodes/:node"),
            api::write::tombstone,
        )
        .get(&p("/api/counter"), api::read::counter)
        .get(&p("/api/graphite"), api::graphite::rate)
        .get(&p("/api/history"), api::history::history)
        .get(&p("/metrics"), crate::metrics::metrics)
        .get(&p("/config/:opt"), api::config::get)
        .route_with(
            Method::PUT,
            &p("/config/:opt"),
            config_body,
            api::config::put,
        );
    if state.opts.proxy_graphite {
        r = r.get(&p("/render"), asset);
    }
    r
}

/// The complete axum application for `state`.
pub fn app(state: State) -> axum::Router {
    let table = Arc::new(routes(state.clone()));
    axum::Router::new().fallback(move |req: Request<Body>| {
        let table = table.clone();
        let state = state.clone();
        async move { handle(state, table, req).await }
    })
}

async fn handle(st: State, table: Arc<Router<State>>, req: Request<Body>) -> Response<Body> {
    let encoding = req
        .headers()
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .and_then(compress::choose);
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let prefix = st.opts.route_prefix().to_string();
    let rel = path.strip_prefix(&prefix).unwrap_or("");
    let resp =
        if method == Method::GET && (rel.starts_with("/static/") || rel.starts_with("/fonts/")) {
            serve_asset(&st, &req.into_parts().0, rel)
        } else if method == Method::GET && rel == "/render" && st.opts.proxy_graphite {
            proxy_render(&st, &req.into_parts().0).await
        } else {
            let mut resp = table.dispatch(req).await;
            let plain_page = method == Method::GET
                && resp.status() == StatusCode::OK
                && !resp
                    .headers()
                    .contains_key(nsq_http::NSQ_CONTENT_TYPE_HEADER)
                && rel != "/ping";
            if plain_page {
                resp.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                );
            }
            resp
        };
    match encoding {
        Some(enc) => compress::compress(resp, enc).await,
        None => resp,
    }
}

fn serve_asset(st: &AppState, req: &Parts, rel: &str) -> Response<Body> {
    let started = Instant::now();
    let name = rel
        .strip_prefix("/static/")
        .or_else(|| rel.strip_prefix("/fonts/"))
        .unwrap_or("");
    let found = if name.contains('/') {
        None
    } else {
        st.assets.get(name)
    };
    let resp = match found {
        Some((body, content_type)) => {
            let mut resp = Response::new(Body::from(body.into_owned()));
            resp.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            resp
        }
        None => {
            let mut resp = Response::new(Body::from("NOT_FOUND"));
            *resp.status_mut() = StatusCode::NOT_FOUND;
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(nsq_http::TEXT_CONTENT_TYPE),
            );
            resp
        }
    };
    log_request(req, resp.status(), started);
    resp
}

async fn proxy_render(st: &State, req: &Parts) -> Response<Body> {
    let started = Instant::now();
    let query = req.uri.query().unwrap_or("");
    let resp = match api::graphite::render(st, query).await {
        Ok(raw) => {
            let mut resp = Response::new(Body::from(raw.body));
            *resp.status_mut() = raw.status;
            if let Some(ct) = raw
                .content_type
                .and_then(|c| HeaderValue::from_str(&c).ok())
            {
                resp.headers_mut().insert(header::CONTENT_TYPE, ct);
            }
            resp
        }
        Err(e) => {
            tracing::error!("graphite proxy failed - {e}");
            let mut resp = Response::new(Body::from("Bad Gateway"));
            *resp.status_mut() = StatusCode::BAD_GATEWAY;
            resp
        }
    };
    log_request(req, resp.status(), started);
    resp
}

fn log_request(req: &Parts, status: StatusCode, started: Instant) {
    let remote = req
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.to_string())
        .unwrap_or_default();
    let uri = req
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    tracing::info!(
        "{} {} {} ({}) {}",
        status.as_u16(),
        req.method,
        uri,
        remote,
        nsq_http::go_duration(started.elapsed())
    );
}

/// Serves nsqadmin on `listener` until `shutdown` completes; also runs the
/// sampler that feeds the charts.
pub async fn run<F>(state: Arc<AppState>, listener: TcpListener, shutdown: F)
where
    F: Future<Output = ()> + Send,
{
    let sampler = {
        let st = state.clone();
        tokio::spawn(history::sample_forever(
            state.history.clone(),
            state.ci.clone(),
            move || st.upstreams(),
        ))
    };
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    nsq_http::serve(listener, app(state), shutdown).await;
    sampler.abort();
    tracing::info!("HTTP: closing {addr}");
}
