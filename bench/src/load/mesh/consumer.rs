//! One mesh consumer: FINs every message, records which `(publisher,
//! sequence)` pairs its channel received and their publish-to-delivery
//! latency.

use crate::conn::{self, FrameReader, Result};
use crate::hist::Histogram;
use crate::load::body;
use crate::load::seen::Seen;
use bytes::BytesMut;
use nsq_protocol::{Command, Frame};
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

/// Where a consumer is subscribed and how to judge what it receives.
#[derive(Debug, Clone)]
pub struct ConsumerPlan {
    /// Index of its topic; publisher `p` publishes to topic `p % topics`.
    pub topic_index: usize,
    /// Number of topics.
    pub topics: usize,
    /// Number of publishers.
    pub publishers: usize,
}

/// What one consumer received.
#[derive(Debug, Default)]
pub struct ConsumerOut {
    /// Pairs received (first deliveries and duplicates).
    pub seen: Seen,
    /// Publish-to-delivery latency of every delivery.
    pub latency: Histogram,
    /// Deliveries, duplicates included.
    pub deliveries: u64,
    /// Deliveries whose body is not ours or whose publisher writes to
    /// another topic.
    pub foreign: u64,
    /// Error frames (for example `E_FIN_FAILED`).
    pub error_frames: u64,
    /// Why it stopped early, if it did.
    pub error: Option<String>,
}

/// Consumes until `stop`; `first_seen` counts first deliveries on the
/// consumer's channel (shared with the other consumers of that channel).
pub async fn run(
    plan: &ConsumerPlan,
    stream: &mut TcpStream,
    frames: &mut FrameReader,
    first_seen: &AtomicU64,
    stop: &CancellationToken,
) -> ConsumerOut {
    let mut out = ConsumerOut {
        seen: Seen::new(plan.publishers),
        latency: Histogram::new(),
        ..Default::default()
    };
    if let Err(e) = consume(plan, stream, frames, first_seen, stop, &mut out).await {
        out.error = Some(e);
    }
    out
}

async fn consume(
    plan: &ConsumerPlan,
    stream: &mut TcpStream,
    frames: &mut FrameReader,
    first_seen: &AtomicU64,
    stop: &CancellationToken,
    out: &mut ConsumerOut,
) -> Result<()> {
    let (mut rd, mut wr) = stream.split();
    let mut wbuf = BytesMut::with_capacity(16 * 1024);
    let mut pending_decode = !frames.buf.is_empty();
    loop {
        if pending_decode {
            pending_decode = false;
            let now_ns = body::unix_now_ns();
            let mut new = 0;
            while let Some(frame) = frames.decode()? {
                match frame {
                    Frame::Message(msg) => {
                        out.deliveries += 1;
                        Command::Fin(msg.id).encode(&mut wbuf);
                        match body::decode(&msg.body) {
                            Some(s)
                                if (s.publisher as usize) < plan.publishers
                                    && s.publisher as usize % plan.topics == plan.topic_index =>
                            {
                                out.latency.record_ns(now_ns.saturating_sub(s.sent_ns));
                                if out.seen.insert(s.publisher, s.seq) {
                                    new += 1;
                                }
                            }
                            _ => out.foreign += 1,
                        }
                    }
                    Frame::Response(data) => {
                        if &data[..] == nsq_protocol::frame::HEARTBEAT {
                            Command::Nop.encode(&mut wbuf);
                        }
                    }
                    Frame::Error(_) => out.error_frames += 1,
                }
            }
            if new > 0 {
                first_seen.fetch_add(new, Ordering::AcqRel);
            }
        }
        frames.make_room();
        tokio::select! {
            biased;
            _ = stop.cancelled() => {
                // Leave no FIN unsent: the drain check counted these.
                if !wbuf.is_empty() {
                    wr.write_all(&wbuf).await.map_err(|e| format!("write: {e}"))?;
                }
                return Ok(());
            }
            r = wr.write(&wbuf), if !wbuf.is_empty() => conn::consumed(&mut wbuf, r)?,
            r = rd.read_buf(&mut frames.buf) => {
                conn::filled(r, "nsqd")?;
                pending_decode = true;
            }
        }
    }
}
