//! A lookupd that goes away and comes back: nsqd keeps serving while it is
//! gone, and once a new nsqlookupd listens on the same addresses nsqd
//! reconnects and registers everything again, including what was created
//! while the lookupd was away.

use nsq_protocol::Command;
use nsq_test_support::cluster::eventually;
use nsq_test_support::{http_request, Daemon, V2Client};
use serde_json::Value;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

fn lookupd() -> Daemon {
    let args = [
        "--tcp-address=127.0.0.1:0",
        "--http-address=127.0.0.1:0",
        "--broadcast-address=127.0.0.1",
    ]
    .map(String::from);
    Daemon::start("nsqlookupd", &args, &["TCP", "HTTP"])
}

/// The TCP ports of the producers lookupd lists for `topic`.
async fn producer_ports(l: &Daemon, topic: &str) -> Vec<u64> {
    let r = http_request(l.http(), "GET", &format!("/lookup?topic={topic}"), b"").await;
    if r.status != 200 {
        return Vec::new();
    }
    let v: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
    v["producers"]
        .as_array()
        .map(|a| a.iter().filter_map(|p| p["tcp_port"].as_u64()).collect())
        .unwrap_or_default()
}

async fn channels(l: &Daemon, topic: &str) -> Vec<String> {
    let r = http_request(l.http(), "GET", &format!("/channels?topic={topic}"), b"").await;
    let v: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
    v["channels"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| c.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Waits until lookupd lists `nsqd` for `topic` with `channel`.
async fn wait_registered(l: &Daemon, nsqd: &Daemon, topic: &str, channel: &str) {
    let port = u64::from(nsqd.tcp().port());
    eventually(
        &format!("{topic}/{channel} registered in lookupd"),
        WAIT,
        || async {
            let ok = producer_ports(l, topic).await.contains(&port)
                && channels(l, topic).await.iter().any(|c| c == channel);
            ok.then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn nsqd_keeps_serving_without_lookupd_and_registers_again_when_it_returns() {
    let mut l = lookupd();
    let d = Daemon::nsqd(&[&format!("--lookupd-tcp-address={}", l.tcp())]);
    let mut sub = V2Client::connect(d.tcp()).await;
    sub.subscribe("before", "c1").await;
    wait_registered(&l, &d, "before", "c1").await;

    // The lookupd goes away; nsqd notices and keeps trying.
    l.kill();
    assert!(
        d.wait_for_log("connect failed", WAIT),
        "nsqd did not notice the lookupd going away; log:\n{}",
        d.log_text()
    );

    // Meanwhile nsqd serves publishers and consumers, and new topics and
    // channels can be created (their registration is owed to the lookupd).
    let mut p = V2Client::connect(d.tcp()).await;
    p.publish("before", b"while away").await;
    sub.send(Command::Rdy(1)).await;
    let m = sub.expect_message().await;
    assert_eq!(&m.body[..], b"while away");
    sub.send(Command::Fin(m.id)).await;
    let mut sub2 = V2Client::connect(d.tcp()).await;
    sub2.subscribe("during", "c2").await;
    let r = http_request(d.http(), "GET", "/ping", b"").await;
    assert_eq!(r.status, 200);

    // A new lookupd on the same addresses: it knows nothing until nsqd
    // reconnects and registers its whole state again.
    let l2 = l.restart_same_ports();
    assert_eq!((l2.tcp(), l2.http()), (l.tcp(), l.http()));
    wait_registered(&l2, &d, "before", "c1").await;
    wait_registered(&l2, &d, "during", "c2").await;

    // And later changes reach it as they happen.
    let mut sub3 = V2Client::connect(d.tcp()).await;
    sub3.subscribe("after", "c3").await;
    wait_registered(&l2, &d, "after", "c3").await;
}

/// A lookupd that is down when nsqd starts: nsqd serves anyway and registers
/// once the lookupd comes up.
#[tokio::test]
async fn nsqd_started_while_lookupd_is_down_registers_when_it_comes_up() {
    let mut l = lookupd();
    l.kill();
    let d = Daemon::nsqd(&[&format!("--lookupd-tcp-address={}", l.tcp())]);
    let mut c = V2Client::connect(d.tcp()).await;
    c.subscribe("late", "c").await;
    c.send(Command::Rdy(1)).await;
    let mut p = V2Client::connect(d.tcp()).await;
    p.publish("late", b"x").await;
    assert_eq!(&c.expect_message().await.body[..], b"x");
    let l2 = l.restart_same_ports();
    wait_registered(&l2, &d, "late", "c").await;
}
