//! `nsq_load fill`: publish exactly `count` numbered messages with MPUB
//! (to build a backlog), split over a few connections.
//!
//! Connection `i` is publisher `i` and sends sequence numbers
//! `0..share(count, connections, i)`; [`super::drain`] checks bodies
//! against the same split.

use super::body::{self, Stamp};
use super::wire::{self, Hello};
use crate::conn::Result;
use bytes::{Bytes, BytesMut};
use nsq_protocol::Command;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

/// What `fill` does.
#[derive(Debug, Clone)]
pub struct FillConfig {
    /// nsqd TCP address.
    pub addr: SocketAddr,
    /// Topic to publish to.
    pub topic: String,
    /// Messages in total.
    pub count: u64,
    /// Body size in bytes.
    pub size: usize,
    /// Messages per MPUB.
    pub batch: u64,
    /// Connections (publishers).
    pub connections: usize,
}

/// What `fill` did.
#[derive(Debug)]
pub struct FillReport {
    /// Messages acknowledged.
    pub published: u64,
    /// Time taken.
    pub duration: Duration,
}

/// The number of messages publisher `i` of `connections` sends.
pub fn share(count: u64, connections: usize, i: usize) -> u64 {
    let n = connections.max(1) as u64;
    count / n + u64::from((i as u64) < count % n)
}

/// Publishes the messages; fails if any connection fails.
pub async fn run(cfg: FillConfig) -> Result<FillReport> {
    if cfg.connections == 0 || cfg.batch == 0 || cfg.size < body::HEADER_LEN {
        return Err(format!(
            "--connections and --batch must be > 0 and --size at least {}",
            body::HEADER_LEN
        ));
    }
    let started = Instant::now();
    let mut handles = Vec::with_capacity(cfg.connections);
    for i in 0..cfg.connections {
        let cfg = cfg.clone();
        handles.push(tokio::spawn(async move { publish(&cfg, i).await }));
    }
    let mut published = 0;
    let mut errors = Vec::new();
    for (i, h) in handles.into_iter().enumerate() {
        match h.await {
            Ok(Ok(n)) => published += n,
            Ok(Err(e)) => errors.push(format!("publisher {i}: {e}")),
            Err(e) => errors.push(format!("publisher {i} task failed: {e}")),
        }
    }
    if !errors.is_empty() {
        return Err(errors.join("; "));
    }
    Ok(FillReport {
        published,
        duration: started.elapsed(),
    })
}

async fn publish(cfg: &FillConfig, i: usize) -> Result<u64> {
    let client_id = format!("fill{i}");
    let hello = Hello {
        client_id: &client_id,
        identify_extra: "",
        sub: None,
    };
    let (mut stream, mut frames) = wire::open(cfg.addr, &hello).await?;
    let total = share(cfg.count, cfg.connections, i);
    let mut scratch = Vec::with_capacity(cfg.size);
    let mut wbuf = BytesMut::with_capacity(cfg.batch as usize * (cfg.size + 4) + 64);
    let mut acked = 0;
    while acked < total {
        let n = cfg.batch.min(total - acked);
        let sent_ns = body::unix_now_ns();
        let bodies = (acked..acked + n)
            .map(|seq| {
                let stamp = Stamp {
                    publisher: i as u32,
                    seq,
                    sent_ns,
                };
                body::encode(stamp, cfg.size, &mut scratch);
                Bytes::copy_from_slice(&scratch)
            })
            .collect();
        wbuf.clear();
        Command::Mpub {
            topic: cfg.topic.clone(),
            bodies,
        }
        .encode(&mut wbuf);
        stream
            .write_all(&wbuf)
            .await
            .map_err(|e| format!("write: {e}"))?;
        frames.expect_ok(&mut stream, "MPUB").await?;
        acked += n;
    }
    Ok(acked)
}

#[cfg(test)]
mod tests {
    use super::share;

    #[test]
    fn shares_add_up() {
        let parts: Vec<u64> = (0..3).map(|i| share(10, 3, i)).collect();
        assert_eq!(parts, vec![4, 3, 3]);
        assert_eq!(share(5, 1, 0), 5);
    }
}
