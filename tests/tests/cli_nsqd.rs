//! nsqd's command line and process behaviour: Go flag syntax, --version, signals.

use nsq_test_support::daemon::binary_path;
use nsq_test_support::{http_request, Daemon};
use std::process::Command;
use std::time::Duration;

#[test]
fn version_prints_compatible_version() {
    let out = Command::new(binary_path("nsqd"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("nsqd v1.3.0 (built w/"), "{text}");
}

#[test]
fn unknown_flag_exits_2_with_go_message() {
    let out = Command::new(binary_path("nsqd"))
        .arg("--no-such-flag")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("flag provided but not defined: -no-such-flag"),
        "{err}"
    );
    assert!(err.contains("Usage of nsqd:"), "{err}");
}

#[test]
fn bad_node_id_is_fatal() {
    let out = Command::new(binary_path("nsqd"))
        .arg("--node-id=1024")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--node-id must be [0,1024)"), "{err}");
}

#[tokio::test]
async fn single_dash_go_flags_work_and_sigterm_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let args = vec![
        "-tcp-address=127.0.0.1:0".to_string(),
        "-http-address".to_string(),
        "127.0.0.1:0".to_string(),
        format!("-data-path={}", dir.path().display()),
        "-msg-timeout=5s".to_string(),
        "--verbose".to_string(),
    ];
    let mut d = Daemon::start_with_dir("nsqd", &args, &["TCP", "HTTP"], Some(dir));
    let r = http_request(d.http(), "GET", "/config/msg_timeout", b"").await;
    assert_eq!(r.text(), "5000000000");
    let status = d.terminate();
    assert_eq!(status.code(), Some(0), "log:\n{}", d.log_text());
    assert!(
        d.wait_for_log("NSQ: bye", Duration::from_secs(1)),
        "{}",
        d.log_text()
    );
}

#[tokio::test]
async fn topics_channels_and_pause_state_survive_restart() {
    let mut d = Daemon::nsqd(&[]);
    let h = d.http();
    http_request(h, "POST", "/topic/create?topic=keep", b"").await;
    http_request(h, "POST", "/channel/create?topic=keep&channel=paused", b"").await;
    http_request(h, "POST", "/channel/create?topic=keep&channel=open", b"").await;
    http_request(h, "POST", "/channel/pause?topic=keep&channel=paused", b"").await;
    http_request(h, "POST", "/topic/create?topic=gone%23ephemeral", b"").await;
    assert_eq!(d.terminate().code(), Some(0));
    let dir = d.take_data_dir().unwrap();
    let path = dir.path().to_path_buf();
    let meta = std::fs::read_to_string(path.join("nsqd.dat")).unwrap();
    assert_eq!(
        meta,
        r#"{"topics":[{"name":"keep","paused":false,"channels":[{"name":"open","paused":false},{"name":"paused","paused":true}]}],"version":"1.3.0"}"#
    );
    let d2 = Daemon::nsqd_in(dir, &path, &[]);
    let v = http_request(d2.http(), "GET", "/stats?format=json", b"")
        .await
        .json();
    let topics = v["topics"].as_array().unwrap();
    assert_eq!(topics.len(), 1);
    assert_eq!(topics[0]["topic_name"], "keep");
    let ch = topics[0]["channels"].as_array().unwrap();
    assert_eq!(ch[0]["channel_name"], "open");
    assert_eq!(ch[0]["paused"], false);
    assert_eq!(ch[1]["channel_name"], "paused");
    assert_eq!(ch[1]["paused"], true);
}

#[test]
fn missing_or_locked_data_path_is_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing");
    let out = Command::new(binary_path("nsqd"))
        .args([
            "--tcp-address=127.0.0.1:0",
            "--http-address=127.0.0.1:0",
            &format!("--data-path={}", missing.display()),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("failed to lock data-path"), "{err}");

    let first = Daemon::nsqd(&[]);
    let path = first.data_dir.as_ref().unwrap().path().to_path_buf();
    let out = Command::new(binary_path("nsqd"))
        .args([
            "--tcp-address=127.0.0.1:0",
            "--http-address=127.0.0.1:0",
            &format!("--data-path={}", path.display()),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("possibly in use by another instance of nsqd"),
        "{err}"
    );
}

#[tokio::test]
async fn config_file_keys_apply_and_flags_win() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("nsqd.cfg");
    // Keys as in NSQ's example config (note its non-default sizes), TOML integer durations in ms.
    std::fs::write(
        &cfg,
        "max_msg_size = 1024768\nmax_body_size = 5123840\nmsg_timeout = \"45s\"\nsync_timeout = 3000\nmem_queue_size = 77\nlog_level = \"info\"\nnsqlookupd_tcp_addresses = []\nmax_rdy_count = 100\n",
    )
    .unwrap();
    let cfg_flag = format!("--config={}", cfg.display());
    let d = Daemon::nsqd(&[&cfg_flag, "--max-rdy-count=200"]);
    let get = |opt: &'static str| {
        let addr = d.http();
        async move {
            http_request(addr, "GET", &format!("/config/{opt}"), b"")
                .await
                .text()
        }
    };
    assert_eq!(get("max_msg_size").await, "1024768");
    assert_eq!(get("msg_timeout").await, "45000000000");
    assert_eq!(get("sync_timeout").await, "3000000000");
    assert_eq!(get("mem_queue_size").await, "77");
    // The command line beats the file.
    assert_eq!(get("max_rdy_count").await, "200");
}

#[test]
fn bad_config_file_is_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("broken.cfg");
    std::fs::write(&cfg, "max_msg_size = [").unwrap();
    let out = Command::new(binary_path("nsqd"))
        .arg(format!("--config={}", cfg.display()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("failed to load config file"), "{err}");
}
