//! `SpillQueue`: memory first, overflow to disk (or dropped when ephemeral).

mod common;

use bytes::Bytes;
use common::opts;
use nsq_queue::{DiskQueue, PutOutcome, QueueError, QueueItem, SpillQueue};

/// A test item: a number, encoded as 8 bytes; records starting with "BAD"
/// do not decode.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Item(u64);

impl QueueItem for Item {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0.to_be_bytes());
    }
    fn decode(bytes: Bytes) -> Result<Self, String> {
        if bytes.starts_with(b"BAD") {
            return Err("starts with BAD".to_owned());
        }
        let arr: [u8; 8] = bytes[..]
            .try_into()
            .map_err(|_| format!("expected 8 bytes, got {}", bytes.len()))?;
        Ok(Item(u64::from_be_bytes(arr)))
    }
}

fn disk(p: &std::path::Path, name: &str) -> DiskQueue {
    DiskQueue::open(name, p, opts(100)).unwrap()
}

fn drain(q: &mut SpillQueue<Item>) -> Vec<u64> {
    let mut out = Vec::new();
    while let Some(Item(n)) = q.pop().unwrap() {
        out.push(n);
    }
    out
}

#[test]
fn memory_then_disk() {
    let dir = tempfile::tempdir().unwrap();
    let mut q = SpillQueue::new(3, Some(disk(dir.path(), "s")));
    let outcomes: Vec<PutOutcome> = (0..5).map(|i| q.put(Item(i)).unwrap()).collect();
    use PutOutcome::{Disk, Memory};
    assert_eq!(outcomes, vec![Memory, Memory, Memory, Disk, Disk]);
    assert_eq!(q.depth(), 5);
    assert_eq!(q.backend_depth(), 2);
    assert_eq!(q.memory_depth(), 3);
    assert_eq!(q.pop().unwrap(), Some(Item(0)));
    // Room in memory again: the next put stays in memory and is returned
    // before the older items on disk (as in nsqd).
    assert_eq!(q.put(Item(5)).unwrap(), Memory);
    assert_eq!(drain(&mut q), vec![1, 2, 5, 3, 4]);
    assert_eq!(q.depth(), 0);
    assert!(!q.is_ephemeral());
    assert_eq!(q.mem_capacity(), 3);
}

#[test]
fn zero_memory_capacity_goes_to_disk() {
    let dir = tempfile::tempdir().unwrap();
    let mut q = SpillQueue::new(0, Some(disk(dir.path(), "z")));
    for i in 0..10 {
        assert_eq!(q.put(Item(i)).unwrap(), PutOutcome::Disk);
    }
    assert_eq!(q.backend_depth(), 10);
    assert_eq!(q.depth(), 10);
    assert_eq!(drain(&mut q), (0..10).collect::<Vec<_>>());
}

#[test]
fn ephemeral_drops_overflow() {
    let mut q: SpillQueue<Item> = SpillQueue::new(2, None);
    assert!(q.is_ephemeral());
    assert_eq!(q.put(Item(1)).unwrap(), PutOutcome::Memory);
    assert_eq!(q.put(Item(2)).unwrap(), PutOutcome::Memory);
    assert_eq!(q.put(Item(3)).unwrap(), PutOutcome::Dropped);
    assert_eq!(q.depth(), 2);
    assert_eq!(q.backend_depth(), 0);
    assert_eq!(q.drain_memory_to_disk().unwrap(), 0);
    assert_eq!(q.depth(), 2, "without a disk queue memory is left alone");
    assert_eq!(drain(&mut q), vec![1, 2]);

    let mut q: SpillQueue<Item> = SpillQueue::new(0, None);
    assert_eq!(q.put(Item(1)).unwrap(), PutOutcome::Dropped);
    assert_eq!(q.pop().unwrap(), None);
    q.delete().unwrap();
}

#[test]
fn drain_memory_to_disk_then_reopen_yields_everything() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let mut q = SpillQueue::new(10, Some(disk(p, "d")));
    for i in 0..15 {
        q.put(Item(i)).unwrap();
    }
    assert_eq!(q.drain_memory_to_disk().unwrap(), 10);
    assert_eq!(q.memory_depth(), 0);
    assert_eq!(q.backend_depth(), 15);
    let mut d = q.into_disk().unwrap();
    d.close().unwrap();
    assert_eq!(common::meta_text(p, "d").lines().next(), Some("15"));

    let mut q = SpillQueue::new(10, Some(disk(p, "d")));
    assert_eq!(q.depth(), 15);
    // Disk order: the overflow first, then the flushed memory items.
    let mut want: Vec<u64> = (10..15).collect();
    want.extend(0..10);
    assert_eq!(drain(&mut q), want);
}

#[test]
fn undecodable_disk_records_are_skipped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let mut d = disk(p, "u");
    d.put(&1u64.to_be_bytes()).unwrap();
    d.put(b"BAD-record").unwrap();
    d.put(b"short").unwrap();
    d.put(&2u64.to_be_bytes()).unwrap();
    let mut q = SpillQueue::new(0, Some(d));
    assert_eq!(drain(&mut q), vec![1, 2]);
    assert_eq!(q.bad_records(), 2);
    assert_eq!(q.depth(), 0);
    assert_eq!(q.disk().unwrap().bad_files(), 0);
}

#[test]
fn empty_clears_memory_and_disk() {
    let dir = tempfile::tempdir().unwrap();
    let mut q = SpillQueue::new(2, Some(disk(dir.path(), "e")));
    for i in 0..6 {
        q.put(Item(i)).unwrap();
    }
    q.empty().unwrap();
    assert_eq!(q.depth(), 0);
    assert_eq!(q.pop().unwrap(), None);
    q.put(Item(9)).unwrap();
    assert_eq!(drain(&mut q), vec![9]);
}

#[test]
fn delete_removes_the_disk_files() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let mut q = SpillQueue::new(1, Some(disk(p, "x")));
    for i in 0..20 {
        q.put(Item(i)).unwrap();
    }
    q.disk_mut().unwrap().sync().unwrap();
    assert!(!common::files(p).is_empty());
    q.delete().unwrap();
    assert!(common::files(p).is_empty());
}

#[test]
fn failed_drain_keeps_items_in_order() {
    /// Items whose encoding is too large for the disk queue when odd.
    #[derive(Debug, PartialEq)]
    struct Varied(u64);
    impl QueueItem for Varied {
        fn encode(&self, out: &mut Vec<u8>) {
            let n = if self.0 % 2 == 1 { 2000 } else { 8 };
            out.resize(out.len() + n, self.0 as u8);
        }
        fn decode(bytes: Bytes) -> Result<Self, String> {
            Ok(Varied(u64::from(bytes[0])))
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let mut q = SpillQueue::new(5, Some(disk(dir.path(), "f")));
    for i in 0..5 {
        q.put(Varied(i)).unwrap();
    }
    let err = q.drain_memory_to_disk().unwrap_err();
    assert!(matches!(
        err,
        QueueError::InvalidWriteSize { size: 2000, .. }
    ));
    assert_eq!(q.memory_depth(), 2);
    assert_eq!(q.backend_depth(), 3);
    let mut got = Vec::new();
    while let Some(Varied(n)) = q.pop().unwrap() {
        got.push(n);
    }
    // Memory (the two that failed, in order) first, then disk.
    assert_eq!(got, vec![1, 3, 0, 2, 4]);
}

#[test]
fn disk_errors_surface_from_put() {
    let dir = tempfile::tempdir().unwrap();
    let mut d = disk(dir.path(), "c");
    d.close().unwrap();
    let mut q = SpillQueue::new(0, Some(d));
    assert!(matches!(q.put(Item(1)), Err(QueueError::Closed { .. })));
}
