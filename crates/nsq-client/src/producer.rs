//! The producer: PUB, MPUB and DPUB to one nsqd over one connection.
//!
//! Commands are pipelined; nsqd answers publishes in order, so each answer
//! completes the oldest pending publish. [`Producer::publish`] waits for the
//! answer (sync ack); [`Producer::publish_async`] returns once the command is
//! queued and hands back a [`PendingAck`] to await later (async ack). A dead
//! connection is replaced on the next publish (reconnect).

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use nsq_protocol::frame::HEARTBEAT;
use nsq_protocol::{is_valid_topic_name, Command, Frame};
use tokio::sync::{mpsc, oneshot, Mutex};
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::conn;
use crate::error::PublishError;
use crate::transport::FramedConn;

/// How long [`Producer::stop`] waits for outstanding acknowledgements.
const STOP_DRAIN: Duration = Duration::from_secs(5);

type Ack = oneshot::Sender<Result<(), PublishError>>;

struct Request {
    cmd: Command,
    ack: Ack,
}

struct Live {
    tx: mpsc::UnboundedSender<Request>,
    task: JoinHandle<()>,
}

/// A publisher to one nsqd TCP address.
pub struct Producer {
    addr: String,
    config: Arc<Config>,
    live: Mutex<Option<Live>>,
    stopped: std::sync::atomic::AtomicBool,
}

/// The acknowledgement of a publish queued with [`Producer::publish_async`].
pub struct PendingAck {
    rx: oneshot::Receiver<Result<(), PublishError>>,
    addr: String,
}

impl Future for PendingAck {
    type Output = Result<(), PublishError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match Pin::new(&mut self.rx).poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(result)) => Poll::Ready(result),
            Poll::Ready(Err(_)) => Poll::Ready(Err(PublishError::ConnectionLost {
                addr: self.addr.clone(),
            })),
        }
    }
}

impl Producer {
    /// A producer for nsqd at `addr` (`host:port`). Nothing is dialled until
    /// [`Producer::connect`] or the first publish.
    pub fn new(addr: impl Into<String>, config: Config) -> Producer {
        Producer {
            addr: addr.into(),
            config: Arc::new(config),
            live: Mutex::new(None),
            stopped: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// The nsqd address this producer publishes to.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Connects now (if not connected), so a wrong address is reported
    /// before the first message.
    pub async fn connect(&self) -> Result<(), PublishError> {
        self.sender().await.map(|_| ())
    }

    /// Publishes one message and waits for nsqd's acknowledgement.
    pub async fn publish(&self, topic: &str, body: impl Into<Bytes>) -> Result<(), PublishError> {
        self.publish_async(topic, body).await?.await
    }

    /// Queues one message; the returned [`PendingAck`] completes with nsqd's answer.
    pub async fn publish_async(
        &self,
        topic: &str,
        body: impl Into<Bytes>,
    ) -> Result<PendingAck, PublishError> {
        let body = body.into();
        check(topic, std::slice::from_ref(&body))?;
        self.queue(Command::Pub {
            topic: topic.to_string(),
            body,
        })
        .await
    }

    /// Publishes several messages in one MPUB and waits for the acknowledgement.
    pub async fn multi_publish(&self, topic: &str, bodies: Vec<Bytes>) -> Result<(), PublishError> {
        self.multi_publish_async(topic, bodies).await?.await
    }

    /// Queues an MPUB; the returned [`PendingAck`] completes with nsqd's answer.
    pub async fn multi_publish_async(
        &self,
        topic: &str,
        bodies: Vec<Bytes>,
    ) -> Result<PendingAck, PublishError> {
        if bodies.is_empty() {
            return Err(PublishError::NoMessages);
        }
        check(topic, &bodies)?;
        self.queue(Command::Mpub {
            topic: topic.to_string(),
            bodies,
        })
        .await
    }

    /// Publishes a message that nsqd delivers after `delay` (DPUB), waiting for the acknowledgement.
    pub async fn deferred_publish(
        &self,
        topic: &str,
        delay: Duration,
        body: impl Into<Bytes>,
    ) -> Result<(), PublishError> {
        self.deferred_publish_async(topic, delay, body).await?.await
    }

    /// Queues a DPUB; the returned [`PendingAck`] completes with nsqd's answer.
    pub async fn deferred_publish_async(
        &self,
        topic: &str,
        delay: Duration,
        body: impl Into<Bytes>,
    ) -> Result<PendingAck, PublishError> {
        let body = body.into();
        check(topic, std::slice::from_ref(&body))?;
        let defer_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.queue(Command::Dpub {
            topic: topic.to_string(),
            defer_ms,
            body,
        })
        .await
    }

    /// Waits (briefly) for outstanding acknowledgements, then closes the
    /// connection. Later publishes fail with [`PublishError::Stopped`].
    pub async fn stop(&self) {
        self.stopped
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let live = self.live.lock().await.take();
        if let Some(Live { tx, mut task }) = live {
            drop(tx);
            if tokio::time::timeout(STOP_DRAIN, &mut task).await.is_err() {
                task.abort();
            }
        }
    }

    async fn queue(&self, cmd: Command) -> Result<PendingAck, PublishError> {
        let (ack, rx) = oneshot::channel();
        let mut request = Request { cmd, ack };
        // A connection found dead when sending is replaced once.
        for _ in 0..2 {
            let tx = self.sender().await?;
            match tx.send(request) {
                Ok(()) => {
                    return Ok(PendingAck {
                        rx,
                        addr: self.addr.clone(),
                    })
                }
                Err(mpsc::error::SendError(back)) => request = back,
            }
        }
        Err(PublishError::ConnectionLost {
            addr: self.addr.clone(),
        })
    }

    async fn sender(&self) -> Result<mpsc::UnboundedSender<Request>, PublishError> {
        let mut live = self.live.lock().await;
        if self.stopped.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(PublishError::Stopped);
        }
        if let Some(l) = live.as_ref() {
            if !l.tx.is_closed() {
                return Ok(l.tx.clone());
            }
        }
        let hs = conn::open(&self.addr, &self.config).await?;
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(run(
            hs.conn,
            rx,
            self.addr.clone(),
            self.config.read_timeout,
        ));
        *live = Some(Live {
            tx: tx.clone(),
            task,
        });
        Ok(tx)
    }
}

impl Drop for Producer {
    fn drop(&mut self) {
        if let Ok(mut live) = self.live.try_lock() {
            if let Some(l) = live.take() {
                l.task.abort();
            }
        }
    }
}

fn check(topic: &str, bodies: &[Bytes]) -> Result<(), PublishError> {
    if !is_valid_topic_name(topic) {
        return Err(PublishError::InvalidTopic(topic.to_string()));
    }
    if bodies.iter().any(|b| b.is_empty()) {
        return Err(PublishError::EmptyBody);
    }
    Ok(())
}

/// The connection task: writes queued commands, matches answers to them in
/// order, answers heartbeats. Ends when the connection breaks or, after the
/// producer let go of its sender, once every publish is answered.
async fn run(
    mut conn: FramedConn,
    mut rx: mpsc::UnboundedReceiver<Request>,
    addr: String,
    read_timeout: Duration,
) {
    let mut pending: VecDeque<Ack> = VecDeque::new();
    let mut draining = false;
    let lost = || PublishError::ConnectionLost { addr: addr.clone() };
    loop {
        if draining && pending.is_empty() {
            break;
        }
        tokio::select! {
            req = rx.recv(), if !draining => match req {
                None => draining = true,
                Some(first) => {
                    let mut batch = vec![first];
                    while let Ok(more) = rx.try_recv() {
                        batch.push(more);
                    }
                    let mut failed = false;
                    for Request { cmd, ack } in batch {
                        if failed || conn.feed(cmd).await.is_err() {
                            failed = true;
                            let _ = ack.send(Err(lost()));
                        } else {
                            pending.push_back(ack);
                        }
                    }
                    if failed || conn.flush().await.is_err() {
                        break;
                    }
                }
            },
            frame = tokio::time::timeout(read_timeout, conn.next()) => match frame {
                Ok(Some(Ok(Frame::Response(data)))) if data == HEARTBEAT => {
                    if conn.send(Command::Nop).await.is_err() {
                        break;
                    }
                }
                Ok(Some(Ok(Frame::Response(_)))) => {
                    if let Some(ack) = pending.pop_front() {
                        let _ = ack.send(Ok(()));
                    }
                }
                Ok(Some(Ok(Frame::Error(data)))) => {
                    let error = String::from_utf8_lossy(&data).into_owned();
                    tracing::warn!("nsqd at {addr} answered: {error}");
                    if let Some(ack) = pending.pop_front() {
                        let _ = ack.send(Err(PublishError::Rejected { addr: addr.clone(), error }));
                    }
                }
                Ok(Some(Ok(Frame::Message(_)))) => {}
                Ok(Some(Err(e))) => {
                    tracing::warn!("connection to nsqd at {addr} failed: {e}");
                    break;
                }
                Ok(None) => break,
                Err(_) => {
                    tracing::warn!("nsqd at {addr} sent nothing for {read_timeout:?}; reconnecting on the next publish");
                    break;
                }
            },
        }
    }
    for ack in pending {
        let _ = ack.send(Err(lost()));
    }
    // Requests queued after the break get the same answer.
    rx.close();
    while let Ok(Request { ack, .. }) = rx.try_recv() {
        let _ = ack.send(Err(lost()));
    }
    let _ = conn.close().await;
}
