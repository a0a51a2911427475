//! `/pub` and `/mpub`.

use crate::nsqd::Nsqd;
use bytes::{Buf, Bytes};
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
    let defer = match query.get("defer") {
        None => Duration::ZERO,
        Some(raw) => {
            let ms: i64 = raw
                .parse()
                .map_err(|_| ApiError::bad_request("INVALID_DEFER"))?;
            let max_ms = nsqd.opts.max_req_timeout.as_millis() as i64;
            if !(0..=max_ms).contains(&ms) {
                return Err(ApiError::bad_request("INVALID_DEFER"));
            }
            Duration::from_millis(ms as u64)
        }
    };
    let topic = nsqd.topic_for_use(&topic_name).await;
    topic
        .publish(vec![req.body.clone()], defer)
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
    let binary = match req.query()?.get("binary") {
        None => false,
        Some("false") | Some("0") => false,
        Some(_) => true,
    };
    let topic = nsqd.topic_for_use(&topic_name).await;
    if req.body.len() as u64 > max_body {
        return Err(too_big("BODY_TOO_BIG"));
    }
    let bodies = if binary {
        parse_binary(req.body.clone(), max_body, max_msg)?
    } else {
        let mut bodies = Vec::new();
        let mut rest = req.body.clone();
        while !rest.is_empty() {
            let line = match rest.iter().position(|b| *b == b'\n') {
                Some(i) => {
                    let line = rest.split_to(i);
                    rest.advance(1);
                    line
                }
                None => std::mem::take(&mut rest),
            };
            if line.is_empty() {
                continue;
            }
            if line.len() as u64 > max_msg {
                return Err(too_big("MSG_TOO_BIG"));
            }
            bodies.push(line);
        }
        bodies
    };
    if !bodies.is_empty() {
        topic
            .publish(bodies, Duration::ZERO)
            .map_err(|_| exiting())?;
        nsqd.acknowledge().await;
    }
    Ok(Reply::text("OK"))
}

/// Binary MPUB body: `[u32 count]([u32 size][bytes])*`; the TCP MPUB rules.
fn parse_binary(mut body: Bytes, max_body: u64, max_msg: u64) -> Result<Vec<Bytes>, ApiError> {
    let bad_body = || too_big("BAD_BODY");
    let bad_message = || too_big("BAD_MESSAGE");
    if body.len() < 4 {
        return Err(bad_body());
    }
    let count = body.get_i32();
    let max_count = (max_body.saturating_sub(4) / 5) as i64;
    if count <= 0 || i64::from(count) > max_count {
        return Err(bad_body());
    }
    let mut bodies = Vec::with_capacity(count as usize);
    for _ in 0..count {
        if body.len() < 4 {
            return Err(bad_message());
        }
        let size = body.get_i32();
        if size <= 0 || size as u64 > max_msg || body.len() < size as usize {
            return Err(bad_message());
        }
        bodies.push(body.split_to(size as usize));
    }
    Ok(bodies)
}
