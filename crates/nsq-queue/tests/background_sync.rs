//! Background syncs: the metadata catches up without inline fsyncs, only
//! moves forward, and never outlives a closed or deleted queue.

mod common;

use std::time::{Duration, Instant};

use common::{files, meta_text, opts, record};
use nsq_queue::DiskQueue;

/// Polls `cond` until it holds or 10 s pass.
fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Waits until every job queued on the syncer thread so far has run, by
/// pushing a sync of a throwaway queue through the same thread.
fn drain_syncer(dir: &std::path::Path) {
    let mut probe = DiskQueue::open("probe", dir, opts(1 << 20)).unwrap();
    probe.set_background_sync(true);
    probe.put(&record(0, 30)).unwrap();
    wait_for("the probe queue's background sync", || {
        let _ = probe.sync_if_due();
        depth_in_meta(dir, "probe") == 1
    });
}

fn depth_in_meta(dir: &std::path::Path, name: &str) -> i64 {
    meta_text(dir, name)
        .lines()
        .next()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(-1)
}

#[test]
fn sync_every_reaches_the_metadata_through_the_syncer_thread() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(1 << 20);
    o.sync_every = 10;
    let mut q = DiskQueue::open("bg", dir.path(), o).unwrap();
    q.set_background_sync(true);
    for i in 0..100u32 {
        q.put(&record(i, 40)).unwrap();
    }
    // The last put that reached sync_every started a sync of depth 100 or
    // a sync still under way leaves one due; a periodic tick starts it.
    wait_for("the metadata to record all 100 puts", || {
        let _ = q.sync_if_due();
        depth_in_meta(dir.path(), "bg") == 100
    });
    for _ in 0..40 {
        q.pop().unwrap().unwrap();
    }
    wait_for("the metadata to record the 40 reads", || {
        let _ = q.sync_if_due();
        depth_in_meta(dir.path(), "bg") == 60
    });
    q.close().unwrap();
    assert_eq!(
        meta_text(dir.path(), "bg"),
        format!("60\n0,{}\n0,{}\n", 40 * 44, 100 * 44)
    );

    // Everything is still there after reopening.
    let mut q = DiskQueue::open("bg", dir.path(), opts(1 << 20)).unwrap();
    for i in 40..100u32 {
        assert_eq!(q.pop().unwrap().unwrap().as_ref(), record(i, 40).as_slice());
    }
    assert!(q.pop().unwrap().is_none());
}

#[test]
fn close_writes_the_final_metadata_after_any_background_sync() {
    for round in 0..50u32 {
        let dir = tempfile::tempdir().unwrap();
        let mut o = opts(1 << 20);
        o.sync_every = 1;
        let mut q = DiskQueue::open("order", dir.path(), o).unwrap();
        q.set_background_sync(true);
        let n = 1 + round % 7;
        for i in 0..n {
            q.put(&record(i, 30)).unwrap();
        }
        q.close().unwrap();
        // A background sync that ran after close would write an older depth.
        drain_syncer(dir.path());
        assert_eq!(
            meta_text(dir.path(), "order"),
            format!("{n}\n0,0\n0,{}\n", n * 34),
            "round {round}"
        );
    }
}

#[test]
fn a_deleted_queue_is_not_recreated_by_a_late_background_sync() {
    for round in 0..50u32 {
        let dir = tempfile::tempdir().unwrap();
        let mut o = opts(1 << 20);
        o.sync_every = 1;
        let mut q = DiskQueue::open("gone", dir.path(), o).unwrap();
        q.set_background_sync(true);
        for i in 0..(1 + round % 5) {
            q.put(&record(i, 30)).unwrap();
        }
        q.delete().unwrap();
        drain_syncer(dir.path());
        let left: Vec<String> = files(dir.path())
            .into_iter()
            .filter(|f| f.starts_with("gone."))
            .collect();
        assert!(left.is_empty(), "round {round}: files left {left:?}");
    }
}
