//! One mesh publisher: numbered messages to one topic, paced to a rate.
//!
//! Messages due by the schedule are sent together (one `PUB`, or one `MPUB`
//! when several are due) and the publisher waits for the `OK` before the
//! next send, so a message counts as published only once nsqd accepted it.
//! Each body carries the publisher id, the sequence number and the send
//! time (see [`crate::load::body`]).

use crate::conn::{FrameReader, Result};
use crate::load::body::{self, Stamp};
use bytes::{Bytes, BytesMut};
use nsq_protocol::Command;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::time::Instant;

/// What one publisher does.
#[derive(Debug, Clone)]
pub struct PublisherPlan {
    /// Publisher id, written into every body.
    pub id: u32,
    /// Topic it publishes to.
    pub topic: String,
    /// Body size in bytes.
    pub size: usize,
    /// Messages per second (0: as fast as nsqd acknowledges).
    pub rate: f64,
    /// Most messages in one command.
    pub max_batch: u64,
    /// How long to publish.
    pub runfor: Duration,
}

/// What one publisher did.
#[derive(Debug, Default)]
pub struct PublisherOut {
    /// Messages acknowledged by nsqd (sequence numbers `0..acked`).
    pub acked: u64,
    /// Why it stopped early, if it did.
    pub error: Option<String>,
}

/// Publishes from `start` until `plan.runfor` has passed.
pub async fn run(
    plan: &PublisherPlan,
    stream: &mut TcpStream,
    frames: &mut FrameReader,
    start: Instant,
) -> PublisherOut {
    let mut out = PublisherOut::default();
    if let Err(e) = publish(plan, stream, frames, start, &mut out).await {
        out.error = Some(format!("publisher {}: {e}", plan.id));
    }
    out
}

async fn publish(
    plan: &PublisherPlan,
    stream: &mut TcpStream,
    frames: &mut FrameReader,
    start: Instant,
    out: &mut PublisherOut,
) -> Result<()> {
    let end = start + plan.runfor;
    let mut wbuf = BytesMut::with_capacity(64 * 1024);
    let mut scratch = Vec::with_capacity(plan.size);
    loop {
        let now = Instant::now();
        if now >= end {
            return Ok(());
        }
        let due = if plan.rate > 0.0 {
            let target = ((now - start).as_secs_f64() * plan.rate) as u64 + 1;
            target.saturating_sub(out.acked).min(plan.max_batch)
        } else {
            plan.max_batch
        };
        if due == 0 {
            let next = start + Duration::from_secs_f64(out.acked as f64 / plan.rate);
            tokio::time::sleep_until(next.min(end)).await;
            continue;
        }
        wbuf.clear();
        let sent_ns = body::unix_now_ns();
        let mut bodies = Vec::with_capacity(due as usize);
        for seq in out.acked..out.acked + due {
            let stamp = Stamp {
                publisher: plan.id,
                seq,
                sent_ns,
            };
            body::encode(stamp, plan.size, &mut scratch);
            bodies.push(Bytes::copy_from_slice(&scratch));
        }
        let topic = plan.topic.clone();
        let command = match bodies.len() {
            1 => Command::Pub {
                topic,
                body: bodies.swap_remove(0),
            },
            _ => Command::Mpub { topic, bodies },
        };
        command.encode(&mut wbuf);
        stream
            .write_all(&wbuf)
            .await
            .map_err(|e| format!("write: {e}"))?;
        frames.expect_ok(stream, "PUB").await?;
        out.acked += due;
    }
}
