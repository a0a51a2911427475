//! A minimal HTTP/1.0 GET for nsqd's `/ping` and `/stats` (no client
//! library needed for two loopback requests).

use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Largest response read.
const MAX_RESPONSE: u64 = 64 << 20;

/// Sends `GET <path>` to `addr` and returns the status code and body.
pub async fn get(
    addr: SocketAddr,
    path: &str,
    timeout: Duration,
) -> Result<(u16, Vec<u8>), String> {
    tokio::time::timeout(timeout, get_inner(addr, path))
        .await
        .map_err(|_| format!("GET http://{addr}{path}: no answer within {timeout:?}"))?
}

async fn get_inner(addr: SocketAddr, path: &str) -> Result<(u16, Vec<u8>), String> {
    let what = format!("GET http://{addr}{path}");
    let mut stream = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("{what}: {e}"))?;
    let request = format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| format!("{what}: {e}"))?;
    let mut raw = Vec::new();
    (&mut stream)
        .take(MAX_RESPONSE)
        .read_to_end(&mut raw)
        .await
        .map_err(|e| format!("{what}: {e}"))?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("{what}: incomplete response ({} bytes)", raw.len()))?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("{what}: bad status line {:?}", head.lines().next()))?;
    Ok((status, raw[split + 4..].to_vec()))
}

/// `GET /ping` answered `200 OK`.
pub async fn ping(addr: SocketAddr) -> Result<(), String> {
    let (status, body) = get(addr, "/ping", Duration::from_secs(10)).await?;
    if status == 200 && body.trim_ascii() == b"OK" {
        Ok(())
    } else {
        Err(format!(
            "/ping answered {status} {:?}",
            String::from_utf8_lossy(&body)
        ))
    }
}

/// The JSON document of `GET /stats?format=json&topic=<topic>` without the
/// per-client lists.
pub async fn stats(addr: SocketAddr, topic: &str) -> Result<serde_json::Value, String> {
    let path = format!("/stats?format=json&include_clients=false&topic={topic}");
    let (status, body) = get(addr, &path, Duration::from_secs(30)).await?;
    if status != 200 {
        return Err(format!("{path} answered {status}"));
    }
    serde_json::from_slice(&body).map_err(|e| format!("{path}: bad JSON: {e}"))
}

/// Clients connected to `topic`'s channels according to nsqd's `/stats`.
pub async fn channel_clients(addr: SocketAddr, topic: &str) -> Result<u64, String> {
    let doc = stats(addr, topic).await?;
    let topics = doc
        .get("topics")
        .and_then(|t| t.as_array())
        .ok_or_else(|| "/stats: no \"topics\" array".to_string())?;
    let mut total = 0;
    for t in topics.iter().filter(|t| t["topic_name"] == topic) {
        for ch in t["channels"].as_array().into_iter().flatten() {
            total += ch["client_count"].as_u64().unwrap_or(0);
        }
    }
    Ok(total)
}
