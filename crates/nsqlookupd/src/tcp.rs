//! The TCP side: nsqd connections speaking the V1 lookup protocol.

use crate::registration_db::{now_ns, PeerInfo, Registration};
use crate::Context;
use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use nsq_protocol::lookup::{
    LookupCommand, LookupDecodeError, LookupError, LookupServerCodec, PeerIdentity, OK,
};
use nsq_protocol::names::is_ephemeral;
use nsq_protocol::MAGIC_V1;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_util::codec::Framed;

/// Accepts nsqd connections until `shutdown`, then closes them all.
pub(crate) async fn serve(
    listener: TcpListener,
    ctx: Arc<Context>,
    shutdown: impl Future<Output = ()>,
) {
    let mut clients = JoinSet::new();
    let mut backoff = Duration::ZERO;
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, remote)) => {
                    backoff = Duration::ZERO;
                    tracing::info!("TCP: new client({remote})");
                    clients.spawn(handle(stream, remote, ctx.clone()));
                }
                Err(e) => {
                    backoff = (backoff * 2).clamp(Duration::from_millis(5), Duration::from_secs(1));
                    tracing::error!("temporary Accept() failure - {e}");
                    tokio::time::sleep(backoff).await;
                }
            },
            Some(_) = clients.join_next(), if !clients.is_empty() => {}
        }
    }
    clients.shutdown().await;
}

async fn handle(mut stream: TcpStream, remote: SocketAddr, ctx: Arc<Context>) {
    let mut magic = [0u8; 4];
    if let Err(e) = stream.read_exact(&mut magic).await {
        tracing::error!("client({remote}) failed to read protocol version - {e}");
        return;
    }
    let magic_text = String::from_utf8_lossy(&magic).into_owned();
    tracing::info!("CLIENT({remote}): desired protocol magic '{magic_text}'");
    if &magic != MAGIC_V1 {
        tracing::error!("client({remote}) bad protocol magic '{magic_text}'");
        let payload = LookupError::BadProtocol(magic.to_vec()).wire_payload();
        let mut frame = (payload.len() as u32).to_be_bytes().to_vec();
        frame.extend_from_slice(&payload);
        let _ = stream.write_all(&frame).await;
        return;
    }
    let mut conn = Connection {
        remote,
        ctx,
        peer: None,
    };
    let mut framed = Framed::new(stream, LookupServerCodec::after_magic());
    while let Some(next) = framed.next().await {
        let reply = match next {
            Ok(cmd) => conn.execute(cmd),
            Err(LookupDecodeError::Protocol(e)) => Err(e),
            Err(e @ LookupDecodeError::LineTooLong(_)) => {
                tracing::error!("[{remote}] - {e}; closing");
                break;
            }
            Err(LookupDecodeError::Io(e)) => {
                tracing::debug!("[{remote}] - read error: {e}");
                break;
            }
        };
        match reply {
            Ok(payload) => {
                if framed.send(payload).await.is_err() {
                    break;
                }
            }
            Err(e) => {
                tracing::error!("[{remote}] - {e}");
                let _ = framed.send(Bytes::from(e.wire_payload())).await;
                break;
            }
        }
    }
    tracing::info!("PROTOCOL(V1): [{remote}] exiting ioloop");
    conn.disconnect();
}

/// The state of one nsqd connection.
struct Connection {
    remote: SocketAddr,
    ctx: Arc<Context>,
    peer: Option<Arc<PeerInfo>>,
}

impl Connection {
    fn execute(&mut self, cmd: LookupCommand) -> Result<Bytes, LookupError> {
        match cmd {
            LookupCommand::Ping => {
                if let Some(peer) = &self.peer {
                    let now = now_ns();
                    let since =
                        Duration::from_nanos(now.saturating_sub(peer.last_update()).max(0) as u64);
                    tracing::info!(
                        "CLIENT({}): pinged (last ping {})",
                        peer.id,
                        nsq_http::go_duration(since)
                    );
                    peer.touch(now);
                }
                Ok(Bytes::from_static(OK))
            }
            LookupCommand::Identify(identity) => Ok(self.identify(identity)),
            LookupCommand::Register { topic, channel } => {
                let peer = self.peer.clone().ok_or(LookupError::MustIdentify)?;
                if let Some(channel) = &channel {
                    self.add(Registration::channel(&topic, channel), &peer);
                }
                self.add(Registration::topic(&topic), &peer);
                Ok(Bytes::from_static(OK))
            }
            LookupCommand::Unregister { topic, channel } => {
                let peer = self.peer.clone().ok_or(LookupError::MustIdentify)?;
                self.unregister(&peer, &topic, channel.as_deref());
                Ok(Bytes::from_static(OK))
            }
        }
    }

    fn identify(&mut self, identity: PeerIdentity) -> Bytes {
        tracing::info!(
            "CLIENT({}): IDENTIFY Address:{} TCP:{} HTTP:{} Version:{}",
            self.remote,
            identity.broadcast_address,
            identity.tcp_port,
            identity.http_port,
            identity.version
        );
        let peer = Arc::new(PeerInfo::new(self.remote.to_string(), identity, now_ns()));
        self.add(Registration::client(), &peer);
        self.peer = Some(peer);
        let ours = PeerIdentity {
            broadcast_address: self.ctx.opts.broadcast_address.clone(),
            hostname: self.ctx.hostname.clone(),
            http_port: i64::from(self.ctx.http_addr.port()),
            tcp_port: i64::from(self.ctx.tcp_addr.port()),
            version: crate::VERSION.to_string(),
        };
        Bytes::from(ours.to_json())
    }

    fn add(&self, reg: Registration, peer: &Arc<PeerInfo>) {
        if self.ctx.db.add_producer(reg.clone(), peer) {
            log_db(self.remote, "REGISTER", &reg);
        }
    }

    fn unregister(&self, peer: &PeerInfo, topic: &str, channel: Option<&str>) {
        let db = &self.ctx.db;
        if let Some(channel) = channel {
            let reg = Registration::channel(topic, channel);
            let (removed, left) = db.remove_producer(&reg, &peer.id);
            if removed {
                log_db(self.remote, "UNREGISTER", &reg);
            }
            if left == 0 && is_ephemeral(channel) {
                db.remove_registration(&reg);
            }
            return;
        }
        // A topic UNREGISTER also drops this peer from the topic's channels;
        // nsqd unregisters channels first, so anything removed here is unusual.
        for reg in db.find_registrations(crate::registration_db::Category::Channel, topic, "*") {
            if db.remove_producer(&reg, &peer.id).0 {
                tracing::warn!(
                    "client({}) unexpected UNREGISTER category:{} key:{} subkey:{}",
                    self.remote,
                    reg.category.as_str(),
                    reg.key,
                    reg.subkey
                );
            }
        }
        let reg = Registration::topic(topic);
        let (removed, left) = db.remove_producer(&reg, &peer.id);
        if removed {
            log_db(self.remote, "UNREGISTER", &reg);
        }
        if left == 0 && is_ephemeral(topic) {
            db.remove_registration(&reg);
        }
    }

    /// The connection closed: the peer leaves every registration (which stay).
    fn disconnect(&mut self) {
        let Some(peer) = self.peer.take() else {
            return;
        };
        for reg in self.ctx.db.lookup_registrations(&peer.id) {
            if self.ctx.db.remove_producer(&reg, &peer.id).0 {
                log_db(self.remote, "UNREGISTER", &reg);
            }
        }
    }
}

fn log_db(remote: SocketAddr, what: &str, reg: &Registration) {
    tracing::info!(
        "DB: client({remote}) {what} category:{} key:{} subkey:{}",
        reg.category.as_str(),
        reg.key,
        reg.subkey
    );
}
