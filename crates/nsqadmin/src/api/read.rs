//! The read API (nsqadmin.md §4): GET handlers gathering the cluster.

use super::{reply, upstream_error, State};
use crate::cluster::Warnings;
use crate::producers::Producer;
use crate::stats::{ChannelStats, CounterStats, TopicStats};
use nsq_http::{ApiError, HandlerResult, RequestContext};
use serde::Serialize;
use std::collections::BTreeMap;

/// `GET /api/topics[?inactive=true]`.
pub async fn topics(st: State, req: RequestContext) -> HandlerResult {
    let query = req.query()?;
    let up = st.upstreams();
    let mut w = Warnings::default();
    if query.get("inactive") == Some("true") {
        #[derive(Serialize)]
        struct Inactive {
            topics: BTreeMap<String, Vec<String>>,
        }
        let topics = w.take(st.ci.inactive_topics(&up).await.map_err(upstream_error)?);
        return reply(Inactive { topics }, &w);
    }
    #[derive(Serialize)]
    struct Topics {
        topics: Option<Vec<String>>,
    }
    let topics = w.take(st.ci.topics(&up).await.map_err(upstream_error)?);
    reply(
        Topics {
            topics: (!topics.is_empty()).then_some(topics),
        },
        &w,
    )
}

/// `GET /api/topics/:topic`.
pub async fn topic(st: State, req: RequestContext) -> HandlerResult {
    let topic = req.param("topic").unwrap_or_default().to_string();
    let up = st.upstreams();
    let mut w = Warnings::default();
    let producers = w.take(
        st.ci
            .topic_producers(&up, &topic)
            .await
            .map_err(upstream_error)?,
    );
    let gathered = w.take(
        st.ci
            .nsqd_stats(&producers, Some(&topic), None, false)
            .await
            .map_err(upstream_error)?,
    );
    reply(TopicStats::aggregate(&topic, &gathered.topics), &w)
}

/// `GET /api/topics/:topic/:channel`.
pub async fn channel(st: State, req: RequestContext) -> HandlerResult {
    let topic = req.param("topic").unwrap_or_default().to_string();
    let channel = req.param("channel").unwrap_or_default().to_string();
    let up = st.upstreams();
    let mut w = Warnings::default();
    let producers = w.take(
        st.ci
            .topic_producers(&up, &topic)
            .await
            .map_err(upstream_error)?,
    );
    let mut gathered = w.take(
        st.ci
            .nsqd_stats(&producers, Some(&topic), Some(&channel), true)
            .await
            .map_err(upstream_error)?,
    );
    let stats: Option<ChannelStats> = gathered.channels.remove(&channel);
    reply(stats, &w)
}

/// `GET /api/nodes`.
pub async fn nodes(st: State, _req: RequestContext) -> HandlerResult {
    #[derive(Serialize)]
    struct Nodes {
        nodes: Option<Vec<Producer>>,
    }
    let mut w = Warnings::default();
    let nodes = w.take(
        st.ci
            .producers(&st.upstreams())
            .await
            .map_err(upstream_error)?,
    );
    reply(
        Nodes {
            nodes: (!nodes.is_empty()).then_some(nodes),
        },
        &w,
    )
}

/// `GET /api/nodes/:node`.
pub async fn node(st: State, req: RequestContext) -> HandlerResult {
    #[derive(Serialize)]
    struct Node {
        node: String,
        topics: Option<Vec<TopicStats>>,
        total_messages: i64,
        total_clients: i64,
    }
    let name = req.param("node").unwrap_or_default().to_string();
    let mut w = Warnings::default();
    let found = w.take(
        st.ci
            .find_node(&st.upstreams(), &name)
            .await
            .map_err(upstream_error)?,
    );
    let Some(producer) = found else {
        return Err(ApiError::not_found("NODE_NOT_FOUND"));
    };
    let gathered = w.take(
        st.ci
            .nsqd_stats(std::slice::from_ref(&producer), None, None, true)
            .await
            .map_err(upstream_error)?,
    );
    let total_messages = gathered
        .topics
        .iter()
        .map(|t| t.message_count)
        .fold(0i64, i64::saturating_add);
    let total_clients = gathered
        .topics
        .iter()
        .flat_map(|t| t.channels.iter().flatten())
        .map(|c| c.clients.as_ref().map_or(0, |l| l.len() as i64))
        .sum();
    let topics = gathered.topics;
    reply(
        Node {
            node: producer.http_address(),
            topics: (!topics.is_empty()).then_some(topics),
            total_messages,
            total_clients,
        },
        &w,
    )
}

/// `GET /api/counter`.
pub async fn counter(st: State, _req: RequestContext) -> HandlerResult {
    #[derive(Serialize)]
    struct Counter {
        stats: BTreeMap<String, CounterStats>,
    }
    let mut w = Warnings::default();
    let producers = w.take(
        st.ci
            .producers(&st.upstreams())
            .await
            .map_err(upstream_error)?,
    );
    let gathered = w.take(
        st.ci
            .nsqd_stats(&producers, None, None, false)
            .await
            .map_err(upstream_error)?,
    );
    reply(
        Counter {
            stats: gathered.counter(),
        },
        &w,
    )
}
