//! Opening V2 sessions for the load tools: connect, magic, IDENTIFY and
//! optionally SUB, all sent in one write, then the `OK`s read back.

use crate::conn::{self, FrameReader, Result};
use bytes::BytesMut;
use nsq_protocol::Command;
use std::net::SocketAddr;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// What to send after the magic.
#[derive(Debug, Clone, Copy)]
pub struct Hello<'a> {
    /// IDENTIFY `client_id` and `hostname`.
    pub client_id: &'a str,
    /// Extra IDENTIFY fields, spliced into the JSON object as they are
    /// (for example `"heartbeat_interval":5000`); empty for none.
    pub identify_extra: &'a str,
    /// `(topic, channel)` to subscribe to, if any.
    pub sub: Option<(&'a str, &'a str)>,
}

/// The bytes of the magic, IDENTIFY and SUB of `hello`.
pub fn hello_bytes(hello: &Hello<'_>) -> BytesMut {
    let mut buf = BytesMut::with_capacity(256);
    conn::put_magic(&mut buf);
    conn::identify(hello.client_id, hello.identify_extra).encode(&mut buf);
    if let Some((topic, channel)) = hello.sub {
        Command::Sub {
            topic: topic.to_string(),
            channel: channel.to_string(),
        }
        .encode(&mut buf);
    }
    buf
}

/// Connects and completes `hello`; returns the stream and its frame reader.
pub async fn open(addr: SocketAddr, hello: &Hello<'_>) -> Result<(TcpStream, FrameReader)> {
    let mut stream = conn::connect(addr).await?;
    stream
        .write_all(&hello_bytes(hello))
        .await
        .map_err(|e| format!("write to {addr}: {e}"))?;
    let mut frames = FrameReader::new();
    frames.expect_ok(&mut stream, "IDENTIFY").await?;
    if hello.sub.is_some() {
        frames.expect_ok(&mut stream, "SUB").await?;
    }
    Ok((stream, frames))
}
