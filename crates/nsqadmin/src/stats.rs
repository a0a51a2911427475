//! The admin flavour of topic, channel and client statistics (nsqadmin.md
//! §4.2–4.3), built from nsqd `/stats` answers and merged across nodes.
//!
//! Key order and `null`-versus-`[]` follow the v1.3.0 captures. One
//! deliberate difference: when a channel exists on several nodes, the
//! topic's `channels[i]` is a fresh aggregate (`node` `*`, `hostname` `""`,
//! `nodes` listing **every** node) instead of v1.3.0's first-node object
//! mutated in place, which also lost channels missing on the first node.
//! A channel on a single node is that node's object, exactly as in v1.3.0.

use crate::e2e::Latency;
use crate::producers::Producer;
use crate::upstream::{NsqdChannel, NsqdClient, NsqdStats, NsqdTopic};
use serde::Serialize;
use std::collections::BTreeMap;

/// Topic statistics: one node's (`node` = its address) or the aggregate
/// (`node` = `*`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopicStats {
    /// `*` or `broadcast_address:http_port`.
    pub node: String,
    /// nsqd hostname (`""` on the aggregate).
    pub hostname: String,
    /// Topic name.
    pub topic_name: String,
    /// Memory + disk depth.
    pub depth: i64,
    /// `depth - backend_depth`.
    pub memory_depth: i64,
    /// Disk depth.
    pub backend_depth: i64,
    /// Messages accepted.
    pub message_count: i64,
    /// Per-node stats (aggregate only; `null` per node).
    pub nodes: Option<Vec<TopicStats>>,
    /// Channels (`null` on an aggregate without channels).
    pub channels: Option<Vec<ChannelStats>>,
    /// Paused on any node.
    pub paused: bool,
    /// Latency figures.
    pub e2e_processing_latency: Latency,
}

/// Channel statistics: one node's or the aggregate (`node` = `*`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChannelStats {
    /// `*` or `broadcast_address:http_port`.
    pub node: String,
    /// nsqd hostname (`""` on the aggregate).
    pub hostname: String,
    /// Topic name.
    pub topic_name: String,
    /// Channel name.
    pub channel_name: String,
    /// Memory + disk depth.
    pub depth: i64,
    /// `depth - backend_depth`.
    pub memory_depth: i64,
    /// Disk depth.
    pub backend_depth: i64,
    /// In flight.
    pub in_flight_count: i64,
    /// Deferred.
    pub deferred_count: i64,
    /// Requeued.
    pub requeue_count: i64,
    /// Timed out.
    pub timeout_count: i64,
    /// Messages received.
    pub message_count: i64,
    /// Connected consumers.
    pub client_count: i64,
    /// Per-node stats (aggregate only).
    pub nodes: Option<Vec<ChannelStats>>,
    /// Consumers (`null` when not requested or none on an aggregate).
    pub clients: Option<Vec<ClientStats>>,
    /// Paused on any node.
    pub paused: bool,
    /// Latency figures.
    pub e2e_processing_latency: Latency,
}

/// One consumer connection, with the nsqd it is connected to.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[allow(missing_docs)]
pub struct ClientStats {
    /// The nsqd (`broadcast_address:http_port`).
    pub node: String,
    pub remote_address: String,
    pub version: String,
    pub client_id: String,
    pub hostname: String,
    pub user_agent: String,
    /// Unix seconds.
    pub connect_ts: i64,
    /// Nanoseconds since `connect_ts` (whole seconds).
    pub connected: i64,
    pub in_flight_count: i64,
    pub ready_count: i64,
    pub finish_count: i64,
    pub requeue_count: i64,
    pub message_count: i64,
    pub sample_rate: i64,
    pub deflate: bool,
    pub snappy: bool,
    pub authed: bool,
    pub auth_identity: String,
    pub auth_identity_url: String,
    pub tls: bool,
    pub tls_cipher_suite: String,
    pub tls_version: String,
    pub tls_negotiated_protocol: String,
    pub tls_negotiated_protocol_is_mutual: bool,
}

/// `/api/counter` entry: one (topic, channel, node).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CounterStats {
    /// The nsqd.
    pub node: String,
    /// Topic name.
    pub topic_name: String,
    /// Channel name.
    pub channel_name: String,
    /// Messages received by the channel on that node.
    pub message_count: i64,
}

/// Everything gathered from a set of nodes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Gathered {
    /// Per-node topic stats, sorted by hostname (then node, stable otherwise).
    pub topics: Vec<TopicStats>,
    /// Channel aggregates, keyed by channel name when a topic was selected,
    /// else by `topic:channel`.
    pub channels: BTreeMap<String, ChannelStats>,
}

impl Gathered {
    /// Merges the `/stats` answers of `nodes`. `selected_topic` drops other
    /// topics; `now` (Unix seconds) computes clients' `connected`.
    pub fn from_nodes(
        nodes: &[(Producer, NsqdStats)],
        selected_topic: Option<&str>,
        now: i64,
    ) -> Gathered {
        let mut topics = Vec::new();
        let mut channels: BTreeMap<String, ChannelStats> = BTreeMap::new();
        for (producer, stats) in nodes {
            let node = producer.http_address();
            for raw in stats.topics.iter().flatten() {
                if selected_topic.is_some_and(|t| t != raw.topic_name) {
                    continue;
                }
                let topic = TopicStats::from_node(&node, &producer.hostname, raw, now);
                for channel in topic.channels.iter().flatten() {
                    let key = match selected_topic {
                        Some(_) => channel.channel_name.clone(),
                        None => format!("{}:{}", topic.topic_name, channel.channel_name),
                    };
                    channels
                        .entry(key)
                        .or_insert_with(|| {
                            ChannelStats::empty_aggregate(&topic.topic_name, &channel.channel_name)
                        })
                        .add(channel);
                }
                topics.push(topic);
            }
        }
        topics.sort_by(|a, b| (&a.hostname, &a.node).cmp(&(&b.hostname, &b.node)));
        Gathered { topics, channels }
    }

    /// `/api/counter`'s `stats`: one entry per (topic, channel, node).
    pub fn counter(&self) -> BTreeMap<String, CounterStats> {
        let mut out: BTreeMap<String, CounterStats> = BTreeMap::new();
        for aggregate in self.channels.values() {
            for node in aggregate.nodes.iter().flatten() {
                let key = format!("{}:{}:{}", node.topic_name, node.channel_name, node.node);
                let entry = out.entry(key).or_insert_with(|| CounterStats {
                    node: node.node.clone(),
                    topic_name: node.topic_name.clone(),
                    channel_name: node.channel_name.clone(),
                    message_count: 0,
                });
                entry.message_count = entry.message_count.saturating_add(node.message_count);
            }
        }
        out
    }
}

impl TopicStats {
    /// One node's topic.
    pub fn from_node(node: &str, hostname: &str, raw: &NsqdTopic, now: i64) -> TopicStats {
        TopicStats {
            node: node.to_string(),
            hostname: hostname.to_string(),
            topic_name: raw.topic_name.clone(),
            depth: raw.depth,
            memory_depth: raw.depth.saturating_sub(raw.backend_depth),
            backend_depth: raw.backend_depth,
            message_count: raw.message_count,
            nodes: None,
            channels: raw.channels.as_ref().map(|list| {
                list.iter()
                    .map(|c| ChannelStats::from_node(node, hostname, &raw.topic_name, c, now))
                    .collect()
            }),
            paused: raw.paused,
            e2e_processing_latency: Latency::from_node(&raw.e2e_processing_latency),
        }
    }

    /// The cluster-wide view of `topic_name` from its per-node stats.
    pub fn aggregate(topic_name: &str, per_node: &[TopicStats]) -> TopicStats {
        let mut nodes: Vec<TopicStats> = per_node
            .iter()
            .filter(|t| t.topic_name == topic_name)
            .cloned()
            .collect();
        nodes.sort_by(|a, b| (&a.hostname, &a.node).cmp(&(&b.hostname, &b.node)));
        let mut by_name: Vec<(String, Vec<&ChannelStats>)> = Vec::new();
        for node in &nodes {
            for c in node.channels.iter().flatten() {
                match by_name.iter_mut().find(|(n, _)| *n == c.channel_name) {
                    Some((_, list)) => list.push(c),
                    None => by_name.push((c.channel_name.clone(), vec![c])),
                }
            }
        }
        let channels: Vec<ChannelStats> = by_name
            .into_iter()
            .map(|(name, list)| match list.as_slice() {
                [only] => (*only).clone(),
                many => {
                    let mut agg = ChannelStats::empty_aggregate(topic_name, &name);
                    for c in many {
                        agg.add(c);
                    }
                    agg
                }
            })
            .collect();
        let sum = |f: fn(&TopicStats) -> i64| nodes.iter().map(f).fold(0i64, i64::saturating_add);
        TopicStats {
            node: "*".to_string(),
            hostname: String::new(),
            topic_name: topic_name.to_string(),
            depth: sum(|t| t.depth),
            memory_depth: sum(|t| t.memory_depth),
            backend_depth: sum(|t| t.backend_depth),
            message_count: sum(|t| t.message_count),
            paused: nodes.iter().any(|t| t.paused),
            e2e_processing_latency: Latency::aggregate(
                topic_name,
                "",
                nodes.iter().map(|t| &t.e2e_processing_latency),
            ),
            channels: (!channels.is_empty()).then_some(channels),
            nodes: (!nodes.is_empty()).then_some(nodes),
        }
    }
}

impl ChannelStats {
    /// One node's channel.
    pub fn from_node(
        node: &str,
        hostname: &str,
        topic_name: &str,
        raw: &NsqdChannel,
        now: i64,
    ) -> ChannelStats {
        ChannelStats {
            node: node.to_string(),
            hostname: hostname.to_string(),
            topic_name: topic_name.to_string(),
            channel_name: raw.channel_name.clone(),
            depth: raw.depth,
            memory_depth: raw.depth.saturating_sub(raw.backend_depth),
            backend_depth: raw.backend_depth,
            in_flight_count: raw.in_flight_count,
            deferred_count: raw.deferred_count,
            requeue_count: raw.requeue_count,
            timeout_count: raw.timeout_count,
            message_count: raw.message_count,
            client_count: raw.client_count,
            nodes: None,
            clients: raw.clients.as_ref().map(|list| {
                let mut clients: Vec<ClientStats> = list
                    .iter()
                    .map(|c| ClientStats::from_node(node, c, now))
                    .collect();
                sort_clients(&mut clients);
                clients
            }),
            paused: raw.paused,
            e2e_processing_latency: Latency::from_node(&raw.e2e_processing_latency),
        }
    }

    /// An aggregate with nothing added yet.
    pub fn empty_aggregate(topic_name: &str, channel_name: &str) -> ChannelStats {
        ChannelStats {
            node: "*".to_string(),
            hostname: String::new(),
            topic_name: topic_name.to_string(),
            channel_name: channel_name.to_string(),
            depth: 0,
            memory_depth: 0,
            backend_depth: 0,
            in_flight_count: 0,
            deferred_count: 0,
            requeue_count: 0,
            timeout_count: 0,
            message_count: 0,
            client_count: 0,
            nodes: None,
            clients: None,
            paused: false,
            e2e_processing_latency: Latency::aggregate(topic_name, channel_name, []),
        }
    }

    /// Adds one node's channel to this aggregate.
    pub fn add(&mut self, node: &ChannelStats) {
        self.depth = self.depth.saturating_add(node.depth);
        self.memory_depth = self.memory_depth.saturating_add(node.memory_depth);
        self.backend_depth = self.backend_depth.saturating_add(node.backend_depth);
        self.in_flight_count = self.in_flight_count.saturating_add(node.in_flight_count);
        self.deferred_count = self.deferred_count.saturating_add(node.deferred_count);
        self.requeue_count = self.requeue_count.saturating_add(node.requeue_count);
        self.timeout_count = self.timeout_count.saturating_add(node.timeout_count);
        self.message_count = self.message_count.saturating_add(node.message_count);
        self.client_count = self.client_count.saturating_add(node.client_count);
        self.paused |= node.paused;
        let nodes = self.nodes.get_or_insert_with(Vec::new);
        nodes.push(node.clone());
        nodes.sort_by(|a, b| (&a.hostname, &a.node).cmp(&(&b.hostname, &b.node)));
        self.e2e_processing_latency = Latency::aggregate(
            &self.topic_name,
            &self.channel_name,
            nodes.iter().map(|c| &c.e2e_processing_latency),
        );
        let mut clients: Vec<ClientStats> = self.clients.take().unwrap_or_default();
        clients.extend(node.clients.iter().flatten().cloned());
        sort_clients(&mut clients);
        self.clients = (!clients.is_empty()).then_some(clients);
    }
}

impl ClientStats {
    /// A consumer of `node`; `connected` counts whole seconds up to `now`.
    pub fn from_node(node: &str, raw: &NsqdClient, now: i64) -> ClientStats {
        let connected = now
            .saturating_sub(raw.connect_ts)
            .max(0)
            .saturating_mul(1_000_000_000);
        ClientStats {
            node: node.to_string(),
            remote_address: raw.remote_address.clone(),
            version: raw.version.clone(),
            client_id: raw.client_id.clone(),
            hostname: raw.hostname.clone(),
            user_agent: raw.user_agent.clone(),
            connect_ts: raw.connect_ts,
            connected,
            in_flight_count: raw.in_flight_count,
            ready_count: raw.ready_count,
            finish_count: raw.finish_count,
            requeue_count: raw.requeue_count,
            message_count: raw.message_count,
            sample_rate: raw.sample_rate,
            deflate: raw.deflate,
            snappy: raw.snappy,
            authed: raw.authed,
            auth_identity: raw.auth_identity.clone(),
            auth_identity_url: raw.auth_identity_url.clone(),
            tls: raw.tls,
            tls_cipher_suite: raw.tls_cipher_suite.clone(),
            tls_version: raw.tls_version.clone(),
            tls_negotiated_protocol: raw.tls_negotiated_protocol.clone(),
            tls_negotiated_protocol_is_mutual: raw.tls_negotiated_protocol_is_mutual,
        }
    }
}

fn sort_clients(clients: &mut [ClientStats]) {
    clients.sort_by(|a, b| {
        (&a.hostname, &a.node, &a.remote_address).cmp(&(&b.hostname, &b.node, &b.remote_address))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upstream::NsqdStats;

    fn producer(host: &str, port: i64) -> Producer {
        Producer {
            hostname: host.to_string(),
            broadcast_address: "127.0.0.1".to_string(),
            http_port: port,
            ..Producer::default()
        }
    }

    fn stats(json: &str) -> NsqdStats {
        serde_json::from_str(json).unwrap()
    }

    const NODE_A: &str = r#"{"topics":[{"topic_name":"t","depth":5,"backend_depth":2,"message_count":7,
        "channels":[{"channel_name":"c1","depth":3,"message_count":7,"client_count":1,"clients":[
        {"client_id":"x","hostname":"h2","remote_address":"127.0.0.1:5","connect_ts":100}]},
        {"channel_name":"only-a","depth":1,"clients":[]}],"e2e_processing_latency":{"count":0,"percentiles":null}}]}"#;
    const NODE_B: &str = r#"{"topics":[{"topic_name":"t","depth":1,"backend_depth":0,"message_count":2,"paused":true,
        "channels":[{"channel_name":"c1","depth":4,"message_count":2,"clients":[]},
        {"channel_name":"only-b","depth":9,"clients":[]}]},{"topic_name":"other","channels":[]}]}"#;

    #[test]
    fn topic_aggregate_sums_nodes_and_keeps_every_channel() {
        let nodes = vec![
            (producer("b-host", 2), stats(NODE_B)),
            (producer("a-host", 1), stats(NODE_A)),
        ];
        let g = Gathered::from_nodes(&nodes, Some("t"), 110);
        assert_eq!(g.topics.len(), 2);
        assert_eq!(g.topics[0].hostname, "a-host");
        let agg = TopicStats::aggregate("t", &g.topics);
        assert_eq!((agg.depth, agg.memory_depth, agg.backend_depth), (6, 4, 2));
        assert_eq!(agg.message_count, 9);
        assert!(agg.paused);
        assert_eq!(agg.node, "*");
        let chans = agg.channels.unwrap();
        let names: Vec<&str> = chans.iter().map(|c| c.channel_name.as_str()).collect();
        assert_eq!(names, ["c1", "only-a", "only-b"]);
        assert_eq!(chans[0].node, "*");
        assert_eq!(chans[0].depth, 7);
        assert_eq!(chans[0].nodes.as_ref().unwrap().len(), 2);
        assert_eq!(chans[1].node, "127.0.0.1:1");
        assert_eq!(chans[1].nodes, None);
        // the per-node entries are untouched by the aggregation
        let a_nodes = agg.nodes.unwrap();
        assert_eq!(a_nodes[0].channels.as_ref().unwrap()[0].depth, 3);
    }

    #[test]
    fn channel_aggregate_collects_clients_with_connected_time() {
        let nodes = vec![
            (producer("a-host", 1), stats(NODE_A)),
            (producer("b-host", 2), stats(NODE_B)),
        ];
        let g = Gathered::from_nodes(&nodes, Some("t"), 110);
        let c1 = &g.channels["c1"];
        assert_eq!(c1.depth, 7);
        assert_eq!(c1.client_count, 1);
        let clients = c1.clients.as_ref().unwrap();
        assert_eq!(clients[0].connected, 10_000_000_000);
        assert_eq!(clients[0].node, "127.0.0.1:1");
        assert_eq!(g.channels["only-b"].clients, None);
        assert_eq!(c1.e2e_processing_latency.channel, "c1");
    }

    #[test]
    fn counter_has_one_entry_per_topic_channel_node() {
        let nodes = vec![
            (producer("a-host", 1), stats(NODE_A)),
            (producer("b-host", 2), stats(NODE_B)),
        ];
        let g = Gathered::from_nodes(&nodes, None, 0);
        let c = g.counter();
        let keys: Vec<&String> = c.keys().collect();
        assert_eq!(
            keys,
            [
                "t:c1:127.0.0.1:1",
                "t:c1:127.0.0.1:2",
                "t:only-a:127.0.0.1:1",
                "t:only-b:127.0.0.1:2"
            ]
        );
        assert_eq!(c["t:c1:127.0.0.1:1"].message_count, 7);
    }

    #[test]
    fn aggregate_of_nothing_has_null_lists() {
        let agg = TopicStats::aggregate("t", &[]);
        assert_eq!(agg.nodes, None);
        assert_eq!(agg.channels, None);
    }
}
