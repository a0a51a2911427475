//! Helpers shared by the nsqlookupd black-box tests: starting the binary, a
//! raw V1 client, HTTP shortcuts, bounded polling, fixtures.

#![allow(dead_code)]

use nsq_test_support::{http_request, Daemon, HttpResponse};
use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Longest wait for any single reply or state change.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// Starts nsqlookupd on free loopback ports with `--broadcast-address=127.0.0.1`.
pub fn start(extra: &[&str]) -> Daemon {
    let mut args = vec![
        "--tcp-address=127.0.0.1:0".to_string(),
        "--http-address=127.0.0.1:0".to_string(),
        "--broadcast-address=127.0.0.1".to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    Daemon::start("nsqlookupd", &args, &["TCP", "HTTP"])
}

/// Starts nsqlookupd with exactly `args` plus loopback addresses.
pub fn start_plain(extra: &[&str]) -> Daemon {
    let mut args = vec![
        "--tcp-address=127.0.0.1:0".to_string(),
        "--http-address=127.0.0.1:0".to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    Daemon::start("nsqlookupd", &args, &["TCP", "HTTP"])
}

/// The machine's hostname, as the daemon reports it.
pub fn os_hostname() -> String {
    gethostname::gethostname().to_string_lossy().into_owned()
}

/// A fixture file under `tests/fixtures/`, parsed as JSON.
pub fn fixture(path: &str) -> serde_json::Value {
    let full = format!("{}/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("read {full}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {full}: {e}"))
}

/// Decodes a hex string.
pub fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digit"))
        .collect()
}

/// `[u32 size][payload]`.
pub fn framed(payload: &[u8]) -> Vec<u8> {
    let mut out = (payload.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(payload);
    out
}

/// An IDENTIFY command with a JSON body.
pub fn identify_cmd(body: &str) -> Vec<u8> {
    let mut out = b"IDENTIFY\n".to_vec();
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(body.as_bytes());
    out
}

/// The body nsqd sends (sorted keys).
pub fn nsqd_identity(hostname: &str, tcp_port: u16, http_port: u16) -> String {
    format!(
        r#"{{"broadcast_address":"127.0.0.1","hostname":"{hostname}","http_port":{http_port},"tcp_port":{tcp_port},"version":"1.3.0"}}"#
    )
}

/// A raw connection to lookupd's TCP port.
pub struct V1Conn {
    stream: TcpStream,
}

impl V1Conn {
    /// Connects without sending anything.
    pub async fn connect_raw(addr: SocketAddr) -> V1Conn {
        let stream = TcpStream::connect(addr)
            .await
            .expect("connect to nsqlookupd");
        V1Conn { stream }
    }

    /// Connects and sends the `"  V1"` magic.
    pub async fn connect(addr: SocketAddr) -> V1Conn {
        let mut c = Self::connect_raw(addr).await;
        c.send(b"  V1").await;
        c
    }

    /// Connects, sends the magic and IDENTIFYs as an nsqd; returns the connection.
    pub async fn nsqd(addr: SocketAddr, hostname: &str, tcp_port: u16, http_port: u16) -> V1Conn {
        let mut c = Self::connect(addr).await;
        c.send(&identify_cmd(&nsqd_identity(hostname, tcp_port, http_port)))
            .await;
        let reply = c.reply().await;
        assert!(reply.starts_with(b"{\"broadcast_address\""), "{reply:?}");
        c
    }

    /// This end's address: the peer id lookupd reports as `remote_address`.
    pub fn local_addr(&self) -> SocketAddr {
        self.stream.local_addr().expect("local addr")
    }

    /// Sends raw bytes.
    pub async fn send(&mut self, bytes: &[u8]) {
        self.stream
            .write_all(bytes)
            .await
            .expect("write to nsqlookupd");
    }

    /// Closes the write half (the server sees EOF).
    pub async fn shutdown_write(&mut self) {
        self.stream.shutdown().await.expect("shutdown write half");
    }

    /// Reads one reply frame, size prefix included.
    pub async fn reply_frame(&mut self) -> Vec<u8> {
        let read = async {
            let mut size = [0u8; 4];
            self.stream.read_exact(&mut size).await?;
            let mut data = vec![0u8; u32::from_be_bytes(size) as usize];
            self.stream.read_exact(&mut data).await?;
            let mut frame = size.to_vec();
            frame.extend_from_slice(&data);
            Ok::<_, std::io::Error>(frame)
        };
        match tokio::time::timeout(TIMEOUT, read).await {
            Ok(Ok(frame)) => frame,
            Ok(Err(e)) => panic!("reading a reply failed: {e}"),
            Err(_) => panic!("no reply within {TIMEOUT:?}"),
        }
    }

    /// Reads one reply's payload.
    pub async fn reply(&mut self) -> Vec<u8> {
        self.reply_frame().await.split_off(4)
    }

    /// Sends a command line and returns the reply payload as text.
    pub async fn command(&mut self, line: &str) -> String {
        self.send(format!("{line}\n").as_bytes()).await;
        String::from_utf8_lossy(&self.reply().await).into_owned()
    }

    /// Asserts the server closes the connection (EOF or reset) without
    /// sending anything more.
    pub async fn expect_closed(&mut self) {
        let mut buf = [0u8; 64];
        match tokio::time::timeout(TIMEOUT, self.stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {}
            Ok(Ok(n)) => panic!("expected close, got {:?}", &buf[..n]),
            Err(_) => panic!("connection still open after {TIMEOUT:?}"),
        }
    }

    /// Asserts nothing arrives within `wait` (and the connection stays open).
    pub async fn expect_silence(&mut self, wait: Duration) {
        let mut buf = [0u8; 64];
        match tokio::time::timeout(wait, self.stream.read(&mut buf)).await {
            Err(_) => {}
            Ok(Ok(0)) => panic!("connection closed, expected it to stay open"),
            Ok(Ok(n)) => panic!("unexpected bytes {:?}", &buf[..n]),
            Ok(Err(e)) => panic!("connection failed: {e}"),
        }
    }

    /// Sends `bytes`, expects one error reply `payload` and then a close.
    pub async fn expect_fatal(&mut self, bytes: &[u8], payload: &str) {
        self.send(bytes).await;
        let reply = self.reply().await;
        assert_eq!(String::from_utf8_lossy(&reply), payload);
        self.expect_closed().await;
    }
}

/// `GET target`.
pub async fn get(d: &Daemon, target: &str) -> HttpResponse {
    http_request(d.http(), "GET", target, b"").await
}

/// `POST target` with an empty body.
pub async fn post(d: &Daemon, target: &str) -> HttpResponse {
    http_request(d.http(), "POST", target, b"").await
}

/// The body of `GET target` as text, asserting status 200.
pub async fn get_ok(d: &Daemon, target: &str) -> String {
    let r = get(d, target).await;
    assert_eq!(r.status, 200, "GET {target}: {}", r.text());
    r.text()
}

/// Polls `check` every 20 ms until it is true; panics after [`TIMEOUT`].
pub async fn wait_for<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + TIMEOUT;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
