//! nsqd's figures for operators: e2e latency percentiles in /stats, statsd
//! pushes over UDP, and the Prometheus /metrics endpoint.

use nsq_protocol::Command;
use nsq_test_support::{http_request, Daemon, V2Client};
use std::time::Duration;

async fn publish_and_finish(d: &Daemon, topic: &str, n: usize) {
    let mut c = V2Client::connect(d.tcp()).await;
    c.subscribe(topic, "c").await;
    c.send(Command::Rdy(100)).await;
    let mut p = V2Client::connect(d.tcp()).await;
    for i in 0..n {
        p.publish(topic, format!("m{i}").as_bytes()).await;
    }
    for _ in 0..n {
        let m = c.expect_message().await;
        c.send(Command::Fin(m.id)).await;
    }
    c.send(Command::Nop).await;
    // A command after the FINs: once it is answered all FINs were applied.
    p.publish(topic, b"marker").await;
}

#[tokio::test]
async fn e2e_percentiles_appear_in_stats() {
    let d = Daemon::nsqd(&["--e2e-processing-latency-percentile=0.5,0.99"]);
    publish_and_finish(&d, "lat", 20).await;
    let v = http_request(d.http(), "GET", "/stats?format=json", b"")
        .await
        .json();
    let ch = &v["topics"][0]["channels"][0]["e2e_processing_latency"];
    assert_eq!(ch["count"], 20, "{v}");
    let ps = ch["percentiles"].as_array().unwrap();
    // Flag values are sorted descending, as nsqd does.
    assert_eq!(ps[0]["quantile"], 0.99);
    assert_eq!(ps[1]["quantile"], 0.5);
    assert!(ps[0]["value"].as_i64().unwrap() > 0);
    let topic = &v["topics"][0]["e2e_processing_latency"];
    assert_eq!(topic["count"], 20);
}

#[tokio::test]
async fn statsd_metrics_arrive_over_udp() {
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = sock.local_addr().unwrap();
    let flag = format!("--statsd-address={addr}");
    let d = Daemon::nsqd(&[&flag, "--statsd-interval=1s", "--statsd-prefix=test.%s"]);
    publish_and_finish(&d, "sd", 3).await;
    let mut lines = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !lines.contains(".topic.sd.channel.c.message_count:") {
        let mut buf = [0u8; 2048];
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let n = tokio::time::timeout(left, sock.recv(&mut buf))
            .await
            .expect("statsd packet in time")
            .unwrap();
        lines.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    let prefix = format!("test.127_0_0_1_{}.", d.http().port());
    assert!(
        lines.contains(&format!("{prefix}topic.sd.message_count:4|c")),
        "{lines}"
    );
    assert!(
        lines.contains(&format!("{prefix}topic.sd.depth:0|g")),
        "{lines}"
    );
}

#[tokio::test]
async fn metrics_endpoint_is_prometheus_text() {
    let d = Daemon::nsqd(&[]);
    publish_and_finish(&d, "prom", 2).await;
    let r = http_request(d.http(), "GET", "/metrics", b"").await;
    assert_eq!(r.status, 200);
    let text = r.text();
    let mut types = std::collections::HashSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let name = rest.split(' ').next().unwrap();
            assert!(types.insert(name.to_string()), "TYPE twice for {name}");
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("bad line {line:?}"));
        value
            .parse::<f64>()
            .unwrap_or_else(|_| panic!("bad value in {line:?}"));
        let name = series.split('{').next().unwrap();
        assert!(
            types.iter().any(|t| name.starts_with(t.as_str())),
            "sample {name} before its TYPE"
        );
    }
    assert!(
        text.contains("nsq_topic_messages_total{topic=\"prom\"} 3"),
        "{text}"
    );
    assert!(
        text.contains("nsq_channel_messages_total{topic=\"prom\",channel=\"c\"} 3"),
        "{text}"
    );
}
