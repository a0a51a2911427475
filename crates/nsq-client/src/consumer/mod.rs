//! The consumer: one subscription (topic, channel) over one connection per
//! nsqd, found directly or through nsqlookupd.
//!
//! Messages come out of [`Consumer::recv`] as [`Delivery`] values that the
//! caller answers (FIN / REQ / TOUCH), so handlers may run concurrently or
//! hold messages (as `nsq_to_file` does until its data is synced).
//!
//! Flow control: `max_in_flight` is split into RDY counts over the
//! connections ([`rdy::distribute`]); with fewer slots than connections the
//! slots rotate every `rdy_redistribute_interval`. A requeue with backoff
//! pauses the whole consumer (RDY 0 everywhere) for a growing time, then
//! tests one message at a time until successes bring the level back to 0.
//!
//! [`Consumer::stop`] sends CLS on every connection, hands back (REQ) any
//! message that arrives afterwards, waits until every delivered message is
//! answered, then closes; [`Consumer::recv`] returns `None` once all
//! connections are gone.
//!
//! Submodules: `connection` (per-nsqd task), `delivery` ([`Delivery`]),
//! `discovery` (nsqlookupd polling, reconnects), [`rdy`] (arithmetic).

mod connection;
mod delivery;
mod discovery;
pub mod rdy;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use nsq_protocol::{is_valid_channel_name, is_valid_topic_name};
use tokio::sync::{mpsc, watch, Notify};
use tokio::time::Instant;

use crate::config::Config;
use crate::error::{ConnectError, ConsumerError};
use crate::http::HttpClient;
use connection::ConnShared;
pub use delivery::Delivery;

/// How long a stop waits for in-flight messages by default.
pub const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// Counters of a consumer since it was created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConsumerStats {
    /// Messages received from nsqd.
    pub messages_received: u64,
    /// Messages finished (FIN).
    pub messages_finished: u64,
    /// Messages requeued (REQ), including unanswered dropped deliveries.
    pub messages_requeued: u64,
    /// Open nsqd connections.
    pub connections: usize,
}

/// A subscription to one topic and channel.
pub struct Consumer {
    inner: Arc<Inner>,
    deliveries: tokio::sync::Mutex<mpsc::UnboundedReceiver<Delivery>>,
}

#[derive(Debug, Default)]
struct Backoff {
    level: u32,
    paused_until: Option<Instant>,
    testing: bool,
}

/// State shared by the consumer, its connection tasks and its deliveries.
pub(crate) struct Inner {
    topic: String,
    channel: String,
    config: Config,
    http: HttpClient,
    conns: Mutex<BTreeMap<String, Arc<ConnShared>>>,
    connecting: Mutex<BTreeSet<String>>,
    nsqd_addrs: Mutex<Vec<String>>,
    lookupd_addrs: Mutex<Vec<String>>,
    deliveries: Mutex<Option<mpsc::UnboundedSender<Delivery>>>,
    stop_tx: watch::Sender<bool>,
    backoff: Mutex<Backoff>,
    max_in_flight: AtomicU32,
    rotation: AtomicUsize,
    stop_timeout_ms: AtomicU64,
    received: AtomicU64,
    finished: AtomicU64,
    requeued: AtomicU64,
    lookup_wake: Notify,
}

/// Locks a mutex, recovering the data if a panicking thread poisoned it.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Consumer {
    /// A consumer of `topic` on `channel`; connect it with
    /// [`Consumer::connect_to_nsqd`] or [`Consumer::connect_to_lookupd`].
    /// Must be called inside a tokio runtime.
    pub fn new(topic: &str, channel: &str, config: Config) -> Result<Consumer, ConsumerError> {
        if !is_valid_topic_name(topic) {
            return Err(ConsumerError::InvalidTopic(topic.to_string()));
        }
        if !is_valid_channel_name(channel) {
            return Err(ConsumerError::InvalidChannel(channel.to_string()));
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let http = HttpClient::new(config.dial_timeout, config.lookupd_poll_timeout);
        let inner = Arc::new(Inner {
            topic: topic.to_string(),
            channel: channel.to_string(),
            max_in_flight: AtomicU32::new(config.max_in_flight),
            config,
            http,
            conns: Mutex::new(BTreeMap::new()),
            connecting: Mutex::new(BTreeSet::new()),
            nsqd_addrs: Mutex::new(Vec::new()),
            lookupd_addrs: Mutex::new(Vec::new()),
            deliveries: Mutex::new(Some(tx)),
            stop_tx: watch::channel(false).0,
            backoff: Mutex::new(Backoff::default()),
            rotation: AtomicUsize::new(0),
            stop_timeout_ms: AtomicU64::new(DEFAULT_STOP_TIMEOUT.as_millis() as u64),
            received: AtomicU64::new(0),
            finished: AtomicU64::new(0),
            requeued: AtomicU64::new(0),
            lookup_wake: Notify::new(),
        });
        tokio::spawn(discovery::rotate_rdy(Arc::downgrade(&inner)));
        Ok(Consumer {
            inner,
            deliveries: tokio::sync::Mutex::new(rx),
        })
    }

    /// The topic.
    pub fn topic(&self) -> &str {
        &self.inner.topic
    }

    /// The channel.
    pub fn channel(&self) -> &str {
        &self.inner.channel
    }

    /// Connects to nsqd at `addr` (`host:port`) and subscribes. If the
    /// connection is lost later it is re-established until the consumer stops.
    pub async fn connect_to_nsqd(&self, addr: &str) -> Result<(), ConsumerError> {
        self.check_running()?;
        {
            let mut list = lock(&self.inner.nsqd_addrs);
            if list.iter().any(|a| a == addr) {
                return Err(ConsumerError::AlreadyConnected(addr.to_string()));
            }
            list.push(addr.to_string());
        }
        if let Err(e) = self.inner.connect(addr).await {
            lock(&self.inner.nsqd_addrs).retain(|a| a != addr);
            return Err(e.into());
        }
        Ok(())
    }

    /// [`Consumer::connect_to_nsqd`] for each address, stopping at the first error.
    pub async fn connect_to_nsqds(&self, addrs: &[String]) -> Result<(), ConsumerError> {
        for addr in addrs {
            self.connect_to_nsqd(addr).await?;
        }
        Ok(())
    }

    /// Adds nsqlookupd at `addr` (`host:port` or an `http://` URL): queries
    /// it now, connects to every nsqd it lists for the topic, and keeps
    /// polling every `lookupd_poll_interval` (and at once when a connection
    /// is lost). Fails if this first query fails.
    pub async fn connect_to_lookupd(&self, addr: &str) -> Result<(), ConsumerError> {
        self.check_running()?;
        let first = {
            let mut list = lock(&self.inner.lookupd_addrs);
            if list.iter().any(|a| a == addr) {
                return Err(ConsumerError::AlreadyConnected(addr.to_string()));
            }
            list.push(addr.to_string());
            list.len() == 1
        };
        let result = self.inner.query_lookupd(addr).await;
        if first {
            tokio::spawn(discovery::poll_lookupds(Arc::downgrade(&self.inner)));
        }
        result.map_err(ConsumerError::from)
    }

    /// [`Consumer::connect_to_lookupd`] for each address, stopping at the first error.
    pub async fn connect_to_lookupds(&self, addrs: &[String]) -> Result<(), ConsumerError> {
        for addr in addrs {
            self.connect_to_lookupd(addr).await?;
        }
        Ok(())
    }

    /// The next message, or `None` once the consumer has stopped and every
    /// connection is closed.
    pub async fn recv(&self) -> Option<Delivery> {
        self.deliveries.lock().await.recv().await
    }

    /// Starts a graceful stop (see the module documentation). Idempotent.
    pub fn stop(&self) {
        self.inner.stop();
    }

    /// Whether [`Consumer::stop`] was called.
    pub fn is_stopping(&self) -> bool {
        *self.inner.stop_tx.borrow()
    }

    /// How long a stop waits for unanswered messages before closing anyway.
    pub fn set_stop_timeout(&self, timeout: Duration) {
        self.inner
            .stop_timeout_ms
            .store(timeout.as_millis() as u64, Ordering::SeqCst);
    }

    /// Changes `max_in_flight` and redistributes RDY.
    pub fn set_max_in_flight(&self, max_in_flight: u32) {
        self.inner
            .max_in_flight
            .store(max_in_flight, Ordering::SeqCst);
        self.inner.update_rdy();
    }

    /// Addresses of the open nsqd connections.
    pub fn connections(&self) -> Vec<String> {
        lock(&self.inner.conns).keys().cloned().collect()
    }

    /// Counters since creation.
    pub fn stats(&self) -> ConsumerStats {
        ConsumerStats {
            messages_received: self.inner.received.load(Ordering::SeqCst),
            messages_finished: self.inner.finished.load(Ordering::SeqCst),
            messages_requeued: self.inner.requeued.load(Ordering::SeqCst),
            connections: lock(&self.inner.conns).len(),
        }
    }

    /// Whether some connection has (nearly) used up its RDY count: at least
    /// 85% of it is in flight. A batching caller should flush then.
    pub fn is_starved(&self) -> bool {
        lock(&self.inner.conns).values().any(|c| {
            let in_flight = c.in_flight();
            in_flight > 0 && in_flight as f64 >= 0.85 * c.rdy() as f64
        })
    }

    fn check_running(&self) -> Result<(), ConsumerError> {
        if self.is_stopping() {
            Err(ConsumerError::Stopped)
        } else {
            Ok(())
        }
    }
}

impl Drop for Consumer {
    fn drop(&mut self) {
        self.inner.stop();
    }
}

impl Inner {
    fn stop_timeout(&self) -> Duration {
        Duration::from_millis(self.stop_timeout_ms.load(Ordering::SeqCst))
    }

    fn is_stopping(&self) -> bool {
        *self.stop_tx.borrow()
    }

    fn stop(&self) {
        if self.stop_tx.send_replace(true) {
            return;
        }
        lock(&self.deliveries).take();
        self.lookup_wake.notify_waiters();
    }

    fn count_received(&self) {
        self.received.fetch_add(1, Ordering::SeqCst);
    }

    fn count_answer(&self, finished: bool) {
        let counter = if finished {
            &self.finished
        } else {
            &self.requeued
        };
        counter.fetch_add(1, Ordering::SeqCst);
    }

    /// Opens, subscribes and starts a connection to `addr` unless one exists
    /// or is being opened.
    async fn connect(self: &Arc<Self>, addr: &str) -> Result<(), ConnectError> {
        {
            let conns = lock(&self.conns);
            let mut connecting = lock(&self.connecting);
            if conns.contains_key(addr) || !connecting.insert(addr.to_string()) {
                return Ok(());
            }
        }
        let opened = connection::open(self, addr).await;
        lock(&self.connecting).remove(addr);
        let opened = opened?;
        let Some(deliveries) = lock(&self.deliveries).clone() else {
            // Stopped while connecting: the connection is simply dropped.
            return Ok(());
        };
        lock(&self.conns).insert(addr.to_string(), opened.shared.clone());
        tracing::info!("[{}/{}] connected to nsqd {addr}", self.topic, self.channel);
        tokio::spawn(connection::run(self.clone(), opened, deliveries));
        self.update_rdy();
        Ok(())
    }

    /// Called by a connection task when it ends.
    fn connection_closed(self: &Arc<Self>, shared: &Arc<ConnShared>) {
        {
            let mut conns = lock(&self.conns);
            if conns
                .get(&shared.addr)
                .is_some_and(|c| Arc::ptr_eq(c, shared))
            {
                conns.remove(&shared.addr);
            }
        }
        if self.is_stopping() {
            return;
        }
        self.update_rdy();
        if lock(&self.nsqd_addrs).contains(&shared.addr) {
            tokio::spawn(discovery::reconnect(
                Arc::downgrade(self),
                shared.addr.clone(),
            ));
        }
        if !lock(&self.lookupd_addrs).is_empty() {
            self.lookup_wake.notify_one();
        }
    }

    /// Sends every connection its current RDY target.
    fn update_rdy(&self) {
        if self.is_stopping() {
            return;
        }
        let conns: Vec<Arc<ConnShared>> = lock(&self.conns).values().cloned().collect();
        if conns.is_empty() {
            return;
        }
        let rotation = self.rotation.load(Ordering::SeqCst);
        let targets = {
            let b = lock(&self.backoff);
            if b.paused_until.is_some() {
                vec![0; conns.len()]
            } else if b.testing {
                let mut t = vec![0; conns.len()];
                t[rotation % conns.len()] = 1;
                t
            } else {
                let caps: Vec<u64> = conns.iter().map(|c| c.max_rdy).collect();
                rdy::distribute(self.max_in_flight.load(Ordering::SeqCst), &caps, rotation)
            }
        };
        for (conn, target) in conns.iter().zip(targets) {
            conn.set_rdy(target);
        }
    }

    /// Feeds a handler result into the backoff state machine.
    fn on_result(self: &Arc<Self>, success: bool) {
        if self.config.max_backoff_duration.is_zero() {
            return;
        }
        let pause = {
            let mut b = lock(&self.backoff);
            if b.paused_until.is_some() {
                return;
            }
            if success {
                if b.level == 0 {
                    return;
                }
                b.level -= 1;
            } else {
                b.level = (b.level + 1).min(rdy::max_backoff_level(&self.config));
            }
            if b.level == 0 {
                b.testing = false;
                None
            } else {
                let d = rdy::backoff_duration(&self.config, b.level, rand::random::<f64>());
                b.paused_until = Some(Instant::now() + d);
                Some((d, b.level))
            }
        };
        match pause {
            None => tracing::info!("[{}/{}] backoff complete", self.topic, self.channel),
            Some((d, level)) => {
                tracing::warn!(
                    "[{}/{}] backing off for {d:?} (backoff level {level})",
                    self.topic,
                    self.channel
                );
                tokio::spawn(discovery::end_pause(Arc::downgrade(self), d));
            }
        }
        self.update_rdy();
    }

    /// The backoff pause is over: test with one message.
    fn resume_after_pause(&self) {
        {
            let mut b = lock(&self.backoff);
            b.paused_until = None;
            b.testing = b.level > 0;
        }
        self.rotation.fetch_add(1, Ordering::SeqCst);
        self.update_rdy();
    }

    /// Queries one nsqlookupd and connects to every nsqd it lists.
    async fn query_lookupd(self: &Arc<Self>, lookupd: &str) -> Result<(), crate::LookupError> {
        let producers = crate::lookup::lookup(&self.http, lookupd, &self.topic).await?;
        for p in producers {
            let addr = p.tcp_address();
            if let Err(e) = self.connect(&addr).await {
                tracing::warn!(
                    "[{}/{}] nsqd {addr} (from nsqlookupd {lookupd}): {e}",
                    self.topic,
                    self.channel
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consumer_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Consumer>();
        check::<Delivery>();
    }

    #[tokio::test]
    async fn names_are_validated() {
        assert!(matches!(
            Consumer::new("bad topic", "c", Config::default()),
            Err(ConsumerError::InvalidTopic(_))
        ));
        assert!(matches!(
            Consumer::new("t", "", Config::default()),
            Err(ConsumerError::InvalidChannel(_))
        ));
        let c = Consumer::new("t", "c#ephemeral", Config::default()).unwrap();
        c.stop();
        assert!(c.recv().await.is_none());
        assert!(matches!(
            c.connect_to_nsqd("127.0.0.1:1").await,
            Err(ConsumerError::Stopped)
        ));
    }
}
