//! Admin-action notifications (`--notification-http-endpoint`,
//! nsqadmin.md §6.1): a JSON document POSTed in the background after each
//! action. The endpoint's answer is ignored; a failure is only logged (the
//! endpoint being down never affects the API or the process).

use crate::client::{base64_decode, UpstreamClient};
use nsq_http::RequestContext;
use serde::Serialize;

/// The document sent for one action (keys in v1.3.0's order; empty
/// `channel`, `node` and `user` are omitted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdminAction {
    /// e.g. `pause_channel`.
    pub action: String,
    /// Topic.
    pub topic: String,
    /// Channel, if the action concerns one.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub channel: String,
    /// Node (`tombstone_topic_producer` only).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub node: String,
    /// Unix seconds.
    pub timestamp: i64,
    /// HTTP Basic-auth user name of the request.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub user: String,
    /// The request's remote address, port included.
    pub remote_ip: String,
    /// The request's `User-Agent`.
    pub user_agent: String,
    /// The URL the action was requested at.
    pub url: String,
    /// nsqadmin's hostname.
    pub via: String,
}

impl AdminAction {
    /// Describes `action` on `topic`/`channel`/`node` requested by `req`.
    pub fn new(
        action: &str,
        topic: &str,
        channel: &str,
        node: &str,
        req: &RequestContext,
        via: &str,
        now: i64,
    ) -> AdminAction {
        let header = |name: &str| {
            req.headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        let scheme = if header("X-Scheme").eq_ignore_ascii_case("https") {
            "https"
        } else {
            "http"
        };
        let host = match header("Host") {
            h if h.is_empty() => req
                .uri
                .authority()
                .map(|a| a.to_string())
                .unwrap_or_default(),
            h => h,
        };
        AdminAction {
            action: action.to_string(),
            topic: topic.to_string(),
            channel: channel.to_string(),
            node: node.to_string(),
            timestamp: now,
            user: basic_auth_user(&header("Authorization")),
            remote_ip: req.remote_addr.map(|a| a.to_string()).unwrap_or_default(),
            user_agent: header("User-Agent"),
            url: format!("{scheme}://{host}{}", req.request_uri()),
            via: via.to_string(),
        }
    }
}

/// The user name of a `Basic` authorization header (`""` if none).
pub fn basic_auth_user(authorization: &str) -> String {
    let Some((scheme, token)) = authorization.trim().split_once(' ') else {
        return String::new();
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return String::new();
    }
    base64_decode(token.trim())
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|text| text.split_once(':').map(|(u, _)| u.to_string()))
        .unwrap_or_default()
}

/// Sends `action` to `endpoint` in the background (nothing when empty).
pub fn send(client: &UpstreamClient, endpoint: &str, action: AdminAction) {
    if endpoint.is_empty() {
        return;
    }
    let client = client.clone();
    let endpoint = endpoint.to_string();
    tokio::spawn(async move {
        let body = match nsq_http::json::to_vec(&action) {
            Ok(b) => b,
            Err(e) => {
                tracing::error!("failed to encode the admin action notification - {e}");
                return;
            }
        };
        if let Err(e) = client.post_json(&endpoint, body).await {
            tracing::error!("failed to send the admin action notification to {endpoint} - {e}");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_auth_user_is_extracted() {
        assert_eq!(basic_auth_user("Basic YWxpY2U6cHc="), "alice");
        assert_eq!(basic_auth_user("Bearer xyz"), "");
        assert_eq!(basic_auth_user("Basic !!!"), "");
        assert_eq!(basic_auth_user(""), "");
    }

    #[test]
    fn document_omits_empty_fields() {
        let a = AdminAction {
            action: "create_topic".into(),
            topic: "t".into(),
            channel: String::new(),
            node: String::new(),
            timestamp: 1,
            user: String::new(),
            remote_ip: "127.0.0.1:5".into(),
            user_agent: "ua".into(),
            url: "http://h/api/topics".into(),
            via: "vm".into(),
        };
        let json = String::from_utf8(nsq_http::json::to_vec(&a).unwrap()).unwrap();
        assert_eq!(
            json,
            r#"{"action":"create_topic","topic":"t","timestamp":1,"remote_ip":"127.0.0.1:5","user_agent":"ua","url":"http://h/api/topics","via":"vm"}"#
        );
    }
}
