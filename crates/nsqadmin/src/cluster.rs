//! Gathering the cluster: parallel requests to every lookupd or nsqd, each
//! bounded by the client's timeouts. One failing peer never fails a whole
//! answer: its error is kept next to the partial result (and ends up in the
//! API's `"WARNING: ..."` message). Only when **every** peer of a step
//! fails is the step an error (`failed to query any nsqlookupd: ...`).

use crate::client::{UpstreamClient, UpstreamError};
use crate::producers::{join_host_port, merge_lookupd_nodes, Producer};
use crate::stats::Gathered;
use crate::upstream::{
    LookupdChannels, LookupdLookup, LookupdNodes, LookupdTopics, NsqdInfo, NsqdStats,
};
use futures::future::join_all;
use std::collections::{BTreeMap, BTreeSet};
use url::form_urlencoded::byte_serialize;

/// Where the topology comes from (decided per request from the current
/// lookupd list, which `PUT /config/nsqlookupd_http_addresses` may change).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upstreams {
    /// lookupd mode: nsqlookupd HTTP addresses.
    Lookupd(Vec<String>),
    /// nsqd mode: a fixed list of nsqd HTTP addresses.
    Nsqd(Vec<String>),
}

impl Upstreams {
    /// The lookupd addresses (empty in nsqd mode).
    pub fn lookupds(&self) -> &[String] {
        match self {
            Upstreams::Lookupd(l) => l,
            Upstreams::Nsqd(_) => &[],
        }
    }
}

/// A step that failed on every peer it asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("failed to query any {kind}: {}", errors.join("\n"))]
pub struct ClusterError {
    /// `nsqlookupd` or `nsqd`.
    pub kind: &'static str,
    /// Each peer's error.
    pub errors: Vec<String>,
}

/// A result together with the errors of the peers that did not answer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Partial<T> {
    /// What the other peers answered.
    pub value: T,
    /// One text per failed request.
    pub errors: Vec<String>,
}

/// The warnings of one API request: each failed step adds one group
/// (its errors joined by newlines); the message is
/// `WARNING: <group1>; <group2>` or `""`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Warnings(Vec<String>);

impl Warnings {
    /// Adds the errors of one step (nothing when there are none).
    pub fn add(&mut self, errors: &[String]) {
        if !errors.is_empty() {
            self.0.push(errors.join("\n"));
        }
    }

    /// Takes the value of a partial result, keeping its errors.
    pub fn take<T>(&mut self, partial: Partial<T>) -> T {
        self.add(&partial.errors);
        partial.value
    }

    /// The API `message` value.
    pub fn message(&self) -> String {
        if self.0.is_empty() {
            String::new()
        } else {
            format!("WARNING: {}", self.0.join("; "))
        }
    }

    /// Whether nothing failed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Percent-encodes a query value.
pub fn escape(value: &str) -> String {
    byte_serialize(value.as_bytes()).collect()
}

/// The cluster gatherer.
#[derive(Debug, Clone)]
pub struct ClusterInfo {
    client: UpstreamClient,
}

impl ClusterInfo {
    /// A gatherer using `client`.
    pub fn new(client: UpstreamClient) -> ClusterInfo {
        ClusterInfo { client }
    }

    /// The HTTP client.
    pub fn client(&self) -> &UpstreamClient {
        &self.client
    }

    async fn get_all<T: serde::de::DeserializeOwned>(
        &self,
        urls: Vec<String>,
    ) -> Vec<Result<T, UpstreamError>> {
        join_all(urls.iter().map(|u| {
            tracing::debug!("CI: querying {u}");
            self.client.get_json::<T>(u)
        }))
        .await
    }

    /// Topic names: the union over lookupds (`/topics`), or over the nsqd
    /// `/stats`, sorted.
    pub async fn topics(&self, up: &Upstreams) -> Result<Partial<Vec<String>>, ClusterError> {
        let mut names = BTreeSet::new();
        let mut errors = Vec::new();
        match up {
            Upstreams::Lookupd(addrs) => {
                let urls = addrs.iter().map(|a| format!("http://{a}/topics")).collect();
                for r in self.get_all::<LookupdTopics>(urls).await {
                    match r {
                        Ok(t) => names.extend(t.topics),
                        Err(e) => errors.push(e.to_string()),
                    }
                }
                check_any("nsqlookupd", addrs.len(), errors.clone())?;
            }
            Upstreams::Nsqd(addrs) => {
                let urls = addrs
                    .iter()
                    .map(|a| format!("http://{a}/stats?format=json&include_clients=false"))
                    .collect();
                for r in self.get_all::<NsqdStats>(urls).await {
                    match r {
                        Ok(s) => names.extend(s.topics.into_iter().flatten().map(|t| t.topic_name)),
                        Err(e) => errors.push(e.to_string()),
                    }
                }
                check_any("nsqd", addrs.len(), errors.clone())?;
            }
        }
        Ok(Partial {
            value: names.into_iter().collect(),
            errors,
        })
    }

    /// Topics without any producer in lookupd, with their lookupd channels
    /// (`/api/topics?inactive=true`). Empty in nsqd mode.
    pub async fn inactive_topics(
        &self,
        up: &Upstreams,
    ) -> Result<Partial<BTreeMap<String, Vec<String>>>, ClusterError> {
        let Upstreams::Lookupd(addrs) = up else {
            return Ok(Partial::default());
        };
        let topics = self.topics(up).await?;
        let mut errors = topics.errors;
        let checks = join_all(topics.value.iter().map(|t| async move {
            let lookups = self
                .get_all::<LookupdLookup>(
                    addrs
                        .iter()
                        .map(|a| format!("http://{a}/lookup?topic={}", escape(t)))
                        .collect(),
                )
                .await;
            let has_producers = lookups
                .iter()
                .any(|r| r.as_ref().is_ok_and(|l| !l.producers.is_empty()));
            if has_producers {
                return (t.clone(), None, Vec::new());
            }
            let mut errs = Vec::new();
            let mut channels = BTreeSet::new();
            let answers = self
                .get_all::<LookupdChannels>(
                    addrs
                        .iter()
                        .map(|a| format!("http://{a}/channels?topic={}", escape(t)))
                        .collect(),
                )
                .await;
            for r in answers {
                match r {
                    Ok(c) => channels.extend(c.channels),
                    Err(e) => errs.push(e.to_string()),
                }
            }
            (
                t.clone(),
                Some(channels.into_iter().collect::<Vec<_>>()),
                errs,
            )
        }))
        .await;
        let mut value = BTreeMap::new();
        for (topic, channels, errs) in checks {
            errors.extend(errs);
            if let Some(channels) = channels {
                value.insert(topic, channels);
            }
        }
        Ok(Partial { value, errors })
    }

    /// The nsqd that have `topic`: lookupd `/lookup` producers (merged on
    /// their HTTP address), or the listed nsqd whose `/stats` shows it.
    pub async fn topic_producers(
        &self,
        up: &Upstreams,
        topic: &str,
    ) -> Result<Partial<Vec<Producer>>, ClusterError> {
        match up {
            Upstreams::Lookupd(addrs) => {
                let urls = addrs
                    .iter()
                    .map(|a| format!("http://{a}/lookup?topic={}", escape(topic)))
                    .collect();
                let mut producers: Vec<Producer> = Vec::new();
                let mut errors = Vec::new();
                for r in self.get_all::<LookupdLookup>(urls).await {
                    match r {
                        Ok(l) => {
                            for peer in &l.producers {
                                let p = Producer::from_lookup(peer);
                                if !producers
                                    .iter()
                                    .any(|e| e.http_address() == p.http_address())
                                {
                                    producers.push(p);
                                }
                            }
                        }
                        Err(e) => errors.push(e.to_string()),
                    }
                }
                check_any("nsqlookupd", addrs.len(), errors.clone())?;
                Ok(Partial {
                    value: producers,
                    errors,
                })
            }
            Upstreams::Nsqd(addrs) => {
                let nodes = self.nsqd_nodes(addrs, Some(topic)).await?;
                Ok(Partial {
                    value: nodes
                        .value
                        .into_iter()
                        .filter(|(_, has_topic)| *has_topic)
                        .map(|(p, _)| p)
                        .collect(),
                    errors: nodes.errors,
                })
            }
        }
    }

    /// Every nsqd of the cluster (`/api/nodes`).
    pub async fn producers(&self, up: &Upstreams) -> Result<Partial<Vec<Producer>>, ClusterError> {
        match up {
            Upstreams::Lookupd(addrs) => {
                let urls = addrs.iter().map(|a| format!("http://{a}/nodes")).collect();
                let mut answers = Vec::new();
                let mut errors = Vec::new();
                for (addr, r) in addrs.iter().zip(self.get_all::<LookupdNodes>(urls).await) {
                    match r {
                        Ok(n) => answers.push((addr.clone(), n.producers)),
                        Err(e) => errors.push(e.to_string()),
                    }
                }
                check_any("nsqlookupd", addrs.len(), errors.clone())?;
                Ok(Partial {
                    value: merge_lookupd_nodes(&answers),
                    errors,
                })
            }
            Upstreams::Nsqd(addrs) => {
                let nodes = self.nsqd_nodes(addrs, None).await?;
                let mut value: Vec<Producer> = nodes.value.into_iter().map(|(p, _)| p).collect();
                value.sort_by(|a, b| {
                    (&a.hostname, a.http_address()).cmp(&(&b.hostname, b.http_address()))
                });
                Ok(Partial {
                    value,
                    errors: nodes.errors,
                })
            }
        }
    }

    /// nsqd mode: `/info` + `/stats` of each listed nsqd; the flag says
    /// whether it has `topic` (always true without a topic).
    async fn nsqd_nodes(
        &self,
        addrs: &[String],
        topic: Option<&str>,
    ) -> Result<Partial<Vec<(Producer, bool)>>, ClusterError> {
        let results = join_all(addrs.iter().map(|addr| async move {
            let info: NsqdInfo = self.client.get_json(&format!("http://{addr}/info")).await?;
            let url = match topic {
                Some(t) => format!(
                    "http://{addr}/stats?format=json&topic={}&include_clients=false",
                    escape(t)
                ),
                None => format!("http://{addr}/stats?format=json&include_clients=false"),
            };
            let stats: NsqdStats = self.client.get_json(&url).await?;
            let has_topic = match topic {
                Some(t) => stats.topics.iter().flatten().any(|x| x.topic_name == t),
                None => true,
            };
            Ok::<_, UpstreamError>((Producer::from_nsqd(addr, &info, Some(&stats)), has_topic))
        }))
        .await;
        let mut value = Vec::new();
        let mut errors = Vec::new();
        for r in results {
            match r {
                Ok(v) => value.push(v),
                Err(e) => errors.push(e.to_string()),
            }
        }
        check_any("nsqd", addrs.len(), errors.clone())?;
        Ok(Partial { value, errors })
    }

    /// `/stats` of `producers` (filtered to `topic`/`channel`), merged.
    /// No producers is an empty result, not an error.
    pub async fn nsqd_stats(
        &self,
        producers: &[Producer],
        topic: Option<&str>,
        channel: Option<&str>,
        include_clients: bool,
    ) -> Result<Partial<Gathered>, ClusterError> {
        let mut query = String::from("format=json");
        if let Some(t) = topic {
            query.push_str(&format!("&topic={}", escape(t)));
        }
        if let Some(c) = channel {
            query.push_str(&format!("&channel={}", escape(c)));
        }
        query.push_str(&format!("&include_clients={include_clients}"));
        let urls = producers
            .iter()
            .map(|p| format!("http://{}/stats?{query}", p.fetch_address()))
            .collect();
        let mut answered = Vec::new();
        let mut errors = Vec::new();
        for (p, r) in producers.iter().zip(self.get_all::<NsqdStats>(urls).await) {
            match r {
                Ok(s) => answered.push((p.clone(), s)),
                Err(e) => errors.push(e.to_string()),
            }
        }
        check_any("nsqd", producers.len(), errors.clone())?;
        Ok(Partial {
            value: Gathered::from_nodes(&answered, topic, unix_now()),
            errors,
        })
    }

    /// `POST <path>?<query>` on every lookupd; the errors of those that failed.
    pub async fn post_lookupds(&self, lookupds: &[String], path: &str, query: &str) -> Vec<String> {
        let urls: Vec<String> = lookupds
            .iter()
            .map(|a| format!("http://{a}{path}?{query}"))
            .collect();
        self.post_all(urls).await
    }

    /// `POST <path>?<query>` on every producer; the errors of those that failed.
    pub async fn post_producers(
        &self,
        producers: &[Producer],
        path: &str,
        query: &str,
    ) -> Vec<String> {
        let urls: Vec<String> = producers
            .iter()
            .map(|p| format!("http://{}{path}?{query}", p.fetch_address()))
            .collect();
        self.post_all(urls).await
    }

    async fn post_all(&self, urls: Vec<String>) -> Vec<String> {
        join_all(urls.iter().map(|u| {
            tracing::debug!("CI: POST {u}");
            self.client.post(u)
        }))
        .await
        .into_iter()
        .filter_map(|r| r.err().map(|e| e.to_string()))
        .collect()
    }

    /// The node named `node` (`broadcast_address:http_port`) among the
    /// cluster's nsqd, if present.
    pub async fn find_node(
        &self,
        up: &Upstreams,
        node: &str,
    ) -> Result<Partial<Option<Producer>>, ClusterError> {
        let all = self.producers(up).await?;
        let wanted = normalize_node(node);
        Ok(Partial {
            value: all.value.into_iter().find(|p| p.http_address() == wanted),
            errors: all.errors,
        })
    }
}

/// `host:port` with IPv6 brackets, so `::1:4151`-style names still match.
fn normalize_node(node: &str) -> String {
    match node.rsplit_once(':') {
        Some((host, port)) if host.contains(':') && !host.starts_with('[') => port
            .parse::<i64>()
            .map(|p| join_host_port(host, p))
            .unwrap_or_else(|_| node.to_string()),
        _ => node.to_string(),
    }
}

fn check_any(kind: &'static str, asked: usize, errors: Vec<String>) -> Result<(), ClusterError> {
    if asked > 0 && errors.len() >= asked {
        return Err(ClusterError { kind, errors });
    }
    if asked == 0 && kind == "nsqlookupd" {
        return Err(ClusterError { kind, errors });
    }
    Ok(())
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_group_errors_like_v1_3_0() {
        let mut w = Warnings::default();
        assert_eq!(w.message(), "");
        w.add(&[]);
        assert!(w.is_empty());
        w.add(&["a".into(), "b".into()]);
        w.add(&["c".into()]);
        assert_eq!(w.message(), "WARNING: a\nb; c");
    }

    #[test]
    fn total_failure_text() {
        let e = check_any("nsqlookupd", 1, vec!["got response 404".into()]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "failed to query any nsqlookupd: got response 404"
        );
        assert!(check_any("nsqd", 2, vec!["x".into()]).is_ok());
        assert!(check_any("nsqd", 0, vec![]).is_ok());
        assert!(check_any("nsqlookupd", 0, vec![]).is_err());
    }

    #[test]
    fn node_names_normalise_ipv6() {
        assert_eq!(normalize_node("::1:4151"), "[::1]:4151");
        assert_eq!(normalize_node("[::1]:4151"), "[::1]:4151");
        assert_eq!(normalize_node("h:1"), "h:1");
    }

    #[test]
    fn query_values_are_escaped() {
        assert_eq!(escape("a b&c#d"), "a+b%26c%23d");
    }
}
