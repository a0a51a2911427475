//! The HTTP API (nsqlookupd v1.3.0 routes, shapes and error codes).

use crate::registration_db::{filter_active, now_ns, Category, Producer, Registration};
use crate::Context;
use nsq_http::{ApiError, Reply, RequestContext, Router};
use nsq_protocol::names::{is_valid_channel_name, is_valid_topic_name};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

type State = Arc<Context>;
type HttpResult = Result<Reply, ApiError>;

/// The route table.
pub(crate) fn router(ctx: State) -> Router<State> {
    Router::new(ctx)
        .get("/ping", ping)
        .get("/info", info)
        .get("/debug", debug)
        .get("/lookup", lookup)
        .get("/topics", topics)
        .get("/channels", channels)
        .get("/nodes", nodes)
        .post("/topic/create", topic_create)
        .post("/topic/delete", topic_delete)
        .post("/channel/create", channel_create)
        .post("/channel/delete", channel_delete)
        .post("/topic/tombstone", topic_tombstone)
        .get("/metrics", crate::metrics::handler())
}

async fn ping(_: State, _: RequestContext) -> HttpResult {
    Ok(Reply::plain("OK"))
}

async fn info(_: State, _: RequestContext) -> HttpResult {
    #[derive(Serialize)]
    struct Info {
        version: &'static str,
    }
    Reply::json(&Info {
        version: crate::VERSION,
    })
}

/// A producer in `/lookup` (key order as v1.3.0).
#[derive(Serialize)]
struct PeerJson<'a> {
    remote_address: &'a str,
    hostname: &'a str,
    broadcast_address: &'a str,
    tcp_port: i64,
    http_port: i64,
    version: &'a str,
}

impl<'a> PeerJson<'a> {
    fn of(p: &'a Producer) -> Self {
        PeerJson {
            remote_address: &p.peer.remote_address,
            hostname: &p.peer.hostname,
            broadcast_address: &p.peer.broadcast_address,
            tcp_port: p.peer.tcp_port,
            http_port: p.peer.http_port,
            version: &p.peer.version,
        }
    }
}

fn topic_param(req: &RequestContext) -> Result<String, ApiError> {
    let query = req.query()?;
    Ok(query.require("topic", "MISSING_ARG_TOPIC")?.to_string())
}

/// `topic` and `channel`, both present and valid (in this order of checks).
fn topic_channel_params(req: &RequestContext) -> Result<(String, String), ApiError> {
    let query = req.query()?;
    let topic = query.require("topic", "MISSING_ARG_TOPIC")?;
    if !is_valid_topic_name(topic) {
        return Err(ApiError::bad_request("INVALID_ARG_TOPIC"));
    }
    let channel = query.require("channel", "MISSING_ARG_CHANNEL")?;
    if !is_valid_channel_name(channel) {
        return Err(ApiError::bad_request("INVALID_ARG_CHANNEL"));
    }
    Ok((topic.to_string(), channel.to_string()))
}

fn subkeys(regs: Vec<Registration>) -> Vec<String> {
    regs.into_iter().map(|r| r.subkey).collect()
}

async fn lookup(ctx: State, req: RequestContext) -> HttpResult {
    let topic = topic_param(&req)?;
    if ctx
        .db
        .find_registrations(Category::Topic, &topic, "")
        .is_empty()
    {
        return Err(ApiError::not_found("TOPIC_NOT_FOUND"));
    }
    let channels = subkeys(ctx.db.find_registrations(Category::Channel, &topic, "*"));
    let producers = filter_active(
        ctx.db.find_producers(Category::Topic, &topic, ""),
        ctx.opts.inactive_producer_timeout,
        ctx.opts.tombstone_lifetime,
        now_ns(),
    );
    #[derive(Serialize)]
    struct Lookup<'a> {
        channels: Vec<String>,
        producers: Vec<PeerJson<'a>>,
    }
    Reply::json(&Lookup {
        channels,
        producers: producers.iter().map(PeerJson::of).collect(),
    })
}

async fn topics(ctx: State, _: RequestContext) -> HttpResult {
    let topics: Vec<String> = ctx
        .db
        .find_registrations(Category::Topic, "*", "")
        .into_iter()
        .map(|r| r.key)
        .collect();
    Reply::json(&BTreeMap::from([("topics", topics)]))
}

async fn channels(ctx: State, req: RequestContext) -> HttpResult {
    let topic = topic_param(&req)?;
    let channels = subkeys(ctx.db.find_registrations(Category::Channel, &topic, "*"));
    Reply::json(&BTreeMap::from([("channels", channels)]))
}

async fn nodes(ctx: State, _: RequestContext) -> HttpResult {
    #[derive(Serialize)]
    struct Node<'a> {
        #[serde(flatten)]
        peer: PeerJson<'a>,
        tombstones: Vec<bool>,
        topics: Vec<String>,
    }
    let now = now_ns();
    // Tombstones do not hide nodes here (lifetime zero in the filter).
    let producers = filter_active(
        ctx.db.find_producers(Category::Client, "", ""),
        ctx.opts.inactive_producer_timeout,
        std::time::Duration::ZERO,
        now,
    );
    let nodes: Vec<Node> = producers
        .iter()
        .map(|p| {
            let (topics, tombstones) = ctx
                .db
                .topics_of(&p.peer.id, ctx.opts.tombstone_lifetime, now)
                .into_iter()
                .unzip();
            Node {
                peer: PeerJson::of(p),
                tombstones,
                topics,
            }
        })
        .collect();
    Reply::json(&BTreeMap::from([("producers", nodes)]))
}

async fn debug(ctx: State, _: RequestContext) -> HttpResult {
    /// One producer in `/debug` (sorted keys, as Go encodes a map).
    #[derive(Serialize)]
    struct DebugProducer<'a> {
        broadcast_address: &'a str,
        hostname: &'a str,
        http_port: i64,
        id: &'a str,
        last_update: i64,
        tcp_port: i64,
        tombstoned: bool,
        tombstoned_at: i64,
        version: &'a str,
    }
    let snapshot = ctx.db.snapshot();
    let mut out: BTreeMap<String, Vec<DebugProducer>> = BTreeMap::new();
    for (reg, producers) in &snapshot {
        let entries = out.entry(reg.to_string()).or_default();
        for p in producers {
            entries.push(DebugProducer {
                broadcast_address: &p.peer.broadcast_address,
                hostname: &p.peer.hostname,
                http_port: p.peer.http_port,
                id: &p.peer.id,
                last_update: p.peer.last_update(),
                tcp_port: p.peer.tcp_port,
                tombstoned: p.tombstoned,
                tombstoned_at: p
                    .tombstoned_at
                    .unwrap_or(crate::registration_db::GO_ZERO_TIME_UNIX_NANO),
                version: &p.peer.version,
            });
        }
    }
    Reply::json(&out)
}

async fn topic_create(ctx: State, req: RequestContext) -> HttpResult {
    let topic = topic_param(&req)?;
    if !is_valid_topic_name(&topic) {
        return Err(ApiError::bad_request("INVALID_ARG_TOPIC"));
    }
    tracing::info!("DB: adding topic({topic})");
    ctx.db.add_registration(Registration::topic(&topic));
    Ok(Reply::Empty)
}

async fn topic_delete(ctx: State, req: RequestContext) -> HttpResult {
    let topic = topic_param(&req)?;
    for reg in ctx.db.find_registrations(Category::Channel, &topic, "*") {
        tracing::info!("DB: removing channel({}) from topic({topic})", reg.subkey);
        ctx.db.remove_registration(&reg);
    }
    for reg in ctx.db.find_registrations(Category::Topic, &topic, "") {
        tracing::info!("DB: removing topic({topic})");
        ctx.db.remove_registration(&reg);
    }
    Ok(Reply::Empty)
}

async fn channel_create(ctx: State, req: RequestContext) -> HttpResult {
    let (topic, channel) = topic_channel_params(&req)?;
    tracing::info!("DB: adding channel({channel}) in topic({topic})");
    ctx.db
        .add_registration(Registration::channel(&topic, &channel));
    tracing::info!("DB: adding topic({topic})");
    ctx.db.add_registration(Registration::topic(&topic));
    Ok(Reply::Empty)
}

async fn channel_delete(ctx: State, req: RequestContext) -> HttpResult {
    let (topic, channel) = topic_channel_params(&req)?;
    let regs = ctx
        .db
        .find_registrations(Category::Channel, &topic, &channel);
    if regs.is_empty() {
        return Err(ApiError::not_found("CHANNEL_NOT_FOUND"));
    }
    tracing::info!("DB: removing channel({channel}) from topic({topic})");
    for reg in regs {
        ctx.db.remove_registration(&reg);
    }
    Ok(Reply::Empty)
}

async fn topic_tombstone(ctx: State, req: RequestContext) -> HttpResult {
    let query = req.query()?;
    let topic = query.require("topic", "MISSING_ARG_TOPIC")?;
    let node = query.require("node", "MISSING_ARG_NODE")?;
    tracing::info!("DB: setting tombstone for producer@{node} of topic({topic})");
    ctx.db.tombstone(topic, node, now_ns());
    Ok(Reply::Empty)
}
