//! The client side of IDENTIFY: the JSON body built from [`Config`] (the key
//! set go-nsq sends, nsqd-tcp.md §12) and the reading of nsqd's reply.

use bytes::Bytes;
use nsq_protocol::IdentifyResponse;
use serde::Deserialize;
use serde_json::json;

use crate::config::Config;

/// The IDENTIFY body: always with `feature_negotiation: true`.
pub fn identify_body(config: &Config) -> Bytes {
    let body = json!({
        "client_id": config.client_id,
        "hostname": config.hostname,
        "user_agent": config.user_agent,
        "short_id": config.client_id,
        "long_id": config.hostname,
        "tls_v1": config.tls.enabled,
        "deflate": config.deflate,
        "deflate_level": config.deflate_level,
        "snappy": config.snappy,
        "feature_negotiation": true,
        "heartbeat_interval": config.heartbeat_interval_ms,
        "sample_rate": config.sample_rate,
        "output_buffer_size": config.output_buffer_size,
        "output_buffer_timeout": config.output_buffer_timeout_ms,
        "msg_timeout": config.msg_timeout_ms,
    });
    Bytes::from(body.to_string())
}

/// The reply as read: any key may be missing (older servers, other
/// implementations); missing keys take the values nsqd would report.
#[derive(Deserialize)]
#[serde(default)]
struct Reply {
    max_rdy_count: i64,
    version: String,
    max_msg_timeout: i64,
    msg_timeout: i64,
    tls_v1: bool,
    deflate: bool,
    deflate_level: i64,
    max_deflate_level: i64,
    snappy: bool,
    sample_rate: i32,
    auth_required: bool,
    output_buffer_size: i64,
    output_buffer_timeout: i64,
}

impl Default for Reply {
    fn default() -> Self {
        Reply {
            max_rdy_count: 2500,
            version: String::new(),
            max_msg_timeout: 900_000,
            msg_timeout: 60_000,
            tls_v1: false,
            deflate: false,
            deflate_level: 6,
            max_deflate_level: 6,
            snappy: false,
            sample_rate: 0,
            auth_required: false,
            output_buffer_size: 16_384,
            output_buffer_timeout: 250,
        }
    }
}

/// What nsqd answered to IDENTIFY: `OK` (no negotiation: defaults are
/// assumed) or the negotiation JSON. Anything else is an error text.
pub fn parse_reply(data: &[u8]) -> Result<IdentifyResponse, String> {
    let reply: Reply = if data == b"OK" {
        Reply::default()
    } else if data.first() == Some(&b'{') {
        serde_json::from_slice(data).map_err(|e| e.to_string())?
    } else {
        return Err(format!(
            "expected OK or JSON, got {:?}",
            String::from_utf8_lossy(data)
        ));
    };
    Ok(IdentifyResponse {
        max_rdy_count: reply.max_rdy_count,
        version: reply.version,
        max_msg_timeout: reply.max_msg_timeout,
        msg_timeout: reply.msg_timeout,
        tls_v1: reply.tls_v1,
        deflate: reply.deflate,
        deflate_level: reply.deflate_level,
        max_deflate_level: reply.max_deflate_level,
        snappy: reply.snappy,
        sample_rate: reply.sample_rate,
        auth_required: reply.auth_required,
        output_buffer_size: reply.output_buffer_size,
        output_buffer_timeout: reply.output_buffer_timeout,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_go_nsq_keys() {
        let c = Config {
            user_agent: "ua/1".into(),
            msg_timeout_ms: 5000,
            ..Config::default()
        };
        let v: serde_json::Value = serde_json::from_slice(&identify_body(&c)).unwrap();
        for key in [
            "client_id",
            "hostname",
            "user_agent",
            "short_id",
            "long_id",
            "tls_v1",
            "deflate",
            "deflate_level",
            "snappy",
            "feature_negotiation",
            "heartbeat_interval",
            "sample_rate",
            "output_buffer_size",
            "output_buffer_timeout",
            "msg_timeout",
        ] {
            assert!(v.get(key).is_some(), "{key}");
        }
        assert_eq!(v["feature_negotiation"], true);
        assert_eq!(v["user_agent"], "ua/1");
        assert_eq!(v["msg_timeout"], 5000);
    }

    #[test]
    fn reply_json_and_ok() {
        let r = parse_reply(
            br#"{"max_rdy_count":100,"version":"1.3.0","msg_timeout":5000,"auth_required":true}"#,
        )
        .unwrap();
        assert_eq!(r.max_rdy_count, 100);
        assert_eq!(r.msg_timeout, 5000);
        assert!(r.auth_required);
        assert_eq!(r.max_msg_timeout, 900_000);
        let ok = parse_reply(b"OK").unwrap();
        assert_eq!(ok.max_rdy_count, 2500);
        assert!(parse_reply(b"garbage").is_err());
        assert!(parse_reply(b"{not json").is_err());
    }
}
