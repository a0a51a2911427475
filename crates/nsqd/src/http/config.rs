//! `GET/PUT /config/:opt`: options by config-file key, in Go's JSON encodings
//! (durations in nanoseconds, log level as a number).

use crate::nsqd::Nsqd;
use crate::options::{Options, TlsRequired};
use nsq_http::{ApiError, Reply, RequestContext, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;

type Answer = Result<Reply, ApiError>;

fn ns(d: std::time::Duration) -> Value {
    json!(d.as_nanos() as u64)
}

/// The value of the option whose config key is `key`, as v1.3.0 encodes it.
pub fn config_value(nsqd: &Nsqd, key: &str) -> Option<Value> {
    let o: &Options = &nsqd.opts;
    let v = match key {
        "config" => json!(""),
        "log_level" => json!(nsqd.log_level()),
        "log_prefix" => json!(o.log_prefix),
        "id" => json!(o.node_id),
        "tcp_address" => json!(o.tcp_address),
        "http_address" => json!(o.http_address),
        "https_address" => json!(o.https_address),
        "broadcast_address" => json!(o.broadcast_address),
        "broadcast_tcp_port" => json!(nsqd.broadcast_tcp_port()),
        "broadcast_http_port" => json!(nsqd.broadcast_http_port()),
        "nsqlookupd_tcp_addresses" => json!(nsqd.lookupd_addresses()),
        "auth_http_addresses" => json!(o.auth_http_addresses),
        "http_client_connect_timeout" => ns(o.http_client_connect_timeout),
        "http_client_request_timeout" => ns(o.http_client_request_timeout),
        "data_path" => json!(o.data_path.to_string_lossy()),
        "mem_queue_size" => json!(o.mem_queue_size),
        "max_bytes_per_file" => json!(o.max_bytes_per_file),
        "sync_every" => json!(o.sync_every),
        "sync_timeout" => ns(o.sync_timeout),
        "queue_scan_interval" => ns(o.queue_scan_interval),
        "queue_scan_refresh_interval" => ns(o.queue_scan_refresh_interval),
        "queue_scan_selection_count" => json!(o.queue_scan_selection_count),
        "queue_scan_worker_pool_max" => json!(o.queue_scan_worker_pool_max),
        "queue_scan_dirty_percent" => json!(o.queue_scan_dirty_percent),
        "msg_timeout" => ns(o.msg_timeout),
        "max_msg_timeout" => ns(o.max_msg_timeout),
        "max_msg_size" => json!(o.max_msg_size),
        "max_body_size" => json!(o.max_body_size),
        "max_req_timeout" => ns(o.max_req_timeout),
        "client_timeout" => ns(o.client_timeout),
        "max_heartbeat_interval" => ns(o.max_heartbeat_interval),
        "max_rdy_count" => json!(o.max_rdy_count),
        "max_output_buffer_size" => json!(o.max_output_buffer_size),
        "max_output_buffer_timeout" => ns(o.max_output_buffer_timeout),
        "min_output_buffer_timeout" => ns(o.min_output_buffer_timeout),
        "output_buffer_timeout" => ns(o.output_buffer_timeout),
        "max_channel_consumers" => json!(o.max_channel_consumers),
        "statsd_address" => json!(o.statsd_address),
        "statsd_prefix" => json!(o.statsd_prefix),
        "statsd_interval" => ns(o.statsd_interval),
        "statsd_mem_stats" => json!(o.statsd_mem_stats),
        "statsd_udp_packet_size" => json!(o.statsd_udp_packet_size),
        "statsd_exclude_ephemeral" => json!(o.statsd_exclude_ephemeral),
        "e2e_processing_latency_window_time" => ns(o.e2e_processing_latency_window_time),
        "e2e_processing_latency_percentiles" => json!(o.e2e_processing_latency_percentiles),
        "tls_cert" => json!(o.tls_cert),
        "tls_key" => json!(o.tls_key),
        "tls_client_auth_policy" => json!(o.tls_client_auth_policy),
        "tls_root_ca_file" => json!(o.tls_root_ca_file),
        "tls_required" => json!(match o.tls_required {
            TlsRequired::No => 0,
            TlsRequired::TcpHttps => 1,
            TlsRequired::Yes => 2,
        }),
        "tls_min_version" => json!(o.tls_min_version),
        "deflate" => json!(o.deflate),
        "max_deflate_level" => json!(o.max_deflate_level),
        "snappy" => json!(o.snappy),
        _ => return None,
    };
    Some(v)
}

/// `GET /config/:opt`.
pub async fn get(nsqd: Arc<Nsqd>, req: RequestContext) -> Answer {
    let key = req.param("opt").unwrap_or_default();
    match config_value(&nsqd, key) {
        Some(v) => Reply::json(&v),
        None => Err(ApiError::bad_request("INVALID_OPTION")),
    }
}

/// `PUT /config/:opt`: `nsqlookupd_tcp_addresses` (JSON list) and `log_level` (bare word).
pub async fn put(nsqd: Arc<Nsqd>, req: RequestContext) -> Answer {
    let key = req.param("opt").unwrap_or_default().to_string();
    let max = nsqd.opts.max_msg_size.max(0) as usize;
    if req.body.is_empty() || req.body.len() > max {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "INVALID_VALUE",
        ));
    }
    match key.as_str() {
        "nsqlookupd_tcp_addresses" => {
            let list: Vec<String> = serde_json::from_slice(&req.body)
                .map_err(|_| ApiError::bad_request("INVALID_VALUE"))?;
            nsqd.set_lookupd_addresses(list);
        }
        "log_level" => {
            let word = String::from_utf8_lossy(&req.body);
            let level: nsq_app::LogLevel = word
                .parse()
                .map_err(|_| ApiError::bad_request("INVALID_VALUE"))?;
            nsqd.set_log_level(level);
        }
        _ => return Err(ApiError::bad_request("INVALID_OPTION")),
    }
    get(nsqd, req).await
}
