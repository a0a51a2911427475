//! A topic: accepts published messages and copies them to every channel.
//!
//! While a topic has channels and is not paused, a publish goes straight to
//! the channels (each gets the same id, timestamp and shared body). While it
//! is paused or has no channel, messages wait in the topic's own store and are
//! handed over, in order, once a channel exists and the topic is unpaused.

use crate::channel::Channel;
use crate::guid::GuidFactory;
use crate::store::{MessageStore, TopicSettings};
use bytes::Bytes;
use nsq_protocol::{Message, MessageId};
use nsq_queue::{QueueItem, ReadTicket};
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::Notify;

/// Messages moved from the topic's own queue to its channels per lock hold.
const PUMP_CHUNK: usize = 1024;

/// A message waiting in a topic, with the deferral it was published with.
#[derive(Debug, Clone)]
pub struct PendingMessage {
    /// The message.
    pub msg: Message,
    /// Deferral that starts when the message reaches a channel.
    pub defer: Duration,
}

impl QueueItem for PendingMessage {
    /// On disk a pending message is a plain message record: the deferral is
    /// not stored (as in nsqd).
    fn encode(&self, out: &mut Vec<u8>) {
        self.msg.encode_to_vec(out);
    }

    fn decode(bytes: Bytes) -> Result<Self, String> {
        Message::decode(bytes)
            .map(|msg| PendingMessage {
                msg,
                defer: Duration::ZERO,
            })
            .map_err(|e| e.to_string())
    }
}

#[derive(Debug)]
struct TopicState {
    channels: BTreeMap<String, Arc<Channel>>,
    backlog: MessageStore<PendingMessage>,
    paused: bool,
    deleted: bool,
    /// False while nsqd is still pre-creating the channels lookupd knows of:
    /// messages wait in the topic until then.
    started: bool,
    /// Messages the pump took from the topic's queue that some channel could
    /// not store (disk full): retried before anything else moves.
    stalled: Option<Stalled>,
}

/// A pump chunk that did not reach every channel.
#[derive(Debug, Default)]
struct Stalled {
    /// The copies still to store: channel, messages, deferral.
    deliveries: Vec<(Arc<Channel>, Vec<Message>, Duration)>,
    /// Records of a durable topic queue behind the chunk: finished only once
    /// every copy is stored.
    tickets: Vec<ReadTicket>,
}

impl Stalled {
    /// Messages waiting in it (each counted once, whatever the channels).
    fn depth(&self) -> u64 {
        let mut ids: Vec<MessageId> = self
            .deliveries
            .iter()
            .flat_map(|(_, msgs, _)| msgs.iter().map(|m| m.id))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids.len() as u64
    }
}

impl TopicState {
    fn can_deliver(&self) -> bool {
        self.started && !self.paused && !self.channels.is_empty()
    }

    /// Hands messages to every channel (each gets the same ids, timestamps
    /// and shared bodies). Every channel is tried; the first
    /// storage error (disk full) is returned, so that a publish that did not
    /// reach every channel is refused rather than acknowledged.
    fn fan_out(&self, msgs: Vec<Message>, defer: Duration) -> Result<(), nsq_queue::QueueError> {
        let mut result = Ok(());
        let mut channels = self.channels.values().peekable();
        let mut msgs = Some(msgs);
        while let Some(ch) = channels.next() {
            let copy = match channels.peek() {
                Some(_) => msgs.clone(),
                None => msgs.take(),
            };
            let Some(copy) = copy else { break };
            if let Err(e) = ch.put_many(copy, defer) {
                if result.is_ok() {
                    result = Err(e);
                }
            }
        }
        result
    }

    /// Like [`TopicState::fan_out`], for the pump: the copies that a channel
    /// could not store are kept in `failed` to be retried.
    fn fan_out_kept(
        &self,
        msgs: Vec<Message>,
        defer: Duration,
        failed: &mut Vec<(Arc<Channel>, Vec<Message>, Duration)>,
    ) {
        for ch in self.channels.values() {
            if ch.put_many(msgs.clone(), defer).is_err() {
                // The channel has logged why; a retry may store some of
                // them twice (at least once, never lost).
                failed.push((ch.clone(), msgs.clone(), defer));
            }
        }
    }

    /// Retries a stalled chunk. Returns the tickets to finish once it has
    /// gone through, or None while some channel still cannot store it.
    fn retry_stalled(&mut self) -> Option<Vec<ReadTicket>> {
        let stalled = self.stalled.as_mut()?;
        let mut still = Vec::new();
        for (ch, msgs, defer) in stalled.deliveries.drain(..) {
            if ch.is_deleted() {
                continue;
            }
            if ch.put_many(msgs.clone(), defer).is_err() {
                still.push((ch, msgs, defer));
            }
        }
        if still.is_empty() {
            return self.stalled.take().map(|s| s.tickets);
        }
        stalled.deliveries = still;
        None
    }

    /// Hands up to `max` waiting messages to the channels; true if more wait.
    /// Tickets of records read from a durable topic queue are added to
    /// `tickets`: they may be finished once the channels' copies are synced.
    /// If a channel cannot store its copy, the chunk is kept as stalled and
    /// nothing more moves until a retry succeeds.
    fn drain_some(&mut self, max: usize, tickets: &mut Vec<ReadTicket>) -> Result<bool, Stall> {
        if self.stalled.is_some() {
            match self.retry_stalled() {
                Some(done) => tickets.extend(done),
                None => return Err(Stall),
            }
        }
        if !self.can_deliver() {
            return Ok(false);
        }
        let mut failed = Vec::new();
        let mut chunk_tickets = Vec::new();
        let mut run: Vec<Message> = Vec::new();
        let mut run_defer = Duration::ZERO;
        let mut more = true;
        for _ in 0..max {
            let Some((p, ticket)) = self.backlog.pop_tracked() else {
                more = false;
                break;
            };
            chunk_tickets.extend(ticket);
            if p.defer != run_defer && !run.is_empty() {
                self.fan_out_kept(std::mem::take(&mut run), run_defer, &mut failed);
            }
            run_defer = p.defer;
            run.push(p.msg);
        }
        if !run.is_empty() {
            self.fan_out_kept(run, run_defer, &mut failed);
        }
        if !failed.is_empty() {
            self.stalled = Some(Stalled {
                deliveries: failed,
                tickets: chunk_tickets,
            });
            return Err(Stall);
        }
        tickets.extend(chunk_tickets);
        Ok(more && !self.backlog.is_empty())
    }
}

/// The pump cannot move messages on: a channel cannot store them (disk full).
#[derive(Debug, Clone, Copy)]
struct Stall;

/// How long the pump waits before retrying a stalled chunk.
const STALL_RETRY: Duration = Duration::from_millis(500);

/// Why a publish was refused.
#[derive(Debug, thiserror::Error)]
pub enum PutError {
    /// The topic is being deleted or nsqd is shutting down.
    #[error("exiting")]
    Exiting,
    /// The topic's disk queue refused the message (disk full, I/O error).
    #[error("{0}")]
    Backend(#[from] nsq_queue::QueueError),
}

/// A topic.
#[derive(Debug)]
pub struct Topic {
    /// Topic name.
    pub name: String,
    /// `#ephemeral`: no disk queue, deleted when its last channel goes.
    pub ephemeral: bool,
    state: Mutex<TopicState>,
    guid: Mutex<GuidFactory>,
    queue_config: TopicSettings,
    pump: Notify,
    message_count: AtomicU64,
    message_bytes: AtomicU64,
}

/// A point-in-time copy of a topic's figures for `/stats`.
#[derive(Debug, Clone)]
pub struct TopicSnapshot {
    /// Topic name.
    pub name: String,
    /// The channels, sorted by name.
    pub channels: Vec<Arc<Channel>>,
    /// Messages waiting in the topic itself.
    pub depth: u64,
    /// Of which on disk.
    pub backend_depth: u64,
    /// Messages accepted since start.
    pub message_count: u64,
    /// Body bytes accepted since start.
    pub message_bytes: u64,
    /// Paused.
    pub paused: bool,
    /// Corrupt disk-queue files set aside and undecodable records skipped.
    pub bad_files: u64,
}

/// Current time in Unix nanoseconds (message timestamps).
pub fn unix_nanos() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

impl Topic {
    /// A new topic whose message ids carry `node_id`, with its queue (and its
    /// channels' queues) stored as `cfg` says. Starts the task that hands
    /// waiting messages to channels.
    pub fn new(name: &str, node_id: i64, cfg: &TopicSettings) -> Arc<Self> {
        Self::with_start(name, node_id, cfg, true)
    }

    /// Like [`Topic::new`]; with `started` false nothing reaches channels until [`Topic::start`].
    pub fn with_start(name: &str, node_id: i64, cfg: &TopicSettings, started: bool) -> Arc<Self> {
        let ephemeral = nsq_protocol::is_ephemeral(name);
        let topic = Arc::new(Topic {
            name: name.to_string(),
            ephemeral,
            state: Mutex::new(TopicState {
                channels: BTreeMap::new(),
                backlog: MessageStore::open(name, ephemeral, cfg),
                paused: false,
                deleted: false,
                started,
                stalled: None,
            }),
            guid: Mutex::new(GuidFactory::new(node_id)),
            queue_config: cfg.clone(),
            pump: Notify::new(),
            message_count: AtomicU64::new(0),
            message_bytes: AtomicU64::new(0),
        });
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(run_pump(topic.clone()));
        }
        topic.pump.notify_one();
        topic
    }

    /// Lets messages flow to channels (after channel pre-creation).
    pub fn start(&self) {
        self.state.lock().started = true;
        self.pump.notify_one();
    }

    /// Moves one chunk of waiting messages to the channels; true if more wait.
    /// In durable mode the topic's records are finished only after the
    /// channels' copies are on stable storage.
    async fn pump_chunk(&self) -> Result<bool, Stall> {
        let mut tickets = Vec::new();
        let drained = self.state.lock().drain_some(PUMP_CHUNK, &mut tickets);
        if !tickets.is_empty() {
            if let Some(d) = &self.queue_config.durability {
                d.wait_synced().await;
            }
            let mut st = self.state.lock();
            for t in tickets {
                st.backlog.finish(t);
            }
        }
        drained
    }

    /// Builds messages for `bodies` (fresh ids, one timestamp) and publishes
    /// them in order, all or none.
    pub fn publish(&self, bodies: Vec<Bytes>, defer: Duration) -> Result<(), PutError> {
        let now = unix_nanos();
        let msgs: Vec<Message> = {
            let mut guid = self.guid.lock();
            bodies
                .into_iter()
                .map(|body| Message {
                    id: guid.next_id(now),
                    timestamp: now,
                    attempts: 0,
                    body,
                })
                .collect()
        };
        self.put_messages(msgs, defer)
    }

    /// Publishes ready-made messages in order.
    pub fn put_messages(&self, msgs: Vec<Message>, defer: Duration) -> Result<(), PutError> {
        let mut st = self.state.lock();
        if st.deleted {
            return Err(PutError::Exiting);
        }
        let n = msgs.len() as u64;
        let bytes: u64 = msgs.iter().map(|m| m.body.len() as u64).sum();
        if st.can_deliver() && st.backlog.is_empty() {
            st.fan_out(msgs, defer)?;
        } else {
            st.backlog
                .push_many(msgs.into_iter().map(|msg| PendingMessage { msg, defer }))?;
            if st.can_deliver() {
                self.pump.notify_one();
            }
        }
        self.message_count.fetch_add(n, Ordering::Relaxed);
        self.message_bytes.fetch_add(bytes, Ordering::Relaxed);
        Ok(())
    }

    /// The channel `name`, created if missing. The bool says whether it was created.
    pub fn get_or_create_channel(&self, name: &str) -> Result<(Arc<Channel>, bool), PutError> {
        let mut st = self.state.lock();
        if st.deleted {
            return Err(PutError::Exiting);
        }
        if let Some(ch) = st.channels.get(name) {
            return Ok((ch.clone(), false));
        }
        let ch = Arc::new(Channel::new(&self.name, name, &self.queue_config));
        st.channels.insert(name.to_string(), ch.clone());
        self.pump.notify_one();
        Ok((ch, true))
    }

    /// The channel `name`, if it exists.
    pub fn channel(&self, name: &str) -> Option<Arc<Channel>> {
        self.state.lock().channels.get(name).cloned()
    }

    /// All channels, sorted by name.
    pub fn channels(&self) -> Vec<Arc<Channel>> {
        self.state.lock().channels.values().cloned().collect()
    }

    /// Deletes a channel and its messages; its consumers are disconnected.
    /// Returns false if there was no such channel.
    pub fn delete_channel(&self, name: &str) -> bool {
        let removed = self.state.lock().channels.remove(name);
        match removed {
            Some(ch) => {
                ch.delete();
                true
            }
            None => false,
        }
    }

    /// Deletes an ephemeral channel if it still has no consumer.
    /// Returns true if it was deleted.
    pub fn delete_channel_if_unused(&self, name: &str) -> bool {
        let mut st = self.state.lock();
        let unused = st
            .channels
            .get(name)
            .is_some_and(|ch| ch.ephemeral && !ch.has_consumers());
        if unused {
            if let Some(ch) = st.channels.remove(name) {
                ch.delete();
            }
        }
        unused
    }

    /// Whether the topic has no channel left.
    pub fn has_no_channels(&self) -> bool {
        self.state.lock().channels.is_empty()
    }

    /// Pauses or resumes the hand-over of messages to channels.
    pub fn set_paused(&self, paused: bool) {
        self.state.lock().paused = paused;
        self.pump.notify_one();
    }

    /// Whether the topic is paused.
    pub fn is_paused(&self) -> bool {
        self.state.lock().paused
    }

    /// Drops the messages waiting in the topic itself (channels untouched).
    pub fn empty(&self) {
        self.state.lock().backlog.clear();
    }

    /// Marks the topic deleted and deletes all its channels and files.
    pub fn delete(&self) {
        let mut st = self.state.lock();
        st.deleted = true;
        st.backlog.clear();
        st.backlog.delete();
        for ch in std::mem::take(&mut st.channels).into_values() {
            ch.delete();
        }
        drop(st);
        self.pump.notify_one();
    }

    /// Fsyncs the topic's queue and its channels' queues where anything was
    /// written since the last sync (one group-commit round).
    pub fn sync_queues_now(&self) {
        let channels = {
            let mut st = self.state.lock();
            st.backlog.sync_now();
            st.channels.values().cloned().collect::<Vec<_>>()
        };
        for ch in channels {
            ch.sync_now();
        }
    }

    /// Syncs the topic's disk queue if `--sync-timeout` has passed.
    pub fn sync_if_due(&self) {
        self.state.lock().backlog.sync_if_due();
    }

    /// Clean shutdown: flushes every channel, then the topic's own memory
    /// queue, to disk and closes the queues.
    pub fn close_for_shutdown(&self) {
        let mut st = self.state.lock();
        st.deleted = true;
        for ch in st.channels.values() {
            ch.close_for_shutdown();
        }
        // A stalled chunk whose records were already consumed from the
        // topic's queue goes back into it (durable records are still there).
        let stalled: Vec<PendingMessage> = match st.stalled.take() {
            Some(s) if s.tickets.is_empty() => {
                let mut seen = std::collections::HashSet::new();
                s.deliveries
                    .into_iter()
                    .flat_map(|(_, msgs, defer)| msgs.into_iter().map(move |m| (m, defer)))
                    .filter(|(m, _)| seen.insert(m.id))
                    .map(|(msg, defer)| PendingMessage { msg, defer })
                    .collect()
            }
            _ => Vec::new(),
        };
        if let Err(e) = st.backlog.flush_and_close(stalled) {
            tracing::error!("TOPIC({}): failed to flush to disk - {e}", self.name);
        }
        drop(st);
        self.pump.notify_one();
    }

    fn is_deleted(&self) -> bool {
        self.state.lock().deleted
    }

    /// Figures for `/stats`.
    pub fn snapshot(&self) -> TopicSnapshot {
        let st = self.state.lock();
        TopicSnapshot {
            name: self.name.clone(),
            channels: st.channels.values().cloned().collect(),
            depth: st.backlog.depth() + st.stalled.as_ref().map_or(0, Stalled::depth),
            backend_depth: st.backlog.backend_depth(),
            message_count: self.message_count.load(Ordering::Relaxed),
            message_bytes: self.message_bytes.load(Ordering::Relaxed),
            paused: st.paused,
            bad_files: st.backlog.bad_files(),
        }
    }
}

/// The topic's pump: whenever messages wait in the topic's own queue and it
/// can deliver, moves them to the channels in chunks, yielding in between so
/// publishers and consumers keep running. Ends when the topic is deleted or
/// closed (both notify it).
async fn run_pump(topic: Arc<Topic>) {
    loop {
        if topic.is_deleted() {
            return;
        }
        loop {
            match topic.pump_chunk().await {
                Ok(true) => tokio::task::yield_now().await,
                Ok(false) => break,
                Err(Stall) => {
                    // Retry when space may have returned (or sooner if woken).
                    let _ = tokio::time::timeout(STALL_RETRY, topic.pump.notified()).await;
                    if topic.is_deleted() {
                        return;
                    }
                }
            }
        }
        topic.pump.notified().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::Options;

    #[tokio::test]
    async fn a_body_published_once_is_stored_once_for_every_channel() {
        let dir = tempfile::tempdir().unwrap();
        let opts = Options {
            data_path: dir.path().to_path_buf(),
            ..Options::default()
        };
        let cfg = TopicSettings::from_options(&opts);
        let topic = Topic::new("fan", 1, &cfg);
        let (a, _) = topic.get_or_create_channel("a").unwrap();
        let (b, _) = topic.get_or_create_channel("b").unwrap();
        let body = Bytes::from(vec![7u8; 4096]);
        topic.publish(vec![body.clone()], Duration::ZERO).unwrap();
        let stats = Arc::new(crate::client_stats::ClientStats::new(1, None, 0));
        let handle = |s: &Arc<crate::client_stats::ClientStats>| crate::channel::ConsumerHandle {
            wake: Arc::new(Notify::new()),
            close: Arc::new(Notify::new()),
            stats: s.clone(),
        };
        let mut got = Vec::new();
        for ch in [&a, &b] {
            ch.add_consumer(handle(&stats), 0).unwrap();
            let mut out = Vec::new();
            ch.take(1, 1, 0, Duration::from_secs(60), &mut out);
            got.push(out.pop().unwrap().body);
        }
        // Same allocation: the body was never copied.
        assert_eq!(got[0].as_ptr(), body.as_ptr());
        assert_eq!(got[1].as_ptr(), body.as_ptr());
    }
}
