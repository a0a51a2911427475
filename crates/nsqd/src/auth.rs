//! The AUTH protocol (nsqd-tcp.md §5.2): asking an auth server whether a
//! secret grants publish/subscribe rights, and checking those rights.
//!
//! nsqd is the HTTP client. For `AUTH <secret>` it GETs
//! `http://<addr>/auth?common_name=..&remote_ip=..&secret=..&tls=..` (or
//! `<full URL>?<query>` when the address contains `://`) from one of the
//! `--auth-http-address`es, trying them in random rotation until one answers
//! with a valid reply:
//!
//! ```json
//! {"ttl":3600,"identity":"bob","identity_url":"https://..",
//!  "authorizations":[{"topic":"^events$","channels":[".*"],"permissions":["subscribe","publish"]}]}
//! ```
//!
//! The reply's regexes are compiled once; a permission other than
//! `subscribe`/`publish`, a regex that does not compile or a `ttl` ≤ 0 make
//! the reply invalid. The resulting [`AuthState`] answers
//! [`AuthState::is_allowed`] with nsqd's unanchored "contains" matching and
//! expires after `ttl` seconds ([`AuthState::expired`]), when the connection
//! must query again.
//!
//! `https://` auth URLs are verified against `--tls-root-ca-file` (or the
//! system roots). Not supported: the "403 TLS_REQUIRED → retry on the https
//! port" rule for plain `http://` auth addresses; such a request fails with
//! [`AuthError::Request`].

use nsq_http::{HttpClient, HttpClientError};
use rand::Rng;
use regex::Regex;
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// Why an authorization could not be obtained.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No auth server is configured (the protocol answers `E_AUTH_DISABLED AUTH disabled`).
    #[error("no auth server configured: set --auth-http-address to enable AUTH")]
    Disabled,
    /// `--auth-http-request-method` names a method this nsqd does not support.
    #[error("unsupported --auth-http-request-method {0:?}: only \"get\" is supported")]
    UnsupportedMethod(String),
    /// The auth server could not be reached or did not answer 200 with JSON.
    #[error("auth request to {address} failed - {source}")]
    Request {
        /// The `--auth-http-address` tried.
        address: String,
        /// What went wrong.
        source: HttpClientError,
    },
    /// The auth server answered, but the reply breaks the protocol.
    #[error("invalid reply from auth server {address} - {reason}")]
    InvalidReply {
        /// The `--auth-http-address` tried.
        address: String,
        /// What is wrong with it (unknown permission, bad regex, bad ttl).
        reason: String,
    },
}

/// How the auth server is queried (`--auth-http-request-method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthMethod {
    /// `GET <url>?<query>` (nsqd's default).
    #[default]
    Get,
}

impl AuthMethod {
    /// Parses `--auth-http-request-method` (case-insensitive). Only `get` is
    /// supported; `post` gives [`AuthError::UnsupportedMethod`].
    pub fn parse(s: &str) -> Result<Self, AuthError> {
        if s.eq_ignore_ascii_case("get") {
            Ok(AuthMethod::Get)
        } else {
            Err(AuthError::UnsupportedMethod(s.to_string()))
        }
    }
}

/// What a connection asks to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthCommand {
    /// SUB: needs the `subscribe` permission.
    Sub,
    /// PUB, MPUB, DPUB: need the `publish` permission (channel `""`).
    Pub,
}

/// A permission an authorization grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// `subscribe`.
    Subscribe,
    /// `publish`.
    Publish,
}

/// One entry of the reply's `authorizations`, with its regexes compiled.
#[derive(Debug, Clone)]
pub struct Authorization {
    /// Matched (unanchored) against the topic name.
    pub topic: Regex,
    /// One must match (unanchored) the channel name, `""` for publishes.
    pub channels: Vec<Regex>,
    /// Granted permissions.
    pub permissions: Vec<Permission>,
}

impl Authorization {
    /// nsqd's `Authorization.IsAllowed`: the permission for `cmd` is granted,
    /// the topic regex matches `topic` and a channel regex matches `channel`.
    pub fn is_allowed(&self, topic: &str, channel: &str, cmd: AuthCommand) -> bool {
        let needed = match cmd {
            AuthCommand::Sub => Permission::Subscribe,
            AuthCommand::Pub => Permission::Publish,
        };
        self.permissions.contains(&needed)
            && self.topic.is_match(topic)
            && self.channels.iter().any(|c| c.is_match(channel))
    }
}

/// The authorization of one connection.
#[derive(Debug, Clone)]
pub struct AuthState {
    /// `identity` from the reply (shown in `/stats` as `auth_identity`).
    pub identity: String,
    /// `identity_url` from the reply.
    pub identity_url: String,
    /// When the reply's `ttl` runs out; query again after that.
    pub expires: Instant,
    /// The grants, in reply order.
    pub authorizations: Vec<Authorization>,
}

impl AuthState {
    /// Whether `cmd` on `topic`/`channel` is allowed by any authorization.
    /// Pass `channel = ""` for PUB/MPUB/DPUB: as in nsqd, a publish is only
    /// allowed when one of the authorization's channel regexes matches the
    /// empty string (e.g. `".*"`). Matching is unanchored ("contains"):
    /// topic regex `"foo"` matches topic `"xfoox"`.
    pub fn is_allowed(&self, topic: &str, channel: &str, cmd: AuthCommand) -> bool {
        self.authorizations
            .iter()
            .any(|a| a.is_allowed(topic, channel, cmd))
    }

    /// True once the `ttl` has run out at `now`.
    pub fn expired(&self, now: Instant) -> bool {
        self.expires < now
    }

    /// `permission_count` of the AUTH response: the number of authorizations.
    pub fn permission_count(&self) -> usize {
        self.authorizations.len()
    }

    /// The body of the AUTH response frame:
    /// `{"identity":"..","identity_url":"..","permission_count":N}` in that key
    /// order, with `<`, `>`, `&`, U+2028 and U+2029 escaped as Go's
    /// `json.Marshal` does.
    pub fn response_json(&self) -> String {
        #[derive(Serialize)]
        struct Response<'a> {
            identity: &'a str,
            identity_url: &'a str,
            permission_count: usize,
        }
        let json = serde_json::to_string(&Response {
            identity: &self.identity,
            identity_url: &self.identity_url,
            permission_count: self.permission_count(),
        })
        .unwrap_or_else(|_| String::from("{}"));
        go_html_escape(&json)
    }
}

/// Go's `json.Marshal` escapes these inside strings; they cannot appear
/// outside strings in JSON, so replacing them everywhere is safe.
fn go_html_escape(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// The auth server's reply as sent (absent or `null` fields read as empty, as in Go).
#[derive(Debug, Deserialize)]
struct Reply {
    #[serde(default)]
    ttl: i64,
    #[serde(default)]
    identity: Option<String>,
    #[serde(default)]
    identity_url: Option<String>,
    #[serde(default)]
    authorizations: Option<Vec<RawAuthorization>>,
}

#[derive(Debug, Deserialize)]
struct RawAuthorization {
    #[serde(default)]
    topic: Option<String>,
    #[serde(default)]
    channels: Option<Vec<String>>,
    #[serde(default)]
    permissions: Option<Vec<String>>,
}

/// Validates a reply and compiles its regexes (nsqd's checks, in its order).
fn validate(reply: Reply, now: Instant) -> Result<AuthState, String> {
    let mut authorizations = Vec::new();
    for raw in reply.authorizations.unwrap_or_default() {
        let permissions = raw
            .permissions
            .unwrap_or_default()
            .iter()
            .map(|p| match p.as_str() {
                "subscribe" => Ok(Permission::Subscribe),
                "publish" => Ok(Permission::Publish),
                other => Err(format!(
                    "unknown permission {other:?} (expected \"subscribe\" or \"publish\")"
                )),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let topic_src = raw.topic.unwrap_or_default();
        let topic = Regex::new(&topic_src)
            .map_err(|e| format!("unable to compile topic {topic_src:?} {e}"))?;
        let channels = raw
            .channels
            .unwrap_or_default()
            .iter()
            .map(|c| Regex::new(c).map_err(|e| format!("unable to compile channel {c:?} {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        authorizations.push(Authorization {
            topic,
            channels,
            permissions,
        });
    }
    if reply.ttl <= 0 {
        return Err(format!("invalid TTL {} (must be >0)", reply.ttl));
    }
    let ttl = Duration::from_secs(reply.ttl.unsigned_abs());
    Ok(AuthState {
        identity: reply.identity.unwrap_or_default(),
        identity_url: reply.identity_url.unwrap_or_default(),
        // A huge ttl that does not fit an Instant: expire in a year instead.
        expires: now
            .checked_add(ttl)
            .or_else(|| now.checked_add(Duration::from_secs(86_400 * 365)))
            .unwrap_or(now),
        authorizations,
    })
}

/// Escapes a query component as Go's `url.QueryEscape` does: unreserved bytes
/// (`A-Z a-z 0-9 - _ . ~`) stay, space becomes `+`, everything else `%XX`.
fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The auth query string, keys sorted as Go's `url.Values.Encode` sorts them.
pub fn auth_query(secret: &str, remote_ip: &str, tls: bool, common_name: &str) -> String {
    format!(
        "common_name={}&remote_ip={}&secret={}&tls={}",
        query_escape(common_name),
        query_escape(remote_ip),
        query_escape(secret),
        if tls { "true" } else { "false" }
    )
}

/// The request URL for one `--auth-http-address`: `<address>?<query>` when it
/// contains `://`, else `http://<address>/auth?<query>`.
pub fn auth_url(address: &str, query: &str) -> String {
    if address.contains("://") {
        format!("{address}?{query}")
    } else {
        format!("http://{address}/auth?{query}")
    }
}

/// Queries the configured auth servers.
#[derive(Debug, Clone)]
pub struct AuthClient {
    addresses: Vec<String>,
    http: HttpClient,
    method: AuthMethod,
}

impl AuthClient {
    /// A client for `addresses` (`--auth-http-address`, `host:port` or full
    /// URL) with `--http-client-connect-timeout` / `--http-client-request-timeout`.
    pub fn new(
        addresses: Vec<String>,
        connect_timeout: Duration,
        request_timeout: Duration,
        method: AuthMethod,
    ) -> Self {
        Self::with_http(
            addresses,
            HttpClient::new(connect_timeout, request_timeout),
            method,
        )
    }

    /// A client sending its queries through `http` (which may reach `https://` servers).
    pub fn with_http(addresses: Vec<String>, http: HttpClient, method: AuthMethod) -> Self {
        AuthClient {
            addresses,
            http,
            method,
        }
    }

    /// The request method in use.
    pub fn method(&self) -> AuthMethod {
        self.method
    }

    /// True when at least one auth server is configured (AUTH is enabled).
    pub fn is_enabled(&self) -> bool {
        !self.addresses.is_empty()
    }

    /// Asks the auth servers, starting at a random one and going round, until
    /// one gives a valid reply. Every failure is logged at warn level; the last
    /// one is returned when all fail ([`AuthError::Disabled`] when none is
    /// configured). A reply with zero authorizations is a success here: the
    /// protocol turns it into `E_UNAUTHORIZED AUTH no authorizations found`.
    pub async fn authorize(
        &self,
        secret: &str,
        remote_ip: &str,
        tls: bool,
        common_name: &str,
    ) -> Result<AuthState, AuthError> {
        let n = self.addresses.len();
        if n == 0 {
            return Err(AuthError::Disabled);
        }
        let query = auth_query(secret, remote_ip, tls, common_name);
        let start = rand::thread_rng().gen_range(0..n);
        let mut last = AuthError::Disabled;
        for i in 0..n {
            let address = &self.addresses[(start + i) % n];
            match self.query_one(address, &query).await {
                Ok(state) => return Ok(state),
                Err(e) => {
                    tracing::warn!("failed auth against {address} {e}");
                    last = e;
                }
            }
        }
        Err(last)
    }

    async fn query_one(&self, address: &str, query: &str) -> Result<AuthState, AuthError> {
        let url = auth_url(address, query);
        let reply: Reply = self
            .http
            .get_json(&url)
            .await
            .map_err(|source| AuthError::Request {
                address: address.to_string(),
                source: redact(source, query),
            })?;
        validate(reply, Instant::now()).map_err(|reason| AuthError::InvalidReply {
            address: address.to_string(),
            reason,
        })
    }
}

/// Keeps the secret out of error messages (they are logged): the URL in the
/// HTTP error loses its query string.
fn redact(e: HttpClientError, query: &str) -> HttpClientError {
    let strip = |url: String| url.replace(&format!("?{query}"), "?<redacted>");
    match e {
        HttpClientError::BadUrl { url, reason } => HttpClientError::BadUrl {
            url: strip(url),
            reason,
        },
        HttpClientError::Request { url, reason } => HttpClientError::Request {
            url: strip(url),
            reason,
        },
        HttpClientError::Timeout { url, timeout } => HttpClientError::Timeout {
            url: strip(url),
            timeout,
        },
        HttpClientError::Status { url, status, body } => HttpClientError::Status {
            url: strip(url),
            status,
            body,
        },
        HttpClientError::Json { url, reason } => HttpClientError::Json {
            url: strip(url),
            reason,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;
    use tokio::sync::Mutex;

    /// A tiny HTTP server answering every request with `status` and `body`,
    /// recording each request's head.
    async fn auth_server(
        status: &'static str,
        body: &'static str,
    ) -> (String, Arc<Mutex<Vec<String>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut chunk).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                log.lock()
                    .await
                    .push(String::from_utf8_lossy(&buf).into_owned());
                let resp = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = s.write_all(resp.as_bytes()).await;
            }
        });
        (addr, seen)
    }

    fn client(addresses: Vec<String>) -> AuthClient {
        AuthClient::new(
            addresses,
            Duration::from_secs(1),
            Duration::from_secs(2),
            AuthMethod::Get,
        )
    }

    const GOOD: &str = r#"{"ttl":3600,"identity":"bob","identity_url":"http://x/?a=1&b=<2>","authorizations":[{"topic":"^ev","channels":["^ch$"],"permissions":["subscribe"]},{"topic":"logs","channels":[".*"],"permissions":["publish","subscribe"]}]}"#;

    #[test]
    fn query_is_sorted_and_go_escaped() {
        assert_eq!(
            auth_query("s&e/cr et~*", "127.0.0.1", true, "CN=a b"),
            "common_name=CN%3Da+b&remote_ip=127.0.0.1&secret=s%26e%2Fcr+et~%2A&tls=true"
        );
        assert_eq!(
            auth_query("x", "", false, ""),
            "common_name=&remote_ip=&secret=x&tls=false"
        );
        assert_eq!(query_escape("é"), "%C3%A9");
    }

    #[test]
    fn url_rules() {
        assert_eq!(auth_url("h:4181", "q=1"), "http://h:4181/auth?q=1");
        assert_eq!(
            auth_url("http://h:4181/v1/check", "q=1"),
            "http://h:4181/v1/check?q=1"
        );
    }

    #[tokio::test]
    async fn sends_the_exact_request_and_parses_the_reply() {
        let (addr, seen) = auth_server("200 OK", GOOD).await;
        let before = Instant::now();
        let state = client(vec![addr.clone()])
            .authorize("s3cr et&", "10.0.0.1", false, "")
            .await
            .unwrap();
        let head = seen.lock().await[0].clone();
        assert!(
            head.starts_with(
                "GET /auth?common_name=&remote_ip=10.0.0.1&secret=s3cr+et%26&tls=false HTTP/1.1\r\n"
            ),
            "{head}"
        );
        assert!(
            head.to_ascii_lowercase()
                .contains("accept: application/vnd.nsq; version=1.0"),
            "{head}"
        );
        assert_eq!(state.identity, "bob");
        assert_eq!(state.permission_count(), 2);
        assert!(state.expires >= before + Duration::from_secs(3599));
        assert!(!state.expired(Instant::now()));
        assert!(state.expired(Instant::now() + Duration::from_secs(3601)));
        assert_eq!(
            state.response_json(),
            r#"{"identity":"bob","identity_url":"http://x/?a=1\u0026b=\u003c2\u003e","permission_count":2}"#
        );
    }

    #[tokio::test]
    async fn full_url_gets_the_query_appended() {
        let (addr, seen) = auth_server("200 OK", GOOD).await;
        client(vec![format!("http://{addr}/custom/path")])
            .authorize("s", "::1", true, "cn")
            .await
            .unwrap();
        let head = seen.lock().await[0].clone();
        assert!(
            head.starts_with(
                "GET /custom/path?common_name=cn&remote_ip=%3A%3A1&secret=s&tls=true HTTP/1.1"
            ),
            "{head}"
        );
    }

    #[tokio::test]
    async fn rotation_reaches_a_working_server() {
        let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let dead_addr = dead.local_addr().unwrap().to_string();
        drop(dead);
        let (bad_addr, _) = auth_server("500 Internal Server Error", "oops").await;
        let (good_addr, seen) = auth_server("200 OK", GOOD).await;
        let c = client(vec![dead_addr, bad_addr, good_addr]);
        for _ in 0..6 {
            let state = c.authorize("s", "1.2.3.4", false, "").await.unwrap();
            assert_eq!(state.identity, "bob");
        }
        assert_eq!(seen.lock().await.len(), 6);
    }

    #[tokio::test]
    async fn failures_are_typed_and_keep_the_secret_out() {
        let (addr, _) = auth_server("403 Forbidden", r#"{"message":"nope"}"#).await;
        let err = client(vec![addr])
            .authorize("topsecret", "1.2.3.4", false, "")
            .await
            .unwrap_err();
        assert!(matches!(err, AuthError::Request { .. }), "{err}");
        let text = err.to_string();
        assert!(
            text.contains("403") && !text.contains("topsecret"),
            "{text}"
        );

        let err = client(vec![])
            .authorize("s", "1.2.3.4", false, "")
            .await
            .unwrap_err();
        assert!(matches!(err, AuthError::Disabled));

        let (addr, _) = auth_server("200 OK", "not json").await;
        let err = client(vec![addr])
            .authorize("s", "", false, "")
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                AuthError::Request {
                    source: HttpClientError::Json { .. },
                    ..
                }
            ),
            "{err}"
        );
    }

    #[tokio::test]
    async fn invalid_replies_are_rejected() {
        for (body, needle) in [
            (r#"{"ttl":0,"authorizations":[]}"#, "invalid TTL 0"),
            (r#"{"ttl":-5}"#, "invalid TTL -5"),
            (
                r#"{"ttl":1,"authorizations":[{"topic":".*","channels":[".*"],"permissions":["admin"]}]}"#,
                "unknown permission \"admin\"",
            ),
            (
                r#"{"ttl":1,"authorizations":[{"topic":"(","channels":[".*"],"permissions":["publish"]}]}"#,
                "unable to compile topic \"(\"",
            ),
            (
                r#"{"ttl":1,"authorizations":[{"topic":"a","channels":["[z-a]"],"permissions":["publish"]}]}"#,
                "unable to compile channel \"[z-a]\"",
            ),
        ] {
            let (addr, _) = auth_server("200 OK", body).await;
            let err = client(vec![addr])
                .authorize("s", "", false, "")
                .await
                .unwrap_err();
            assert!(
                matches!(err, AuthError::InvalidReply { .. }),
                "{body}: {err}"
            );
            assert!(err.to_string().contains(needle), "{body}: {err}");
        }
        // Zero authorizations is a valid reply (the protocol refuses it).
        let (addr, _) = auth_server("200 OK", r#"{"ttl":10,"identity":null}"#).await;
        let state = client(vec![addr])
            .authorize("s", "", false, "")
            .await
            .unwrap();
        assert_eq!(state.permission_count(), 0);
        assert_eq!(
            state.response_json(),
            r#"{"identity":"","identity_url":"","permission_count":0}"#
        );
    }

    fn state(body: &str) -> AuthState {
        validate(serde_json::from_str(body).unwrap(), Instant::now()).unwrap()
    }

    #[test]
    fn permission_rules() {
        let s = state(GOOD);
        // Subscribe: permission + topic regex + channel regex, unanchored.
        assert!(s.is_allowed("events", "ch", AuthCommand::Sub));
        assert!(!s.is_allowed("events", "ch2", AuthCommand::Sub));
        assert!(
            !s.is_allowed("xevents", "ch", AuthCommand::Sub),
            "^ anchors the topic"
        );
        assert!(
            s.is_allowed("mylogs2", "anything", AuthCommand::Sub),
            "contains match"
        );
        // Publish needs the publish permission...
        assert!(!s.is_allowed("events", "", AuthCommand::Pub));
        assert!(s.is_allowed("logs", "", AuthCommand::Pub));
        // ...and, surprisingly, a channel regex matching "".
        let no_empty = state(
            r#"{"ttl":1,"authorizations":[{"topic":".*","channels":[".+"],"permissions":["publish"]}]}"#,
        );
        assert!(!no_empty.is_allowed("t", "", AuthCommand::Pub));
        let no_channels = state(
            r#"{"ttl":1,"authorizations":[{"topic":".*","channels":[],"permissions":["publish"]}]}"#,
        );
        assert!(!no_channels.is_allowed("t", "", AuthCommand::Pub));
        let any = state(
            r#"{"ttl":1,"authorizations":[{"topic":"","channels":[""],"permissions":["publish"]}]}"#,
        );
        assert!(
            any.is_allowed("t", "", AuthCommand::Pub),
            "empty regex matches everything"
        );
        assert!(
            !any.is_allowed("t", "c", AuthCommand::Sub),
            "no subscribe permission"
        );
    }

    #[test]
    fn method_parsing() {
        assert_eq!(AuthMethod::parse("GET").unwrap(), AuthMethod::Get);
        let err = AuthMethod::parse("post").unwrap_err();
        assert!(err.to_string().contains("only \"get\""), "{err}");
    }
}
