//! `null-server`: a V2 server that does as little as possible, so running a
//! bench client against it measures the client's own ceiling.
//!
//! Commands are decoded with the protocol crate's [`ServerCodec`] (the same
//! parsing nsqd does) and then: IDENTIFY, SUB, PUB, MPUB, DPUB are answered
//! `OK`; RDY sets the connection's credit; FIN and REQ return credit and are
//! counted; CLS answers `CLOSE_WAIT`. A subscribed connection is sent
//! pre-built message frames (`--size`-byte bodies, copied from one buffer)
//! whenever it has credit, so a reader is limited only by how fast it
//! can read and FIN.
//!
//! With `--relay`, subscribed connections get no pre-built stream; instead
//! every published message is forwarded at once (unbuffered) to one
//! subscriber of its topic, which gives the latency mode's floor.
//!
//! The server logs `TCP: listening on <addr>` on stderr (like nsqd), prints
//! its counters when it gets SIGTERM or SIGINT, and exits by itself after
//! `--max-lifetime`.

use crate::conn::Result;
use bytes::{Buf, Bytes, BytesMut};
use nsq_protocol::codec::{ClientState, CodecLimits, DecodeError};
use nsq_protocol::{frame, Command, Message, MessageId, ServerCodec, MAGIC_V2};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// Pre-built message frames appended per refill.
const FRAMES_PER_CHUNK: usize = 256;
/// Do not queue more output than this per connection.
const OUT_HIGH: usize = 256 * 1024;
/// Read buffer size per connection.
const READ_CHUNK: usize = 64 * 1024;
/// Relay queue depth per subscriber (messages beyond it are dropped and counted).
const RELAY_DEPTH: usize = 4096;

/// How the null server runs.
#[derive(Debug, Clone)]
pub struct NullConfig {
    /// Address to listen on (`127.0.0.1:0` picks a free port).
    pub bind: String,
    /// Body size of the pre-built messages.
    pub size: usize,
    /// Forward published messages to subscribers instead of streaming pre-built ones.
    pub relay: bool,
    /// Exit after this long, whatever happens.
    pub max_lifetime: Duration,
    /// Largest RDY accepted.
    pub max_rdy_count: u64,
}

#[derive(Default)]
struct Counters {
    connections: AtomicU64,
    published: AtomicU64,
    sent: AtomicU64,
    fins: AtomicU64,
    dropped: AtomicU64,
}

#[derive(Default)]
struct Relay {
    subscribers: Mutex<HashMap<String, Vec<mpsc::Sender<Bytes>>>>,
    next: AtomicUsize,
    ids: AtomicU64,
}

impl Relay {
    fn subscribe(&self, topic: &str) -> mpsc::Receiver<Bytes> {
        let (tx, rx) = mpsc::channel(RELAY_DEPTH);
        if let Ok(mut subs) = self.subscribers.lock() {
            let list = subs.entry(topic.to_string()).or_default();
            list.retain(|s| !s.is_closed());
            list.push(tx);
        }
        rx
    }

    /// Sends `body` as a message frame to one subscriber of `topic`;
    /// false if it had to be dropped (no subscriber or queue full).
    fn forward(&self, topic: &str, body: &Bytes) -> bool {
        let Ok(subs) = self.subscribers.lock() else {
            return false;
        };
        let Some(list) = subs.get(topic).filter(|l| !l.is_empty()) else {
            return false;
        };
        let pick = self.next.fetch_add(1, Ordering::Relaxed) % list.len();
        let msg = Message {
            id: MessageId::from_u64(self.ids.fetch_add(1, Ordering::Relaxed)),
            timestamp: unix_nanos(),
            attempts: 1,
            body: body.clone(),
        };
        let mut buf = BytesMut::with_capacity(8 + msg.encoded_len());
        frame::write_message(&mut buf, &msg);
        list[pick].try_send(buf.freeze()).is_ok()
    }
}

fn unix_nanos() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

/// `FRAMES_PER_CHUNK` message frames back to back, and the size of one.
fn prebuilt_frames(size: usize) -> (Bytes, usize) {
    let body = Bytes::from(vec![0u8; size]);
    let now = unix_nanos();
    let mut buf = BytesMut::new();
    for i in 0..FRAMES_PER_CHUNK {
        let msg = Message {
            id: MessageId::from_u64(i as u64),
            timestamp: now,
            attempts: 1,
            body: body.clone(),
        };
        frame::write_message(&mut buf, &msg);
    }
    let len = buf.len() / FRAMES_PER_CHUNK;
    (buf.freeze(), len)
}

struct Shared {
    cfg: NullConfig,
    counters: Counters,
    relay: Relay,
    frames: Bytes,
    frame_len: usize,
}

/// Runs the server until SIGTERM/SIGINT or `max_lifetime`.
pub async fn run(cfg: NullConfig) -> Result<()> {
    let listener = TcpListener::bind(&cfg.bind)
        .await
        .map_err(|e| format!("listen on {}: {e}", cfg.bind))?;
    let local = listener
        .local_addr()
        .map_err(|e| format!("local_addr: {e}"))?;
    eprintln!("[null-server] TCP: listening on {local}");
    let (frames, frame_len) = prebuilt_frames(cfg.size.max(1));
    let shared = Arc::new(Shared {
        cfg,
        counters: Counters::default(),
        relay: Relay::default(),
        frames,
        frame_len,
    });
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| format!("signal handler: {e}"))?;
    let lifetime = tokio::time::sleep(shared.cfg.max_lifetime);
    tokio::pin!(lifetime);
    loop {
        tokio::select! {
            _ = &mut lifetime => break,
            _ = term.recv() => break,
            _ = tokio::signal::ctrl_c() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    shared.counters.connections.fetch_add(1, Ordering::Relaxed);
                    let shared = shared.clone();
                    tokio::spawn(async move {
                        let _ = serve(stream, &shared).await;
                    });
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            },
        }
    }
    let c = &shared.counters;
    eprintln!(
        "[null-server] connections: {} - published: {} - sent: {} - fins: {} - relay drops: {}",
        c.connections.load(Ordering::Relaxed),
        c.published.load(Ordering::Relaxed),
        c.sent.load(Ordering::Relaxed),
        c.fins.load(Ordering::Relaxed),
        c.dropped.load(Ordering::Relaxed),
    );
    Ok(())
}

/// Per-connection state.
struct Conn {
    rdy: u64,
    in_flight: u64,
    subscribed: bool,
    relay_rx: Option<mpsc::Receiver<Bytes>>,
    published: u64,
    sent: u64,
    fins: u64,
    dropped: u64,
}

async fn serve(mut stream: TcpStream, shared: &Shared) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut magic = [0u8; 4];
    tokio::time::timeout(Duration::from_secs(10), stream.read_exact(&mut magic))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "no magic"))??;
    let mut out = BytesMut::with_capacity(READ_CHUNK);
    if &magic != MAGIC_V2 {
        frame::write_error(&mut out, b"E_BAD_PROTOCOL");
        stream.write_all(&out).await?;
        return Ok(());
    }
    let mut codec = ServerCodec::new(CodecLimits {
        max_rdy_count: shared.cfg.max_rdy_count,
        ..CodecLimits::default()
    });
    let mut rbuf = BytesMut::with_capacity(READ_CHUNK);
    let mut conn = Conn {
        rdy: 0,
        in_flight: 0,
        subscribed: false,
        relay_rx: None,
        published: 0,
        sent: 0,
        fins: 0,
        dropped: 0,
    };
    let (mut rd, mut wr) = stream.split();
    let result = loop {
        // Handle every complete command received so far.
        let mut fatal = false;
        loop {
            let decoded = codec.decode_next(&mut rbuf);
            match decoded {
                Ok(Some(cmd)) => handle(cmd, &mut codec, &mut conn, &mut out, shared),
                Ok(None) => break,
                Err(DecodeError::Protocol(e)) => {
                    frame::write_error(&mut out, e.wire_text().as_bytes());
                    fatal = true;
                    break;
                }
                Err(_) => {
                    fatal = true;
                    break;
                }
            }
        }
        flush_counters(&mut conn, shared);
        if fatal {
            let _ = wr.write_all(&out).await;
            break Ok(());
        }
        // Refill the stream of pre-built messages while there is credit.
        if conn.subscribed && conn.relay_rx.is_none() && out.len() < OUT_HIGH {
            let credit = conn.rdy.saturating_sub(conn.in_flight) as usize;
            let n = credit.min(FRAMES_PER_CHUNK);
            if n > 0 {
                out.extend_from_slice(&shared.frames[..n * shared.frame_len]);
                conn.in_flight += n as u64;
                conn.sent += n as u64;
            }
        }
        if rbuf.capacity() - rbuf.len() < READ_CHUNK / 4 {
            rbuf.reserve(READ_CHUNK);
        }
        let relaying = conn.relay_rx.is_some();
        tokio::select! {
            r = rd.read_buf(&mut rbuf) => match r {
                Ok(0) => break Ok(()),
                Ok(_) => {}
                Err(e) => break Err(e),
            },
            r = wr.write(&out), if !out.is_empty() => match r {
                Ok(n) => {
                    out.advance(n);
                    if out.is_empty() {
                        out.clear();
                    }
                }
                Err(e) => break Err(e),
            },
            m = recv_relay(&mut conn.relay_rx), if relaying => match m {
                Some(frame_bytes) => {
                    out.extend_from_slice(&frame_bytes);
                    conn.sent += 1;
                }
                None => conn.relay_rx = None,
            },
        }
    };
    flush_counters(&mut conn, shared);
    result
}

async fn recv_relay(rx: &mut Option<mpsc::Receiver<Bytes>>) -> Option<Bytes> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

fn flush_counters(conn: &mut Conn, shared: &Shared) {
    let c = &shared.counters;
    for (local, global) in [
        (&mut conn.published, &c.published),
        (&mut conn.sent, &c.sent),
        (&mut conn.fins, &c.fins),
        (&mut conn.dropped, &c.dropped),
    ] {
        if *local > 0 {
            global.fetch_add(*local, Ordering::Relaxed);
            *local = 0;
        }
    }
}

fn handle(
    cmd: Command,
    codec: &mut ServerCodec,
    conn: &mut Conn,
    out: &mut BytesMut,
    shared: &Shared,
) {
    match cmd {
        Command::Identify(_) => frame::write_response(out, frame::OK),
        Command::Auth(_) => frame::write_error(out, b"E_AUTH_DISABLED AUTH disabled"),
        Command::Sub { topic, .. } => {
            codec.context.state = ClientState::Subscribed;
            conn.subscribed = true;
            if shared.cfg.relay {
                conn.relay_rx = Some(shared.relay.subscribe(&topic));
            }
            frame::write_response(out, frame::OK);
        }
        Command::Pub { topic, body } | Command::Dpub { topic, body, .. } => {
            conn.published += 1;
            if shared.cfg.relay && !shared.relay.forward(&topic, &body) {
                conn.dropped += 1;
            }
            frame::write_response(out, frame::OK);
        }
        Command::Mpub { topic, bodies } => {
            conn.published += bodies.len() as u64;
            if shared.cfg.relay {
                for body in &bodies {
                    if !shared.relay.forward(&topic, body) {
                        conn.dropped += 1;
                    }
                }
            }
            frame::write_response(out, frame::OK);
        }
        Command::Rdy(n) => conn.rdy = n,
        Command::Fin(_) => {
            conn.in_flight = conn.in_flight.saturating_sub(1);
            conn.fins += 1;
        }
        Command::Req { .. } => conn.in_flight = conn.in_flight.saturating_sub(1),
        Command::Touch(_) | Command::Nop => {}
        Command::Cls => {
            codec.context.state = ClientState::Closing;
            frame::write_response(out, frame::CLOSE_WAIT);
        }
    }
}

/// `decode` plus clearing the MPUB-topic notice the codec keeps.
trait DecodeNext {
    fn decode_next(
        &mut self,
        buf: &mut BytesMut,
    ) -> std::result::Result<Option<Command>, DecodeError>;
}

impl DecodeNext for ServerCodec {
    fn decode_next(
        &mut self,
        buf: &mut BytesMut,
    ) -> std::result::Result<Option<Command>, DecodeError> {
        use tokio_util::codec::Decoder;
        let r = self.decode(buf);
        let _ = self.take_mpub_topic();
        r
    }
}
