//! The three daemon tables against flags.md §7–9.

use std::collections::BTreeSet;

use crate::tables::{nsqadmin, nsqd, nsqlookupd};
use crate::{ConfigKey, FlagKind, FlagSet, Value};

use FlagKind::*;

fn s(v: &str) -> Value {
    Value::Str(v.to_string())
}
fn secs(n: u64) -> Value {
    Value::Duration(std::time::Duration::from_secs(n))
}
fn ms(n: u64) -> Value {
    Value::Duration(std::time::Duration::from_millis(n))
}
fn none() -> Value {
    Value::StrList(vec![])
}

/// (flag, kind, default value, config key or None)
type Row = (&'static str, FlagKind, Value, Option<&'static str>);

fn nsqd_rows() -> Vec<Row> {
    vec![
        ("config", String, s(""), None),
        ("version", Bool, Value::Bool(false), None),
        ("log-level", LogLevel, s("info"), Some("log_level")),
        ("log-prefix", String, s("[nsqd] "), Some("log_prefix")),
        ("verbose", Bool, Value::Bool(false), None),
        ("node-id", Int, Value::Int(0), Some("id")),
        ("worker-id", Bool, Value::Bool(false), None),
        (
            "tcp-address",
            String,
            s("0.0.0.0:4150"),
            Some("tcp_address"),
        ),
        (
            "http-address",
            String,
            s("0.0.0.0:4151"),
            Some("http_address"),
        ),
        (
            "https-address",
            String,
            s("0.0.0.0:4152"),
            Some("https_address"),
        ),
        (
            "broadcast-address",
            String,
            s(""),
            Some("broadcast_address"),
        ),
        (
            "broadcast-tcp-port",
            Int,
            Value::Int(0),
            Some("broadcast_tcp_port"),
        ),
        (
            "broadcast-http-port",
            Int,
            Value::Int(0),
            Some("broadcast_http_port"),
        ),
        (
            "lookupd-tcp-address",
            StringList,
            none(),
            Some("nsqlookupd_tcp_addresses"),
        ),
        (
            "auth-http-address",
            StringList,
            none(),
            Some("auth_http_addresses"),
        ),
        (
            "http-client-connect-timeout",
            Duration,
            secs(2),
            Some("http_client_connect_timeout"),
        ),
        (
            "http-client-request-timeout",
            Duration,
            secs(5),
            Some("http_client_request_timeout"),
        ),
        ("data-path", String, s(""), Some("data_path")),
        (
            "mem-queue-size",
            Int,
            Value::Int(10000),
            Some("mem_queue_size"),
        ),
        (
            "max-bytes-per-file",
            Int,
            Value::Int(104857600),
            Some("max_bytes_per_file"),
        ),
        ("sync-every", Int, Value::Int(2500), Some("sync_every")),
        ("sync-timeout", Duration, secs(2), Some("sync_timeout")),
        (
            "queue-scan-worker-pool-max",
            Int,
            Value::Int(4),
            Some("queue_scan_worker_pool_max"),
        ),
        (
            "queue-scan-selection-count",
            Int,
            Value::Int(20),
            Some("queue_scan_selection_count"),
        ),
        ("msg-timeout", Duration, secs(60), Some("msg_timeout")),
        (
            "max-msg-timeout",
            Duration,
            secs(900),
            Some("max_msg_timeout"),
        ),
        (
            "max-msg-size",
            Int,
            Value::Int(1048576),
            Some("max_msg_size"),
        ),
        (
            "max-req-timeout",
            Duration,
            secs(3600),
            Some("max_req_timeout"),
        ),
        (
            "max-body-size",
            Int,
            Value::Int(5242880),
            Some("max_body_size"),
        ),
        (
            "max-heartbeat-interval",
            Duration,
            secs(60),
            Some("max_heartbeat_interval"),
        ),
        (
            "max-rdy-count",
            Int,
            Value::Int(2500),
            Some("max_rdy_count"),
        ),
        (
            "max-output-buffer-size",
            Int,
            Value::Int(65536),
            Some("max_output_buffer_size"),
        ),
        (
            "max-output-buffer-timeout",
            Duration,
            secs(30),
            Some("max_output_buffer_timeout"),
        ),
        (
            "min-output-buffer-timeout",
            Duration,
            ms(25),
            Some("min_output_buffer_timeout"),
        ),
        (
            "output-buffer-timeout",
            Duration,
            ms(250),
            Some("output_buffer_timeout"),
        ),
        (
            "max-channel-consumers",
            Int,
            Value::Int(0),
            Some("max_channel_consumers"),
        ),
        ("statsd-address", String, s(""), Some("statsd_address")),
        (
            "statsd-interval",
            Duration,
            secs(60),
            Some("statsd_interval"),
        ),
        (
            "statsd-mem-stats",
            Bool,
            Value::Bool(true),
            Some("statsd_mem_stats"),
        ),
        ("statsd-prefix", String, s("nsq.%s"), Some("statsd_prefix")),
        (
            "statsd-udp-packet-size",
            Int,
            Value::Int(508),
            Some("statsd_udp_packet_size"),
        ),
        (
            "statsd-exclude-ephemeral",
            Bool,
            Value::Bool(false),
            Some("statsd_exclude_ephemeral"),
        ),
        (
            "e2e-processing-latency-percentile",
            FloatList,
            Value::FloatList(vec![]),
            Some("e2e_processing_latency_percentiles"),
        ),
        (
            "e2e-processing-latency-window-time",
            Duration,
            secs(600),
            Some("e2e_processing_latency_window_time"),
        ),
        ("tls-cert", String, s(""), Some("tls_cert")),
        ("tls-key", String, s(""), Some("tls_key")),
        (
            "tls-client-auth-policy",
            String,
            s(""),
            Some("tls_client_auth_policy"),
        ),
        ("tls-root-ca-file", String, s(""), Some("tls_root_ca_file")),
        (
            "tls-required",
            TlsRequired,
            Value::Int(0),
            Some("tls_required"),
        ),
        (
            "tls-min-version",
            TlsMinVersion,
            Value::Int(0x0301),
            Some("tls_min_version"),
        ),
        ("deflate", Bool, Value::Bool(true), Some("deflate")),
        (
            "max-deflate-level",
            Int,
            Value::Int(6),
            Some("max_deflate_level"),
        ),
        ("snappy", Bool, Value::Bool(true), Some("snappy")),
    ]
}

fn nsqlookupd_rows() -> Vec<Row> {
    vec![
        ("config", String, s(""), None),
        ("version", Bool, Value::Bool(false), None),
        ("log-level", LogLevel, s("info"), Some("log_level")),
        ("log-prefix", String, s("[nsqlookupd] "), Some("log_prefix")),
        ("verbose", Bool, Value::Bool(false), None),
        (
            "tcp-address",
            String,
            s("0.0.0.0:4160"),
            Some("tcp_address"),
        ),
        (
            "http-address",
            String,
            s("0.0.0.0:4161"),
            Some("http_address"),
        ),
        (
            "broadcast-address",
            String,
            s(""),
            Some("broadcast_address"),
        ),
        (
            "inactive-producer-timeout",
            Duration,
            secs(300),
            Some("inactive_producer_timeout"),
        ),
        (
            "tombstone-lifetime",
            Duration,
            secs(45),
            Some("tombstone_lifetime"),
        ),
    ]
}

fn nsqadmin_rows() -> Vec<Row> {
    vec![
        ("config", String, s(""), None),
        ("version", Bool, Value::Bool(false), None),
        ("log-level", LogLevel, s("info"), Some("log_level")),
        ("log-prefix", String, s("[nsqadmin] "), Some("log_prefix")),
        ("verbose", Bool, Value::Bool(false), None),
        (
            "http-address",
            String,
            s("0.0.0.0:4171"),
            Some("http_address"),
        ),
        ("base-path", String, s("/"), Some("base_path")),
        ("dev-static-dir", String, s(""), Some("dev_static_dir")),
        ("graphite-url", String, s(""), Some("graphite_url")),
        (
            "proxy-graphite",
            Bool,
            Value::Bool(false),
            Some("proxy_graphite"),
        ),
        ("statsd-prefix", String, s("nsq.%s"), Some("statsd_prefix")),
        (
            "statsd-counter-format",
            String,
            s("stats.counters.%s.count"),
            Some("statsd_counter_format"),
        ),
        (
            "statsd-gauge-format",
            String,
            s("stats.gauges.%s"),
            Some("statsd_gauge_format"),
        ),
        (
            "statsd-interval",
            Duration,
            secs(60),
            Some("statsd_interval"),
        ),
        (
            "lookupd-http-address",
            StringList,
            none(),
            Some("nsqlookupd_http_addresses"),
        ),
        (
            "nsqd-http-address",
            StringList,
            none(),
            Some("nsqd_http_addresses"),
        ),
        (
            "http-client-connect-timeout",
            Duration,
            secs(2),
            Some("http_client_connect_timeout"),
        ),
        (
            "http-client-request-timeout",
            Duration,
            secs(5),
            Some("http_client_request_timeout"),
        ),
        (
            "http-client-tls-insecure-skip-verify",
            Bool,
            Value::Bool(false),
            Some("http_client_tls_insecure_skip_verify"),
        ),
        (
            "http-client-tls-root-ca-file",
            String,
            s(""),
            Some("http_client_tls_root_ca_file"),
        ),
        (
            "http-client-tls-cert",
            String,
            s(""),
            Some("http_client_tls_cert"),
        ),
        (
            "http-client-tls-key",
            String,
            s(""),
            Some("http_client_tls_key"),
        ),
        (
            "allow-config-from-cidr",
            String,
            s("127.0.0.1/8"),
            Some("allow_config_from_cidr"),
        ),
        (
            "notification-http-endpoint",
            String,
            s(""),
            Some("notification_http_endpoint"),
        ),
        (
            "acl-http-header",
            String,
            s("X-Forwarded-User"),
            Some("acl_http_header"),
        ),
        ("admin-user", StringList, none(), Some("admin_users")),
    ]
}

fn check_table(set: &FlagSet, program: &str, rows: Vec<Row>) {
    assert_eq!(set.program, program);
    let names: BTreeSet<&str> = set.specs.iter().map(|s| s.name).collect();
    let expected: BTreeSet<&str> = rows.iter().map(|r| r.0).collect();
    assert_eq!(names, expected, "{program}: flag names");
    assert_eq!(set.specs.len(), rows.len(), "{program}: no duplicates");

    let defaults = set.parse(Vec::new()).unwrap();
    for (name, kind, default, key) in rows {
        let spec = set.spec(name).unwrap();
        assert_eq!(spec.kind, kind, "{program} -{name}: kind");
        assert_eq!(
            spec.config_name().as_deref(),
            key,
            "{program} -{name}: config key"
        );
        assert!(!spec.usage.is_empty(), "{program} -{name}: usage");
        assert_eq!(
            defaults.value(name),
            Some(&default),
            "{program} -{name}: default"
        );
        assert!(!defaults.is_set(name));
    }
}

#[test]
fn nsqd_table_matches_spec() {
    check_table(&nsqd(), "nsqd", nsqd_rows());
}

#[test]
fn nsqlookupd_table_matches_spec() {
    check_table(&nsqlookupd(), "nsqlookupd", nsqlookupd_rows());
}

#[test]
fn nsqadmin_table_matches_spec() {
    check_table(&nsqadmin(), "nsqadmin", nsqadmin_rows());
}

#[test]
fn renames_and_cli_only_flags() {
    let renamed = |set: &FlagSet, name: &str| set.spec(name).unwrap().config_key;
    let d = nsqd();
    assert_eq!(renamed(&d, "node-id"), ConfigKey::Renamed("id"));
    assert_eq!(
        renamed(&d, "lookupd-tcp-address"),
        ConfigKey::Renamed("nsqlookupd_tcp_addresses")
    );
    assert_eq!(
        renamed(&d, "auth-http-address"),
        ConfigKey::Renamed("auth_http_addresses")
    );
    assert_eq!(
        renamed(&d, "e2e-processing-latency-percentile"),
        ConfigKey::Renamed("e2e_processing_latency_percentiles")
    );
    let a = nsqadmin();
    assert_eq!(
        renamed(&a, "lookupd-http-address"),
        ConfigKey::Renamed("nsqlookupd_http_addresses")
    );
    assert_eq!(
        renamed(&a, "nsqd-http-address"),
        ConfigKey::Renamed("nsqd_http_addresses")
    );
    assert_eq!(renamed(&a, "admin-user"), ConfigKey::Renamed("admin_users"));
    for set in [nsqd(), nsqlookupd(), nsqadmin()] {
        for name in ["config", "version", "verbose"] {
            assert_eq!(
                renamed(&set, name),
                ConfigKey::None,
                "{} {name}",
                set.program
            );
        }
    }
    assert_eq!(renamed(&d, "worker-id"), ConfigKey::None);
}

#[test]
fn config_keys_are_unique_per_table() {
    for set in [nsqd(), nsqlookupd(), nsqadmin()] {
        let keys: Vec<_> = set.specs.iter().filter_map(|s| s.config_name()).collect();
        let unique: BTreeSet<_> = keys.iter().collect();
        assert_eq!(keys.len(), unique.len(), "{}", set.program);
    }
}

/// Every default text, given explicitly on the command line, yields the same
/// value as not giving the flag (so defaults go through the flag parser).
#[test]
fn every_default_round_trips_through_the_parser() {
    for set in [nsqd(), nsqlookupd(), nsqadmin()] {
        let defaults = set.parse(Vec::new()).unwrap();
        for spec in &set.specs {
            if spec.default.is_empty() || matches!(spec.kind, StringList | FloatList) {
                continue;
            }
            let p = set
                .parse(vec![format!("--{}={}", spec.name, spec.default)])
                .unwrap_or_else(|e| panic!("{} -{}: {e}", set.program, spec.name));
            assert_eq!(
                p.value(spec.name),
                defaults.value(spec.name),
                "-{}",
                spec.name
            );
            assert!(p.is_set(spec.name));
        }
    }
}

#[test]
fn every_flag_is_accepted_with_double_and_single_dash() {
    for set in [nsqd(), nsqlookupd(), nsqadmin()] {
        for spec in &set.specs {
            let value = match spec.kind {
                Bool | TlsRequired => "true",
                Int => "3",
                String | StringList => "x",
                Duration => "3s",
                FloatList | Float => "0.5",
                LogLevel => "warn",
                TlsMinVersion => "tls1.2",
            };
            for dashes in ["-", "--"] {
                let p = set
                    .parse(vec![format!("{dashes}{}={value}", spec.name)])
                    .unwrap();
                assert!(p.is_set(spec.name), "{} {}", set.program, spec.name);
            }
        }
    }
}

#[test]
fn help_text_like_go() {
    let usage = nsqd().usage();
    assert!(usage.starts_with("Usage of nsqd:\n  -auth-http-address value\n"));
    for entry in [
        "  -msg-timeout duration\n    \tdefault duration to wait before auto-requeing a message (default 1m0s)\n",
        "  -log-level value\n    \tset log verbosity: debug, info, warn, error, or fatal (default INFO)\n",
        "  -log-prefix string\n    \tlog message prefix (default \"[nsqd] \")\n",
        "  -deflate\n    \tenable deflate feature negotiation (client compression) (default true)\n",
        "  -tls-required\n    \trequire TLS for client connections (true, false, tcp-https)\n",
        "  -tls-min-version value\n    \tminimum SSL/TLS version acceptable ('ssl3.0', 'tls1.0', 'tls1.1', 'tls1.2' or 'tls1.3') (default tls1.0)\n",
        "  -max-msg-timeout duration\n    \tmaximum duration before a message will timeout (default 15m0s)\n",
        "  -max-req-timeout duration\n    \tmaximum requeuing timeout for a message (default 1h0m0s)\n",
        "  -node-id int\n    \tunique part for message IDs, (int) in range [0,1024) (default is hash of hostname)\n",
        "  -statsd-udp-packet-size int\n    \tthe size in bytes of statsd UDP packets (default 508)\n",
        "  -version\n    \tprint version string\n",
    ] {
        assert!(usage.contains(entry), "missing {entry:?} in\n{usage}");
    }
    // Sorted by name.
    let names: Vec<&str> = usage
        .lines()
        .filter_map(|l| l.strip_prefix("  -"))
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    assert_eq!(names.len(), nsqd().specs.len());

    assert!(nsqlookupd()
        .usage()
        .contains("  -inactive-producer-timeout duration\n    \tduration of time a producer will remain in the active list since its last ping (default 5m0s)\n"));
    assert!(nsqadmin().usage().starts_with("Usage of nsqadmin:\n"));
}

#[test]
fn machine_defaults_can_be_installed_before_parsing() {
    let set = nsqd()
        .with_default("node-id", "744")
        .with_default("broadcast-address", "host-a");
    let p = set.parse(Vec::new()).unwrap();
    assert_eq!(p.int("node-id"), 744);
    assert_eq!(p.string("broadcast-address"), "host-a");
    let usage = set.usage();
    assert!(usage.contains("(default is hash of hostname) (default 744)\n"));
    assert!(usage.contains("(defaults to the OS hostname) (default \"host-a\")\n"));
}
