//! End-to-end processing latency (`--e2e-processing-latency-percentile`,
//! `--e2e-processing-latency-window-time`): the time from a message's publish
//! timestamp to its FIN, summarised as configured quantiles over a sliding
//! window.
//!
//! # How it estimates
//!
//! nsqd v1.3.0 keeps two targeted-quantile sketches (perks), each covering half
//! of the window, and rotates them: when the current half is older than
//! `window / 2` the other one is cleared and becomes current, so a query sees
//! between half a window and a whole window of samples.
//!
//! This keeps the same two-halves rotation, but each half is a **log-linear
//! histogram** instead of a perks stream:
//!
//! * values below 32 ns have one bucket each (exact);
//! * every power-of-two range `[2^e, 2^(e+1))` above that is cut into 32
//!   equal buckets, so a bucket is at most 1/32 of its lower bound wide and
//!   its midpoint is within ~1.6 % of any value it holds;
//! * the whole non-negative `i64` range fits in 1888 buckets (~15 KiB per
//!   half, ~30 KiB per channel, allocated only when percentiles are configured).
//!
//! Why a histogram: recording is a read lock (uncontended, never held across
//! anything slow) plus three relaxed atomic operations, with no allocation;
//! histograms merge exactly by adding counts, which is what the topic-level
//! aggregate needs ([`E2eLatency::merge`]); and the error bound does not depend
//! on the traffic. A quantile `q` over `n` samples is the representative value
//! (bucket midpoint, capped at the largest sample seen) of the bucket holding
//! the sample of rank `ceil(q * n)`. No samples give `0`, as nsqd reports.
//!
//! Negative latencies (publisher clock ahead of ours) are counted as 0.

use crate::stats;
use parking_lot::RwLock;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Values below `2^SUB_BITS` get one bucket each; every octave above is cut into `2^SUB_BITS`.
const SUB_BITS: u32 = 5;
/// Buckets per octave.
const SUB: usize = 1 << SUB_BITS;
/// Buckets needed for every value in `0..=i64::MAX` (highest bit 62).
const BUCKETS: usize = (62 - SUB_BITS as usize + 2) * SUB;
/// The shortest half window used when the configured window is (nearly) zero.
const MIN_HALF_WINDOW: Duration = Duration::from_millis(1);

/// The bucket of a latency in nanoseconds.
fn bucket_of(ns: i64) -> usize {
    let v = ns.max(0) as u64;
    if v < SUB as u64 {
        return v as usize;
    }
    let e = 63 - v.leading_zeros(); // index of the highest set bit, >= SUB_BITS
    let group = (e - SUB_BITS + 1) as usize;
    let sub = ((v >> (e - SUB_BITS)) as usize) & (SUB - 1);
    group * SUB + sub
}

/// The value reported for a bucket: its midpoint (exact below 32 ns).
fn bucket_value(idx: usize) -> i64 {
    if idx < SUB {
        return idx as i64;
    }
    let group = idx / SUB;
    let sub = (idx % SUB) as u64;
    let shift = (group - 1) as u32;
    let low = (SUB as u64 + sub) << shift;
    let width = 1u64 << shift;
    (low + (width - 1) / 2).min(i64::MAX as u64) as i64
}

/// One half window: bucket counts, the number of samples and the largest one.
#[derive(Debug)]
struct Half {
    counts: Box<[AtomicU64]>,
    total: AtomicU64,
    max: AtomicI64,
}

impl Half {
    fn new() -> Half {
        Half {
            counts: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            total: AtomicU64::new(0),
            max: AtomicI64::new(0),
        }
    }

    fn add(&self, ns: i64) {
        self.counts[bucket_of(ns)].fetch_add(1, Ordering::Relaxed);
        self.total.fetch_add(1, Ordering::Relaxed);
        self.max.fetch_max(ns.max(0), Ordering::Relaxed);
    }

    fn reset(&self) {
        for c in self.counts.iter() {
            c.store(0, Ordering::Relaxed);
        }
        self.total.store(0, Ordering::Relaxed);
        self.max.store(0, Ordering::Relaxed);
    }
}

/// Which half is current and when the window last moved.
#[derive(Debug)]
struct Rotation {
    current: usize,
    last_move: Instant,
}

/// The histograms; present only when percentiles are configured.
#[derive(Debug)]
struct Window {
    halves: [Half; 2],
    rotation: RwLock<Rotation>,
    half: Duration,
}

impl Window {
    fn is_stale(&self, rot: &Rotation, now: Instant) -> bool {
        now > rot.last_move + self.half
    }

    /// Moves the window until `now` falls in the current half (nsqd's
    /// `for IsDataStale(now) { moveWindow() }`), clearing the halves it enters.
    fn rotate(&self, now: Instant) {
        let mut rot = self.rotation.write();
        let behind = now.saturating_duration_since(rot.last_move);
        if behind <= self.half {
            return; // another thread rotated first
        }
        let half_ns = self.half.as_nanos();
        // Moves needed so that `now <= last_move + half` again (at least 1).
        let moves = behind.as_nanos().div_ceil(half_ns) - 1;
        if moves == 1 {
            rot.current ^= 1;
            self.halves[rot.current].reset();
        } else {
            self.halves[0].reset();
            self.halves[1].reset();
        }
        // moves * half <= behind, which is a valid Duration.
        let advance = u64::try_from(moves * half_ns).unwrap_or(u64::MAX);
        rot.last_move += Duration::from_nanos(advance);
    }

    fn record(&self, ns: i64, now: Instant) {
        {
            let rot = self.rotation.read();
            if !self.is_stale(&rot, now) {
                self.halves[rot.current].add(ns);
                return;
            }
        }
        self.rotate(now);
        let rot = self.rotation.read();
        self.halves[rot.current].add(ns);
    }

    /// Adds both halves' counts into `acc`, returning (samples, largest sample).
    fn accumulate(&self, now: Instant, acc: &mut [u64]) -> (u64, i64) {
        if self.is_stale(&self.rotation.read(), now) {
            self.rotate(now);
        }
        let _rot = self.rotation.read();
        let mut total = 0;
        let mut max = 0;
        for half in &self.halves {
            for (a, c) in acc.iter_mut().zip(half.counts.iter()) {
                *a += c.load(Ordering::Relaxed);
            }
            total += half.total.load(Ordering::Relaxed);
            max = max.max(half.max.load(Ordering::Relaxed));
        }
        (total, max)
    }
}

/// A thread-safe sliding-window latency estimator for one channel (see the
/// module docs for the method and its accuracy).
#[derive(Debug)]
pub struct E2eLatency {
    percentiles: Vec<f64>,
    window: Option<Box<Window>>,
}

impl E2eLatency {
    /// An estimator reporting `percentiles` (in this order, each in `(0, 1]`)
    /// over a sliding `window` (`--e2e-processing-latency-window-time`, kept as
    /// two halves). With no percentiles it allocates nothing, [`record`](Self::record)
    /// is a no-op and [`snapshot`](Self::snapshot) gives `{"count":0,"percentiles":null}`,
    /// as nsqd does when the flag is not set. A zero window is treated as 2 ms.
    pub fn new(percentiles: Vec<f64>, window: Duration) -> Self {
        let window = (!percentiles.is_empty()).then(|| {
            Box::new(Window {
                halves: [Half::new(), Half::new()],
                rotation: RwLock::new(Rotation {
                    current: 0,
                    last_move: Instant::now(),
                }),
                half: (window / 2).max(MIN_HALF_WINDOW),
            })
        });
        E2eLatency {
            percentiles,
            window,
        }
    }

    /// True when percentiles are configured (samples are kept).
    pub fn is_enabled(&self) -> bool {
        self.window.is_some()
    }

    /// The configured percentiles, in reporting order.
    pub fn percentiles(&self) -> &[f64] {
        &self.percentiles
    }

    /// Records one latency in nanoseconds (FIN time minus the message timestamp).
    /// No allocation; a shared lock and three atomic operations.
    pub fn record(&self, latency_ns: i64) {
        self.record_at(latency_ns, Instant::now());
    }

    /// Records the latency of a message whose timestamp (Unix nanoseconds, as
    /// in the message frame) is `msg_timestamp_ns`, measured against the wall clock now.
    pub fn record_since(&self, msg_timestamp_ns: i64) {
        if self.window.is_some() {
            self.record(unix_nanos().saturating_sub(msg_timestamp_ns));
        }
    }

    /// [`record`](Self::record) with the clock already read; `now` places the
    /// sample in the window.
    pub fn record_at(&self, latency_ns: i64, now: Instant) {
        if let Some(w) = &self.window {
            w.record(latency_ns, now);
        }
    }

    /// The channel's `e2e_processing_latency` object: samples in the window
    /// and the configured percentiles (values in ns), or `{"count":0,"percentiles":null}`
    /// when no percentiles are configured.
    pub fn snapshot(&self) -> stats::E2eLatency {
        self.snapshot_at(Instant::now())
    }

    /// [`snapshot`](Self::snapshot) as seen at `now`.
    pub fn snapshot_at(&self, now: Instant) -> stats::E2eLatency {
        Self::merge_at(&[self], now)
    }

    /// The topic's `e2e_processing_latency`: the samples of all its channels
    /// combined (histograms add exactly, as nsqd merges the channels' streams)
    /// and queried for the percentiles of the first enabled estimator.
    /// `{"count":0,"percentiles":null}` when `streams` is empty or none is enabled
    /// (a topic without channels, or no percentiles configured).
    pub fn merge(streams: &[&E2eLatency]) -> stats::E2eLatency {
        Self::merge_at(streams, Instant::now())
    }

    /// [`merge`](Self::merge) as seen at `now`.
    pub fn merge_at(streams: &[&E2eLatency], now: Instant) -> stats::E2eLatency {
        let mut enabled = streams
            .iter()
            .filter_map(|s| s.window.as_deref().map(|w| (&s.percentiles, w)))
            .peekable();
        let Some(&(percentiles, _)) = enabled.peek() else {
            return stats::E2eLatency {
                count: 0,
                percentiles: None,
            };
        };
        let mut acc = vec![0u64; BUCKETS];
        let (mut total, mut max) = (0u64, 0i64);
        for (_, w) in enabled {
            let (t, m) = w.accumulate(now, &mut acc);
            total += t;
            max = max.max(m);
        }
        let percentiles = percentiles
            .iter()
            .map(|&q| stats::Quantile {
                quantile: q,
                value: query(&acc, total, max, q),
            })
            .collect();
        stats::E2eLatency {
            count: total,
            percentiles: Some(percentiles),
        }
    }
}

/// The value at quantile `q` of a histogram holding `total` samples, at most `max`.
fn query(acc: &[u64], total: u64, max: i64, q: f64) -> i64 {
    if total == 0 {
        return 0;
    }
    let rank = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).clamp(1, total);
    let mut seen = 0;
    for (idx, &c) in acc.iter().enumerate() {
        seen += c;
        if seen >= rank {
            return bucket_value(idx).min(max);
        }
    }
    max
}

fn unix_nanos() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn values(l: &stats::E2eLatency) -> Vec<(f64, i64)> {
        l.percentiles
            .as_ref()
            .expect("percentiles configured")
            .iter()
            .map(|q| (q.quantile, q.value))
            .collect()
    }

    fn within(actual: i64, expected: i64, rel: f64) -> bool {
        ((actual - expected).abs() as f64) <= expected as f64 * rel
    }

    #[test]
    fn buckets_cover_the_range_and_are_monotonic() {
        assert_eq!(bucket_of(-5), 0);
        assert_eq!(bucket_of(31), 31);
        assert_eq!(bucket_of(32), 32);
        assert_eq!(bucket_of(i64::MAX), BUCKETS - 1);
        let mut probes: Vec<i64> = (0..63)
            .flat_map(|shift| [(1i64 << shift) - 1, 1i64 << shift, (1i64 << shift) + 1])
            .chain((0..2_000).map(|i| i * 37))
            .collect();
        probes.sort_unstable();
        let mut last = 0;
        for v in probes {
            let b = bucket_of(v);
            assert!(b >= last, "bucket of {v} went backwards");
            last = b;
            let rep = bucket_value(b);
            assert!(
                within(rep, v.max(0), 1.0 / 32.0),
                "{v} -> bucket {b} -> {rep}"
            );
        }
    }

    #[test]
    fn no_percentiles_is_null_and_records_nothing() {
        let e = E2eLatency::new(vec![], Duration::from_secs(600));
        e.record(5);
        let s = e.snapshot();
        assert_eq!(s.count, 0);
        assert!(s.percentiles.is_none());
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"{"count":0,"percentiles":null}"#
        );
        assert!(!e.is_enabled());
    }

    #[test]
    fn empty_window_reports_zero_values_in_configured_order() {
        let e = E2eLatency::new(vec![1.0, 0.99, 0.5], Duration::from_secs(600));
        let s = e.snapshot();
        assert_eq!(s.count, 0);
        assert_eq!(values(&s), vec![(1.0, 0), (0.99, 0), (0.5, 0)]);
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"{"count":0,"percentiles":[{"quantile":1,"value":0},{"quantile":0.99,"value":0},{"quantile":0.5,"value":0}]}"#
        );
    }

    #[test]
    fn percentiles_within_two_percent() {
        let e = E2eLatency::new(vec![0.5, 0.9, 0.99, 1.0], Duration::from_secs(600));
        // 1..=10000 ms in ns, shuffled order does not matter for a histogram.
        for i in 1..=10_000i64 {
            e.record(i * 1_000_000);
        }
        let s = e.snapshot();
        assert_eq!(s.count, 10_000);
        let v = values(&s);
        assert!(within(v[0].1, 5_000_000_000, 0.02), "{v:?}");
        assert!(within(v[1].1, 9_000_000_000, 0.02), "{v:?}");
        assert!(within(v[2].1, 9_900_000_000, 0.02), "{v:?}");
        assert_eq!(v[3].1, 10_000_000_000, "max is exact: {v:?}");
    }

    #[test]
    fn small_values_are_exact_and_negative_counts_as_zero() {
        let e = E2eLatency::new(vec![0.5, 1.0], Duration::from_secs(600));
        e.record(-100);
        e.record(7);
        e.record(9);
        let v = values(&e.snapshot());
        assert_eq!(v, vec![(0.5, 7), (1.0, 9)]);
    }

    #[test]
    fn window_rotates_out_old_samples() {
        let e = E2eLatency::new(vec![1.0], Duration::from_secs(10));
        let t0 = Instant::now();
        e.record_at(1_000, t0);
        // Still in the first half.
        assert_eq!(e.snapshot_at(t0 + Duration::from_secs(4)).count, 1);
        // Second half: the first half's samples are still visible.
        e.record_at(50, t0 + Duration::from_secs(6));
        let s = e.snapshot_at(t0 + Duration::from_secs(7));
        assert_eq!(s.count, 2);
        assert!(within(values(&s)[0].1, 1_000, 0.02));
        // Third half: the first half was cleared, only the 50 ns sample remains.
        let s = e.snapshot_at(t0 + Duration::from_secs(11));
        assert_eq!(s.count, 1);
        assert_eq!(values(&s)[0].1, 50);
        // Long idle: everything gone, and recording works again afterwards.
        let later = t0 + Duration::from_secs(1000);
        assert_eq!(e.snapshot_at(later).count, 0);
        e.record_at(20, later);
        let s = e.snapshot_at(later + Duration::from_secs(1));
        assert_eq!((s.count, values(&s)[0].1), (1, 20));
    }

    #[test]
    fn merge_combines_samples_not_quantiles() {
        let a = E2eLatency::new(vec![0.5, 1.0], Duration::from_secs(600));
        let b = E2eLatency::new(vec![0.5, 1.0], Duration::from_secs(600));
        let off = E2eLatency::new(vec![], Duration::from_secs(600));
        for _ in 0..30 {
            a.record(10);
        }
        for _ in 0..70 {
            b.record(20);
        }
        let m = E2eLatency::merge(&[&off, &a, &b]);
        assert_eq!(m.count, 100);
        assert_eq!(values(&m), vec![(0.5, 20), (1.0, 20)]);
        let m = E2eLatency::merge(&[]);
        assert!(m.percentiles.is_none() && m.count == 0);
        let m = E2eLatency::merge(&[&off]);
        assert!(m.percentiles.is_none() && m.count == 0);
    }

    #[test]
    fn concurrent_recording_loses_nothing() {
        let e = Arc::new(E2eLatency::new(vec![0.99], Duration::from_secs(600)));
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let e = e.clone();
                std::thread::spawn(move || {
                    for i in 0..5_000 {
                        e.record(i64::from(t) * 1_000 + i);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(e.snapshot().count, 20_000);
    }

    #[test]
    fn record_since_uses_wall_clock() {
        let e = E2eLatency::new(vec![1.0], Duration::from_secs(600));
        e.record_since(unix_nanos() - 2_000_000_000);
        let v = values(&e.snapshot())[0].1;
        assert!((1_900_000_000..2_500_000_000).contains(&v), "{v}");
    }
}
