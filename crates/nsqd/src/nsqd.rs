//! The nsqd instance: options, the topic map, connected clients, and the
//! background task that fires in-flight timeouts and deferred deliveries.

use crate::client_stats::{ClientId, ClientStats};
use crate::options::Options;
use crate::topic::Topic;
use parking_lot::{Mutex, RwLock};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio_util::sync::CancellationToken;

/// How often in-flight and deferred deadlines are checked (nsqd's queue scan interval).
pub const DEADLINE_SCAN_INTERVAL: Duration = Duration::from_millis(100);

/// Addresses the listeners actually bound (reported by `/info`).
#[derive(Debug, Clone, Copy, Default)]
pub struct BoundAddrs {
    /// TCP listener address.
    pub tcp: Option<SocketAddr>,
    /// HTTP listener address.
    pub http: Option<SocketAddr>,
}

/// One running nsqd.
#[derive(Debug)]
pub struct Nsqd {
    /// The options it was started with.
    pub opts: Options,
    /// Process start, Unix seconds.
    pub start_time: i64,
    /// Bound listener addresses.
    pub addrs: BoundAddrs,
    topics: RwLock<BTreeMap<String, Arc<Topic>>>,
    clients: Mutex<HashMap<ClientId, Arc<ClientStats>>>,
    next_client_id: AtomicU64,
    /// Cancelled when nsqd shuts down; every task watches it.
    pub shutdown: CancellationToken,
}

impl Nsqd {
    /// A new nsqd with no topics.
    pub fn new(opts: Options, addrs: BoundAddrs) -> Arc<Nsqd> {
        Arc::new(Nsqd {
            opts,
            start_time: unix_seconds(),
            addrs,
            topics: RwLock::new(BTreeMap::new()),
            clients: Mutex::new(HashMap::new()),
            next_client_id: AtomicU64::new(1),
            shutdown: CancellationToken::new(),
        })
    }

    /// The topic `name`, created if missing.
    pub fn get_or_create_topic(&self, name: &str) -> Arc<Topic> {
        if let Some(t) = self.topics.read().get(name) {
            return t.clone();
        }
        let mut topics = self.topics.write();
        if let Some(t) = topics.get(name) {
            return t.clone();
        }
        let topic = Arc::new(Topic::new(name, self.opts.node_id));
        topics.insert(name.to_string(), topic.clone());
        tracing::info!("TOPIC({name}): created");
        topic
    }

    /// The topic `name`, if it exists.
    pub fn topic(&self, name: &str) -> Option<Arc<Topic>> {
        self.topics.read().get(name).cloned()
    }

    /// All topics, sorted by name.
    pub fn topics(&self) -> Vec<Arc<Topic>> {
        self.topics.read().values().cloned().collect()
    }

    /// Deletes a topic with its channels. False if it did not exist.
    pub fn delete_topic(&self, name: &str) -> bool {
        let removed = self.topics.write().remove(name);
        match removed {
            Some(t) => {
                t.delete();
                tracing::info!("TOPIC({name}): deleted");
                true
            }
            None => false,
        }
    }

    /// After a consumer left `channel` of `topic`: deletes the channel if it is
    /// ephemeral and unused, then the topic if it is ephemeral and has no channel.
    pub fn cleanup_after_consumer(&self, topic: &Arc<Topic>, channel: &str) {
        if topic.delete_channel_if_unused(channel) {
            tracing::info!("CHANNEL({}:{channel}): deleted (ephemeral, no consumers)", topic.name);
        }
        if topic.ephemeral {
            let mut topics = self.topics.write();
            let still_ours = topics.get(&topic.name).is_some_and(|t| Arc::ptr_eq(t, topic));
            if still_ours && topic.has_no_channels() {
                topics.remove(&topic.name);
                topic.delete();
                tracing::info!("TOPIC({}): deleted (ephemeral, no channels)", topic.name);
            }
        }
    }

    /// Registers a new TCP connection and returns its figures.
    pub fn add_client(&self, remote: SocketAddr) -> Arc<ClientStats> {
        let id = self.next_client_id.fetch_add(1, Ordering::Relaxed);
        let stats = Arc::new(ClientStats::new(id, remote, unix_seconds()));
        self.clients.lock().insert(id, stats.clone());
        stats
    }

    /// Forgets a closed connection.
    pub fn remove_client(&self, id: ClientId) {
        self.clients.lock().remove(&id);
    }

    /// Every connected client.
    pub fn clients(&self) -> Vec<Arc<ClientStats>> {
        self.clients.lock().values().cloned().collect()
    }

    /// Runs until shutdown: requeues timed-out in-flight messages and releases
    /// deferred ones whose time has come.
    pub async fn run_deadline_scanner(self: Arc<Self>) {
        let mut tick = tokio::time::interval(DEADLINE_SCAN_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = self.shutdown.cancelled() => return,
                _ = tick.tick() => {}
            }
            let now = tokio::time::Instant::now();
            for topic in self.topics() {
                for channel in topic.channels() {
                    channel.process_deadlines(now);
                }
            }
        }
    }
}

/// Current time in Unix seconds.
pub fn unix_seconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
