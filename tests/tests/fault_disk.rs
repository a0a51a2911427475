//! A disk that fills up: nsqd runs with SIGXFSZ ignored and its file size
//! limit (RLIMIT_FSIZE) lowered, so disk-queue writes fail with `EFBIG` the
//! way they fail with `ENOSPC` on a full disk. Publishes must then be refused
//! (`E_PUB_FAILED PUB failed <err>` on TCP, `503 EXITING` on HTTP, as nsqd
//! v1.3.0 answers), nothing acknowledged may be lost, and publishing must work
//! again once the limit is lifted ("space returns").

use bytes::Bytes;
use nsq_protocol::{Command, Frame};
use nsq_test_support::{create_topic_channel, http_request, Daemon, StartOptions, V2Client};
use std::collections::{HashMap, HashSet};
use std::time::Duration;

/// The file size limit while "full": every queue file stops growing here.
const FULL_AT: u64 = 8 * 1024;

/// Body of message `i`: self-describing, so a corrupted delivery is noticed.
fn body(tag: &str, i: usize) -> Bytes {
    let fill = char::from(b'a' + (i % 26) as u8);
    Bytes::from(format!("{tag}-{i}-{}", fill.to_string().repeat(100)))
}

fn start(args: &[&str]) -> Daemon {
    let options = StartOptions {
        ignore_sigxfsz: true,
    };
    Daemon::nsqd_with_options(args, options)
}

/// What one PUB attempt got.
enum Outcome {
    Ok,
    /// The error frame's text (the connection is closed after it: fatal).
    Failed(String),
}

async fn pub_once(c: &mut V2Client, topic: &str, b: &Bytes) -> Outcome {
    c.send(Command::Pub {
        topic: topic.into(),
        body: b.clone(),
    })
    .await;
    match c.read_non_heartbeat().await {
        Frame::Response(r) if &r[..] == b"OK" => Outcome::Ok,
        Frame::Error(e) => Outcome::Failed(String::from_utf8_lossy(&e).into_owned()),
        other => panic!("unexpected answer to PUB: {other:?}"),
    }
}

/// Publishes numbered messages until one is refused; returns the
/// acknowledged bodies and the refusal text.
async fn publish_until_refused(d: &Daemon, topic: &str, tag: &str) -> (Vec<Bytes>, String) {
    let mut c = V2Client::connect(d.tcp()).await;
    let mut acked = Vec::new();
    for i in 0..2000 {
        let b = body(tag, i);
        match pub_once(&mut c, topic, &b).await {
            Outcome::Ok => acked.push(b),
            Outcome::Failed(text) => {
                // E_PUB_FAILED is fatal: nsqd closes the connection after it.
                c.expect_closed(Duration::from_secs(5)).await;
                return (acked, text);
            }
        }
    }
    panic!("2000 publishes of ~130 bytes accepted with a {FULL_AT}-byte file size limit");
}

/// Consumes `topic/channel` until every body of `expected` arrived; asserts
/// that nothing arrives twice and that every body is one that was sent.
async fn consume_exactly(
    d: &Daemon,
    topic: &str,
    channel: &str,
    expected: &[Bytes],
    sent: &HashSet<Bytes>,
) {
    let mut c = V2Client::connect(d.tcp()).await;
    c.subscribe(topic, channel).await;
    c.send(Command::Rdy(200)).await;
    let want: HashSet<Bytes> = expected.iter().cloned().collect();
    let mut seen: HashMap<Bytes, u32> = HashMap::new();
    while !want.iter().all(|b| seen.contains_key(b)) {
        match c.try_read_frame(Duration::from_secs(5)).await {
            Some(Frame::Message(m)) => {
                assert!(
                    sent.contains(&m.body),
                    "delivered a body that was never published (corrupt?): {:?}",
                    String::from_utf8_lossy(&m.body)
                );
                c.send(Command::Fin(m.id)).await;
                *seen.entry(m.body).or_default() += 1;
            }
            Some(_) => {}
            None => {
                let missing: Vec<_> = want.iter().filter(|b| !seen.contains_key(*b)).collect();
                panic!(
                    "{} of {} acknowledged messages lost on {topic}/{channel}, e.g. {:?}",
                    missing.len(),
                    want.len(),
                    missing
                        .first()
                        .map(|b| String::from_utf8_lossy(b).into_owned())
                );
            }
        }
    }
    // Anything else still queued would be a duplicate or a refused publish.
    c.expect_silence(Duration::from_millis(300)).await;
    let dups: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(dups.is_empty(), "delivered twice: {dups:?}");
}

/// The whole scenario on one nsqd: fill up, check the refusals, lift the
/// limit, publish again, and consume every acknowledged message.
async fn full_disk_scenario(args: &[&str], with_channel: bool) {
    let d = start(args);
    let topic = "full";
    create_topic_channel(d.http(), topic, with_channel.then_some("c")).await;
    d.set_file_size_limit(Some(FULL_AT));

    let (mut acked, refusal) = publish_until_refused(&d, topic, "before").await;
    assert!(
        !acked.is_empty(),
        "nothing accepted before the disk filled up"
    );
    assert!(
        refusal.starts_with("E_PUB_FAILED PUB failed "),
        "refusal text {refusal:?}"
    );
    let mut sent: HashSet<Bytes> = acked.iter().cloned().collect();
    // The refused body might have reached the queue partially: it may not be
    // delivered corrupted, but it may be delivered (at-least-once).
    sent.insert(body("before", acked.len()));

    // Still full: the next attempts are refused as well, on TCP and HTTP.
    let mut c = V2Client::connect(d.tcp()).await;
    let again = body("again", 0);
    sent.insert(again.clone());
    match pub_once(&mut c, topic, &again).await {
        Outcome::Failed(t) => assert!(t.starts_with("E_PUB_FAILED PUB failed "), "{t}"),
        Outcome::Ok => panic!("PUB accepted while the disk is still full"),
    }
    let hb = body("http", 0);
    sent.insert(hb.clone());
    let r = http_request(d.http(), "POST", &format!("/pub?topic={topic}"), &hb).await;
    assert_eq!(r.status, 503, "HTTP /pub while full: {}", r.text());
    assert_eq!(r.json()["message"], "EXITING", "{}", r.text());
    // Other requests are still served; /ping and /stats report the failed
    // write as v1.3.0 does (`NOK - <error>`).
    let ping = http_request(d.http(), "GET", "/ping", b"").await;
    assert_eq!(ping.status, 500, "/ping while full: {}", ping.text());
    assert!(ping.text().starts_with("NOK - "), "{}", ping.text());
    let stats = http_request(d.http(), "GET", "/stats?format=json", b"").await;
    let health = stats.json()["health"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(health.starts_with("NOK - "), "/stats health {health:?}");

    // Space returns: publishing works again at once, on both paths.
    d.set_file_size_limit(None);
    let mut c = V2Client::connect(d.tcp()).await;
    for i in 0..50 {
        let b = body("after", i);
        sent.insert(b.clone());
        match pub_once(&mut c, topic, &b).await {
            Outcome::Ok => acked.push(b),
            Outcome::Failed(t) => panic!("PUB {i} refused after space returned: {t}"),
        }
    }
    let hb = body("http-after", 0);
    sent.insert(hb.clone());
    let r = http_request(d.http(), "POST", &format!("/pub?topic={topic}"), &hb).await;
    assert_eq!(
        r.status,
        200,
        "HTTP /pub after space returned: {}",
        r.text()
    );
    acked.push(hb);
    let ping = http_request(d.http(), "GET", "/ping", b"").await;
    assert_eq!(
        (ping.status, ping.text().as_str()),
        (200, "OK"),
        "/ping after space returned"
    );

    consume_exactly(&d, topic, "c", &acked, &sent).await;
}

#[tokio::test]
async fn full_disk_refuses_topic_publishes_and_recovers() {
    full_disk_scenario(&["--mem-queue-size=0"], false).await;
}

#[tokio::test]
async fn full_disk_refuses_channel_publishes_and_recovers() {
    full_disk_scenario(&["--mem-queue-size=0"], true).await;
}

#[tokio::test]
async fn full_disk_with_sync_every_1_refuses_and_recovers() {
    full_disk_scenario(&["--mem-queue-size=0", "--sync-every=1"], true).await;
}

/// Acknowledged messages written before the disk filled up survive a restart
/// that happens while it is still full (clean shutdown moves nothing new to
/// disk, so it must not fail or corrupt what is there).
#[tokio::test]
async fn acknowledged_messages_survive_a_restart_while_the_disk_is_full() {
    let mut d = start(&["--mem-queue-size=0"]);
    create_topic_channel(d.http(), "keep", Some("c")).await;
    d.set_file_size_limit(Some(FULL_AT));
    let (acked, _) = publish_until_refused(&d, "keep", "k").await;
    let mut sent: HashSet<Bytes> = acked.iter().cloned().collect();
    sent.insert(body("k", acked.len()));
    let status = d.terminate();
    assert!(status.success(), "nsqd exited with {status} on SIGTERM");
    let d2 = d.restart_nsqd(&["--mem-queue-size=0"]);
    consume_exactly(&d2, "keep", "c", &acked, &sent).await;
}

/// Messages that waited in the topic's own queue (no channel yet) and then
/// cannot be copied to a new channel because the disk is full stay in the
/// topic (counted in its depth) and reach the channel once space returns.
#[tokio::test]
async fn backlog_moved_to_a_channel_while_the_disk_is_full_is_kept_and_retried() {
    let d = start(&["--mem-queue-size=0"]);
    let topic = "stall";
    let mut c = V2Client::connect(d.tcp()).await;
    let mut acked = Vec::new();
    for i in 0..200 {
        let b = body("backlog", i);
        match pub_once(&mut c, topic, &b).await {
            Outcome::Ok => acked.push(b),
            Outcome::Failed(t) => panic!("PUB {i} refused with space left: {t}"),
        }
    }
    d.set_file_size_limit(Some(FULL_AT));
    create_topic_channel(d.http(), topic, Some("c")).await;
    // The pump cannot store the copies (the channel logs why); they must
    // stay counted in the topic meanwhile.
    assert!(
        d.wait_for_log(
            "CHANNEL(stall:c): failed to store messages",
            Duration::from_secs(10)
        ),
        "the channel never failed to store the backlog:\n{}",
        d.log_text()
    );
    let stats = http_request(d.http(), "GET", "/stats?format=json", b"").await;
    let t = stats.json()["topics"]
        .as_array()
        .and_then(|ts| ts.iter().find(|t| t["topic_name"] == topic).cloned())
        .expect("topic in /stats");
    let topic_depth = t["depth"].as_u64().unwrap_or(0);
    let channel_depth = t["channels"][0]["depth"].as_u64().unwrap_or(0);
    assert_eq!(
        topic_depth + channel_depth,
        200,
        "messages unaccounted for while the disk is full: {t}"
    );
    d.set_file_size_limit(None);
    let sent: HashSet<Bytes> = acked.iter().cloned().collect();
    consume_exactly(&d, topic, "c", &acked, &sent).await;
}
