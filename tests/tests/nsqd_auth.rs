//! nsqd's AUTH against `--auth-http-address` servers, black-box
//! (nsqd-tcp.md §5.2): an auth server inside the test grants one topic;
//! allowed PUB/SUB succeed, everything else is refused, clients that skip
//! AUTH are told to authenticate first, and the query nsqd sends is checked
//! byte for byte (plain TCP, TLS with a client certificate, unix socket).

mod nsqd_secure_common;

use bytes::Bytes;
use nsq_protocol::Command;
use nsq_test_support::{http_request, Daemon};
use nsqd_secure_common::*;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const GRANT_ALLOWED: &str = r#"{"ttl":3600,"identity":"tester","identity_url":"http://x","authorizations":[{"topic":"allowed","channels":[".*"],"permissions":["subscribe","publish"]}]}"#;
const AUTH_REPLY: &str = r#"{"identity":"tester","identity_url":"http://x","permission_count":1}"#;
const SECRET: &str = "s3cret";

/// One request the auth server received.
#[derive(Debug, Clone)]
struct AuthRequest {
    method: String,
    target: String,
    accept: Option<String>,
}

/// A tiny HTTP server answering every request with `status` and `body`
/// (one request per connection) and recording what it was asked.
struct AuthServer {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<AuthRequest>>>,
}

impl AuthServer {
    async fn start(status: u16, body: &str) -> AuthServer {
        Self::start_with(status, body, None).await
    }

    /// The same server behind TLS (`https://`), with the given certificate.
    async fn start_https(status: u16, body: &str, pki: &Pki) -> AuthServer {
        let config = nsq_transport::tls::server_config(
            &pki.server_cert,
            &pki.server_key,
            None,
            nsq_transport::tls::ClientAuthPolicy::None,
            nsq_transport::tls::VERSION_TLS12,
        )
        .expect("server TLS config");
        Self::start_with(status, body, Some(nsq_transport::TlsAcceptor::from(config))).await
    }

    async fn start_with(
        status: u16,
        body: &str,
        tls: Option<nsq_transport::TlsAcceptor>,
    ) -> AuthServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind auth server");
        let addr = listener.local_addr().expect("auth server address");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let recorded = requests.clone();
        let body = body.to_string();
        tokio::spawn(async move {
            loop {
                let Ok((conn, _)) = listener.accept().await else {
                    return;
                };
                let recorded = recorded.clone();
                let body = body.clone();
                let tls = tls.clone();
                tokio::spawn(async move {
                    match tls {
                        None => answer(conn, recorded, status, body).await,
                        Some(acceptor) => {
                            if let Ok(conn) = acceptor.accept(conn).await {
                                answer(conn, recorded, status, body).await;
                            }
                        }
                    }
                });
            }
        });
        AuthServer { addr, requests }
    }

    fn requests(&self) -> Vec<AuthRequest> {
        self.requests.lock().expect("lock").clone()
    }

    fn flag(&self) -> String {
        format!("--auth-http-address={}", self.addr)
    }
}

/// Reads one request head, records it and answers `status` with `body`.
async fn answer<S>(mut conn: S, recorded: Arc<Mutex<Vec<AuthRequest>>>, status: u16, body: String)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match conn.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut lines = text.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let method = first.next().unwrap_or_default().to_string();
    let target = first.next().unwrap_or_default().to_string();
    let accept = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("accept"))
        .map(|(_, v)| v.trim().to_string());
    recorded.lock().expect("lock").push(AuthRequest {
        method,
        target,
        accept,
    });
    let reply = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = conn.write_all(reply.as_bytes()).await;
    let _ = conn.shutdown().await;
}

fn identify(client_id: &str) -> Value {
    json!({"client_id": client_id, "hostname": "h", "feature_negotiation": true})
}

fn pub_cmd(topic: &str, body: &'static [u8]) -> Command {
    Command::Pub {
        topic: topic.into(),
        body: Bytes::from_static(body),
    }
}

fn sub_cmd(topic: &str, channel: &str) -> Command {
    Command::Sub {
        topic: topic.into(),
        channel: channel.into(),
    }
}

/// IDENTIFY (checking `auth_required`) + AUTH with [`SECRET`], expecting
/// the identity reply.
async fn authed(d: &Daemon, client_id: &str) -> Layered {
    let mut n = negotiate_ok(d.tcp(), identify(client_id), None).await;
    assert_eq!(n.json["auth_required"], true, "{}", n.json);
    n.conn
        .send(Command::Auth(Bytes::from_static(SECRET.as_bytes())))
        .await;
    n.conn.expect_response(AUTH_REPLY.as_bytes()).await;
    n.conn
}

#[tokio::test]
async fn auth_server_grants_one_topic() {
    let auth = AuthServer::start(200, GRANT_ALLOWED).await;
    let d = Daemon::nsqd(&[&auth.flag()]);

    // The IDENTIFY reply announces auth; PUB/SUB before AUTH are refused.
    let mut n = negotiate_ok(d.tcp(), identify("skipper"), None).await;
    assert_eq!(n.json["auth_required"], true, "{}", n.json);
    n.conn.send(pub_cmd("allowed", b"x")).await;
    n.conn
        .expect_fatal("E_AUTH_FIRST AUTH required before PUB")
        .await;
    let mut c = Layered::connect(d.tcp()).await;
    c.send(sub_cmd("allowed", "c")).await;
    c.expect_fatal("E_AUTH_FIRST AUTH required before SUB")
        .await;
    let mut c = Layered::connect(d.tcp()).await;
    c.send(Command::Mpub {
        topic: "allowed".into(),
        bodies: vec![Bytes::from_static(b"a")],
    })
    .await;
    c.expect_fatal("E_AUTH_FIRST AUTH required before MPUB")
        .await;
    let mut c = Layered::connect(d.tcp()).await;
    c.send(Command::Dpub {
        topic: "allowed".into(),
        defer_ms: 10,
        body: Bytes::from_static(b"a"),
    })
    .await;
    c.expect_fatal("E_AUTH_FIRST AUTH required before DPUB")
        .await;
    assert!(auth.requests().is_empty(), "nothing asked before AUTH");

    // Allowed SUB and PUB.
    let mut cons = authed(&d, "authed-cons").await;
    cons.subscribe("allowed", "c", 10).await;
    let mut prod = authed(&d, "authed-prod").await;
    prod.publish("allowed", b"granted").await;
    prod.send(Command::Mpub {
        topic: "allowed".into(),
        bodies: vec![Bytes::from_static(b"m1"), Bytes::from_static(b"m2")],
    })
    .await;
    prod.expect_response(b"OK").await;
    prod.send(Command::Dpub {
        topic: "allowed".into(),
        defer_ms: 1,
        body: Bytes::from_static(b"deferred"),
    })
    .await;
    prod.expect_response(b"OK").await;
    let mut got = Vec::new();
    for _ in 0..4 {
        let m = cons.expect_message().await;
        cons.send(Command::Fin(m.id)).await;
        got.push(String::from_utf8_lossy(&m.body).into_owned());
    }
    got.sort();
    assert_eq!(got, ["deferred", "granted", "m1", "m2"]);

    // The query nsqd sent: keys sorted, empty common_name without TLS.
    let reqs = auth.requests();
    assert_eq!(reqs.len(), 2, "{reqs:?}");
    for r in &reqs {
        assert_eq!(r.method, "GET");
        assert_eq!(
            r.target,
            format!("/auth?common_name=&remote_ip=127.0.0.1&secret={SECRET}&tls=false")
        );
        assert_eq!(
            r.accept.as_deref(),
            Some("application/vnd.nsq; version=1.0")
        );
    }

    // /stats shows the identity of authed clients only.
    let s = stats(d.http()).await;
    for id in ["authed-prod", "authed-cons"] {
        let c = client_by_id(&s, id).unwrap_or_else(|| panic!("{id} in {s}"));
        assert_eq!(c["authed"], true, "{c}");
        assert_eq!(c["auth_identity"], "tester", "{c}");
        assert_eq!(c["auth_identity_url"], "http://x", "{c}");
    }

    // Anything else is refused, and fatally.
    prod.send(pub_cmd("other", b"x")).await;
    prod.expect_fatal(r#"E_UNAUTHORIZED AUTH failed for PUB on "other" """#)
        .await;
    let mut c = authed(&d, "sub-other").await;
    c.send(sub_cmd("other", "c")).await;
    c.expect_fatal(r#"E_UNAUTHORIZED AUTH failed for SUB on "other" "c""#)
        .await;
    let mut c = authed(&d, "mpub-other").await;
    c.send(Command::Mpub {
        topic: "other".into(),
        bodies: vec![Bytes::from_static(b"a")],
    })
    .await;
    c.expect_fatal(r#"E_UNAUTHORIZED AUTH failed for MPUB on "other" """#)
        .await;

    // AUTH once per connection.
    let mut c = authed(&d, "twice").await;
    c.send(Command::Auth(Bytes::from_static(SECRET.as_bytes())))
        .await;
    c.expect_fatal("E_INVALID AUTH already set").await;

    // The HTTP API is not subject to AUTH.
    let r = http_request(d.http(), "POST", "/pub?topic=other", b"via http").await;
    assert_eq!((r.status, r.text().as_str()), (200, "OK"));
}

#[tokio::test]
async fn auth_failures_from_the_auth_server() {
    // No authorizations at all.
    let none = AuthServer::start(
        200,
        r#"{"ttl":3600,"identity":"nobody","identity_url":"","authorizations":[]}"#,
    )
    .await;
    let d = Daemon::nsqd(&[&none.flag()]);
    let mut c = Layered::connect(d.tcp()).await;
    c.send(Command::Auth(Bytes::from_static(b"x"))).await;
    c.expect_fatal("E_UNAUTHORIZED AUTH no authorizations found")
        .await;
    assert_eq!(none.requests().len(), 1);

    // The auth server answers with an error status.
    let broken = AuthServer::start(500, r#"{"message":"boom"}"#).await;
    let d = Daemon::nsqd(&[&broken.flag()]);
    let mut c = Layered::connect(d.tcp()).await;
    c.send(Command::Auth(Bytes::from_static(b"x"))).await;
    c.expect_fatal("E_AUTH_FAILED AUTH failed").await;
    assert_eq!(broken.requests().len(), 1);

    // An invalid reply (ttl must be > 0).
    let bad_ttl = AuthServer::start(
        200,
        r#"{"ttl":0,"identity":"t","identity_url":"","authorizations":[{"topic":".*","channels":[".*"],"permissions":["publish"]}]}"#,
    )
    .await;
    let d = Daemon::nsqd(&[&bad_ttl.flag()]);
    let mut c = Layered::connect(d.tcp()).await;
    c.send(Command::Auth(Bytes::from_static(b"x"))).await;
    c.expect_fatal("E_AUTH_FAILED AUTH failed").await;

    // Nobody listening.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let d = Daemon::nsqd(&[&format!("--auth-http-address=127.0.0.1:{port}")]);
    let mut c = Layered::connect(d.tcp()).await;
    c.send(Command::Auth(Bytes::from_static(b"x"))).await;
    c.expect_fatal("E_AUTH_FAILED AUTH failed").await;
}

#[tokio::test]
async fn auth_without_an_auth_server_is_disabled() {
    let d = Daemon::nsqd(&[]);
    let mut n = negotiate_ok(d.tcp(), identify("x"), None).await;
    assert_eq!(n.json["auth_required"], false, "{}", n.json);
    n.conn.send(Command::Auth(Bytes::from_static(b"x"))).await;
    n.conn.expect_fatal("E_AUTH_DISABLED AUTH disabled").await;

    // Unauthenticated clients have no auth keys in /stats.
    let mut p = negotiate_ok(d.tcp(), identify("plain"), None).await;
    p.conn.publish("t", b"x").await;
    let s = stats(d.http()).await;
    let c = client_by_id(&s, "plain").unwrap_or_else(|| panic!("plain in {s}"));
    assert!(
        c.get("authed").is_none(),
        "authed is omitted when false: {c}"
    );
    assert!(c.get("auth_identity").is_none(), "{c}");
    assert!(c.get("auth_identity_url").is_none(), "{c}");
}

#[tokio::test]
async fn auth_address_given_as_a_full_url() {
    let auth = AuthServer::start(200, GRANT_ALLOWED).await;
    let d = Daemon::nsqd(&[&format!(
        "--auth-http-address=http://{}/custom/check",
        auth.addr
    )]);
    let mut c = authed(&d, "url").await;
    c.publish("allowed", b"x").await;
    let reqs = auth.requests();
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    assert_eq!(
        reqs[0].target,
        format!("/custom/check?common_name=&remote_ip=127.0.0.1&secret={SECRET}&tls=false")
    );
}

#[tokio::test]
async fn auth_is_queried_again_after_its_ttl() {
    let auth = AuthServer::start(
        200,
        r#"{"ttl":1,"identity":"tester","identity_url":"http://x","authorizations":[{"topic":"allowed","channels":[".*"],"permissions":["publish"]}]}"#,
    )
    .await;
    let d = Daemon::nsqd(&[&auth.flag()]);
    let mut c = authed(&d, "ttl").await;
    assert_eq!(auth.requests().len(), 1);
    // Re-queried lazily, at a PUB after the 1 s TTL.
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while auth.requests().len() < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no second auth request within {TIMEOUT:?}"
        );
        c.publish("allowed", b"x").await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    c.publish("allowed", b"still allowed").await;
}

#[tokio::test]
async fn auth_over_tls_sends_the_client_certificate_common_name() {
    let pki = pki();
    let auth = AuthServer::start(200, GRANT_ALLOWED).await;
    let ca = flag("tls-root-ca-file", &pki.ca_cert);
    let d = nsqd_tls(
        &pki,
        &[&auth.flag(), &ca, "--tls-client-auth-policy=require-verify"],
    );
    let cfg = client_tls(&pki, Some((&pki.client_cert, &pki.client_key)));
    let mut ident = identify("tls-authed");
    ident["tls_v1"] = json!(true);
    let mut n = negotiate_ok(d.tcp(), ident, Some((cfg, "localhost"))).await;
    assert_eq!(n.json["auth_required"], true);
    n.conn.send(pub_cmd("allowed", b"x")).await;
    n.conn
        .expect_fatal("E_AUTH_FIRST AUTH required before PUB")
        .await;

    let cfg = client_tls(&pki, Some((&pki.client_cert, &pki.client_key)));
    let mut ident = identify("tls-authed");
    ident["tls_v1"] = json!(true);
    let mut n = negotiate_ok(d.tcp(), ident, Some((cfg, "localhost"))).await;
    n.conn
        .send(Command::Auth(Bytes::from_static(SECRET.as_bytes())))
        .await;
    n.conn.expect_response(AUTH_REPLY.as_bytes()).await;
    n.conn.publish("allowed", b"over tls").await;
    let reqs = auth.requests();
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    assert_eq!(
        reqs[0].target,
        format!("/auth?common_name=test-client&remote_ip=127.0.0.1&secret={SECRET}&tls=true")
    );
}

#[tokio::test]
async fn auth_over_a_unix_socket_sends_an_empty_remote_ip() {
    let auth = AuthServer::start(200, GRANT_ALLOWED).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let sock = dir.path().join("nsqd.sock");
    let d = Daemon::start_with_dir(
        "nsqd",
        &[
            format!("--tcp-address={}", sock.display()),
            "--http-address=127.0.0.1:0".to_string(),
            format!("--data-path={}", dir.path().display()),
            auth.flag(),
        ],
        &["HTTP"],
        Some(dir),
    );
    assert!(
        d.wait_for_log(&format!("TCP: listening on {}", sock.display()), TIMEOUT),
        "unix socket listener not reported; log:\n{}",
        d.log_text()
    );
    let mut unix = tokio::net::UnixStream::connect(&sock)
        .await
        .expect("connect unix socket");
    unix.write_all(b"  V2").await.expect("magic");
    let mut c = Layered::new(nsq_transport::stream::boxed(unix));
    c.send(Command::Auth(Bytes::from_static(SECRET.as_bytes())))
        .await;
    c.expect_response(AUTH_REPLY.as_bytes()).await;
    c.publish("allowed", b"over unix").await;
    let reqs = auth.requests();
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    assert_eq!(
        reqs[0].target,
        format!("/auth?common_name=&remote_ip=&secret={SECRET}&tls=false")
    );
}

#[tokio::test]
async fn tokio_nsq_publishes_with_credentials() {
    use tokio_nsq::{NSQConfigShared, NSQEvent, NSQProducerConfig, NSQTopic};
    let auth = AuthServer::start(200, GRANT_ALLOWED).await;
    let d = Daemon::nsqd(&[&auth.flag()]);
    let mut producer = NSQProducerConfig::new(d.tcp().to_string())
        .set_shared(NSQConfigShared::new().set_credentials(SECRET.as_bytes().to_vec()))
        .build();
    let ev = tokio::time::timeout(TIMEOUT, producer.consume())
        .await
        .expect("producer event in time");
    assert!(matches!(ev, Some(NSQEvent::Healthy())), "{ev:?}");
    let topic = NSQTopic::new("allowed").expect("topic");
    producer
        .publish(&topic, b"with credentials".to_vec())
        .await
        .expect("publish");
    let ev = tokio::time::timeout(TIMEOUT, producer.consume())
        .await
        .expect("publish acknowledged in time");
    assert!(matches!(ev, Some(NSQEvent::Ok())), "{ev:?}");
    assert_eq!(auth.requests().len(), 1);
}

#[tokio::test]
async fn auth_server_over_https_verified_with_the_root_ca() {
    let pki = pki();
    let auth = AuthServer::start_https(200, GRANT_ALLOWED, &pki).await;
    let d = Daemon::nsqd(&[
        &format!(
            "--auth-http-address=https://127.0.0.1:{}/auth",
            auth.addr.port()
        ),
        &flag("tls-root-ca-file", &pki.ca_cert),
    ]);
    let mut c = authed(&d, "https").await;
    c.publish("allowed", b"x").await;
    let reqs = auth.requests();
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    assert!(reqs[0].target.starts_with("/auth?common_name="), "{reqs:?}");
}
