//! Router behaviour tests: every httprouter / NSQ response quirk.

use crate::{ApiError, Method, Reply, RequestContext, RouteOptions, Router, StatusCode};
use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use std::sync::Arc;
use tower::ServiceExt;

type State = Arc<&'static str>;

async fn ping(_: State, _: RequestContext) -> Result<Reply, ApiError> {
    Ok(Reply::plain("OK"))
}

async fn info(state: State, _: RequestContext) -> Result<Reply, ApiError> {
    Reply::json(&serde_json::json!({ "version": *state }))
}

async fn create(_: State, req: RequestContext) -> Result<Reply, ApiError> {
    let q = req.query()?;
    q.require("topic", "MISSING_ARG_TOPIC")?;
    Ok(Reply::Empty)
}

async fn config(_: State, req: RequestContext) -> Result<Reply, ApiError> {
    Ok(Reply::text(format!(
        "{} {}",
        req.method,
        req.param("opt").unwrap_or("?")
    )))
}

async fn topic_channel(_: State, req: RequestContext) -> Result<Reply, ApiError> {
    Reply::json(&req.params)
}

async fn boom(_: State, _: RequestContext) -> Result<Reply, ApiError> {
    panic!("handler exploded")
}

async fn echo_len(_: State, req: RequestContext) -> Result<Reply, ApiError> {
    Ok(Reply::text(req.body.len().to_string()))
}

async fn remote(_: State, req: RequestContext) -> Result<Reply, ApiError> {
    Ok(Reply::text(
        req.remote_addr
            .map(|a| a.ip().to_string())
            .unwrap_or_default(),
    ))
}

fn panicking_sync(_: State, _: RequestContext) -> futures::future::Ready<crate::HandlerResult> {
    panic!("panicked before returning a future")
}

fn table() -> Router<State> {
    Router::new(Arc::new("1.3.0"))
        .get("/ping", ping)
        .get("/info", info)
        .post("/topic/create", create)
        .get("/config/:opt", config)
        .put("/config/:opt", config)
        .get("/api/topics/:topic", topic_channel)
        .get("/api/topics/:topic/:channel", topic_channel)
        .get("/debug/pprof/", ping)
        .get("/panic", boom)
        .get("/panic-sync", panicking_sync)
        .get("/remote", remote)
        .route_with(
            Method::POST,
            "/echo",
            RouteOptions::unlogged().with_body_limit(5),
            echo_len,
        )
}

struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn names(&self) -> Vec<&str> {
        self.headers.iter().map(|(k, _)| k.as_str()).collect()
    }
}

async fn call(method: &str, target: &str, body: &str) -> Resp {
    let req = Request::builder()
        .method(method)
        .uri(target)
        .body(Body::from(body.to_string()))
        .unwrap();
    let resp = table().into_axum().oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .filter(|(k, _)| *k != "content-length")
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap().to_string()))
        .collect();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    Resp {
        status,
        headers,
        body: String::from_utf8(body.to_vec()).unwrap(),
    }
}

const NSQ: &str = "x-nsq-content-type";
const JSON_CT: &str = "application/json; charset=utf-8";

#[tokio::test]
async fn routed_replies() {
    let r = call("GET", "/ping", "").await;
    assert_eq!((r.status, r.body.as_str()), (200, "OK"));
    assert_eq!(r.names(), ["content-type"]);
    let r = call("GET", "/info", "").await;
    assert_eq!((r.status, r.body.as_str()), (200, r#"{"version":"1.3.0"}"#));
    assert_eq!(r.header("content-type"), Some(JSON_CT));
    assert_eq!(r.header(NSQ), Some("nsq; version=1.0"));
    let r = call("POST", "/topic/create?topic=a", "").await;
    assert_eq!((r.status, r.body.as_str()), (200, ""));
    assert_eq!(r.names(), [NSQ]);
}

#[tokio::test]
async fn unknown_path_is_404_json() {
    let r = call("GET", "/nosuchpath", "").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body, r#"{"message":"NOT_FOUND"}"#);
    assert_eq!(r.header("content-type"), Some(JSON_CT));
    assert_eq!(r.header(NSQ), Some("nsq; version=1.0"));
    // Removed pre-1.0 aliases are simply unknown.
    assert_eq!(call("POST", "/create_topic?topic=a", "").await.status, 404);
    // A method without any route goes straight to 404/405.
    assert_eq!(call("DELETE", "/nosuchpath", "").await.status, 404);
}

#[tokio::test]
async fn wrong_method_is_405_with_sorted_allow() {
    let r = call("GET", "/topic/create?topic=x", "").await;
    assert_eq!(r.status, 405);
    assert_eq!(r.body, r#"{"message":"METHOD_NOT_ALLOWED"}"#);
    assert_eq!(r.header("allow"), Some("OPTIONS, POST"));
    assert_eq!(r.header(NSQ), Some("nsq; version=1.0"));
    assert_eq!(r.names(), ["allow", "content-type", NSQ]);
    let r = call("POST", "/ping", "").await;
    assert_eq!((r.status, r.header("allow")), (405, Some("GET, OPTIONS")));
    let r = call("POST", "/config/x", "").await;
    assert_eq!(
        (r.status, r.header("allow")),
        (405, Some("GET, OPTIONS, PUT"))
    );
    let r = call("DELETE", "/config/x", "").await;
    assert_eq!(
        (r.status, r.header("allow")),
        (405, Some("GET, OPTIONS, PUT"))
    );
}

#[tokio::test]
async fn head_is_not_get() {
    let r = call("HEAD", "/ping", "").await;
    assert_eq!((r.status, r.header("allow")), (405, Some("GET, OPTIONS")));
}

#[tokio::test]
async fn options_lists_methods() {
    let r = call("OPTIONS", "/ping", "").await;
    assert_eq!((r.status, r.body.as_str()), (200, ""));
    assert_eq!(r.names(), ["allow"]);
    assert_eq!(r.header("allow"), Some("GET, OPTIONS"));
    let r = call("OPTIONS", "/config/log_level", "").await;
    assert_eq!(r.header("allow"), Some("GET, OPTIONS, PUT"));
    let r = call("OPTIONS", "/nosuchpath", "").await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (404, r#"{"message":"NOT_FOUND"}"#)
    );
}

#[tokio::test]
async fn trailing_slash_redirects() {
    let r = call("GET", "/ping/", "").await;
    assert_eq!(r.status, 301);
    assert_eq!(r.header("location"), Some("/ping"));
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(r.header(NSQ), None);
    assert_eq!(r.body, "<a href=\"/ping\">Moved Permanently</a>.\n\n");
    let r = call("GET", "/debug/pprof", "").await;
    assert_eq!(
        (r.status, r.header("location")),
        (301, Some("/debug/pprof/"))
    );
    let r = call("GET", "/config/x/", "").await;
    assert_eq!((r.status, r.header("location")), (301, Some("/config/x")));
}

#[tokio::test]
async fn non_get_redirects_are_307_without_body() {
    let r = call("POST", "/topic/create/?topic=a&b=c", "").await;
    assert_eq!(r.status, 307);
    assert_eq!(r.header("location"), Some("/topic/create?topic=a&b=c"));
    assert_eq!(r.body, "");
    assert_eq!(r.names(), ["location"]);
    let r = call("PUT", "/CONFIG/x", "").await;
    assert_eq!((r.status, r.header("location")), (307, Some("/config/x")));
}

#[tokio::test]
async fn case_and_cleanup_redirects() {
    for target in ["/PING", "/Ping/", "//ping", "/a/../ping", "/./PING"] {
        let r = call("GET", target, "").await;
        assert_eq!(
            (r.status, r.header("location")),
            (301, Some("/ping")),
            "{target}"
        );
    }
    let r = call("GET", "/CONFIG/Log_Level?x=1", "").await;
    assert_eq!(r.status, 301);
    assert_eq!(r.header("location"), Some("/config/Log_Level?x=1"));
    assert_eq!(
        r.body,
        "<a href=\"/config/Log_Level?x=1\">Moved Permanently</a>.\n\n"
    );
    let r = call("GET", "/ping/?", "").await;
    assert_eq!(r.header("location"), Some("/ping?"));
    let r = call("POST", "/TOPIC/CREATE", "").await;
    assert_eq!(
        (r.status, r.header("location")),
        (307, Some("/topic/create"))
    );
    // No GET route matches in any case: the POST route is not a redirect target.
    assert_eq!(call("GET", "/TOPIC/CREATE", "").await.status, 404);
    // PUT has routes, but none for this path in any spelling.
    assert_eq!(call("PUT", "/ping/", "").await.status, 404);
    let r = call("GET", "/a&b/..//PING", "").await;
    assert_eq!(r.header("location"), Some("/ping"));
}

#[tokio::test]
async fn redirect_escapes_location_and_body() {
    let r = call("GET", "/CONFIG/a%20%3Cb", "").await;
    assert_eq!(r.status, 301);
    assert_eq!(r.header("location"), Some("/config/a%20%3Cb"));
    let r = call("GET", "/PING?a=1&b='x'", "").await;
    assert_eq!(r.header("location"), Some("/ping?a=1&b='x'"));
    assert_eq!(
        r.body,
        "<a href=\"/ping?a=1&amp;b=&#39;x&#39;\">Moved Permanently</a>.\n\n"
    );
}

#[tokio::test]
async fn path_params() {
    let r = call("GET", "/config/log_level", "").await;
    assert_eq!(r.body, "GET log_level");
    let r = call("PUT", "/config/nsqlookupd_tcp_addresses", "").await;
    assert_eq!(r.body, "PUT nsqlookupd_tcp_addresses");
    let r = call("GET", "/api/topics/t1/c1", "").await;
    assert_eq!(r.body, r#"[["topic","t1"],["channel","c1"]]"#);
    let r = call("GET", "/api/topics/t1", "").await;
    assert_eq!(r.body, r#"[["topic","t1"]]"#);
    let r = call("GET", "/api/topics/t%231", "").await;
    assert_eq!(r.body, r#"[["topic","t#1"]]"#);
    assert_eq!(call("GET", "/config/", "").await.status, 404);
}

#[tokio::test]
async fn panics_become_500_internal_error() {
    for target in ["/panic", "/panic-sync"] {
        let r = call("GET", target, "").await;
        assert_eq!(r.status, 500);
        assert_eq!(r.body, r#"{"message":"INTERNAL_ERROR"}"#);
        assert_eq!(r.header(NSQ), Some("nsq; version=1.0"));
    }
}

#[tokio::test]
async fn query_comes_from_the_query_string_only() {
    let r = call("POST", "/topic/create", "topic=x").await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (400, r#"{"message":"MISSING_ARG_TOPIC"}"#)
    );
    let r = call("POST", "/topic/create?topic=%zz", "").await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (400, r#"{"message":"INVALID_REQUEST"}"#)
    );
    let r = call("POST", "/topic/create?a=1;topic=2", "").await;
    assert_eq!(r.body, r#"{"message":"INVALID_REQUEST"}"#);
}

#[tokio::test]
async fn body_is_cut_at_the_route_limit() {
    assert_eq!(call("POST", "/echo", "abc").await.body, "3");
    assert_eq!(call("POST", "/echo", "0123456789").await.body, "5");
}

#[tokio::test]
async fn malformed_path_escape_is_go_400() {
    let r = call("GET", "/pi%zzng", "").await;
    assert_eq!((r.status, r.body.as_str()), (400, "400 Bad Request"));
    assert_eq!(r.header(NSQ), None);
}

mod over_tcp {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn raw(addr: std::net::SocketAddr, request: &str) -> String {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(request.as_bytes()).await.unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).await.unwrap();
        String::from_utf8(out).unwrap()
    }

    #[tokio::test]
    async fn headers_are_go_cased_and_remote_addr_is_known() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(crate::serve(listener, table().into_axum(), async move {
            let _ = stop_rx.await;
        }));

        let info = raw(
            addr,
            "GET /info HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert!(info.starts_with("HTTP/1.1 200 OK\r\n"), "{info}");
        assert!(
            info.contains("\r\nContent-Type: application/json; charset=utf-8\r\n"),
            "{info}"
        );
        assert!(
            info.contains("\r\nX-Nsq-Content-Type: nsq; version=1.0\r\n"),
            "{info}"
        );
        assert!(info.contains("\r\nContent-Length: 19\r\n"), "{info}");
        assert!(info.ends_with("\r\n\r\n{\"version\":\"1.3.0\"}"), "{info}");

        let ping = raw(
            addr,
            "GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert!(
            !ping.to_ascii_lowercase().contains("x-nsq-content-type"),
            "{ping}"
        );
        assert!(ping.ends_with("\r\n\r\nOK"), "{ping}");

        let empty = raw(
            addr,
            "POST /topic/create?topic=a HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert!(empty.contains("\r\nContent-Length: 0\r\n"), "{empty}");
        assert!(!empty.contains("\r\nContent-Type:"), "{empty}");

        let who = raw(
            addr,
            "GET /remote HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert!(who.ends_with("\r\n\r\n127.0.0.1"), "{who}");

        stop_tx.send(()).unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(5), server)
            .await
            .expect("server stops on shutdown")
            .unwrap();
        assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    }
}

#[test]
#[should_panic(expected = "registered twice")]
fn duplicate_routes_are_refused() {
    let _ = Router::new(Arc::new("x")).get("/a", ping).get("/a", ping);
}

#[test]
#[should_panic(expected = "must start with '/'")]
fn relative_patterns_are_refused() {
    let _ = Router::new(Arc::new("x")).get("a", ping);
}

#[test]
fn status_codes_are_reexported() {
    assert_eq!(StatusCode::PAYLOAD_TOO_LARGE.as_u16(), 413);
}
