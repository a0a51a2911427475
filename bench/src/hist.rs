//! A fixed-size log-linear latency histogram (64 linear steps per power of
//! two, so any reported value is within 1.6% of the recorded one).
//!
//! Recording is an index computation and an increment: no allocation, so it
//! can run once per request on the hot path. Each task keeps its own
//! histogram and they are merged at the end.

use std::time::Duration;

/// log2 of the number of linear steps per power of two.
const SUB_BITS: u32 = 6;
/// Linear steps per power of two.
const SUB: u64 = 1 << SUB_BITS;
/// Values below this are stored exactly (one bucket per value).
const LINEAR_LIMIT: u64 = 2 * SUB;
/// Number of buckets needed to cover every `u64`.
const BUCKETS: usize = (LINEAR_LIMIT + (64 - SUB_BITS as u64 - 1) * SUB) as usize;

/// Latency histogram over nanosecond values.
#[derive(Clone, Debug)]
pub struct Histogram {
    counts: Vec<u32>,
    total: u64,
    max: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self::new()
    }
}

fn index(v: u64) -> usize {
    if v < LINEAR_LIMIT {
        return v as usize;
    }
    let exp = 63 - v.leading_zeros();
    let shift = exp - SUB_BITS;
    let top = v >> shift;
    (LINEAR_LIMIT + (shift as u64 - 1) * SUB + (top - SUB)) as usize
}

/// Smallest and largest value that land in bucket `idx`.
fn bounds(idx: usize) -> (u64, u64) {
    let idx = idx as u64;
    if idx < LINEAR_LIMIT {
        return (idx, idx);
    }
    let k = idx - LINEAR_LIMIT;
    let shift = k / SUB + 1;
    let top = k % SUB + SUB;
    let low = top << shift;
    (low, low + ((1u64 << shift) - 1))
}

impl Histogram {
    /// An empty histogram.
    pub fn new() -> Self {
        Histogram {
            counts: vec![0; BUCKETS],
            total: 0,
            max: 0,
        }
    }

    /// Records one value in nanoseconds.
    #[inline]
    pub fn record_ns(&mut self, ns: u64) {
        let slot = &mut self.counts[index(ns)];
        *slot = slot.saturating_add(1);
        self.total += 1;
        if ns > self.max {
            self.max = ns;
        }
    }

    /// Records one duration.
    #[inline]
    pub fn record(&mut self, d: Duration) {
        self.record_ns(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    }

    /// Adds every value recorded in `other`.
    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a = a.saturating_add(*b);
        }
        self.total += other.total;
        self.max = self.max.max(other.max);
    }

    /// Number of recorded values.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// Largest recorded value, in nanoseconds.
    pub fn max_ns(&self) -> u64 {
        self.max
    }

    /// The value at quantile `q` (0..=1) in nanoseconds: the middle of the
    /// bucket holding it, never more than the recorded maximum. 0 when empty.
    pub fn quantile_ns(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0u64;
        for (idx, &c) in self.counts.iter().enumerate() {
            seen += u64::from(c);
            if seen >= rank {
                let (lo, hi) = bounds(idx);
                return (lo + (hi - lo) / 2).min(self.max);
            }
        }
        self.max
    }

    /// `p50: 0.123ms - p90: ... - p99: ... - p99.9: ... - max: ...`.
    pub fn summary(&self) -> String {
        let ms = |ns: u64| format!("{:.3}ms", ns as f64 / 1e6);
        format!(
            "p50: {} - p90: {} - p99: {} - p99.9: {} - max: {}",
            ms(self.quantile_ns(0.50)),
            ms(self.quantile_ns(0.90)),
            ms(self.quantile_ns(0.99)),
            ms(self.quantile_ns(0.999)),
            ms(self.max),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_contiguous() {
        let mut prev_hi = None;
        for idx in 0..BUCKETS {
            let (lo, hi) = bounds(idx);
            assert!(lo <= hi);
            if let Some(p) = prev_hi {
                assert_eq!(lo, p + 1, "gap before bucket {idx}");
            }
            assert_eq!(index(lo), idx);
            assert_eq!(index(hi), idx);
            prev_hi = Some(hi);
        }
        assert_eq!(prev_hi, Some(u64::MAX));
    }

    #[test]
    fn quantiles_are_close() {
        let mut h = Histogram::new();
        for v in 1..=100_000u64 {
            h.record_ns(v * 1000);
        }
        let p50 = h.quantile_ns(0.5) as f64;
        assert!((p50 / 50_000_000.0 - 1.0).abs() < 0.02, "{p50}");
        let p99 = h.quantile_ns(0.99) as f64;
        assert!((p99 / 99_000_000.0 - 1.0).abs() < 0.02, "{p99}");
        assert_eq!(h.max_ns(), 100_000_000);
        let mut other = Histogram::new();
        other.record_ns(5);
        h.merge(&other);
        assert_eq!(h.count(), 100_001);
    }

    #[test]
    fn empty_is_zero() {
        assert_eq!(Histogram::new().quantile_ns(0.99), 0);
    }
}
