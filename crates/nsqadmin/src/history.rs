//! Figures nsqadmin samples itself so that its charts work without
//! Graphite: every [`SAMPLE_INTERVAL`] the whole cluster's `/stats` are
//! gathered and, per topic, per channel and for the cluster, the depth,
//! the in-flight count and the message count are kept for
//! [`RETENTION`]. Rates are derived from consecutive message counts
//! (a counter that went down, i.e. an nsqd restart, gives no rate).

use crate::cluster::{unix_now, ClusterInfo, Upstreams};
use crate::stats::Gathered;
use parking_lot::Mutex;
use serde::Serialize;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

/// Time between two samples.
pub const SAMPLE_INTERVAL: Duration = Duration::from_secs(5);
/// How long samples are kept.
pub const RETENTION: Duration = Duration::from_secs(3600);
/// Most series kept (a bound on memory with very many channels).
pub const MAX_SERIES: usize = 20_000;

/// One sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Point {
    /// Unix seconds.
    pub ts: i64,
    /// Queued messages (topic: its own queue plus its channels' queues;
    /// channel: the channel queue; cluster: all topic and channel queues).
    pub depth: i64,
    /// In-flight messages (summed over channels for topics and the cluster).
    pub in_flight: i64,
    /// Cumulative message count (topic: published; channel and cluster:
    /// delivered to channels).
    pub message_count: i64,
    /// Messages per second since the previous sample.
    pub rate: Option<f64>,
}

/// Samples per `(topic, channel)`; `("", "")` is the cluster.
#[derive(Debug, Default)]
pub struct History {
    series: Mutex<HashMap<(String, String), VecDeque<Point>>>,
}

impl History {
    /// The samples of `(topic, channel)`, oldest first.
    pub fn series(&self, topic: &str, channel: &str) -> Vec<Point> {
        self.series
            .lock()
            .get(&(topic.to_string(), channel.to_string()))
            .map(|q| q.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Records one gathering of the whole cluster taken at `ts`.
    pub fn record(&self, ts: i64, gathered: &Gathered) {
        let mut samples: HashMap<(String, String), (i64, i64, i64)> = HashMap::new();
        let mut total = (0i64, 0i64, 0i64);
        for t in &gathered.topics {
            let e = samples
                .entry((t.topic_name.clone(), String::new()))
                .or_default();
            e.0 = e.0.saturating_add(t.depth);
            e.2 = e.2.saturating_add(t.message_count);
            total.0 = total.0.saturating_add(t.depth);
        }
        for c in gathered.channels.values() {
            // A topic's backlog includes what waits in its channels.
            let t = samples
                .entry((c.topic_name.clone(), String::new()))
                .or_default();
            t.0 = t.0.saturating_add(c.depth);
            t.1 = t.1.saturating_add(c.in_flight_count);
            let e = samples
                .entry((c.topic_name.clone(), c.channel_name.clone()))
                .or_default();
            e.0 = e.0.saturating_add(c.depth);
            e.1 = e.1.saturating_add(c.in_flight_count);
            e.2 = e.2.saturating_add(c.message_count);
            total.0 = total.0.saturating_add(c.depth);
            total.1 = total.1.saturating_add(c.in_flight_count);
            total.2 = total.2.saturating_add(c.message_count);
        }
        samples.insert((String::new(), String::new()), total);
        let oldest = ts - i64::try_from(RETENTION.as_secs()).unwrap_or(i64::MAX);
        let mut all = self.series.lock();
        for (key, (depth, in_flight, message_count)) in samples {
            if !all.contains_key(&key) && all.len() >= MAX_SERIES {
                continue;
            }
            let queue = all.entry(key).or_default();
            let rate = queue.back().and_then(|prev| {
                let dt = ts.saturating_sub(prev.ts);
                (dt > 0 && message_count >= prev.message_count)
                    .then(|| message_count.saturating_sub(prev.message_count) as f64 / dt as f64)
            });
            queue.push_back(Point {
                ts,
                depth,
                in_flight,
                message_count,
                rate,
            });
            while queue.front().is_some_and(|p| p.ts < oldest) {
                queue.pop_front();
            }
        }
        // Series of deleted topics/channels age out.
        all.retain(|_, q| q.back().is_some_and(|p| p.ts >= oldest));
    }
}

/// Samples the cluster forever (until the task is dropped).
pub async fn sample_forever(
    history: Arc<History>,
    ci: ClusterInfo,
    upstreams: impl Fn() -> Upstreams + Send + 'static,
) {
    let mut ticker = tokio::time::interval(SAMPLE_INTERVAL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let up = upstreams();
        let producers = match ci.producers(&up).await {
            Ok(p) => p.value,
            Err(e) => {
                tracing::debug!("history: no sample - {e}");
                continue;
            }
        };
        match ci.nsqd_stats(&producers, None, None, false).await {
            Ok(g) => history.record(unix_now(), &g.value),
            Err(e) => tracing::debug!("history: no sample - {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{ChannelStats, TopicStats};

    fn gathered(topic_depth: i64, published: i64, chan_depth: i64, delivered: i64) -> Gathered {
        let mut c = ChannelStats::empty_aggregate("t", "c");
        c.depth = chan_depth;
        c.message_count = delivered;
        let mut t = TopicStats::aggregate("t", &[]);
        t.depth = topic_depth;
        t.message_count = published;
        Gathered {
            topics: vec![t],
            channels: [("t:c".to_string(), c)].into_iter().collect(),
        }
    }

    #[test]
    fn rates_come_from_consecutive_counts() {
        let h = History::default();
        h.record(100, &gathered(1, 10, 2, 10));
        h.record(105, &gathered(0, 20, 5, 20));
        h.record(110, &gathered(0, 5, 5, 5)); // restarted node
        let t = h.series("t", "");
        assert_eq!(t.len(), 3);
        assert_eq!(t[0].rate, None);
        assert_eq!(t[1].rate, Some(2.0));
        assert_eq!(t[2].rate, None);
        let total = h.series("", "");
        assert_eq!(total[1].depth, 5);
        assert_eq!(t[1].depth, 5, "topic backlog includes its channel");
        assert_eq!(h.series("t", "c")[1].depth, 5);
        assert!(h.series("nope", "").is_empty());
    }

    #[test]
    fn old_samples_are_dropped() {
        let h = History::default();
        h.record(0, &gathered(1, 1, 1, 1));
        h.record(4000, &gathered(1, 1, 1, 1));
        assert_eq!(h.series("t", "").len(), 1);
    }
}
