//! Acknowledged ("tracked") reads: records handed out by
//! [`DiskQueue::pop_tracked`] stay on disk until [`DiskQueue::finish`].
//!
//! The queue then has two read positions:
//!
//! * the *reading cursor* (`read_file_num, read_pos`): what the next
//!   `pop`/`pop_tracked` returns;
//! * the *committed position*: the start of the oldest record handed out
//!   and not finished yet, or the reading cursor when every handed-out record
//!   is finished. This is the position written to the metadata file, so a
//!   restart (clean or not) reads again every unfinished record; finished
//!   records behind an unfinished one are read again too.
//!
//! The metadata `depth` is the number of records a restart will read:
//! the unread ones plus those between the committed position and the
//! reading cursor. Segments are deleted when the committed position (not the
//! reading cursor) leaves them.
//!
//! Bookkeeping: every record handed out gets a sequence number; the
//! unfinished ones are kept in an ordered map `ticket -> sequence number`,
//! so the number of records between the committed position and the reading
//! cursor is `next_seq - seq(oldest unfinished)`. Finished records cost
//! nothing, whatever the order of the finishes.

use std::collections::BTreeMap;

use bytes::Bytes;
use tracing::{debug, error, warn};

use super::DiskQueue;
use crate::error::QueueError;

/// Where a record handed out by [`DiskQueue::pop_tracked`] starts; give it
/// back to [`DiskQueue::finish`] once the record is done with.
///
/// Tickets order like the records they stand for (segment number, then
/// offset). A ticket is only meaningful to the queue (and the session: the
/// same queue after a reopen) that handed it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReadTicket {
    file_num: i64,
    pos: i64,
}

impl ReadTicket {
    /// Segment number of the record.
    pub fn file_num(&self) -> i64 {
        self.file_num
    }

    /// Byte offset of the record (its length prefix) in the segment.
    pub fn pos(&self) -> i64 {
        self.pos
    }
}

/// Tracked-read state of a [`DiskQueue`].
#[derive(Debug, Default)]
pub(super) struct Tracking {
    /// `DiskQueueOptions::tracked_reads`.
    enabled: bool,
    /// Handed out and not finished: ticket -> sequence number.
    unfinished: BTreeMap<ReadTicket, u64>,
    /// Sequence number of the next record handed out.
    next_seq: u64,
    /// The newest segment records were handed out from, with the sequence
    /// number of the first record handed out from it.
    current_segment: Option<(i64, u64)>,
    /// Oldest segment that may still be needed: segments below it have been
    /// deleted (or were never needed).
    retained_file_num: i64,
}

impl Tracking {
    pub(super) fn new(enabled: bool) -> Self {
        Tracking {
            enabled,
            ..Tracking::default()
        }
    }

    pub(super) fn enabled(&self) -> bool {
        self.enabled
    }

    /// Forgets every handed-out record; `file_num` is the (new) committed
    /// segment.
    pub(super) fn reset(&mut self, file_num: i64) {
        self.unfinished.clear();
        self.next_seq = 0;
        self.current_segment = None;
        self.retained_file_num = file_num;
    }

    /// Oldest segment that must be kept.
    pub(super) fn retained_file_num(&self) -> i64 {
        self.retained_file_num
    }

    pub(super) fn set_retained_file_num(&mut self, file_num: i64) {
        self.retained_file_num = file_num;
    }

    fn hand_out(&mut self, ticket: ReadTicket) {
        if self.current_segment.map(|(f, _)| f) != Some(ticket.file_num) {
            self.current_segment = Some((ticket.file_num, self.next_seq));
        }
        self.unfinished.insert(ticket, self.next_seq);
        self.next_seq += 1;
    }

    /// Removes `ticket` from the unfinished set; false if it was not there.
    pub(super) fn finish(&mut self, ticket: ReadTicket) -> bool {
        self.unfinished.remove(&ticket).is_some()
    }

    /// The oldest unfinished ticket.
    pub(super) fn oldest(&self) -> Option<ReadTicket> {
        self.unfinished.first_key_value().map(|(t, _)| *t)
    }

    /// Records handed out at or after the committed position: they will be
    /// read again after a restart.
    pub(super) fn replay_count(&self) -> u64 {
        self.unfinished
            .first_key_value()
            .map_or(0, |(_, &seq)| self.next_seq.saturating_sub(seq))
    }

    /// Segment `file_num` was set aside or found missing: its records can no
    /// longer be read again, so its tickets are dropped (finishing them later
    /// is a no-op) and its handed-out records no longer count as replayable.
    /// Returns how many unfinished tickets were dropped.
    fn drop_segment(&mut self, file_num: i64) -> usize {
        let lo = ReadTicket { file_num, pos: 0 };
        let doomed: Vec<ReadTicket> = self
            .unfinished
            .range(lo..)
            .map(|(t, _)| *t)
            .take_while(|t| t.file_num == file_num)
            .collect();
        for t in &doomed {
            self.unfinished.remove(t);
        }
        if let Some((f, first_seq)) = self.current_segment {
            if f == file_num {
                // Records are handed out in file order, so the ones of this
                // segment are the newest: every remaining ticket has a lower
                // sequence number, and the numbers can simply be reused.
                self.next_seq = first_seq;
                self.current_segment = None;
            }
        }
        doomed.len()
    }
}

impl DiskQueue {
    /// Hands out the next record without making its consumption durable.
    ///
    /// With [`DiskQueueOptions::tracked_reads`](super::DiskQueueOptions::tracked_reads)
    /// the record stays part of the persisted queue (metadata read position
    /// and depth, segment files) until [`DiskQueue::finish`] is called with
    /// the returned ticket; after a restart it is delivered again. Handing a
    /// record out changes nothing that is persisted, so it does not count
    /// towards `sync_every`. [`DiskQueue::depth`] drops by one as with
    /// [`DiskQueue::pop`].
    ///
    /// Without `tracked_reads` this is [`DiskQueue::pop`] plus the record's
    /// ticket, and [`DiskQueue::finish`] is a no-op.
    ///
    /// `None` when nothing is unread; errors as for [`DiskQueue::pop`].
    pub fn pop_tracked(&mut self) -> Result<Option<(Bytes, ReadTicket)>, QueueError> {
        self.ensure_open()?;
        let Some((record, ticket)) = self.take_next()? else {
            return Ok(None);
        };
        if !self.tracking.enabled() {
            self.after_op();
        }
        Ok(Some((record, ticket)))
    }

    /// The record of `ticket` is done; the persisted read position may move
    /// past it.
    ///
    /// When `ticket` is the oldest unfinished one, the committed position
    /// advances to the next unfinished record (or to the reading cursor),
    /// segments it leaves are deleted, and the call counts as an operation
    /// for `sync_every` (so with `sync_every = 1` the new position is on disk
    /// when this returns); finishing a younger ticket counts too, though only
    /// the count changes. Finishes may come in any order.
    ///
    /// Unknown tickets (already finished, handed out before a reopen or an
    /// [`DiskQueue::empty`], from a segment set aside as `.bad`) are ignored,
    /// as is every call without `tracked_reads` or on a closed queue.
    pub fn finish(&mut self, ticket: ReadTicket) {
        if self.closed || !self.tracking.enabled() {
            return;
        }
        if !self.tracking.finish(ticket) {
            debug!(
                queue = %self.name,
                "DISKQUEUE({}) finish of unknown read ticket {},{} ignored",
                self.name,
                ticket.file_num,
                ticket.pos
            );
            return;
        }
        self.advance_commit();
        self.after_op();
    }

    /// Records handed out by [`DiskQueue::pop_tracked`] and not finished
    /// yet (always 0 without `tracked_reads`).
    pub fn unfinished(&self) -> usize {
        self.tracking.unfinished.len()
    }

    /// `(readFileNum, readPos)` as written to the metadata file: the start of
    /// the oldest unfinished record, else the reading cursor
    /// ([`DiskQueue::read_position`]). Without `tracked_reads` it is always
    /// the reading cursor.
    pub fn committed_position(&self) -> (i64, i64) {
        match self.tracking.oldest() {
            Some(t) => (t.file_num, t.pos),
            None => (self.read_file_num, self.read_pos),
        }
    }

    /// The `depth` written to the metadata file: unread records plus, with
    /// `tracked_reads`, the handed-out records a restart will read again.
    pub(super) fn committed_depth(&self) -> i64 {
        let replay = i64::try_from(self.tracking.replay_count()).unwrap_or(i64::MAX);
        self.depth.saturating_add(replay)
    }

    /// Oldest segment the queue still owns: the committed segment with
    /// `tracked_reads`, the read segment otherwise.
    pub(super) fn oldest_file_num(&self) -> i64 {
        if self.tracking.enabled() {
            self.tracking.retained_file_num().min(self.read_file_num)
        } else {
            self.read_file_num
        }
    }

    /// Takes the next record and moves the reading cursor past it; with
    /// `tracked_reads` the record is registered as unfinished. Does not
    /// count the operation.
    pub(super) fn take_next(&mut self) -> Result<Option<(Bytes, ReadTicket)>, QueueError> {
        self.read_ahead()?;
        let Some(p) = self.pending.take() else {
            return Ok(None);
        };
        let ticket = ReadTicket {
            file_num: self.read_file_num,
            pos: self.read_pos,
        };
        if self.tracking.enabled() {
            // Before moving: a repair in move_forward may reset tracking.
            self.tracking.hand_out(ticket);
        }
        self.move_forward(p.next_file_num, p.next_pos);
        Ok(Some((p.record, ticket)))
    }

    /// With `tracked_reads`: deletes the segments the committed position has
    /// left and schedules a sync for the new position.
    pub(super) fn advance_commit(&mut self) {
        if !self.tracking.enabled() {
            return;
        }
        let (committed_file, _) = self.committed_position();
        let retained = self.tracking.retained_file_num();
        if committed_file > retained {
            self.tracking.set_retained_file_num(committed_file);
            self.needs_sync = true;
            if let Err(e) = self.remove_segments(retained, committed_file - 1) {
                error!(
                    queue = %self.name,
                    "DISKQUEUE({}) failed to remove finished segments - {e}",
                    self.name
                );
            }
        }
    }

    /// With `tracked_reads`: segment `file_num` can no longer be read (set
    /// aside as `.bad` or missing); its unfinished tickets are dropped so
    /// they do not hold the committed position back forever.
    pub(super) fn tracked_segment_lost(&mut self, file_num: i64) {
        if !self.tracking.enabled() {
            return;
        }
        let dropped = self.tracking.drop_segment(file_num);
        if dropped > 0 {
            warn!(
                queue = %self.name,
                "DISKQUEUE({}) {dropped} unfinished record(s) of segment {file_num:06} cannot be \
                 read again; they no longer hold the read position back",
                self.name
            );
        }
    }
}
