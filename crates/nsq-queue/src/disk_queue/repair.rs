//! Repairs: bad segments, missing segments, the tail check, and deleting
//! ranges of segments.

use std::fs;
use std::io;
use std::path::PathBuf;

use tracing::{error, warn};

use super::{meta, DiskQueue, MAX_DIRECT_DELETE};
use crate::error::QueueError;

impl DiskQueue {
    /// A record could not be read: set the segment aside as `.bad` and
    /// continue with the next one (also moving the writer on if it was
    /// writing to this segment).
    pub(super) fn read_failed(&mut self, reason: &str) {
        let bad = self.segment_path(self.read_file_num);
        let renamed = meta::bad_segment_path(&self.data_path, &self.name, self.read_file_num);
        error!(
            queue = %self.name,
            file = %bad.display(),
            "DISKQUEUE({}) reading at {} of {} - {reason}",
            self.name,
            self.read_pos,
            bad.display()
        );
        self.bad_files += 1;
        self.reader = None;
        self.pending = None;
        if self.read_file_num == self.write_file_num {
            self.writer = None;
            self.write_file_num = self.write_file_num.saturating_add(1);
            self.write_pos = 0;
        }
        warn!(
            queue = %self.name,
            "DISKQUEUE({}) jump to next file and saving bad file as {}; the records left in it \
             are not delivered (inspect or remove the file)",
            self.name,
            renamed.display()
        );
        if let Err(e) = fs::rename(&bad, &renamed) {
            error!(
                queue = %self.name,
                "DISKQUEUE({}) failed to rename bad diskqueue file {} to {} - {e}",
                self.name,
                bad.display(),
                renamed.display()
            );
        }
        let lost = self.read_file_num;
        self.read_file_num = self.read_file_num.saturating_add(1);
        self.read_pos = 0;
        self.needs_sync = true;
        self.tracked_segment_lost(lost);
        self.advance_commit();
        self.check_tail_corruption();
        self.sync_if_needed();
    }

    /// The (complete) segment to read does not exist: continue with the next
    /// segment that does (at most the write segment), counting the gap as
    /// one bad file. go-diskqueue steps over missing segments one at a time,
    /// which ends the same way but can take forever after a damaged
    /// metadata file.
    pub(super) fn skip_missing_segments(&mut self) {
        let from = self.read_file_num;
        let to = self.write_file_num;
        let next = if to - from <= MAX_DIRECT_DELETE {
            (from + 1..=to)
                .find(|&n| n == to || self.segment_path(n).exists())
                .unwrap_or(to)
        } else {
            match self.list_segments() {
                Ok(found) => found
                    .into_iter()
                    .map(|(n, _)| n)
                    .filter(|&n| n > from && n <= to)
                    .min()
                    .unwrap_or(to),
                Err(_) => to,
            }
        };
        error!(
            queue = %self.name,
            "DISKQUEUE({}) reading at {} of {} - segment missing; the records in segments \
             {from:06}..{:06} are lost, continuing with segment {next:06}",
            self.name,
            self.read_pos,
            self.segment_path(from).display(),
            next - 1
        );
        self.bad_files += 1;
        self.reader = None;
        self.pending = None;
        self.read_file_num = next;
        self.read_pos = 0;
        self.needs_sync = true;
        self.tracked_segment_lost(from);
        self.advance_commit();
        self.check_tail_corruption();
        self.sync_if_needed();
    }

    /// When the read position has reached the write position, depth must
    /// be 0 (forced if not); a read position beyond the write position skips
    /// both to a fresh segment.
    pub(super) fn check_tail_corruption(&mut self) {
        if self.has_unread() {
            return;
        }
        if self.depth != 0 {
            if self.depth < 0 {
                error!(
                    queue = %self.name,
                    "DISKQUEUE({}) negative depth at tail ({}), metadata corruption, resetting 0...",
                    self.name,
                    self.depth
                );
            } else {
                error!(
                    queue = %self.name,
                    "DISKQUEUE({}) positive depth at tail ({}), data loss, resetting 0...",
                    self.name,
                    self.depth
                );
            }
            self.depth = 0;
            self.needs_sync = true;
        }
        if (self.read_file_num, self.read_pos) != (self.write_file_num, self.write_pos) {
            error!(
                queue = %self.name,
                "DISKQUEUE({}) read position {},{} is beyond write position {},{}, corruption, \
                 skipping to next writeFileNum and resetting 0...",
                self.name,
                self.read_file_num,
                self.read_pos,
                self.write_file_num,
                self.write_pos
            );
            if let Err(e) = self.skip_to_next_rw_file() {
                error!(queue = %self.name, "DISKQUEUE({}) {e}", self.name);
            }
            self.needs_sync = true;
        }
    }

    /// Closes the segments, deletes segments `readFileNum..=writeFileNum`
    /// (from the committed segment with tracked reads) and restarts reading
    /// and writing at the next segment number, depth 0, forgetting every
    /// handed-out record.
    pub(super) fn skip_to_next_rw_file(&mut self) -> Result<(), QueueError> {
        self.reader = None;
        self.writer = None;
        self.pending = None;
        let result = self.remove_segments(self.oldest_file_num(), self.write_file_num);
        // Normally the reader is not past the writer and this is
        // writeFileNum + 1; a reader past the writer (damaged metadata) must
        // not move back onto segment numbers that may still exist.
        self.write_file_num = self
            .write_file_num
            .max(self.read_file_num)
            .saturating_add(1);
        self.write_pos = 0;
        self.read_file_num = self.write_file_num;
        self.read_pos = 0;
        self.depth = 0;
        self.tracking.reset(self.read_file_num);
        result
    }

    /// Deletes segments `from..=to` that exist; returns the first failure.
    pub(super) fn remove_segments(&self, from: i64, to: i64) -> Result<(), QueueError> {
        let paths: Vec<PathBuf> = if to < from {
            Vec::new()
        } else if to - from <= MAX_DIRECT_DELETE {
            (from..=to).map(|num| self.segment_path(num)).collect()
        } else {
            self.list_segments()
                .map_err(|e| QueueError::io(&self.name, "list", self.data_path.clone(), e))?
                .into_iter()
                .filter(|(num, _)| (from..=to).contains(num))
                .map(|(_, path)| path)
                .collect()
        };
        let mut first_err = None;
        for path in paths {
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => {
                    error!(
                        queue = %self.name,
                        "DISKQUEUE({}) failed to remove data file {} - {e}",
                        self.name,
                        path.display()
                    );
                    if first_err.is_none() {
                        first_err = Some(QueueError::io(&self.name, "remove", path, e));
                    }
                }
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    /// Without usable metadata the existing segments are ignored, as in
    /// go-diskqueue, but unlike go-diskqueue they are not written over:
    /// reading and writing start at the segment number after the highest
    /// existing one. (Writing from offset 0 into an old segment left its
    /// stale tail behind, and after a restart the startup rule read that
    /// tail back as records.)
    pub(super) fn start_after_existing_segments(&mut self) {
        let last = match self.list_segments() {
            Ok(found) => found.into_iter().map(|(num, _)| num).max(),
            Err(e) => {
                error!(
                    queue = %self.name,
                    "DISKQUEUE({}) failed to list {} - {e}",
                    self.name,
                    self.data_path.display()
                );
                None
            }
        };
        let Some(last) = last else {
            return;
        };
        let next = last.saturating_add(1);
        warn!(
            queue = %self.name,
            "DISKQUEUE({}) no metadata for the existing segments up to {last:06}; they are left \
             alone and the queue starts at segment {next:06}",
            self.name
        );
        self.read_file_num = next;
        self.read_pos = 0;
        self.write_file_num = next;
        self.write_pos = 0;
        self.depth = 0;
        self.tracking.reset(next);
    }

    /// Data segments of this queue present in the directory.
    pub(super) fn list_segments(&self) -> io::Result<Vec<(i64, PathBuf)>> {
        let prefix = format!("{}.diskqueue.", self.name);
        let mut found = Vec::new();
        for entry in fs::read_dir(&self.data_path)? {
            let entry = entry?;
            let file_name = entry.file_name();
            let Some(file_name) = file_name.to_str() else {
                continue;
            };
            let Some(num) = file_name
                .strip_prefix(&prefix)
                .and_then(|rest| rest.strip_suffix(".dat"))
                .filter(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|digits| digits.parse::<i64>().ok())
            else {
                continue;
            };
            let path = entry.path();
            if path == self.segment_path(num) {
                found.push((num, path));
            }
        }
        Ok(found)
    }
}
