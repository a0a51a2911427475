//! `GET <base>/metrics`: the cluster view in the Prometheus text format
//! 0.0.4 (an addition: nsqadmin v1.3.0 has no such route).
//!
//! Each scrape gathers the cluster once, exactly as `/api/counter` does
//! (the nsqd list from the lookupds, or the `--nsqd-http-address` list,
//! then every nsqd's `/stats`), and sums the figures over the nodes.
//!
//! | metric | type | what |
//! |---|---|---|
//! | `nsqadmin_nsqd_nodes` | gauge | nsqd found in this gather |
//! | `nsqadmin_upstream_errors` | gauge | nsqlookupd / nsqd requests that failed in this gather |
//! | `nsqadmin_topic_depth{topic}` | gauge | topic `depth`, summed over nodes |
//! | `nsqadmin_topic_messages_total{topic}` | counter | topic `message_count`, summed |
//! | `nsqadmin_channel_depth{topic,channel}` | gauge | channel `depth`, summed |
//! | `nsqadmin_channel_in_flight{topic,channel}` | gauge | `in_flight_count`, summed |
//! | `nsqadmin_channel_deferred{topic,channel}` | gauge | `deferred_count`, summed |
//! | `nsqadmin_channel_messages_total{topic,channel}` | counter | `message_count`, summed |
//! | `nsqadmin_channel_requeued_total{topic,channel}` | counter | `requeue_count`, summed |
//! | `nsqadmin_channel_timed_out_total{topic,channel}` | counter | `timeout_count`, summed |
//! | `nsqadmin_channel_clients{topic,channel}` | gauge | `client_count`, summed |
//!
//! A gather that fails on every upstream is not an HTTP error: the scrape
//! still answers, with `nsqadmin_upstream_errors` counting the failures
//! and no topic or channel series.

use crate::api::State;
use crate::stats::Gathered;
use nsq_http::prometheus::{render as render_families, Family, Kind};
use nsq_http::{HandlerResult, Reply, RequestContext};
use std::collections::BTreeMap;

/// What one scrape gathered.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scrape {
    /// nsqd found (answering or not).
    pub nodes: usize,
    /// Failed upstream requests (lookupd and nsqd).
    pub errors: usize,
    /// The merged `/stats` of the nodes that answered.
    pub gathered: Gathered,
}

/// Gathers the cluster once with the existing fan-out
/// ([`crate::cluster::ClusterInfo::producers`] then
/// [`crate::cluster::ClusterInfo::nsqd_stats`]).
pub async fn gather(st: &State) -> Scrape {
    let mut scrape = Scrape::default();
    let producers = match st.ci.producers(&st.upstreams()).await {
        Ok(p) => {
            scrape.errors += p.errors.len();
            p.value
        }
        Err(e) => {
            tracing::warn!("metrics: {e}");
            scrape.errors += e.errors.len().max(1);
            return scrape;
        }
    };
    scrape.nodes = producers.len();
    match st.ci.nsqd_stats(&producers, None, None, false).await {
        Ok(g) => {
            scrape.errors += g.errors.len();
            scrape.gathered = g.value;
        }
        Err(e) => {
            tracing::warn!("metrics: {e}");
            scrape.errors += e.errors.len().max(1);
        }
    }
    scrape
}

/// `GET <base>/metrics`.
pub async fn metrics(st: State, _req: RequestContext) -> HandlerResult {
    Ok(Reply::text(render(&gather(&st).await)))
}

/// Renders a scrape in the text format.
pub fn render(s: &Scrape) -> String {
    use Kind::{Counter, Gauge};
    let mut nodes = Family::new(
        "nsqadmin_nsqd_nodes",
        Gauge,
        "nsqd nodes found in the cluster gather of this scrape.",
    );
    let mut errors = Family::new(
        "nsqadmin_upstream_errors",
        Gauge,
        "nsqlookupd and nsqd requests that failed in the cluster gather of this scrape.",
    );
    let mut t_depth = Family::new(
        "nsqadmin_topic_depth",
        Gauge,
        "Messages waiting in the topic, summed over nsqd nodes.",
    );
    let mut t_msgs = Family::new(
        "nsqadmin_topic_messages_total",
        Counter,
        "Messages published to the topic, summed over nsqd nodes.",
    );
    let mut c_depth = Family::new(
        "nsqadmin_channel_depth",
        Gauge,
        "Messages waiting in the channel, summed over nsqd nodes.",
    );
    let mut c_inflight = Family::new(
        "nsqadmin_channel_in_flight",
        Gauge,
        "Messages in flight to the channel's consumers, summed over nsqd nodes.",
    );
    let mut c_deferred = Family::new(
        "nsqadmin_channel_deferred",
        Gauge,
        "Deferred messages of the channel, summed over nsqd nodes.",
    );
    let mut c_msgs = Family::new(
        "nsqadmin_channel_messages_total",
        Counter,
        "Messages the channel received, summed over nsqd nodes.",
    );
    let mut c_req = Family::new(
        "nsqadmin_channel_requeued_total",
        Counter,
        "Messages requeued on the channel, summed over nsqd nodes.",
    );
    let mut c_timeout = Family::new(
        "nsqadmin_channel_timed_out_total",
        Counter,
        "In-flight messages of the channel that timed out, summed over nsqd nodes.",
    );
    let mut c_clients = Family::new(
        "nsqadmin_channel_clients",
        Gauge,
        "Consumers connected to the channel, summed over nsqd nodes.",
    );
    nodes.add(&[], s.nodes);
    errors.add(&[], s.errors);

    let mut topics: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for t in &s.gathered.topics {
        let e = topics.entry(t.topic_name.as_str()).or_default();
        e.0 = e.0.saturating_add(t.depth);
        e.1 = e.1.saturating_add(t.message_count);
    }
    for (topic, (depth, messages)) in topics {
        t_depth.add(&[("topic", topic)], depth);
        t_msgs.add(&[("topic", topic)], messages);
    }
    for c in s.gathered.channels.values() {
        let l = [
            ("topic", c.topic_name.as_str()),
            ("channel", c.channel_name.as_str()),
        ];
        c_depth.add(&l, c.depth);
        c_inflight.add(&l, c.in_flight_count);
        c_deferred.add(&l, c.deferred_count);
        c_msgs.add(&l, c.message_count);
        c_req.add(&l, c.requeue_count);
        c_timeout.add(&l, c.timeout_count);
        c_clients.add(&l, c.client_count);
    }
    render_families(&[
        nodes, errors, t_depth, t_msgs, c_depth, c_inflight, c_deferred, c_msgs, c_req, c_timeout,
        c_clients,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::producers::Producer;
    use crate::upstream::NsqdStats;

    fn node(port: i64, json: &str) -> (Producer, NsqdStats) {
        let p = Producer {
            hostname: format!("h{port}"),
            broadcast_address: "127.0.0.1".to_string(),
            http_port: port,
            ..Producer::default()
        };
        let stats = serde_json::from_str(json).expect("test stats parse");
        (p, stats)
    }

    fn has(text: &str, line: &str) -> bool {
        text.lines().any(|l| l == line)
    }

    #[test]
    fn figures_are_summed_over_nodes() {
        let a = node(
            1,
            r#"{"topics":[{"topic_name":"t","depth":5,"message_count":7,"channels":[
            {"channel_name":"c","depth":3,"in_flight_count":1,"deferred_count":2,"message_count":7,
             "requeue_count":1,"timeout_count":4,"client_count":1}]}]}"#,
        );
        let b = node(
            2,
            r#"{"topics":[{"topic_name":"t","depth":1,"message_count":2,"channels":[
            {"channel_name":"c","depth":4,"message_count":2,"client_count":2},
            {"channel_name":"q\"x","depth":9}]}]}"#,
        );
        let scrape = Scrape {
            nodes: 3,
            errors: 1,
            gathered: Gathered::from_nodes(&[a, b], None, 0),
        };
        let text = render(&scrape);
        for line in [
            "nsqadmin_nsqd_nodes 3",
            "nsqadmin_upstream_errors 1",
            "nsqadmin_topic_depth{topic=\"t\"} 6",
            "nsqadmin_topic_messages_total{topic=\"t\"} 9",
            "nsqadmin_channel_depth{topic=\"t\",channel=\"c\"} 7",
            "nsqadmin_channel_in_flight{topic=\"t\",channel=\"c\"} 1",
            "nsqadmin_channel_deferred{topic=\"t\",channel=\"c\"} 2",
            "nsqadmin_channel_messages_total{topic=\"t\",channel=\"c\"} 9",
            "nsqadmin_channel_requeued_total{topic=\"t\",channel=\"c\"} 1",
            "nsqadmin_channel_timed_out_total{topic=\"t\",channel=\"c\"} 4",
            "nsqadmin_channel_clients{topic=\"t\",channel=\"c\"} 3",
            "nsqadmin_channel_depth{topic=\"t\",channel=\"q\\\"x\"} 9",
        ] {
            assert!(has(&text, line), "missing {line:?} in\n{text}");
        }
        assert_eq!(text.matches("# TYPE nsqadmin_topic_depth gauge").count(), 1);
        assert_eq!(text.matches("nsqadmin_topic_depth{").count(), 1, "{text}");
    }

    #[test]
    fn failed_gather_still_renders_totals() {
        let text = render(&Scrape {
            nodes: 0,
            errors: 2,
            gathered: Gathered::default(),
        });
        assert_eq!(
            text.lines()
                .filter(|l| !l.starts_with('#'))
                .collect::<Vec<_>>(),
            ["nsqadmin_nsqd_nodes 0", "nsqadmin_upstream_errors 2"]
        );
    }
}
