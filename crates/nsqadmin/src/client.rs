//! The outgoing HTTP client: nsqadmin → nsqd, nsqlookupd, Graphite and the
//! notification endpoint.
//!
//! Every request has the connect timeout and the overall request timeout of
//! the options, sends `Accept: application/vnd.nsq; version=1.0`, and reads
//! at most [`MAX_RESPONSE_BODY`] bytes. Anything but `200` is an error whose
//! text is v1.3.0's `got response <status line> "<body, Go-quoted>"`, which
//! the API passes on inside its `message` fields.
//!
//! `https://` URLs go through TLS configured from the
//! `--http-client-tls-*` flags (see [`nsq_http::connector`]). A `403
//! TLS_REQUIRED` answer to an `http://` URL of nsqd or nsqlookupd is retried
//! once over HTTPS on the port the body names (see [`crate::tls_required`]).

use crate::tls_required::https_retry_url;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::header::{HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use nsq_http::connector::{TlsHandshakeError, UpstreamConnector};
use nsq_transport::rustls;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::time::Duration;

/// Largest upstream response body read (a cluster's full `/stats` with
/// clients stays far below this).
pub const MAX_RESPONSE_BODY: usize = 64 * 1024 * 1024;

/// The `Accept` header NSQ's own clients send.
pub const NSQ_ACCEPT: &str = "application/vnd.nsq; version=1.0";

/// The `User-Agent` of nsqadmin's requests.
pub const CLIENT_USER_AGENT: &str = "nsqadmin/v1.3.0";

/// Why an upstream request failed. The texts follow Go's `net/http` and
/// NSQ's client, since they end up in API `message` fields.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamError {
    /// The URL could not be built or parsed (e.g. a bad address in a peer's
    /// registration).
    #[error("{method} {url:?}: invalid URL - {reason}")]
    InvalidUrl {
        /// `Get` or `Post`.
        method: &'static str,
        /// The URL.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The TCP connection could not be opened (peer down, wrong port).
    #[error("{method} {url:?}: dial tcp {address}: connect: {reason}")]
    Connect {
        /// `Get` or `Post`.
        method: &'static str,
        /// The URL.
        url: String,
        /// `host:port` dialled.
        address: String,
        /// The OS error, in Go's words where one exists.
        reason: String,
    },
    /// The request did not complete within `--http-client-request-timeout`.
    #[error("{method} {url:?}: context deadline exceeded (Client.Timeout exceeded while awaiting headers)")]
    Timeout {
        /// `Get` or `Post`.
        method: &'static str,
        /// The URL.
        url: String,
    },
    /// The connection broke while sending or receiving.
    #[error("{method} {url:?}: {reason}")]
    Transport {
        /// `Get` or `Post`.
        method: &'static str,
        /// The URL.
        url: String,
        /// What happened.
        reason: String,
    },
    /// The TLS handshake with an `https://` upstream failed (untrusted or
    /// mismatching certificate, client certificate refused, not TLS, ...).
    #[error("{method} {url:?}: {reason}")]
    Tls {
        /// `Get` or `Post`.
        method: &'static str,
        /// The URL.
        url: String,
        /// The handshake error in Go's `crypto/tls` words.
        reason: String,
    },
    /// The peer answered with a status other than 200.
    #[error("got response {status_line} {}", nsq_flags::go_parse::quote(body))]
    Status {
        /// Status code.
        status: u16,
        /// `404 Not Found`.
        status_line: String,
        /// The response body (lossily decoded).
        body: String,
    },
    /// The body is not the JSON document expected.
    #[error("failed to decode the response of {url} - {reason}")]
    Decode {
        /// The URL.
        url: String,
        /// The decoder's message.
        reason: String,
    },
}

/// A raw upstream response (for the Graphite proxy).
#[derive(Debug, Clone)]
pub struct RawResponse {
    /// Status code.
    pub status: StatusCode,
    /// `Content-Type`, if any.
    pub content_type: Option<String>,
    /// The body.
    pub body: Bytes,
}

/// The HTTP client shared by every handler (connections are pooled).
#[derive(Clone)]
pub struct UpstreamClient {
    inner: Client<UpstreamConnector, Full<Bytes>>,
    request_timeout: Duration,
}

impl std::fmt::Debug for UpstreamClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamClient")
            .field("request_timeout", &self.request_timeout)
            .finish()
    }
}

impl UpstreamClient {
    /// A plain-HTTP client with the given connect and overall request
    /// timeouts (`https://` URLs fail; see [`UpstreamClient::with_tls`]).
    pub fn new(connect_timeout: Duration, request_timeout: Duration) -> UpstreamClient {
        UpstreamClient::with_tls(connect_timeout, request_timeout, None)
    }

    /// A client that also reaches `https://` URLs with the TLS settings
    /// `tls` (from [`crate::Options::tls_client_config`]).
    pub fn with_tls(
        connect_timeout: Duration,
        request_timeout: Duration,
        tls: Option<Arc<rustls::ClientConfig>>,
    ) -> UpstreamClient {
        let mut tcp = HttpConnector::new();
        tcp.set_connect_timeout(Some(connect_timeout));
        tcp.set_nodelay(true);
        let inner = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(UpstreamConnector::new(tcp, tls));
        UpstreamClient {
            inner,
            request_timeout,
        }
    }

    /// `GET url` and decode the JSON body (following a `TLS_REQUIRED`
    /// redirect).
    pub async fn get_json<T: DeserializeOwned>(&self, url: &str) -> Result<T, UpstreamError> {
        let (body, final_url) = self.nsq_api(Method::GET, url).await?;
        serde_json::from_slice(&body).map_err(|e| UpstreamError::Decode {
            url: final_url,
            reason: e.to_string(),
        })
    }

    /// `POST url` with an empty body; any `200` is success (following a
    /// `TLS_REQUIRED` redirect).
    pub async fn post(&self, url: &str) -> Result<(), UpstreamError> {
        self.nsq_api(Method::POST, url).await.map(|_| ())
    }

    /// A body-less request to an NSQ daemon's API: `200` → the body and the
    /// URL it came from; a `TLS_REQUIRED` 403 to an `http://` URL is
    /// retried once at the `https://` URL it names.
    async fn nsq_api(&self, method: Method, url: &str) -> Result<(Bytes, String), UpstreamError> {
        let first = self.send(method.clone(), url, Bytes::new(), None).await?;
        let Some(https) = https_retry_url(url, first.status, &first.body) else {
            return ok_body(first).map(|body| (body, url.to_string()));
        };
        let retried = self.send(method, &https, Bytes::new(), None).await?;
        ok_body(retried).map(|body| (body, https))
    }

    /// `POST url` with a JSON body (`Content-Type: application/json`).
    pub async fn post_json(&self, url: &str, body: Vec<u8>) -> Result<(), UpstreamError> {
        self.expect_ok(
            Method::POST,
            url,
            Bytes::from(body),
            Some("application/json"),
        )
        .await
        .map(|_| ())
    }

    /// `GET url` returning whatever came back (any status). Credentials in
    /// the URL are sent as HTTP Basic auth.
    pub async fn get_raw(&self, url: &str) -> Result<RawResponse, UpstreamError> {
        self.send(Method::GET, url, Bytes::new(), None).await
    }

    async fn expect_ok(
        &self,
        method: Method,
        url: &str,
        body: Bytes,
        content_type: Option<&'static str>,
    ) -> Result<Bytes, UpstreamError> {
        ok_body(self.send(method, url, body, content_type).await?)
    }

    async fn send(
        &self,
        method: Method,
        url: &str,
        body: Bytes,
        content_type: Option<&'static str>,
    ) -> Result<RawResponse, UpstreamError> {
        let verb = go_method(&method);
        let invalid = |reason: String| UpstreamError::InvalidUrl {
            method: verb,
            url: url.to_string(),
            reason,
        };
        let parsed = url::Url::parse(url).map_err(|e| invalid(e.to_string()))?;
        if parsed.scheme() != "http" && parsed.scheme() != "https" {
            return Err(invalid(format!(
                "unsupported protocol scheme {:?} (only http and https are supported)",
                parsed.scheme()
            )));
        }
        let address = match (parsed.host_str(), parsed.port_or_known_default()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            _ => return Err(invalid("no host".to_string())),
        };
        let mut target = parsed.clone();
        let _ = target.set_username("");
        let _ = target.set_password(None);
        let mut builder = Request::builder()
            .method(method)
            .uri(target.as_str())
            .header(ACCEPT, NSQ_ACCEPT)
            .header(USER_AGENT, CLIENT_USER_AGENT);
        if let Some(ct) = content_type {
            builder = builder.header(CONTENT_TYPE, ct);
        }
        if !parsed.username().is_empty() {
            let user = percent_decode(parsed.username());
            let pass = percent_decode(parsed.password().unwrap_or(""));
            let token = base64_encode(format!("{user}:{pass}").as_bytes());
            if let Ok(v) = HeaderValue::from_str(&format!("Basic {token}")) {
                builder = builder.header(AUTHORIZATION, v);
            }
        }
        let request = builder
            .body(Full::new(body))
            .map_err(|e| invalid(e.to_string()))?;
        let exchange = async {
            let resp = self
                .inner
                .request(request)
                .await
                .map_err(|e| classify_send_error(&e, verb, url, &address))?;
            let status = resp.status();
            let content_type = resp
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let collected = Limited::new(resp.into_body(), MAX_RESPONSE_BODY)
                .collect()
                .await
                .map_err(|e| UpstreamError::Transport {
                    method: verb,
                    url: url.to_string(),
                    reason: format!("reading the body: {e}"),
                })?;
            Ok(RawResponse {
                status,
                content_type,
                body: collected.to_bytes(),
            })
        };
        match tokio::time::timeout(self.request_timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(UpstreamError::Timeout {
                method: verb,
                url: url.to_string(),
            }),
        }
    }
}

/// The body of a `200`, else the [`UpstreamError::Status`] error.
fn ok_body(resp: RawResponse) -> Result<Bytes, UpstreamError> {
    if resp.status == StatusCode::OK {
        return Ok(resp.body);
    }
    Err(UpstreamError::Status {
        status: resp.status.as_u16(),
        status_line: format!(
            "{} {}",
            resp.status.as_str(),
            resp.status.canonical_reason().unwrap_or("")
        )
        .trim_end()
        .to_string(),
        body: String::from_utf8_lossy(&resp.body).into_owned(),
    })
}

fn go_method(method: &Method) -> &'static str {
    match *method {
        Method::POST => "Post",
        Method::PUT => "Put",
        Method::DELETE => "Delete",
        _ => "Get",
    }
}

fn classify_send_error(
    e: &hyper_util::client::legacy::Error,
    method: &'static str,
    url: &str,
    address: &str,
) -> UpstreamError {
    if let Some(tls) = find_source::<TlsHandshakeError>(e) {
        return UpstreamError::Tls {
            method,
            url: url.to_string(),
            reason: tls.to_string(),
        };
    }
    let io = io_source(e);
    if e.is_connect() {
        let reason = match io {
            Some(io) => go_io_text(io),
            None => innermost(e),
        };
        return UpstreamError::Connect {
            method,
            url: url.to_string(),
            address: address.to_string(),
            reason,
        };
    }
    UpstreamError::Transport {
        method,
        url: url.to_string(),
        reason: io.map(go_io_text).unwrap_or_else(|| innermost(e)),
    }
}

fn io_source<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a std::io::Error> {
    find_source::<std::io::Error>(e)
}

/// The first error of type `T` in `e`'s source chain (`e` included).
fn find_source<'a, T: std::error::Error + 'static>(
    e: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = current {
        if let Some(found) = err.downcast_ref::<T>() {
            return Some(found);
        }
        current = err.source();
    }
    None
}

fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut current = e;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

/// The OS error in the words Go's `net` package uses.
fn go_io_text(e: &std::io::Error) -> String {
    use std::io::ErrorKind;
    match e.kind() {
        ErrorKind::ConnectionRefused => "connection refused".to_string(),
        ErrorKind::ConnectionReset => "connection reset by peer".to_string(),
        ErrorKind::TimedOut => "i/o timeout".to_string(),
        ErrorKind::AddrNotAvailable => "cannot assign requested address".to_string(),
        _ => {
            let text = e.to_string();
            // "Network is unreachable (os error 101)" -> "network is unreachable"
            let text = text.split(" (os error").next().unwrap_or(&text).to_string();
            let mut chars = text.chars();
            match chars.next() {
                Some(first) => first.to_lowercase().chain(chars).collect(),
                None => text,
            }
        }
    }
}

fn percent_decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Standard base64 with padding (for the Basic auth header).
pub fn base64_encode(data: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard base64 (padding optional); `None` on any invalid input.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_errors_read_like_v1_3_0() {
        let e = UpstreamError::Status {
            status: 404,
            status_line: "404 Not Found".into(),
            body: r#"{"message":"TOPIC_NOT_FOUND"}"#.into(),
        };
        assert_eq!(
            e.to_string(),
            r#"got response 404 Not Found "{\"message\":\"TOPIC_NOT_FOUND\"}""#
        );
    }

    #[test]
    fn base64_round_trips() {
        for s in ["", "a", "ab", "abc", "alice:secret", "\u{e9}t\u{e9}"] {
            let enc = base64_encode(s.as_bytes());
            assert_eq!(base64_decode(&enc).unwrap(), s.as_bytes());
        }
        assert_eq!(base64_encode(b"alice:pw"), "YWxpY2U6cHc=");
        assert_eq!(base64_decode("a*b"), None);
    }

    #[tokio::test]
    async fn refused_connection_names_the_address() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let client = UpstreamClient::new(Duration::from_secs(2), Duration::from_secs(5));
        let url = format!("http://{addr}/stats?format=json");
        let err = client
            .get_json::<serde_json::Value>(&url)
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("Get \"{url}\": dial tcp {addr}: connect: connection refused")
        );
    }

    #[tokio::test]
    async fn silent_peer_times_out() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let hold = tokio::spawn(async move {
            let conn = listener.accept().await;
            tokio::time::sleep(Duration::from_secs(5)).await;
            drop(conn);
        });
        let client = UpstreamClient::new(Duration::from_secs(2), Duration::from_millis(200));
        let err = client
            .get_json::<serde_json::Value>(&format!("http://{addr}/x"))
            .await
            .unwrap_err();
        assert!(matches!(err, UpstreamError::Timeout { .. }), "{err}");
        hold.abort();
    }

    #[tokio::test]
    async fn tls_required_is_retried_at_the_https_port() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let https_port = closed.local_addr().unwrap().port();
        drop(closed);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut conn, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 1024];
            let _ = conn.read(&mut buf).await;
            let body = format!(r#"{{"message": "TLS_REQUIRED", "https_port": {https_port}}}"#);
            let head = format!(
                "HTTP/1.1 403 Forbidden\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            conn.write_all(format!("{head}{body}").as_bytes())
                .await
                .unwrap();
        });
        let client = UpstreamClient::new(Duration::from_secs(2), Duration::from_secs(5));
        let err = client
            .get_json::<serde_json::Value>(&format!("http://{addr}/info"))
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "Get \"https://127.0.0.1:{https_port}/info\": dial tcp 127.0.0.1:{https_port}: \
                 connect: connection refused"
            )
        );
        server.await.unwrap();
    }

    #[tokio::test]
    async fn non_http_schemes_are_refused() {
        let client = UpstreamClient::new(Duration::from_secs(1), Duration::from_secs(1));
        let err = client.post("ftp://example/x").await.unwrap_err();
        assert!(matches!(err, UpstreamError::InvalidUrl { .. }), "{err}");
    }
}
