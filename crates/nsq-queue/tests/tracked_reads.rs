//! Acknowledged ("tracked") reads: `pop_tracked` / `finish`.

mod common;

use std::fs::OpenOptions;
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;

use bytes::Bytes;
use common::{files, meta_text, opts, record, seg};
use nsq_queue::{DiskQueue, DiskQueueOptions, QueueItem, ReadTicket, SpillQueue};

/// `opts(max_bytes)` with tracked reads and the given `sync_every`.
fn tracked(max_bytes: i64, sync_every: i64) -> DiskQueueOptions {
    let mut o = opts(max_bytes);
    o.sync_every = sync_every;
    o.tracked_reads = true;
    o
}

/// The number stored in the first 4 bytes of a `record(i, _)`.
fn index(r: &[u8]) -> u32 {
    u32::from_be_bytes([r[0], r[1], r[2], r[3]])
}

fn pop_t(q: &mut DiskQueue) -> (u32, ReadTicket) {
    let (r, t) = q.pop_tracked().unwrap().expect("a record");
    (index(&r), t)
}

/// Pops (tracked) and finishes everything left; returns the indices.
fn drain_finishing(q: &mut DiskQueue) -> Vec<u32> {
    let mut out = Vec::new();
    while let Some((r, t)) = q.pop_tracked().unwrap() {
        out.push(index(&r));
        q.finish(t);
    }
    out
}

fn patch(path: &Path, offset: u64, bytes: &[u8]) {
    let mut f = OpenOptions::new().write(true).open(path).unwrap();
    f.seek(SeekFrom::Start(offset)).unwrap();
    f.write_all(bytes).unwrap();
}

#[test]
fn default_is_untracked() {
    assert!(!DiskQueueOptions::default().tracked_reads);
}

#[test]
fn tickets_are_record_starts() {
    let dir = tempfile::tempdir().unwrap();
    let mut q = DiskQueue::open("tk", dir.path(), tracked(60, 2500)).unwrap();
    for i in 0..3 {
        q.put(&record(i, 20)).unwrap(); // 24 bytes: 2 per segment
    }
    let tickets: Vec<(i64, i64)> = (0..3)
        .map(|_| {
            let (_, t) = pop_t(&mut q);
            (t.file_num(), t.pos())
        })
        .collect();
    assert_eq!(tickets, vec![(0, 0), (0, 24), (1, 0)]);
}

#[test]
fn out_of_order_finishes_commit_exactly_the_contiguous_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let mut q = DiskQueue::open("oo", p, tracked(1000, 2500)).unwrap();
    for i in 0..8 {
        q.put(&record(i, 20)).unwrap();
    }
    let t: Vec<ReadTicket> = (0..6).map(|_| pop_t(&mut q).1).collect();
    assert_eq!(q.unfinished(), 6);
    assert_eq!(q.depth(), 2, "depth counts unread records only");
    assert_eq!(q.read_position(), (0, 144));
    assert_eq!(q.committed_position(), (0, 0));

    // Finishing younger records does not move the committed position.
    for &k in &[2usize, 4, 1] {
        q.finish(t[k]);
        assert_eq!(q.committed_position(), (0, 0), "after finishing {k}");
    }
    assert_eq!(q.unfinished(), 3);
    q.sync().unwrap();
    assert_eq!(meta_text(p, "oo"), "8\n0,0\n0,192\n");

    // Record 0 done: 0, 1 and 2 are committed, 3 is the oldest unfinished.
    q.finish(t[0]);
    assert_eq!(q.committed_position(), (0, 72));
    q.sync().unwrap();
    assert_eq!(meta_text(p, "oo"), "5\n0,72\n0,192\n");

    // 3 done: 4 is finished already, so the commit runs up to 5.
    q.finish(t[3]);
    assert_eq!(q.committed_position(), (0, 120));
    q.sync().unwrap();
    assert_eq!(meta_text(p, "oo"), "3\n0,120\n0,192\n");

    // Finishing twice (or an already committed ticket) changes nothing.
    q.finish(t[3]);
    q.finish(t[0]);
    assert_eq!(q.unfinished(), 1);
    assert_eq!(q.committed_position(), (0, 120));

    // Last one: the commit catches up with the reading cursor.
    q.finish(t[5]);
    assert_eq!(q.unfinished(), 0);
    assert_eq!(q.committed_position(), q.read_position());
    q.close().unwrap();
    assert_eq!(meta_text(p, "oo"), "2\n0,144\n0,192\n");
}

#[test]
fn meta_text_follows_pops_and_finishes_with_sync_every_one() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let mut q = DiskQueue::open("mt", p, tracked(1000, 1)).unwrap();
    for i in 0..3 {
        q.put(&record(i, 20)).unwrap();
    }
    assert_eq!(meta_text(p, "mt"), "3\n0,0\n0,72\n");
    let (_, t0) = pop_t(&mut q);
    let (_, t1) = pop_t(&mut q);
    // Handed out, not finished: nothing persisted changes.
    assert_eq!(meta_text(p, "mt"), "3\n0,0\n0,72\n");
    assert!(!q.needs_periodic_sync());
    q.finish(t1);
    assert_eq!(meta_text(p, "mt"), "3\n0,0\n0,72\n");
    q.finish(t0);
    // Persisted by finish itself (sync_every = 1), no explicit sync.
    assert_eq!(meta_text(p, "mt"), "1\n0,48\n0,72\n");
    let (_, t2) = pop_t(&mut q);
    q.put(&record(3, 20)).unwrap();
    assert_eq!(meta_text(p, "mt"), "2\n0,48\n0,96\n");
    q.finish(t2);
    assert_eq!(meta_text(p, "mt"), "1\n0,72\n0,96\n");
    // A plain pop in tracked mode commits at once.
    assert_eq!(index(&q.pop().unwrap().unwrap()), 3);
    assert_eq!(meta_text(p, "mt"), "0\n0,96\n0,96\n");
}

#[test]
fn sync_every_counts_finishes_but_not_tracked_pops() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let mut q = DiskQueue::open("se", p, tracked(1000, 2)).unwrap();
    q.put(&record(0, 20)).unwrap();
    q.put(&record(1, 20)).unwrap();
    assert_eq!(meta_text(p, "se"), "2\n0,0\n0,48\n");
    let (_, t0) = pop_t(&mut q);
    let (_, t1) = pop_t(&mut q);
    assert!(!q.needs_periodic_sync());
    q.finish(t0);
    assert!(q.needs_periodic_sync());
    assert_eq!(meta_text(p, "se"), "2\n0,0\n0,48\n");
    q.finish(t1);
    assert!(!q.needs_periodic_sync());
    assert_eq!(meta_text(p, "se"), "0\n0,48\n0,48\n");
    // The periodic sync writes the committed position too.
    q.put(&record(2, 20)).unwrap();
    let (_, t2) = pop_t(&mut q);
    q.finish(t2);
    q.sync_if_due().unwrap();
    assert_eq!(meta_text(p, "se"), "0\n0,72\n0,72\n");
}

/// 10 records of 24 bytes, 2 per segment (segments 0..=4); all handed out,
/// those in `finished` finished. Returns the queue.
fn ten_handed_out(p: &Path, name: &str, sync_every: i64, finished: &[usize]) -> DiskQueue {
    let mut q = DiskQueue::open(name, p, tracked(60, sync_every)).unwrap();
    for i in 0..10 {
        q.put(&record(i, 20)).unwrap();
    }
    let t: Vec<ReadTicket> = (0..10).map(|_| pop_t(&mut q).1).collect();
    for &k in finished {
        q.finish(t[k]);
    }
    q
}

#[test]
fn crash_redelivers_every_unfinished_record() {
    let finished = [0usize, 1, 2, 4, 7, 8];
    for sync_every in [1, 3, 2500] {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        let q = ten_handed_out(p, "cr", sync_every, &finished);
        q.close_without_sync();
        let mut q = DiskQueue::open("cr", p, tracked(60, sync_every)).unwrap();
        let got = drain_finishing(&mut q);
        for i in [3, 5, 6, 9] {
            assert!(
                got.contains(&i),
                "sync_every {sync_every}: {i} lost: {got:?}"
            );
        }
        assert!(got.windows(2).all(|w| w[0] < w[1]), "{got:?}");
        if sync_every == 1 {
            // Every finish was persisted: reading resumes exactly at the
            // oldest unfinished record, nothing before it comes back.
            assert_eq!(got, vec![3, 4, 5, 6, 7, 8, 9]);
        }
        assert_eq!(q.depth(), 0);
        assert_eq!(q.bad_files(), 0);
    }
}

#[test]
fn crash_before_any_finish_redelivers_everything() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let q = ten_handed_out(p, "cz", 1, &[]);
    assert_eq!(meta_text(p, "cz"), "10\n0,0\n4,48\n");
    q.close_without_sync();
    let mut q = DiskQueue::open("cz", p, tracked(60, 1)).unwrap();
    assert_eq!(q.depth(), 10);
    assert_eq!(drain_finishing(&mut q), (0..10).collect::<Vec<_>>());
}

#[test]
fn clean_close_keeps_unfinished_records() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let mut q = ten_handed_out(p, "cl", 2500, &[0, 1, 2, 4, 7, 8]);
    q.close().unwrap();
    // Committed: record 3 (segment 1, offset 24); depth: 3..=9.
    assert_eq!(meta_text(p, "cl"), "7\n1,24\n4,48\n");
    let mut q = DiskQueue::open("cl", p, tracked(60, 2500)).unwrap();
    assert_eq!(q.depth(), 7);
    assert_eq!(q.read_position(), (1, 24));
    assert_eq!(drain_finishing(&mut q), vec![3, 4, 5, 6, 7, 8, 9]);
}

#[test]
fn an_untracked_reader_agrees_with_the_meta_file() {
    // What a Go nsqd (or this queue without tracked reads) sees after a
    // crash: it reads from the committed position, and the depth matches.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let q = ten_handed_out(p, "go", 1, &[0, 1, 2, 5, 6]);
    q.close_without_sync();
    assert_eq!(meta_text(p, "go"), "7\n1,24\n4,48\n");
    let mut q = DiskQueue::open("go", p, opts(60)).unwrap();
    assert_eq!(q.depth(), 7);
    let mut got = Vec::new();
    while let Some(r) = q.pop().unwrap() {
        got.push(index(&r));
        assert_eq!(q.depth(), 10 - i64::from(index(&r)) - 1);
    }
    assert_eq!(got, vec![3, 4, 5, 6, 7, 8, 9]);
    assert_eq!(q.bad_files(), 0);
}

#[test]
fn segments_are_deleted_only_when_the_commit_passes_them() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let mut q = DiskQueue::open("sd", p, tracked(60, 2500)).unwrap();
    for i in 0..6 {
        q.put(&record(i, 20)).unwrap(); // segments 0, 1, 2
    }
    let t: Vec<ReadTicket> = (0..6).map(|_| pop_t(&mut q).1).collect();
    assert_eq!(q.read_position(), (2, 48));
    let all = vec![
        "sd.diskqueue.000000.dat",
        "sd.diskqueue.000001.dat",
        "sd.diskqueue.000002.dat",
        "sd.diskqueue.meta.dat",
    ];
    // The reading cursor left segments 0 and 1: they stay.
    assert_eq!(files(p), all);
    q.finish(t[0]);
    q.finish(t[2]);
    q.finish(t[3]);
    // Segment 1 is finished, but the commit is still in segment 0.
    assert_eq!(files(p), all);
    q.finish(t[1]);
    // The commit jumps to record 4 (segment 2): 0 and 1 go, and the move
    // is persisted at once.
    assert_eq!(q.committed_position(), (2, 0));
    assert_eq!(
        files(p),
        vec!["sd.diskqueue.000002.dat", "sd.diskqueue.meta.dat"]
    );
    assert_eq!(meta_text(p, "sd"), "2\n2,0\n2,48\n");
    q.finish(t[5]);
    q.finish(t[4]);
    q.close().unwrap();
    assert_eq!(meta_text(p, "sd"), "0\n2,48\n2,48\n");
    assert_eq!(
        files(p),
        vec!["sd.diskqueue.000002.dat", "sd.diskqueue.meta.dat"]
    );
}

#[test]
fn segment_ended_before_a_roll_waits_for_its_finishes() {
    // The reader catches up with the writer at the end of segment 0, then
    // the writer rolls: the reader moves to segment 1 without a record.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let mut q = DiskQueue::open("rl", p, tracked(48, 2500)).unwrap();
    q.put(&record(0, 20)).unwrap();
    q.put(&record(1, 20)).unwrap();
    let (_, t0) = pop_t(&mut q);
    let (_, t1) = pop_t(&mut q);
    assert_eq!(q.pop_tracked().unwrap(), None);
    q.put(&record(2, 20)).unwrap(); // rolls to segment 1
    let (i, t2) = pop_t(&mut q);
    assert_eq!(i, 2);
    assert_eq!(q.read_position(), (1, 24));
    assert!(seg(p, "rl", 0).exists());
    q.finish(t2);
    q.finish(t0);
    assert!(seg(p, "rl", 0).exists());
    q.close().unwrap();
    assert_eq!(meta_text(p, "rl"), "2\n0,24\n1,24\n");
    let mut q = DiskQueue::open("rl", p, tracked(48, 2500)).unwrap();
    let (i, t1b) = pop_t(&mut q);
    assert_eq!((i, t1b), (1, t1));
    q.finish(t1b);
    assert!(!seg(p, "rl", 0).exists());
    assert_eq!(drain_finishing(&mut q), vec![2]);
    assert_eq!(q.committed_position(), (1, 24));
}

/// Runs `ops` on a queue with and one without tracked reads, both with
/// plain `pop`s only, and checks that they behave identically.
#[test]
fn plain_pop_in_tracked_mode_behaves_like_before() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    for sync_every in [1, 3] {
        let mut plain_opts = opts(70);
        plain_opts.sync_every = sync_every;
        let tracked_opts = tracked(70, sync_every);
        let mut qa = DiskQueue::open("pp", a.path(), plain_opts.clone()).unwrap();
        let mut qb = DiskQueue::open("pp", b.path(), tracked_opts.clone()).unwrap();
        let mut n = 0u32;
        for step in 0..300u32 {
            let op = (step * 7 + step / 5) % 11;
            match op {
                0..=4 => {
                    let r = record(n, 4 + (n as usize * 13) % 40);
                    n += 1;
                    qa.put(&r).unwrap();
                    qb.put(&r).unwrap();
                }
                5..=8 => assert_eq!(qa.pop().unwrap(), qb.pop().unwrap(), "step {step}"),
                9 => assert_eq!(qa.peek().unwrap(), qb.peek().unwrap()),
                _ if step % 3 == 0 => {
                    qa.close().unwrap();
                    qb.close().unwrap();
                    qa = DiskQueue::open("pp", a.path(), plain_opts.clone()).unwrap();
                    qb = DiskQueue::open("pp", b.path(), tracked_opts.clone()).unwrap();
                }
                _ => {
                    qa.close_without_sync();
                    qb.close_without_sync();
                    qa = DiskQueue::open("pp", a.path(), plain_opts.clone()).unwrap();
                    qb = DiskQueue::open("pp", b.path(), tracked_opts.clone()).unwrap();
                }
            }
            assert_eq!(qa.depth(), qb.depth(), "step {step}");
            assert_eq!(qa.read_position(), qb.read_position(), "step {step}");
            assert_eq!(qb.committed_position(), qb.read_position());
            assert_eq!(qa.write_position(), qb.write_position(), "step {step}");
            assert_eq!(qa.needs_periodic_sync(), qb.needs_periodic_sync());
            assert_eq!(qb.unfinished(), 0);
            assert_eq!(files(a.path()), files(b.path()), "step {step}");
            assert_eq!(
                meta_text(a.path(), "pp"),
                meta_text(b.path(), "pp"),
                "step {step}"
            );
        }
        qa.empty().unwrap();
        qb.empty().unwrap();
    }
}

#[test]
fn plain_pops_behind_an_unfinished_record_are_not_committed() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let mut q = DiskQueue::open("mx", p, tracked(1000, 1)).unwrap();
    for i in 0..4 {
        q.put(&record(i, 20)).unwrap();
    }
    let (_, t0) = pop_t(&mut q);
    assert_eq!(index(&q.pop().unwrap().unwrap()), 1);
    assert_eq!(index(&q.pop().unwrap().unwrap()), 2);
    assert_eq!(q.unfinished(), 1);
    assert_eq!(meta_text(p, "mx"), "4\n0,0\n0,96\n");
    q.finish(t0);
    assert_eq!(meta_text(p, "mx"), "1\n0,72\n0,96\n");
}

#[test]
fn untracked_pop_tracked_is_a_pop() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let mut o = opts(1000);
    o.sync_every = 1;
    let mut q = DiskQueue::open("un", p, o.clone()).unwrap();
    for i in 0..3 {
        q.put(&record(i, 20)).unwrap();
    }
    let (i, t) = pop_t(&mut q);
    assert_eq!((i, t.file_num(), t.pos()), (0, 0, 0));
    assert_eq!(q.unfinished(), 0);
    assert_eq!(meta_text(p, "un"), "2\n0,24\n0,72\n");
    q.finish(t);
    assert_eq!(meta_text(p, "un"), "2\n0,24\n0,72\n");
    q.close_without_sync();
    let mut q = DiskQueue::open("un", p, o).unwrap();
    assert_eq!(drain_finishing(&mut q), vec![1, 2]);
}

#[test]
fn empty_clears_tracking() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let mut q = DiskQueue::open("em", p, tracked(60, 2500)).unwrap();
    for i in 0..7 {
        q.put(&record(i, 20)).unwrap(); // segments 0..=3
    }
    let t: Vec<ReadTicket> = (0..5).map(|_| pop_t(&mut q).1).collect();
    q.finish(t[1]);
    assert_eq!(q.unfinished(), 4);
    // Segment 0 is still held by the unfinished record 0.
    assert!(seg(p, "em", 0).exists());
    q.empty().unwrap();
    assert_eq!(q.unfinished(), 0);
    assert_eq!(q.depth(), 0);
    assert_eq!(q.read_position(), (4, 0));
    assert_eq!(q.committed_position(), (4, 0));
    assert_eq!(files(p), vec!["em.diskqueue.meta.dat"]);
    assert_eq!(meta_text(p, "em"), "0\n4,0\n4,0\n");
    // Old tickets are ignored.
    for &old in &t {
        q.finish(old);
    }
    q.sync().unwrap();
    assert_eq!(meta_text(p, "em"), "0\n4,0\n4,0\n");
    // Tracking works afterwards.
    q.put(&record(50, 20)).unwrap();
    let (i, t50) = pop_t(&mut q);
    assert_eq!(i, 50);
    assert_eq!(q.unfinished(), 1);
    q.close().unwrap();
    assert_eq!(meta_text(p, "em"), "1\n4,0\n4,24\n");
    let mut q = DiskQueue::open("em", p, tracked(60, 2500)).unwrap();
    let (i, t50b) = pop_t(&mut q);
    assert_eq!((i, t50b), (50, t50));
}

#[test]
fn delete_removes_segments_held_by_unfinished_records() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let mut q = DiskQueue::open("dl", p, tracked(60, 2500)).unwrap();
    for i in 0..6 {
        q.put(&record(i, 20)).unwrap();
    }
    for _ in 0..5 {
        pop_t(&mut q);
    }
    assert!(seg(p, "dl", 0).exists());
    q.delete().unwrap();
    assert!(files(p).is_empty(), "{:?}", files(p));
}

#[test]
fn bad_segment_drops_its_unfinished_tickets() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    {
        let mut q = DiskQueue::open("bd", p, opts(72)).unwrap();
        for i in 0..9 {
            q.put(&record(i, 20)).unwrap(); // 3 per segment: 0, 1, 2
        }
        q.close().unwrap();
    }
    // Third record of segment 1 (record 5) gets an impossible length.
    patch(&seg(p, "bd", 1), 48, &(-1i32).to_be_bytes());
    let mut q = DiskQueue::open("bd", p, tracked(72, 1)).unwrap();
    let t: Vec<ReadTicket> = (0..5).map(|_| pop_t(&mut q).1).collect();
    assert_eq!(q.unfinished(), 5);
    // Reading on hits the bad record: segment 1 is set aside, its two
    // handed-out records (3, 4) can never be read again.
    let (i, _) = pop_t(&mut q);
    assert_eq!(i, 6);
    assert_eq!(q.bad_files(), 1);
    assert!(p.join("bd.diskqueue.000001.dat.bad").exists());
    assert_eq!(q.unfinished(), 4, "tickets of the bad segment are dropped");
    q.finish(t[3]); // ignored
    q.finish(t[4]); // ignored
    assert_eq!(q.unfinished(), 4);
    // A restart reads 0, 1, 2 and 6 again (not 3 and 4, whose segment is
    // gone) plus the unread 7, 8 and the lost 5 still counted by depth().
    q.sync().unwrap();
    assert_eq!(meta_text(p, "bd"), "7\n0,0\n2,72\n");
    for &ticket in &t[..3] {
        q.finish(ticket);
    }
    // The bad segment does not hold the commit back.
    assert_eq!(q.committed_position(), (2, 0));
    assert_eq!(q.unfinished(), 1);
    assert!(!seg(p, "bd", 0).exists());
    // depth() is 3: 7, 8 and the lost record 5 (go-diskqueue only fixes
    // the depth at the tail); the metadata adds the handed-out record 6.
    assert_eq!(q.depth(), 3);
    assert_eq!(meta_text(p, "bd"), "4\n2,0\n2,72\n");
    q.close_without_sync();

    let mut q = DiskQueue::open("bd", p, tracked(72, 1)).unwrap();
    assert_eq!(drain_finishing(&mut q), vec![6, 7, 8]);
    assert_eq!(q.depth(), 0);
    assert_eq!(q.bad_files(), 0);
    q.close().unwrap();
    assert_eq!(meta_text(p, "bd"), "0\n2,72\n2,72\n");
}

#[test]
fn bad_segment_holding_the_oldest_unfinished_record() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    {
        let mut q = DiskQueue::open("bo", p, opts(72)).unwrap();
        for i in 0..9 {
            q.put(&record(i, 20)).unwrap();
        }
        q.close().unwrap();
    }
    patch(&seg(p, "bo", 1), 48, &(-1i32).to_be_bytes());
    let mut q = DiskQueue::open("bo", p, tracked(72, 1)).unwrap();
    for _ in 0..3 {
        let (_, t) = pop_t(&mut q);
        q.finish(t);
    }
    // Records 3 and 4 are handed out and never finished.
    pop_t(&mut q);
    pop_t(&mut q);
    assert_eq!(q.committed_position(), (1, 0));
    assert_eq!(q.unfinished(), 2);
    assert_eq!(meta_text(p, "bo"), "6\n1,0\n2,72\n");
    // Reading on sets segment 1 aside: nothing is left to hold the commit.
    let (i, t6) = pop_t(&mut q);
    assert_eq!(i, 6);
    assert_eq!(q.unfinished(), 1);
    assert_eq!(q.committed_position(), (2, 0));
    // Synced when the segment was set aside. depth() (3) still counts the
    // lost record 5 until the tail check; the metadata adds record 6.
    assert_eq!(q.depth(), 3);
    assert_eq!(meta_text(p, "bo"), "4\n2,0\n2,72\n");
    q.finish(t6);
    assert_eq!(meta_text(p, "bo"), "3\n2,24\n2,72\n");
    assert_eq!(
        files(p),
        vec![
            "bo.diskqueue.000001.dat.bad",
            "bo.diskqueue.000002.dat",
            "bo.diskqueue.meta.dat"
        ]
    );
}

#[test]
fn missing_segment_drops_nothing_needed() {
    // A segment between the commit and the cursor disappears: reopening
    // at the commit skips it as missing and reading continues.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let q = ten_handed_out(p, "ms", 1, &[1, 2, 3]);
    q.close_without_sync();
    std::fs::remove_file(seg(p, "ms", 1)).unwrap();
    assert_eq!(meta_text(p, "ms"), "10\n0,0\n4,48\n");
    let mut q = DiskQueue::open("ms", p, tracked(60, 1)).unwrap();
    let (i, t0) = pop_t(&mut q);
    assert_eq!(i, 0);
    let (i, t1) = pop_t(&mut q);
    assert_eq!(i, 1);
    // Segment 1 (records 2, 3) is missing: skipped, counted as a bad file.
    let (i, t4) = pop_t(&mut q);
    assert_eq!(i, 4);
    assert_eq!(q.bad_files(), 1);
    q.finish(t1);
    q.finish(t0);
    assert_eq!(q.committed_position(), (2, 0));
    assert_eq!(t4.file_num(), 2);
    assert!(!seg(p, "ms", 0).exists());
    q.finish(t4);
    assert_eq!(drain_finishing(&mut q), vec![5, 6, 7, 8, 9]);
}

#[test]
fn closed_queue_ignores_finish() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let mut q = DiskQueue::open("cf", p, tracked(1000, 1)).unwrap();
    q.put(&record(0, 20)).unwrap();
    let (_, t) = pop_t(&mut q);
    q.close().unwrap();
    q.finish(t);
    assert!(q.pop_tracked().is_err());
    assert_eq!(meta_text(p, "cf"), "1\n0,0\n0,24\n");
}

// ----------------------------------------------------------------------
// SpillQueue
// ----------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
struct Item(u64);

impl QueueItem for Item {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0.to_be_bytes());
    }
    fn decode(bytes: Bytes) -> Result<Self, String> {
        let arr: [u8; 8] = bytes[..]
            .try_into()
            .map_err(|_| format!("expected 8 bytes, got {}", bytes.len()))?;
        Ok(Item(u64::from_be_bytes(arr)))
    }
}

#[test]
fn spill_pop_tracked_gives_tickets_for_disk_items_only() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let disk = DiskQueue::open("sp", p, tracked(1000, 1)).unwrap();
    let mut q = SpillQueue::new(2, Some(disk));
    for i in 0..5 {
        q.put(Item(i)).unwrap(); // 0, 1 in memory; 2, 3, 4 on disk
    }
    let (a, ta) = q.pop_tracked().unwrap().unwrap();
    let (b, tb) = q.pop_tracked().unwrap().unwrap();
    assert_eq!((a, ta, b, tb), (Item(0), None, Item(1), None));
    let (c, tc) = q.pop_tracked().unwrap().unwrap();
    let (d, td) = q.pop_tracked().unwrap().unwrap();
    assert_eq!((c.0, d.0), (2, 3));
    let (tc, td) = (tc.expect("disk ticket"), td.expect("disk ticket"));
    assert_eq!(q.disk().unwrap().unfinished(), 2);
    assert_eq!(q.backend_depth(), 1);
    q.finish(td);
    assert_eq!(q.disk().unwrap().unfinished(), 1);
    // Crash: 2 is unfinished, 3 is finished but behind it.
    let disk = q.into_disk().unwrap();
    disk.close_without_sync();
    let disk = DiskQueue::open("sp", p, tracked(1000, 1)).unwrap();
    let mut q: SpillQueue<Item> = SpillQueue::new(2, Some(disk));
    let mut got = Vec::new();
    while let Some((Item(n), t)) = q.pop_tracked().unwrap() {
        got.push(n);
        q.finish(t.expect("disk ticket"));
    }
    assert_eq!(got, vec![2, 3, 4]);
    assert_eq!(tc.pos(), 0);
}

#[test]
fn spill_finishes_undecodable_records() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let mut disk = DiskQueue::open("su", p, tracked(1000, 1)).unwrap();
    disk.put(b"not-8-bytes").unwrap();
    disk.put(&7u64.to_be_bytes()).unwrap();
    let mut q: SpillQueue<Item> = SpillQueue::new(0, Some(disk));
    let (item, t) = q.pop_tracked().unwrap().unwrap();
    assert_eq!(item, Item(7));
    assert_eq!(q.bad_records(), 1);
    // Only the good record is outstanding; the bad one is committed once
    // the good one is finished.
    assert_eq!(q.disk().unwrap().unfinished(), 1);
    assert_eq!(q.disk().unwrap().committed_position(), (0, 15));
    q.finish(t.unwrap());
    assert_eq!(meta_text(p, "su"), "0\n0,27\n0,27\n");
    assert_eq!(q.pop_tracked().unwrap(), None);
}

#[test]
fn spill_without_disk() {
    let mut q: SpillQueue<Item> = SpillQueue::new(1, None);
    q.put(Item(1)).unwrap();
    assert_eq!(q.pop_tracked().unwrap(), Some((Item(1), None)));
    assert_eq!(q.pop_tracked().unwrap(), None);
}
