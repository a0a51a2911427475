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
    /// `host:port` of each identified lookupd's HTTP API, by TCP address.
    http_endpoints: Arc<Mutex<HashMap<String, String>>>,
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

    /// The channels the identified lookupds know for `topic` (union), for
    /// pre-creating them when the topic appears on this node.
    pub async fn channels_of(&self, client: &nsq_http::HttpClient, topic: &str) -> Vec<String> {
        let endpoints: Vec<String> = self.http_endpoints.lock().values().cloned().collect();
        if endpoints.is_empty() {
            tracing::warn!(
                "no available nsqlookupd to query for channels to pre-create for topic {topic}"
            );
            return Vec::new();
        }
        let query = url_escape(topic);
        let lookups = endpoints.iter().map(|ep| {
            let url = format!("http://{ep}/channels?topic={query}");
            async move {
                match client.get_json::<ChannelsReply>(&url).await {
                    Ok(reply) => reply.channels.unwrap_or_default(),
                    Err(e) => {
                        tracing::warn!(
                            "failed to query nsqlookupd for channels to pre-create - {e}"
                        );
                        Vec::new()
                    }
                }
            }
        });
        let mut all: Vec<String> = futures::future::join_all(lookups)
            .await
            .into_iter()
            .flatten()
            .collect();
        all.sort();
        all.dedup();
        all
    }

    /// Makes the running peers match `addresses`: stops removed ones, starts new ones.
    pub fn set_addresses(&self, nsqd: &Arc<Nsqd>, addresses: &[String]) {
        let mut peers = self.peers.lock();
        let endpoints = self.http_endpoints.clone();
        peers.retain(|addr, peer| {
            let keep = addresses.contains(addr);
            if !keep {
                tracing::info!("LOOKUP({addr}): removing peer");
                peer.stop.cancel();
                endpoints.lock().remove(addr);
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
                self.http_endpoints.clone(),
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
async fn connect(
    nsqd: &Weak<Nsqd>,
    addr: &str,
    endpoints: &Mutex<HashMap<String, String>>,
) -> Result<Conn, PeerError> {
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
        Ok(peer) => {
            tracing::info!(
                "LOOKUPD({addr}): peer info {{TCPPort:{} HTTPPort:{} Version:{} BroadcastAddress:{}}}",
                peer.tcp_port,
                peer.http_port,
                peer.version,
                peer.broadcast_address
            );
            if !peer.broadcast_address.is_empty() && peer.http_port > 0 {
                endpoints.lock().insert(
                    addr.to_string(),
                    format!("{}:{}", peer.broadcast_address, peer.http_port),
                );
            }
        }
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
    endpoints: Arc<Mutex<HashMap<String, String>>>,
) {
    let mut backoff = Duration::from_millis(250);
    loop {
        // Events queued while disconnected are covered by the full sync on connect.
        while events.try_recv().is_ok() {}
        let mut conn = tokio::select! {
            _ = stop.cancelled() => return,
            r = connect(&nsqd, &addr, &endpoints) => match r {
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

#[derive(serde::Deserialize)]
struct ChannelsReply {
    channels: Option<Vec<String>>,
}

/// Percent-encodes a topic name for a query string (names are `[.a-zA-Z0-9_-#]`).
fn url_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'-' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
