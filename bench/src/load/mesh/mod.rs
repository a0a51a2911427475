//! `nsq_load mesh`: many publishers and consumers over many topics and
//! channels for a fixed time, then a check that every published message
//! reached every channel of its topic.
//!
//! Publisher `p` publishes to topic `p % topics`; consumer `c` subscribes
//! to channel pair `c % (topics * channels)`, so every channel has at least
//! one consumer. Consumers connect (and SUB, which creates the channels)
//! before any publisher starts. After `runfor` the publishers stop, the
//! consumers are given up to `drain_timeout` to receive the rest, and then
//! the pairs each channel received are compared with the pairs acknowledged
//! to the publishers.
//!
//! - [`publisher`]: paced, numbered publishing.
//! - [`consumer`]: FIN, record, measure latency.
//! - [`verify`]: the delivery check.

pub mod consumer;
pub mod publisher;
pub mod verify;

use super::sys;
use super::wire::{self, Hello};
use crate::conn::{FrameReader, Result};
use crate::hist::Histogram;
use bytes::BytesMut;
use consumer::{ConsumerOut, ConsumerPlan};
use nsq_protocol::Command;
use publisher::{PublisherOut, PublisherPlan};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use verify::Verdict;

/// What `mesh` does.
#[derive(Debug, Clone)]
pub struct MeshConfig {
    /// nsqd TCP address.
    pub addr: SocketAddr,
    /// nsqd's process id, for its RSS.
    pub nsqd_pid: Option<u32>,
    /// Publisher connections.
    pub publishers: usize,
    /// Consumer connections (at least `topics * channels`).
    pub consumers: usize,
    /// Topics `<prefix>_<i>`.
    pub topics: usize,
    /// Channels `ch_<j>` per topic.
    pub channels: usize,
    /// Topic name prefix.
    pub prefix: String,
    /// Body size in bytes.
    pub size: usize,
    /// Messages per second over all publishers (0: unpaced).
    pub rate: f64,
    /// Most messages in one publish command.
    pub max_batch: u64,
    /// How long to publish.
    pub runfor: Duration,
    /// Consumer RDY count.
    pub rdy: u64,
    /// How long to wait for the consumers after publishing stopped.
    pub drain_timeout: Duration,
    /// Consumers ask for unbuffered output (IDENTIFY `output_buffer_size`
    /// and `output_buffer_timeout` -1) instead of nsqd's default 250ms
    /// buffering.
    pub unbuffered: bool,
}

/// IDENTIFY fields of an unbuffered consumer.
const UNBUFFERED: &str = "\"output_buffer_size\":-1,\"output_buffer_timeout\":-1";

/// What `mesh` measured.
#[derive(Debug)]
pub struct MeshReport {
    /// Publishing time.
    pub publish_time: Duration,
    /// From the end of publishing until every channel had every message
    /// (or the drain timeout).
    pub drain_time: Duration,
    /// Messages acknowledged to the publishers.
    pub published: u64,
    /// Deliveries, all consumers together (duplicates included).
    pub deliveries: u64,
    /// Publish-to-delivery latency of every delivery.
    pub latency: Histogram,
    /// The delivery check.
    pub verdict: Verdict,
    /// Error frames received by consumers.
    pub error_frames: u64,
    /// nsqd RSS at the end of publishing (KiB).
    pub rss_kb: Option<u64>,
    /// nsqd peak RSS (KiB).
    pub rss_peak_kb: Option<u64>,
    /// Connection failures.
    pub errors: Vec<String>,
}

impl MeshReport {
    /// Every message reached every channel and no connection failed.
    pub fn ok(&self) -> bool {
        self.verdict.passed() && self.errors.is_empty()
    }
}

/// Topic name `i`.
pub fn topic_name(prefix: &str, i: usize) -> String {
    format!("{prefix}_{i}")
}

/// Channel name `j`.
pub fn channel_name(j: usize) -> String {
    format!("ch_{j}")
}

/// Runs the mesh.
pub async fn run(cfg: MeshConfig) -> Result<MeshReport> {
    let pairs = cfg.topics * cfg.channels;
    if cfg.publishers == 0 || pairs == 0 || cfg.rdy == 0 || cfg.max_batch == 0 {
        return Err("--publishers, --topics, --channels, --rdy and --max-batch must be > 0".into());
    }
    if cfg.consumers < pairs {
        return Err(format!(
            "--consumers={} is less than topics x channels = {pairs}: every channel needs a consumer",
            cfg.consumers
        ));
    }
    if cfg.size < super::body::HEADER_LEN {
        return Err(format!(
            "--size must be at least {}",
            super::body::HEADER_LEN
        ));
    }
    let first_seen: Arc<Vec<AtomicU64>> = Arc::new((0..pairs).map(|_| AtomicU64::new(0)).collect());
    let stop = CancellationToken::new();
    let mut errors = Vec::new();

    // Consumers first: their SUBs create the channels.
    let mut consumers = Vec::with_capacity(cfg.consumers);
    for (c, opened) in open_all(&cfg, cfg.consumers, true)
        .await
        .into_iter()
        .enumerate()
    {
        let (mut stream, frames) = match opened {
            Ok(s) => s,
            Err(e) => {
                errors.push(format!("consumer {c}: {e}"));
                continue;
            }
        };
        let mut buf = BytesMut::new();
        Command::Rdy(cfg.rdy).encode(&mut buf);
        if let Err(e) = stream.write_all(&buf).await {
            errors.push(format!("consumer {c}: RDY: {e}"));
            continue;
        }
        let pair = c % pairs;
        let plan = ConsumerPlan {
            topic_index: pair / cfg.channels,
            topics: cfg.topics,
            publishers: cfg.publishers,
        };
        let (first_seen, stop) = (first_seen.clone(), stop.clone());
        consumers.push((
            pair,
            tokio::spawn(async move {
                let (mut stream, mut frames) = (stream, frames);
                consumer::run(&plan, &mut stream, &mut frames, &first_seen[pair], &stop).await
            }),
        ));
    }
    if !errors.is_empty() {
        stop.cancel();
        return Err(format!(
            "consumers could not subscribe: {}",
            errors.join("; ")
        ));
    }

    let (go_tx, go_rx) = watch::channel::<Option<Instant>>(None);
    let mut publishers = Vec::with_capacity(cfg.publishers);
    for (p, opened) in open_all(&cfg, cfg.publishers, false)
        .await
        .into_iter()
        .enumerate()
    {
        let (stream, frames) = match opened {
            Ok(s) => s,
            Err(e) => {
                errors.push(format!("publisher {p}: {e}"));
                continue;
            }
        };
        let plan = PublisherPlan {
            id: p as u32,
            topic: topic_name(&cfg.prefix, p % cfg.topics),
            size: cfg.size,
            rate: cfg.rate / cfg.publishers as f64,
            max_batch: cfg.max_batch,
            runfor: cfg.runfor,
        };
        let mut go = go_rx.clone();
        publishers.push(tokio::spawn(async move {
            let (mut stream, mut frames) = (stream, frames);
            let start = match go.wait_for(Option::is_some).await {
                Ok(v) => (*v).unwrap_or_else(Instant::now),
                Err(_) => return PublisherOut::default(),
            };
            publisher::run(&plan, &mut stream, &mut frames, start).await
        }));
    }
    if !errors.is_empty() {
        stop.cancel();
        return Err(format!(
            "publishers could not connect: {}",
            errors.join("; ")
        ));
    }

    let start = Instant::now();
    let _ = go_tx.send(Some(start));
    let mut acked = vec![0u64; cfg.publishers];
    for (p, handle) in publishers.into_iter().enumerate() {
        match handle.await {
            Ok(out) => {
                acked[p] = out.acked;
                errors.extend(out.error);
            }
            Err(e) => errors.push(format!("publisher {p} task failed: {e}")),
        }
    }
    let publish_time = start.elapsed();
    let rss_kb = cfg.nsqd_pid.and_then(sys::rss).map(|r| r.now_kb);

    let expected = verify::expected_per_pair(&acked, cfg.topics, cfg.channels);
    let drain_started = Instant::now();
    let drain_deadline = drain_started + cfg.drain_timeout;
    while Instant::now() < drain_deadline
        && expected
            .iter()
            .zip(first_seen.iter())
            .any(|(want, got)| got.load(Ordering::Acquire) < *want)
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let drain_time = drain_started.elapsed();
    stop.cancel();

    let mut outs: Vec<(usize, ConsumerOut)> = Vec::with_capacity(consumers.len());
    for (pair, handle) in consumers {
        match handle.await {
            Ok(out) => outs.push((pair, out)),
            Err(e) => errors.push(format!("consumer task failed: {e}")),
        }
    }
    let mut latency = Histogram::new();
    let mut deliveries = 0;
    let mut error_frames = 0;
    for (_, out) in &outs {
        latency.merge(&out.latency);
        deliveries += out.deliveries;
        error_frames += out.error_frames;
        errors.extend(out.error.clone());
    }
    let verdict = verify::check(&cfg, &acked, &outs);
    Ok(MeshReport {
        publish_time,
        drain_time,
        published: acked.iter().sum(),
        deliveries,
        latency,
        verdict,
        error_frames,
        rss_kb,
        rss_peak_kb: cfg.nsqd_pid.and_then(sys::rss).map(|r| r.peak_kb),
        errors,
    })
}

/// Opens `n` sessions (consumers subscribe to their pair), 64 at a time.
async fn open_all(
    cfg: &MeshConfig,
    n: usize,
    subscribe: bool,
) -> Vec<Result<(TcpStream, FrameReader)>> {
    let mut results = Vec::with_capacity(n);
    for wave in (0..n).collect::<Vec<_>>().chunks(64) {
        let mut handles = Vec::with_capacity(wave.len());
        for &i in wave {
            let addr = cfg.addr;
            let pair = i % (cfg.topics * cfg.channels);
            let sub = subscribe.then(|| {
                (
                    topic_name(&cfg.prefix, pair / cfg.channels),
                    channel_name(pair % cfg.channels),
                )
            });
            let client_id = format!("{}{i}", if subscribe { "sub" } else { "pub" });
            let extra = if subscribe && cfg.unbuffered {
                UNBUFFERED
            } else {
                ""
            };
            handles.push(tokio::spawn(async move {
                let hello = Hello {
                    client_id: &client_id,
                    identify_extra: extra,
                    sub: sub.as_ref().map(|(t, c)| (t.as_str(), c.as_str())),
                };
                wire::open(addr, &hello).await
            }));
        }
        for h in handles {
            results.push(h.await.unwrap_or_else(|e| Err(format!("task failed: {e}"))));
        }
    }
    results
}
