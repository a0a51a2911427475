//! nsqd registering with nsqlookupd: real binaries on free ports.

use nsq_test_support::{http_request, Daemon};
use serde_json::Value;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

fn lookupd(extra: &[&str]) -> Daemon {
    let mut args = vec![
        "--tcp-address=127.0.0.1:0".to_string(),
        "--http-address=127.0.0.1:0".to_string(),
        "--broadcast-address=127.0.0.1".to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    Daemon::start("nsqlookupd", &args, &["TCP", "HTTP"])
}

fn nsqd_for(l: &Daemon, extra: &[&str]) -> Daemon {
    let flag = format!("--lookupd-tcp-address={}", l.tcp());
    let mut args: Vec<&str> = vec![&flag];
    args.extend_from_slice(extra);
    Daemon::nsqd(&args)
}

async fn get_json(addr: SocketAddr, target: &str) -> (u16, Value) {
    let r = http_request(addr, "GET", target, b"").await;
    let v = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
    (r.status, v)
}

/// Polls `check` until it returns true or 20 s pass.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn producers(l: &Daemon, topic: &str) -> Vec<Value> {
    let (status, v) = get_json(l.http(), &format!("/lookup?topic={topic}")).await;
    if status != 200 {
        return Vec::new();
    }
    v["producers"].as_array().cloned().unwrap_or_default()
}

async fn channels(l: &Daemon, topic: &str) -> Vec<String> {
    let (_, v) = get_json(l.http(), &format!("/channels?topic={topic}")).await;
    v["channels"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| c.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn nsqd_registers_topics_and_channels() {
    let l = lookupd(&[]);
    let d = nsqd_for(&l, &[]);
    http_request(d.http(), "POST", "/topic/create?topic=reg", b"").await;
    eventually("topic registered", || async {
        producers(&l, "reg").await.len() == 1
    })
    .await;
    let p = &producers(&l, "reg").await[0];
    assert_eq!(p["tcp_port"], d.tcp().port());
    assert_eq!(p["http_port"], d.http().port());
    assert_eq!(p["broadcast_address"], "127.0.0.1");
    assert_eq!(p["version"], "1.3.0");

    http_request(
        d.http(),
        "POST",
        "/channel/create?topic=reg&channel=c1",
        b"",
    )
    .await;
    eventually("channel registered", || async {
        channels(&l, "reg").await == vec!["c1"]
    })
    .await;
    // Lookupd keeps a non-ephemeral channel's registration after UNREGISTER (v1.3.0),
    // but drops an ephemeral one once its last producer unregisters it.
    http_request(
        d.http(),
        "POST",
        "/channel/create?topic=reg&channel=e%23ephemeral",
        b"",
    )
    .await;
    eventually("ephemeral channel registered", || async {
        channels(&l, "reg")
            .await
            .contains(&"e#ephemeral".to_string())
    })
    .await;
    http_request(
        d.http(),
        "POST",
        "/channel/delete?topic=reg&channel=e%23ephemeral",
        b"",
    )
    .await;
    eventually("deleted channel unregistered", || async {
        channels(&l, "reg").await == vec!["c1"]
    })
    .await;

    // A topic created by a publish appears too.
    http_request(d.http(), "POST", "/pub?topic=later", b"x").await;
    eventually("published topic registered", || async {
        producers(&l, "later").await.len() == 1
    })
    .await;
}

#[tokio::test]
async fn killed_nsqd_leaves_nodes_and_restarted_lookupd_is_resynced() {
    let l = lookupd(&[]);
    let mut d = nsqd_for(&l, &[]);
    http_request(d.http(), "POST", "/topic/create?topic=resync", b"").await;
    http_request(
        d.http(),
        "POST",
        "/channel/create?topic=resync&channel=c",
        b"",
    )
    .await;
    eventually("registered", || async {
        channels(&l, "resync").await == vec!["c"]
    })
    .await;

    // Restart lookupd on the same ports: nsqd reconnects and registers everything again.
    let tcp = l.tcp();
    let http = l.http();
    drop(l);
    let l2 = lookupd(&[
        &format!("--tcp-address={tcp}"),
        &format!("--http-address={http}"),
    ]);
    eventually("re-registered after lookupd restart", || async {
        producers(&l2, "resync").await.len() == 1 && channels(&l2, "resync").await == vec!["c"]
    })
    .await;

    let (_, nodes) = get_json(l2.http(), "/nodes").await;
    assert_eq!(nodes["producers"].as_array().unwrap().len(), 1);
    d.kill();
    eventually("producer removed from /nodes", || async {
        let (_, nodes) = get_json(l2.http(), "/nodes").await;
        nodes["producers"].as_array().is_some_and(|a| a.is_empty())
    })
    .await;
}

#[tokio::test]
async fn tombstone_hides_producer_for_its_lifetime() {
    let l = lookupd(&["--tombstone-lifetime=2s"]);
    let d = nsqd_for(&l, &[]);
    http_request(d.http(), "POST", "/topic/create?topic=tomb", b"").await;
    eventually("registered", || async {
        producers(&l, "tomb").await.len() == 1
    })
    .await;
    let node = format!("127.0.0.1:{}", d.http().port());
    let r = http_request(
        l.http(),
        "POST",
        &format!("/topic/tombstone?topic=tomb&node={node}"),
        b"",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(producers(&l, "tomb").await.is_empty());
    let started = Instant::now();
    // nsqd re-registers on its next PING or registration; the tombstone expires after 2 s.
    http_request(
        d.http(),
        "POST",
        "/channel/create?topic=tomb&channel=wake",
        b"",
    )
    .await;
    eventually("tombstone expired", || async {
        producers(&l, "tomb").await.len() == 1
    })
    .await;
    assert!(
        started.elapsed() >= Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn lookupd_peers_change_at_run_time() {
    let l1 = lookupd(&[]);
    let l2 = lookupd(&[]);
    let d = nsqd_for(&l1, &[]);
    http_request(d.http(), "POST", "/topic/create?topic=moving", b"").await;
    eventually("on l1", || async {
        producers(&l1, "moving").await.len() == 1
    })
    .await;
    let body = format!(r#"["{}"]"#, l2.tcp());
    let r = http_request(
        d.http(),
        "PUT",
        "/config/nsqlookupd_tcp_addresses",
        body.as_bytes(),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), body);
    eventually("on l2", || async {
        producers(&l2, "moving").await.len() == 1
    })
    .await;
    eventually("gone from l1", || async {
        producers(&l1, "moving").await.is_empty()
    })
    .await;
}

#[tokio::test]
async fn new_topic_gets_the_channels_lookupd_knows() {
    let l = lookupd(&[]);
    let a = nsqd_for(&l, &[]);
    let b = nsqd_for(&l, &[]);
    http_request(a.http(), "POST", "/topic/create?topic=pre", b"").await;
    http_request(
        a.http(),
        "POST",
        "/channel/create?topic=pre&channel=archive",
        b"",
    )
    .await;
    http_request(
        a.http(),
        "POST",
        "/channel/create?topic=pre&channel=tmp%23ephemeral",
        b"",
    )
    .await;
    eventually("channels registered", || async {
        channels(&l, "pre").await.len() == 2
    })
    .await;
    // Wait until b has identified with lookupd (it registers nothing yet: poll /nodes).
    eventually("b known to lookupd", || async {
        let (_, nodes) = get_json(l.http(), "/nodes").await;
        nodes["producers"].as_array().is_some_and(|p| p.len() == 2)
    })
    .await;
    // The first publish to `pre` on b creates the topic with lookupd's durable channels.
    let r = http_request(b.http(), "POST", "/pub?topic=pre", b"kept").await;
    assert_eq!(r.text(), "OK");
    let (_, v) = get_json(b.http(), "/stats?format=json&topic=pre").await;
    let chans = v["topics"][0]["channels"].as_array().unwrap();
    let names: Vec<&str> = chans
        .iter()
        .map(|c| c["channel_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        vec!["archive"],
        "ephemeral channels are not pre-created"
    );
    assert_eq!(chans[0]["depth"], 1);
}
