//! The reading side of [`DiskQueue`]: read-ahead, consuming records and
//! leaving finished segments.

use std::fs;
use std::io;

use bytes::Bytes;
use tracing::{error, info};

use super::reader::{ReadFailure, SegmentReader};
use super::{DiskQueue, Pending};
use crate::error::QueueError;

impl DiskQueue {
    /// Returns the next record without consuming it (the same record is
    /// returned until [`DiskQueue::pop`]). `None` when nothing is unread.
    pub fn peek(&mut self) -> Result<Option<Bytes>, QueueError> {
        self.ensure_open()?;
        self.read_ahead()?;
        Ok(self.pending.as_ref().map(|p| p.record.clone()))
    }

    /// Removes and returns the next record: the read position advances,
    /// depth drops by one, a finished segment is deleted (with a sync), and
    /// the tail check runs. Corrupt segments met on the way are renamed to
    /// `.bad` and skipped. `None` when nothing is unread. An error means a
    /// segment could not be opened for a reason other than its absence
    /// (permissions, file descriptor limit): nothing changed, try again.
    ///
    /// With `tracked_reads` this is [`DiskQueue::pop_tracked`] followed at
    /// once by [`DiskQueue::finish`], counted as one operation: the record
    /// is committed as soon as every older handed-out record is finished.
    pub fn pop(&mut self) -> Result<Option<Bytes>, QueueError> {
        self.ensure_open()?;
        let Some((record, ticket)) = self.take_next()? else {
            return Ok(None);
        };
        if self.tracking.enabled() && self.tracking.finish(ticket) {
            self.advance_commit();
        }
        self.after_op();
        Ok(Some(record))
    }

    pub(super) fn has_unread(&self) -> bool {
        (self.read_file_num, self.read_pos) < (self.write_file_num, self.write_pos)
    }

    /// Makes sure `pending` holds the next record if there is one, handling
    /// finished and corrupt segments on the way.
    pub(super) fn read_ahead(&mut self) -> Result<(), QueueError> {
        while self.pending.is_none() && self.has_unread() {
            if self
                .reader
                .as_ref()
                .is_some_and(|r| r.pos() != self.read_pos)
            {
                self.reader = None;
            }
            let complete = self.read_file_num < self.write_file_num;
            if self.reader.is_none() {
                let path = self.segment_path(self.read_file_num);
                match SegmentReader::open(&path, self.read_pos, complete) {
                    Ok(r) => {
                        info!(
                            queue = %self.name,
                            "DISKQUEUE({}): readOne() opened {}",
                            self.name,
                            path.display()
                        );
                        self.reader = Some(r);
                    }
                    Err(e) if e.kind() == io::ErrorKind::NotFound && complete => {
                        self.skip_missing_segments();
                        continue;
                    }
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {
                        self.read_failed("the write segment does not exist");
                        continue;
                    }
                    // Anything else (permissions, too many open files, ...)
                    // says nothing about the data: report it and retry at
                    // the next call instead of setting the segment aside.
                    Err(e) => return Err(QueueError::io(&self.name, "open", path, e)),
                }
            }
            let Some(reader) = self.reader.as_mut() else {
                continue;
            };
            let bound = match (complete, reader.limit()) {
                (false, _) => self.write_pos,
                (true, Some(limit)) => limit,
                (true, None) => i64::MAX,
            };
            match reader.read_record(bound, self.opts.min_msg_size, self.opts.max_msg_size) {
                Ok(record) => {
                    let mut next_file_num = self.read_file_num;
                    let mut next_pos = reader.pos();
                    if complete && next_pos >= bound {
                        next_file_num = next_file_num.saturating_add(1);
                        next_pos = 0;
                        self.reader = None;
                    }
                    self.pending = Some(Pending {
                        record,
                        next_file_num,
                        next_pos,
                    });
                }
                Err(ReadFailure::End) if complete => self.finish_segment(),
                Err(ReadFailure::End) => {
                    self.read_failed("the segment ends before the write position")
                }
                Err(ReadFailure::Corrupt(reason)) => self.read_failed(&reason),
            }
        }
        Ok(())
    }

    /// The reader is at the end of a complete segment without a record to
    /// hand out (it caught up with the writer just before the writer rolled,
    /// or the metadata points at the end of a segment): move to the next
    /// segment and delete this one, as if the last record had just been
    /// consumed. (go-diskqueue v1.1.0 renames such a segment to `.bad`;
    /// nothing is lost either way.)
    fn finish_segment(&mut self) {
        let old = self.read_file_num;
        self.reader = None;
        self.read_file_num = self.read_file_num.saturating_add(1);
        self.read_pos = 0;
        self.needs_sync = true;
        if self.tracking.enabled() {
            // Deleted once the committed position leaves it.
            self.advance_commit();
        } else {
            self.remove_segment(old);
        }
        self.check_tail_corruption();
        self.sync_if_needed();
    }

    /// Advances the reading cursor past the record just handed out. Without
    /// `tracked_reads` that is the consumed position, and a segment left
    /// behind is deleted; with it, [`DiskQueue::advance_commit`] does that.
    pub(super) fn move_forward(&mut self, next_file_num: i64, next_pos: i64) {
        let old = self.read_file_num;
        self.read_file_num = next_file_num;
        self.read_pos = next_pos;
        self.depth = self.depth.saturating_sub(1);
        if old != next_file_num && !self.tracking.enabled() {
            self.needs_sync = true;
            self.remove_segment(old);
        }
        self.check_tail_corruption();
    }

    pub(super) fn remove_segment(&self, num: i64) {
        let path = self.segment_path(num);
        if let Err(e) = fs::remove_file(&path) {
            error!(
                queue = %self.name,
                "DISKQUEUE({}) failed to Remove({}) - {e}",
                self.name,
                path.display()
            );
        }
    }
}
