//! The disk-queue reader on arbitrary files: a metadata file and data
//! segments with arbitrary bytes are written to a scratch directory, a
//! `DiskQueue` is opened on them and read until it is empty.
//!
//! Input:
//! `[flags][max_bytes_per_file u16]([meta len u8][meta])?[segment count]([file num u8][len u16][bytes])*`
//! flags bit 0: a metadata file exists; bit 1: tracked reads
//! (`pop_tracked` + `finish`); bit 2: records may be empty (min size 0
//! instead of nsqd's 26); bit 3: small max record size (64 instead of
//! 1 MiB + 26); bit 4: close, reopen and read again at the end.
//!
//! Checks: no panic; reading ends within a number of steps bounded by the
//! bytes on disk (a damaged queue must never loop); every record is within
//! the size bounds; an emptied queue has depth 0, still stores and returns
//! a new record, and is still empty after a reopen.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nsq_fuzz::{scratch_dir, Input};
use nsq_queue::{DiskQueue, DiskQueueOptions};
use std::path::Path;
use std::time::Duration;

const NAME: &str = "q";

/// Pops until the queue says it is empty (or fails); panics after `budget`
/// records, which no queue built from the input's bytes can hold.
fn drain(q: &mut DiskQueue, tracked: bool, budget: usize) -> usize {
    let opts = q.options().clone();
    for popped in 0..=budget {
        let record = if tracked {
            match q.pop_tracked() {
                Ok(Some((record, ticket))) => {
                    q.finish(ticket);
                    record
                }
                Ok(None) | Err(_) => return popped,
            }
        } else {
            match q.pop() {
                Ok(Some(record)) => record,
                Ok(None) | Err(_) => return popped,
            }
        };
        let len = i64::try_from(record.len()).unwrap_or(i64::MAX);
        assert!(
            len >= i64::from(opts.min_msg_size) && len <= i64::from(opts.max_msg_size),
            "record of {len} bytes outside [{}, {}]",
            opts.min_msg_size,
            opts.max_msg_size
        );
    }
    panic!("more than {budget} records read back: the reader is looping");
}

fn write_files(dir: &Path, input: &mut Input, has_meta: bool) -> usize {
    if has_meta {
        let len = usize::from(input.byte());
        let meta = input.take(len);
        std::fs::write(dir.join(format!("{NAME}.diskqueue.meta.dat")), meta).expect("write meta");
    }
    let mut total = 0;
    for _ in 0..input.byte() % 5 {
        let num = input.byte();
        let len = usize::from(input.u16());
        let bytes = input.take(len);
        total += bytes.len();
        let path = dir.join(format!("{NAME}.diskqueue.{num:06}.dat"));
        std::fs::write(path, bytes).expect("write segment");
    }
    total
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let flags = input.byte();
    let max_bytes_per_file = i64::from(input.u16()) + 1;
    let tracked = flags & 2 != 0;
    let dir = scratch_dir();
    let bytes_on_disk = write_files(dir.path(), &mut input, flags & 1 != 0);
    let opts = DiskQueueOptions {
        max_bytes_per_file,
        min_msg_size: if flags & 4 != 0 { 0 } else { 26 },
        max_msg_size: if flags & 8 != 0 { 64 } else { 1024 * 1024 + 26 },
        sync_every: 1 << 20,
        sync_timeout: Duration::from_secs(3600),
        tracked_reads: tracked,
    };
    let Ok(mut q) = DiskQueue::open(NAME, dir.path(), opts.clone()) else {
        return;
    };
    // Every record takes at least 4 bytes; every segment may end once.
    let budget = bytes_on_disk / 4 + 8;
    drain(&mut q, tracked, budget);
    if q.peek().ok().flatten().is_some() {
        return; // an open failure left something to read: nothing more to check
    }
    assert_eq!(q.depth(), 0, "empty queue with depth {}: {q:?}", q.depth());

    // The repaired queue still works.
    let record = vec![b'r'; 26.min(opts.max_msg_size as usize)];
    if q.put(&record).is_ok() {
        let back = if tracked {
            q.pop_tracked().ok().flatten().map(|(r, t)| {
                q.finish(t);
                r
            })
        } else {
            q.pop().ok().flatten()
        };
        assert_eq!(back.as_deref(), Some(&record[..]), "{q:?}");
    }

    if flags & 16 != 0 && q.close().is_ok() {
        drop(q);
        if let Ok(mut q) = DiskQueue::open(NAME, dir.path(), opts) {
            let again = drain(&mut q, tracked, budget);
            assert_eq!(again, 0, "records came back after a reopen: {q:?}");
        }
    }
});
