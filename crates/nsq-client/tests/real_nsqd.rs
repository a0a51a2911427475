//! The client against the real nsqd binary on free ports (and a fake
//! nsqlookupd for discovery). Build the binaries first:
//! `cargo build --workspace --bins`.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use bytes::Bytes;
use nsq_client::{Config, Consumer, Delivery, Producer, PublishError};
use nsq_test_support::utility::FakeLookupd;
use nsq_test_support::{http_request, Daemon};

const WAIT: Duration = Duration::from_secs(15);

fn config(max_in_flight: u32) -> Config {
    Config {
        max_in_flight,
        user_agent: "client-test/1".into(),
        ..Config::default()
    }
}

async fn recv(c: &Consumer) -> Delivery {
    tokio::time::timeout(WAIT, c.recv())
        .await
        .expect("a message within the time limit")
        .expect("consumer still running")
}

async fn stats(d: &Daemon, topic: &str) -> serde_json::Value {
    http_request(
        d.http(),
        "GET",
        &format!("/stats?format=json&topic={topic}"),
        b"",
    )
    .await
    .json()
}

async fn channel_stats(d: &Daemon, topic: &str, channel: &str) -> serde_json::Value {
    let s = stats(d, topic).await;
    s["topics"][0]["channels"]
        .as_array()
        .and_then(|chs| chs.iter().find(|c| c["channel_name"] == channel).cloned())
        .unwrap_or(serde_json::Value::Null)
}

/// Polls `check` until it holds or the time limit passes.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + WAIT;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn producer_pub_mpub_dpub_are_acknowledged() {
    let d = Daemon::nsqd(&[]);
    let p = Producer::new(d.tcp().to_string(), config(1));
    p.connect().await.unwrap();
    p.publish("pt", "one").await.unwrap();
    p.multi_publish("pt", vec![Bytes::from("two"), Bytes::from("three")])
        .await
        .unwrap();
    p.deferred_publish("pt", Duration::from_millis(50), "four")
        .await
        .unwrap();
    // Async acknowledgements, many in flight at once.
    let mut acks = Vec::new();
    for i in 0..50 {
        acks.push(p.publish_async("pt", format!("a{i}")).await.unwrap());
    }
    for ack in acks {
        ack.await.unwrap();
    }
    let s = stats(&d, "pt").await;
    assert_eq!(s["topics"][0]["message_count"], 54);
    assert!(matches!(
        p.publish("bad topic", "x").await,
        Err(PublishError::InvalidTopic(_))
    ));
    assert!(matches!(
        p.publish("pt", "").await,
        Err(PublishError::EmptyBody)
    ));
    p.stop().await;
    assert!(matches!(
        p.publish("pt", "x").await,
        Err(PublishError::Stopped)
    ));
}

#[tokio::test]
async fn producer_reports_rejection_and_reconnects() {
    let d = Daemon::nsqd(&["--max-msg-size=8"]);
    let p = Producer::new(d.tcp().to_string(), config(1));
    let err = p.publish("rt", "this body is too big").await.unwrap_err();
    match err {
        PublishError::Rejected { error, .. } => {
            assert!(error.starts_with("E_BAD_MESSAGE"), "{error}")
        }
        other => panic!("unexpected {other}"),
    }
    // nsqd closed the connection after the fatal error; the next publish
    // opens a new one.
    let deadline = Instant::now() + WAIT;
    loop {
        match p.publish("rt", "ok").await {
            Ok(()) => break,
            Err(PublishError::ConnectionLost { .. }) if Instant::now() < deadline => continue,
            Err(e) => panic!("publish after rejection failed: {e}"),
        }
    }
    assert_eq!(stats(&d, "rt").await["topics"][0]["message_count"], 1);
}

#[tokio::test]
async fn unreachable_nsqd_is_a_clear_connect_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    drop(listener);
    let p = Producer::new(addr.clone(), config(1));
    let err = p.connect().await.unwrap_err().to_string();
    assert!(
        err.contains(&addr) && err.contains("cannot connect"),
        "{err}"
    );
    let c = Consumer::new("t", "c", config(1)).unwrap();
    let err = c.connect_to_nsqd(&addr).await.unwrap_err().to_string();
    assert!(err.contains("cannot connect"), "{err}");
}

#[tokio::test]
async fn consumer_spreads_rdy_over_two_nsqd_and_gets_everything() {
    let a = Daemon::nsqd(&[]);
    let b = Daemon::nsqd(&[]);
    for (d, prefix) in [(&a, "a"), (&b, "b")] {
        let p = Producer::new(d.tcp().to_string(), config(1));
        let bodies = (0..10)
            .map(|i| Bytes::from(format!("{prefix}{i}")))
            .collect();
        p.multi_publish("two", bodies).await.unwrap();
    }
    let c = Consumer::new("two", "ch", config(4)).unwrap();
    c.connect_to_nsqds(&[a.tcp().to_string(), b.tcp().to_string()])
        .await
        .unwrap();
    assert_eq!(c.connections().len(), 2);
    let mut seen = BTreeSet::new();
    while seen.len() < 20 {
        let m = recv(&c).await;
        seen.insert(String::from_utf8_lossy(m.body()).into_owned());
        m.finish();
    }
    assert!(seen.contains("a0") && seen.contains("b9"));
    for d in [&a, &b] {
        let ch = channel_stats(d, "two", "ch").await;
        assert_eq!(ch["clients"][0]["ready_count"], 2, "{ch}");
        assert_eq!(ch["clients"][0]["user_agent"], "client-test/1");
    }
    // Every FIN reaches nsqd.
    for d in [&a, &b] {
        eventually("FINs to arrive", || async {
            channel_stats(d, "two", "ch").await["clients"][0]["finish_count"] == 10
        })
        .await;
    }
    let s = c.stats();
    assert_eq!((s.messages_received, s.messages_finished), (20, 20));
}

#[tokio::test]
async fn fin_req_touch_reach_nsqd() {
    let d = Daemon::nsqd(&[]);
    let p = Producer::new(d.tcp().to_string(), config(1));
    p.publish("frt", "m").await.unwrap();
    let c = Consumer::new("frt", "ch", config(1)).unwrap();
    c.connect_to_nsqd(&d.tcp().to_string()).await.unwrap();
    let m = recv(&c).await;
    assert_eq!(m.attempts(), 1);
    m.touch();
    m.requeue_without_backoff(Some(Duration::ZERO));
    let m = recv(&c).await;
    assert_eq!(m.attempts(), 2);
    assert_eq!(m.body(), "m");
    m.finish();
    eventually("channel to settle", || async {
        let ch = channel_stats(&d, "frt", "ch").await;
        ch["requeue_count"] == 1
            && ch["in_flight_count"] == 0
            && ch["depth"] == 0
            && ch["clients"][0]["finish_count"] == 1
    })
    .await;
    // A delivery dropped unanswered is requeued at once.
    p.publish("frt", "dropped").await.unwrap();
    drop(recv(&c).await);
    let again = recv(&c).await;
    assert_eq!(again.body(), "dropped");
    assert_eq!(again.attempts(), 2);
    again.finish();
}

#[tokio::test]
async fn requeue_with_backoff_pauses_the_consumer() {
    let d = Daemon::nsqd(&[]);
    let p = Producer::new(d.tcp().to_string(), config(1));
    p.multi_publish("bo", vec![Bytes::from("x"), Bytes::from("y")])
        .await
        .unwrap();
    let mut cfg = config(5);
    cfg.backoff_multiplier = Duration::from_millis(600);
    let c = Consumer::new("bo", "ch", cfg).unwrap();
    c.connect_to_nsqd(&d.tcp().to_string()).await.unwrap();
    let first = recv(&c).await;
    let second = recv(&c).await;
    let failed_at = Instant::now();
    first.requeue(Some(Duration::ZERO));
    eventually("RDY 0 during backoff", || async {
        channel_stats(&d, "bo", "ch").await["clients"][0]["ready_count"] == 0
    })
    .await;
    second.finish();
    let retried = recv(&c).await;
    assert!(
        failed_at.elapsed() >= Duration::from_millis(500),
        "redelivered after {:?}, before the backoff pause ended",
        failed_at.elapsed()
    );
    // Testing with one message, then back to full RDY after a success.
    assert_eq!(
        channel_stats(&d, "bo", "ch").await["clients"][0]["ready_count"],
        1
    );
    retried.finish();
    eventually("RDY restored", || async {
        channel_stats(&d, "bo", "ch").await["clients"][0]["ready_count"] == 5
    })
    .await;
}

#[tokio::test]
async fn consumer_reconnects_after_nsqd_restart() {
    let mut d = Daemon::nsqd(&[]);
    let tcp = d.tcp();
    let c = Consumer::new("rc", "ch", config(10)).unwrap();
    c.connect_to_nsqd(&tcp.to_string()).await.unwrap();
    let dir = d.take_data_dir().expect("data dir");
    assert!(d.terminate().success());
    eventually("disconnect noticed", || async {
        c.connections().is_empty()
    })
    .await;
    let args = vec![
        format!("--tcp-address={tcp}"),
        "--http-address=127.0.0.1:0".to_string(),
        format!("--data-path={}", dir.path().display()),
    ];
    let d2 = Daemon::start_with_dir("nsqd", &args, &["TCP", "HTTP"], Some(dir));
    eventually("reconnect", || async { c.connections().len() == 1 }).await;
    let p = Producer::new(d2.tcp().to_string(), config(1));
    p.publish("rc", "after restart").await.unwrap();
    let m = recv(&c).await;
    assert_eq!(m.body(), "after restart");
    m.finish();
}

#[tokio::test]
async fn graceful_stop_finishes_in_flight_work() {
    let d = Daemon::nsqd(&[]);
    let p = Producer::new(d.tcp().to_string(), config(1));
    let bodies = (0..5).map(|i| Bytes::from(format!("m{i}"))).collect();
    p.multi_publish("gs", bodies).await.unwrap();
    let c = Consumer::new("gs", "ch", config(3)).unwrap();
    c.connect_to_nsqd(&d.tcp().to_string()).await.unwrap();
    let held = vec![recv(&c).await, recv(&c).await, recv(&c).await];
    c.stop();
    // Still connected while messages are unanswered.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(c.connections().len(), 1);
    for m in held {
        m.finish();
    }
    let end = tokio::time::timeout(WAIT, c.recv())
        .await
        .expect("stop finishes");
    assert!(end.is_none(), "no message after a stop has drained");
    eventually("nsqd to see the FINs and the close", || async {
        let ch = channel_stats(&d, "gs", "ch").await;
        ch["client_count"] == 0 && ch["in_flight_count"] == 0
    })
    .await;
    let ch = channel_stats(&d, "gs", "ch").await;
    assert_eq!(ch["depth"], 2, "{ch}");
    assert_eq!(ch["requeue_count"], 0, "{ch}");
    assert_eq!(ch["timeout_count"], 0, "{ch}");
    assert_eq!(c.stats().messages_finished, 3);
}

#[tokio::test]
async fn lookupd_discovery_polls_for_new_nsqd() {
    let a = Daemon::nsqd(&[]);
    let b = Daemon::nsqd(&[]);
    for d in [&a, &b] {
        let p = Producer::new(d.tcp().to_string(), config(1));
        p.publish("disc", d.tcp().to_string()).await.unwrap();
    }
    let lookupd = FakeLookupd::start(vec![(a.tcp(), a.http())], vec![]);
    let mut cfg = config(10);
    cfg.lookupd_poll_interval = Duration::from_millis(100);
    let c = Consumer::new("disc", "ch", cfg).unwrap();
    c.connect_to_lookupd(&lookupd.addr().to_string())
        .await
        .unwrap();
    assert_eq!(c.connections(), vec![a.tcp().to_string()]);
    let m = recv(&c).await;
    assert_eq!(m.body(), a.tcp().to_string().as_str());
    m.finish();
    lookupd.set_nodes(vec![(a.tcp(), a.http()), (b.tcp(), b.http())]);
    let m = recv(&c).await;
    assert_eq!(m.body(), b.tcp().to_string().as_str());
    m.finish();
    assert_eq!(c.connections().len(), 2);
    assert!(lookupd.lookups() >= 2);
}

#[tokio::test]
async fn unreachable_lookupd_is_an_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    drop(listener);
    let c = Consumer::new("t", "c", config(1)).unwrap();
    let err = c.connect_to_lookupd(&addr).await.unwrap_err().to_string();
    assert!(
        err.contains("nsqlookupd query") && err.contains(&addr),
        "{err}"
    );
}
