//! Property tests: random puts, pops, peeks, reopens and crashes.

mod common;

use std::collections::{HashSet, VecDeque};
use std::path::Path;

use common::{files, opts, record};
use nsq_queue::{DiskQueue, DiskQueueOptions};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Put(usize),
    Pop,
    Peek,
    Reopen,
    Sync,
    Empty,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        16 => (4usize..=70).prop_map(Op::Put),
        12 => Just(Op::Pop),
        2 => Just(Op::Peek),
        2 => Just(Op::Reopen),
        2 => Just(Op::Sync),
        1 => Just(Op::Empty),
    ]
}

fn options(max_bytes: i64, sync_every: i64) -> DiskQueueOptions {
    let mut o = opts(max_bytes);
    o.sync_every = sync_every;
    o
}

fn no_bad_files(p: &Path) -> bool {
    files(p)
        .iter()
        .all(|f| !f.ends_with(".bad") && !f.ends_with(".tmp"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// With clean reopens the queue is an exact FIFO and depth is exact.
    #[test]
    fn fifo_across_clean_reopens(
        max_bytes in 30i64..300,
        sync_every in 1i64..8,
        ops in prop::collection::vec(op(), 1..250),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        let o = options(max_bytes, sync_every);
        let mut q = DiskQueue::open("f", p, o.clone()).unwrap();
        let mut model: VecDeque<Vec<u8>> = VecDeque::new();
        let mut n = 0u32;
        for op in ops {
            match op {
                Op::Put(len) => {
                    let r = record(n, len);
                    n += 1;
                    q.put(&r).unwrap();
                    model.push_back(r);
                }
                Op::Pop => {
                    let got = q.pop().unwrap().map(|b| b.to_vec());
                    prop_assert_eq!(got, model.pop_front());
                }
                Op::Peek => {
                    let got = q.peek().unwrap().map(|b| b.to_vec());
                    prop_assert_eq!(got.as_ref(), model.front());
                }
                Op::Reopen => {
                    q.close().unwrap();
                    q = DiskQueue::open("f", p, o.clone()).unwrap();
                }
                Op::Sync => q.sync().unwrap(),
                Op::Empty => {
                    q.empty().unwrap();
                    model.clear();
                }
            }
            prop_assert_eq!(q.depth(), model.len() as i64);
        }
        while let Some(r) = q.pop().unwrap() {
            prop_assert_eq!(Some(r.to_vec()), model.pop_front());
        }
        prop_assert!(model.is_empty());
        prop_assert_eq!(q.depth(), 0);
        prop_assert_eq!(q.bad_files(), 0);
        q.close().unwrap();
        prop_assert!(no_bad_files(p));
    }

    /// With unclean stops (no final sync) nothing put is ever lost and
    /// nothing unknown appears; records consumed since the last sync may be
    /// delivered again. With sync_every = 1 delivery stays exactly FIFO.
    #[test]
    fn crashes_lose_nothing(
        max_bytes in 30i64..300,
        sync_every in 1i64..6,
        ops in prop::collection::vec(op(), 1..200),
        crash_every in 2usize..12,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        let o = options(max_bytes, sync_every);
        let mut q = DiskQueue::open("c", p, o.clone()).unwrap();
        let mut put: Vec<Vec<u8>> = Vec::new();
        let mut emptied_before = 0usize; // records put before the last Empty
        let mut delivered: Vec<Vec<u8>> = Vec::new();
        let mut delivered_after_empty: HashSet<Vec<u8>> = HashSet::new();
        for (i, op) in ops.into_iter().enumerate() {
            match op {
                Op::Put(len) => {
                    let r = record(put.len() as u32, len);
                    q.put(&r).unwrap();
                    put.push(r);
                }
                Op::Pop => {
                    if let Some(r) = q.pop().unwrap() {
                        delivered.push(r.to_vec());
                        delivered_after_empty.insert(r.to_vec());
                    }
                }
                Op::Peek => {
                    q.peek().unwrap();
                }
                Op::Reopen => {
                    q.close().unwrap();
                    q = DiskQueue::open("c", p, o.clone()).unwrap();
                }
                Op::Sync => q.sync().unwrap(),
                Op::Empty => {
                    q.empty().unwrap();
                    emptied_before = put.len();
                    delivered_after_empty.clear();
                }
            }
            if i % crash_every == crash_every - 1 {
                q.close_without_sync();
                q = DiskQueue::open("c", p, o.clone()).unwrap();
            }
        }
        while let Some(r) = q.pop().unwrap() {
            delivered.push(r.to_vec());
            delivered_after_empty.insert(r.to_vec());
        }
        prop_assert_eq!(q.depth(), 0);
        prop_assert_eq!(q.bad_files(), 0);
        q.close().unwrap();
        prop_assert!(no_bad_files(p));
        let known: HashSet<&Vec<u8>> = put.iter().collect();
        for r in &delivered {
            prop_assert!(known.contains(r), "unknown record delivered");
        }
        for r in &put[emptied_before..] {
            prop_assert!(delivered_after_empty.contains(r), "record lost");
        }
        if sync_every == 1 {
            // Every operation was synced: no repeats, exact order.
            let mut seen = HashSet::new();
            for r in &delivered {
                prop_assert!(seen.insert(r), "record delivered twice");
            }
            let order: Vec<u32> = delivered
                .iter()
                .map(|r| u32::from_be_bytes([r[0], r[1], r[2], r[3]]))
                .collect();
            prop_assert!(order.windows(2).all(|w| w[0] < w[1]), "not FIFO: {:?}", order);
        }
    }
}
