//! Behaviour of `DiskQueue`: writing, rolling, reading, syncing, restarts.

mod common;

use std::fs;
use std::time::{Duration, Instant};

use common::{files, meta_text, opts, record, seg, write_meta};
use nsq_queue::{DiskQueue, DiskQueueOptions, QueueError};

#[test]
fn round_trip_across_many_rolls() {
    let dir = tempfile::tempdir().unwrap();
    let mut q = DiskQueue::open("t", dir.path(), opts(100)).unwrap();
    let mut next_pop = 0u32;
    let total = 600u32;
    for i in 0..total {
        q.put(&record(i, 4 + (i as usize * 7) % 57)).unwrap();
        // Consume in bursts so the reader is sometimes far behind and
        // sometimes reading the segment being written.
        if i % 5 == 4 {
            for _ in 0..(i % 7) {
                let got = q.pop().unwrap().expect("record");
                assert_eq!(
                    &got[..],
                    &record(next_pop, 4 + (next_pop as usize * 7) % 57)[..]
                );
                next_pop += 1;
            }
        }
    }
    assert_eq!(q.depth(), i64::from(total - next_pop));
    while let Some(got) = q.pop().unwrap() {
        assert_eq!(
            &got[..],
            &record(next_pop, 4 + (next_pop as usize * 7) % 57)[..]
        );
        next_pop += 1;
    }
    assert_eq!(next_pop, total);
    assert_eq!(q.depth(), 0);
    assert_eq!(q.bad_files(), 0);
    let (wf, _) = q.write_position();
    assert!(wf > 50, "expected many segments, got {wf}");
    assert_eq!(q.read_position(), q.write_position());
    q.close().unwrap();
    // Only the current write segment and the metadata remain.
    assert_eq!(
        files(dir.path()),
        vec![
            format!("t.diskqueue.{wf:06}.dat"),
            "t.diskqueue.meta.dat".to_owned()
        ]
    );
}

#[test]
fn rolling_rule_is_exact() {
    // 200-byte limit, 39-byte records (35-byte payload): 5 per segment.
    let dir = tempfile::tempdir().unwrap();
    let mut q = DiskQueue::open("r", dir.path(), common::nsqd_opts(200, 2500)).unwrap();
    for i in 0..5 {
        q.put(&record(i, 35)).unwrap();
    }
    assert_eq!(q.write_position(), (0, 195));
    q.put(&record(5, 35)).unwrap();
    assert_eq!(q.write_position(), (1, 39));
    assert_eq!(fs::metadata(seg(dir.path(), "r", 0)).unwrap().len(), 195);
    // The roll synced: metadata written with the new write segment, before
    // the 6th record was counted.
    assert_eq!(meta_text(dir.path(), "r"), "5\n0,0\n1,0\n");

    // A record exactly filling the limit stays; one byte more rolls.
    let dir = tempfile::tempdir().unwrap();
    let mut q = DiskQueue::open("x", dir.path(), opts(100)).unwrap();
    q.put(&record(0, 46)).unwrap(); // 50 bytes
    q.put(&record(1, 46)).unwrap(); // 100 bytes: == limit, no roll
    assert_eq!(q.write_position(), (0, 100));
    q.put(&record(2, 4)).unwrap();
    assert_eq!(q.write_position(), (1, 8));
    // A record larger than the limit sits alone in its segment.
    q.put(&record(3, 300)).unwrap();
    assert_eq!(q.write_position(), (2, 304));
    q.put(&record(4, 4)).unwrap();
    assert_eq!(q.write_position(), (3, 8));
    // ... and also when it is the first record of an empty segment.
    let dir2 = tempfile::tempdir().unwrap();
    let mut q2 = DiskQueue::open("y", dir2.path(), opts(100)).unwrap();
    q2.put(&record(0, 300)).unwrap();
    assert_eq!(q2.write_position(), (0, 304));
    for i in 0..5 {
        assert_eq!(
            &q.pop().unwrap().unwrap()[..],
            &record(i, [46, 46, 4, 300, 4][i as usize])[..]
        );
    }
}

#[test]
fn meta_file_text_is_exact() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let mut q = DiskQueue::open("m", p, common::nsqd_opts(200, 2500)).unwrap();
    q.close().unwrap();
    // A queue that was never written still leaves a metadata file.
    assert_eq!(files(p), vec!["m.diskqueue.meta.dat"]);
    assert_eq!(meta_text(p, "m"), "0\n0,0\n0,0\n");

    let mut q = DiskQueue::open("m", p, common::nsqd_opts(200, 2500)).unwrap();
    for i in 0..6 {
        q.put(&record(i, 35)).unwrap();
    }
    q.close().unwrap();
    assert_eq!(meta_text(p, "m"), "6\n0,0\n1,39\n");

    let mut q = DiskQueue::open("m", p, common::nsqd_opts(200, 2500)).unwrap();
    for _ in 0..6 {
        q.pop().unwrap().unwrap();
    }
    q.close().unwrap();
    assert_eq!(meta_text(p, "m"), "0\n1,39\n1,39\n");
    assert_eq!(
        files(p),
        vec!["m.diskqueue.000001.dat", "m.diskqueue.meta.dat"]
    );
}

#[cfg(unix)]
#[test]
fn files_are_created_with_mode_0600() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let mut q = DiskQueue::open("p", dir.path(), opts(100)).unwrap();
    q.put(b"abcd").unwrap();
    q.close().unwrap();
    for name in files(dir.path()) {
        let mode = fs::metadata(dir.path().join(&name))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{name}");
    }
}

#[test]
fn restart_mid_file_continues_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let mut q = DiskQueue::open("s", p, opts(1000)).unwrap();
    for i in 0..10 {
        q.put(&record(i, 20)).unwrap();
    }
    for i in 0..3 {
        assert_eq!(&q.pop().unwrap().unwrap()[..], &record(i, 20)[..]);
    }
    // Read ahead without consuming: must not count as read.
    assert_eq!(&q.peek().unwrap().unwrap()[..], &record(3, 20)[..]);
    q.close().unwrap();
    assert_eq!(meta_text(p, "s"), "7\n0,72\n0,240\n");

    let mut q = DiskQueue::open("s", p, opts(1000)).unwrap();
    assert_eq!(q.depth(), 7);
    assert_eq!(q.read_position(), (0, 72));
    assert_eq!(q.write_position(), (0, 240));
    // Appends continue in the same segment.
    q.put(&record(10, 20)).unwrap();
    assert_eq!(q.write_position(), (0, 264));
    for i in 3..11 {
        assert_eq!(&q.pop().unwrap().unwrap()[..], &record(i, 20)[..]);
    }
    assert_eq!(q.pop().unwrap(), None);
    assert_eq!(q.depth(), 0);
    assert_eq!(q.bad_files(), 0);
}

#[test]
fn peek_does_not_consume() {
    let dir = tempfile::tempdir().unwrap();
    let mut q = DiskQueue::open("k", dir.path(), opts(1000)).unwrap();
    assert_eq!(q.peek().unwrap(), None);
    q.put(b"first").unwrap();
    q.put(b"second").unwrap();
    assert_eq!(&q.peek().unwrap().unwrap()[..], b"first");
    assert_eq!(&q.peek().unwrap().unwrap()[..], b"first");
    assert_eq!(q.depth(), 2);
    assert_eq!(&q.pop().unwrap().unwrap()[..], b"first");
    assert_eq!(q.depth(), 1);
    assert_eq!(&q.peek().unwrap().unwrap()[..], b"second");
    assert_eq!(&q.pop().unwrap().unwrap()[..], b"second");
    assert_eq!(q.peek().unwrap(), None);
}

#[test]
fn writes_are_visible_to_a_reader_that_caught_up() {
    // The reader keeps reading the segment being written; every new record
    // must be seen, including after the writer rolls under it.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let mut q = DiskQueue::open("v", p, opts(64)).unwrap();
    for i in 0..100 {
        q.put(&record(i, 12)).unwrap();
        assert_eq!(&q.pop().unwrap().unwrap()[..], &record(i, 12)[..]);
        assert_eq!(q.pop().unwrap(), None);
        assert_eq!(q.depth(), 0);
    }
    // 4 records of 16 bytes per segment: the reader was at the end of a
    // segment each time the writer rolled. No segment may be set aside.
    assert_eq!(q.bad_files(), 0);
    q.close().unwrap();
    assert_eq!(
        files(p),
        vec!["v.diskqueue.000024.dat", "v.diskqueue.meta.dat"]
    );
    assert_eq!(meta_text(p, "v"), "0\n24,64\n24,64\n");
}

#[test]
fn records_larger_than_the_read_buffer() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(1 << 20);
    o.max_msg_size = 200_000;
    let mut q = DiskQueue::open("big", dir.path(), o.clone()).unwrap();
    let sizes = [10usize, 100_000, 5, 65_536, 200_000, 7];
    for (i, &n) in sizes.iter().enumerate() {
        q.put(&record(i as u32, n)).unwrap();
    }
    q.close().unwrap();
    let mut q = DiskQueue::open("big", dir.path(), o).unwrap();
    for (i, &n) in sizes.iter().enumerate() {
        assert_eq!(&q.pop().unwrap().unwrap()[..], &record(i as u32, n)[..]);
    }
    assert_eq!(q.pop().unwrap(), None);
}

#[test]
fn unclean_stop_recovers_every_record_at_least_once() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let mut q = DiskQueue::open("c", p, opts(1000)).unwrap();
    for i in 0..5 {
        q.put(&record(i, 10)).unwrap();
    }
    q.close().unwrap();
    assert_eq!(meta_text(p, "c"), "5\n0,0\n0,70\n");

    let mut q = DiskQueue::open("c", p, opts(1000)).unwrap();
    for i in 5..8 {
        q.put(&record(i, 10)).unwrap();
    }
    for i in 0..2 {
        assert_eq!(&q.pop().unwrap().unwrap()[..], &record(i, 10)[..]);
    }
    // Crash: the metadata still says depth 5, read 0,0, write 0,70.
    q.close_without_sync();
    assert_eq!(meta_text(p, "c"), "5\n0,0\n0,70\n");

    // Segment 0 is longer than the recorded write position: writing moves
    // to segment 1, and the reader salvages all of segment 0, including the
    // two records consumed after the last sync (delivered again).
    let mut q = DiskQueue::open("c", p, opts(1000)).unwrap();
    assert_eq!(q.write_position(), (1, 0));
    assert_eq!(q.read_position(), (0, 0));
    assert_eq!(
        q.depth(),
        5,
        "depth is the stale value until the tail check"
    );
    q.put(&record(100, 10)).unwrap();
    let mut got = Vec::new();
    while let Some(r) = q.pop().unwrap() {
        got.push(r.to_vec());
    }
    let mut want: Vec<Vec<u8>> = (0..8).map(|i| record(i, 10)).collect();
    want.push(record(100, 10));
    assert_eq!(got, want);
    assert_eq!(q.depth(), 0, "the tail check repaired the depth");
    assert_eq!(q.bad_files(), 0);
    q.close().unwrap();
    assert_eq!(
        files(p),
        vec!["c.diskqueue.000001.dat", "c.diskqueue.meta.dat"]
    );
}

#[test]
fn unclean_stop_with_sync_every_one_loses_nothing_and_repeats_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let mut o = opts(60);
    o.sync_every = 1;
    let mut q = DiskQueue::open("c1", p, o.clone()).unwrap();
    for i in 0..10 {
        q.put(&record(i, 10)).unwrap();
    }
    for i in 0..4 {
        assert_eq!(&q.pop().unwrap().unwrap()[..], &record(i, 10)[..]);
    }
    q.close_without_sync();
    let mut q = DiskQueue::open("c1", p, o).unwrap();
    assert_eq!(q.depth(), 6);
    for i in 4..10 {
        assert_eq!(&q.pop().unwrap().unwrap()[..], &record(i, 10)[..]);
    }
    assert_eq!(q.pop().unwrap(), None);
}

#[test]
fn unclean_stop_of_a_new_queue_before_its_first_sync() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let mut q = DiskQueue::open("fresh", p, opts(1000)).unwrap();
    for i in 0..3 {
        q.put(&record(i, 10)).unwrap();
    }
    q.close_without_sync();
    let mut q = DiskQueue::open("fresh", p, opts(1000)).unwrap();
    assert_eq!(q.write_position(), (1, 0));
    q.put(&record(3, 10)).unwrap();
    for i in 0..4 {
        assert_eq!(&q.pop().unwrap().unwrap()[..], &record(i, 10)[..]);
    }
    assert_eq!(q.pop().unwrap(), None);
    assert_eq!(q.depth(), 0);
}

#[test]
fn two_unclean_stops_in_a_row() {
    // After the startup rule moved writing to a new segment, that move must
    // be on disk before the new segment gets data; otherwise a second crash
    // would send the writer back to the same segment and overwrite it.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let mut q = DiskQueue::open("two", p, opts(1000)).unwrap();
    q.put(&record(0, 10)).unwrap();
    q.close_without_sync();
    let mut q = DiskQueue::open("two", p, opts(1000)).unwrap();
    assert_eq!(q.write_position(), (1, 0));
    assert_eq!(meta_text(p, "two"), "0\n0,0\n1,0\n");
    q.put(&record(1, 10)).unwrap();
    q.close_without_sync();
    let mut q = DiskQueue::open("two", p, opts(1000)).unwrap();
    assert_eq!(q.write_position(), (2, 0));
    q.put(&record(2, 10)).unwrap();
    for i in 0..3 {
        assert_eq!(&q.pop().unwrap().unwrap()[..], &record(i, 10)[..]);
    }
    assert_eq!(q.pop().unwrap(), None);
    assert_eq!(q.bad_files(), 0);
}

#[test]
fn startup_rule_write_segment_longer_than_meta() {
    // Hand-made state: meta says 2 records in segment 3, but segment 3 holds 3.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let mut data = Vec::new();
    for i in 0..3 {
        data.extend_from_slice(&8i32.to_be_bytes());
        data.extend_from_slice(&record(i, 8));
    }
    fs::write(seg(p, "u", 3), &data).unwrap();
    write_meta(p, "u", "2\n3,0\n3,24\n");
    let mut q = DiskQueue::open("u", p, opts(1000)).unwrap();
    assert_eq!(q.write_position(), (4, 0));
    assert_eq!(q.read_position(), (3, 0));
    q.put(&record(9, 8)).unwrap();
    for i in [0, 1, 2, 9] {
        assert_eq!(&q.pop().unwrap().unwrap()[..], &record(i, 8)[..]);
    }
    assert_eq!(q.depth(), 0);
    assert!(!seg(p, "u", 3).exists());
    assert!(seg(p, "u", 4).exists());
}

#[test]
fn missing_meta_ignores_old_segments() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let mut q = DiskQueue::open("n", p, opts(1000)).unwrap();
    for i in 0..5 {
        q.put(&record(i, 30)).unwrap();
    }
    q.close().unwrap();
    fs::remove_file(p.join("n.diskqueue.meta.dat")).unwrap();

    let mut q = DiskQueue::open("n", p, opts(1000)).unwrap();
    assert_eq!(q.depth(), 0);
    // The old segment is left alone: the queue continues after it.
    assert_eq!(q.write_position(), (1, 0));
    assert_eq!(q.pop().unwrap(), None);
    q.put(&record(77, 10)).unwrap();
    assert_eq!(&q.pop().unwrap().unwrap()[..], &record(77, 10)[..]);
    assert_eq!(q.pop().unwrap(), None);
    assert_eq!(fs::metadata(seg(p, "n", 0)).unwrap().len(), 5 * 34);
    // Nor do its records come back after a restart (go-diskqueue writes
    // over segment 0 from offset 0, and its startup rule then reads the
    // stale tail of the old segment as records).
    q.close().unwrap();
    drop(q);
    let mut q = DiskQueue::open("n", p, opts(1000)).unwrap();
    assert_eq!(q.pop().unwrap(), None);
}

#[test]
fn unparsable_meta_starts_empty() {
    for text in ["garbage", "1\n2\n3\n", "", "5\n0,0\n-1,0\n", "\u{0}\u{1}"] {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        write_meta(p, "g", text);
        let mut q = DiskQueue::open("g", p, opts(1000)).unwrap();
        assert_eq!(q.depth(), 0, "{text:?}");
        assert_eq!(q.read_position(), (0, 0));
        assert_eq!(q.write_position(), (0, 0));
        q.put(b"abcd").unwrap();
        assert_eq!(&q.pop().unwrap().unwrap()[..], b"abcd");
    }
}

#[test]
fn meta_with_read_at_or_beyond_write_is_repaired() {
    // Positive depth although read == write: forced to 0.
    let dir = tempfile::tempdir().unwrap();
    write_meta(dir.path(), "d", "5\n1,10\n1,10\n");
    let q = DiskQueue::open("d", dir.path(), opts(1000)).unwrap();
    assert_eq!(q.depth(), 0);
    assert_eq!(q.read_position(), (1, 10));

    // Read beyond write: both skip to a fresh segment.
    let dir = tempfile::tempdir().unwrap();
    write_meta(dir.path(), "d", "3\n2,50\n2,10\n");
    let mut q = DiskQueue::open("d", dir.path(), opts(1000)).unwrap();
    assert_eq!(q.depth(), 0);
    assert_eq!(q.read_position(), (3, 0));
    assert_eq!(q.write_position(), (3, 0));
    q.put(b"abcd").unwrap();
    assert_eq!(&q.pop().unwrap().unwrap()[..], b"abcd");

    let dir = tempfile::tempdir().unwrap();
    write_meta(dir.path(), "d", "3\n7,0\n2,10\n");
    let q = DiskQueue::open("d", dir.path(), opts(1000)).unwrap();
    assert_eq!(q.read_position(), (8, 0));
    assert_eq!(q.write_position(), (8, 0));
}

#[test]
fn sync_every_counts_writes_and_reads() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let mut o = opts(1000);
    o.sync_every = 3;
    let mut q = DiskQueue::open("e", p, o).unwrap();
    assert!(!q.needs_periodic_sync());
    q.put(&record(0, 10)).unwrap();
    q.put(&record(1, 10)).unwrap();
    assert_eq!(meta_text(p, "e"), "0\n0,0\n0,0\n");
    assert!(q.needs_periodic_sync());
    q.put(&record(2, 10)).unwrap();
    assert_eq!(meta_text(p, "e"), "3\n0,0\n0,42\n");
    assert!(!q.needs_periodic_sync());
    q.pop().unwrap().unwrap();
    q.peek().unwrap().unwrap(); // peeking is not an operation
    q.put(&record(3, 10)).unwrap();
    assert_eq!(meta_text(p, "e"), "3\n0,0\n0,42\n");
    q.pop().unwrap().unwrap(); // third operation since the last sync
    assert_eq!(meta_text(p, "e"), "2\n0,28\n0,56\n");
}

#[test]
fn periodic_sync_only_after_activity() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let mut o = opts(1000);
    o.sync_timeout = Duration::from_secs(60);
    let mut q = DiskQueue::open("pt", p, o).unwrap();
    let later = Instant::now() + Duration::from_secs(120);
    // A new queue writes its metadata at once; then nothing happened: no sync.
    assert_eq!(meta_text(p, "pt"), "0\n0,0\n0,0\n");
    assert!(!q.needs_periodic_sync());
    assert!(!q.sync_if_due_at(later).unwrap());
    q.sync_if_due().unwrap();

    q.put(&record(0, 10)).unwrap();
    // Activity, but the timeout has not passed since the last sync (open).
    assert!(!q.sync_if_due_at(Instant::now()).unwrap());
    assert_eq!(meta_text(p, "pt"), "0\n0,0\n0,0\n");
    // Once it has, the timer syncs.
    assert!(q.sync_if_due_at(later).unwrap());
    assert_eq!(meta_text(p, "pt"), "1\n0,0\n0,14\n");
    assert!(!q.needs_periodic_sync());
    assert!(!q.sync_if_due_at(later + Duration::from_secs(120)).unwrap());

    q.pop().unwrap().unwrap();
    assert!(q.needs_periodic_sync());
    q.sync_if_due().unwrap();
    assert_eq!(meta_text(p, "pt"), "0\n0,14\n0,14\n");
    assert_eq!(q.sync_timeout(), Duration::from_secs(60));
}

#[test]
fn empty_deletes_segments_and_continues_numbering() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let mut q = DiskQueue::open("em", p, opts(40)).unwrap();
    for i in 0..7 {
        q.put(&record(i, 16)).unwrap(); // 2 per segment
    }
    q.pop().unwrap().unwrap();
    assert_eq!(q.write_position(), (3, 20));
    q.empty().unwrap();
    assert_eq!(q.depth(), 0);
    assert_eq!(q.pop().unwrap(), None);
    assert_eq!(q.read_position(), (4, 0));
    assert_eq!(q.write_position(), (4, 0));
    assert_eq!(files(p), vec!["em.diskqueue.meta.dat"]);
    assert_eq!(meta_text(p, "em"), "0\n4,0\n4,0\n");
    q.put(&record(50, 16)).unwrap();
    assert!(seg(p, "em", 4).exists());
    assert_eq!(&q.pop().unwrap().unwrap()[..], &record(50, 16)[..]);
    q.close().unwrap();
    assert_eq!(meta_text(p, "em"), "0\n4,20\n4,20\n");
}

#[test]
fn delete_removes_every_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let mut q = DiskQueue::open("del", p, opts(40)).unwrap();
    for i in 0..7 {
        q.put(&record(i, 16)).unwrap();
    }
    q.sync().unwrap();
    // Another queue in the same directory is not touched.
    let mut other = DiskQueue::open("del2", p, opts(40)).unwrap();
    other.put(b"keep").unwrap();
    other.close().unwrap();
    assert!(files(p).len() > 3);
    q.delete().unwrap();
    assert_eq!(
        files(p),
        vec!["del2.diskqueue.000000.dat", "del2.diskqueue.meta.dat"]
    );
}

#[test]
fn write_size_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(1000);
    o.min_msg_size = 26;
    o.max_msg_size = 30;
    let mut q = DiskQueue::open("b", dir.path(), o).unwrap();
    for bad in [0usize, 25, 31, 1000] {
        let err = q.put(&vec![0; bad]).unwrap_err();
        assert!(
            matches!(err, QueueError::InvalidWriteSize { size, min: 26, max: 30, .. } if size == bad as u64)
        );
        let msg = err.to_string();
        assert!(
            msg.contains("\"b\"") && msg.contains("--max-msg-size"),
            "{msg}"
        );
    }
    assert_eq!(q.depth(), 0);
    assert_eq!(q.write_position(), (0, 0));
    q.put(&[1; 26]).unwrap();
    q.put(&[2; 30]).unwrap();
    assert_eq!(q.depth(), 2);
}

#[test]
fn closed_queue_rejects_calls_and_drop_syncs() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let mut q = DiskQueue::open("z", p, opts(1000)).unwrap();
    q.put(b"abcd").unwrap();
    q.close().unwrap();
    q.close().unwrap();
    assert!(q.is_closed());
    assert!(matches!(q.put(b"abcd"), Err(QueueError::Closed { .. })));
    assert!(matches!(q.pop(), Err(QueueError::Closed { .. })));
    assert!(matches!(q.peek(), Err(QueueError::Closed { .. })));
    assert!(matches!(q.sync(), Err(QueueError::Closed { .. })));
    assert!(matches!(q.empty(), Err(QueueError::Closed { .. })));
    q.sync_if_due().unwrap();
    drop(q);

    {
        let mut q = DiskQueue::open("z", p, opts(1000)).unwrap();
        q.put(b"efgh").unwrap();
        // dropped without close
    }
    assert_eq!(meta_text(p, "z"), "2\n0,0\n0,16\n");
}

#[test]
fn open_rejects_bad_config() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    for name in ["", "a/b", ".."] {
        assert!(matches!(
            DiskQueue::open(name, p, opts(100)),
            Err(QueueError::InvalidConfig { .. })
        ));
    }
    assert!(matches!(
        DiskQueue::open("a", p, opts(0)),
        Err(QueueError::InvalidConfig { .. })
    ));
    let mut o = opts(100);
    o.max_msg_size = 2;
    assert!(matches!(
        DiskQueue::open("a", p, o),
        Err(QueueError::InvalidConfig { .. })
    ));
    let missing = p.join("nope");
    let err = DiskQueue::open("a", &missing, opts(100)).unwrap_err();
    assert!(err.to_string().contains("nope"), "{err}");
    fs::write(p.join("file"), b"").unwrap();
    assert!(matches!(
        DiskQueue::open("a", &p.join("file"), opts(100)),
        Err(QueueError::InvalidConfig { .. })
    ));
}

#[test]
fn default_options_match_nsqd() {
    let o = DiskQueueOptions::default();
    assert_eq!(o.max_bytes_per_file, 104_857_600);
    assert_eq!(o.min_msg_size, 26);
    assert_eq!(o.max_msg_size, 1_048_576 + 26);
    assert_eq!(o.sync_every, 2500);
    assert_eq!(o.sync_timeout, Duration::from_secs(2));
}

#[test]
fn put_many_writes_the_same_files_as_single_puts() {
    let single = tempfile::tempdir().unwrap();
    let batched = tempfile::tempdir().unwrap();
    let options = common::opts(200);
    let records: Vec<Vec<u8>> = (0..23u8)
        .map(|i| vec![b'a' + i % 26; 26 + (i as usize % 9)])
        .collect();
    {
        let mut q = DiskQueue::open("q", single.path(), options.clone()).unwrap();
        for r in &records {
            q.put(r).unwrap();
        }
        q.close().unwrap();
    }
    {
        let mut q = DiskQueue::open("q", batched.path(), options.clone()).unwrap();
        let refs: Vec<&[u8]> = records.iter().map(|r| r.as_slice()).collect();
        q.put_many(&refs[..10]).unwrap();
        q.put_many(&refs[10..]).unwrap();
        assert_eq!(q.depth(), 23);
        q.close().unwrap();
    }
    let mut names: Vec<_> = std::fs::read_dir(single.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    for name in names {
        let a = std::fs::read(single.path().join(&name)).unwrap();
        let b = std::fs::read(batched.path().join(&name)).unwrap();
        assert_eq!(a, b, "{name:?} differs");
    }
    let mut q = DiskQueue::open("q", batched.path(), options).unwrap();
    for r in &records {
        assert_eq!(q.pop().unwrap().as_deref(), Some(r.as_slice()));
    }
}

#[test]
fn put_many_checks_every_size_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    let mut q = DiskQueue::open("q", dir.path(), common::opts(1000)).unwrap();
    let ok = vec![1u8; 30];
    let too_small = vec![1u8; 3];
    assert!(q.put_many(&[&ok, &too_small]).is_err());
    assert_eq!(q.depth(), 0);
}
