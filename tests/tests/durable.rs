//! nsqd's durability: messages survive a clean restart, the Go data directory
//! loads, corrupt files are skipped.

use base64::Engine;
use bytes::Bytes;
use nsq_protocol::{Command, Message};
use nsq_test_support::{http_request, Daemon, V2Client};
use serde_json::Value;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name.to_string_lossy().ends_with(".dat") {
            std::fs::copy(entry.path(), to.join(&name)).unwrap();
        }
    }
}

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/go-datadir")
}

fn expected() -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture_dir().join("expected.json")).unwrap())
        .unwrap()
}

fn restart(d: &mut Daemon, args: &[&str]) -> Daemon {
    assert_eq!(d.terminate().code(), Some(0), "log:\n{}", d.log_text());
    let dir = d.take_data_dir().unwrap();
    let path = dir.path().to_path_buf();
    Daemon::nsqd_in(dir, &path, args)
}

async fn stats(d: &Daemon) -> Value {
    http_request(d.http(), "GET", "/stats?format=json", b"")
        .await
        .json()
}

/// Reads messages until `n` distinct bodies were seen, FINing each; returns
/// the distinct bodies.
async fn consume_all(c: &mut V2Client, n: usize) -> HashSet<Bytes> {
    let mut seen = HashSet::new();
    while seen.len() < n {
        let m = c.expect_message().await;
        c.send(Command::Fin(m.id)).await;
        seen.insert(m.body);
    }
    seen
}

async fn nothing_lost_across_restart(mem_queue_size: &str) {
    let args = [mem_queue_size, "--msg-timeout=60s"];
    let mut d = Daemon::nsqd(&args);
    let total = 20_000usize;
    // A consumer that holds 50 messages in flight when nsqd stops.
    let mut holder = V2Client::connect(d.tcp()).await;
    holder.subscribe("durable", "c").await;
    let mut p = V2Client::connect(d.tcp()).await;
    let mut want = HashSet::new();
    for batch in 0..(total / 500) {
        let bodies: Vec<Bytes> = (0..500)
            .map(|i| Bytes::from(format!("m-{:05}", batch * 500 + i)))
            .collect();
        want.extend(bodies.iter().cloned());
        p.send(Command::Mpub {
            topic: "durable".into(),
            bodies,
        })
        .await;
        p.expect_response(b"OK").await;
    }
    // Deferred messages at shutdown: they stay deferred after the restart.
    for i in 0..10 {
        let body = Bytes::from(format!("deferred-{i}"));
        p.send(Command::Dpub {
            topic: "durable".into(),
            defer_ms: 3_600_000,
            body,
        })
        .await;
        p.expect_response(b"OK").await;
    }
    holder.send(Command::Rdy(50)).await;
    for _ in 0..50 {
        holder.expect_message().await; // in flight, never finished
    }
    let v = stats(&d).await;
    assert_eq!(v["topics"][0]["channels"][0]["in_flight_count"], 50);
    assert_eq!(v["topics"][0]["channels"][0]["deferred_count"], 10);
    drop(p);
    let mut d = restart(&mut d, &args);
    drop(holder);
    let v = stats(&d).await;
    let depth = v["topics"][0]["channels"][0]["depth"].as_u64().unwrap();
    assert!(depth as usize >= total + 10, "depth after restart {depth}");
    let mut c = V2Client::connect(d.tcp()).await;
    c.subscribe("durable", "c").await;
    c.send(Command::Rdy(2500)).await;
    let seen = consume_all(&mut c, want.len()).await;
    assert_eq!(seen, want);
    c.expect_silence(Duration::from_millis(300)).await;
    let v = stats(&d).await;
    assert_eq!(v["topics"][0]["channels"][0]["deferred_count"], 10, "{v}");
    assert_eq!(v["topics"][0]["channels"][0]["depth"], 0, "{v}");
    let _ = &mut d;
}

#[tokio::test]
async fn nothing_accepted_is_lost_across_sigterm_with_small_memory_queue() {
    nothing_lost_across_restart("--mem-queue-size=100").await;
}

#[tokio::test]
async fn nothing_accepted_is_lost_across_sigterm_disk_only() {
    nothing_lost_across_restart("--mem-queue-size=0").await;
}

#[tokio::test]
async fn topic_without_channels_keeps_messages_across_restart() {
    let mut d = Daemon::nsqd(&["--mem-queue-size=10"]);
    let mut p = V2Client::connect(d.tcp()).await;
    for i in 0..100 {
        p.publish("waiting", format!("w{i}").as_bytes()).await;
    }
    drop(p);
    let d2 = restart(&mut d, &[]);
    let v = stats(&d2).await;
    assert_eq!(v["topics"][0]["depth"], 100);
    let mut c = V2Client::connect(d2.tcp()).await;
    c.subscribe("waiting", "late").await;
    c.send(Command::Rdy(200)).await;
    let seen = consume_all(&mut c, 100).await;
    assert_eq!(seen.len(), 100);
}

fn decode_body(d: &Value) -> Vec<u8> {
    match d.get("body").and_then(Value::as_str) {
        Some(s) => s.as_bytes().to_vec(),
        None => base64::engine::general_purpose::STANDARD
            .decode(d["body_base64"].as_str().unwrap())
            .unwrap(),
    }
}

fn assert_delivery(m: &Message, want: &Value) {
    assert_eq!(
        String::from_utf8_lossy(&m.id.0),
        want["id"].as_str().unwrap()
    );
    assert_eq!(m.timestamp, want["timestamp"].as_i64().unwrap());
    assert_eq!(u64::from(m.attempts), want["attempts"].as_u64().unwrap());
    assert_eq!(&m.body[..], &decode_body(want)[..]);
}

#[tokio::test]
async fn go_data_directory_loads_and_delivers_in_file_order() {
    let exp = expected();
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture_dir(), dir.path());
    let path = dir.path().to_path_buf();
    let d = Daemon::nsqd_in(
        dir,
        &path,
        &[
            "--mem-queue-size=0",
            "--max-bytes-per-file=4096",
            "--sync-every=1",
            "--node-id=7",
        ],
    );
    let v = stats(&d).await;
    let after_load = &exp["expected_state_after_load"]["topics"];
    let topics = v["topics"].as_array().unwrap();
    assert_eq!(topics.len(), 2, "{v}");
    for t in topics {
        let name = t["topic_name"].as_str().unwrap();
        let want = &after_load[name];
        assert_eq!(t["paused"], want["paused"], "{name}");
        assert_eq!(t["depth"], want["depth"], "{name}");
        for ch in t["channels"].as_array().unwrap() {
            let cname = ch["channel_name"].as_str().unwrap();
            assert_eq!(
                ch["paused"], want["channels"][cname]["paused"],
                "{name}/{cname}"
            );
            assert_eq!(
                ch["depth"], want["channels"][cname]["depth"],
                "{name}/{cname}"
            );
        }
    }
    let deliveries = &exp["expected_state_after_load"]["deliveries"];
    // alpha/c2: every unread record in file order, attempts + 1.
    let mut c2 = V2Client::connect(d.tcp()).await;
    c2.subscribe("alpha", "c2").await;
    c2.send(Command::Rdy(200)).await;
    for want in deliveries["alpha/c2"].as_array().unwrap() {
        let m = c2.expect_message().await;
        assert_delivery(&m, want);
        c2.send(Command::Fin(m.id)).await;
    }
    c2.expect_silence(Duration::from_millis(500)).await;
    // alpha/c1 is paused: nothing until unpause.
    let mut c1 = V2Client::connect(d.tcp()).await;
    c1.subscribe("alpha", "c1").await;
    c1.send(Command::Rdy(200)).await;
    c1.expect_silence(Duration::from_millis(500)).await;
    http_request(
        d.http(),
        "POST",
        "/channel/unpause?topic=alpha&channel=c1",
        b"",
    )
    .await;
    for want in deliveries["alpha/c1"].as_array().unwrap() {
        let m = c1.expect_message().await;
        assert_delivery(&m, want);
        c1.send(Command::Fin(m.id)).await;
    }
    // beta: paused topic without channels; a new channel gets its 20 messages after unpause.
    let mut b = V2Client::connect(d.tcp()).await;
    b.subscribe("beta", "verify").await;
    b.send(Command::Rdy(200)).await;
    b.expect_silence(Duration::from_millis(500)).await;
    http_request(d.http(), "POST", "/topic/unpause?topic=beta", b"").await;
    let beta_key = deliveries
        .as_object()
        .unwrap()
        .keys()
        .find(|k| k.starts_with("beta"))
        .unwrap()
        .clone();
    for want in deliveries[&beta_key].as_array().unwrap() {
        let m = b.expect_message().await;
        assert_delivery(&m, want);
        b.send(Command::Fin(m.id)).await;
    }
    b.expect_silence(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn corrupt_disk_file_is_set_aside_and_nsqd_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let mut d = Daemon::nsqd_in(
        dir,
        &path,
        &["--mem-queue-size=0", "--max-bytes-per-file=1000"],
    );
    let mut p = V2Client::connect(d.tcp()).await;
    http_request(d.http(), "POST", "/topic/create?topic=bad", b"").await;
    http_request(d.http(), "POST", "/channel/create?topic=bad&channel=c", b"").await;
    for i in 0..60 {
        p.publish("bad", format!("record-{i:03}").as_bytes()).await;
    }
    drop(p);
    let mut d = restart(&mut d, &["--mem-queue-size=0", "--max-bytes-per-file=1000"]);
    assert_eq!(d.terminate().code(), Some(0));
    // Overwrite the start of the first channel segment with an impossible length.
    let seg = path.join("bad:c.diskqueue.000000.dat");
    let mut bytes = std::fs::read(&seg).unwrap();
    bytes[..4].copy_from_slice(&u32::MAX.to_be_bytes());
    std::fs::write(&seg, bytes).unwrap();
    let dir = d.take_data_dir().unwrap();
    let d = Daemon::nsqd_in(
        dir,
        &path,
        &["--mem-queue-size=0", "--max-bytes-per-file=1000"],
    );
    let mut c = V2Client::connect(d.tcp()).await;
    c.subscribe("bad", "c").await;
    c.send(Command::Rdy(100)).await;
    // Records of later segments still arrive.
    let m = c.expect_message().await;
    assert!(m.body.starts_with(b"record-"));
    assert!(path.join("bad:c.diskqueue.000000.dat.bad").exists());
    let v = stats(&d).await;
    assert_eq!(v["topics"][0]["channels"][0]["backend_bad_files"], 1, "{v}");
    // And the daemon keeps accepting work.
    let mut p = V2Client::connect(d.tcp()).await;
    p.publish("bad", b"after").await;
    let r = http_request(d.http(), "GET", "/ping", b"").await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn deferred_message_keeps_its_remaining_delay_across_restart() {
    let mut d = Daemon::nsqd(&[]);
    let mut c = V2Client::connect(d.tcp()).await;
    c.subscribe("later", "c").await;
    let mut p = V2Client::connect(d.tcp()).await;
    p.send(Command::Dpub {
        topic: "later".into(),
        defer_ms: 3000,
        body: Bytes::from_static(b"in three seconds"),
    })
    .await;
    p.expect_response(b"OK").await;
    let published = std::time::Instant::now();
    drop((c, p));
    let d2 = restart(&mut d, &[]);
    // The Go-readable record is on disk, its due time in the side file.
    let v = stats(&d2).await;
    assert_eq!(v["topics"][0]["channels"][0]["depth"], 1, "{v}");
    let mut c = V2Client::connect(d2.tcp()).await;
    c.subscribe("later", "c").await;
    c.send(Command::Rdy(1)).await;
    let m = c.expect_message().await;
    assert_eq!(&m.body[..], b"in three seconds");
    let waited = published.elapsed();
    assert!(
        waited >= Duration::from_millis(2900),
        "delivered after {waited:?}"
    );
}

#[tokio::test]
async fn deleting_and_emptying_remove_the_disk_files() {
    let d = Daemon::nsqd(&["--mem-queue-size=0"]);
    let path = d.data_dir.as_ref().unwrap().path().to_path_buf();
    let h = d.http();
    http_request(h, "POST", "/topic/create?topic=files", b"").await;
    http_request(h, "POST", "/channel/create?topic=files&channel=c", b"").await;
    for i in 0..5 {
        http_request(h, "POST", "/pub?topic=files", format!("m{i}").as_bytes()).await;
    }
    let segment = path.join("files:c.diskqueue.000000.dat");
    assert!(segment.exists(), "channel segment written");
    http_request(h, "POST", "/channel/empty?topic=files&channel=c", b"").await;
    assert!(!segment.exists(), "emptying removes the segment");
    assert_eq!(stats(&d).await["topics"][0]["channels"][0]["depth"], 0);
    http_request(h, "POST", "/pub?topic=files", b"again").await;
    http_request(h, "POST", "/topic/delete?topic=files", b"").await;
    let left: Vec<String> = std::fs::read_dir(&path)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("files"))
        .collect();
    assert!(left.is_empty(), "files left after delete: {left:?}");
}
