//! The queue nsqd keeps per topic and per channel: a bounded memory FIFO
//! that spills to a [`DiskQueue`] when full.

use tracing::{error, warn};

use crate::disk_queue::{DiskQueue, ReadTicket};
use crate::error::QueueError;
use crate::memory::MemoryQueue;

/// An item that can be stored as a disk-queue record.
pub trait QueueItem: Sized {
    /// Appends the record encoding of `self` to `out` (which the caller has
    /// cleared).
    fn encode(&self, out: &mut Vec<u8>);

    /// Decodes a record written by [`QueueItem::encode`] (or by Go nsqd).
    /// An error is a description of what is wrong; the record is skipped.
    fn decode(bytes: bytes::Bytes) -> Result<Self, String>;
}

/// Where [`SpillQueue::put`] stored an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    /// Kept in memory.
    Memory,
    /// Written to the disk queue because memory was full.
    Disk,
    /// Discarded: memory was full and the queue has no disk queue
    /// (ephemeral topic or channel).
    Dropped,
}

/// Memory first, disk for the overflow.
///
/// Items are returned from memory first, then from disk, so the overall
/// order is not FIFO once the queue has spilled (the same as nsqd).
#[derive(Debug)]
pub struct SpillQueue<T: QueueItem> {
    memory: MemoryQueue<T>,
    disk: Option<DiskQueue>,
    encode_buf: Vec<u8>,
    bad_records: u64,
}

impl<T: QueueItem> SpillQueue<T> {
    /// Creates a queue keeping up to `mem_capacity` items in memory.
    /// `disk` is `None` for ephemeral queues (overflow is dropped); with
    /// `mem_capacity == 0` every item goes to disk.
    pub fn new(mem_capacity: usize, disk: Option<DiskQueue>) -> Self {
        SpillQueue {
            memory: MemoryQueue::new(mem_capacity),
            disk,
            encode_buf: Vec::new(),
            bad_records: 0,
        }
    }

    /// Stores `item` in memory if there is room, otherwise on disk, otherwise
    /// drops it. Errors come from the disk queue (record size out of bounds,
    /// I/O failure); the item is then not stored.
    pub fn put(&mut self, item: T) -> Result<PutOutcome, QueueError> {
        let item = match self.memory.try_push(item) {
            Ok(()) => return Ok(PutOutcome::Memory),
            Err(item) => item,
        };
        match self.disk.as_mut() {
            Some(disk) => {
                self.encode_buf.clear();
                item.encode(&mut self.encode_buf);
                disk.put(&self.encode_buf)?;
                Ok(PutOutcome::Disk)
            }
            None => Ok(PutOutcome::Dropped),
        }
    }

    /// Stores `items` in order: memory while there is room, the rest on disk
    /// with one write per segment touched (see [`DiskQueue::put_many`]), or
    /// dropped without a disk queue. Returns how many were dropped.
    pub fn put_many(&mut self, items: impl IntoIterator<Item = T>) -> Result<usize, QueueError> {
        let mut items = items.into_iter();
        let mut overflow = None;
        for item in items.by_ref() {
            if let Err(item) = self.memory.try_push(item) {
                overflow = Some(item);
                break;
            }
        }
        let Some(first) = overflow else {
            return Ok(0);
        };
        let Some(disk) = self.disk.as_mut() else {
            return Ok(1 + items.count());
        };
        self.encode_buf.clear();
        let mut ends = Vec::new();
        for item in std::iter::once(first).chain(items) {
            item.encode(&mut self.encode_buf);
            ends.push(self.encode_buf.len());
        }
        let mut start = 0;
        let records: Vec<&[u8]> = ends
            .iter()
            .map(|&end| {
                let r = &self.encode_buf[start..end];
                start = end;
                r
            })
            .collect();
        disk.put_many(&records)?;
        Ok(0)
    }

    /// Removes and returns the next item: from memory if any, else from
    /// disk. Disk records that do not decode are logged, counted in
    /// [`SpillQueue::bad_records`] and skipped.
    pub fn pop(&mut self) -> Result<Option<T>, QueueError> {
        if let Some(item) = self.memory.pop() {
            return Ok(Some(item));
        }
        let Some(disk) = self.disk.as_mut() else {
            return Ok(None);
        };
        while let Some(record) = disk.pop()? {
            let len = record.len();
            match T::decode(record) {
                Ok(item) => return Ok(Some(item)),
                Err(reason) => {
                    self.bad_records += 1;
                    warn!(
                        queue = %disk.name(),
                        "disk queue {:?}: skipping a {len}-byte record that does not decode: {reason}",
                        disk.name()
                    );
                }
            }
        }
        Ok(None)
    }

    /// Like [`SpillQueue::pop`], but items read from disk come with their
    /// [`ReadTicket`] (memory items: `None`). With
    /// [`DiskQueueOptions::tracked_reads`](crate::DiskQueueOptions::tracked_reads)
    /// a disk item stays on disk until [`SpillQueue::finish`] gets its
    /// ticket (see [`DiskQueue::pop_tracked`]). Disk records that do not
    /// decode are counted in [`SpillQueue::bad_records`], finished (they
    /// would fail again after a restart) and skipped.
    pub fn pop_tracked(&mut self) -> Result<Option<(T, Option<ReadTicket>)>, QueueError> {
        if let Some(item) = self.memory.pop() {
            return Ok(Some((item, None)));
        }
        let Some(disk) = self.disk.as_mut() else {
            return Ok(None);
        };
        while let Some((record, ticket)) = disk.pop_tracked()? {
            let len = record.len();
            match T::decode(record) {
                Ok(item) => return Ok(Some((item, Some(ticket)))),
                Err(reason) => {
                    self.bad_records += 1;
                    warn!(
                        queue = %disk.name(),
                        "disk queue {:?}: skipping a {len}-byte record that does not decode: {reason}",
                        disk.name()
                    );
                    disk.finish(ticket);
                }
            }
        }
        Ok(None)
    }

    /// Passes the ticket of an item returned by [`SpillQueue::pop_tracked`]
    /// to the disk queue ([`DiskQueue::finish`]). A no-op without a disk
    /// queue.
    pub fn finish(&mut self, ticket: ReadTicket) {
        if let Some(disk) = self.disk.as_mut() {
            disk.finish(ticket);
        }
    }

    /// Items in memory plus the disk queue's depth.
    pub fn depth(&self) -> i64 {
        i64::try_from(self.memory.len()).unwrap_or(i64::MAX) + self.backend_depth()
    }

    /// Items in memory.
    pub fn memory_depth(&self) -> usize {
        self.memory.len()
    }

    /// The memory capacity given to [`SpillQueue::new`].
    pub fn mem_capacity(&self) -> usize {
        self.memory.capacity()
    }

    /// The disk queue's depth (0 without a disk queue).
    pub fn backend_depth(&self) -> i64 {
        self.disk.as_ref().map_or(0, DiskQueue::depth)
    }

    /// Whether overflow is dropped because there is no disk queue.
    pub fn is_ephemeral(&self) -> bool {
        self.disk.is_none()
    }

    /// Disk records skipped because they did not decode.
    pub fn bad_records(&self) -> u64 {
        self.bad_records
    }

    /// The disk queue, if any (e.g. for [`DiskQueue::sync_if_due`] or
    /// [`DiskQueue::bad_files`]).
    pub fn disk(&self) -> Option<&DiskQueue> {
        self.disk.as_ref()
    }

    /// Mutable access to the disk queue, if any.
    pub fn disk_mut(&mut self) -> Option<&mut DiskQueue> {
        self.disk.as_mut()
    }

    /// Discards every item, in memory and on disk (see [`DiskQueue::empty`]).
    pub fn empty(&mut self) -> Result<(), QueueError> {
        self.memory.clear();
        match self.disk.as_mut() {
            Some(disk) => disk.empty(),
            None => Ok(()),
        }
    }

    /// Writes every in-memory item to the disk queue, oldest first (for a
    /// clean shutdown). Returns how many were written. Without a disk queue
    /// nothing is written and memory is left as is. On failure every item
    /// is still attempted; the ones that failed stay in memory, in order,
    /// and the first error is returned.
    pub fn drain_memory_to_disk(&mut self) -> Result<usize, QueueError> {
        let Some(disk) = self.disk.as_mut() else {
            return Ok(0);
        };
        let mut written = 0;
        let mut failed = Vec::new();
        let mut first_err = None;
        while let Some(item) = self.memory.pop() {
            self.encode_buf.clear();
            item.encode(&mut self.encode_buf);
            match disk.put(&self.encode_buf) {
                Ok(()) => written += 1,
                Err(e) => {
                    error!(
                        queue = %disk.name(),
                        "disk queue {:?}: failed to write a message while flushing memory - {e}",
                        disk.name()
                    );
                    failed.push(item);
                    first_err.get_or_insert(e);
                }
            }
        }
        // Memory is empty now; put the failed items back, oldest first.
        for item in failed.into_iter().rev() {
            self.memory.push_front(item);
        }
        first_err.map_or(Ok(written), Err)
    }

    /// Gives up the queue, returning its disk queue (still open). Items
    /// still in memory are dropped: call
    /// [`SpillQueue::drain_memory_to_disk`] first to keep them.
    pub fn into_disk(self) -> Option<DiskQueue> {
        self.disk
    }

    /// Drops the in-memory items and deletes the disk queue's files
    /// (see [`DiskQueue::delete`]).
    pub fn delete(self) -> Result<(), QueueError> {
        match self.disk {
            Some(disk) => disk.delete(),
            None => Ok(()),
        }
    }
}
