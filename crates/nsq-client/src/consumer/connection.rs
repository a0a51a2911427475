//! One consumer connection to one nsqd: handshake and SUB, then a task that
//! writes commands, answers heartbeats, hands messages to the consumer and,
//! on stop, sends CLS and waits for its in-flight messages to be answered.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use nsq_protocol::frame::{CLOSE_WAIT, HEARTBEAT};
use nsq_protocol::{Command, ErrorCode, Frame};
use tokio::sync::{mpsc, Notify};
use tokio::time::Instant;

use super::delivery::Delivery;
use super::Inner;
use crate::conn;
use crate::error::ConnectError;
use crate::transport::FramedConn;

/// The parts of a connection that deliveries and the consumer share.
pub struct ConnShared {
    /// nsqd `host:port`.
    pub addr: String,
    cmd_tx: mpsc::UnboundedSender<Command>,
    in_flight: AtomicI64,
    rdy: AtomicU64,
    /// nsqd's `max_rdy_count`.
    pub max_rdy: u64,
    changed: Notify,
}

impl ConnShared {
    /// Queues a command for the connection (dropped if it is gone).
    pub fn send(&self, cmd: Command) {
        let _ = self.cmd_tx.send(cmd);
    }

    /// Queues a FIN or REQ and counts the message as no longer in flight.
    pub fn answer(&self, cmd: Command) {
        self.send(cmd);
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.changed.notify_one();
    }

    /// Messages received and not yet answered.
    pub fn in_flight(&self) -> i64 {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// The last RDY count sent.
    pub fn rdy(&self) -> u64 {
        self.rdy.load(Ordering::SeqCst)
    }

    /// Sends `RDY count` unless that is already the current count.
    pub fn set_rdy(&self, count: u64) {
        if self.rdy.swap(count, Ordering::SeqCst) != count {
            self.send(Command::Rdy(count));
        }
    }
}

/// A subscribed connection whose task has not started yet.
pub struct Opened {
    /// Shared state.
    pub shared: Arc<ConnShared>,
    conn: FramedConn,
    cmd_rx: mpsc::UnboundedReceiver<Command>,
}

/// Connects, IDENTIFYs and subscribes.
pub async fn open(inner: &Inner, addr: &str) -> Result<Opened, ConnectError> {
    let hs = conn::open(addr, &inner.config).await?;
    let mut c = hs.conn;
    conn::send(
        &mut c,
        addr,
        Command::Sub {
            topic: inner.topic.clone(),
            channel: inner.channel.clone(),
        },
    )
    .await?;
    conn::read_response(&mut c, addr, "SUB", inner.config.read_timeout).await?;
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    Ok(Opened {
        shared: Arc::new(ConnShared {
            addr: addr.to_string(),
            cmd_tx,
            in_flight: AtomicI64::new(0),
            rdy: AtomicU64::new(0),
            max_rdy: u64::try_from(hs.settings.max_rdy_count).unwrap_or(0),
            changed: Notify::new(),
        }),
        conn: c,
        cmd_rx,
    })
}

/// Why the connection task ended.
enum End {
    Stopped,
    Lost(String),
}

/// Runs the connection until it breaks or a stop has drained it.
pub async fn run(inner: Arc<Inner>, opened: Opened, deliveries: mpsc::UnboundedSender<Delivery>) {
    let Opened {
        shared,
        mut conn,
        mut cmd_rx,
    } = opened;
    let addr = shared.addr.clone();
    let read_timeout = inner.config.read_timeout;
    let mut stop_rx = inner.stop_tx.subscribe();
    let mut cls_sent = false;
    let mut close_wait = false;
    let mut drain_deadline: Option<Instant> = None;
    let end = loop {
        if !cls_sent && *stop_rx.borrow_and_update() {
            shared.send(Command::Cls);
            cls_sent = true;
            drain_deadline = Some(Instant::now() + inner.stop_timeout());
        }
        if close_wait && shared.in_flight() <= 0 {
            break End::Stopped;
        }
        let deadline = async {
            match drain_deadline {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            changed = stop_rx.changed(), if !cls_sent => {
                if changed.is_err() {
                    break End::Stopped;
                }
            }
            Some(first) = cmd_rx.recv() => {
                if let Err(e) = write_batch(&mut conn, first, &mut cmd_rx).await {
                    break End::Lost(format!("write failed: {e}"));
                }
            }
            _ = shared.changed.notified() => {}
            _ = deadline => {
                tracing::warn!(
                    "nsqd {addr}: stop timed out with {} messages still in flight; closing",
                    shared.in_flight()
                );
                break End::Stopped;
            }
            frame = tokio::time::timeout(read_timeout, conn.next()) => match frame {
                Err(_) => break End::Lost(format!("no data for {read_timeout:?}")),
                Ok(None) => break End::Lost("closed by nsqd".into()),
                Ok(Some(Err(e))) => break End::Lost(e.to_string()),
                Ok(Some(Ok(Frame::Response(data)))) => {
                    if data == HEARTBEAT {
                        shared.send(Command::Nop);
                    } else if data == CLOSE_WAIT {
                        close_wait = true;
                    }
                }
                Ok(Some(Ok(Frame::Error(data)))) => {
                    let text = String::from_utf8_lossy(&data).into_owned();
                    if is_non_fatal(&text) {
                        tracing::warn!("nsqd {addr}: {text}");
                    } else {
                        tracing::error!("nsqd {addr}: {text}");
                    }
                }
                Ok(Some(Ok(Frame::Message(message)))) => {
                    shared.in_flight.fetch_add(1, Ordering::SeqCst);
                    inner.count_received();
                    let max_attempts = inner.config.max_attempts;
                    let delivery = Delivery::new(message, shared.clone(), inner.clone());
                    if cls_sent {
                        // Stopping: give it back for another consumer.
                        drop(delivery);
                    } else if max_attempts > 0 && delivery.attempts() > max_attempts {
                        tracing::warn!(
                            "msg {} attempted {} times, giving up (max_attempts {max_attempts})",
                            delivery.id(),
                            delivery.attempts()
                        );
                        delivery.finish();
                    } else if let Err(mpsc::error::SendError(back)) = deliveries.send(delivery) {
                        drop(back);
                    }
                }
            },
        }
    };
    // Answers queued by deliveries still go out before closing.
    let mut leftover = Vec::new();
    while let Ok(cmd) = cmd_rx.try_recv() {
        leftover.push(cmd);
    }
    for cmd in leftover {
        if conn.feed(cmd).await.is_err() {
            break;
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(1), conn.flush()).await;
    let _ = tokio::time::timeout(Duration::from_secs(1), conn.close()).await;
    drop(deliveries);
    match end {
        End::Stopped => tracing::debug!("nsqd {addr}: connection closed"),
        End::Lost(reason) => tracing::warn!("nsqd {addr}: connection lost: {reason}"),
    }
    inner.connection_closed(&shared);
}

/// Writes `first` and every command already queued behind it, then flushes.
async fn write_batch(
    conn: &mut FramedConn,
    first: Command,
    rx: &mut mpsc::UnboundedReceiver<Command>,
) -> std::io::Result<()> {
    conn.feed(first).await?;
    while let Ok(more) = rx.try_recv() {
        conn.feed(more).await?;
    }
    conn.flush().await
}

fn is_non_fatal(text: &str) -> bool {
    [
        ErrorCode::FinFailed,
        ErrorCode::ReqFailed,
        ErrorCode::TouchFailed,
    ]
    .iter()
    .any(|c| text.starts_with(c.as_str()))
}
