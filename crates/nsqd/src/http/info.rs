//! `/ping`, `/info`, `/stats` and the debug stubs.

use crate::nsqd::Nsqd;
use crate::stats::{self, StatsFilter};
use nsq_http::{ApiError, Reply, RequestContext, StatusCode};
use serde::Serialize;
use std::sync::Arc;

type Answer = Result<Reply, ApiError>;

/// `GET /ping`: `OK`, plain text, no X-NSQ header.
pub async fn ping(nsqd: Arc<Nsqd>, _req: RequestContext) -> Answer {
    match nsqd.health() {
        Ok(()) => Ok(Reply::plain("OK")),
        Err(e) => Ok(Reply::plain_status(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("NOK - {e}"),
        )),
    }
}

#[derive(Serialize)]
struct InfoDoc<'a> {
    version: &'a str,
    broadcast_address: &'a str,
    hostname: String,
    http_port: i64,
    tcp_port: i64,
    start_time: i64,
    max_heartbeat_interval: u128,
    max_output_buffer_size: i64,
    max_output_buffer_timeout: u128,
    max_deflate_level: i64,
}

/// `GET /info`: version, addresses, ports and limits (durations in ns).
pub async fn info(nsqd: Arc<Nsqd>, _req: RequestContext) -> Answer {
    let o = &nsqd.opts;
    Reply::json(&InfoDoc {
        version: crate::VERSION,
        broadcast_address: &o.broadcast_address,
        hostname: crate::options::hostname(),
        http_port: nsqd.addrs.http.as_ref().map_or(0, |a| a.port()),
        tcp_port: nsqd.addrs.tcp.as_ref().map_or(0, |a| a.port()),
        start_time: nsqd.start_time,
        max_heartbeat_interval: o.max_heartbeat_interval.as_nanos(),
        max_output_buffer_size: o.max_output_buffer_size,
        max_output_buffer_timeout: o.max_output_buffer_timeout.as_nanos(),
        max_deflate_level: o.max_deflate_level,
    })
}

/// `GET /stats`: text by default, JSON with `format=json`.
pub async fn stats(nsqd: Arc<Nsqd>, req: RequestContext) -> Answer {
    let query = req.query()?;
    let filter = StatsFilter {
        topic: query.get("topic").map(str::to_string),
        channel: query.get("channel").map(str::to_string),
        include_clients: query.get_bool("include_clients", true),
        include_mem: query.get_bool("include_mem", true),
    };
    let doc = stats::collect(&nsqd, &filter);
    if query.get("format") == Some("json") {
        Reply::json(&doc)
    } else {
        Ok(Reply::text(stats::render_text(&doc)))
    }
}

/// `GET /metrics`: the `/stats` figures in Prometheus text format (not in nsqd v1.3.0).
pub async fn metrics(nsqd: Arc<Nsqd>, _req: RequestContext) -> Answer {
    let filter = StatsFilter {
        include_clients: true,
        include_mem: true,
        ..StatsFilter::default()
    };
    Ok(Reply::text(crate::metrics::render(&stats::collect(
        &nsqd, &filter,
    ))))
}

/// The Go profiler routes: kept so tools probing them get an answer.
pub async fn debug_unavailable(_nsqd: Arc<Nsqd>, _req: RequestContext) -> Answer {
    Ok(Reply::text(
        "profiling endpoints of the Go runtime are not available in this nsqd\n",
    ))
}

/// `PUT /debug/setblockrate?rate=N`: accepted (no Go profiler to configure).
pub async fn set_block_rate(_nsqd: Arc<Nsqd>, req: RequestContext) -> Answer {
    let query = req.query()?;
    let raw = query.get("rate").unwrap_or_default();
    if raw.parse::<i64>().is_err() {
        return Ok(Reply::plain_status(
            StatusCode::BAD_REQUEST,
            format!("invalid block rate : strconv.Atoi: parsing {raw:?}: invalid syntax"),
        ));
    }
    Ok(Reply::Empty)
}

/// `POST /debug/freememory`: nothing to collect; answers 200.
pub async fn free_memory(_nsqd: Arc<Nsqd>, _req: RequestContext) -> Answer {
    Ok(Reply::Empty)
}
