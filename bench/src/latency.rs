//! `latency`: end-to-end latency at a fixed publish rate.
//!
//! One publisher connection sends single-message `PUB`s on an absolute
//! schedule (`--rate` per second); the first 8 bytes of each body hold the
//! send time (nanoseconds on this process's monotonic clock, taken just
//! before the write). One consumer connection negotiates unbuffered output
//! (IDENTIFY `output_buffer_size: -1`, `output_buffer_timeout: -1`), keeps
//! `RDY --rdy`, FINs every message and records receive time minus send time.
//! Messages sent during `--warmup` are not recorded.
//!
//! Publisher, acknowledgement reader and consumer are plain threads with
//! blocking sockets: no runtime scheduling between the socket and the
//! clock. Pacing uses `thread::sleep`, so at high rates sends bunch up into
//! small bursts when a sleep overshoots; the average rate holds.

use crate::conn::{FrameReader, Result};
use crate::hist::Histogram;
use bytes::BytesMut;
use nsq_protocol::{Command, Frame, MAGIC_V2};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

/// What the latency run does.
#[derive(Debug, Clone)]
pub struct LatencyConfig {
    /// nsqd TCP address.
    pub addr: SocketAddr,
    /// Topic to publish to and consume from.
    pub topic: String,
    /// Channel to consume from.
    pub channel: String,
    /// Body size (at least 8: the send time).
    pub size: usize,
    /// Messages per second.
    pub rate: f64,
    /// How long to publish.
    pub runfor: Duration,
    /// Messages sent before this much time has passed are not recorded.
    pub warmup: Duration,
    /// The consumer's RDY count.
    pub rdy: u64,
}

/// What the latency run measured.
#[derive(Debug)]
pub struct LatencyReport {
    /// Publishing time.
    pub duration: Duration,
    /// Messages published.
    pub sent: u64,
    /// Publishes acknowledged with `OK`.
    pub acked: u64,
    /// Messages received by the consumer.
    pub received: u64,
    /// Send-to-receive latency of the messages sent after the warm-up.
    pub latency: Histogram,
}

/// How long the consumer waits for stragglers after the publisher stopped.
const DRAIN_GRACE: Duration = Duration::from_secs(2);
/// Read timeout used to check for the end of the run.
const POLL: Duration = Duration::from_millis(50);

struct Progress {
    sent: AtomicU64,
    done: AtomicBool,
}

fn io_err(what: &str) -> impl Fn(std::io::Error) -> String + '_ {
    move |e| format!("{what}: {e}")
}

fn open(addr: SocketAddr) -> Result<TcpStream> {
    let s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).map_err(io_err("connect"))?;
    s.set_nodelay(true).map_err(io_err("set_nodelay"))?;
    Ok(s)
}

/// Reads once (blocking, up to the socket's read timeout) into `frames`.
/// `Ok(false)` on timeout.
fn fill(s: &mut TcpStream, frames: &mut FrameReader, tmp: &mut [u8]) -> Result<bool> {
    match s.read(tmp) {
        Ok(0) => Err("server closed the connection".into()),
        Ok(n) => {
            frames.buf.extend_from_slice(&tmp[..n]);
            Ok(true)
        }
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => Ok(false),
        Err(e) if e.kind() == ErrorKind::Interrupted => Ok(false),
        Err(e) => Err(format!("read: {e}")),
    }
}

/// Blocks until a response `OK` (setup only; bounded by the read timeout).
fn expect_ok(s: &mut TcpStream, frames: &mut FrameReader, what: &str) -> Result<()> {
    let mut tmp = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        while let Some(frame) = frames.decode()? {
            match frame {
                Frame::Response(d) if &d[..] == nsq_protocol::frame::OK => return Ok(()),
                Frame::Response(_) => {}
                Frame::Error(d) => return Err(format!("{what}: {}", String::from_utf8_lossy(&d))),
                Frame::Message(_) => return Err(format!("{what}: unexpected message")),
            }
        }
        if Instant::now() > deadline {
            return Err(format!("{what}: no answer in 10s"));
        }
        fill(s, frames, &mut tmp)?;
    }
}

/// Runs the latency measurement (blocking; spawns three threads).
pub fn run(cfg: LatencyConfig) -> Result<LatencyReport> {
    if cfg.size < 8 || cfg.rate <= 0.0 || cfg.rdy == 0 {
        return Err("latency needs --size >= 8, --rate > 0 and --rdy > 0".into());
    }
    let base = Instant::now();
    let progress = Arc::new(Progress {
        sent: AtomicU64::new(0),
        done: AtomicBool::new(false),
    });

    // Consumer first: subscribed with RDY before the first publish.
    let mut sub = open(cfg.addr)?;
    sub.set_read_timeout(Some(POLL))
        .map_err(io_err("set_read_timeout"))?;
    let mut sub_frames = FrameReader::new();
    let mut buf = BytesMut::new();
    buf.extend_from_slice(MAGIC_V2);
    crate::conn::identify(
        "latency",
        "\"output_buffer_size\":-1,\"output_buffer_timeout\":-1",
    )
    .encode(&mut buf);
    Command::Sub {
        topic: cfg.topic.clone(),
        channel: cfg.channel.clone(),
    }
    .encode(&mut buf);
    sub.write_all(&buf).map_err(io_err("write"))?;
    expect_ok(&mut sub, &mut sub_frames, "IDENTIFY")?;
    expect_ok(&mut sub, &mut sub_frames, "SUB")?;
    buf.clear();
    Command::Rdy(cfg.rdy).encode(&mut buf);
    sub.write_all(&buf).map_err(io_err("write"))?;

    let mut publ = open(cfg.addr)?;
    publ.write_all(MAGIC_V2).map_err(io_err("write"))?;
    let acks = publ.try_clone().map_err(io_err("clone socket"))?;
    acks.set_read_timeout(Some(POLL))
        .map_err(io_err("set_read_timeout"))?;

    let start = Arc::new(Barrier::new(2));
    let consumer = {
        let progress = progress.clone();
        let start = start.clone();
        let warmup_ns = cfg.warmup.as_nanos() as u64;
        let hard_stop = cfg.runfor + DRAIN_GRACE + Duration::from_secs(5);
        std::thread::spawn(move || {
            consume(
                sub, sub_frames, base, warmup_ns, &progress, &start, hard_stop,
            )
        })
    };
    let acker = {
        let progress = progress.clone();
        let hard_stop = cfg.runfor + DRAIN_GRACE + Duration::from_secs(5);
        std::thread::spawn(move || read_acks(acks, &progress, hard_stop))
    };

    start.wait();
    let pub_result = publish(&mut publ, &cfg, base, &progress);
    progress.done.store(true, Ordering::Release);
    let duration = pub_result.as_ref().map(|d| *d).unwrap_or_default();
    let consumed = consumer
        .join()
        .map_err(|_| "consumer thread panicked".to_string())?;
    let acked = acker
        .join()
        .map_err(|_| "ack thread panicked".to_string())?;
    pub_result?;
    let (received, latency) = consumed?;
    Ok(LatencyReport {
        duration,
        sent: progress.sent.load(Ordering::Acquire),
        acked: acked?,
        received,
        latency,
    })
}

fn publish(
    s: &mut TcpStream,
    cfg: &LatencyConfig,
    base: Instant,
    progress: &Progress,
) -> Result<Duration> {
    let mut buf = BytesMut::new();
    Command::Pub {
        topic: cfg.topic.clone(),
        body: vec![0u8; cfg.size].into(),
    }
    .encode(&mut buf);
    let mut cmd = buf.to_vec();
    let stamp_at = cmd.len() - cfg.size;
    let period = Duration::from_secs_f64(1.0 / cfg.rate);
    let start = Instant::now();
    let end = start + cfg.runfor;
    let mut i: u32 = 0;
    loop {
        let target = start + period * i;
        let now = Instant::now();
        if now >= end || i == u32::MAX {
            break;
        }
        if target > now {
            std::thread::sleep(target - now);
        }
        let stamp = base.elapsed().as_nanos() as u64;
        cmd[stamp_at..stamp_at + 8].copy_from_slice(&stamp.to_be_bytes());
        s.write_all(&cmd).map_err(io_err("publish"))?;
        i += 1;
        progress.sent.store(u64::from(i), Ordering::Release);
    }
    Ok(start.elapsed())
}

fn read_acks(mut s: TcpStream, progress: &Progress, hard_stop: Duration) -> Result<u64> {
    let started = Instant::now();
    let mut frames = FrameReader::new();
    let mut tmp = vec![0u8; 16 * 1024];
    let mut acked = 0u64;
    let mut done_at: Option<Instant> = None;
    loop {
        while let Some(frame) = frames.decode()? {
            match frame {
                Frame::Response(d) if &d[..] == nsq_protocol::frame::OK => acked += 1,
                Frame::Response(d) if &d[..] == nsq_protocol::frame::HEARTBEAT => {
                    let mut b = BytesMut::new();
                    Command::Nop.encode(&mut b);
                    s.write_all(&b).map_err(io_err("write"))?;
                }
                Frame::Response(_) | Frame::Message(_) => {}
                Frame::Error(d) => {
                    return Err(format!("publish failed: {}", String::from_utf8_lossy(&d)))
                }
            }
        }
        if progress.done.load(Ordering::Acquire) {
            let at = *done_at.get_or_insert_with(Instant::now);
            if acked >= progress.sent.load(Ordering::Acquire) || at.elapsed() > DRAIN_GRACE {
                return Ok(acked);
            }
        }
        if started.elapsed() > hard_stop {
            return Ok(acked);
        }
        fill(&mut s, &mut frames, &mut tmp)?;
    }
}

fn consume(
    mut s: TcpStream,
    mut frames: FrameReader,
    base: Instant,
    warmup_ns: u64,
    progress: &Progress,
    start: &Barrier,
    hard_stop: Duration,
) -> Result<(u64, Histogram)> {
    start.wait();
    let started = Instant::now();
    let mut hist = Histogram::new();
    let mut received = 0u64;
    let mut tmp = vec![0u8; 64 * 1024];
    let mut wbuf = BytesMut::with_capacity(4096);
    let mut done_at: Option<Instant> = None;
    loop {
        let now_ns = base.elapsed().as_nanos() as u64;
        while let Some(frame) = frames.decode()? {
            match frame {
                Frame::Message(msg) => {
                    received += 1;
                    if let Some(stamp) = msg.body.get(..8).and_then(|b| b.try_into().ok()) {
                        let sent_ns = u64::from_be_bytes(stamp);
                        if sent_ns >= warmup_ns {
                            hist.record_ns(now_ns.saturating_sub(sent_ns));
                        }
                    }
                    Command::Fin(msg.id).encode(&mut wbuf);
                }
                Frame::Response(d) if &d[..] == nsq_protocol::frame::HEARTBEAT => {
                    Command::Nop.encode(&mut wbuf);
                }
                Frame::Response(_) => {}
                Frame::Error(d) => {
                    return Err(format!("consumer: {}", String::from_utf8_lossy(&d)));
                }
            }
        }
        if !wbuf.is_empty() {
            s.write_all(&wbuf).map_err(io_err("write"))?;
            wbuf.clear();
        }
        if progress.done.load(Ordering::Acquire) {
            let at = *done_at.get_or_insert_with(Instant::now);
            if received >= progress.sent.load(Ordering::Acquire) || at.elapsed() > DRAIN_GRACE {
                return Ok((received, hist));
            }
        }
        if started.elapsed() > hard_stop {
            return Ok((received, hist));
        }
        fill(&mut s, &mut frames, &mut tmp)?;
    }
}
