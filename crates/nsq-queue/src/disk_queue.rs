//! A synchronous, go-diskqueue v1.1.0 compatible queue of byte records.
//!
//! On-disk layout (shared with Go nsqd v1.3.0, in both directions):
//!
//! * `<name>.diskqueue.%06d.dat`: data segments, plain concatenations of
//!   `[i32 BE length][payload]` records, no header, no checksum.
//! * `<name>.diskqueue.meta.dat`: `depth\nreadFileNum,readPos\nwriteFileNum,writePos\n`,
//!   replaced atomically through `<meta>.<random>.tmp`.
//! * `<name>.diskqueue.%06d.dat.bad`: a segment set aside after a read error.
//!
//! With [`DiskQueueOptions::tracked_reads`] a record handed out by
//! [`DiskQueue::pop_tracked`] stays in the persisted queue until
//! [`DiskQueue::finish`] (see the `tracking` module): the metadata then
//! holds the *committed* read position, still in go-diskqueue's format.
//!
//! The queue is driven by its owner: it has no thread of its own. The
//! owner calls [`DiskQueue::sync_if_due`] (or [`DiskQueue::sync_if_due_at`])
//! from a timer to get go-diskqueue's `--sync-timeout` behaviour; the
//! `--sync-every` cadence and every other sync point happen inside the calls.
//! With [`DiskQueue::set_background_sync`] those two kinds of sync (the
//! periodic ones) run on a shared syncer thread instead (see `syncer`), so a
//! caller holding a lock around the queue never waits for the disk there.

mod meta;
mod read;
mod reader;
mod repair;
mod syncer;
mod tracking;

use std::fs::{self, File};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tracing::{error, info, warn};

use crate::error::QueueError;
use meta::{LoadedMeta, Meta};
use reader::SegmentReader;
use syncer::{SyncJob, SyncShared};
pub use tracking::ReadTicket;
use tracking::Tracking;

/// Above this many segment numbers, deleting a range of segments scans the
/// directory instead of trying every number (protects against absurd
/// positions in a damaged metadata file).
const MAX_DIRECT_DELETE: i64 = 4096;

/// Tuning of a [`DiskQueue`]; the fields mirror nsqd's flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskQueueOptions {
    /// `--max-bytes-per-file`: a new segment is started when the next record
    /// would make the current one larger than this.
    pub max_bytes_per_file: i64,
    /// Smallest accepted record (nsqd: 26, the message header size).
    pub min_msg_size: i32,
    /// Largest accepted record (nsqd: `--max-msg-size` + 26).
    pub max_msg_size: i32,
    /// `--sync-every`: sync after this many operations (puts + pops, and
    /// finishes with `tracked_reads`). Values below 1 mean "after every
    /// operation".
    pub sync_every: i64,
    /// `--sync-timeout`: how often the owner should call
    /// [`DiskQueue::sync_if_due`]; used by [`DiskQueue::sync_if_due_at`].
    pub sync_timeout: Duration,
    /// Acknowledged reads: a record handed out by
    /// [`DiskQueue::pop_tracked`] stays in the persisted queue (metadata
    /// read position and depth, segment files) until
    /// [`DiskQueue::finish`], so it is delivered again after a restart.
    /// Off by default (go-diskqueue behaviour: a pop is final).
    pub tracked_reads: bool,
}

impl Default for DiskQueueOptions {
    /// nsqd v1.3.0 defaults: 100 MiB segments, records of 26 bytes up to
    /// 1 MiB + 26, sync every 2500 operations or 2 seconds; no tracked
    /// reads.
    fn default() -> Self {
        DiskQueueOptions {
            max_bytes_per_file: 100 * 1024 * 1024,
            min_msg_size: 26,
            max_msg_size: 1024 * 1024 + 26,
            sync_every: 2500,
            sync_timeout: Duration::from_secs(2),
            tracked_reads: false,
        }
    }
}

/// The record read ahead of the consumer, with the position that follows it.
struct Pending {
    record: Bytes,
    next_file_num: i64,
    next_pos: i64,
}

/// A go-diskqueue compatible FIFO of byte records stored in `data_path`.
///
/// Not thread-safe by itself (all methods take `&mut self`); wrap it in a
/// mutex to share it. Dropping an open queue closes it (sync included) and
/// logs any error; call [`DiskQueue::close`] to see the error instead.
pub struct DiskQueue {
    name: String,
    data_path: PathBuf,
    meta_path: PathBuf,
    opts: DiskQueueOptions,

    depth: i64,
    read_file_num: i64,
    read_pos: i64,
    write_file_num: i64,
    write_pos: i64,

    reader: Option<SegmentReader>,
    pending: Option<Pending>,
    tracking: Tracking,
    writer: Option<File>,
    write_buf: Vec<u8>,

    ops_since_sync: i64,
    needs_sync: bool,
    last_sync: Instant,
    /// Periodic syncs go to the syncer thread.
    background_sync: bool,
    /// Generation of the newest metadata snapshot taken for a sync.
    sync_generation: u64,
    sync_shared: Arc<SyncShared>,
    bad_files: u64,
    closed: bool,
}

impl std::fmt::Debug for DiskQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiskQueue")
            .field("name", &self.name)
            .field("data_path", &self.data_path)
            .field("depth", &self.depth)
            .field("read", &(self.read_file_num, self.read_pos))
            .field("committed", &self.committed_position())
            .field("unfinished", &self.unfinished())
            .field("write", &(self.write_file_num, self.write_pos))
            .field("bad_files", &self.bad_files)
            .field("closed", &self.closed)
            .finish()
    }
}

impl DiskQueue {
    /// Opens (or creates) queue `name` in `data_path`.
    ///
    /// Reads `<name>.diskqueue.meta.dat` if present. A missing metadata file
    /// starts an empty queue (existing segments are ignored, as go-diskqueue
    /// does, but never written over: the queue starts at the segment after
    /// the highest existing one, segment 0 in an empty directory) and its
    /// metadata is written at once; an unparsable one is logged and treated
    /// the same way. If the write segment on disk is longer than the
    /// recorded write position (the queue was not closed cleanly), writing
    /// continues in the next segment and the reader still recovers the
    /// extra records. A read position at or beyond the write position is
    /// repaired with the tail check (depth forced to 0).
    /// Any such repair is written to the metadata file before returning
    /// (a failure to write it is logged and retried at the next sync).
    ///
    /// Errors: invalid name/options, `data_path` not a directory, or a
    /// metadata file that exists but cannot be read.
    pub fn open(
        name: &str,
        data_path: &Path,
        opts: DiskQueueOptions,
    ) -> Result<DiskQueue, QueueError> {
        validate(name, data_path, &opts)?;
        let meta_path = meta::meta_path(data_path, name);
        let tracking = Tracking::new(opts.tracked_reads);
        let mut q = DiskQueue {
            name: name.to_owned(),
            data_path: data_path.to_owned(),
            meta_path,
            opts,
            depth: 0,
            read_file_num: 0,
            read_pos: 0,
            write_file_num: 0,
            write_pos: 0,
            reader: None,
            pending: None,
            tracking,
            writer: None,
            write_buf: Vec::new(),
            ops_since_sync: 0,
            needs_sync: false,
            last_sync: Instant::now(),
            background_sync: false,
            sync_generation: 0,
            sync_shared: Arc::new(SyncShared::default()),
            bad_files: 0,
            closed: false,
        };
        match meta::load(&q.meta_path) {
            Ok(LoadedMeta::Missing) => {
                // Write the (all-zero) metadata now rather than at the first
                // sync: if the process dies before that sync, the next open
                // then finds segment 0 longer than the recorded write
                // position and recovers its records instead of overwriting
                // them.
                q.needs_sync = true;
                q.start_after_existing_segments();
            }
            Ok(LoadedMeta::Invalid(reason)) => {
                error!(
                    queue = %q.name,
                    file = %q.meta_path.display(),
                    "DISKQUEUE({}) failed to retrieveMetaData - {reason}; starting empty \
                     (existing segments are ignored)",
                    q.name
                );
                // Replace it now, for the same reason as a missing one.
                q.needs_sync = true;
                q.start_after_existing_segments();
            }
            Ok(LoadedMeta::Valid(m)) => {
                q.apply_meta(m);
                q.recover_unsynced_writes();
            }
            Err(e) => return Err(QueueError::io(name, "read", q.meta_path.clone(), e)),
        }
        q.check_tail_corruption();
        // Persist any repair at once. In particular, after skipping to a new
        // write segment the metadata must say so before anything is written
        // there: otherwise a second unclean stop would apply the startup
        // rule to the old segment again and overwrite the new one.
        q.sync_if_needed();
        Ok(q)
    }

    fn apply_meta(&mut self, m: Meta) {
        self.depth = m.depth;
        self.read_file_num = m.read_file_num;
        self.read_pos = m.read_pos;
        self.write_file_num = m.write_file_num;
        self.write_pos = m.write_pos;
        self.tracking.reset(m.read_file_num);
    }

    /// Startup rule: a write segment longer than the recorded write position
    /// means writes happened after the last sync; continue in a new segment.
    fn recover_unsynced_writes(&mut self) {
        let path = self.segment_path(self.write_file_num);
        match fs::metadata(&path) {
            Ok(md) => {
                let size = i64::try_from(md.len()).unwrap_or(i64::MAX);
                if self.write_pos < size {
                    warn!(
                        queue = %self.name,
                        "DISKQUEUE({}) {} metadata writePos {} < file size of {size}, skipping to new file",
                        self.name,
                        path.display(),
                        self.write_pos
                    );
                    self.write_file_num = self.write_file_num.saturating_add(1);
                    self.write_pos = 0;
                    self.needs_sync = true;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => error!(
                queue = %self.name,
                "DISKQUEUE({}) failed to stat {} - {e}",
                self.name,
                path.display()
            ),
        }
    }

    /// The queue's name (file name prefix).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The directory holding the queue's files.
    pub fn data_path(&self) -> &Path {
        &self.data_path
    }

    /// The options the queue was opened with.
    pub fn options(&self) -> &DiskQueueOptions {
        &self.opts
    }

    /// Number of unread records, as go-diskqueue counts it: restored from
    /// the metadata file, +1 per put, -1 per pop (or `pop_tracked`), forced
    /// to 0 by the tail check. After a crash or a bad segment it can be off
    /// (even negative) until the reader reaches the write position.
    ///
    /// With `tracked_reads` the metadata file also counts the handed-out
    /// records that are not committed yet (they are read again after a
    /// restart); this value does not.
    pub fn depth(&self) -> i64 {
        self.depth
    }

    /// Number of segments abandoned because of a read error (each renamed
    /// to `.bad` when the file existed) since this queue was opened.
    pub fn bad_files(&self) -> u64 {
        self.bad_files
    }

    /// `(readFileNum, readPos)` of the reading cursor: where the next record
    /// to be handed out is. With `tracked_reads` the metadata file holds
    /// [`DiskQueue::committed_position`] instead.
    pub fn read_position(&self) -> (i64, i64) {
        (self.read_file_num, self.read_pos)
    }

    /// `(writeFileNum, writePos)`: where the next record will be appended.
    pub fn write_position(&self) -> (i64, i64) {
        (self.write_file_num, self.write_pos)
    }

    /// Whether the queue has been closed or deleted.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// The configured `--sync-timeout`, i.e. how often the owner's timer
    /// should call [`DiskQueue::sync_if_due`].
    pub fn sync_timeout(&self) -> Duration {
        self.opts.sync_timeout
    }

    fn segment_path(&self, num: i64) -> PathBuf {
        meta::segment_path(&self.data_path, &self.name, num)
    }

    fn ensure_open(&self) -> Result<(), QueueError> {
        if self.closed {
            Err(QueueError::Closed {
                queue: self.name.clone(),
            })
        } else {
            Ok(())
        }
    }

    // ------------------------------------------------------------------
    // Writing
    // ------------------------------------------------------------------

    /// Appends one record (see [`DiskQueue::put_many`]).
    pub fn put(&mut self, record: &[u8]) -> Result<(), QueueError> {
        self.put_many(&[record])
    }

    /// Appends records in order with one `write` per segment touched instead
    /// of one per record: `[i32 BE length][payload]` each, rolling to a new
    /// segment when the next record would pass `max_bytes_per_file`. Every
    /// size is checked first, so a size error writes nothing; an I/O error
    /// may leave the records before it written.
    pub fn put_many(&mut self, records: &[&[u8]]) -> Result<(), QueueError> {
        self.ensure_open()?;
        for record in records {
            self.check_write_size(record.len())?;
        }
        self.write_buf.clear();
        let mut pending = 0i64;
        for record in records {
            let total = 4 + record.len() as i64;
            let pos = self.write_pos.saturating_add(self.write_buf.len() as i64);
            if pos > 0 && pos.saturating_add(total) > self.opts.max_bytes_per_file {
                self.write_pending(pending)?;
                pending = 0;
                self.roll();
            }
            // The length fits in i32: it is at most max_msg_size.
            self.write_buf
                .extend_from_slice(&(record.len() as i32).to_be_bytes());
            self.write_buf.extend_from_slice(record);
            pending += 1;
        }
        self.write_pending(pending)?;
        self.sync_if_needed();
        Ok(())
    }

    fn check_write_size(&self, len: usize) -> Result<(), QueueError> {
        let len_i64 = i64::try_from(len).unwrap_or(i64::MAX);
        if len_i64 < i64::from(self.opts.min_msg_size)
            || len_i64 > i64::from(self.opts.max_msg_size)
        {
            return Err(QueueError::InvalidWriteSize {
                queue: self.name.clone(),
                size: len as u64,
                min: self.opts.min_msg_size,
                max: self.opts.max_msg_size,
            });
        }
        Ok(())
    }

    /// Writes the `records` records buffered in `write_buf` and accounts for them.
    fn write_pending(&mut self, records: i64) -> Result<(), QueueError> {
        if self.write_buf.is_empty() {
            return Ok(());
        }
        self.ensure_writer()?;
        let written = match self.writer.as_mut() {
            Some(f) => f.write_all(&self.write_buf),
            None => Err(io::Error::new(io::ErrorKind::NotFound, "segment not open")),
        };
        if let Err(e) = written {
            self.writer = None;
            self.write_buf.clear();
            let path = self.segment_path(self.write_file_num);
            return Err(QueueError::io(&self.name, "write to", path, e));
        }
        self.write_pos = self.write_pos.saturating_add(self.write_buf.len() as i64);
        self.write_buf.clear();
        self.depth = self.depth.saturating_add(records);
        self.ops_since_sync = self.ops_since_sync.saturating_add(records);
        if self.ops_since_sync >= self.opts.sync_every.max(1) {
            self.needs_sync = true;
        }
        Ok(())
    }

    /// Opens the write segment if needed (creating it with mode 0600,
    /// truncating it only at write position 0) and seeks to the write
    /// position.
    fn ensure_writer(&mut self) -> Result<(), QueueError> {
        if self.writer.is_some() {
            return Ok(());
        }
        let path = self.segment_path(self.write_file_num);
        // At write position 0 nothing in the file belongs to the queue: a
        // leftover segment of that number (damaged metadata, a segment set
        // aside, a reused number) is emptied, or its stale tail would be read
        // back as records after the next unclean restart.
        let mut f = meta::create_file(&path, self.write_pos == 0)
            .map_err(|e| QueueError::io(&self.name, "open", path.clone(), e))?;
        if self.write_pos > 0 {
            // write_pos is never negative (validated metadata, only grows).
            f.seek(SeekFrom::Start(self.write_pos as u64))
                .map_err(|e| QueueError::io(&self.name, "seek in", path.clone(), e))?;
        }
        info!(
            queue = %self.name,
            "DISKQUEUE({}): writeOne() opened {}",
            self.name,
            path.display()
        );
        self.writer = Some(f);
        Ok(())
    }

    /// Moves writing to the next segment: the old one is fsynced and the
    /// metadata rewritten (with the new write position), then it is closed.
    fn roll(&mut self) {
        if self.read_file_num == self.write_file_num {
            if let Some(r) = self.reader.as_mut() {
                r.set_limit(self.write_pos);
            }
        }
        self.write_file_num = self.write_file_num.saturating_add(1);
        self.write_pos = 0;
        if let Err(e) = self.sync_now() {
            error!(queue = %self.name, "DISKQUEUE({}) failed to sync - {e}", self.name);
        }
        self.writer = None;
    }

    // ------------------------------------------------------------------
    // Syncing
    // ------------------------------------------------------------------

    /// Counts an operation and syncs if `sync_every` is reached or a sync
    /// was scheduled. Sync failures here are logged (the operation itself
    /// succeeded), as go-diskqueue does.
    fn after_op(&mut self) {
        self.ops_since_sync += 1;
        if self.ops_since_sync >= self.opts.sync_every.max(1) {
            self.needs_sync = true;
        }
        self.sync_if_needed();
    }

    fn sync_if_needed(&mut self) {
        if self.needs_sync {
            if let Err(e) = self.periodic_sync() {
                error!(queue = %self.name, "DISKQUEUE({}) failed to sync - {e}", self.name);
            }
        }
    }

    /// Runs the `--sync-every` and `--sync-timeout` syncs on the shared
    /// syncer thread (`true`) or inside the calls (`false`, the default).
    /// Explicit syncs ([`DiskQueue::sync`], [`DiskQueue::close`]) and the
    /// sync when a new segment starts stay inline either way.
    pub fn set_background_sync(&mut self, on: bool) {
        self.background_sync = on;
    }

    /// A `--sync-every`/`--sync-timeout` sync: inline, or handed to the
    /// syncer thread (then at most one at a time: while one is under way the
    /// sync stays due and the next operation or timer tick starts it).
    fn periodic_sync(&mut self) -> Result<(), QueueError> {
        if !self.background_sync {
            return self.sync_now();
        }
        if self.sync_shared.in_flight() {
            self.needs_sync = true;
            return Ok(());
        }
        let segment = match self.writer.as_ref().map(File::try_clone) {
            None => None,
            Some(Ok(file)) => Some((file, self.segment_path(self.write_file_num))),
            // Out of descriptors, say: sync here instead.
            Some(Err(_)) => return self.sync_now(),
        };
        self.sync_generation += 1;
        let job = SyncJob {
            queue: self.name.clone(),
            segment,
            meta_path: self.meta_path.clone(),
            meta: self.current_meta(),
            generation: self.sync_generation,
            shared: self.sync_shared.clone(),
        };
        self.needs_sync = false;
        self.ops_since_sync = 0;
        self.last_sync = Instant::now();
        job.submit();
        Ok(())
    }

    /// Whether anything happened since the last sync, i.e. whether the
    /// periodic (`--sync-timeout`) timer should sync now.
    pub fn needs_periodic_sync(&self) -> bool {
        !self.closed && (self.ops_since_sync > 0 || self.needs_sync)
    }

    /// Periodic sync: syncs if there was any activity since the last sync.
    /// Call it every [`DiskQueue::sync_timeout`]. A no-op on a closed queue.
    pub fn sync_if_due(&mut self) -> Result<(), QueueError> {
        if self.needs_periodic_sync() {
            self.periodic_sync()?;
        }
        Ok(())
    }

    /// Like [`DiskQueue::sync_if_due`], but only syncs if at least
    /// `sync_timeout` has passed between the last sync and `now`, so it can
    /// be called from a timer faster than `sync_timeout`. Returns whether it
    /// synced.
    pub fn sync_if_due_at(&mut self, now: Instant) -> Result<bool, QueueError> {
        if self.needs_periodic_sync()
            && now.saturating_duration_since(self.last_sync) >= self.opts.sync_timeout
        {
            self.periodic_sync()?;
            return Ok(true);
        }
        Ok(false)
    }

    /// fsyncs the current write segment, then atomically rewrites the
    /// metadata file.
    pub fn sync(&mut self) -> Result<(), QueueError> {
        self.ensure_open()?;
        self.sync_now()
    }

    /// Syncs inline, ordered with any background sync (see `syncer`).
    fn sync_now(&mut self) -> Result<(), QueueError> {
        self.sync_generation += 1;
        let shared = self.sync_shared.clone();
        shared.ordered(self.sync_generation, || self.sync_inline())
    }

    fn sync_inline(&mut self) -> Result<(), QueueError> {
        if let Some(f) = self.writer.as_ref() {
            if let Err(e) = f.sync_all() {
                self.writer = None;
                let path = self.segment_path(self.write_file_num);
                return Err(QueueError::io(&self.name, "fsync", path, e));
            }
        }
        meta::persist(&self.meta_path, self.current_meta())
            .map_err(|(path, action, e)| QueueError::io(&self.name, action, path, e))?;
        self.needs_sync = false;
        self.ops_since_sync = 0;
        self.last_sync = Instant::now();
        Ok(())
    }

    /// What the metadata file must say: with `tracked_reads` the committed
    /// read position and the depth seen from it.
    fn current_meta(&self) -> Meta {
        let (read_file_num, read_pos) = self.committed_position();
        Meta {
            depth: self.committed_depth(),
            read_file_num,
            read_pos,
            write_file_num: self.write_file_num,
            write_pos: self.write_pos,
        }
    }

    // ------------------------------------------------------------------
    // Empty, delete, close
    // ------------------------------------------------------------------

    /// Discards every record: deletes segments `readFileNum..=writeFileNum`
    /// (from the committed segment with `tracked_reads`) and the metadata
    /// file, then continues at segment `writeFileNum + 1` with depth 0 and
    /// no unfinished records (older tickets are ignored by `finish`). The metadata file is written again right away (for
    /// crash safety; go-diskqueue writes it at its next sync).
    pub fn empty(&mut self) -> Result<(), QueueError> {
        self.ensure_open()?;
        info!(queue = %self.name, "DISKQUEUE({}): emptying", self.name);
        // A background sync running now must not write the old metadata
        // back after the files are gone.
        self.sync_generation += 1;
        let shared = self.sync_shared.clone();
        shared.ordered(self.sync_generation, || self.empty_inline())
    }

    fn empty_inline(&mut self) -> Result<(), QueueError> {
        let segments = self.skip_to_next_rw_file();
        let meta = match fs::remove_file(&self.meta_path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(QueueError::io(
                &self.name,
                "remove",
                self.meta_path.clone(),
                e,
            )),
        };
        let synced = self.sync_inline();
        segments.and(meta).and(synced)
    }

    /// Deletes the queue from disk: removes the metadata file and every
    /// segment from the read (committed) to the write position, without a final sync,
    /// so no file of the queue remains (`.bad` files are left alone).
    pub fn delete(mut self) -> Result<(), QueueError> {
        self.ensure_open()?;
        info!(queue = %self.name, "DISKQUEUE({}): deleting", self.name);
        self.sync_shared.close();
        self.closed = true;
        self.reader = None;
        self.writer = None;
        self.pending = None;
        let segments = self.remove_segments(self.oldest_file_num(), self.write_file_num);
        let meta = match fs::remove_file(&self.meta_path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(QueueError::io(
                &self.name,
                "remove",
                self.meta_path.clone(),
                e,
            )),
        };
        segments.and(meta)
    }

    /// Closes the files *without* the final sync: the metadata file stays as
    /// of the last sync, which is what a crash of the process leaves behind
    /// (records already put are in the segment files; go-diskqueue's startup
    /// rules recover them). Useful for tests and for callers that are about
    /// to remove the files themselves.
    pub fn close_without_sync(mut self) {
        self.sync_shared.close();
        self.closed = true;
        self.reader = None;
        self.writer = None;
        self.pending = None;
    }

    /// Syncs (fsync of the write segment + metadata) and closes the files.
    /// Further calls return [`QueueError::Closed`]; closing twice is fine.
    pub fn close(&mut self) -> Result<(), QueueError> {
        if self.closed {
            return Ok(());
        }
        info!(queue = %self.name, "DISKQUEUE({}): closing", self.name);
        let result = self.sync_now();
        self.sync_shared.close();
        self.closed = true;
        self.reader = None;
        self.writer = None;
        self.pending = None;
        result
    }
}

impl Drop for DiskQueue {
    fn drop(&mut self) {
        if !self.closed {
            if let Err(e) = self.close() {
                error!(queue = %self.name, "DISKQUEUE({}) failed to close - {e}", self.name);
            }
        }
    }
}

fn validate(name: &str, data_path: &Path, opts: &DiskQueueOptions) -> Result<(), QueueError> {
    let invalid = |reason: String| QueueError::InvalidConfig {
        queue: name.to_owned(),
        reason,
    };
    if name.is_empty() || name.contains('/') || name.contains('\0') || name == "." || name == ".." {
        return Err(invalid(
            "the name must be non-empty and contain neither '/' nor NUL".to_owned(),
        ));
    }
    if opts.max_bytes_per_file <= 0 {
        return Err(invalid(format!(
            "max_bytes_per_file must be positive (got {}); check --max-bytes-per-file",
            opts.max_bytes_per_file
        )));
    }
    if opts.min_msg_size < 0 || opts.max_msg_size < opts.min_msg_size {
        return Err(invalid(format!(
            "record size bounds [{}, {}] are invalid; check --max-msg-size",
            opts.min_msg_size, opts.max_msg_size
        )));
    }
    match fs::metadata(data_path) {
        Ok(md) if md.is_dir() => Ok(()),
        Ok(_) => Err(invalid(format!(
            "data path {} is not a directory; point --data-path at a directory",
            data_path.display()
        ))),
        Err(e) => Err(QueueError::io(name, "access", data_path, e)),
    }
}
