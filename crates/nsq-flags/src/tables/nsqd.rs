//! nsqd's flags (flags.md §7).

use super::{
    cli_only, common, flag, http_client_connect_timeout, http_client_request_timeout, renamed,
};
use crate::spec::{FlagKind, FlagSet};

/// Every nsqd v1.3.0 flag.
///
/// `--node-id` and `--broadcast-address` default to empty (0 / "") here:
/// when neither the command line nor the config file set them, the daemon
/// uses CRC32(MD5(hostname)) % 1024 and the OS hostname.
pub fn nsqd() -> FlagSet {
    use FlagKind::{
        Bool, Duration, FloatList, Int, String, StringList, TlsMinVersion, TlsRequired,
    };
    let mut specs = common("[nsqd] ");
    specs.extend([
        // Default: hash of the hostname, computed by the daemon.
        renamed(
            "node-id",
            Int,
            "",
            "unique part for message IDs, (int) in range [0,1024) (default is hash of hostname)",
            "id",
        ),
        cli_only("worker-id", Bool, "false", "[deprecated] use --node-id"),
        flag(
            "https-address",
            String,
            "0.0.0.0:4152",
            "<addr>:<port> to listen on for HTTPS clients",
        ),
        flag(
            "http-address",
            String,
            "0.0.0.0:4151",
            "address to listen on for HTTP clients (<addr>:<port> for TCP/IP or <path> for unix socket)",
        ),
        flag(
            "tcp-address",
            String,
            "0.0.0.0:4150",
            "address to listen on for TCP clients (<addr>:<port> for TCP/IP or <path> for unix socket)",
        ),
        renamed(
            "auth-http-address",
            StringList,
            "",
            "<addr>:<port> or a full url to query auth server (may be given multiple times)",
            "auth_http_addresses",
        ),
        // Default: the OS hostname, filled in by the daemon.
        flag(
            "broadcast-address",
            String,
            "",
            "address that will be registered with lookupd (defaults to the OS hostname)",
        ),
        flag(
            "broadcast-tcp-port",
            Int,
            "0",
            "TCP port that will be registered with lookupd (defaults to the TCP port that this nsqd is listening on)",
        ),
        flag(
            "broadcast-http-port",
            Int,
            "0",
            "HTTP port that will be registered with lookupd (defaults to the HTTP port that this nsqd is listening on)",
        ),
        renamed(
            "lookupd-tcp-address",
            StringList,
            "",
            "lookupd TCP address (may be given multiple times)",
            "nsqlookupd_tcp_addresses",
        ),
        http_client_connect_timeout(),
        http_client_request_timeout("5s"),
        // diskqueue
        flag("data-path", String, "", "path to store disk-backed messages"),
        flag(
            "mem-queue-size",
            Int,
            "10000",
            "number of messages to keep in memory (per topic/channel)",
        ),
        flag(
            "max-bytes-per-file",
            Int,
            "104857600",
            "number of bytes per diskqueue file before rolling",
        ),
        flag(
            "sync-every",
            Int,
            "2500",
            "number of messages per diskqueue fsync",
        ),
        flag(
            "sync-timeout",
            Duration,
            "2s",
            "duration of time per diskqueue fsync",
        ),
        flag(
            "queue-scan-worker-pool-max",
            Int,
            "4",
            "max concurrency for checking in-flight and deferred message timeouts",
        ),
        flag(
            "queue-scan-selection-count",
            Int,
            "20",
            "number of channels to check per cycle (every 100ms) for in-flight and deferred timeouts",
        ),
        // messages and commands
        flag(
            "msg-timeout",
            Duration,
            "60s",
            "default duration to wait before auto-requeing a message",
        ),
        flag(
            "max-msg-timeout",
            Duration,
            "15m",
            "maximum duration before a message will timeout",
        ),
        flag(
            "max-msg-size",
            Int,
            "1048576",
            "maximum size of a single message in bytes",
        ),
        flag(
            "max-req-timeout",
            Duration,
            "1h",
            "maximum requeuing timeout for a message",
        ),
        flag(
            "max-body-size",
            Int,
            "5242880",
            "maximum size of a single command body",
        ),
        // client-overridable settings
        flag(
            "max-heartbeat-interval",
            Duration,
            "60s",
            "maximum client configurable duration of time between client heartbeats",
        ),
        flag(
            "max-rdy-count",
            Int,
            "2500",
            "maximum RDY count for a client",
        ),
        flag(
            "max-output-buffer-size",
            Int,
            "65536",
            "maximum client configurable size (in bytes) for a client output buffer",
        ),
        flag(
            "max-output-buffer-timeout",
            Duration,
            "30s",
            "maximum client configurable duration of time between flushing to a client",
        ),
        flag(
            "min-output-buffer-timeout",
            Duration,
            "25ms",
            "minimum client configurable duration of time between flushing to a client",
        ),
        flag(
            "output-buffer-timeout",
            Duration,
            "250ms",
            "default duration of time between flushing data to clients",
        ),
        flag(
            "max-channel-consumers",
            Int,
            "0",
            "maximum channel consumer connection count per nsqd instance (default 0, i.e., unlimited)",
        ),
        // statsd
        flag(
            "statsd-address",
            String,
            "",
            "UDP <addr>:<port> of a statsd daemon for pushing stats",
        ),
        flag(
            "statsd-interval",
            Duration,
            "60s",
            "duration between pushing to statsd",
        ),
        flag(
            "statsd-mem-stats",
            Bool,
            "true",
            "toggle sending memory and GC stats to statsd",
        ),
        flag(
            "statsd-prefix",
            String,
            "nsq.%s",
            "prefix used for keys sent to statsd (%s for host replacement)",
        ),
        flag(
            "statsd-udp-packet-size",
            Int,
            "508",
            "the size in bytes of statsd UDP packets",
        ),
        flag(
            "statsd-exclude-ephemeral",
            Bool,
            "false",
            "Skip ephemeral topics and channels when sending stats to statsd",
        ),
        // end-to-end latency
        renamed(
            "e2e-processing-latency-percentile",
            FloatList,
            "",
            "message processing time percentiles (as float (0, 1.0]) to track (can be specified \
             multiple times or comma separated '1.0,0.99,0.95', default none)",
            "e2e_processing_latency_percentiles",
        ),
        flag(
            "e2e-processing-latency-window-time",
            Duration,
            "10m",
            "calculate end to end latency quantiles for this duration of time (ie: 60s would only \
             show quantile calculations from the past 60 seconds)",
        ),
        // TLS
        flag("tls-cert", String, "", "path to certificate file"),
        flag("tls-key", String, "", "path to key file"),
        flag(
            "tls-client-auth-policy",
            String,
            "",
            "client certificate auth policy ('require' or 'require-verify')",
        ),
        flag(
            "tls-root-ca-file",
            String,
            "",
            "path to certificate authority file",
        ),
        flag(
            "tls-required",
            TlsRequired,
            "false",
            "require TLS for client connections (true, false, tcp-https)",
        ),
        flag(
            "tls-min-version",
            TlsMinVersion,
            "tls1.0",
            "minimum SSL/TLS version acceptable ('ssl3.0', 'tls1.0', 'tls1.1', 'tls1.2' or 'tls1.3')",
        ),
        // compression
        flag(
            "deflate",
            Bool,
            "true",
            "enable deflate feature negotiation (client compression)",
        ),
        flag(
            "max-deflate-level",
            Int,
            "6",
            "max deflate compression level a client can negotiate (> values == > nsqd CPU usage)",
        ),
        flag(
            "snappy",
            Bool,
            "true",
            "enable snappy feature negotiation (client compression)",
        ),
    ]);
    FlagSet::new("nsqd", specs)
}
