//! End-to-end processing latency as the API reports it: one node's figures,
//! and the aggregate over nodes (nsqadmin.md §4.2).

use crate::upstream::NsqdLatency;
use serde::Serialize;
use std::collections::BTreeMap;

/// One percentile. Keys are sorted like Go's `map[string]float64`:
/// per node `average, count, max, min, quantile, value`; in an aggregate
/// `average, count, max, min, quantile` (no `value`).
pub type Percentile = BTreeMap<&'static str, f64>;

/// `e2e_processing_latency` of the admin API (key order as v1.3.0).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Latency {
    /// Samples, summed over nodes.
    pub count: i64,
    /// `null` when no node reports percentiles.
    pub percentiles: Option<Vec<Percentile>>,
    /// Topic (aggregates only; `""` per node).
    pub topic: String,
    /// Channel (channel aggregates only).
    pub channel: String,
    /// `*` on aggregates, `""` per node.
    pub host: String,
}

impl Latency {
    /// One node's figures: each percentile gets `min` = `max` = `average` =
    /// `value` and `count` = the node's count.
    pub fn from_node(raw: &NsqdLatency) -> Latency {
        let percentiles = raw.percentiles.as_ref().map(|list| {
            list.iter()
                .map(|p| {
                    BTreeMap::from([
                        ("average", p.value),
                        ("count", raw.count as f64),
                        ("max", p.value),
                        ("min", p.value),
                        ("quantile", p.quantile),
                        ("value", p.value),
                    ])
                })
                .collect()
        });
        Latency {
            count: raw.count,
            percentiles,
            ..Latency::default()
        }
    }

    /// The aggregate of `nodes` for `topic` (and `channel`): counts summed;
    /// per quantile the minimum, the maximum, the summed count and the
    /// count-weighted mean (plain mean when no node has samples). Quantiles
    /// are listed highest first.
    pub fn aggregate<'a>(
        topic: &str,
        channel: &str,
        nodes: impl IntoIterator<Item = &'a Latency>,
    ) -> Latency {
        struct Acc {
            quantile: f64,
            min: f64,
            max: f64,
            count: f64,
            weighted: f64,
            plain: f64,
            n: f64,
        }
        let mut count = 0i64;
        let mut accs: Vec<Acc> = Vec::new();
        for node in nodes {
            count = count.saturating_add(node.count);
            for p in node.percentiles.iter().flatten() {
                let q = p.get("quantile").copied().unwrap_or(0.0);
                let v = p.get("average").copied().unwrap_or(0.0);
                let lo = p.get("min").copied().unwrap_or(v);
                let hi = p.get("max").copied().unwrap_or(v);
                let c = p.get("count").copied().unwrap_or(0.0);
                let idx = match accs.iter().position(|a| a.quantile == q) {
                    Some(i) => i,
                    None => {
                        accs.push(Acc {
                            quantile: q,
                            min: lo,
                            max: hi,
                            count: 0.0,
                            weighted: 0.0,
                            plain: 0.0,
                            n: 0.0,
                        });
                        accs.len() - 1
                    }
                };
                let a = &mut accs[idx];
                a.min = a.min.min(lo);
                a.max = a.max.max(hi);
                a.count += c;
                a.weighted += v * c;
                a.plain += v;
                a.n += 1.0;
            }
        }
        accs.sort_by(|a, b| b.quantile.total_cmp(&a.quantile));
        let percentiles = (!accs.is_empty()).then(|| {
            accs.iter()
                .map(|a| {
                    let average = if a.count > 0.0 {
                        a.weighted / a.count
                    } else {
                        a.plain / a.n.max(1.0)
                    };
                    BTreeMap::from([
                        ("average", average),
                        ("count", a.count),
                        ("max", a.max),
                        ("min", a.min),
                        ("quantile", a.quantile),
                    ])
                })
                .collect()
        });
        Latency {
            count,
            percentiles,
            topic: topic.to_string(),
            channel: channel.to_string(),
            host: "*".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upstream::NsqdPercentile;

    fn node(count: i64, pcts: &[(f64, f64)]) -> Latency {
        Latency::from_node(&NsqdLatency {
            count,
            percentiles: Some(
                pcts.iter()
                    .map(|&(quantile, value)| NsqdPercentile { quantile, value })
                    .collect(),
            ),
        })
    }

    #[test]
    fn single_node_aggregate_matches_v1_3_0_capture() {
        let n = node(1, &[(0.99, 2636789146.0)]);
        let agg = Latency::aggregate("t3", "", [&n]);
        let json = String::from_utf8(nsq_http::json::to_vec(&agg).unwrap()).unwrap();
        assert_eq!(
            json,
            r#"{"count":1,"percentiles":[{"average":2636789146,"count":1,"max":2636789146,"min":2636789146,"quantile":0.99}],"topic":"t3","channel":"","host":"*"}"#
        );
        let per_node = String::from_utf8(nsq_http::json::to_vec(&n).unwrap()).unwrap();
        assert_eq!(
            per_node,
            r#"{"count":1,"percentiles":[{"average":2636789146,"count":1,"max":2636789146,"min":2636789146,"quantile":0.99,"value":2636789146}],"topic":"","channel":"","host":""}"#
        );
    }

    #[test]
    fn aggregate_weights_by_count() {
        let a = node(1, &[(0.5, 10.0), (0.99, 100.0)]);
        let b = node(3, &[(0.99, 20.0), (0.5, 2.0)]);
        let agg = Latency::aggregate("t", "c", [&a, &b]);
        assert_eq!(agg.count, 4);
        let p = agg.percentiles.unwrap();
        assert_eq!(p[0]["quantile"], 0.99);
        assert_eq!(p[0]["average"], 40.0);
        assert_eq!(
            (p[0]["min"], p[0]["max"], p[0]["count"]),
            (20.0, 100.0, 4.0)
        );
        assert_eq!(p[1]["average"], 4.0);
    }

    #[test]
    fn no_percentiles_stay_null() {
        let a = Latency::from_node(&NsqdLatency::default());
        assert_eq!(a.percentiles, None);
        let agg = Latency::aggregate("t", "", [&a]);
        assert_eq!(agg.percentiles, None);
        assert_eq!(agg.host, "*");
    }
}
