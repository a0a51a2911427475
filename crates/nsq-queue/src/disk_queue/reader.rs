//! Buffered sequential reader for one data segment.
//!
//! Records are `[i32 BE length][payload]`. The reader pulls the file in
//! chunks, so reading many small records costs few system calls, and it never
//! reads past a caller-supplied bound: for the segment that is still being
//! written the bound is the queue's write position, so bytes that are not (or
//! not yet) part of the queue are never buffered.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use bytes::Bytes;

/// Size of the read buffer. Larger records are read directly into their own
/// allocation.
const BUF_CAP: usize = 32 * 1024;

/// Why a record could not be read.
#[derive(Debug)]
pub(crate) enum ReadFailure {
    /// The read position is exactly at the end of the readable data: the
    /// segment has been read completely.
    End,
    /// The record is damaged or cannot be read; the text says why.
    Corrupt(String),
}

/// A segment opened for reading at some position.
pub(crate) struct SegmentReader {
    file: File,
    buf: Vec<u8>,
    /// Start of unconsumed data in `buf`.
    start: usize,
    /// End of valid data in `buf`.
    end: usize,
    /// File offset of `buf[start]`: the position of the next record.
    pos: i64,
    /// End of the segment's data when the segment is complete (no longer
    /// written to); `None` while it is the current write segment.
    limit: Option<i64>,
}

impl SegmentReader {
    /// Opens `path` positioned at `pos`. For a complete segment the file's
    /// current size becomes its limit.
    pub fn open(path: &Path, pos: i64, complete: bool) -> io::Result<SegmentReader> {
        let mut file = File::open(path)?;
        let limit = if complete {
            Some(i64::try_from(file.metadata()?.len()).unwrap_or(i64::MAX))
        } else {
            None
        };
        let offset = u64::try_from(pos)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "negative read position"))?;
        if offset > 0 {
            file.seek(SeekFrom::Start(offset))?;
        }
        Ok(SegmentReader {
            file,
            buf: Vec::new(),
            start: 0,
            end: 0,
            pos,
            limit,
        })
    }

    /// Position of the next record in the file.
    pub fn pos(&self) -> i64 {
        self.pos
    }

    /// End of data of a complete segment (`None` while it is being written).
    pub fn limit(&self) -> Option<i64> {
        self.limit
    }

    /// Marks the segment complete, its data ending at `limit`.
    pub fn set_limit(&mut self, limit: i64) {
        self.limit = Some(limit);
    }

    fn available(&self) -> usize {
        self.end - self.start
    }

    /// Reads the record at the current position. `bound` is the file offset
    /// where readable data ends; a record must lie entirely before it.
    /// Record lengths outside `[min, max]` are corrupt.
    pub fn read_record(&mut self, bound: i64, min: i32, max: i32) -> Result<Bytes, ReadFailure> {
        if self.pos == bound {
            return Err(ReadFailure::End);
        }
        if self.pos > bound {
            return Err(ReadFailure::Corrupt(format!(
                "read position {} is past the end of the data at offset {bound}",
                self.pos
            )));
        }
        if self.buf.is_empty() {
            self.buf = vec![0; BUF_CAP];
        }
        self.fill(4, bound)?;
        let mut header = [0u8; 4];
        header.copy_from_slice(&self.buf[self.start..self.start + 4]);
        let len = i32::from_be_bytes(header);
        if len < min || len > max {
            return Err(ReadFailure::Corrupt(format!(
                "invalid message read size ({len}), expected between {min} and {max}"
            )));
        }
        // `len` is within [min, max] and min may be negative only if the
        // options are odd; treat a negative length as corrupt as well.
        let len_usize = usize::try_from(len)
            .map_err(|_| ReadFailure::Corrupt(format!("invalid message read size ({len})")))?;
        let total = 4 + len_usize;
        let record_end = self.pos.saturating_add(4 + i64::from(len));
        if record_end > bound {
            return Err(ReadFailure::Corrupt(format!(
                "record of {len} bytes at offset {} runs past the end of the data at offset {bound}",
                self.pos
            )));
        }
        let record = if total <= self.buf.len() {
            self.fill(total, bound)?;
            let data = Bytes::copy_from_slice(&self.buf[self.start + 4..self.start + total]);
            self.start += total;
            data
        } else {
            self.read_large(len_usize)?
        };
        self.pos = record_end;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        Ok(record)
    }

    /// Reads a record too large for the buffer; the header is buffered.
    fn read_large(&mut self, len: usize) -> Result<Bytes, ReadFailure> {
        let mut out = vec![0u8; len];
        let buffered = (self.available() - 4).min(len);
        out[..buffered].copy_from_slice(&self.buf[self.start + 4..self.start + 4 + buffered]);
        self.start += 4 + buffered;
        self.file
            .read_exact(&mut out[buffered..])
            .map_err(|e| read_error(&e, self.pos))?;
        Ok(Bytes::from(out))
    }

    /// Makes at least `n` bytes (`n <= buf.len()`) available, reading no
    /// further than `bound`.
    fn fill(&mut self, n: usize, bound: i64) -> Result<(), ReadFailure> {
        while self.available() < n {
            if self.start + n > self.buf.len() {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            let file_off = self.pos + self.available() as i64;
            let room = (self.buf.len() - self.end) as i64;
            let want = room.min(bound - file_off);
            if want <= 0 {
                return Err(ReadFailure::Corrupt(format!(
                    "record at offset {} is cut off at offset {bound}",
                    self.pos
                )));
            }
            // `want` is positive and at most `room`, which came from a usize.
            let want = want as usize;
            match self.file.read(&mut self.buf[self.end..self.end + want]) {
                Ok(0) => {
                    return Err(ReadFailure::Corrupt(format!(
                        "unexpected end of file at offset {file_off} while reading the record at \
                         offset {}",
                        self.pos
                    )))
                }
                Ok(got) => self.end += got,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(read_error(&e, self.pos)),
            }
        }
        Ok(())
    }
}

fn read_error(e: &io::Error, pos: i64) -> ReadFailure {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        ReadFailure::Corrupt(format!(
            "unexpected end of file while reading the record at offset {pos}"
        ))
    } else {
        ReadFailure::Corrupt(format!("read error at offset {pos}: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn segment(records: &[&[u8]]) -> (tempfile::TempDir, std::path::PathBuf, i64) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seg");
        let mut f = File::create(&path).unwrap();
        let mut size = 0;
        for r in records {
            f.write_all(&(r.len() as i32).to_be_bytes()).unwrap();
            f.write_all(r).unwrap();
            size += 4 + r.len() as i64;
        }
        (dir, path, size)
    }

    #[test]
    fn reads_small_and_large_records_in_order() {
        let big = vec![7u8; BUF_CAP * 2 + 3];
        let recs: Vec<&[u8]> = vec![b"one", &big, b"three"];
        let (_d, path, size) = segment(&recs);
        let mut r = SegmentReader::open(&path, 0, true).unwrap();
        assert_eq!(r.limit(), Some(size));
        for want in &recs {
            assert_eq!(&r.read_record(size, 0, i32::MAX).unwrap()[..], *want);
        }
        assert!(matches!(
            r.read_record(size, 0, i32::MAX),
            Err(ReadFailure::End)
        ));
        assert_eq!(r.pos(), size);
    }

    #[test]
    fn never_reads_past_the_bound() {
        let (_d, path, _) = segment(&[b"aaaa", b"bbbb"]);
        let mut r = SegmentReader::open(&path, 0, false).unwrap();
        assert_eq!(&r.read_record(8, 0, 100).unwrap()[..], b"aaaa");
        assert!(matches!(r.read_record(8, 0, 100), Err(ReadFailure::End)));
        // The bound moves forward as the writer appends.
        assert_eq!(&r.read_record(16, 0, 100).unwrap()[..], b"bbbb");
        // A bound in the middle of a record is corruption.
        let mut r = SegmentReader::open(&path, 8, false).unwrap();
        assert!(matches!(
            r.read_record(12, 0, 100),
            Err(ReadFailure::Corrupt(_))
        ));
    }

    #[test]
    fn bad_lengths_and_truncation_are_corrupt() {
        let (_d, path, size) = segment(&[b"abc"]);
        let mut r = SegmentReader::open(&path, 0, true).unwrap();
        assert!(matches!(
            r.read_record(size, 4, 100),
            Err(ReadFailure::Corrupt(_))
        ));
        let mut r = SegmentReader::open(&path, 0, true).unwrap();
        assert!(matches!(
            r.read_record(size, 0, 2),
            Err(ReadFailure::Corrupt(_))
        ));
        // The file is shorter than the bound claims.
        let mut r = SegmentReader::open(&path, 0, true).unwrap();
        assert!(r.read_record(size, 0, 100).is_ok());
        assert!(matches!(
            r.read_record(size + 10, 0, 100),
            Err(ReadFailure::Corrupt(_))
        ));
    }
}
