//! Topic and channel management: create, delete, empty, pause, unpause.
//! Error spellings differ between topic and channel routes, as in v1.3.0.

use crate::channel::Channel;
use crate::nsqd::Nsqd;
use crate::topic::Topic;
use nsq_http::{ApiError, Reply, RequestContext};
use std::sync::Arc;

type Answer = Result<Reply, ApiError>;

/// `topic` for the topic routes; `validate` applies the name rule (`INVALID_TOPIC`).
fn topic_name(req: &RequestContext, validate: bool) -> Result<String, ApiError> {
    let query = req.query()?;
    let name = query.require("topic", "MISSING_ARG_TOPIC")?;
    if validate && !nsq_protocol::is_valid_topic_name(name) {
        return Err(ApiError::bad_request("INVALID_TOPIC"));
    }
    Ok(name.to_string())
}

fn existing_topic(nsqd: &Nsqd, name: &str) -> Result<Arc<Topic>, ApiError> {
    nsqd.topic(name)
        .ok_or_else(|| ApiError::not_found("TOPIC_NOT_FOUND"))
}

/// `topic` + `channel` for the channel routes, validated, and the existing topic.
fn channel_args(nsqd: &Nsqd, req: &RequestContext) -> Result<(Arc<Topic>, String), ApiError> {
    let query = req.query()?;
    let topic = query.require("topic", "MISSING_ARG_TOPIC")?;
    if !nsq_protocol::is_valid_topic_name(topic) {
        return Err(ApiError::bad_request("INVALID_ARG_TOPIC"));
    }
    let channel = query.require("channel", "MISSING_ARG_CHANNEL")?;
    if !nsq_protocol::is_valid_channel_name(channel) {
        return Err(ApiError::bad_request("INVALID_ARG_CHANNEL"));
    }
    Ok((existing_topic(nsqd, topic)?, channel.to_string()))
}

fn existing_channel(
    nsqd: &Nsqd,
    req: &RequestContext,
) -> Result<(Arc<Topic>, Arc<Channel>), ApiError> {
    let (topic, name) = channel_args(nsqd, req)?;
    let channel = topic
        .channel(&name)
        .ok_or_else(|| ApiError::not_found("CHANNEL_NOT_FOUND"))?;
    Ok((topic, channel))
}

/// `POST /topic/create`.
pub async fn topic_create(nsqd: Arc<Nsqd>, req: RequestContext) -> Answer {
    let name = topic_name(&req, true)?;
    nsqd.topic_for_use(&name).await;
    Ok(Reply::Empty)
}

/// `POST /topic/delete` (no name validation, as in v1.3.0).
pub async fn topic_delete(nsqd: Arc<Nsqd>, req: RequestContext) -> Answer {
    let name = topic_name(&req, false)?;
    if !nsqd.delete_topic(&name) {
        return Err(ApiError::not_found("TOPIC_NOT_FOUND"));
    }
    Ok(Reply::Empty)
}

/// `POST /topic/empty`.
pub async fn topic_empty(nsqd: Arc<Nsqd>, req: RequestContext) -> Answer {
    let name = topic_name(&req, true)?;
    existing_topic(&nsqd, &name)?.empty();
    Ok(Reply::Empty)
}

/// `POST /topic/pause`.
pub async fn topic_pause(nsqd: Arc<Nsqd>, req: RequestContext) -> Answer {
    set_topic_paused(&nsqd, &req, true)
}

/// `POST /topic/unpause`.
pub async fn topic_unpause(nsqd: Arc<Nsqd>, req: RequestContext) -> Answer {
    set_topic_paused(&nsqd, &req, false)
}

fn set_topic_paused(nsqd: &Nsqd, req: &RequestContext, paused: bool) -> Answer {
    let name = topic_name(req, false)?;
    existing_topic(nsqd, &name)?.set_paused(paused);
    nsqd.metadata_changed();
    Ok(Reply::Empty)
}

/// `POST /channel/create` (the topic must exist).
pub async fn channel_create(nsqd: Arc<Nsqd>, req: RequestContext) -> Answer {
    let (topic, name) = channel_args(&nsqd, &req)?;
    nsqd.get_or_create_channel(&topic, &name)
        .map_err(|_| ApiError::internal("INTERNAL_ERROR"))?;
    Ok(Reply::Empty)
}

/// `POST /channel/delete`: clients of the channel are disconnected.
pub async fn channel_delete(nsqd: Arc<Nsqd>, req: RequestContext) -> Answer {
    let (topic, channel) = existing_channel(&nsqd, &req)?;
    nsqd.delete_channel(&topic, &channel.name);
    Ok(Reply::Empty)
}

/// `POST /channel/empty`.
pub async fn channel_empty(nsqd: Arc<Nsqd>, req: RequestContext) -> Answer {
    let (_, channel) = existing_channel(&nsqd, &req)?;
    channel.empty();
    Ok(Reply::Empty)
}

/// `POST /channel/pause`.
pub async fn channel_pause(nsqd: Arc<Nsqd>, req: RequestContext) -> Answer {
    let (_, channel) = existing_channel(&nsqd, &req)?;
    channel.set_paused(true);
    nsqd.metadata_changed();
    Ok(Reply::Empty)
}

/// `POST /channel/unpause`.
pub async fn channel_unpause(nsqd: Arc<Nsqd>, req: RequestContext) -> Answer {
    let (_, channel) = existing_channel(&nsqd, &req)?;
    channel.set_paused(false);
    nsqd.metadata_changed();
    Ok(Reply::Empty)
}
