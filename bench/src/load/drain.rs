//! `nsq_load drain`: consume exactly `count` messages of a backlog built by
//! [`super::fill`], checking that each is one of the published messages,
//! intact and not seen before.
//!
//! Exactly `count` messages are FINed; any further message nsqd already
//! sent is left unacknowledged and goes back to the queue when the
//! connection closes (after `CLS`/`CLOSE_WAIT`, so every FIN was applied
//! first). The channel's depth afterwards is therefore the backlog minus
//! `count`.

use super::body;
use super::fill::share;
use super::seen::Seen;
use super::wire::{self, Hello};
use crate::conn::Result;
use bytes::BytesMut;
use nsq_protocol::{Command, Frame};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

/// What `drain` does.
#[derive(Debug, Clone)]
pub struct DrainConfig {
    /// nsqd TCP address.
    pub addr: SocketAddr,
    /// Topic and channel to consume.
    pub topic: String,
    /// Channel to consume.
    pub channel: String,
    /// Messages to consume and FIN.
    pub count: u64,
    /// RDY count.
    pub rdy: u64,
    /// The fill's `--count`: bodies are checked against it.
    pub fill_count: u64,
    /// The fill's `--connections`.
    pub fill_connections: usize,
    /// The fill's body size.
    pub size: usize,
    /// Give up after this long.
    pub timeout: Duration,
}

/// What `drain` found.
#[derive(Debug, Default)]
pub struct DrainReport {
    /// Messages FINed.
    pub received: u64,
    /// Time taken.
    pub duration: Duration,
    /// FINed messages whose pair had been received before.
    pub duplicates: u64,
    /// FINed messages that are not one of the fill's (bad header, unknown
    /// publisher or sequence, wrong size).
    pub invalid: u64,
    /// When the whole backlog was drained: published pairs never received.
    pub missing: Option<u64>,
}

impl DrainReport {
    /// All asked-for messages arrived, valid, once each.
    pub fn ok(&self, count: u64) -> bool {
        self.received == count
            && self.duplicates == 0
            && self.invalid == 0
            && self.missing.unwrap_or(0) == 0
    }
}

/// Consumes and checks the messages.
pub async fn run(cfg: DrainConfig) -> Result<DrainReport> {
    tokio::time::timeout(cfg.timeout, drain(&cfg))
        .await
        .map_err(|_| {
            format!(
                "drain: {} messages not received within {:?}",
                cfg.count, cfg.timeout
            )
        })?
}

async fn drain(cfg: &DrainConfig) -> Result<DrainReport> {
    let hello = Hello {
        client_id: "drain",
        identify_extra: "",
        sub: Some((&cfg.topic, &cfg.channel)),
    };
    let (mut stream, mut frames) = wire::open(cfg.addr, &hello).await?;
    let started = Instant::now();
    let mut report = DrainReport::default();
    let mut seen = Seen::new(cfg.fill_connections);
    let mut wbuf = BytesMut::with_capacity(64 * 1024);
    Command::Rdy(cfg.rdy.max(1)).encode(&mut wbuf);
    while report.received < cfg.count {
        if !wbuf.is_empty() {
            stream
                .write_all(&wbuf)
                .await
                .map_err(|e| format!("write: {e}"))?;
            wbuf.clear();
        }
        frames.fill(&mut stream).await?;
        while let Some(frame) = frames.decode()? {
            match frame {
                Frame::Message(msg) if report.received < cfg.count => {
                    report.received += 1;
                    Command::Fin(msg.id).encode(&mut wbuf);
                    let valid = body::decode(&msg.body).filter(|s| {
                        msg.body.len() == cfg.size
                            && (s.publisher as usize) < cfg.fill_connections
                            && s.seq
                                < share(cfg.fill_count, cfg.fill_connections, s.publisher as usize)
                    });
                    match valid {
                        Some(s) => {
                            if !seen.insert(s.publisher, s.seq) {
                                report.duplicates += 1;
                            }
                        }
                        None => report.invalid += 1,
                    }
                }
                Frame::Message(_) => {} // beyond count: requeued on close
                Frame::Response(d) if &d[..] == nsq_protocol::frame::HEARTBEAT => {
                    Command::Nop.encode(&mut wbuf);
                }
                Frame::Response(_) => {}
                Frame::Error(e) => {
                    return Err(format!("drain: nsqd sent {}", String::from_utf8_lossy(&e)))
                }
            }
        }
    }
    report.duration = started.elapsed();
    Command::Cls.encode(&mut wbuf);
    stream
        .write_all(&wbuf)
        .await
        .map_err(|e| format!("write: {e}"))?;
    loop {
        match frames.next(&mut stream).await? {
            Frame::Response(d) if &d[..] == b"CLOSE_WAIT" => break,
            Frame::Error(e) => return Err(format!("drain: CLS: {}", String::from_utf8_lossy(&e))),
            _ => {}
        }
    }
    if cfg.count == cfg.fill_count {
        let mut missing = 0;
        for p in 0..cfg.fill_connections {
            missing += seen
                .missing(p as u32, share(cfg.fill_count, cfg.fill_connections, p), 0)
                .0;
        }
        report.missing = Some(missing);
    }
    Ok(report)
}
