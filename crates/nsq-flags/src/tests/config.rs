//! TOML config files on the real tables (flags.md §2).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::tables::{nsqadmin, nsqd, nsqlookupd};
use crate::{ConfigError, FlagSet, Parsed, Source, TlsRequired};

fn cli(set: &FlagSet, list: &[&str]) -> Parsed {
    set.parse(list.iter().map(|s| s.to_string()))
        .expect("parse")
}

fn with_config(set: &FlagSet, list: &[&str], toml: &str) -> Result<Parsed, ConfigError> {
    let mut p = cli(set, list);
    p.apply_config_str(set, toml)?;
    Ok(p)
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

#[test]
fn precedence_command_line_over_file_over_default() {
    let set = nsqd();
    let p = with_config(
        &set,
        &["--msg-timeout=30s"],
        "msg_timeout = \"10s\"\nmax_rdy_count = 7\n",
    )
    .unwrap();
    assert_eq!(p.duration("msg-timeout"), Duration::from_secs(30));
    assert_eq!(p.source("msg-timeout"), Source::CommandLine);
    assert!(p.is_set("msg-timeout"));
    assert_eq!(p.int("max-rdy-count"), 7);
    assert_eq!(p.source("max-rdy-count"), Source::ConfigFile);
    assert!(!p.is_set("max-rdy-count"), "config values are not 'set'");
    assert_eq!(p.int("max-msg-size"), 1048576);
    assert_eq!(p.source("max-msg-size"), Source::Default);
}

#[test]
fn flags_after_a_parse_stop_do_not_beat_the_file() {
    let set = nsqd();
    let p = with_config(
        &set,
        &["--deflate", "false", "--msg-timeout=30s"],
        "msg_timeout = 5000\n",
    )
    .unwrap();
    assert!(p.bool("deflate"));
    assert_eq!(p.duration("msg-timeout"), Duration::from_secs(5));
}

#[test]
fn command_line_list_replaces_file_list() {
    let set = nsqd();
    let p = with_config(
        &set,
        &["--lookupd-tcp-address=a:1"],
        "nsqlookupd_tcp_addresses = [\"b:2\", \"c:3\"]\n",
    )
    .unwrap();
    assert_eq!(p.string_list("lookupd-tcp-address"), ["a:1"]);
}

#[test]
fn unknown_keys_and_tables_are_ignored() {
    let set = nsqd();
    let p = with_config(
        &set,
        &[],
        "no_such_option = 5\nqueue_scan_interval = \"1s\"\n[section]\nmax_rdy_count = 9\n",
    )
    .unwrap();
    assert_eq!(p, cli(&set, &[]));
}

#[test]
fn command_line_only_flags_have_no_key() {
    let set = nsqd();
    let p = with_config(
        &set,
        &[],
        "verbose = true\nversion = true\nworker_id = true\nconfig = \"/x\"\nworker-id = true\n",
    )
    .unwrap();
    assert!(!p.bool("verbose"));
    assert!(!p.bool("version"));
    assert!(!p.bool("worker-id"));
    assert_eq!(p.string("config"), "");
}

#[test]
fn nsqd_renamed_keys() {
    let set = nsqd();
    let p = with_config(
        &set,
        &[],
        "id = 77\nnsqlookupd_tcp_addresses = [\"l:4160\"]\nauth_http_addresses = \"a:1,b:2\"\n\
         e2e_processing_latency_percentiles = [0.5, 0.9]\n",
    )
    .unwrap();
    assert_eq!(p.int("node-id"), 77);
    assert_eq!(p.string_list("lookupd-tcp-address"), ["l:4160"]);
    assert_eq!(p.string_list("auth-http-address"), ["a:1", "b:2"]);
    assert_eq!(
        p.float_list("e2e-processing-latency-percentile"),
        [0.5, 0.9],
        "file order kept"
    );
    // The derived spellings of renamed flags are not keys.
    let p = with_config(
        &set,
        &[],
        "node_id = 5\nlookupd_tcp_address = [\"x\"]\nauth_http_address = [\"y\"]\n",
    )
    .unwrap();
    assert_eq!(p.int("node-id"), 0);
    assert!(p.string_list("lookupd-tcp-address").is_empty());
    assert!(p.string_list("auth-http-address").is_empty());
}

#[test]
fn nsqadmin_renamed_keys() {
    let set = nsqadmin();
    let p = with_config(
        &set,
        &[],
        "nsqlookupd_http_addresses = [\"l:4161\"]\nnsqd_http_addresses = \"n:1,n:2\"\n\
         admin_users = [\"alice\", \"bob\"]\nlookupd_http_address = [\"ignored\"]\n",
    )
    .unwrap();
    assert_eq!(p.string_list("lookupd-http-address"), ["l:4161"]);
    assert_eq!(p.string_list("nsqd-http-address"), ["n:1", "n:2"]);
    assert_eq!(p.string_list("admin-user"), ["alice", "bob"]);
}

#[test]
fn coercions_through_the_nsqd_table() {
    let set = nsqd();
    let p = with_config(
        &set,
        &[],
        r#"
max_msg_size = "2048"
mem_queue_size = 5
deflate = "false"
snappy = false
statsd_mem_stats = "F"
msg_timeout = 5000
max_msg_timeout = "2m"
sync_timeout = "1.5s"
nsqlookupd_tcp_addresses = "x:1,y:2"
e2e_processing_latency_percentiles = "0.99, 0.5"
log_prefix = "[n] "
"#,
    )
    .unwrap();
    assert_eq!(p.int("max-msg-size"), 2048);
    assert_eq!(p.int("mem-queue-size"), 5);
    assert!(!p.bool("deflate"));
    assert!(!p.bool("snappy"));
    assert!(!p.bool("statsd-mem-stats"));
    assert_eq!(p.duration("msg-timeout"), Duration::from_secs(5));
    assert_eq!(p.duration("max-msg-timeout"), Duration::from_secs(120));
    assert_eq!(p.duration("sync-timeout"), Duration::from_millis(1500));
    assert_eq!(p.string_list("lookupd-tcp-address"), ["x:1", "y:2"]);
    assert_eq!(
        p.float_list("e2e-processing-latency-percentile"),
        [0.99, 0.5]
    );
    assert_eq!(p.string("log-prefix"), "[n] ");
}

#[test]
fn coercion_errors_name_key_value_and_reason() {
    let set = nsqd();
    let err = with_config(&set, &[], "max_msg_size = 1.5\n").unwrap_err();
    assert_eq!(
        err,
        ConfigError::Coerce {
            key: "max_msg_size".into(),
            value: "1.5".into(),
            reason: "invalid int64 value type float64".into(),
        }
    );
    assert_eq!(
        err.to_string(),
        "failed to coerce value 1.5 for config key max_msg_size - invalid int64 value type float64"
    );
    let err = with_config(&set, &[], "msg_timeout = \"60\"\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "failed to coerce value 60 for config key msg_timeout - \
         time: missing unit in duration \"60\""
    );
    // A value that is not used (flag given on the command line) is not checked.
    let p = with_config(&set, &["--max-msg-size=10"], "max_msg_size = 1.5\n").unwrap();
    assert_eq!(p.int("max-msg-size"), 10);
}

#[test]
fn special_values() {
    let set = nsqd();
    let ok = |toml: &str| with_config(&set, &[], toml).unwrap();
    assert_eq!(ok("tls_required = true").tls_required(), TlsRequired::True);
    assert_eq!(
        ok("tls_required = \"false\"").tls_required(),
        TlsRequired::False
    );
    assert_eq!(
        ok("tls_required = \"tcp-https\"").tls_required(),
        TlsRequired::TcpHttps
    );
    assert_eq!(ok("tls_min_version = \"tls1.2\"").tls_min_version(), 0x0303);
    assert_eq!(ok("tls_min_version = \"TLS1.3\"").tls_min_version(), 0x0304);
    assert_eq!(ok("tls_min_version = \"\"").tls_min_version(), 0x0301);
    assert_eq!(
        ok("tls_min_version = \"\"").source("tls-min-version"),
        Source::Default
    );
    assert_eq!(ok("log_level = \"DEBUG\"").log_level("log-level"), "debug");
    assert_eq!(
        ok("log_level = \"warn\"").source("log-level"),
        Source::ConfigFile
    );

    let err = |toml: &str| with_config(&set, &[], toml).unwrap_err().to_string();
    assert_eq!(
        err("tls_required = \"maybe\""),
        "failed parsing tls_required maybe"
    );
    assert_eq!(err("tls_required = 2"), "failed parsing tls_required 2");
    assert_eq!(
        err("tls_min_version = \"ssl3.0\""),
        "failed parsing tls_min_version ssl3.0"
    );
    assert_eq!(err("log_level = \"loud\""), "failed parsing log_level loud");
    assert_eq!(err("log_level = 1"), "failed parsing log_level 1");
}

#[test]
fn special_values_are_checked_even_when_the_flag_is_given() {
    let set = nsqd();
    let err = with_config(&set, &["--log-level=debug"], "log_level = \"loud\"\n").unwrap_err();
    assert_eq!(
        err,
        ConfigError::Special {
            key: "log_level".into(),
            value: "loud".into()
        }
    );
    let p = with_config(
        &set,
        &["--tls-required=tcp-https", "--tls-min-version=tls1.3"],
        "tls_required = true\ntls_min_version = \"tls1.1\"\n",
    )
    .unwrap();
    assert_eq!(p.tls_required(), TlsRequired::TcpHttps);
    assert_eq!(p.tls_min_version(), 0x0304);
}

#[test]
fn special_values_on_the_other_daemons() {
    for set in [nsqlookupd(), nsqadmin()] {
        let p = with_config(&set, &[], "log_level = \"error\"\n").unwrap();
        assert_eq!(p.log_level("log-level"), "error");
        let err = with_config(&set, &[], "log_level = \"x\"\n").unwrap_err();
        assert_eq!(err.to_string(), "failed parsing log_level x");
        // They have no TLS options: the keys are unknown and ignored.
        assert!(with_config(&set, &[], "tls_required = \"bogus\"\n").is_ok());
    }
}

#[test]
fn toml_syntax_error() {
    let set = nsqd();
    let err = with_config(&set, &[], "max_rdy_count = 1\nbroken = \n").unwrap_err();
    let ConfigError::Load { path, reason } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(path, "<inline>");
    assert!(reason.starts_with("toml: line 2, column "), "{reason}");
    assert!(!reason.contains('\n'), "{reason}");
    assert!(err
        .to_string()
        .starts_with("failed to load config file <inline> - toml: line 2"));

    let dir = std::env::temp_dir().join(format!("nsq-flags-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.cfg");
    std::fs::write(&file, "a = [\n").unwrap();
    let mut p = cli(&set, &[]);
    let err = p.apply_config_file(&set, &file).unwrap_err().to_string();
    assert!(
        err.starts_with(&format!(
            "failed to load config file {} - toml: line ",
            file.display()
        )),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn missing_file() {
    let set = nsqd();
    let mut p = cli(&set, &[]);
    let err = p
        .apply_config_file(&set, Path::new("/nonexistent/nsqd.cfg"))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "failed to load config file /nonexistent/nsqd.cfg - \
         open /nonexistent/nsqd.cfg: no such file or directory"
    );
}

#[test]
fn later_files_override_earlier_ones_but_not_the_command_line() {
    let set = nsqd();
    let mut p = cli(&set, &["--max-rdy-count=1"]);
    p.apply_config_str(&set, "max_rdy_count = 2\nmem_queue_size = 3\n")
        .unwrap();
    p.apply_config_str(&set, "max_rdy_count = 4\nmem_queue_size = 5\n")
        .unwrap();
    assert_eq!(p.int("max-rdy-count"), 1);
    assert_eq!(p.int("mem-queue-size"), 5);
}

#[test]
fn nsqd_example_config_loads() {
    let set = nsqd();
    let mut p = cli(&set, &[]);
    p.apply_config_file(&set, &fixture("nsqd.cfg")).unwrap();
    assert_eq!(p.log_level("log-level"), "info");
    assert_eq!(p.string("tcp-address"), "0.0.0.0:4150");
    assert_eq!(p.string_list("lookupd-tcp-address"), ["127.0.0.1:4160"]);
    assert_eq!(p.int("max-msg-size"), 1024768);
    assert_eq!(p.int("max-body-size"), 5123840);
    assert_eq!(p.duration("msg-timeout"), Duration::from_secs(60));
    assert_eq!(
        p.duration("max-output-buffer-timeout"),
        Duration::from_secs(1)
    );
    assert_eq!(
        p.float_list("e2e-processing-latency-percentile"),
        [1.0, 0.99, 0.95]
    );
    assert_eq!(p.tls_required(), TlsRequired::False);
    assert_eq!(p.tls_min_version(), 0x0301);
    assert!(p.bool("deflate") && p.bool("snappy") && p.bool("statsd-mem-stats"));
    assert_eq!(p.int("max-deflate-level"), 6);
    assert_eq!(p.source("node-id"), Source::Default, "id is commented out");
    assert_eq!(p.source("max-msg-size"), Source::ConfigFile);
}

#[test]
fn nsqlookupd_example_config_loads() {
    let set = nsqlookupd();
    let mut p = cli(&set, &["--tombstone-lifetime=1m"]);
    p.apply_config_file(&set, &fixture("nsqlookupd.cfg"))
        .unwrap();
    assert_eq!(p.string("tcp-address"), "0.0.0.0:4160");
    assert_eq!(p.string("http-address"), "0.0.0.0:4161");
    assert_eq!(
        p.duration("inactive-producer-timeout"),
        Duration::from_secs(300)
    );
    assert_eq!(p.duration("tombstone-lifetime"), Duration::from_secs(60));
    assert_eq!(p.source("broadcast-address"), Source::Default);
}

#[test]
fn nsqadmin_example_config_loads() {
    let set = nsqadmin();
    let mut p = cli(&set, &[]);
    p.apply_config_file(&set, &fixture("nsqadmin.cfg")).unwrap();
    assert_eq!(p.string("http-address"), "0.0.0.0:4171");
    assert_eq!(p.string_list("lookupd-http-address"), ["127.0.0.1:4161"]);
    assert_eq!(p.string_list("nsqd-http-address"), ["127.0.0.1:4151"]);
    assert_eq!(p.duration("statsd-interval"), Duration::from_secs(60));
    assert_eq!(p.string("statsd-counter-format"), "stats.counters.%s.count");
    assert!(!p.bool("proxy-graphite"));
    assert!(p.string_list("admin-user").is_empty());
}
