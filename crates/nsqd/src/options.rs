//! nsqd's settings: one field per nsqd v1.3.0 flag, with the same defaults.

use std::path::PathBuf;
use std::time::Duration;

/// How `--tls-required` is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TlsRequired {
    /// TLS optional.
    #[default]
    No,
    /// TLS required on TCP; plain HTTP still allowed.
    TcpHttps,
    /// TLS required everywhere.
    Yes,
}

/// Every nsqd option. `Options::default()` gives nsqd v1.3.0's defaults
/// (apart from the host-derived `node_id` and `broadcast_address`, see [`Options::for_host`]).
#[derive(Debug, Clone)]
pub struct Options {
    /// `--node-id` (config key `id`): 0..1024, used in message ids.
    pub node_id: i64,
    /// `--log-level` as NSQ's number (1 debug .. 5 fatal).
    pub log_level: i32,
    /// `--log-prefix`.
    pub log_prefix: String,
    /// `--tcp-address`.
    pub tcp_address: String,
    /// `--http-address`.
    pub http_address: String,
    /// `--https-address`.
    pub https_address: String,
    /// `--broadcast-address`.
    pub broadcast_address: String,
    /// `--broadcast-tcp-port` (0 = the bound port).
    pub broadcast_tcp_port: i64,
    /// `--broadcast-http-port` (0 = the bound port).
    pub broadcast_http_port: i64,
    /// `--lookupd-tcp-address` (config key `nsqlookupd_tcp_addresses`).
    pub nsqlookupd_tcp_addresses: Vec<String>,
    /// `--auth-http-address` (config key `auth_http_addresses`).
    pub auth_http_addresses: Vec<String>,
    /// `--auth-http-request-method`.
    pub auth_http_request_method: String,
    /// `--http-client-connect-timeout`.
    pub http_client_connect_timeout: Duration,
    /// `--http-client-request-timeout`.
    pub http_client_request_timeout: Duration,
    /// `--data-path` (empty = current directory).
    pub data_path: PathBuf,
    /// `--mem-queue-size`.
    pub mem_queue_size: i64,
    /// `--max-bytes-per-file`.
    pub max_bytes_per_file: i64,
    /// `--sync-every`.
    pub sync_every: i64,
    /// `--sync-timeout`.
    pub sync_timeout: Duration,
    /// `--queue-scan-interval` (fixed 100ms in v1.3.0, kept for `/config`).
    pub queue_scan_interval: Duration,
    /// `--queue-scan-refresh-interval`.
    pub queue_scan_refresh_interval: Duration,
    /// `--queue-scan-selection-count`.
    pub queue_scan_selection_count: i64,
    /// `--queue-scan-worker-pool-max`.
    pub queue_scan_worker_pool_max: i64,
    /// `--queue-scan-dirty-percent`.
    pub queue_scan_dirty_percent: f64,
    /// `--msg-timeout`.
    pub msg_timeout: Duration,
    /// `--max-msg-timeout`.
    pub max_msg_timeout: Duration,
    /// `--max-msg-size`.
    pub max_msg_size: i64,
    /// `--max-body-size`.
    pub max_body_size: i64,
    /// `--max-req-timeout`.
    pub max_req_timeout: Duration,
    /// Fixed client timeout (60s): the default heartbeat interval is half of it.
    pub client_timeout: Duration,
    /// `--max-heartbeat-interval`.
    pub max_heartbeat_interval: Duration,
    /// `--max-rdy-count`.
    pub max_rdy_count: i64,
    /// `--max-output-buffer-size`.
    pub max_output_buffer_size: i64,
    /// `--max-output-buffer-timeout`.
    pub max_output_buffer_timeout: Duration,
    /// `--min-output-buffer-timeout`.
    pub min_output_buffer_timeout: Duration,
    /// `--output-buffer-timeout`.
    pub output_buffer_timeout: Duration,
    /// `--max-channel-consumers` (0 = unlimited).
    pub max_channel_consumers: i64,
    /// `--statsd-address`.
    pub statsd_address: String,
    /// `--statsd-prefix`.
    pub statsd_prefix: String,
    /// `--statsd-interval`.
    pub statsd_interval: Duration,
    /// `--statsd-mem-stats`.
    pub statsd_mem_stats: bool,
    /// `--statsd-udp-packet-size`.
    pub statsd_udp_packet_size: i64,
    /// `--statsd-exclude-ephemeral`.
    pub statsd_exclude_ephemeral: bool,
    /// `--e2e-processing-latency-window-time`.
    pub e2e_processing_latency_window_time: Duration,
    /// `--e2e-processing-latency-percentile`.
    pub e2e_processing_latency_percentiles: Vec<f64>,
    /// `--tls-cert`.
    pub tls_cert: String,
    /// `--tls-key`.
    pub tls_key: String,
    /// `--tls-client-auth-policy`.
    pub tls_client_auth_policy: String,
    /// `--tls-root-ca-file`.
    pub tls_root_ca_file: String,
    /// `--tls-required`.
    pub tls_required: TlsRequired,
    /// `--tls-min-version` as a TLS code point (0x0301 = TLS 1.0).
    pub tls_min_version: u16,
    /// `--deflate`.
    pub deflate: bool,
    /// `--max-deflate-level`.
    pub max_deflate_level: i64,
    /// `--snappy`.
    pub snappy: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            node_id: 0,
            log_level: 2,
            log_prefix: "[nsqd] ".into(),
            tcp_address: "0.0.0.0:4150".into(),
            http_address: "0.0.0.0:4151".into(),
            https_address: "0.0.0.0:4152".into(),
            broadcast_address: String::new(),
            broadcast_tcp_port: 0,
            broadcast_http_port: 0,
            nsqlookupd_tcp_addresses: Vec::new(),
            auth_http_addresses: Vec::new(),
            auth_http_request_method: "get".into(),
            http_client_connect_timeout: Duration::from_secs(2),
            http_client_request_timeout: Duration::from_secs(5),
            data_path: PathBuf::new(),
            mem_queue_size: 10_000,
            max_bytes_per_file: 100 * 1024 * 1024,
            sync_every: 2500,
            sync_timeout: Duration::from_secs(2),
            queue_scan_interval: Duration::from_millis(100),
            queue_scan_refresh_interval: Duration::from_secs(5),
            queue_scan_selection_count: 20,
            queue_scan_worker_pool_max: 4,
            queue_scan_dirty_percent: 0.25,
            msg_timeout: Duration::from_secs(60),
            max_msg_timeout: Duration::from_secs(15 * 60),
            max_msg_size: 1024 * 1024,
            max_body_size: 5 * 1024 * 1024,
            max_req_timeout: Duration::from_secs(3600),
            client_timeout: Duration::from_secs(60),
            max_heartbeat_interval: Duration::from_secs(60),
            max_rdy_count: 2500,
            max_output_buffer_size: 64 * 1024,
            max_output_buffer_timeout: Duration::from_secs(30),
            min_output_buffer_timeout: Duration::from_millis(25),
            output_buffer_timeout: Duration::from_millis(250),
            max_channel_consumers: 0,
            statsd_address: String::new(),
            statsd_prefix: "nsq.%s".into(),
            statsd_interval: Duration::from_secs(60),
            statsd_mem_stats: true,
            statsd_udp_packet_size: 508,
            statsd_exclude_ephemeral: false,
            e2e_processing_latency_window_time: Duration::from_secs(600),
            e2e_processing_latency_percentiles: Vec::new(),
            tls_cert: String::new(),
            tls_key: String::new(),
            tls_client_auth_policy: String::new(),
            tls_root_ca_file: String::new(),
            tls_required: TlsRequired::No,
            tls_min_version: 0x0301,
            deflate: true,
            max_deflate_level: 6,
            snappy: true,
        }
    }
}

impl Options {
    /// Defaults with the host-derived values filled in as v1.3.0 does:
    /// `node_id` = CRC32(MD5(hostname)) % 1024, `broadcast_address` = hostname.
    pub fn for_host() -> Self {
        let host = hostname();
        Options {
            node_id: default_node_id(&host),
            broadcast_address: host,
            ..Options::default()
        }
    }
}

/// The OS hostname, or an empty string if it cannot be read.
pub fn hostname() -> String {
    gethostname::gethostname().to_string_lossy().into_owned()
}

/// nsqd's default node id: CRC32-IEEE of the raw MD5 digest of the hostname, mod 1024.
pub fn default_node_id(hostname: &str) -> i64 {
    use md5::{Digest, Md5};
    let digest = Md5::digest(hostname.as_bytes());
    i64::from(crc32fast::hash(&digest) % 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_id_of_fixture_host_matches_go() {
        // The fixtures were captured on host `nsq-host`, whose default node id was 28.
        assert_eq!(default_node_id("nsq-host"), 28);
    }
}
