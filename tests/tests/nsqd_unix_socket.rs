//! nsqd on unix domain sockets, black-box (flags.md §7 `--tcp-address`,
//! `--http-address`: a value that is not host:port is a socket path;
//! nsqd-http.md §4 `/info` ports): the V2 protocol and the HTTP API over
//! unix sockets.

mod nsqd_secure_common;

use nsq_protocol::Command;
use nsq_test_support::{http_request, Daemon};
use nsq_transport::stream;
use nsqd_secure_common::*;
use serde_json::json;
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;

/// Starts nsqd with `tcp` and `http` addresses (socket paths or
/// `127.0.0.1:0`) and its data in `dir`; waits for every listener,
/// including those on socket paths (which the harness cannot parse).
fn start(dir: tempfile::TempDir, tcp: &str, http: &str) -> Daemon {
    let expect: Vec<&str> = [("TCP", tcp), ("HTTP", http)]
        .into_iter()
        .filter(|(_, a)| a.parse::<std::net::SocketAddr>().is_ok())
        .map(|(k, _)| k)
        .collect();
    let data = dir.path().display().to_string();
    let d = Daemon::start_with_dir(
        "nsqd",
        &[
            format!("--tcp-address={tcp}"),
            format!("--http-address={http}"),
            format!("--data-path={data}"),
        ],
        &expect,
        Some(dir),
    );
    for (kind, addr) in [("TCP", tcp), ("HTTP", http)] {
        if addr.parse::<std::net::SocketAddr>().is_err() {
            assert!(
                d.wait_for_log(&format!("{kind}: listening on {addr}"), TIMEOUT),
                "{kind} unix socket listener not reported; log:\n{}",
                d.log_text()
            );
        }
    }
    d
}

fn sock(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

async fn unix_v2(path: &Path) -> Layered {
    let mut s = tokio::net::UnixStream::connect(path)
        .await
        .unwrap_or_else(|e| panic!("connect {}: {e}", path.display()));
    s.write_all(b"  V2").await.expect("magic");
    Layered::new(stream::boxed(s))
}

#[tokio::test]
async fn v2_protocol_over_a_unix_socket() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tcp_sock = sock(&dir, "nsqd.sock");
    let d = start(dir, &tcp_sock.display().to_string(), "127.0.0.1:0");

    let mut cons = unix_v2(&tcp_sock).await;
    cons.subscribe("unix", "c", 10).await;

    let mut prod = unix_v2(&tcp_sock).await;
    prod.publish("unix", b"one").await;
    prod.send(Command::Mpub {
        topic: "unix".into(),
        bodies: vec![
            bytes::Bytes::from_static(b"two"),
            bytes::Bytes::from_static(b"three"),
        ],
    })
    .await;
    prod.expect_response(b"OK").await;

    let mut got = Vec::new();
    for _ in 0..3 {
        let m = cons.expect_message().await;
        assert_eq!(m.attempts, 1);
        cons.send(Command::Fin(m.id)).await;
        got.push(String::from_utf8_lossy(&m.body).into_owned());
    }
    got.sort();
    assert_eq!(got, ["one", "three", "two"]);

    // Feature negotiation works the same over a unix socket.
    let mut s = tokio::net::UnixStream::connect(&tcp_sock)
        .await
        .expect("connect");
    s.write_all(b"  V2").await.expect("magic");
    let mut n = negotiate_on(
        stream::boxed(s),
        json!({"client_id": "unix-deflate", "feature_negotiation": true, "deflate": true}),
        None,
    )
    .await
    .unwrap_or_else(|e| panic!("IDENTIFY over unix socket: {e:?}"));
    assert_eq!(n.json["deflate"], true, "{}", n.json);
    n.conn.publish("unix", b"deflated over unix").await;
    let m = cons.expect_message().await;
    assert_eq!(&m.body[..], b"deflated over unix");
    cons.send(Command::Fin(m.id)).await;

    // A message published over HTTP reaches the unix-socket consumer.
    let r = http_request(d.http(), "POST", "/pub?topic=unix", b"via http").await;
    assert_eq!((r.status, r.text().as_str()), (200, "OK"));
    let m = cons.expect_message().await;
    assert_eq!(&m.body[..], b"via http");

    // /info reports -1 as the TCP port of a unix socket.
    let r = http_request(d.http(), "GET", "/info", b"").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let info = r.json();
    assert_eq!(info["tcp_port"], -1, "{info}");
    assert_eq!(info["http_port"], d.http().port(), "{info}");
}

#[tokio::test]
async fn http_api_over_a_unix_socket() {
    let dir = tempfile::tempdir().expect("temp dir");
    let http_sock = sock(&dir, "http.sock");
    let d = start(dir, "127.0.0.1:0", &http_sock.display().to_string());

    let r = unix_http_request(&http_sock, "GET", "/ping", b"").await;
    assert_eq!((r.status, r.text().as_str()), (200, "OK"));

    let r = unix_http_request(&http_sock, "GET", "/info", b"").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let info = r.json();
    assert_eq!(info["http_port"], -1, "{info}");
    assert_eq!(info["tcp_port"], d.tcp().port(), "{info}");

    // Publish over the HTTP socket, consume over TCP.
    let r = unix_http_request(&http_sock, "POST", "/pub?topic=unix_http", b"hello").await;
    assert_eq!((r.status, r.text().as_str()), (200, "OK"));
    let mut cons = Layered::connect(d.tcp()).await;
    cons.subscribe("unix_http", "c", 1).await;
    let m = cons.expect_message().await;
    assert_eq!(&m.body[..], b"hello");

    let r = unix_http_request(&http_sock, "GET", "/stats?format=json", b"").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let s = r.json();
    let topic = s["topics"]
        .as_array()
        .and_then(|ts| ts.iter().find(|t| t["topic_name"] == "unix_http"))
        .unwrap_or_else(|| panic!("topic unix_http in {s}"));
    assert_eq!(topic["message_count"], 1, "{topic}");

    let r = unix_http_request(&http_sock, "GET", "/no/such/path", b"").await;
    assert_eq!(r.status, 404, "{}", r.text());
}

#[tokio::test]
async fn both_listeners_on_unix_sockets() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tcp_sock = sock(&dir, "tcp.sock");
    let http_sock = sock(&dir, "http.sock");
    let _d = start(
        dir,
        &tcp_sock.display().to_string(),
        &http_sock.display().to_string(),
    );

    let r = unix_http_request(&http_sock, "GET", "/info", b"").await;
    let info = r.json();
    assert_eq!(info["tcp_port"], -1, "{info}");
    assert_eq!(info["http_port"], -1, "{info}");

    let mut prod = unix_v2(&tcp_sock).await;
    prod.publish("both", b"x").await;
    let mut cons = unix_v2(&tcp_sock).await;
    cons.subscribe("both", "c", 1).await;
    let m = cons.expect_message().await;
    assert_eq!(&m.body[..], b"x");

    // The consumer shows up in /stats served over the HTTP socket.
    let r = unix_http_request(&http_sock, "GET", "/stats?format=json", b"").await;
    let s = r.json();
    let clients = all_clients(&s);
    assert_eq!(clients.len(), 2, "producer and consumer in {s}");
}
