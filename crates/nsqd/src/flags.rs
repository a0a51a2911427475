//! Turning parsed command-line flags (and `--config` file values) into [`Options`],
//! with nsqd v1.3.0's start-up validation.

use crate::options::{default_node_id, hostname, Options, TlsRequired};
use nsq_flags::Parsed;
use std::path::PathBuf;

/// A flag value that nsqd refuses at start-up (the text follows v1.3.0's).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OptionsError {
    /// `--node-id` outside 0..1024.
    #[error("--node-id must be [0,1024)")]
    NodeId,
    /// `--max-deflate-level` outside 1..=9.
    #[error("--max-deflate-level must be [1,9]")]
    DeflateLevel,
    /// A latency percentile outside (0, 1].
    #[error("invalid E2E processing latency percentile: {0}")]
    Percentile(f64),
    /// A client certificate policy without a certificate to serve.
    #[error("cannot require TLS client connections without TLS key and cert")]
    TlsPolicyWithoutCert,
}

impl Options {
    /// Builds options from flags; unset host-derived values are computed as nsqd does.
    pub fn from_flags(f: &Parsed) -> Result<Options, OptionsError> {
        let host = hostname();
        let node_id = if f.source("node-id") != nsq_flags::Source::Default {
            f.int("node-id")
        } else {
            default_node_id(&host)
        };
        if !(0..1024).contains(&node_id) {
            return Err(OptionsError::NodeId);
        }
        let broadcast_address = match f.string("broadcast-address") {
            "" => host,
            other => other.to_string(),
        };
        let max_deflate_level = f.int("max-deflate-level");
        if !(1..=9).contains(&max_deflate_level) {
            return Err(OptionsError::DeflateLevel);
        }
        let percentiles = f.float_list("e2e-processing-latency-percentile").to_vec();
        if let Some(bad) = percentiles.iter().find(|p| !(**p > 0.0 && **p <= 1.0)) {
            return Err(OptionsError::Percentile(*bad));
        }
        let mut tls_required = match f.tls_required() {
            nsq_flags::TlsRequired::False => TlsRequired::No,
            nsq_flags::TlsRequired::TcpHttps => TlsRequired::TcpHttps,
            nsq_flags::TlsRequired::True => TlsRequired::Yes,
        };
        let tls_client_auth_policy = f.string("tls-client-auth-policy").to_string();
        if !tls_client_auth_policy.is_empty() {
            if f.string("tls-cert").is_empty() || f.string("tls-key").is_empty() {
                return Err(OptionsError::TlsPolicyWithoutCert);
            }
            if tls_required == TlsRequired::No {
                tls_required = TlsRequired::Yes;
            }
        }
        let log_level = match f.log_level("log-level") {
            "debug" => 1,
            "warn" => 3,
            "error" => 4,
            "fatal" => 5,
            _ => 2,
        };
        Ok(Options {
            node_id,
            log_level,
            log_prefix: f.string("log-prefix").to_string(),
            tcp_address: f.string("tcp-address").to_string(),
            http_address: f.string("http-address").to_string(),
            https_address: f.string("https-address").to_string(),
            broadcast_address,
            broadcast_tcp_port: f.int("broadcast-tcp-port"),
            broadcast_http_port: f.int("broadcast-http-port"),
            nsqlookupd_tcp_addresses: f.string_list("lookupd-tcp-address").to_vec(),
            auth_http_addresses: f.string_list("auth-http-address").to_vec(),
            http_client_connect_timeout: f.duration("http-client-connect-timeout"),
            http_client_request_timeout: f.duration("http-client-request-timeout"),
            data_path: PathBuf::from(f.string("data-path")),
            mem_queue_size: f.int("mem-queue-size"),
            max_bytes_per_file: f.int("max-bytes-per-file"),
            sync_every: f.int("sync-every"),
            sync_timeout: f.duration("sync-timeout"),
            queue_scan_worker_pool_max: f.int("queue-scan-worker-pool-max"),
            queue_scan_selection_count: f.int("queue-scan-selection-count"),
            msg_timeout: f.duration("msg-timeout"),
            max_msg_timeout: f.duration("max-msg-timeout"),
            max_msg_size: f.int("max-msg-size"),
            max_body_size: f.int("max-body-size"),
            max_req_timeout: f.duration("max-req-timeout"),
            max_heartbeat_interval: f.duration("max-heartbeat-interval"),
            max_rdy_count: f.int("max-rdy-count"),
            max_output_buffer_size: f.int("max-output-buffer-size"),
            max_output_buffer_timeout: f.duration("max-output-buffer-timeout"),
            min_output_buffer_timeout: f.duration("min-output-buffer-timeout"),
            output_buffer_timeout: f.duration("output-buffer-timeout"),
            max_channel_consumers: f.int("max-channel-consumers"),
            statsd_address: f.string("statsd-address").to_string(),
            statsd_prefix: f.string("statsd-prefix").to_string(),
            statsd_interval: f.duration("statsd-interval"),
            statsd_mem_stats: f.bool("statsd-mem-stats"),
            statsd_udp_packet_size: f.int("statsd-udp-packet-size"),
            statsd_exclude_ephemeral: f.bool("statsd-exclude-ephemeral"),
            e2e_processing_latency_window_time: f.duration("e2e-processing-latency-window-time"),
            e2e_processing_latency_percentiles: percentiles,
            tls_cert: f.string("tls-cert").to_string(),
            tls_key: f.string("tls-key").to_string(),
            tls_client_auth_policy,
            tls_root_ca_file: f.string("tls-root-ca-file").to_string(),
            tls_required,
            tls_min_version: f.tls_min_version(),
            deflate: f.bool("deflate"),
            max_deflate_level,
            snappy: f.bool("snappy"),
            ..Options::default()
        })
    }
}
