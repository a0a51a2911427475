//! nsqd's side of nsqlookupd: one task per configured lookupd that
//! connects, IDENTIFYs, registers every topic and channel, forwards
//! REGISTER/UNREGISTER as they happen, PINGs every 15 s, and reconnects with
//! backoff when the lookupd goes away (re-registering everything).

use crate::nsqd::Nsqd;
use futures::{SinkExt, StreamExt};
use nsq_protocol::lookup::{is_error_reply, LookupClientCodec, LookupCommand, PeerIdentity};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_util::codec::Framed;
use tokio_util::sync::CancellationToken;

/// How often nsqd PINGs each lookupd.
pub const PING_INTERVAL: Duration = Duration::from_secs(15);
const DIAL_TIMEOUT: Duration = Duration::from_secs(1);
const REPLY_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_BACKOFF: Duration = Duration::from_secs(15);

/// A registration change to forward to every lookupd.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupEvent {
    /// `REGISTER topic [channel]`.
    Register(String, Option<String>),
    /// `UNREGISTER topic [channel]`.
    Unregister(String, Option<String>),
}

impl LookupEvent {
    fn command(&self) -> LookupCommand {
        match self {
            LookupEvent::Register(topic, channel) => LookupCommand::Register {
                topic: topic.clone(),
                channel: channel.clone(),
            },
            LookupEvent::Unregister(topic, channel) => LookupCommand::Unregister {
                topic: topic.clone(),
                channel: channel.clone(),
            },
        }
    }
}

struct PeerHandle {
    events: mpsc::UnboundedSender<LookupEvent>,
    stop: CancellationToken,
}

/// The set of lookupd peers; changes at run time with `PUT /config/nsqlookupd_tcp_addresses`.
#[derive(Default)]
pub struct LookupPeers {
    peers: Mutex<HashMap<String, PeerHandle>>,
}

impl std::fmt::Debug for LookupPeers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LookupPeers")
            .field("peers", &self.peers.lock().keys().collect::<Vec<_>>())
            .finish()
    }
}

impl LookupPeers {
    /// Sends an event to every peer (dropped by peers that are disconnected:
    /// they register the full state when they reconnect).
    pub fn notify(&self, event: LookupEvent) {
        for peer in self.peers.lock().values() {
            let _ = peer.events.send(event.clone());
        }
    }

    /// Makes the running peers match `addresses`: stops removed ones, starts new ones.
    pub fn set_addresses(&self, nsqd: &Arc<Nsqd>, addresses: &[String]) {
        let mut peers = self.peers.lock();
        peers.retain(|addr, peer| {
            let keep = addresses.contains(addr);
            if !keep {
                tracing::info!("LOOKUP({addr}): removing peer");
                peer.stop.cancel();
            }
            keep
        });
        for addr in addresses {
            if peers.contains_key(addr) {
                continue;
            }
            let (tx, rx) = mpsc::unbounded_channel();
            let stop = nsqd.shutdown.child_token();
            tracing::info!("LOOKUP({addr}): adding peer");
            tokio::spawn(run_peer(
                Arc::downgrade(nsqd),
                addr.clone(),
                rx,
                stop.clone(),
            ));
            peers.insert(addr.clone(), PeerHandle { events: tx, stop });
        }
    }
}

type Conn = Framed<TcpStream, LookupClientCodec>;

#[derive(Debug, thiserror::Error)]
enum PeerError {
    #[error("dial failed - {0}")]
    Dial(std::io::Error),
    #[error("dial timed out")]
    DialTimeout,
    #[error("{0}")]
    Codec(#[from] nsq_protocol::lookup::LookupClientError),
    #[error("connection closed")]
    Closed,
    #[error("no reply within {0:?}")]
    ReplyTimeout(Duration),
    #[error("nsqd is shutting down")]
    Gone,
}

async fn request(conn: &mut Conn, cmd: &LookupCommand) -> Result<bytes::Bytes, PeerError> {
    conn.send(cmd).await?;
    match tokio::time::timeout(REPLY_TIMEOUT, conn.next()).await {
        Err(_) => Err(PeerError::ReplyTimeout(REPLY_TIMEOUT)),
        Ok(None) => Err(PeerError::Closed),
        Ok(Some(r)) => Ok(r?),
    }
}

async fn send_logged(conn: &mut Conn, addr: &str, cmd: &LookupCommand) -> Result<(), PeerError> {
    let reply = request(conn, cmd).await?;
    if is_error_reply(&reply) {
        tracing::error!(
            "LOOKUPD({addr}): {cmd:?} failed - {}",
            String::from_utf8_lossy(&reply)
        );
    }
    Ok(())
}

/// Dials, IDENTIFYs and registers the whole current state.
async fn connect(nsqd: &Weak<Nsqd>, addr: &str) -> Result<Conn, PeerError> {
    let stream = tokio::time::timeout(DIAL_TIMEOUT, TcpStream::connect(addr))
        .await
        .map_err(|_| PeerError::DialTimeout)?
        .map_err(PeerError::Dial)?;
    let _ = stream.set_nodelay(true);
    let (identity, registrations, max_reply) = {
        let nsqd = nsqd.upgrade().ok_or(PeerError::Gone)?;
        (
            PeerIdentity {
                broadcast_address: nsqd.opts.broadcast_address.clone(),
                hostname: crate::options::hostname(),
                http_port: nsqd.broadcast_http_port(),
                tcp_port: nsqd.broadcast_tcp_port(),
                version: crate::VERSION.to_string(),
            },
            nsqd.registrations(),
            nsqd.opts.max_body_size.max(1024) as usize,
        )
    };
    let mut conn = Framed::new(stream, LookupClientCodec::new(max_reply));
    tracing::info!("LOOKUP({addr}): connected, sending IDENTIFY");
    let reply = request(&mut conn, &LookupCommand::Identify(identity)).await?;
    match PeerIdentity::from_go_json(&reply) {
        Ok(peer) => tracing::info!(
            "LOOKUPD({addr}): peer info {{TCPPort:{} HTTPPort:{} Version:{} BroadcastAddress:{}}}",
            peer.tcp_port,
            peer.http_port,
            peer.version,
            peer.broadcast_address
        ),
        Err(_) => {
            tracing::error!(
                "LOOKUPD({addr}): error parsing IDENTIFY response {}",
                String::from_utf8_lossy(&reply)
            );
            return Err(PeerError::Closed);
        }
    }
    for event in registrations {
        send_logged(&mut conn, addr, &event.command()).await?;
    }
    Ok(conn)
}

async fn run_peer(
    nsqd: Weak<Nsqd>,
    addr: String,
    mut events: mpsc::UnboundedReceiver<LookupEvent>,
    stop: CancellationToken,
) {
    let mut backoff = Duration::from_millis(250);
    loop {
        // Events queued while disconnected are covered by the full sync on connect.
        while events.try_recv().is_ok() {}
        let mut conn = tokio::select! {
            _ = stop.cancelled() => return,
            r = connect(&nsqd, &addr) => match r {
                Ok(c) => c,
                Err(PeerError::Gone) => return,
                Err(e) => {
                    tracing::error!("LOOKUPD({addr}): connect failed - {e}; retrying in {backoff:?}");
                    tokio::select! {
                        _ = stop.cancelled() => return,
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    continue;
                }
            },
        };
        backoff = Duration::from_millis(250);
        let mut ping =
            tokio::time::interval_at(tokio::time::Instant::now() + PING_INTERVAL, PING_INTERVAL);
        let err = loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                ev = events.recv() => match ev {
                    None => return,
                    Some(ev) => {
                        tracing::info!("LOOKUPD({addr}): {:?}", ev);
                        if let Err(e) = send_logged(&mut conn, &addr, &ev.command()).await {
                            break e;
                        }
                    }
                },
                _ = ping.tick() => {
                    if let Err(e) = send_logged(&mut conn, &addr, &LookupCommand::Ping).await {
                        break e;
                    }
                }
                unexpected = conn.next() => {
                    break match unexpected {
                        Some(Err(e)) => PeerError::Codec(e),
                        _ => PeerError::Closed,
                    };
                }
            }
        };
        tracing::error!("LOOKUPD({addr}): connection lost - {err}; reconnecting");
    }
}
