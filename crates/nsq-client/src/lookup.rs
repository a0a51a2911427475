//! nsqlookupd's HTTP API as a client uses it: `/lookup?topic=` for the nsqd
//! nodes that carry a topic, `/topics` for topic discovery
//! (nsqlookupd.md §4).

use serde::Deserialize;

use crate::error::LookupError;
use crate::http::{base_url, HttpClient};

/// One nsqd as nsqlookupd lists it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LookupProducer {
    /// Address nsqd advertises (`--broadcast-address`).
    #[serde(default)]
    pub broadcast_address: String,
    /// Older servers' field, used when `broadcast_address` is missing.
    #[serde(default)]
    pub address: String,
    /// nsqd's hostname.
    #[serde(default)]
    pub hostname: String,
    /// nsqd's TCP port.
    pub tcp_port: u16,
    /// nsqd's HTTP port.
    #[serde(default)]
    pub http_port: u16,
    /// nsqd's version.
    #[serde(default)]
    pub version: String,
}

impl LookupProducer {
    fn host(&self) -> &str {
        if self.broadcast_address.is_empty() {
            &self.address
        } else {
            &self.broadcast_address
        }
    }

    /// `host:port` of nsqd's TCP listener (IPv6 hosts bracketed).
    pub fn tcp_address(&self) -> String {
        join_host_port(self.host(), self.tcp_port)
    }

    /// `host:port` of nsqd's HTTP listener.
    pub fn http_address(&self) -> String {
        join_host_port(self.host(), self.http_port)
    }
}

/// `host:port`, bracketing IPv6 literals like Go's `net.JoinHostPort`.
pub fn join_host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

#[derive(Deserialize)]
struct LookupBody {
    #[serde(default)]
    producers: Vec<LookupProducer>,
}

#[derive(Deserialize)]
struct TopicsBody {
    #[serde(default)]
    topics: Vec<String>,
}

/// Accepts both the v1 body and the pre-1.0 `{"data": ...}` wrapper.
fn unwrap_data(mut value: serde_json::Value) -> serde_json::Value {
    match value.get_mut("data") {
        Some(inner) if inner.is_object() => inner.take(),
        _ => value,
    }
}

async fn get_json<T: serde::de::DeserializeOwned>(
    http: &HttpClient,
    url: String,
    not_found_is_empty: bool,
) -> Result<Option<T>, LookupError> {
    let response = http.get(&url).await.map_err(|source| LookupError::Http {
        url: url.clone(),
        source,
    })?;
    if not_found_is_empty && response.status == 404 {
        return Ok(None);
    }
    if response.status != 200 {
        return Err(LookupError::Status {
            url,
            status: response.status,
            body: response.text(),
        });
    }
    let value: serde_json::Value =
        serde_json::from_slice(&response.body).map_err(|e| LookupError::BadJson {
            url: url.clone(),
            detail: e.to_string(),
        })?;
    serde_json::from_value(unwrap_data(value))
        .map(Some)
        .map_err(|e| LookupError::BadJson {
            url,
            detail: e.to_string(),
        })
}

/// The nsqd nodes nsqlookupd at `lookupd` lists for `topic` (empty when
/// the topic is unknown there).
pub async fn lookup(
    http: &HttpClient,
    lookupd: &str,
    topic: &str,
) -> Result<Vec<LookupProducer>, LookupError> {
    let url = format!("{}/lookup?topic={}", base_url(lookupd), query_escape(topic));
    Ok(get_json::<LookupBody>(http, url, true)
        .await?
        .map(|b| b.producers)
        .unwrap_or_default())
}

/// Every topic nsqlookupd at `lookupd` knows.
pub async fn topics(http: &HttpClient, lookupd: &str) -> Result<Vec<String>, LookupError> {
    let url = format!("{}/topics", base_url(lookupd));
    Ok(get_json::<TopicsBody>(http, url, false)
        .await?
        .map(|b| b.topics)
        .unwrap_or_default())
}

/// Go's `url.QueryEscape`: unreserved bytes kept, space as `+`, the rest `%XX`.
pub fn query_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn producer_addresses() {
        let p: LookupProducer = serde_json::from_str(
            r#"{"remote_address":"127.0.0.1:5","hostname":"h","broadcast_address":"10.0.0.1","tcp_port":4150,"http_port":4151,"version":"1.3.0"}"#,
        )
        .unwrap();
        assert_eq!(p.tcp_address(), "10.0.0.1:4150");
        assert_eq!(p.http_address(), "10.0.0.1:4151");
        let old: LookupProducer =
            serde_json::from_str(r#"{"address":"::1","tcp_port":1}"#).unwrap();
        assert_eq!(old.tcp_address(), "[::1]:1");
    }

    #[test]
    fn data_wrapper_is_accepted() {
        let v = serde_json::json!({"data": {"producers": []}});
        assert!(unwrap_data(v).get("producers").is_some());
        let v = serde_json::json!({"producers": [], "data": 1});
        assert!(unwrap_data(v).get("producers").is_some());
    }

    #[test]
    fn query_escape_like_go() {
        assert_eq!(query_escape("a b&c=d/é"), "a+b%26c%3Dd%2F%C3%A9");
        assert_eq!(query_escape("t.1_-~"), "t.1_-~");
    }
}
