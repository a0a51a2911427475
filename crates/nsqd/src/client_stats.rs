//! Per-connection figures shared between a connection task, its channel and `/stats`.

use parking_lot::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicU8, Ordering};

/// Identifies one TCP connection for the lifetime of the process.
pub type ClientId = u64;

/// What IDENTIFY (and later AUTH/TLS) set on a connection.
#[derive(Debug, Clone, Default)]
pub struct ClientIdentity {
    /// `client_id` (the remote IP until IDENTIFY).
    pub client_id: String,
    /// `hostname` (the remote IP until IDENTIFY).
    pub hostname: String,
    /// `user_agent`.
    pub user_agent: String,
    /// Negotiated sample rate.
    pub sample_rate: i32,
    /// Deflate is active.
    pub deflate: bool,
    /// Snappy is active.
    pub snappy: bool,
    /// TLS is active.
    pub tls: bool,
    /// TLS version text (`TLS1.2`), empty without TLS.
    pub tls_version: String,
    /// TLS cipher suite name, empty without TLS.
    pub tls_cipher_suite: String,
    /// Authorized through AUTH.
    pub authed: bool,
    /// Identity from the auth server.
    pub auth_identity: String,
    /// Identity URL from the auth server.
    pub auth_identity_url: String,
}

/// Live figures of one connection, read by `/stats`.
#[derive(Debug)]
pub struct ClientStats {
    /// Process-unique id of the connection.
    pub id: ClientId,
    /// `ip:port` of the peer.
    pub remote_address: String,
    /// Connect time, Unix seconds.
    pub connect_ts: i64,
    /// IDENTIFY results.
    pub identity: Mutex<ClientIdentity>,
    /// Protocol state (0 init, 3 subscribed, 4 closing).
    pub state: AtomicU8,
    /// Last RDY value.
    pub ready_count: AtomicI64,
    /// Messages currently in flight to this client.
    pub in_flight_count: AtomicI64,
    /// Messages sent to this client.
    pub message_count: AtomicU64,
    /// FINs.
    pub finish_count: AtomicU64,
    /// REQs.
    pub requeue_count: AtomicU64,
    /// Messages published per topic, in first-publish order.
    pub pub_counts: Mutex<Vec<(String, u64)>>,
}

impl ClientStats {
    /// Fresh figures for a connection from `remote` (`ip:port`; `None` for a unix socket).
    pub fn new(id: ClientId, remote: Option<std::net::SocketAddr>, connect_ts: i64) -> Self {
        let ip = remote.map(|r| r.ip().to_string()).unwrap_or_default();
        ClientStats {
            id,
            remote_address: remote.map(|r| r.to_string()).unwrap_or_default(),
            connect_ts,
            identity: Mutex::new(ClientIdentity {
                client_id: ip.clone(),
                hostname: ip,
                ..ClientIdentity::default()
            }),
            state: AtomicU8::new(0),
            ready_count: AtomicI64::new(0),
            in_flight_count: AtomicI64::new(0),
            message_count: AtomicU64::new(0),
            finish_count: AtomicU64::new(0),
            requeue_count: AtomicU64::new(0),
            pub_counts: Mutex::new(Vec::new()),
        }
    }

    /// Counts `n` messages published to `topic`.
    pub fn add_published(&self, topic: &str, n: u64) {
        let mut counts = self.pub_counts.lock();
        match counts.iter_mut().find(|(t, _)| t == topic) {
            Some((_, c)) => *c += n,
            None => counts.push((topic.to_string(), n)),
        }
    }

    /// Whether this connection has published anything.
    pub fn has_published(&self) -> bool {
        !self.pub_counts.lock().is_empty()
    }

    /// Current protocol state number.
    pub fn state(&self) -> u8 {
        self.state.load(Ordering::Relaxed)
    }
}
