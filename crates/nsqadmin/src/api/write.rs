//! The write API (nsqadmin.md §5): admin actions forwarded to every
//! nsqlookupd and/or every nsqd concerned, with notifications.
//!
//! Non-admin requests get `403 FORBIDDEN` before their body is read.
//! Failures of individual peers come back as `WARNING: ...`; only a failed
//! producer discovery (no lookupd answered) is a `502`.

use super::{reply, upstream_error, State};
use crate::acl::is_admin;
use crate::cluster::{escape, unix_now, Warnings};
use crate::notify::{self, AdminAction};
use nsq_http::{ApiError, HandlerResult, RequestContext, StatusCode};
use nsq_protocol::names::{is_valid_channel_name, is_valid_topic_name};
use serde::{Deserialize, Serialize};

#[derive(Serialize)]
struct Empty {}

fn require_admin(st: &State, req: &RequestContext) -> Result<(), ApiError> {
    if is_admin(&st.opts.admin_users, &st.opts.acl_http_header, &req.headers) {
        Ok(())
    } else {
        Err(ApiError::new(StatusCode::FORBIDDEN, "FORBIDDEN"))
    }
}

fn notify(st: &State, req: &RequestContext, action: &str, topic: &str, channel: &str, node: &str) {
    let doc = AdminAction::new(action, topic, channel, node, req, &st.hostname, unix_now());
    notify::send(st.ci.client(), &st.opts.notification_http_endpoint, doc);
}

/// Decodes a JSON body; the decoder's message is the 400 error text.
fn decode<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| e.to_string())
}

/// `POST /api/topics`: create a topic (and optionally a channel).
pub async fn create(st: State, req: RequestContext) -> HandlerResult {
    require_admin(&st, &req)?;
    #[derive(Deserialize)]
    struct Body {
        #[serde(default)]
        topic: Option<String>,
        #[serde(default)]
        channel: Option<String>,
    }
    let body: Body = decode(&req.body).map_err(ApiError::bad_request)?;
    let topic = body.topic.unwrap_or_default();
    let channel = body.channel.unwrap_or_default();
    if !is_valid_topic_name(&topic) {
        return Err(ApiError::bad_request("INVALID_TOPIC"));
    }
    if !channel.is_empty() && !is_valid_channel_name(&channel) {
        return Err(ApiError::bad_request("INVALID_CHANNEL"));
    }
    let up = st.upstreams();
    let lookupds = up.lookupds().to_vec();
    let mut errors = st
        .ci
        .post_lookupds(
            &lookupds,
            "/topic/create",
            &format!("topic={}", escape(&topic)),
        )
        .await;
    if !channel.is_empty() {
        let query = format!("topic={}&channel={}", escape(&topic), escape(&channel));
        errors.extend(
            st.ci
                .post_lookupds(&lookupds, "/channel/create", &query)
                .await,
        );
        // The producers come from lookupd even in nsqd mode, as in v1.3.0
        // (which then fails: there is no lookupd to ask).
        let lookupd_up = crate::cluster::Upstreams::Lookupd(lookupds.clone());
        let producers = st
            .ci
            .topic_producers(&lookupd_up, &topic)
            .await
            .map_err(upstream_error)?;
        errors.extend(producers.errors);
        errors.extend(
            st.ci
                .post_producers(&producers.value, "/channel/create", &query)
                .await,
        );
    }
    let mut w = Warnings::default();
    w.add(&errors);
    notify(&st, &req, "create_topic", &topic, "", "");
    if !channel.is_empty() {
        notify(&st, &req, "create_channel", &topic, &channel, "");
    }
    reply(Empty {}, &w)
}

/// `POST /api/topics/:topic` and `POST /api/topics/:topic/:channel`:
/// `{"action":"pause"|"unpause"|"empty"}`.
pub async fn action(st: State, req: RequestContext) -> HandlerResult {
    require_admin(&st, &req)?;
    #[derive(Deserialize)]
    struct Body {
        #[serde(default)]
        action: Option<String>,
    }
    let body: Body = decode(&req.body).map_err(ApiError::bad_request)?;
    let topic = req.param("topic").unwrap_or_default().to_string();
    let channel = req.param("channel").unwrap_or_default().to_string();
    let action = body.action.unwrap_or_default();
    if !matches!(action.as_str(), "pause" | "unpause" | "empty") {
        return Err(ApiError::bad_request("INVALID_ACTION"));
    }
    let (kind, query) = if channel.is_empty() {
        ("topic", format!("topic={}", escape(&topic)))
    } else {
        (
            "channel",
            format!("topic={}&channel={}", escape(&topic), escape(&channel)),
        )
    };
    let producers = st.ci.topic_producers(&st.upstreams(), &topic).await;
    // v1.3.0 notifies before looking at the outcome.
    notify(&st, &req, &format!("{action}_{kind}"), &topic, &channel, "");
    let producers = producers.map_err(upstream_error)?;
    let mut w = Warnings::default();
    w.add(&producers.errors);
    let errors = st
        .ci
        .post_producers(&producers.value, &format!("/{kind}/{action}"), &query)
        .await;
    w.add(&errors);
    reply(Empty {}, &w)
}

/// `DELETE /api/topics/:topic` and `DELETE /api/topics/:topic/:channel`.
pub async fn delete(st: State, req: RequestContext) -> HandlerResult {
    require_admin(&st, &req)?;
    let topic = req.param("topic").unwrap_or_default().to_string();
    let channel = req.param("channel").unwrap_or_default().to_string();
    let up = st.upstreams();
    let producers = st
        .ci
        .topic_producers(&up, &topic)
        .await
        .map_err(upstream_error)?;
    let (kind, query) = if channel.is_empty() {
        ("topic", format!("topic={}", escape(&topic)))
    } else {
        (
            "channel",
            format!("topic={}&channel={}", escape(&topic), escape(&channel)),
        )
    };
    let path = format!("/{kind}/delete");
    let mut errors = producers.errors;
    errors.extend(st.ci.post_lookupds(up.lookupds(), &path, &query).await);
    errors.extend(st.ci.post_producers(&producers.value, &path, &query).await);
    let mut w = Warnings::default();
    w.add(&errors);
    notify(&st, &req, &format!("delete_{kind}"), &topic, &channel, "");
    reply(Empty {}, &w)
}

/// `DELETE /api/nodes/:node` with `{"topic":..}`: tombstone the topic on
/// that node in every lookupd, then delete it on the node.
pub async fn tombstone(st: State, req: RequestContext) -> HandlerResult {
    require_admin(&st, &req)?;
    #[derive(Deserialize)]
    struct Body {
        #[serde(default)]
        topic: Option<String>,
    }
    let body: Body = decode(&req.body).map_err(|_| ApiError::bad_request("INVALID_BODY"))?;
    let topic = body.topic.unwrap_or_default();
    if !is_valid_topic_name(&topic) {
        return Err(ApiError::bad_request("INVALID_TOPIC"));
    }
    let node = req.param("node").unwrap_or_default().to_string();
    let up = st.upstreams();
    let mut errors = st
        .ci
        .post_lookupds(
            up.lookupds(),
            "/topic/tombstone",
            &format!("topic={}&node={}", escape(&topic), escape(&node)),
        )
        .await;
    // The node is addressed by its name, as v1.3.0 does.
    let target = crate::producers::Producer {
        fetch_address: Some(node.clone()),
        ..Default::default()
    };
    errors.extend(
        st.ci
            .post_producers(
                &[target],
                "/topic/delete",
                &format!("topic={}", escape(&topic)),
            )
            .await,
    );
    let mut w = Warnings::default();
    w.add(&errors);
    notify(&st, &req, "tombstone_topic_producer", &topic, "", &node);
    reply(Empty {}, &w)
}
