//! The nsqd instance: options, the topic map, connected clients, and the
//! background task that fires in-flight timeouts and deferred deliveries.

use crate::channel::Channel;
use crate::client_stats::{ClientId, ClientStats};
use crate::listener::ListenAddr;
use crate::lookup::{LookupEvent, LookupPeers};
use crate::metadata::{self, ChannelMetadata, Metadata, TopicMetadata};
use crate::options::Options;
use crate::store::TopicSettings;
use crate::topic::Topic;
use nsq_app::logging::LogLevel;
use parking_lot::{Mutex, RwLock};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio_util::sync::CancellationToken;

/// How often in-flight and deferred deadlines are checked (nsqd's queue scan interval).
pub const DEADLINE_SCAN_INTERVAL: Duration = Duration::from_millis(100);

/// Addresses the listeners actually bound (reported by `/info`).
#[derive(Debug, Clone, Default)]
pub struct BoundAddrs {
    /// TCP listener address.
    pub tcp: Option<ListenAddr>,
    /// HTTP listener address.
    pub http: Option<ListenAddr>,
    /// HTTPS listener address.
    pub https: Option<ListenAddr>,
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
    lookupd_addresses: Mutex<Vec<String>>,
    log_level: AtomicI32,
    persist_enabled: AtomicBool,
    metadata_lock: Mutex<()>,
    /// Set while the last publish failed to reach a disk queue.
    unhealthy: AtomicBool,
    /// Why, for `/ping` and `/stats` (`NOK - <error>`).
    health_error: Mutex<String>,
    lookup: LookupPeers,
    queue_config: TopicSettings,
    http_client: nsq_http::HttpClient,
    /// The TLS acceptor (replaced on SIGHUP).
    pub tls: crate::tls::TlsState,
    /// Authorization against `--auth-http-address` servers.
    pub auth: crate::auth::AuthClient,
    /// Cancelled when nsqd shuts down; every task watches it.
    pub shutdown: CancellationToken,
}

impl Nsqd {
    /// A new nsqd with no topics.
    pub fn new(
        opts: Options,
        addrs: BoundAddrs,
        tls: Option<nsq_transport::TlsAcceptor>,
    ) -> Arc<Nsqd> {
        Arc::new(Nsqd {
            tls: crate::tls::TlsState::new(tls),
            auth: crate::auth::AuthClient::with_http(
                opts.auth_http_addresses.clone(),
                outgoing_http_client(&opts),
                crate::auth::AuthMethod::Get,
            ),
            lookupd_addresses: Mutex::new(opts.nsqlookupd_tcp_addresses.clone()),
            log_level: AtomicI32::new(opts.log_level),
            persist_enabled: AtomicBool::new(true),
            metadata_lock: Mutex::new(()),
            unhealthy: AtomicBool::new(false),
            health_error: Mutex::new(String::new()),
            lookup: LookupPeers::default(),
            queue_config: TopicSettings::from_options(&opts),
            http_client: outgoing_http_client(&opts),
            opts,
            start_time: unix_seconds(),
            addrs,
            topics: RwLock::new(BTreeMap::new()),
            clients: Mutex::new(HashMap::new()),
            next_client_id: AtomicU64::new(1),
            shutdown: CancellationToken::new(),
        })
    }

    /// The topic `name`, created (started at once) if missing. Used while
    /// loading metadata; runtime callers use [`Nsqd::topic_for_use`].
    pub fn get_or_create_topic(&self, name: &str) -> Arc<Topic> {
        self.create_topic_entry(name, true).0
    }

    fn create_topic_entry(&self, name: &str, started: bool) -> (Arc<Topic>, bool) {
        if let Some(t) = self.topics.read().get(name) {
            return (t.clone(), false);
        }
        let mut topics = self.topics.write();
        if let Some(t) = topics.get(name) {
            return (t.clone(), false);
        }
        let topic = Topic::with_start(name, self.opts.node_id, &self.queue_config, started);
        topics.insert(name.to_string(), topic.clone());
        drop(topics);
        tracing::info!("TOPIC({name}): created");
        if !topic.ephemeral {
            self.metadata_changed();
        }
        self.lookup
            .notify(LookupEvent::Register(name.to_string(), None));
        (topic, true)
    }

    /// The topic `name` for a publish or subscribe, created if missing. A new
    /// topic first gets the channels the lookupds know for it (so messages
    /// published now also reach consumers of other nodes' channels), as nsqd does.
    pub async fn topic_for_use(&self, name: &str) -> Arc<Topic> {
        let with_lookupd = !self.lookupd_addresses.lock().is_empty();
        let (topic, created) = self.create_topic_entry(name, !with_lookupd);
        if created && with_lookupd {
            for channel in self.lookup.channels_of(&self.http_client, name).await {
                if !nsq_protocol::is_ephemeral(&channel) {
                    let _ = self.get_or_create_channel(&topic, &channel);
                }
            }
            topic.start();
        }
        topic
    }

    /// The channel `name` of `topic`, created (and registered, persisted) if missing.
    pub fn get_or_create_channel(
        &self,
        topic: &Arc<Topic>,
        name: &str,
    ) -> Result<Arc<Channel>, crate::topic::PutError> {
        let (channel, created) = topic.get_or_create_channel(name)?;
        if created {
            tracing::info!("CHANNEL({}:{name}): created", topic.name);
            if !channel.ephemeral && !topic.ephemeral {
                self.metadata_changed();
            }
            self.lookup.notify(LookupEvent::Register(
                topic.name.clone(),
                Some(name.to_string()),
            ));
        }
        Ok(channel)
    }

    /// Deletes a channel of `topic` with its messages; false if it did not exist.
    pub fn delete_channel(&self, topic: &Topic, name: &str) -> bool {
        if !topic.delete_channel(name) {
            return false;
        }
        tracing::info!("CHANNEL({}:{name}): deleted", topic.name);
        self.channel_deleted(topic, name);
        true
    }

    fn channel_deleted(&self, topic: &Topic, name: &str) {
        self.metadata_changed();
        self.lookup.notify(LookupEvent::Unregister(
            topic.name.clone(),
            Some(name.to_string()),
        ));
    }

    /// What a freshly connected lookupd must be told: per topic, one
    /// REGISTER per channel, or the bare topic when it has none.
    pub fn registrations(&self) -> Vec<LookupEvent> {
        let mut out = Vec::new();
        for topic in self.topics() {
            let channels = topic.channels();
            if channels.is_empty() {
                out.push(LookupEvent::Register(topic.name.clone(), None));
            }
            for ch in channels {
                out.push(LookupEvent::Register(
                    topic.name.clone(),
                    Some(ch.name.clone()),
                ));
            }
        }
        out
    }

    /// Starts talking to the configured lookupds.
    pub fn start_lookup(self: &Arc<Self>) {
        let addresses = self.lookupd_addresses();
        self.lookup.set_addresses(self, &addresses);
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
                let channels: Vec<String> = t.channels().iter().map(|c| c.name.clone()).collect();
                t.delete();
                tracing::info!("TOPIC({name}): deleted");
                self.metadata_changed();
                self.lookup
                    .notify(LookupEvent::Unregister(name.to_string(), None));
                for ch in channels {
                    self.lookup
                        .notify(LookupEvent::Unregister(name.to_string(), Some(ch)));
                }
                true
            }
            None => false,
        }
    }

    /// After a consumer left `channel` of `topic`: deletes the channel if it is
    /// ephemeral and unused, then the topic if it is ephemeral and has no channel.
    pub fn cleanup_after_consumer(&self, topic: &Arc<Topic>, channel: &str) {
        if topic.delete_channel_if_unused(channel) {
            tracing::info!(
                "CHANNEL({}:{channel}): deleted (ephemeral, no consumers)",
                topic.name
            );
            self.lookup.notify(LookupEvent::Unregister(
                topic.name.clone(),
                Some(channel.to_string()),
            ));
        }
        if topic.ephemeral {
            let mut topics = self.topics.write();
            let still_ours = topics
                .get(&topic.name)
                .is_some_and(|t| Arc::ptr_eq(t, topic));
            if still_ours && topic.has_no_channels() {
                topics.remove(&topic.name);
                drop(topics);
                topic.delete();
                tracing::info!("TOPIC({}): deleted (ephemeral, no channels)", topic.name);
                self.lookup
                    .notify(LookupEvent::Unregister(topic.name.clone(), None));
            }
        }
    }

    /// Registers a new TCP connection (`None` for a unix socket peer) and returns its figures.
    pub fn add_client(&self, remote: Option<SocketAddr>) -> Arc<ClientStats> {
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

    /// Health for `/ping` and `/stats`: the error of the last publish if it
    /// could not be stored (disk full, I/O error), until one succeeds again.
    pub fn health(&self) -> Result<(), String> {
        if self.unhealthy.load(Ordering::Acquire) {
            return Err(self.health_error.lock().clone());
        }
        Ok(())
    }

    /// Publishes `bodies` to `topic` (TCP and HTTP alike) and keeps the
    /// health figure up to date, as nsqd does after every queue write.
    pub fn publish(
        &self,
        topic: &Topic,
        bodies: Vec<bytes::Bytes>,
        defer: std::time::Duration,
    ) -> Result<(), crate::topic::PutError> {
        let result = topic.publish(bodies, defer);
        match &result {
            Err(crate::topic::PutError::Backend(e)) => {
                *self.health_error.lock() = e.to_string();
                self.unhealthy.store(true, Ordering::Release);
            }
            Ok(()) if self.unhealthy.load(Ordering::Relaxed) => {
                self.unhealthy.store(false, Ordering::Release);
            }
            _ => {}
        }
        result
    }

    /// Current log level as NSQ numbers it (1 debug .. 5 fatal).
    pub fn log_level(&self) -> i32 {
        self.log_level.load(Ordering::Relaxed)
    }

    /// Changes the log level at run time (`PUT /config/log_level`).
    pub fn set_log_level(&self, level: LogLevel) {
        self.log_level.store(level as i32, Ordering::Relaxed);
        nsq_app::logging::set_level(level);
    }

    /// The TCP port registered with lookupd (`--broadcast-tcp-port` or the bound port).
    pub fn broadcast_tcp_port(&self) -> i64 {
        match self.opts.broadcast_tcp_port {
            0 => self.addrs.tcp.as_ref().map_or(0, ListenAddr::port),
            p => p,
        }
    }

    /// The HTTP port registered with lookupd (`--broadcast-http-port` or the bound port).
    pub fn broadcast_http_port(&self) -> i64 {
        match self.opts.broadcast_http_port {
            0 => self.addrs.http.as_ref().map_or(0, ListenAddr::port),
            p => p,
        }
    }

    /// The nsqlookupd TCP addresses currently in use.
    pub fn lookupd_addresses(&self) -> Vec<String> {
        self.lookupd_addresses.lock().clone()
    }

    /// Replaces the nsqlookupd TCP addresses (`PUT /config/nsqlookupd_tcp_addresses`).
    pub fn set_lookupd_addresses(self: &Arc<Self>, addresses: Vec<String>) {
        let mut unique: Vec<String> = Vec::new();
        for a in addresses {
            if !unique.contains(&a) {
                unique.push(a);
            }
        }
        *self.lookupd_addresses.lock() = unique.clone();
        self.lookup.set_addresses(self, &unique);
    }

    /// The metadata describing the current non-ephemeral topics and channels.
    pub fn metadata(&self) -> Metadata {
        let topics: Vec<TopicMetadata> = self
            .topics()
            .iter()
            .filter(|t| !t.ephemeral)
            .map(|t| {
                let channels: Vec<ChannelMetadata> = t
                    .channels()
                    .iter()
                    .filter(|c| !c.ephemeral)
                    .map(|c| ChannelMetadata {
                        name: c.name.clone(),
                        paused: c.is_paused(),
                    })
                    .collect();
                TopicMetadata {
                    name: t.name.clone(),
                    paused: t.is_paused(),
                    channels: (!channels.is_empty()).then_some(channels),
                }
            })
            .collect();
        Metadata {
            topics: (!topics.is_empty()).then_some(topics),
            version: crate::VERSION.to_string(),
        }
    }

    /// Rewrites `nsqd.dat` after topics, channels or pause flags changed.
    pub fn metadata_changed(&self) {
        if !self.persist_enabled.load(Ordering::Relaxed) {
            return;
        }
        if let Err(e) = self.persist_metadata() {
            tracing::error!("{e}");
        }
    }

    /// Writes `nsqd.dat` now.
    pub fn persist_metadata(&self) -> Result<(), metadata::MetadataError> {
        let _guard = self.metadata_lock.lock();
        metadata::save(&self.opts.data_path, &self.metadata())
    }

    /// Recreates topics, channels and paused flags from `nsqd.dat`, if present.
    pub fn load_metadata(&self) -> Result<(), metadata::MetadataError> {
        let Some(meta) = metadata::load(&self.opts.data_path)? else {
            return Ok(());
        };
        self.persist_enabled.store(false, Ordering::Relaxed);
        for t in meta.topics.unwrap_or_default() {
            if !nsq_protocol::is_valid_topic_name(&t.name) {
                tracing::warn!("skipping creation of invalid topic {}", t.name);
                continue;
            }
            let topic = self.get_or_create_topic(&t.name);
            if t.paused {
                topic.set_paused(true);
            }
            for c in t.channels.unwrap_or_default() {
                if !nsq_protocol::is_valid_channel_name(&c.name) {
                    tracing::warn!("skipping creation of invalid channel {}", c.name);
                    continue;
                }
                if let Ok(channel) = self.get_or_create_channel(&topic, &c.name) {
                    if c.paused {
                        channel.set_paused(true);
                    }
                }
            }
        }
        self.persist_enabled.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// Waits until this publisher's messages are on stable storage when
    /// `--sync-every=1` (group commit); returns at once otherwise.
    pub async fn acknowledge(&self) {
        if let Some(d) = &self.queue_config.durability {
            d.wait_synced().await;
        }
    }

    /// One group-commit round: fsyncs every queue written since the last one.
    pub fn sync_all_queues(&self) {
        for topic in self.topics() {
            topic.sync_queues_now();
        }
    }

    /// Starts the group-commit task in durable mode.
    pub fn start_durability(self: &Arc<Self>) {
        if let Some(d) = self.queue_config.durability.clone() {
            let weak = Arc::downgrade(self);
            let sync_all = Arc::new(move || {
                if let Some(n) = weak.upgrade() {
                    n.sync_all_queues();
                }
            });
            let stop = self.shutdown.clone();
            tokio::spawn(d.run(sync_all, async move { stop.cancelled().await }));
        }
    }

    /// Clean shutdown of the storage: every topic and channel writes what it
    /// holds in memory (and in flight, and deferred) to its disk queue.
    pub fn close_queues(&self) {
        let topics: Vec<Arc<Topic>> = std::mem::take(&mut *self.topics.write())
            .into_values()
            .collect();
        for topic in topics {
            tracing::info!("TOPIC({}): closing ... flushing to disk", topic.name);
            topic.close_for_shutdown();
        }
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
                topic.sync_if_due();
                for channel in topic.channels() {
                    channel.process_deadlines(now);
                }
            }
        }
    }
}

/// The HTTP client nsqd uses for auth servers and lookupd queries:
/// `https://` URLs are verified against `--tls-root-ca-file` (or the system
/// roots), as nsqd does.
fn outgoing_http_client(opts: &Options) -> nsq_http::HttpClient {
    let root_ca =
        (!opts.tls_root_ca_file.is_empty()).then(|| std::path::Path::new(&opts.tls_root_ca_file));
    let tls = match nsq_transport::tls::client_config(root_ca, false, None) {
        Ok(c) => Some(c),
        Err(e) => {
            tracing::warn!("no TLS for outgoing https:// requests - {e}");
            None
        }
    };
    nsq_http::HttpClient::with_tls(
        opts.http_client_connect_timeout,
        opts.http_client_request_timeout,
        tls,
    )
}

/// Current time in Unix seconds.
pub fn unix_seconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
