//! Replays `disk_queue` fuzz inputs (crashes once found, and the most
//! instructive inputs of the corpus) stored under
//! `tests/fuzz_regressions/disk_queue/`, in the input format of
//! `fuzz/fuzz_targets/disk_queue.rs`:
//! `[flags][max_bytes_per_file-1 u16]([meta len u8][meta])?[segment count]([file num u8][len u16][bytes])*`.
//!
//! Each input `<name>` has a `<name>.expected` file listing what reading the
//! queue must produce. After a deliberate behaviour change, regenerate them
//! with `NSQ_UPDATE_FUZZ_EXPECTED=1 cargo test` and review the diff.

use nsq_queue::{DiskQueue, DiskQueueOptions};
use std::time::Duration;

const NAME: &str = "q";

/// Control bytes off the front of an input (0 once exhausted).
struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn byte(&mut self) -> u8 {
        let (b, rest) = self.0.split_first().map_or((0, &[][..]), |(b, r)| (*b, r));
        self.0 = rest;
        b
    }

    fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.byte(), self.byte()])
    }

    fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        head
    }
}

/// Pops everything, logging each record's length; gives up after `budget`.
fn drain(q: &mut DiskQueue, tracked: bool, budget: usize, log: &mut Vec<String>) -> usize {
    for popped in 0..=budget {
        let next = if tracked {
            q.pop_tracked().map(|r| {
                r.map(|(record, ticket)| {
                    q.finish(ticket);
                    record
                })
            })
        } else {
            q.pop()
        };
        match next {
            Ok(Some(record)) => log.push(format!("record {} bytes", record.len())),
            Ok(None) => return popped,
            Err(_) => {
                // The message names the temporary directory: not logged.
                log.push("pop error".to_owned());
                return popped;
            }
        }
    }
    panic!("more than {budget} records read back: the reader is looping");
}

/// Builds the directory an input describes, reads it like the fuzz target
/// does and describes what happened.
fn outcome(data: &[u8]) -> Vec<String> {
    let mut input = Input(data);
    let flags = input.byte();
    let max_bytes_per_file = i64::from(input.u16()) + 1;
    let tracked = flags & 2 != 0;
    let dir = tempfile::tempdir().unwrap();
    if flags & 1 != 0 {
        let len = usize::from(input.byte());
        let meta = input.take(len);
        std::fs::write(dir.path().join(format!("{NAME}.diskqueue.meta.dat")), meta).unwrap();
    }
    let mut bytes_on_disk = 0;
    for _ in 0..input.byte() % 5 {
        let num = input.byte();
        let len = usize::from(input.u16());
        let bytes = input.take(len);
        bytes_on_disk += bytes.len();
        let path = dir.path().join(format!("{NAME}.diskqueue.{num:06}.dat"));
        std::fs::write(path, bytes).unwrap();
    }
    let opts = DiskQueueOptions {
        max_bytes_per_file,
        min_msg_size: if flags & 4 != 0 { 0 } else { 26 },
        max_msg_size: if flags & 8 != 0 { 64 } else { 1024 * 1024 + 26 },
        sync_every: 1 << 20,
        sync_timeout: Duration::from_secs(3600),
        tracked_reads: tracked,
    };
    let mut log = Vec::new();
    let mut q = match DiskQueue::open(NAME, dir.path(), opts.clone()) {
        Ok(q) => q,
        Err(_) => return vec!["open error".to_owned()],
    };
    log.push(format!(
        "opened depth={} read={:?} write={:?}",
        q.depth(),
        q.read_position(),
        q.write_position()
    ));
    let budget = bytes_on_disk / 4 + 8;
    drain(&mut q, tracked, budget, &mut log);
    log.push(format!(
        "drained depth={} bad_files={} read={:?} write={:?}",
        q.depth(),
        q.bad_files(),
        q.read_position(),
        q.write_position()
    ));
    assert_eq!(q.depth(), 0, "an emptied queue has depth 0");
    let record = vec![b'r'; 26];
    q.put(&record).unwrap();
    let back = if tracked {
        q.pop_tracked().unwrap().map(|(r, t)| {
            q.finish(t);
            r
        })
    } else {
        q.pop().unwrap()
    };
    assert_eq!(
        back.as_deref(),
        Some(&record[..]),
        "the queue works after repairs"
    );
    q.close().unwrap();
    drop(q);
    let mut q = DiskQueue::open(NAME, dir.path(), opts).unwrap();
    let again = drain(&mut q, tracked, budget, &mut log);
    assert_eq!(again, 0, "records came back after a reopen");
    log
}

#[test]
fn disk_queue_inputs() {
    nsq_fuzz_support::replay(env!("CARGO_MANIFEST_DIR"), "disk_queue", outcome);
}
