//! `nsqlookupd::run` in-process: listeners bound by the caller, shutdown by a future.

use nsq_test_support::http_request;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[tokio::test]
async fn serves_until_shutdown_then_closes_connections() {
    let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let http = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (tcp_addr, http_addr) = (tcp.local_addr().unwrap(), http.local_addr().unwrap());
    let opts = nsqlookupd::Options {
        broadcast_address: "lookupd-under-test".into(),
        ..nsqlookupd::Options::default()
    };
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(nsqlookupd::run(opts, tcp, http, async move {
        let _ = stop_rx.await;
    }));

    let mut conn = TcpStream::connect(tcp_addr).await.unwrap();
    let body = br#"{"broadcast_address":"n","tcp_port":4150,"http_port":4151,"version":"1.3.0"}"#;
    let mut cmd = b"  V1IDENTIFY\n".to_vec();
    cmd.extend_from_slice(&(body.len() as u32).to_be_bytes());
    cmd.extend_from_slice(body);
    cmd.extend_from_slice(b"REGISTER t c\n");
    conn.write_all(&cmd).await.unwrap();
    let mut size = [0u8; 4];
    conn.read_exact(&mut size).await.unwrap();
    let mut reply = vec![0u8; u32::from_be_bytes(size) as usize];
    conn.read_exact(&mut reply).await.unwrap();
    let reply = String::from_utf8(reply).unwrap();
    assert!(
        reply.starts_with(r#"{"broadcast_address":"lookupd-under-test","#),
        "{reply}"
    );
    assert!(
        reply.contains(&format!(
            r#""http_port":{},"tcp_port":{},"version":"1.3.0"}}"#,
            http_addr.port(),
            tcp_addr.port()
        )),
        "{reply}"
    );
    let mut ok = [0u8; 6];
    conn.read_exact(&mut ok).await.unwrap();
    assert_eq!(&ok, b"\x00\x00\x00\x02OK");

    let r = http_request(http_addr, "GET", "/lookup?topic=t", b"").await;
    assert_eq!(r.status, 200);
    assert!(r
        .text()
        .starts_with(r#"{"channels":["c"],"producers":[{"remote_address":""#));

    stop_tx.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("run returns after shutdown")
        .unwrap()
        .unwrap();
    let mut buf = [0u8; 8];
    let closed = tokio::time::timeout(Duration::from_secs(5), conn.read(&mut buf))
        .await
        .expect("connection closed after shutdown");
    assert!(matches!(closed, Ok(0) | Err(_)), "{closed:?}");
    assert!(TcpStream::connect(http_addr).await.is_err());
}

#[tokio::test]
async fn bind_reports_the_address() {
    let taken = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let err = nsqlookupd::bind(&addr).await.unwrap_err();
    assert!(
        err.to_string()
            .starts_with(&format!("listen ({addr}) failed - ")),
        "{err}"
    );
}

#[tokio::test]
async fn bind_accepts_go_style_empty_host() {
    let listener = nsqlookupd::bind(":0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    assert!(addr.ip().is_unspecified(), "{addr}");
    assert_ne!(addr.port(), 0);
}
