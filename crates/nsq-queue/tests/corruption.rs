//! Damaged data segments: set aside as `.bad`, reading continues.

mod common;

use std::fs::{self, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;

use common::{files, meta_text, opts, record, seg};
use nsq_queue::DiskQueue;

/// Writes `n` records of `len` bytes to queue `name` and closes it.
fn fill(p: &Path, name: &str, max_bytes: i64, n: u32, len: usize) {
    let mut q = DiskQueue::open(name, p, opts(max_bytes)).unwrap();
    for i in 0..n {
        q.put(&record(i, len)).unwrap();
    }
    q.close().unwrap();
}

fn drain(q: &mut DiskQueue) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while let Some(r) = q.pop().unwrap() {
        out.push(r.to_vec());
    }
    out
}

fn patch(path: &Path, offset: u64, bytes: &[u8]) {
    let mut f = OpenOptions::new().write(true).open(path).unwrap();
    f.seek(SeekFrom::Start(offset)).unwrap();
    f.write_all(bytes).unwrap();
}

#[test]
fn truncated_last_record_of_the_write_segment() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    fill(p, "tr", 1000, 5, 20); // 5 x 24 bytes in segment 0
    let f = OpenOptions::new()
        .write(true)
        .open(seg(p, "tr", 0))
        .unwrap();
    f.set_len(120 - 3).unwrap();
    drop(f);

    let mut q = DiskQueue::open("tr", p, opts(1000)).unwrap();
    assert_eq!(q.depth(), 5);
    let got = drain(&mut q);
    assert_eq!(got, (0..4).map(|i| record(i, 20)).collect::<Vec<_>>());
    assert_eq!(q.bad_files(), 1);
    // The writer moved on too, the tail check zeroed the depth.
    assert_eq!(q.depth(), 0);
    assert_eq!(q.write_position(), (1, 0));
    assert_eq!(q.read_position(), (1, 0));
    assert_eq!(
        files(p),
        vec!["tr.diskqueue.000000.dat.bad", "tr.diskqueue.meta.dat"]
    );
    assert_eq!(meta_text(p, "tr"), "0\n1,0\n1,0\n");
    // The queue keeps working.
    q.put(&record(9, 20)).unwrap();
    assert_eq!(drain(&mut q), vec![record(9, 20)]);
    assert_eq!(
        fs::metadata(seg(p, "tr", 0).with_extension("dat.bad"))
            .unwrap()
            .len(),
        117
    );
}

#[test]
fn truncated_record_in_a_complete_segment() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    fill(p, "tc", 72, 9, 20); // 3 records (72 bytes) per segment: 0, 1, 2
    let f = OpenOptions::new()
        .write(true)
        .open(seg(p, "tc", 1))
        .unwrap();
    f.set_len(60).unwrap(); // cuts the third record of segment 1
    drop(f);
    let mut q = DiskQueue::open("tc", p, opts(72)).unwrap();
    let got = drain(&mut q);
    let want: Vec<Vec<u8>> = [0, 1, 2, 3, 4, 6, 7, 8]
        .iter()
        .map(|&i| record(i, 20))
        .collect();
    assert_eq!(got, want);
    assert_eq!(q.bad_files(), 1);
    assert_eq!(q.depth(), 0);
    assert!(p.join("tc.diskqueue.000001.dat.bad").exists());
}

#[test]
fn oversized_and_undersized_lengths() {
    for bad_len in [1001i32, 3, 0, -1, i32::MAX] {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        fill(p, "ov", 72, 9, 20);
        // Second record of segment 1 (offset 24) gets a bad length.
        patch(&seg(p, "ov", 1), 24, &bad_len.to_be_bytes());
        let mut q = DiskQueue::open("ov", p, opts(72)).unwrap();
        assert_eq!(q.depth(), 9);
        let got = drain(&mut q);
        let want: Vec<Vec<u8>> = [0, 1, 2, 3, 6, 7, 8]
            .iter()
            .map(|&i| record(i, 20))
            .collect();
        assert_eq!(got, want, "length {bad_len}");
        assert_eq!(q.bad_files(), 1);
        assert_eq!(q.depth(), 0);
        q.close().unwrap();
        assert_eq!(
            files(p),
            vec![
                "ov.diskqueue.000001.dat.bad",
                "ov.diskqueue.000002.dat",
                "ov.diskqueue.meta.dat"
            ]
        );
    }
}

#[test]
fn lowering_max_msg_size_makes_stored_records_bad() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    fill(p, "lo", 1000, 3, 40);
    let mut o = opts(1000);
    o.max_msg_size = 39;
    let mut q = DiskQueue::open("lo", p, o).unwrap();
    assert_eq!(q.pop().unwrap(), None);
    assert_eq!(q.bad_files(), 1);
    assert!(p.join("lo.diskqueue.000000.dat.bad").exists());
}

#[test]
fn garbage_segment() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    fill(p, "gb", 72, 6, 20);
    // Deterministic pseudo-random garbage of the same size.
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let garbage: Vec<u8> = (0..72)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8 | 0x80 // high bit set: a negative length
        })
        .collect();
    fs::write(seg(p, "gb", 0), garbage).unwrap();
    let mut q = DiskQueue::open("gb", p, opts(72)).unwrap();
    let got = drain(&mut q);
    assert_eq!(got, (3..6).map(|i| record(i, 20)).collect::<Vec<_>>());
    assert_eq!(q.bad_files(), 1);
    assert!(p.join("gb.diskqueue.000000.dat.bad").exists());
}

#[test]
fn garbage_of_any_kind_never_panics() {
    // Random bytes in every segment, various sizes: reading must end
    // cleanly with every segment handled.
    for seed in 1..40u64 {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        fill(p, "any", 64, 12, 12);
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        for num in 0..3 {
            let len = (seed as usize * 13 + num as usize * 7) % 90;
            let data: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    if seed % 3 == 0 {
                        (x % 20) as u8 // many plausible small lengths
                    } else {
                        x as u8
                    }
                })
                .collect();
            fs::write(seg(p, "any", num), data).unwrap();
        }
        let mut q = DiskQueue::open("any", p, opts(64)).unwrap();
        let got = drain(&mut q);
        assert!(got.len() <= 100, "seed {seed}");
        assert_eq!(q.read_position(), q.write_position(), "seed {seed}");
        assert_eq!(q.depth(), 0, "seed {seed}");
        // Still usable afterwards.
        q.put(b"after").unwrap();
        assert_eq!(&q.pop().unwrap().unwrap()[..], b"after");
    }
}

#[test]
fn missing_segment_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    fill(p, "ms", 72, 9, 20);
    fs::remove_file(seg(p, "ms", 1)).unwrap();
    let mut q = DiskQueue::open("ms", p, opts(72)).unwrap();
    let got = drain(&mut q);
    let want: Vec<Vec<u8>> = [0, 1, 2, 6, 7, 8].iter().map(|&i| record(i, 20)).collect();
    assert_eq!(got, want);
    assert_eq!(q.bad_files(), 1);
    assert_eq!(q.depth(), 0);
    q.close().unwrap();
    // Nothing to rename: no .bad file appears.
    assert_eq!(
        files(p),
        vec!["ms.diskqueue.000002.dat", "ms.diskqueue.meta.dat"]
    );
}

#[test]
fn missing_write_segment_moves_the_writer() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    fill(p, "mw", 1000, 3, 20);
    fs::remove_file(seg(p, "mw", 0)).unwrap();
    let mut q = DiskQueue::open("mw", p, opts(1000)).unwrap();
    assert_eq!(q.pop().unwrap(), None);
    assert_eq!(q.bad_files(), 1);
    assert_eq!(q.depth(), 0);
    assert_eq!(q.write_position(), (1, 0));
    q.put(b"fresh").unwrap();
    assert_eq!(&q.pop().unwrap().unwrap()[..], b"fresh");
}

#[test]
fn peek_also_skips_bad_segments() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    fill(p, "pk", 72, 6, 20);
    patch(&seg(p, "pk", 0), 0, &5000i32.to_be_bytes());
    let mut q = DiskQueue::open("pk", p, opts(72)).unwrap();
    assert_eq!(&q.peek().unwrap().unwrap()[..], &record(3, 20)[..]);
    assert_eq!(q.bad_files(), 1);
    // The skip was synced.
    assert_eq!(meta_text(p, "pk"), "6\n1,0\n1,72\n");
}

#[test]
fn read_position_past_the_end_of_a_complete_segment() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    fill(p, "rp", 72, 6, 20);
    common::write_meta(p, "rp", "6\n0,500\n1,72\n");
    let mut q = DiskQueue::open("rp", p, opts(72)).unwrap();
    assert_eq!(
        drain(&mut q),
        (3..6).map(|i| record(i, 20)).collect::<Vec<_>>()
    );
    assert_eq!(q.bad_files(), 1);
    assert!(p.join("rp.diskqueue.000000.dat.bad").exists());
}

#[test]
fn extreme_metadata_values_do_not_panic() {
    let max = i64::MAX;
    let min = i64::MIN;
    for text in [
        format!("{max}\n0,0\n{max},{max}\n"),
        format!("{min}\n0,0\n0,0\n"),
        format!("{min}\n{max},{max}\n{max},{max}\n"),
        format!("{max}\n0,{max}\n0,{max}\n"),
        format!("0\n{max},0\n0,10\n"),
        "1\n0,0\n5000000,0\n".to_owned(),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        common::write_meta(p, "x", &text);
        let mut q = DiskQueue::open("x", p, opts(100)).unwrap();
        let _ = q.put(b"abcd");
        let _ = q.peek();
        let _ = q.pop();
        let _ = q.pop();
        let _ = q.sync();
        let _ = q.empty();
        let _ = q.put(b"efgh");
        let _ = q.pop();
        let _ = q.close();
    }
}
