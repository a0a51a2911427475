//! `/pub` and `/mpub`.

use super::body;
use crate::nsqd::Nsqd;
use nsq_http::{ApiError, Reply, RequestContext, StatusCode};
use std::sync::Arc;
use std::time::Duration;

fn too_big(code: &'static str) -> ApiError {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, code)
}

fn content_length(req: &RequestContext) -> Option<u64> {
    req.headers
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// The `topic` parameter, validated (`MISSING_ARG_TOPIC`, `INVALID_TOPIC`).
fn topic_param(req: &RequestContext) -> Result<String, ApiError> {
    let query = req.query()?;
    let topic = query.require("topic", "MISSING_ARG_TOPIC")?;
    if !nsq_protocol::is_valid_topic_name(topic) {
        return Err(ApiError::bad_request("INVALID_TOPIC"));
    }
    Ok(topic.to_string())
}

fn exiting() -> ApiError {
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "EXITING")
}

/// `POST /pub?topic=<t>[&defer=<ms>]`: one message. Body checks come before topic checks.
pub async fn publish(nsqd: Arc<Nsqd>, req: RequestContext) -> Result<Reply, ApiError> {
    let max = nsqd.opts.max_msg_size.max(0) as u64;
    if content_length(&req).is_some_and(|n| n > max) || req.body.len() as u64 > max {
        return Err(too_big("MSG_TOO_BIG"));
    }
    if req.body.is_empty() {
        return Err(ApiError::bad_request("MSG_EMPTY"));
    }
    let topic_name = topic_param(&req)?;
    let query = req.query()?;
    let max_ms = i64::try_from(nsqd.opts.max_req_timeout.as_millis()).unwrap_or(i64::MAX);
    let defer = body::parse_defer(query.get("defer"), max_ms)?;
    let topic = nsqd.topic_for_use(&topic_name).await;
    nsqd.publish(&topic, vec![req.body.clone()], defer)
        .map_err(|_| exiting())?;
    nsqd.acknowledge().await;
    Ok(Reply::text("OK"))
}

/// `POST /mpub?topic=<t>[&binary=true]`: several messages, newline-separated or binary.
pub async fn multi_publish(nsqd: Arc<Nsqd>, req: RequestContext) -> Result<Reply, ApiError> {
    let max_body = nsqd.opts.max_body_size.max(0) as u64;
    let max_msg = nsqd.opts.max_msg_size.max(0) as u64;
    if content_length(&req).is_some_and(|n| n > max_body) {
        return Err(too_big("BODY_TOO_BIG"));
    }
    let topic_name = topic_param(&req)?;
    let format = body::MpubFormat::from_param(req.query()?.get("binary"));
    let topic = nsqd.topic_for_use(&topic_name).await;
    if req.body.len() as u64 > max_body {
        return Err(too_big("BODY_TOO_BIG"));
    }
    let bodies = body::parse_mpub_body(req.body.clone(), format, max_body, max_msg)?;
    if !bodies.is_empty() {
        nsqd.publish(&topic, bodies, Duration::ZERO)
            .map_err(|_| exiting())?;
        nsqd.acknowledge().await;
    }
    Ok(Reply::text("OK"))
}
