//! What nsqadmin reads from its peers: nsqd's `/info` and `/stats` JSON
//! (nsqd-http.md §4, §7) and nsqlookupd's `/topics`, `/lookup`, `/nodes`
//! (nsqlookupd.md §4).
//!
//! Decoding is lenient like Go's `encoding/json`: unknown keys are ignored,
//! missing keys and `null` take the zero value. A value of the wrong type
//! fails the decode of that one peer's answer, which is then reported as
//! that peer's error.

use serde::{Deserialize, Deserializer};

/// Deserializes `null` as the type's default (Go leaves the zero value).
fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// nsqd `GET /info`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct NsqdInfo {
    /// e.g. `1.3.0`.
    #[serde(deserialize_with = "nullable")]
    pub version: String,
    /// `--broadcast-address`.
    #[serde(deserialize_with = "nullable")]
    pub broadcast_address: String,
    /// OS hostname.
    #[serde(deserialize_with = "nullable")]
    pub hostname: String,
    /// HTTP port.
    #[serde(deserialize_with = "nullable")]
    pub http_port: i64,
    /// TCP port.
    #[serde(deserialize_with = "nullable")]
    pub tcp_port: i64,
}

/// nsqd `GET /stats?format=json`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct NsqdStats {
    /// e.g. `1.3.0`.
    #[serde(deserialize_with = "nullable")]
    pub version: String,
    /// `OK` or `NOK - ...`.
    #[serde(deserialize_with = "nullable")]
    pub health: String,
    /// Unix seconds.
    #[serde(deserialize_with = "nullable")]
    pub start_time: i64,
    /// `null` when filtered to an unknown topic.
    pub topics: Option<Vec<NsqdTopic>>,
}

/// One topic of nsqd's `/stats`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct NsqdTopic {
    /// Name.
    #[serde(deserialize_with = "nullable")]
    pub topic_name: String,
    /// Channels (`[]` when none).
    pub channels: Option<Vec<NsqdChannel>>,
    /// Memory + disk depth.
    #[serde(deserialize_with = "nullable")]
    pub depth: i64,
    /// Disk depth.
    #[serde(deserialize_with = "nullable")]
    pub backend_depth: i64,
    /// Messages accepted since start.
    #[serde(deserialize_with = "nullable")]
    pub message_count: i64,
    /// Paused.
    #[serde(deserialize_with = "nullable")]
    pub paused: bool,
    /// Latency percentiles.
    #[serde(deserialize_with = "nullable")]
    pub e2e_processing_latency: NsqdLatency,
}

/// One channel of nsqd's `/stats`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct NsqdChannel {
    /// Name.
    #[serde(deserialize_with = "nullable")]
    pub channel_name: String,
    /// Memory + disk depth.
    #[serde(deserialize_with = "nullable")]
    pub depth: i64,
    /// Disk depth.
    #[serde(deserialize_with = "nullable")]
    pub backend_depth: i64,
    /// In flight.
    #[serde(deserialize_with = "nullable")]
    pub in_flight_count: i64,
    /// Deferred.
    #[serde(deserialize_with = "nullable")]
    pub deferred_count: i64,
    /// Messages received from the topic.
    #[serde(deserialize_with = "nullable")]
    pub message_count: i64,
    /// Requeues.
    #[serde(deserialize_with = "nullable")]
    pub requeue_count: i64,
    /// Timeouts.
    #[serde(deserialize_with = "nullable")]
    pub timeout_count: i64,
    /// Connected consumers.
    #[serde(deserialize_with = "nullable")]
    pub client_count: i64,
    /// Consumers; `null` with `include_clients=false`.
    pub clients: Option<Vec<NsqdClient>>,
    /// Paused.
    #[serde(deserialize_with = "nullable")]
    pub paused: bool,
    /// Latency percentiles.
    #[serde(deserialize_with = "nullable")]
    pub e2e_processing_latency: NsqdLatency,
}

/// One consumer connection of nsqd's `/stats`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
#[allow(missing_docs)]
pub struct NsqdClient {
    #[serde(deserialize_with = "nullable")]
    pub client_id: String,
    #[serde(deserialize_with = "nullable")]
    pub hostname: String,
    #[serde(deserialize_with = "nullable")]
    pub version: String,
    #[serde(deserialize_with = "nullable")]
    pub remote_address: String,
    #[serde(deserialize_with = "nullable")]
    pub ready_count: i64,
    #[serde(deserialize_with = "nullable")]
    pub in_flight_count: i64,
    #[serde(deserialize_with = "nullable")]
    pub message_count: i64,
    #[serde(deserialize_with = "nullable")]
    pub finish_count: i64,
    #[serde(deserialize_with = "nullable")]
    pub requeue_count: i64,
    #[serde(deserialize_with = "nullable")]
    pub connect_ts: i64,
    #[serde(deserialize_with = "nullable")]
    pub sample_rate: i64,
    #[serde(deserialize_with = "nullable")]
    pub deflate: bool,
    #[serde(deserialize_with = "nullable")]
    pub snappy: bool,
    #[serde(deserialize_with = "nullable")]
    pub user_agent: String,
    #[serde(deserialize_with = "nullable")]
    pub authed: bool,
    #[serde(deserialize_with = "nullable")]
    pub auth_identity: String,
    #[serde(deserialize_with = "nullable")]
    pub auth_identity_url: String,
    #[serde(deserialize_with = "nullable")]
    pub tls: bool,
    #[serde(deserialize_with = "nullable")]
    pub tls_cipher_suite: String,
    #[serde(deserialize_with = "nullable")]
    pub tls_version: String,
    #[serde(deserialize_with = "nullable")]
    pub tls_negotiated_protocol: String,
    #[serde(deserialize_with = "nullable")]
    pub tls_negotiated_protocol_is_mutual: bool,
}

/// nsqd's `e2e_processing_latency` object.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct NsqdLatency {
    /// Samples in the window.
    #[serde(deserialize_with = "nullable")]
    pub count: i64,
    /// `null` when no percentiles are configured.
    pub percentiles: Option<Vec<NsqdPercentile>>,
}

/// One `{"quantile":..,"value":..}` entry.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct NsqdPercentile {
    /// e.g. `0.99`.
    #[serde(deserialize_with = "nullable")]
    pub quantile: f64,
    /// Nanoseconds.
    #[serde(deserialize_with = "nullable")]
    pub value: f64,
}

/// nsqlookupd `GET /topics`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct LookupdTopics {
    /// Topic names.
    #[serde(deserialize_with = "nullable")]
    pub topics: Vec<String>,
}

/// nsqlookupd `GET /channels?topic=`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct LookupdChannels {
    /// Channel names.
    #[serde(deserialize_with = "nullable")]
    pub channels: Vec<String>,
}

/// nsqlookupd `GET /lookup?topic=`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct LookupdLookup {
    /// Channel names of the topic.
    #[serde(deserialize_with = "nullable")]
    pub channels: Vec<String>,
    /// Active, non-tombstoned producers of the topic.
    #[serde(deserialize_with = "nullable")]
    pub producers: Vec<LookupdPeer>,
}

/// nsqlookupd `GET /nodes`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct LookupdNodes {
    /// Every registered nsqd.
    #[serde(deserialize_with = "nullable")]
    pub producers: Vec<LookupdPeer>,
}

/// One nsqd as nsqlookupd describes it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct LookupdPeer {
    /// The nsqd's address as lookupd sees the connection.
    #[serde(deserialize_with = "nullable")]
    pub remote_address: String,
    /// OS hostname.
    #[serde(deserialize_with = "nullable")]
    pub hostname: String,
    /// Address to reach it at.
    #[serde(deserialize_with = "nullable")]
    pub broadcast_address: String,
    /// TCP port.
    #[serde(deserialize_with = "nullable")]
    pub tcp_port: i64,
    /// HTTP port.
    #[serde(deserialize_with = "nullable")]
    pub http_port: i64,
    /// NSQ version.
    #[serde(deserialize_with = "nullable")]
    pub version: String,
    /// `/nodes` only: tombstone flags, parallel to `topics`.
    #[serde(deserialize_with = "nullable")]
    pub tombstones: Vec<bool>,
    /// `/nodes` only: topics this nsqd produces.
    #[serde(deserialize_with = "nullable")]
    pub topics: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nulls_and_unknown_keys_are_tolerated() {
        let s: NsqdStats = serde_json::from_str(
            r#"{"version":"1.3.0","health":null,"extra":1,"topics":[{"topic_name":"t",
            "channels":[{"channel_name":"c","clients":null,"depth":3}],"e2e_processing_latency":
            {"count":0,"percentiles":null}}],"memory":{},"producers":null}"#,
        )
        .unwrap();
        let topics = s.topics.unwrap();
        assert_eq!(topics[0].topic_name, "t");
        let chans = topics[0].channels.as_ref().unwrap();
        assert_eq!(chans[0].depth, 3);
        assert!(chans[0].clients.is_none());
        assert_eq!(s.health, "");
    }

    #[test]
    fn wrong_types_fail_instead_of_panicking() {
        assert!(serde_json::from_str::<NsqdStats>(r#"{"topics":"x"}"#).is_err());
        assert!(serde_json::from_str::<LookupdNodes>(r#"[1,2]"#).is_err());
        let n: LookupdNodes = serde_json::from_str(r#"{"producers":null}"#).unwrap();
        assert!(n.producers.is_empty());
    }
}
