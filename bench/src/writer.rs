//! `writer`: NSQ's bench_writer workload.
//!
//! N connections (one per CPU by default), each sending `MPUB <topic>` with
//! `--batch-size` messages of `--size` bytes and waiting for the `OK` before
//! the next batch, until `--runfor` has elapsed. The command bytes are
//! encoded once per topic and reused, so the loop is one `write` and one
//! frame read per batch. The result is total messages / elapsed time.
//!
//! Extensions over NSQ's tool: `--topics N` (each connection rotates over N
//! topics), `--command pub` (send `--batch-size` pipelined `PUB`s instead of
//! one `MPUB`), `--ack-latency` (print per-batch acknowledgement latency
//! percentiles) and `--start-at` (start at a wall-clock time, like
//! `--deadline` with sub-second precision).

use crate::conn::{self, FrameReader, Result};
use crate::hist::Histogram;
use bytes::{Bytes, BytesMut};
use nsq_protocol::Command;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::{watch, Barrier};
use tokio::time::Instant;

/// Which publish command the writer sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PubCommand {
    /// One `MPUB` per batch (NSQ's bench_writer).
    Mpub,
    /// `--batch-size` `PUB`s per batch, pipelined, then as many `OK`s.
    Pub,
}

/// How long connecting (and IDENTIFY/SUB) of all connections may take.
const SETUP_LIMIT: Duration = Duration::from_secs(60);

/// What the writer does.
#[derive(Debug, Clone)]
pub struct WriterConfig {
    /// nsqd TCP address.
    pub addr: SocketAddr,
    /// Topics to publish to; connection `i` starts at topic `i` and rotates.
    pub topics: Vec<String>,
    /// Message body size in bytes.
    pub size: usize,
    /// Messages per batch.
    pub batch_size: usize,
    /// Number of connections (one task each).
    pub connections: usize,
    /// How long to publish.
    pub runfor: Duration,
    /// MPUB or pipelined PUB.
    pub command: PubCommand,
    /// Wall-clock start time (Unix seconds), after every connection is set up.
    pub start_at: Option<f64>,
}

/// What the writer measured.
#[derive(Debug)]
pub struct WriterReport {
    /// From the start signal until the last connection finished.
    pub duration: Duration,
    /// Messages acknowledged by the server.
    pub msgs: u64,
    /// Time from writing a batch to reading its last `OK`.
    pub ack_latency: Histogram,
    /// Connections that failed, with the reason.
    pub errors: Vec<String>,
}

/// The command bytes for one batch to `topic`.
fn encode_batch(cfg: &WriterConfig, topic: &str) -> Bytes {
    let body = Bytes::from(vec![0u8; cfg.size]);
    let mut buf = BytesMut::new();
    match cfg.command {
        PubCommand::Mpub => Command::Mpub {
            topic: topic.to_string(),
            bodies: vec![body; cfg.batch_size],
        }
        .encode(&mut buf),
        PubCommand::Pub => {
            let cmd = Command::Pub {
                topic: topic.to_string(),
                body,
            };
            for _ in 0..cfg.batch_size {
                cmd.encode(&mut buf);
            }
        }
    }
    buf.freeze()
}

/// Runs the writer; fails only if no connection could be set up.
pub async fn run(cfg: WriterConfig) -> Result<WriterReport> {
    if cfg.batch_size == 0 || cfg.size == 0 || cfg.connections == 0 || cfg.topics.is_empty() {
        return Err("--size, --batch-size, --connections and --topics must be > 0".into());
    }
    let cfg = Arc::new(cfg);
    let ready = Arc::new(Barrier::new(cfg.connections + 1));
    let (go_tx, go_rx) = watch::channel::<Option<Instant>>(None);
    let mut handles = Vec::with_capacity(cfg.connections);
    for idx in 0..cfg.connections {
        let cfg = cfg.clone();
        let ready = ready.clone();
        let go = go_rx.clone();
        handles.push(tokio::spawn(pub_worker(cfg, idx, ready, go)));
    }
    if tokio::time::timeout(SETUP_LIMIT, ready.wait())
        .await
        .is_err()
    {
        return Err(format!(
            "connections not set up within {}s",
            SETUP_LIMIT.as_secs()
        ));
    }
    if let Some(at) = cfg.start_at {
        conn::sleep_until_unix(at).await;
    }
    let start = Instant::now();
    let _ = go_tx.send(Some(start));
    // Every loop ends at runfor; this bounds a server that stops answering.
    let hard_stop = start + cfg.runfor + Duration::from_secs(30);
    let mut report = WriterReport {
        duration: Duration::ZERO,
        msgs: 0,
        ack_latency: Histogram::new(),
        errors: Vec::new(),
    };
    let mut failed_setup = 0;
    for h in handles {
        match tokio::time::timeout_at(hard_stop, h).await {
            Ok(Ok(out)) => {
                report.msgs += out.msgs;
                report.ack_latency.merge(&out.hist);
                if let Some(e) = out.error {
                    if out.msgs == 0 {
                        failed_setup += 1;
                    }
                    report.errors.push(e);
                }
            }
            Ok(Err(e)) => report.errors.push(format!("worker panicked: {e}")),
            Err(_) => report
                .errors
                .push("worker did not finish 30s after --runfor".into()),
        }
    }
    report.duration = start.elapsed();
    if failed_setup == cfg.connections {
        return Err(report.errors.first().cloned().unwrap_or_default());
    }
    Ok(report)
}

struct WorkerOut {
    msgs: u64,
    hist: Histogram,
    error: Option<String>,
}

async fn setup(cfg: &WriterConfig, idx: usize) -> Result<(TcpStream, FrameReader)> {
    let mut stream = conn::connect(cfg.addr).await?;
    let mut buf = BytesMut::new();
    conn::put_magic(&mut buf);
    conn::identify(&format!("writer{idx}"), "").encode(&mut buf);
    stream
        .write_all(&buf)
        .await
        .map_err(|e| format!("write: {e}"))?;
    let mut frames = FrameReader::new();
    frames.expect_ok(&mut stream, "IDENTIFY").await?;
    Ok((stream, frames))
}

async fn pub_worker(
    cfg: Arc<WriterConfig>,
    idx: usize,
    ready: Arc<Barrier>,
    mut go: watch::Receiver<Option<Instant>>,
) -> WorkerOut {
    let mut out = WorkerOut {
        msgs: 0,
        hist: Histogram::new(),
        error: None,
    };
    let set_up = setup(&cfg, idx).await;
    ready.wait().await;
    let (mut stream, mut frames) = match set_up {
        Ok(s) => s,
        Err(e) => {
            out.error = Some(e);
            return out;
        }
    };
    let start = match go.wait_for(Option::is_some).await {
        Ok(v) => v.unwrap_or_else(Instant::now),
        Err(_) => return out,
    };
    let end = start + cfg.runfor;
    let batches: Vec<Bytes> = cfg.topics.iter().map(|t| encode_batch(&cfg, t)).collect();
    let responses = match cfg.command {
        PubCommand::Mpub => 1,
        PubCommand::Pub => cfg.batch_size,
    };
    let mut next = idx % batches.len();
    loop {
        let t0 = Instant::now();
        if let Err(e) = stream.write_all(&batches[next]).await {
            out.error = Some(format!("write: {e}"));
            return out;
        }
        for _ in 0..responses {
            if let Err(e) = frames.expect_ok(&mut stream, "publish").await {
                out.error = Some(e);
                return out;
            }
        }
        let t1 = Instant::now();
        out.hist.record(t1 - t0);
        out.msgs += cfg.batch_size as u64;
        next += 1;
        if next == batches.len() {
            next = 0;
        }
        if t1 >= end {
            return out;
        }
    }
}
