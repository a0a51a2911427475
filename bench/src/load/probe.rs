//! A PUB/SUB round trip on its own topic: proves nsqd still moves messages
//! while it is under load.

use super::wire::{self, Hello};
use crate::conn::Result;
use bytes::{Bytes, BytesMut};
use nsq_protocol::{Command, Frame};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

/// How long the round trip may take before it counts as failed.
const LIMIT: Duration = Duration::from_secs(10);

/// Subscribes to `topic`, publishes one message to it on a second
/// connection and waits for its delivery; returns publish-to-delivery time.
pub async fn round_trip(addr: SocketAddr, topic: &str) -> Result<Duration> {
    tokio::time::timeout(LIMIT, round_trip_inner(addr, topic))
        .await
        .map_err(|_| format!("PUB/SUB round trip on {topic}: nothing delivered within {LIMIT:?}"))?
}

async fn round_trip_inner(addr: SocketAddr, topic: &str) -> Result<Duration> {
    let sub_hello = Hello {
        client_id: "probe-sub",
        identify_extra: "",
        sub: Some((topic, "probe")),
    };
    let (mut sub, mut sub_frames) = wire::open(addr, &sub_hello).await?;
    let mut buf = BytesMut::new();
    Command::Rdy(1).encode(&mut buf);
    sub.write_all(&buf)
        .await
        .map_err(|e| format!("probe RDY: {e}"))?;
    let pub_hello = Hello {
        client_id: "probe-pub",
        identify_extra: "",
        sub: None,
    };
    let (mut publisher, mut pub_frames) = wire::open(addr, &pub_hello).await?;
    let body = Bytes::from(format!("probe {}", super::body::unix_now_ns()));
    let started = Instant::now();
    buf.clear();
    Command::Pub {
        topic: topic.to_string(),
        body: body.clone(),
    }
    .encode(&mut buf);
    publisher
        .write_all(&buf)
        .await
        .map_err(|e| format!("probe PUB: {e}"))?;
    pub_frames.expect_ok(&mut publisher, "probe PUB").await?;
    loop {
        match sub_frames.next(&mut sub).await? {
            Frame::Message(msg) if msg.body == body => {
                let took = started.elapsed();
                buf.clear();
                Command::Fin(msg.id).encode(&mut buf);
                sub.write_all(&buf)
                    .await
                    .map_err(|e| format!("probe FIN: {e}"))?;
                return Ok(took);
            }
            Frame::Message(msg) => {
                return Err(format!(
                    "probe received a message it did not publish: {:?}",
                    String::from_utf8_lossy(&msg.body)
                ))
            }
            Frame::Response(data) if &data[..] == nsq_protocol::frame::HEARTBEAT => {
                crate::conn::send_nop(&mut sub).await?;
            }
            Frame::Response(_) => {}
            Frame::Error(e) => return Err(format!("probe SUB: {}", String::from_utf8_lossy(&e))),
        }
    }
}
