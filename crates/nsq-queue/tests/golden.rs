//! Compatibility with a data directory written by Go nsqd v1.3.0
//! (`tests/fixtures/go-datadir`, described by its `expected.json`).

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::json::{self, Value};
use common::{files, meta_text, nsqd_opts, NsqRecord};
use nsq_queue::{DiskQueue, DiskQueueOptions};

/// The options the fixture was written with (`--max-bytes-per-file=4096
/// --sync-every=1`, default `--max-msg-size`).
fn go_opts() -> DiskQueueOptions {
    nsqd_opts(4096, 1)
}

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/go-datadir")
}

fn expected() -> Value {
    json::parse(&fs::read_to_string(fixture_dir().join("expected.json")).unwrap())
}

/// Copies the files of queue `name` into a fresh temp dir.
fn copy_queue(exp: &Value, name: &str) -> tempfile::TempDir {
    let q = &exp["queues"][name];
    let dir = tempfile::tempdir().unwrap();
    let mut names: Vec<&str> = q["segment_files"]
        .as_array()
        .iter()
        .map(Value::as_str)
        .collect();
    names.push(q["meta_file"].as_str());
    for file in names {
        fs::copy(fixture_dir().join(file), dir.path().join(file)).unwrap();
    }
    dir
}

fn records(exp: &Value, name: &str) -> Vec<(String, NsqRecord, bool)> {
    exp["queues"][name]["records"]
        .as_array()
        .iter()
        .map(|r| {
            (
                r["file"].as_str().to_owned(),
                NsqRecord::from_json(r),
                r["unread"].as_bool(),
            )
        })
        .collect()
}

fn pop_all(q: &mut DiskQueue) -> Vec<NsqRecord> {
    let mut out = Vec::new();
    while let Some(r) = q.pop().unwrap() {
        out.push(NsqRecord::parse(&r));
    }
    out
}

#[test]
fn fixture_files_are_intact() {
    let exp = expected();
    for f in exp["files"].as_array() {
        let name = f["name"].as_str();
        if name == "nsqd.dat" {
            continue;
        }
        let len = fs::metadata(fixture_dir().join(name)).unwrap().len();
        assert_eq!(len as i64, f["size"].as_i64(), "{name}");
    }
}

#[test]
fn reads_every_go_queue_exactly() {
    let exp = expected();
    for name in ["alpha", "alpha:c1", "alpha:c2", "beta"] {
        for opts in [go_opts(), DiskQueueOptions::default()] {
            let dir = copy_queue(&exp, name);
            let p = dir.path();
            let meta = &exp["queues"][name]["meta"];
            let mut q = DiskQueue::open(name, p, opts).unwrap();
            assert_eq!(q.depth(), meta["depth"].as_i64(), "{name}");
            assert_eq!(
                q.read_position(),
                (meta["read_file_num"].as_i64(), meta["read_pos"].as_i64()),
                "{name}"
            );
            let write = (meta["write_file_num"].as_i64(), meta["write_pos"].as_i64());
            assert_eq!(q.write_position(), write, "{name}");

            let want: Vec<NsqRecord> = records(&exp, name)
                .into_iter()
                .filter(|(_, _, unread)| *unread)
                .map(|(_, r, _)| r)
                .collect();
            assert_eq!(want.len() as i64, meta["depth"].as_i64(), "{name}");
            let got = pop_all(&mut q);
            assert_eq!(got.len(), want.len(), "{name}");
            for (g, w) in got.iter().zip(&want) {
                assert_eq!(g, w, "{name}");
            }
            assert_eq!(q.depth(), 0, "{name}");
            assert_eq!(q.bad_files(), 0, "{name}");
            q.close().unwrap();

            // Consumed segments are gone; only the write segment remains.
            let (wf, wp) = write;
            assert_eq!(
                files(p),
                vec![
                    format!("{name}.diskqueue.{wf:06}.dat"),
                    format!("{name}.diskqueue.meta.dat")
                ],
                "{name}"
            );
            assert_eq!(
                meta_text(p, name),
                format!("0\n{wf},{wp}\n{wf},{wp}\n"),
                "{name}"
            );
        }
    }
}

#[test]
fn c2_delivers_what_go_nsqd_delivered() {
    // Cross-check with the deliveries Go nsqd made from a copy of this
    // directory (attempts there are stored + 1).
    let exp = expected();
    let dir = copy_queue(&exp, "alpha:c2");
    let mut q = DiskQueue::open("alpha:c2", dir.path(), go_opts()).unwrap();
    let got = pop_all(&mut q);
    let deliveries = exp["expected_state_after_load"]["deliveries"]["alpha/c2"].as_array();
    assert_eq!(got.len(), 95);
    assert_eq!(got.len(), deliveries.len());
    for (g, d) in got.iter().zip(deliveries) {
        let mut w = NsqRecord::from_json(d);
        w.attempts -= 1;
        assert_eq!(g, &w);
    }
    // The three flushed in-flight messages come back with attempts 1
    // stored, the deferred one with 0.
    let tail: Vec<(&[u8], u16)> = got[91..]
        .iter()
        .map(|r| (&r.body[..], r.attempts))
        .collect();
    assert_eq!(
        tail,
        vec![
            (&b"alpha-012"[..], 1),
            (&b"alpha-010"[..], 1),
            (&b"alpha-011"[..], 1),
            (&b"alpha-deferred"[..], 0)
        ]
    );
}

#[test]
fn appending_to_a_go_queue_and_reopening() {
    let exp = expected();
    let dir = copy_queue(&exp, "beta");
    let p = dir.path();
    let mut q = DiskQueue::open("beta", p, go_opts()).unwrap();
    let extra = NsqRecord {
        timestamp: 1_795_318_900_000_000_000,
        attempts: 0,
        id: "0123456789abcdef".to_owned(),
        body: b"beta-extra".to_vec(),
    };
    q.put(&extra.encode()).unwrap();
    q.close().unwrap();
    assert_eq!(meta_text(p, "beta"), "21\n0,0\n0,780\n");
    let mut q = DiskQueue::open("beta", p, go_opts()).unwrap();
    let got = pop_all(&mut q);
    assert_eq!(got.len(), 21);
    assert_eq!(got[20], extra);
    assert_eq!(got[0].body, b"beta-00");
}

/// Writes the records Go wrote, with the same options, and checks that the
/// directory ends up byte-identical to Go's (segment files and metadata).
fn write_like_go(exp: &Value, name: &str, records: &[NsqRecord], pops: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let mut q = DiskQueue::open(name, p, go_opts()).unwrap();
    for r in records {
        q.put(&r.encode()).unwrap();
    }
    for r in &records[..pops] {
        assert_eq!(&NsqRecord::parse(&q.pop().unwrap().unwrap()), r);
    }
    q.close().unwrap();

    let qv = &exp["queues"][name];
    let mut want_files: Vec<String> = qv["segment_files"]
        .as_array()
        .iter()
        .map(|v| v.as_str().to_owned())
        .collect();
    want_files.push(qv["meta_file"].as_str().to_owned());
    want_files.sort();
    assert_eq!(files(p), want_files, "{name}");
    for f in &want_files {
        assert_eq!(
            fs::read(p.join(f)).unwrap(),
            fs::read(fixture_dir().join(f)).unwrap(),
            "{name}: {f} differs"
        );
    }
    assert_eq!(meta_text(p, name), qv["meta_raw"].as_str());
    dir
}

#[test]
fn our_files_are_byte_identical_to_go() {
    let exp = expected();
    let all = |name: &str| -> Vec<NsqRecord> {
        records(&exp, name).into_iter().map(|(_, r, _)| r).collect()
    };
    // beta: 20 records, nothing read.
    write_like_go(&exp, "beta", &all("beta"), 0);
    // c1: 105 records over 3 segments, nothing read.
    write_like_go(&exp, "alpha:c1", &all("alpha:c1"), 0);
    // c2: 108 records, 13 consumed.
    write_like_go(&exp, "alpha:c2", &all("alpha:c2"), 13);
    // alpha: the topic queue saw the same 104 records as c1 and all were
    // consumed; segment 0 is deleted, segment 1 stays as the write segment.
    let c1 = all("alpha:c1");
    write_like_go(&exp, "alpha", &c1[..104], 104);
}
