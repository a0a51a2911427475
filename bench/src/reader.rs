//! `reader`: NSQ's bench_reader workload.
//!
//! N connections (one per CPU by default), each `SUB <topic> <channel>`,
//! `RDY <rdy>`, and a `FIN` for every message received, until `--runfor`
//! has elapsed. The result is messages received / elapsed time.
//!
//! One task per connection reads into a reused buffer, decodes every frame
//! that arrived, appends the FINs to one output buffer and writes it with a
//! single call; reads and writes are multiplexed so neither side can block
//! the other.
//!
//! Extensions: `--topics N` / `--channels M` (connection `i` subscribes to
//! pair `i mod N*M`; at least one connection per pair), `--expect N` (stop
//! as soon as N messages have arrived in total, e.g. to time draining a
//! pre-filled queue) and `--start-at`.

use crate::conn::{self, FrameReader, Result};
use bytes::BytesMut;
use nsq_protocol::{Command, Frame};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{watch, Barrier};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How long connecting (and IDENTIFY/SUB) of all connections may take.
const SETUP_LIMIT: Duration = Duration::from_secs(60);

/// What the reader does.
#[derive(Debug, Clone)]
pub struct ReaderConfig {
    /// nsqd TCP address.
    pub addr: SocketAddr,
    /// `(topic, channel)` pairs; connection `i` takes pair `i % len`.
    pub pairs: Vec<(String, String)>,
    /// Number of connections; raised to the number of pairs if lower.
    pub connections: usize,
    /// RDY count per connection.
    pub rdy: u64,
    /// How long to consume.
    pub runfor: Duration,
    /// Stop once this many messages arrived in total (0: never).
    pub expect: u64,
    /// Wall-clock start time (Unix seconds), after every connection subscribed.
    pub start_at: Option<f64>,
}

/// What the reader measured.
#[derive(Debug)]
pub struct ReaderReport {
    /// From the start signal until the end (runfor, or the `--expect`th message).
    pub duration: Duration,
    /// Messages received (and FINed).
    pub msgs: u64,
    /// Error frames received (non-fatal, e.g. `E_FIN_FAILED`).
    pub error_frames: u64,
    /// Connections that failed, with the reason.
    pub errors: Vec<String>,
}

struct Shared {
    total: AtomicU64,
    stop: CancellationToken,
    expected_at: Mutex<Option<Instant>>,
}

/// Runs the reader; fails only if no connection could be set up.
pub async fn run(cfg: ReaderConfig) -> Result<ReaderReport> {
    if cfg.pairs.is_empty() || cfg.rdy == 0 {
        return Err("--topics, --channels and --rdy must be > 0".into());
    }
    let connections = cfg.connections.max(cfg.pairs.len());
    let cfg = Arc::new(cfg);
    let shared = Arc::new(Shared {
        total: AtomicU64::new(0),
        stop: CancellationToken::new(),
        expected_at: Mutex::new(None),
    });
    let ready = Arc::new(Barrier::new(connections + 1));
    let (go_tx, go_rx) = watch::channel::<Option<Instant>>(None);
    let mut handles = Vec::with_capacity(connections);
    for idx in 0..connections {
        handles.push(tokio::spawn(sub_worker(
            cfg.clone(),
            idx,
            ready.clone(),
            go_rx.clone(),
            shared.clone(),
        )));
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
    let hard_stop = start + cfg.runfor + Duration::from_secs(30);
    let mut report = ReaderReport {
        duration: Duration::ZERO,
        msgs: 0,
        error_frames: 0,
        errors: Vec::new(),
    };
    let mut failed_setup = 0;
    for h in handles {
        match tokio::time::timeout_at(hard_stop, h).await {
            Ok(Ok(out)) => {
                report.msgs += out.msgs;
                report.error_frames += out.error_frames;
                if let Some(e) = out.error {
                    if out.setup_failed {
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
    let end = shared
        .expected_at
        .lock()
        .ok()
        .and_then(|g| *g)
        .unwrap_or_else(Instant::now);
    report.duration = end - start;
    if failed_setup == connections {
        return Err(report.errors.first().cloned().unwrap_or_default());
    }
    Ok(report)
}

#[derive(Default)]
struct WorkerOut {
    msgs: u64,
    error_frames: u64,
    error: Option<String>,
    setup_failed: bool,
}

async fn setup(cfg: &ReaderConfig, idx: usize) -> Result<(TcpStream, FrameReader)> {
    let (topic, channel) = &cfg.pairs[idx % cfg.pairs.len()];
    let mut stream = conn::connect(cfg.addr).await?;
    let mut buf = BytesMut::new();
    conn::put_magic(&mut buf);
    conn::identify(&format!("reader{idx}"), "").encode(&mut buf);
    Command::Sub {
        topic: topic.clone(),
        channel: channel.clone(),
    }
    .encode(&mut buf);
    stream
        .write_all(&buf)
        .await
        .map_err(|e| format!("write: {e}"))?;
    let mut frames = FrameReader::new();
    frames.expect_ok(&mut stream, "IDENTIFY").await?;
    frames.expect_ok(&mut stream, "SUB").await?;
    Ok((stream, frames))
}

async fn sub_worker(
    cfg: Arc<ReaderConfig>,
    idx: usize,
    ready: Arc<Barrier>,
    mut go: watch::Receiver<Option<Instant>>,
    shared: Arc<Shared>,
) -> WorkerOut {
    let mut out = WorkerOut::default();
    let set_up = setup(&cfg, idx).await;
    ready.wait().await;
    let (mut stream, mut frames) = match set_up {
        Ok(s) => s,
        Err(e) => {
            out.error = Some(e);
            out.setup_failed = true;
            return out;
        }
    };
    let start = match go.wait_for(Option::is_some).await {
        Ok(v) => (*v).unwrap_or_else(Instant::now),
        Err(_) => return out,
    };
    if let Err(e) = consume(&cfg, &shared, &mut stream, &mut frames, start, &mut out).await {
        out.error = Some(e);
    }
    out
}

async fn consume(
    cfg: &ReaderConfig,
    shared: &Shared,
    stream: &mut TcpStream,
    frames: &mut FrameReader,
    start: Instant,
    out: &mut WorkerOut,
) -> Result<()> {
    let (mut rd, mut wr) = stream.split();
    let mut wbuf = BytesMut::with_capacity(64 * 1024);
    Command::Rdy(cfg.rdy).encode(&mut wbuf);
    let deadline = tokio::time::sleep_until(start + cfg.runfor);
    tokio::pin!(deadline);
    let cancelled = shared.stop.cancelled();
    tokio::pin!(cancelled);
    // Frames already buffered (none expected after SUB, but be exact).
    let mut pending_decode = !frames.buf.is_empty();
    loop {
        if pending_decode {
            pending_decode = false;
            let mut got = 0u64;
            while let Some(frame) = frames.decode()? {
                match frame {
                    Frame::Message(msg) => {
                        Command::Fin(msg.id).encode(&mut wbuf);
                        got += 1;
                    }
                    Frame::Response(data) => {
                        if &data[..] == nsq_protocol::frame::HEARTBEAT {
                            Command::Nop.encode(&mut wbuf);
                        }
                    }
                    Frame::Error(_) => out.error_frames += 1,
                }
            }
            if got > 0 {
                out.msgs += got;
                let total = shared.total.fetch_add(got, Ordering::Relaxed) + got;
                if cfg.expect > 0 && total >= cfg.expect {
                    if let Ok(mut at) = shared.expected_at.lock() {
                        at.get_or_insert_with(Instant::now);
                    }
                    shared.stop.cancel();
                    return Ok(());
                }
            }
        }
        frames.make_room();
        tokio::select! {
            biased;
            _ = &mut deadline => return Ok(()),
            _ = &mut cancelled => return Ok(()),
            r = wr.write(&wbuf), if !wbuf.is_empty() => conn::consumed(&mut wbuf, r)?,
            r = rd.read_buf(&mut frames.buf) => {
                conn::filled(r, "server")?;
                pending_decode = true;
            }
        }
    }
}
