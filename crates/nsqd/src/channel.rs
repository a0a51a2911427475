//! A channel: one consumer group of a topic.
//!
//! It holds the messages waiting for delivery, the messages in flight (with
//! their deadlines), the deferred ones, and the consumers with their credit.
//! Every state change happens under one short lock; consumers are woken
//! through their own `Notify`, so a message never waits on a timer to be sent.

use crate::client_stats::{ClientId, ClientStats};
use crate::store::{MessageStore, StoredMessage, TopicSettings};
use nsq_protocol::{Message, MessageId};
use nsq_queue::{QueueError, ReadTicket};
use parking_lot::Mutex;
use rand::Rng;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// Maps keyed by message id: ids are not attacker-chosen hash-flooding
/// material worth SipHash's cost on the delivery path (nsqd generates them).
type FastMap<K, V> = rustc_hash::FxHashMap<K, V>;

/// How a consumer connection is reached from its channel.
#[derive(Debug, Clone)]
pub struct ConsumerHandle {
    /// Woken when the consumer may have messages to take.
    pub wake: Arc<Notify>,
    /// Woken when the channel is deleted: the connection must close.
    pub close: Arc<Notify>,
    /// The connection's figures (its in-flight count is kept here).
    pub stats: Arc<ClientStats>,
}

#[derive(Debug)]
struct Consumer {
    handle: ConsumerHandle,
    in_flight: u64,
    waiting: bool,
}

#[derive(Debug)]
struct InFlight {
    msg: Message,
    /// Set when the message was read from a disk queue with acknowledged reads.
    ticket: Option<ReadTicket>,
    client: ClientId,
    deadline: Instant,
    delivered: Instant,
}

/// Why FIN, REQ or TOUCH failed (non-fatal for the client).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InFlightError {
    /// The id is not in flight on this channel.
    #[error("ID not in flight")]
    NotInFlight,
    /// The message was delivered to another connection.
    #[error("client does not own message")]
    NotOwner,
}

/// Why a consumer could not join the channel.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubscribeError {
    /// `--max-channel-consumers` reached.
    #[error("consumers for {topic}:{channel} exceeds limit of {limit}")]
    TooManyConsumers {
        /// Topic name.
        topic: String,
        /// Channel name.
        channel: String,
        /// The configured limit.
        limit: i64,
    },
    /// The channel was deleted meanwhile.
    #[error("channel is being deleted")]
    Deleted,
}

/// What a consumer got from [`Channel::take`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TakeOutcome {
    /// Messages appended to the output vector.
    pub taken: usize,
    /// The consumer has used all its credit (in flight >= RDY), so its buffer should be flushed.
    pub full: bool,
}

#[derive(Debug)]
struct ChannelState {
    queue: MessageStore<StoredMessage>,
    /// Messages put back (REQ, timeout, departed consumer) that are still
    /// unfinished records of the disk queue: kept here, served first.
    requeued: VecDeque<(Message, ReadTicket)>,
    in_flight: FastMap<MessageId, InFlight>,
    in_flight_deadlines: BinaryHeap<Reverse<(Instant, MessageId)>>,
    deferred: FastMap<MessageId, (Message, Instant, Option<ReadTicket>)>,
    deferred_deadlines: BinaryHeap<Reverse<(Instant, MessageId)>>,
    consumers: HashMap<ClientId, Consumer>,
    /// Consumers with credit and nothing to send, oldest first (woken in turn).
    waiting: VecDeque<ClientId>,
    paused: bool,
    deleted: bool,
    /// Due times (unix ns) of messages that were deferred when nsqd last stopped.
    restored_deferrals: HashMap<MessageId, i64>,
}

impl ChannelState {
    /// Wakes up to `n` consumers that are waiting for messages.
    fn wake_waiting(&mut self, n: usize) {
        for _ in 0..n {
            let Some(id) = self.waiting.pop_front() else {
                return;
            };
            if let Some(c) = self.consumers.get_mut(&id) {
                c.waiting = false;
                c.handle.wake.notify_one();
            }
        }
    }

    fn wake_all(&mut self) {
        let n = self.waiting.len();
        self.wake_waiting(n);
    }

    fn enqueue(&mut self, msg: Message, ticket: Option<ReadTicket>) {
        match ticket {
            Some(t) => self.requeued.push_back((msg, t)),
            None => {
                let id = msg.id;
                if let Err(e) = self.queue.push(StoredMessage(msg)) {
                    tracing::error!("CHANNEL: failed to store message {id} - {e}");
                    return;
                }
            }
        }
        self.wake_waiting(1);
    }

    fn defer(&mut self, msg: Message, until: Instant, ticket: Option<ReadTicket>) {
        self.deferred_deadlines.push(Reverse((until, msg.id)));
        self.deferred.insert(msg.id, (msg, until, ticket));
    }

    fn done(&mut self, ticket: Option<ReadTicket>) {
        if let Some(t) = ticket {
            self.queue.finish(t);
        }
    }

    fn release_in_flight(&mut self, client: ClientId) {
        if let Some(c) = self.consumers.get_mut(&client) {
            c.in_flight = c.in_flight.saturating_sub(1);
            c.handle
                .stats
                .in_flight_count
                .store(c.in_flight as i64, Ordering::Relaxed);
        }
    }

    fn take_in_flight(
        &mut self,
        client: ClientId,
        id: &MessageId,
    ) -> Result<InFlight, InFlightError> {
        match self.in_flight.get(id) {
            None => Err(InFlightError::NotInFlight),
            Some(f) if f.client != client => Err(InFlightError::NotOwner),
            Some(_) => {
                let f = self
                    .in_flight
                    .remove(id)
                    .ok_or(InFlightError::NotInFlight)?;
                self.release_in_flight(client);
                Ok(f)
            }
        }
    }
}

/// A channel of a topic.
#[derive(Debug)]
pub struct Channel {
    /// The topic this channel belongs to.
    pub topic_name: String,
    /// The channel name.
    pub name: String,
    /// `#ephemeral`: no disk queue, deleted when its last consumer leaves.
    pub ephemeral: bool,
    state: Mutex<ChannelState>,
    /// Publish-to-FIN latency of this channel's messages.
    pub e2e: crate::e2e::E2eLatency,
    data_path: std::path::PathBuf,
    durable: bool,
    message_count: AtomicU64,
    requeue_count: AtomicU64,
    timeout_count: AtomicU64,
}

/// A point-in-time copy of a channel's figures for `/stats`.
#[derive(Debug, Clone)]
pub struct ChannelSnapshot {
    /// Channel name.
    pub name: String,
    /// Waiting messages (memory + disk).
    pub depth: u64,
    /// Waiting messages on disk.
    pub backend_depth: u64,
    /// Messages in flight.
    pub in_flight_count: u64,
    /// Deferred messages.
    pub deferred_count: u64,
    /// Messages received from the topic.
    pub message_count: u64,
    /// REQs.
    pub requeue_count: u64,
    /// In-flight timeouts.
    pub timeout_count: u64,
    /// Paused.
    pub paused: bool,
    /// Corrupt disk-queue files set aside and undecodable records skipped.
    pub bad_files: u64,
    /// The consumers' figures.
    pub clients: Vec<Arc<ClientStats>>,
}

impl Channel {
    /// A channel whose queue is `<topic>:<channel>` in the data path (none if ephemeral).
    pub fn new(topic_name: &str, name: &str, cfg: &TopicSettings) -> Self {
        let ephemeral = nsq_protocol::is_ephemeral(name);
        let queue_name = format!("{topic_name}:{name}");
        let queue = MessageStore::open(&queue_name, ephemeral, cfg);
        let restored_deferrals = if ephemeral {
            HashMap::new()
        } else {
            crate::deferred_file::take(&cfg.data_path, &queue_name)
        };
        Channel {
            topic_name: topic_name.to_string(),
            name: name.to_string(),
            ephemeral,
            state: Mutex::new(ChannelState {
                queue,
                requeued: VecDeque::new(),
                in_flight: FastMap::default(),
                in_flight_deadlines: BinaryHeap::new(),
                deferred: FastMap::default(),
                deferred_deadlines: BinaryHeap::new(),
                consumers: HashMap::new(),
                waiting: VecDeque::new(),
                paused: false,
                deleted: false,
                restored_deferrals,
            }),
            e2e: crate::e2e::E2eLatency::new(cfg.e2e_percentiles.clone(), cfg.e2e_window),
            data_path: cfg.data_path.clone(),
            durable: cfg.is_durable() && !ephemeral,
            message_count: AtomicU64::new(0),
            requeue_count: AtomicU64::new(0),
            timeout_count: AtomicU64::new(0),
        }
    }

    /// Accepts messages from the topic in order; `defer` > 0 holds them back
    /// that long; their disk overflow is written in one go. Returns false if
    /// the channel has been deleted, and the disk queue's error when the
    /// messages could not be stored (disk full): they are then not in the
    /// channel, and the publisher must be told.
    pub fn put_many(&self, msgs: Vec<Message>, defer: Duration) -> Result<bool, QueueError> {
        let mut st = self.state.lock();
        if st.deleted {
            return Ok(false);
        }
        let n = msgs.len();
        if defer.is_zero() || self.durable {
            let ids: Vec<MessageId> = if defer.is_zero() {
                Vec::new()
            } else {
                // On disk like any message; its due time applies when it is read.
                let due = crate::topic::unix_nanos() + defer.as_nanos() as i64;
                for m in &msgs {
                    st.restored_deferrals.insert(m.id, due);
                }
                msgs.iter().map(|m| m.id).collect()
            };
            if let Err(e) = st.queue.push_many(msgs.into_iter().map(StoredMessage)) {
                tracing::error!(
                    "CHANNEL({}:{}): failed to store messages - {e}",
                    self.topic_name,
                    self.name
                );
                for id in &ids {
                    st.restored_deferrals.remove(id);
                }
                return Err(e);
            }
            st.wake_waiting(n);
        } else {
            let until = Instant::now() + defer;
            for m in msgs {
                st.defer(m, until, None);
            }
        }
        self.message_count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(true)
    }

    /// Adds a consumer. `max_consumers` > 0 limits how many may join.
    pub fn add_consumer(
        &self,
        handle: ConsumerHandle,
        max_consumers: i64,
    ) -> Result<(), SubscribeError> {
        let mut st = self.state.lock();
        if st.deleted {
            return Err(SubscribeError::Deleted);
        }
        if max_consumers > 0 && st.consumers.len() as i64 >= max_consumers {
            return Err(SubscribeError::TooManyConsumers {
                topic: self.topic_name.clone(),
                channel: self.name.clone(),
                limit: max_consumers,
            });
        }
        let id = handle.stats.id;
        st.consumers.insert(
            id,
            Consumer {
                handle,
                in_flight: 0,
                waiting: false,
            },
        );
        Ok(())
    }

    /// Removes a consumer and puts its in-flight messages back at once.
    /// Returns true when the channel is ephemeral and now has no consumer.
    pub fn remove_consumer(&self, client: ClientId) -> bool {
        let mut st = self.state.lock();
        st.consumers.remove(&client);
        st.waiting.retain(|c| *c != client);
        let owned: Vec<MessageId> = st
            .in_flight
            .iter()
            .filter(|(_, f)| f.client == client)
            .map(|(id, _)| *id)
            .collect();
        for id in owned {
            if let Some(f) = st.in_flight.remove(&id) {
                st.enqueue(f.msg, f.ticket);
            }
        }
        self.ephemeral && st.consumers.is_empty() && !st.deleted
    }

    /// Whether the channel has no consumer (checked under the lock).
    pub fn has_consumers(&self) -> bool {
        !self.state.lock().consumers.is_empty()
    }

    /// Moves up to `rdy - in_flight` waiting messages to `out`, marking them in
    /// flight for `client` with `msg_timeout`. With `sample_rate` 1..99 each
    /// message is kept with probability (rate+1)%, others are discarded.
    /// If the consumer still has credit afterwards it is registered to be
    /// woken by the next message.
    pub fn take(
        &self,
        client: ClientId,
        rdy: u64,
        sample_rate: i32,
        msg_timeout: Duration,
        out: &mut Vec<Message>,
    ) -> TakeOutcome {
        let mut st = self.state.lock();
        let st = &mut *st;
        let Some(consumer) = st.consumers.get_mut(&client) else {
            return TakeOutcome {
                taken: 0,
                full: true,
            };
        };
        let mut credit = rdy.saturating_sub(consumer.in_flight);
        if st.paused || st.deleted {
            let full = credit == 0;
            if !full && !consumer.waiting {
                consumer.waiting = true;
                st.waiting.push_back(client);
            }
            return TakeOutcome { taken: 0, full };
        }
        let now = Instant::now();
        let deadline = now + msg_timeout;
        let mut taken = 0;
        let mut rng = (sample_rate > 0).then(rand::thread_rng);
        while credit > 0 {
            let next = match st.requeued.pop_front() {
                Some((m, t)) => Some((m, Some(t))),
                None => st.queue.pop_tracked().map(|(StoredMessage(m), t)| (m, t)),
            };
            let Some((mut msg, ticket)) = next else {
                break;
            };
            if !st.restored_deferrals.is_empty() {
                if let Some(due) = st.restored_deferrals.remove(&msg.id) {
                    let left = due - crate::topic::unix_nanos();
                    if left > 0 {
                        // Deferred when nsqd last stopped (or a durable DPUB):
                        // wait for the time that is left.
                        let until = now + Duration::from_nanos(left as u64);
                        st.deferred_deadlines.push(Reverse((until, msg.id)));
                        st.deferred.insert(msg.id, (msg, until, ticket));
                        continue;
                    }
                }
            }
            if let Some(rng) = rng.as_mut() {
                if rng.gen_range(0..100) > sample_rate {
                    // Sampled out: consumed and discarded, as in nsqd.
                    if let Some(t) = ticket {
                        st.queue.finish(t);
                    }
                    continue;
                }
            }
            msg.attempts = msg.attempts.saturating_add(1);
            out.push(msg.clone());
            st.in_flight_deadlines.push(Reverse((deadline, msg.id)));
            st.in_flight.insert(
                msg.id,
                InFlight {
                    msg,
                    ticket,
                    client,
                    deadline,
                    delivered: now,
                },
            );
            credit -= 1;
            taken += 1;
        }
        consumer.in_flight += taken as u64;
        let in_flight_total = consumer.in_flight;
        consumer
            .handle
            .stats
            .in_flight_count
            .store(in_flight_total as i64, Ordering::Relaxed);
        if taken > 0 {
            consumer
                .handle
                .stats
                .message_count
                .fetch_add(taken as u64, Ordering::Relaxed);
        }
        let full = credit == 0;
        if !full && !consumer.waiting {
            consumer.waiting = true;
            st.waiting.push_back(client);
        }
        if taken > 0 && !(st.queue.is_empty() && st.requeued.is_empty()) {
            // More is waiting than this consumer could take: let another one try.
            st.wake_waiting(1);
        }
        TakeOutcome { taken, full }
    }

    /// FIN: the message is done. Returns its publish timestamp (ns).
    pub fn finish(&self, client: ClientId, id: &MessageId) -> Result<i64, InFlightError> {
        let mut st = self.state.lock();
        let f = st.take_in_flight(client, id)?;
        st.done(f.ticket);
        drop(st);
        self.e2e.record_since(f.msg.timestamp);
        Ok(f.msg.timestamp)
    }

    /// REQ: put the message back, at once or after `delay`.
    pub fn requeue(
        &self,
        client: ClientId,
        id: &MessageId,
        delay: Duration,
    ) -> Result<(), InFlightError> {
        let mut st = self.state.lock();
        let f = st.take_in_flight(client, id)?;
        self.requeue_count.fetch_add(1, Ordering::Relaxed);
        if delay.is_zero() {
            st.enqueue(f.msg, f.ticket);
        } else {
            st.defer(f.msg, Instant::now() + delay, f.ticket);
        }
        Ok(())
    }

    /// TOUCH: push the deadline to now + `timeout`, capped at delivery + `max_timeout`.
    pub fn touch(
        &self,
        client: ClientId,
        id: &MessageId,
        timeout: Duration,
        max_timeout: Duration,
    ) -> Result<(), InFlightError> {
        let mut st = self.state.lock();
        let st = &mut *st;
        let f = st.in_flight.get_mut(id).ok_or(InFlightError::NotInFlight)?;
        if f.client != client {
            return Err(InFlightError::NotOwner);
        }
        let now = Instant::now();
        let deadline = (now + timeout).min(f.delivered + max_timeout);
        f.deadline = deadline;
        st.in_flight_deadlines.push(Reverse((deadline, *id)));
        Ok(())
    }

    /// Requeues expired in-flight messages and releases due deferred ones.
    /// Returns how many messages moved.
    pub fn process_deadlines(&self, now: Instant) -> usize {
        let mut st = self.state.lock();
        let st = &mut *st;
        let mut moved = 0;
        while let Some(Reverse((deadline, id))) = st.in_flight_deadlines.peek().copied() {
            if deadline > now {
                break;
            }
            st.in_flight_deadlines.pop();
            let current = st.in_flight.get(&id).map(|f| f.deadline);
            if current != Some(deadline) {
                continue; // finished, requeued or touched since
            }
            if let Some(f) = st.in_flight.remove(&id) {
                st.release_in_flight(f.client);
                if let Some(c) = st.consumers.get(&f.client) {
                    c.handle.wake.notify_one();
                }
                self.timeout_count.fetch_add(1, Ordering::Relaxed);
                st.enqueue(f.msg, f.ticket);
                moved += 1;
            }
        }
        while let Some(Reverse((due, id))) = st.deferred_deadlines.peek().copied() {
            if due > now {
                break;
            }
            st.deferred_deadlines.pop();
            let current = st.deferred.get(&id).map(|(_, d, _)| *d);
            if current != Some(due) {
                continue;
            }
            if let Some((msg, _, ticket)) = st.deferred.remove(&id) {
                st.enqueue(msg, ticket);
                moved += 1;
            }
        }
        st.queue.sync_if_due();
        if st.in_flight_deadlines.len() > 4 * st.in_flight.len() + 1024 {
            // Drop stale heap entries left by FIN/REQ/TOUCH.
            let live: BinaryHeap<_> = st
                .in_flight
                .iter()
                .map(|(id, f)| Reverse((f.deadline, *id)))
                .collect();
            st.in_flight_deadlines = live;
        }
        moved
    }

    /// Fsyncs the channel's disk queue if anything changed since the last sync.
    pub fn sync_now(&self) {
        self.state.lock().queue.sync_now();
    }

    /// Drops every waiting, in-flight and deferred message; consumers keep their connections.
    pub fn empty(&self) {
        let mut st = self.state.lock();
        st.queue.clear();
        st.requeued.clear();
        st.in_flight.clear();
        st.in_flight_deadlines.clear();
        st.deferred.clear();
        st.deferred_deadlines.clear();
        for c in st.consumers.values_mut() {
            c.in_flight = 0;
            c.handle.stats.in_flight_count.store(0, Ordering::Relaxed);
            c.handle.wake.notify_one();
        }
    }

    /// Pauses or resumes delivery. Messages keep arriving while paused.
    pub fn set_paused(&self, paused: bool) {
        let mut st = self.state.lock();
        st.paused = paused;
        if !paused {
            st.wake_all();
        }
    }

    /// Whether delivery is paused.
    pub fn is_paused(&self) -> bool {
        self.state.lock().paused
    }

    /// Clean shutdown: writes waiting, in-flight and deferred messages to the
    /// disk queue (in that order; deferral and ownership are not kept) and
    /// closes it. Ephemeral channels discard them.
    pub fn close_for_shutdown(&self) {
        let mut st = self.state.lock();
        let st = &mut *st;
        st.deleted = true;
        let mut in_flight: Vec<InFlight> = st.in_flight.drain().map(|(_, f)| f).collect();
        in_flight.sort_by_key(|f| f.delivered);
        let mut deferred: Vec<(Message, Instant, Option<ReadTicket>)> =
            st.deferred.drain().map(|(_, d)| d).collect();
        deferred.sort_by_key(|(_, due, _)| *due);
        if !self.ephemeral {
            let now = Instant::now();
            let now_ns = crate::topic::unix_nanos();
            let mut due: Vec<(MessageId, i64)> = deferred
                .iter()
                .map(|(m, at, _)| {
                    (
                        m.id,
                        now_ns + at.saturating_duration_since(now).as_nanos() as i64,
                    )
                })
                .collect();
            // Deferrals restored at start-up whose messages were never read keep theirs.
            due.extend(st.restored_deferrals.drain());
            let queue_name = format!("{}:{}", self.topic_name, self.name);
            if let Err(e) = crate::deferred_file::save(&self.data_path, &queue_name, &due) {
                tracing::error!("CHANNEL({queue_name}): failed to save deferral times - {e}");
            }
        }
        // Messages that are still unfinished records of the disk queue are read
        // again after the restart; only the others need writing.
        st.requeued.clear();
        let extra = in_flight
            .into_iter()
            .filter(|f| f.ticket.is_none())
            .map(|f| StoredMessage(f.msg))
            .chain(
                deferred
                    .into_iter()
                    .filter(|(_, _, t)| t.is_none())
                    .map(|(m, _, _)| StoredMessage(m)),
            );
        if let Err(e) = st.queue.flush_and_close(extra) {
            tracing::error!(
                "CHANNEL({}:{}): failed to flush to disk - {e}",
                self.topic_name,
                self.name
            );
        }
    }

    /// Marks the channel deleted, drops its messages and files, and closes its consumers.
    pub fn delete(&self) {
        let mut st = self.state.lock();
        st.deleted = true;
        st.queue.clear();
        st.queue.delete();
        st.in_flight.clear();
        st.in_flight_deadlines.clear();
        st.deferred.clear();
        st.deferred_deadlines.clear();
        for c in st.consumers.values() {
            c.handle.close.notify_one();
        }
    }

    /// Whether [`Channel::delete`] has run.
    pub fn is_deleted(&self) -> bool {
        self.state.lock().deleted
    }

    /// Figures for `/stats`.
    pub fn snapshot(&self) -> ChannelSnapshot {
        let st = self.state.lock();
        ChannelSnapshot {
            name: self.name.clone(),
            depth: st.queue.depth() + st.requeued.len() as u64,
            backend_depth: st.queue.backend_depth(),
            in_flight_count: st.in_flight.len() as u64,
            deferred_count: st.deferred.len() as u64,
            message_count: self.message_count.load(Ordering::Relaxed),
            requeue_count: self.requeue_count.load(Ordering::Relaxed),
            timeout_count: self.timeout_count.load(Ordering::Relaxed),
            paused: st.paused,
            bad_files: st.queue.bad_files(),
            clients: st
                .consumers
                .values()
                .map(|c| c.handle.stats.clone())
                .collect(),
        }
    }
}
