//! Smoke test for the load tool (`nsq_load`), so it cannot rot: a tiny
//! `conns` run (200 held connections) and a tiny `mesh` run (4 publishers,
//! 4 consumers, 2 topics x 2 channels, 2 s) against a real nsqd. Both must
//! report that the connection count was reached and that every published
//! message reached every channel. The long runs are `bench/load` and
//! `bench/backlog` (figures in docs/RELIABILITY.md).
//!
//! Needs the binaries: `cargo build --workspace --bins`.

use nsq_test_support::daemon::{binary_path, Daemon};
use std::process::Command;

/// Runs `nsq_load` with `args` and returns its `key: value` output lines,
/// asserting it exited successfully.
fn nsq_load(args: &[String]) -> Vec<(String, String)> {
    let out = Command::new(binary_path("nsq_load"))
        .args(args)
        .output()
        .expect("run nsq_load");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "nsq_load {args:?} failed ({}):\nstdout: {stdout}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("[nsq_load "))
        .filter_map(|l| l.split_once("] "))
        .filter_map(|(_, kv)| kv.split_once(": "))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn field<'a>(fields: &'a [(String, String)], key: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {key:?} in {fields:?}"))
}

fn number(fields: &[(String, String)], key: &str) -> u64 {
    field(fields, key)
        .parse()
        .unwrap_or_else(|_| panic!("{key} is not a count in {fields:?}"))
}

#[test]
fn conns_holds_every_connection() {
    let nsqd = Daemon::nsqd(&[]);
    let fields = nsq_load(&[
        "conns".into(),
        format!("--nsqd-tcp-address={}", nsqd.tcp()),
        format!("--nsqd-http-address={}", nsqd.http()),
        "--connections=200".into(),
        "--hold=1500ms".into(),
        "--heartbeat=1s".into(),
    ]);
    assert_eq!(number(&fields, "opened"), 200, "{fields:?}");
    assert_eq!(number(&fields, "held"), 200, "{fields:?}");
    // nsqd's own view agrees.
    assert_eq!(number(&fields, "stats_clients"), 200, "{fields:?}");
    // Every connection answered at least one heartbeat while held.
    assert!(number(&fields, "heartbeats_answered") >= 200, "{fields:?}");
    assert_eq!(field(&fields, "ping"), r#"["OK","OK"]"#, "{fields:?}");
    assert!(
        field(&fields, "pub_sub_round_trip").ends_with(r#"ms"]"#),
        "{fields:?}"
    );
    assert_eq!(field(&fields, "result"), "PASS", "{fields:?}");
}

#[test]
fn mesh_delivers_every_message_to_every_channel() {
    let nsqd = Daemon::nsqd(&[]);
    let fields = nsq_load(&[
        "mesh".into(),
        format!("--nsqd-tcp-address={}", nsqd.tcp()),
        "--publishers=4".into(),
        "--consumers=4".into(),
        "--topics=2".into(),
        "--channels=2".into(),
        "--rate=2000".into(),
        "--runfor=2s".into(),
        "--drain-timeout=20s".into(),
    ]);
    let published = number(&fields, "published");
    assert!(published > 1000, "{fields:?}");
    // Every message once per channel of its topic: 2 channels each.
    assert_eq!(
        number(&fields, "expected_channel_deliveries"),
        2 * published,
        "{fields:?}"
    );
    assert_eq!(number(&fields, "missing"), 0, "{fields:?}");
    assert_eq!(number(&fields, "foreign"), 0, "{fields:?}");
    assert!(number(&fields, "deliveries") >= 2 * published, "{fields:?}");
    assert_eq!(field(&fields, "delivery_check"), "PASS", "{fields:?}");
    assert_eq!(field(&fields, "result"), "PASS", "{fields:?}");
}
