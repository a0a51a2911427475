//! `GET /api/history[?topic=<t>[&channel=<c>]]`: the depth and message
//! rate samples nsqadmin took itself, for the charts (no Graphite needed).
//! Without a topic: cluster totals. An addition to the v1.3.0 API.
//!
//! ```json
//! {"topic":"t","channel":"","interval":5,"samples":[{"ts":1700000000,"depth":3,
//!  "in_flight":0,"message_count":10,"rate":1.2}],"message":""}
//! ```

use super::{reply, State};
use crate::cluster::Warnings;
use crate::history::{Point, SAMPLE_INTERVAL};
use nsq_http::{HandlerResult, RequestContext};
use serde::Serialize;

/// `GET /api/history`.
pub async fn history(st: State, req: RequestContext) -> HandlerResult {
    #[derive(Serialize)]
    struct History {
        topic: String,
        channel: String,
        interval: u64,
        samples: Vec<Point>,
    }
    let query = req.query()?;
    let topic = query.get("topic").unwrap_or("").to_string();
    let channel = query.get("channel").unwrap_or("").to_string();
    let samples = st.history.series(&topic, &channel);
    reply(
        History {
            topic,
            channel,
            interval: SAMPLE_INTERVAL.as_secs(),
            samples,
        },
        &Warnings::default(),
    )
}
