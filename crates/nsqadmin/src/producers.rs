//! The nsqd nodes of the cluster as `/api/nodes` lists them (nsqadmin.md
//! §4.4), and how the lists of several lookupds are merged.

use crate::upstream::{LookupdPeer, NsqdInfo, NsqdStats};
use serde::Serialize;
use std::cmp::Ordering;

/// One nsqd.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Producer {
    /// `"<lookupd>/<remote address seen by it>"` per lookupd that knows the
    /// node; `null` in nsqd mode.
    pub remote_addresses: Option<Vec<String>>,
    /// Remote address seen by the first lookupd (`""` in nsqd mode).
    pub remote_address: String,
    /// OS hostname.
    pub hostname: String,
    /// Address clients use.
    pub broadcast_address: String,
    /// TCP port.
    pub tcp_port: i64,
    /// HTTP port.
    pub http_port: i64,
    /// NSQ version.
    pub version: String,
    /// Topics, sorted, with tombstone flags (`null` when none).
    pub topics: Option<Vec<ProducerTopic>>,
    /// Older than the newest version in the cluster.
    pub out_of_date: bool,
    /// Where nsqadmin fetches this node's HTTP API: the configured address
    /// in nsqd mode (robust to unreachable broadcast addresses), else
    /// [`Producer::http_address`].
    #[serde(skip)]
    pub fetch_address: Option<String>,
}

/// `{"topic":..,"tombstoned":..}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ProducerTopic {
    /// Topic name.
    pub topic: String,
    /// Tombstoned on this node (lookupd mode only).
    pub tombstoned: bool,
}

impl Producer {
    /// The node's name in the API: `broadcast_address:http_port`, IPv6
    /// hosts in brackets.
    pub fn http_address(&self) -> String {
        join_host_port(&self.broadcast_address, self.http_port)
    }

    /// The address to send HTTP requests to.
    pub fn fetch_address(&self) -> String {
        self.fetch_address
            .clone()
            .unwrap_or_else(|| self.http_address())
    }

    /// `broadcast_address:tcp_port`: the identity lookupd lists are merged on.
    pub fn tcp_address(&self) -> String {
        join_host_port(&self.broadcast_address, self.tcp_port)
    }

    /// A topic producer from lookupd's `/lookup` (no topic list).
    pub fn from_lookup(peer: &LookupdPeer) -> Producer {
        Producer {
            remote_address: peer.remote_address.clone(),
            hostname: peer.hostname.clone(),
            broadcast_address: peer.broadcast_address.clone(),
            tcp_port: peer.tcp_port,
            http_port: peer.http_port,
            version: peer.version.clone(),
            ..Producer::default()
        }
    }

    /// A node in nsqd mode, from its `/info` and `/stats`.
    pub fn from_nsqd(configured: &str, info: &NsqdInfo, stats: Option<&NsqdStats>) -> Producer {
        let topics: Vec<ProducerTopic> = stats
            .and_then(|s| s.topics.as_ref())
            .into_iter()
            .flatten()
            .map(|t| ProducerTopic {
                topic: t.topic_name.clone(),
                tombstoned: false,
            })
            .collect();
        Producer {
            remote_addresses: None,
            remote_address: String::new(),
            hostname: info.hostname.clone(),
            broadcast_address: info.broadcast_address.clone(),
            tcp_port: info.tcp_port,
            http_port: info.http_port,
            version: info.version.clone(),
            topics: (!topics.is_empty()).then_some(topics),
            out_of_date: false,
            fetch_address: Some(configured.to_string()),
        }
    }
}

/// `host:port`, with brackets around IPv6 hosts.
pub fn join_host_port(host: &str, port: i64) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Merges the `/nodes` answers of several lookupds (`(lookupd address,
/// peers)`) on `broadcast_address:tcp_port`, then flags out-of-date versions
/// and sorts by hostname.
pub fn merge_lookupd_nodes(answers: &[(String, Vec<LookupdPeer>)]) -> Vec<Producer> {
    let mut merged: Vec<Producer> = Vec::new();
    for (lookupd, peers) in answers {
        for peer in peers {
            let mut topics: Vec<ProducerTopic> = peer
                .topics
                .iter()
                .enumerate()
                .map(|(i, t)| ProducerTopic {
                    topic: t.clone(),
                    tombstoned: peer.tombstones.get(i).copied().unwrap_or(false),
                })
                .collect();
            let remote = format!("{lookupd}/{}", peer.remote_address);
            let key = join_host_port(&peer.broadcast_address, peer.tcp_port);
            match merged.iter_mut().find(|p| p.tcp_address() == key) {
                Some(existing) => {
                    existing
                        .remote_addresses
                        .get_or_insert_with(Vec::new)
                        .push(remote);
                    let list = existing.topics.get_or_insert_with(Vec::new);
                    for t in topics {
                        match list.iter_mut().find(|e| e.topic == t.topic) {
                            Some(e) => e.tombstoned |= t.tombstoned,
                            None => list.push(t),
                        }
                    }
                    list.sort();
                }
                None => {
                    topics.sort();
                    let mut p = Producer::from_lookup(peer);
                    p.remote_addresses = Some(vec![remote]);
                    p.topics = (!topics.is_empty()).then_some(topics);
                    merged.push(p);
                }
            }
        }
    }
    mark_out_of_date(&mut merged);
    merged.sort_by(|a, b| (&a.hostname, a.tcp_address()).cmp(&(&b.hostname, b.tcp_address())));
    merged
}

/// Sets `out_of_date` on nodes whose version is below the highest one seen.
pub fn mark_out_of_date(nodes: &mut [Producer]) {
    let newest = nodes.iter().filter_map(|p| parse_version(&p.version)).max();
    if let Some(newest) = newest {
        for p in nodes.iter_mut() {
            p.out_of_date = parse_version(&p.version)
                .map(|v| compare_versions(&v, &newest) == Ordering::Less)
                .unwrap_or(false);
        }
    }
}

/// `major.minor.patch[-pre]` → comparable parts; `None` if not a version.
fn parse_version(text: &str) -> Option<(u64, u64, u64, bool)> {
    let text = text.trim().trim_start_matches('v');
    let (core, pre) = match text.split_once(['-', '+']) {
        Some((core, _)) => (core, text.contains('-')),
        None => (text, false),
    };
    let mut parts = core.split('.').map(|p| p.parse::<u64>());
    let major = parts.next()?.ok()?;
    let minor = parts.next().unwrap_or(Ok(0)).ok()?;
    let patch = parts.next().unwrap_or(Ok(0)).ok()?;
    // A release sorts after its pre-releases.
    Some((major, minor, patch, !pre))
}

fn compare_versions(a: &(u64, u64, u64, bool), b: &(u64, u64, u64, bool)) -> Ordering {
    a.cmp(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(
        remote: &str,
        host: &str,
        tcp: i64,
        version: &str,
        topics: &[(&str, bool)],
    ) -> LookupdPeer {
        LookupdPeer {
            remote_address: remote.to_string(),
            hostname: host.to_string(),
            broadcast_address: "127.0.0.1".to_string(),
            tcp_port: tcp,
            http_port: tcp + 1,
            version: version.to_string(),
            topics: topics.iter().map(|t| t.0.to_string()).collect(),
            tombstones: topics.iter().map(|t| t.1).collect(),
        }
    }

    #[test]
    fn nodes_are_merged_across_lookupds() {
        let answers = vec![
            (
                "l1:4161".to_string(),
                vec![
                    peer(
                        "127.0.0.1:9",
                        "zeta",
                        4150,
                        "1.3.0",
                        &[("t2", false), ("t1", false)],
                    ),
                    peer("127.0.0.1:8", "alpha", 5150, "1.2.1", &[]),
                ],
            ),
            (
                "l2:4161".to_string(),
                vec![peer("127.0.0.1:7", "zeta", 4150, "1.3.0", &[("t1", true)])],
            ),
        ];
        let nodes = merge_lookupd_nodes(&answers);
        assert_eq!(nodes.len(), 2);
        assert_eq!(nodes[0].hostname, "alpha");
        assert!(nodes[0].out_of_date);
        assert_eq!(nodes[0].topics, None);
        let zeta = &nodes[1];
        assert_eq!(
            zeta.remote_addresses.as_deref().unwrap(),
            ["l1:4161/127.0.0.1:9", "l2:4161/127.0.0.1:7"]
        );
        assert_eq!(zeta.remote_address, "127.0.0.1:9");
        let topics = zeta.topics.as_ref().unwrap();
        assert_eq!(
            topics[0],
            ProducerTopic {
                topic: "t1".into(),
                tombstoned: true
            }
        );
        assert_eq!(topics[1].topic, "t2");
        assert!(!zeta.out_of_date);
        assert_eq!(zeta.http_address(), "127.0.0.1:4151");
    }

    #[test]
    fn node_json_matches_the_capture_key_order() {
        let nodes = merge_lookupd_nodes(&[(
            "127.0.0.1:54655".to_string(),
            vec![peer(
                "127.0.0.1:49584",
                "nsq-host",
                60061,
                "1.3.0",
                &[("alpha", false)],
            )],
        )]);
        let json = String::from_utf8(nsq_http::json::to_vec(&nodes[0]).unwrap()).unwrap();
        assert_eq!(
            json,
            r#"{"remote_addresses":["127.0.0.1:54655/127.0.0.1:49584"],"remote_address":"127.0.0.1:49584","hostname":"nsq-host","broadcast_address":"127.0.0.1","tcp_port":60061,"http_port":60062,"version":"1.3.0","topics":[{"topic":"alpha","tombstoned":false}],"out_of_date":false}"#
        );
    }

    #[test]
    fn ipv6_addresses_are_bracketed() {
        assert_eq!(join_host_port("::1", 4151), "[::1]:4151");
        assert_eq!(join_host_port("host", 1), "host:1");
    }

    #[test]
    fn versions_compare_semantically() {
        let mut nodes = vec![
            Producer {
                version: "1.10.0".into(),
                ..Producer::default()
            },
            Producer {
                version: "1.9.9".into(),
                ..Producer::default()
            },
            Producer {
                version: "1.10.0-alpha".into(),
                ..Producer::default()
            },
            Producer {
                version: "garbage".into(),
                ..Producer::default()
            },
        ];
        mark_out_of_date(&mut nodes);
        let flags: Vec<bool> = nodes.iter().map(|p| p.out_of_date).collect();
        assert_eq!(flags, [false, true, true, false]);
    }
}
