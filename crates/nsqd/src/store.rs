//! The queue seam: where a topic's or channel's waiting messages live.
//!
//! Topics and channels talk to [`MessageStore`] only. Behind it is the queue
//! crate's [`SpillQueue`]: up to `--mem-queue-size` items in memory, the rest
//! in a go-diskqueue compatible disk queue (none for ephemeral names, whose
//! overflow is dropped as in nsqd).

use crate::durability::Durability;
use crate::options::Options;
use nsq_protocol::{Message, MESSAGE_HEADER_LEN};
use nsq_queue::{
    DiskQueue, DiskQueueOptions, PutOutcome, QueueError, QueueItem, ReadTicket, SpillQueue,
};
use std::path::PathBuf;
use std::sync::Arc;

/// What topics and channels are created with: where and how they store their
/// queues, and which latency percentiles their channels track.
#[derive(Debug, Clone)]
pub struct TopicSettings {
    /// `--data-path`.
    pub data_path: PathBuf,
    /// `--mem-queue-size`.
    pub mem_queue_size: usize,
    /// Disk queue tuning (`--max-bytes-per-file`, `--sync-every`, ...).
    pub disk: DiskQueueOptions,
    /// `--sync-every=1`: publishes are acknowledged only once fsynced (group
    /// commit), every message goes to disk, and a message read from disk stays
    /// there until it is finished.
    pub durability: Option<Arc<Durability>>,
    /// `--e2e-processing-latency-percentile` (empty: not tracked).
    pub e2e_percentiles: Vec<f64>,
    /// `--e2e-processing-latency-window-time`.
    pub e2e_window: std::time::Duration,
}

impl TopicSettings {
    /// The queue settings of `opts`.
    pub fn from_options(opts: &Options) -> Self {
        let durable = opts.sync_every <= 1;
        TopicSettings {
            data_path: opts.data_path.clone(),
            mem_queue_size: opts.mem_queue_size.max(0) as usize,
            disk: DiskQueueOptions {
                max_bytes_per_file: opts.max_bytes_per_file,
                min_msg_size: MESSAGE_HEADER_LEN as i32,
                max_msg_size: (opts.max_msg_size + MESSAGE_HEADER_LEN as i64)
                    .clamp(0, i64::from(i32::MAX)) as i32,
                // In durable mode the group-commit rounds do the syncing.
                sync_every: if durable { i64::MAX } else { opts.sync_every },
                sync_timeout: opts.sync_timeout,
                tracked_reads: durable,
            },
            durability: durable.then(|| Arc::new(Durability::default())),
            e2e_percentiles: opts.e2e_processing_latency_percentiles.clone(),
            e2e_window: opts.e2e_processing_latency_window_time,
        }
    }

    /// Whether publishes wait for fsync (`--sync-every=1`).
    pub fn is_durable(&self) -> bool {
        self.durability.is_some()
    }
}

/// A message as stored in a channel queue (the disk record is the message layout).
#[derive(Debug, Clone)]
pub struct StoredMessage(pub Message);

impl QueueItem for StoredMessage {
    fn encode(&self, out: &mut Vec<u8>) {
        self.0.encode_to_vec(out);
    }

    fn decode(bytes: bytes::Bytes) -> Result<Self, String> {
        Message::decode(bytes)
            .map(StoredMessage)
            .map_err(|e| e.to_string())
    }
}

/// A FIFO of waiting items with nsqd's depth accounting.
#[derive(Debug)]
pub struct MessageStore<T: QueueItem> {
    name: String,
    queue: SpillQueue<T>,
    /// Disk reads are acknowledged (durable mode): [`MessageStore::pop_tracked`] hands out tickets.
    tracked: bool,
}

impl<T: QueueItem> MessageStore<T> {
    /// Opens the store of queue `name` (`topic` or `topic:channel`); ephemeral
    /// names get no disk queue. A disk queue that cannot be opened is logged and
    /// the store keeps working in memory.
    pub fn open(name: &str, ephemeral: bool, cfg: &TopicSettings) -> Self {
        let disk = if ephemeral {
            None
        } else {
            match DiskQueue::open(name, &cfg.data_path, cfg.disk.clone()) {
                Ok(mut q) => {
                    // The --sync-every/--sync-timeout fsyncs must not run
                    // under the topic's or channel's lock (durable mode syncs
                    // through its group commit instead).
                    q.set_background_sync(!cfg.is_durable());
                    Some(q)
                }
                Err(e) => {
                    tracing::error!("DISKQUEUE({name}): failed to open - {e}");
                    None
                }
            }
        };
        // Durable mode writes every message through to disk.
        let mem = if cfg.is_durable() && !ephemeral {
            0
        } else {
            cfg.mem_queue_size
        };
        MessageStore {
            name: name.to_string(),
            tracked: cfg.disk.tracked_reads && disk.is_some(),
            queue: SpillQueue::new(mem, disk),
        }
    }

    /// A memory-only store holding up to `capacity` items (unit tests).
    pub fn in_memory(capacity: usize) -> Self {
        MessageStore {
            name: String::new(),
            queue: SpillQueue::new(capacity, None),
            tracked: false,
        }
    }

    /// Appends an item: memory while there is room, then disk.
    pub fn push(&mut self, item: T) -> Result<PutOutcome, QueueError> {
        let outcome = self.queue.put(item)?;
        if outcome == PutOutcome::Dropped {
            tracing::debug!(
                "QUEUE({}): memory full, ephemeral message dropped",
                self.name
            );
        }
        Ok(outcome)
    }

    /// Appends items in order, writing the disk overflow in one go.
    pub fn push_many(&mut self, items: impl IntoIterator<Item = T>) -> Result<(), QueueError> {
        let dropped = self.queue.put_many(items)?;
        if dropped > 0 {
            tracing::debug!(
                "QUEUE({}): memory full, {dropped} ephemeral messages dropped",
                self.name
            );
        }
        Ok(())
    }

    /// Takes the oldest item (memory first, then disk). Disk errors are logged
    /// and reported as empty: the queue crate sets bad files aside and moves on.
    pub fn pop(&mut self) -> Option<T> {
        match self.queue.pop() {
            Ok(item) => item,
            Err(e) => {
                tracing::error!("QUEUE({}): read failed - {e}", self.name);
                None
            }
        }
    }

    /// Takes the oldest item; one read from a disk queue with acknowledged
    /// reads comes with the ticket to [`MessageStore::finish`] once it is done.
    pub fn pop_tracked(&mut self) -> Option<(T, Option<ReadTicket>)> {
        if !self.tracked {
            return self.pop().map(|item| (item, None));
        }
        match self.queue.pop_tracked() {
            Ok(item) => item,
            Err(e) => {
                tracing::error!("QUEUE({}): read failed - {e}", self.name);
                None
            }
        }
    }

    /// The item of `ticket` is done: the disk queue may forget it.
    pub fn finish(&mut self, ticket: ReadTicket) {
        self.queue.finish(ticket);
    }

    /// Syncs the disk queue now if anything changed since the last sync.
    pub fn sync_now(&mut self) {
        if let Some(disk) = self.queue.disk_mut() {
            if disk.needs_periodic_sync() {
                if let Err(e) = disk.sync() {
                    tracing::error!("QUEUE({}): sync failed - {e}", self.name);
                }
            }
        }
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.queue.depth() == 0
    }

    /// Items waiting, memory and disk together (`depth` in `/stats`).
    pub fn depth(&self) -> u64 {
        self.queue.depth().max(0) as u64
    }

    /// Items waiting on disk (`backend_depth` in `/stats`).
    pub fn backend_depth(&self) -> u64 {
        self.queue.backend_depth().max(0) as u64
    }

    /// Corrupt segment files set aside (`.bad`) plus undecodable records skipped.
    pub fn bad_files(&self) -> u64 {
        self.queue.disk().map_or(0, |d| d.bad_files()) + self.queue.bad_records()
    }

    /// Drops everything waiting, memory and disk.
    pub fn clear(&mut self) {
        if let Err(e) = self.queue.empty() {
            tracing::error!("QUEUE({}): empty failed - {e}", self.name);
        }
    }

    /// Syncs the disk queue if `--sync-timeout` has passed since the last sync.
    pub fn sync_if_due(&mut self) {
        if let Some(disk) = self.queue.disk_mut() {
            if let Err(e) = disk.sync_if_due() {
                tracing::error!("QUEUE({}): sync failed - {e}", self.name);
            }
        }
    }

    /// Clean shutdown: moves memory items, then `extra` (in-flight and
    /// deferred messages), to the disk queue and closes it. Without a disk
    /// queue (ephemeral) everything is discarded, as in nsqd.
    pub fn flush_and_close(
        &mut self,
        extra: impl IntoIterator<Item = T>,
    ) -> Result<(), QueueError> {
        if self.queue.disk().is_none() {
            return Ok(());
        }
        self.queue.drain_memory_to_disk()?;
        let mut buf = Vec::new();
        if let Some(disk) = self.queue.disk_mut() {
            for item in extra {
                buf.clear();
                item.encode(&mut buf);
                disk.put(&buf)?;
            }
            disk.close()?;
        }
        Ok(())
    }

    /// Removes the queue's files (topic or channel deleted).
    pub fn delete(&mut self) {
        let queue = std::mem::replace(&mut self.queue, SpillQueue::new(0, None));
        if let Err(e) = queue.delete() {
            tracing::error!("QUEUE({}): delete failed - {e}", self.name);
        }
    }
}
