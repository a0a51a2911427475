//! `nsq_load conns`: hold many idle consumer connections on one nsqd.
//!
//! Connections are opened with at most `concurrency` handshakes in flight
//! (waves, so nsqd's accept queue never overflows). Each sends the V2
//! magic, IDENTIFY (with a heartbeat interval) and SUB, then stays idle with
//! RDY 0, answering every `_heartbeat_` with NOP, until the hold time is
//! over. A connection that misses heartbeats is closed by nsqd, so the
//! number still open at the end is the number nsqd really held.
//!
//! While all are held the run reads nsqd's RSS (with `--nsqd-pid`), its
//! `/stats` client count and `/ping` (with `--nsqd-http-address`), and does
//! a PUB/SUB round trip on a separate topic.

use super::wire::{self, Hello};
use super::{http, probe, sys};
use crate::conn::Result;
use bytes::BytesMut;
use nsq_protocol::{ClientCodec, Frame};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tokio_util::codec::Decoder;
use tokio_util::sync::CancellationToken;

/// What `conns` does.
#[derive(Debug, Clone)]
pub struct ConnsConfig {
    /// nsqd TCP address.
    pub addr: SocketAddr,
    /// nsqd HTTP address, for `/ping` and `/stats`.
    pub http: Option<SocketAddr>,
    /// nsqd's process id, for its RSS.
    pub nsqd_pid: Option<u32>,
    /// Connections to open.
    pub connections: usize,
    /// Handshakes in flight at once.
    pub concurrency: usize,
    /// How long to hold them once all are open.
    pub hold: Duration,
    /// How long opening them all may take.
    pub ramp_limit: Duration,
    /// IDENTIFY heartbeat interval in milliseconds.
    pub heartbeat_ms: u64,
    /// Topic the connections subscribe to.
    pub topic: String,
    /// Connection `i` subscribes to channel `ch_<i % channels>`.
    pub channels: usize,
}

/// What `conns` measured.
#[derive(Debug, Default)]
pub struct ConnsReport {
    /// Connections asked for.
    pub target: usize,
    /// Connections whose IDENTIFY and SUB succeeded.
    pub opened: usize,
    /// Time from the first connect until every connection was open or failed.
    pub ramp: Duration,
    /// Connections still open at the end of the hold time.
    pub held: usize,
    /// Heartbeats answered, all connections together.
    pub heartbeats: u64,
    /// nsqd RSS before the first connection and with all open (KiB).
    pub rss_before_kb: Option<u64>,
    /// nsqd RSS with all connections open (KiB).
    pub rss_full_kb: Option<u64>,
    /// nsqd peak RSS at the end of the hold (KiB).
    pub rss_peak_kb: Option<u64>,
    /// Clients subscribed to the topic according to `/stats`, at full count.
    pub stats_clients: Option<u64>,
    /// Same, at the end of the hold.
    pub stats_clients_end: Option<u64>,
    /// `/ping` results at full count and at the end of the hold.
    pub ping: Vec<Result<()>>,
    /// PUB/SUB round trip at full count and at the end of the hold.
    pub round_trips: Vec<Result<Duration>>,
    /// Distinct failure reasons with their counts.
    pub errors: Vec<(String, usize)>,
}

impl ConnsReport {
    /// Every connection was opened and held, and every check succeeded.
    pub fn ok(&self) -> bool {
        self.opened == self.target
            && self.held == self.target
            && self.ping.iter().all(|p| p.is_ok())
            && self.round_trips.iter().all(|r| r.is_ok())
            && self.stats_clients.is_none_or(|n| n == self.target as u64)
    }
}

struct Shared {
    opened: AtomicUsize,
    finished_setup: AtomicUsize,
    alive: AtomicUsize,
    heartbeats: AtomicU64,
    errors: Mutex<Vec<(String, usize)>>,
    stop: CancellationToken,
}

impl Shared {
    fn error(&self, e: String) {
        if let Ok(mut errors) = self.errors.lock() {
            match errors.iter_mut().find(|(text, _)| *text == e) {
                Some((_, n)) => *n += 1,
                None => errors.push((e, 1)),
            }
        }
    }
}

/// Opens, holds and closes the connections.
pub async fn run(cfg: ConnsConfig) -> Result<ConnsReport> {
    if cfg.connections == 0 || cfg.concurrency == 0 || cfg.channels == 0 {
        return Err("--connections, --concurrency and --channels must be > 0".into());
    }
    let mut report = ConnsReport {
        target: cfg.connections,
        rss_before_kb: rss_now(cfg.nsqd_pid),
        ..Default::default()
    };
    let shared = Arc::new(Shared {
        opened: AtomicUsize::new(0),
        finished_setup: AtomicUsize::new(0),
        alive: AtomicUsize::new(0),
        heartbeats: AtomicU64::new(0),
        errors: Mutex::new(Vec::new()),
        stop: CancellationToken::new(),
    });
    let gate = Arc::new(Semaphore::new(cfg.concurrency));
    let cfg = Arc::new(cfg);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(cfg.connections);
    for idx in 0..cfg.connections {
        tasks.push(tokio::spawn(hold_one(
            cfg.clone(),
            idx,
            gate.clone(),
            shared.clone(),
        )));
    }
    let ramp_deadline = started + cfg.ramp_limit;
    while shared.finished_setup.load(Ordering::Acquire) < cfg.connections
        && Instant::now() < ramp_deadline
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    report.ramp = started.elapsed();
    report.opened = shared.opened.load(Ordering::Acquire);
    // Give nsqd a moment to account for the last SUBs.
    tokio::time::sleep(Duration::from_millis(200)).await;
    report.rss_full_kb = rss_now(cfg.nsqd_pid);
    check(&cfg, &mut report, true).await;

    tokio::time::sleep_until(Instant::now() + cfg.hold).await;
    report.held = shared.alive.load(Ordering::Acquire);
    check(&cfg, &mut report, false).await;
    report.rss_peak_kb = cfg.nsqd_pid.and_then(sys::rss).map(|r| r.peak_kb);
    shared.stop.cancel();
    for t in tasks {
        if let Err(e) = t.await {
            shared.error(format!("connection task failed: {e}"));
        }
    }
    report.heartbeats = shared.heartbeats.load(Ordering::Acquire);
    report.errors = shared.errors.lock().map(|e| e.clone()).unwrap_or_default();
    report.errors.sort_by_key(|e| std::cmp::Reverse(e.1));
    Ok(report)
}

fn rss_now(pid: Option<u32>) -> Option<u64> {
    pid.and_then(sys::rss).map(|r| r.now_kb)
}

/// `/stats`, `/ping` and a round trip; `full`: the checks at full count.
async fn check(cfg: &ConnsConfig, report: &mut ConnsReport, full: bool) {
    if let Some(http_addr) = cfg.http {
        let clients = http::channel_clients(http_addr, &cfg.topic).await.ok();
        if full {
            report.stats_clients = clients;
        } else {
            report.stats_clients_end = clients;
        }
        report.ping.push(http::ping(http_addr).await);
    }
    let probe_topic = format!("{}_probe", cfg.topic);
    report
        .round_trips
        .push(probe::round_trip(cfg.addr, &probe_topic).await);
}

async fn hold_one(cfg: Arc<ConnsConfig>, idx: usize, gate: Arc<Semaphore>, shared: Arc<Shared>) {
    let opened = {
        let _permit = gate.acquire().await;
        let r = open(&cfg, idx).await;
        shared.finished_setup.fetch_add(1, Ordering::AcqRel);
        r
    };
    let (stream, buf) = match opened {
        Ok(s) => s,
        Err(e) => return shared.error(e),
    };
    shared.opened.fetch_add(1, Ordering::AcqRel);
    shared.alive.fetch_add(1, Ordering::AcqRel);
    if let Err(e) = idle(stream, buf, &shared).await {
        shared.alive.fetch_sub(1, Ordering::AcqRel);
        shared.error(e);
    }
}

/// Connects, IDENTIFYs and SUBs with a small read buffer (10,000 idle
/// connections must not cost 64 KiB each).
async fn open(cfg: &ConnsConfig, idx: usize) -> Result<(TcpStream, BytesMut)> {
    let channel = format!("ch_{}", idx % cfg.channels);
    let client_id = format!("conn{idx}");
    let extra = format!("\"heartbeat_interval\":{}", cfg.heartbeat_ms);
    let hello = Hello {
        client_id: &client_id,
        identify_extra: &extra,
        sub: Some((&cfg.topic, &channel)),
    };
    let mut stream = crate::conn::connect(cfg.addr).await?;
    stream
        .write_all(&wire::hello_bytes(&hello))
        .await
        .map_err(|e| format!("write: {e}"))?;
    let mut buf = BytesMut::with_capacity(256);
    let mut oks = 0;
    while oks < 2 {
        match next_frame(&mut stream, &mut buf).await? {
            Frame::Response(data) if &data[..] == nsq_protocol::frame::OK => oks += 1,
            Frame::Response(data) if &data[..] == nsq_protocol::frame::HEARTBEAT => {
                crate::conn::send_nop(&mut stream).await?;
            }
            other => return Err(format!("IDENTIFY/SUB: unexpected {}", describe(&other))),
        }
    }
    Ok((stream, buf))
}

/// Answers heartbeats until the run stops; an error if nsqd closes the
/// connection or sends anything but a heartbeat.
async fn idle(mut stream: TcpStream, mut buf: BytesMut, shared: &Shared) -> Result<()> {
    loop {
        let frame = tokio::select! {
            _ = shared.stop.cancelled() => return Ok(()),
            f = next_frame(&mut stream, &mut buf) => f?,
        };
        match frame {
            Frame::Response(data) if &data[..] == nsq_protocol::frame::HEARTBEAT => {
                crate::conn::send_nop(&mut stream).await?;
                shared.heartbeats.fetch_add(1, Ordering::Relaxed);
            }
            other => return Err(format!("while idle: unexpected {}", describe(&other))),
        }
    }
}

async fn next_frame(stream: &mut TcpStream, buf: &mut BytesMut) -> Result<Frame> {
    loop {
        if let Some(frame) = decode_frame(buf)? {
            return Ok(frame);
        }
        buf.reserve(256);
        match stream.read_buf(buf).await {
            Ok(0) => return Err("nsqd closed the connection".into()),
            Ok(_) => {}
            Err(e) => return Err(format!("read: {e}")),
        }
    }
}

fn describe(frame: &Frame) -> String {
    match frame {
        Frame::Response(d) => format!("response {:?}", String::from_utf8_lossy(d)),
        Frame::Error(d) => format!("error {:?}", String::from_utf8_lossy(d)),
        Frame::Message(_) => "message".into(),
    }
}

/// Decodes one frame from `buf` if it holds a whole one.
fn decode_frame(buf: &mut BytesMut) -> Result<Option<Frame>> {
    ClientCodec {
        max_frame_size: Some(1 << 20),
    }
    .decode(buf)
    .map_err(|e| format!("bad frame from nsqd: {e}"))
}
