//! One V2 connection: the event loop that reads commands, sends messages
//! while the client has RDY credit, buffers output, and keeps heartbeats.
//!
//! Commands are handled in `handlers.rs`; this file owns the socket, the
//! output buffer and the timers.

use crate::channel::{Channel, ConsumerHandle};
use crate::client_stats::ClientStats;
use crate::nsqd::Nsqd;
use crate::topic::Topic;
use bytes::BytesMut;
use futures::{FutureExt, StreamExt};

/// Commands applied back to back, without waiting, before messages are sent.
const MAX_COMMANDS_PER_BATCH: usize = 256;
/// Encoded message frames buffered before they are written out, at least
/// (a larger output buffer size raises it).
const MAX_UNFLUSHED: usize = 256 * 1024;
use nsq_protocol::codec::{CodecLimits, DecodeError, ServerCodec};
use nsq_protocol::{frame, Message, ProtocolError};
use nsq_transport::BoxedIo;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::sync::Notify;
use tokio::time::{Instant, Sleep};
use tokio_util::codec::FramedRead;

/// The read half of the connection's stream (plain, TLS, compressed...).
pub(super) type Reader = ReadHalf<BoxedIo>;
/// The write half.
pub(super) type Writer = WriteHalf<BoxedIo>;

/// Per-connection settings negotiated by IDENTIFY.
#[derive(Debug, Clone)]
pub(super) struct ConnSettings {
    pub heartbeat_interval: Option<Duration>,
    pub output_buffer_size: usize,
    pub output_buffer_timeout: Duration,
    pub msg_timeout: Duration,
    pub sample_rate: i32,
}

/// The channel a consumer is subscribed to.
pub(super) struct Subscription {
    pub topic: Arc<Topic>,
    pub channel: Arc<Channel>,
}

/// Why the event loop stops.
pub(super) enum Exit {
    /// Client closed, I/O error or timeout.
    Closed,
    /// A fatal protocol error was sent.
    Fatal,
}

pub(super) struct Connection {
    pub nsqd: Arc<Nsqd>,
    /// `ip:port` of the peer (`unix` for a unix socket), for logs.
    pub remote: String,
    /// The peer address (`None` for a unix socket).
    pub peer: Option<SocketAddr>,
    /// Authorization from AUTH, when an auth server is configured.
    pub auth: Option<crate::auth::AuthState>,
    /// The TLS upgrade happened.
    pub tls_active: bool,
    /// The client certificate's common name (AUTH's `common_name`).
    pub tls_common_name: String,
    /// The AUTH secret, kept to re-query the auth server when the TTL passes.
    pub auth_secret: String,
    pub stats: Arc<ClientStats>,
    pub reader: FramedRead<Reader, ServerCodec>,
    pub writer: Writer,
    pub out: BytesMut,
    pub settings: ConnSettings,
    pub sub: Option<Subscription>,
    pub rdy: u64,
    pub wake: Arc<Notify>,
    pub close: Arc<Notify>,
    /// Set when the client may have messages to take.
    pub want_messages: bool,
    /// When the buffered message frames must be flushed at the latest.
    pub flush_at: Option<Instant>,
    pub last_read: Instant,
    pub scratch: Vec<Message>,
    /// Settings from the last IDENTIFY (a repeated IDENTIFY keeps what it omits).
    pub negotiated: Option<nsq_protocol::NegotiatedSettings>,
}

impl Connection {
    /// Runs the V2 protocol on an accepted socket (magic already read).
    pub async fn run(nsqd: Arc<Nsqd>, stream: BoxedIo, peer: Option<SocketAddr>) {
        let (rd, wr) = tokio::io::split(stream);
        let limits = CodecLimits {
            max_msg_size: nsqd.opts.max_msg_size.max(0) as u64,
            max_body_size: nsqd.opts.max_body_size.max(0) as u64,
            max_rdy_count: nsqd.opts.max_rdy_count.max(0) as u64,
            max_req_timeout_ms: nsqd.opts.max_req_timeout.as_millis() as u64,
        };
        let stats = nsqd.add_client(peer);
        let default_hb = nsqd.opts.client_timeout / 2;
        let mut codec = ServerCodec::new(limits);
        codec.context.tls_required_pending =
            nsqd.opts.tls_required != crate::options::TlsRequired::No;
        let mut conn = Connection {
            remote: super::peer_label(peer),
            peer,
            auth: None,
            tls_active: false,
            tls_common_name: String::new(),
            auth_secret: String::new(),
            stats,
            reader: FramedRead::with_capacity(rd, codec, 16 * 1024),
            writer: wr,
            out: BytesMut::with_capacity(16 * 1024),
            settings: ConnSettings {
                heartbeat_interval: Some(default_hb),
                output_buffer_size: 16 * 1024,
                output_buffer_timeout: nsqd.opts.output_buffer_timeout,
                msg_timeout: nsqd.opts.msg_timeout,
                sample_rate: 0,
            },
            sub: None,
            rdy: 0,
            wake: Arc::new(Notify::new()),
            close: Arc::new(Notify::new()),
            want_messages: false,
            flush_at: None,
            last_read: Instant::now(),
            scratch: Vec::new(),
            negotiated: None,
            nsqd,
        };
        let exit = conn.event_loop().await;
        if let Exit::Fatal = exit {
            tracing::debug!("PROTOCOL(V2): [{}] closing after fatal error", conn.remote);
        }
        let _ = conn.flush().await;
        let _ = conn.writer.shutdown().await;
        conn.cleanup();
        tracing::info!("PROTOCOL(V2): [{}] exiting ioloop", conn.remote);
    }

    async fn event_loop(&mut self) -> Exit {
        let mut heartbeat = self.new_heartbeat_timer();
        let mut read_timer: Pin<Box<Sleep>> =
            Box::pin(tokio::time::sleep(Duration::from_secs(3600)));
        let mut flush_timer: Pin<Box<Sleep>> =
            Box::pin(tokio::time::sleep(Duration::from_secs(3600)));
        let mut hb_setting = self.settings.heartbeat_interval;
        self.arm_read_timer(read_timer.as_mut());
        let shutdown = self.nsqd.shutdown.clone();
        loop {
            if self.want_messages {
                if let Err(e) = self.send_messages().await {
                    tracing::debug!("PROTOCOL(V2): [{}] write failed - {e}", self.remote);
                    return Exit::Closed;
                }
                if let Some(at) = self.flush_at {
                    flush_timer.as_mut().reset(at);
                }
            }
            if hb_setting != self.settings.heartbeat_interval {
                hb_setting = self.settings.heartbeat_interval;
                heartbeat = self.new_heartbeat_timer();
                self.arm_read_timer(read_timer.as_mut());
            }
            let hb_enabled = self.settings.heartbeat_interval.is_some();
            let flush_pending = self.flush_at.is_some();
            let subscribed = self.sub.is_some();
            tokio::select! {
                biased;
                _ = shutdown.cancelled() => return Exit::Closed,
                _ = self.close.notified() => return Exit::Closed,
                item = self.reader.next() => {
                    self.last_read = Instant::now();
                    if let Err(exit) = self.handle_read(item).await {
                        return exit;
                    }
                    // Apply every command that is already here (a burst of FINs)
                    // before sending more messages, so they go out in one write.
                    for _ in 0..MAX_COMMANDS_PER_BATCH {
                        let Some(item) = self.reader.next().now_or_never() else {
                            break;
                        };
                        if let Err(exit) = self.handle_read(item).await {
                            return exit;
                        }
                    }
                }
                _ = self.wake.notified(), if subscribed => {
                    self.want_messages = true;
                }
                _ = flush_timer.as_mut(), if flush_pending => {
                    if self.flush().await.is_err() {
                        return Exit::Closed;
                    }
                }
                _ = heartbeat.tick(), if hb_enabled => {
                    self.out_response(frame::HEARTBEAT);
                    if self.flush().await.is_err() {
                        return Exit::Closed;
                    }
                }
                _ = read_timer.as_mut(), if hb_enabled => {
                    let deadline = self.read_deadline();
                    if Instant::now() >= deadline {
                        tracing::error!(
                            "PROTOCOL(V2): [{}] read timeout - no command for {:?}",
                            self.remote,
                            deadline - self.last_read
                        );
                        return Exit::Closed;
                    }
                    read_timer.as_mut().reset(deadline);
                }
            }
        }
    }

    /// Handles one item from the command stream; `Err` ends the connection.
    async fn handle_read(
        &mut self,
        item: Option<Result<nsq_protocol::Command, DecodeError>>,
    ) -> Result<(), Exit> {
        match item {
            Some(Ok(cmd)) => self.handle_command(cmd).await,
            Some(Err(DecodeError::Protocol(e))) => {
                let _ = self.send_error(&e).await;
                Err(Exit::Fatal)
            }
            Some(Err(DecodeError::LineTooLong)) => {
                tracing::error!("PROTOCOL(V2): [{}] command line too long", self.remote);
                Err(Exit::Closed)
            }
            Some(Err(DecodeError::Io(_))) | None => Err(Exit::Closed),
        }
    }

    fn new_heartbeat_timer(&self) -> tokio::time::Interval {
        let every = self
            .settings
            .heartbeat_interval
            .unwrap_or(Duration::from_secs(3600));
        let mut iv = tokio::time::interval_at(Instant::now() + every, every);
        iv.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        iv
    }

    fn read_deadline(&self) -> Instant {
        let hb = self
            .settings
            .heartbeat_interval
            .unwrap_or(Duration::from_secs(3600));
        self.last_read + hb * 2
    }

    fn arm_read_timer(&self, timer: Pin<&mut Sleep>) {
        timer.reset(self.read_deadline());
    }

    /// Takes messages from the channel while the client has credit and writes them out.
    async fn send_messages(&mut self) -> std::io::Result<()> {
        self.want_messages = false;
        let Some(sub) = &self.sub else { return Ok(()) };
        if self.rdy == 0 {
            return Ok(());
        }
        self.scratch.clear();
        let outcome = sub.channel.take(
            self.stats.id,
            self.rdy,
            self.settings.sample_rate,
            self.settings.msg_timeout,
            &mut self.scratch,
        );
        // Write out in chunks while encoding: a client that does not read
        // must not make nsqd hold a copy of all RDY messages in `out` (the
        // bodies are already shared with the channel's in-flight records).
        let chunk = self.settings.output_buffer_size.max(MAX_UNFLUSHED);
        let mut taken = std::mem::take(&mut self.scratch);
        let mut written = Ok(());
        for msg in taken.drain(..) {
            frame::write_message(&mut self.out, &msg);
            if self.out.len() >= chunk {
                written = self.flush().await;
                if written.is_err() {
                    break;
                }
            }
        }
        taken.clear();
        self.scratch = taken;
        written?;
        if outcome.full
            || self.out.len() >= self.settings.output_buffer_size
            || self.settings.output_buffer_timeout.is_zero()
        {
            self.flush().await?;
        } else if !self.out.is_empty() && self.flush_at.is_none() {
            self.flush_at = Some(Instant::now() + self.settings.output_buffer_timeout);
        }
        Ok(())
    }

    /// Appends a response frame to the output buffer.
    pub(super) fn out_response(&mut self, data: &[u8]) {
        frame::write_response(&mut self.out, data);
    }

    /// Sends a response frame at once.
    pub(super) async fn send_response(&mut self, data: &[u8]) -> std::io::Result<()> {
        self.out_response(data);
        self.flush().await
    }

    /// Sends an error frame at once.
    pub(super) async fn send_error(&mut self, err: &ProtocolError) -> std::io::Result<()> {
        if err.is_fatal() {
            tracing::error!("PROTOCOL(V2): [{}] {}", self.remote, err.wire_text());
        } else {
            tracing::warn!("PROTOCOL(V2): [{}] {}", self.remote, err.wire_text());
        }
        frame::write_error(&mut self.out, err.wire_text().as_bytes());
        self.flush().await
    }

    /// Writes out everything buffered, within the write deadline (one heartbeat interval).
    pub(super) async fn flush(&mut self) -> std::io::Result<()> {
        self.flush_at = None;
        if self.out.is_empty() {
            return Ok(());
        }
        let write = async {
            self.writer.write_all(&self.out).await?;
            self.writer.flush().await
        };
        let result = match self.settings.heartbeat_interval {
            Some(limit) => match tokio::time::timeout(limit, write).await {
                Ok(r) => r,
                Err(_) => Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "write deadline exceeded",
                )),
            },
            None => write.await,
        };
        self.out.clear();
        if self.out.capacity() > 4 * self.settings.output_buffer_size.max(16 * 1024) {
            self.out = BytesMut::with_capacity(self.settings.output_buffer_size.max(16 * 1024));
        }
        result
    }

    /// The handle a channel uses to reach this connection.
    pub(super) fn consumer_handle(&self) -> ConsumerHandle {
        ConsumerHandle {
            wake: self.wake.clone(),
            close: self.close.clone(),
            stats: self.stats.clone(),
        }
    }

    fn cleanup(&mut self) {
        if let Some(sub) = self.sub.take() {
            let ephemeral_unused = sub.channel.remove_consumer(self.stats.id);
            if ephemeral_unused || sub.topic.ephemeral {
                self.nsqd
                    .cleanup_after_consumer(&sub.topic, &sub.channel.name);
            }
        }
        self.stats.state.store(0, Ordering::Relaxed);
        self.nsqd.remove_client(self.stats.id);
    }
}
