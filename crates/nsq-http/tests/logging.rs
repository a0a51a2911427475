//! The per-request log line, in a process of its own so that a global
//! subscriber captures every event.

use axum::body::Body;
use axum::http::Request;
use nsq_http::{ApiError, Method, Reply, RequestContext, RouteOptions, Router};
use std::sync::{Arc, Mutex};
use tower::ServiceExt;

type State = Arc<()>;

async fn ok(_: State, _: RequestContext) -> Result<Reply, ApiError> {
    Ok(Reply::Empty)
}

async fn needs_topic(_: State, req: RequestContext) -> Result<Reply, ApiError> {
    req.query()?.require("topic", "MISSING_ARG_TOPIC")?;
    Ok(Reply::Empty)
}

async fn boom(_: State, _: RequestContext) -> Result<Reply, ApiError> {
    panic!("handler exploded")
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn requests_are_logged_unless_unlogged() {
    let capture = Capture::default();
    let sink = capture.clone();
    tracing_subscriber::fmt()
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .without_time()
        .with_target(false)
        .with_level(false)
        .init();
    let app = Router::new(Arc::new(()))
        .get("/info", ok)
        .post("/topic/create", needs_topic)
        .get("/panic", boom)
        .route_with(Method::POST, "/pub", RouteOptions::unlogged(), ok)
        .into_axum();
    for (method, target) in [
        ("GET", "/info?x=1"),
        ("GET", "/nosuchpath"),
        ("POST", "/info"),
        ("POST", "/topic/create"),
        ("POST", "/pub"),
        ("GET", "/info/"),
        ("OPTIONS", "/info"),
        ("GET", "/panic"),
    ] {
        let req = Request::builder()
            .method(method)
            .uri(target)
            .body(Body::empty())
            .unwrap();
        app.clone().oneshot(req).await.unwrap();
    }
    let text = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let shape: Vec<String> = lines
        .iter()
        .map(|l| match l.rsplit_once(' ') {
            Some((head, _)) if l.starts_with(|c: char| c.is_ascii_digit()) => head.to_string(),
            _ => l.to_string(),
        })
        .collect();
    assert_eq!(
        shape,
        [
            "200 GET /info?x=1 ()",
            "404 GET /nosuchpath ()",
            "405 POST /info ()",
            "400 POST /topic/create ()",
            "panic in HTTP handler - handler exploded",
            "500 GET /panic ()",
        ],
        "{text}"
    );
    let elapsed = lines[0].rsplit(' ').next().unwrap();
    assert!(
        elapsed.ends_with("µs") || elapsed.ends_with("ms") || elapsed.ends_with("ns"),
        "{elapsed}"
    );
}
