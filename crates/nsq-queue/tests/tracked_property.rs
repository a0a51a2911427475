//! Property test of tracked reads: random puts, tracked pops, finishes in
//! any order, plain pops, crashes and clean reopens never lose a record
//! that was put and not finished, and only deliver a record again if it was
//! handed out before a restart.

mod common;

use common::{opts, record};
use nsq_queue::{DiskQueue, DiskQueueOptions, ReadTicket};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Put(usize),
    PopTracked,
    Pop,
    Finish(usize),
    Peek,
    Crash,
    Reopen,
    Sync,
    Empty,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        14 => (4usize..=60).prop_map(Op::Put),
        10 => Just(Op::PopTracked),
        2 => Just(Op::Pop),
        9 => any::<usize>().prop_map(Op::Finish),
        1 => Just(Op::Peek),
        2 => Just(Op::Crash),
        1 => Just(Op::Reopen),
        1 => Just(Op::Sync),
        1 => Just(Op::Empty),
    ]
}

/// What the test knows about a record it put.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Put and not handed out since the last (re)open: must come back.
    Unread,
    /// Handed out in this session, not finished.
    Out,
    /// Finished (or plainly popped).
    Done,
    /// Discarded by `empty`.
    Gone,
}

struct Model {
    records: Vec<Vec<u8>>,
    state: Vec<State>,
    /// Tickets held by the consumer: (ticket, record index, stale). Stale
    /// tickets were handed out before an `empty`.
    held: Vec<(ReadTicket, usize, bool)>,
    /// Records delivered since the last (re)open, in order.
    session: Vec<usize>,
    /// Index of the record at the committed position when this session
    /// started, if known (the metadata file was exact): reading resumes
    /// there, and no record before it may come back.
    start: Option<usize>,
    /// Whether the queue's depth is exact. After an unclean stop with a
    /// stale metadata file it is off (as in go-diskqueue) until the reader
    /// reaches the tail, where the tail check repairs it.
    depth_exact: bool,
}

impl Model {
    /// Index of the record at the committed position, if known: the oldest
    /// unfinished one, else the one after the last delivered.
    fn commit_index(&self) -> Option<usize> {
        self.state
            .iter()
            .position(|&s| s == State::Out)
            .or_else(|| self.session.last().map(|&l| l + 1))
            .or(self.start)
    }

    /// A (re)open: unfinished records must be delivered again. Returns the
    /// index reading resumes at, if known.
    fn restart(&mut self, exact: bool) -> Option<usize> {
        let commit = if exact { self.commit_index() } else { None };
        for s in &mut self.state {
            if *s == State::Out {
                *s = State::Unread;
            }
        }
        self.held.clear();
        self.session.clear();
        self.start = commit;
        commit
    }

    fn live_held(&self) -> usize {
        self.held.iter().filter(|h| !h.2).count()
    }

    /// Checks a delivered record and returns its index.
    fn delivered(&mut self, r: &[u8]) -> Result<usize, TestCaseError> {
        prop_assert!(r.len() >= 4, "short record");
        let i = u32::from_be_bytes([r[0], r[1], r[2], r[3]]) as usize;
        prop_assert!(i < self.records.len(), "unknown record {}", i);
        prop_assert_eq!(&self.records[i][..], r, "record {} corrupted", i);
        match self.state[i] {
            State::Unread => {}
            State::Done => {
                if let Some(start) = self.start {
                    prop_assert!(
                        i >= start,
                        "committed record {} (before {}) delivered again",
                        i,
                        start
                    );
                }
            }
            s => prop_assert!(false, "record {} delivered while {:?}", i, s),
        }
        match (self.session.last(), self.start) {
            (Some(&last), _) => prop_assert!(last < i, "out of order: {} after {}", i, last),
            (None, Some(start)) => prop_assert_eq!(i, start, "did not resume at the commit"),
            (None, None) => {}
        }
        self.session.push(i);
        Ok(i)
    }

    /// The queue says nothing is unread: nothing may be owed.
    fn check_nothing_unread(&mut self) -> Result<(), TestCaseError> {
        self.depth_exact = true;
        let lost: Vec<usize> = (0..self.state.len())
            .filter(|&i| self.state[i] == State::Unread)
            .collect();
        prop_assert!(lost.is_empty(), "records lost: {:?}", lost);
        Ok(())
    }
}

fn options(max_bytes: i64, sync_every: i64) -> DiskQueueOptions {
    let mut o = opts(max_bytes);
    o.sync_every = sync_every;
    o.tracked_reads = true;
    o
}

/// Reopens and checks the depth when the metadata is known to be exact.
fn reopen(
    q: DiskQueue,
    clean: bool,
    m: &mut Model,
    p: &std::path::Path,
    o: &DiskQueueOptions,
) -> Result<DiskQueue, TestCaseError> {
    let mut q = q;
    if clean {
        q.close().unwrap();
    } else {
        q.close_without_sync();
    }
    let exact = clean || o.sync_every == 1;
    let commit = m.restart(exact);
    m.depth_exact &= exact;
    let q = DiskQueue::open("tp", p, o.clone()).unwrap();
    if let (Some(commit), true) = (commit, m.depth_exact) {
        // Everything from the oldest unfinished record on is read again.
        let want = (m.records.len() - commit) as i64;
        prop_assert_eq!(q.depth(), want, "depth after reopen (clean: {})", clean);
    }
    prop_assert_eq!(q.unfinished(), 0);
    Ok(q)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn unfinished_records_survive_everything(
        max_bytes in 30i64..250,
        sync_every in prop_oneof![Just(1i64), 2i64..6],
        ops in prop::collection::vec(op(), 1..250),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        let o = options(max_bytes, sync_every);
        let mut q = DiskQueue::open("tp", p, o.clone()).unwrap();
        let mut m = Model {
            records: Vec::new(),
            state: Vec::new(),
            held: Vec::new(),
            session: Vec::new(),
            start: Some(0),
            depth_exact: true,
        };
        for op in ops {
            match op {
                Op::Put(len) => {
                    let r = record(m.records.len() as u32, len);
                    q.put(&r).unwrap();
                    m.records.push(r);
                    m.state.push(State::Unread);
                }
                Op::PopTracked => match q.pop_tracked().unwrap() {
                    Some((r, t)) => {
                        let i = m.delivered(&r)?;
                        m.state[i] = State::Out;
                        m.held.push((t, i, false));
                    }
                    None => m.check_nothing_unread()?,
                },
                Op::Pop => match q.pop().unwrap() {
                    Some(r) => {
                        let i = m.delivered(&r)?;
                        m.state[i] = State::Done;
                    }
                    None => m.check_nothing_unread()?,
                },
                Op::Finish(k) => {
                    if !m.held.is_empty() {
                        let (t, i, stale) = m.held.remove(k % m.held.len());
                        if !stale {
                            prop_assert_eq!(m.state[i], State::Out);
                            m.state[i] = State::Done;
                        }
                        q.finish(t);
                    }
                }
                Op::Peek => {
                    if let Some(r) = q.peek().unwrap() {
                        let i = u32::from_be_bytes([r[0], r[1], r[2], r[3]]) as usize;
                        prop_assert!(i < m.records.len());
                        prop_assert!(m.state[i] != State::Out && m.state[i] != State::Gone);
                    }
                }
                Op::Crash => q = reopen(q, false, &mut m, p, &o)?,
                Op::Reopen => q = reopen(q, true, &mut m, p, &o)?,
                Op::Sync => q.sync().unwrap(),
                Op::Empty => {
                    q.empty().unwrap();
                    for s in &mut m.state {
                        *s = State::Gone;
                    }
                    for h in &mut m.held {
                        h.2 = true;
                    }
                    m.session.clear();
                    m.start = Some(m.records.len());
                    m.depth_exact = true;
                    prop_assert_eq!(q.depth(), 0);
                }
            }
            prop_assert_eq!(q.unfinished(), m.live_held());
        }

        // Drain: every record not finished must come out.
        while let Some((r, t)) = q.pop_tracked().unwrap() {
            let i = m.delivered(&r)?;
            m.state[i] = State::Out;
            q.finish(t);
        }
        m.check_nothing_unread()?;
        prop_assert_eq!(q.depth(), 0);
        // The tickets still held are finished last, in any order.
        let held: Vec<_> = m.held.drain(..).collect();
        for (t, _, _) in held.into_iter().rev() {
            q.finish(t);
        }
        prop_assert_eq!(q.unfinished(), 0);
        prop_assert_eq!(q.committed_position(), q.read_position());
        prop_assert_eq!(q.read_position(), q.write_position());
        prop_assert_eq!(q.bad_files(), 0);
        q.close().unwrap();
        let meta = common::meta_text(p, "tp");
        prop_assert!(meta.starts_with("0\n"), "{}", meta);
        // Only the write segment (if it was created) and the metadata remain.
        let names = common::files(p);
        prop_assert!(names.len() <= 2, "{:?}", names);
        prop_assert!(names.iter().all(|n| !n.ends_with(".bad") && !n.ends_with(".tmp")));
    }
}
