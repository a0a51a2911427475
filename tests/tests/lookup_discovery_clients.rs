//! Third-party consumers that find nsqd through nsqlookupd: tokio-nsq and
//! pynsq each receive messages from two nsqd nodes.

use nsq_test_support::{http_request, Daemon};
use std::collections::{BTreeSet, HashSet};
use std::path::PathBuf;
use std::time::Duration;
use tokio_nsq::{
    NSQChannel, NSQConsumerConfig, NSQConsumerConfigSources, NSQConsumerLookupConfig, NSQTopic,
};

struct Cluster {
    lookupd: Daemon,
    nodes: Vec<Daemon>,
}

async fn cluster(topic: &str) -> Cluster {
    let lookupd = Daemon::start(
        "nsqlookupd",
        &[
            "--tcp-address=127.0.0.1:0".to_string(),
            "--http-address=127.0.0.1:0".to_string(),
            "--broadcast-address=127.0.0.1".to_string(),
        ],
        &["TCP", "HTTP"],
    );
    let flag = format!("--lookupd-tcp-address={}", lookupd.tcp());
    let nodes: Vec<Daemon> = (0..2).map(|_| Daemon::nsqd(&[&flag])).collect();
    for n in &nodes {
        http_request(
            n.http(),
            "POST",
            &format!("/topic/create?topic={topic}"),
            b"",
        )
        .await;
    }
    // Both nodes are visible through lookupd before consumers start.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let r = http_request(
            lookupd.http(),
            "GET",
            &format!("/lookup?topic={topic}"),
            b"",
        )
        .await;
        let n = serde_json::from_slice::<serde_json::Value>(&r.body)
            .ok()
            .and_then(|v| v["producers"].as_array().map(|a| a.len()))
            .unwrap_or(0);
        if n == 2 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "nodes never registered"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Cluster { lookupd, nodes }
}

async fn publish_to_each(c: &Cluster, topic: &str, per_node: usize) -> BTreeSet<String> {
    let mut want = BTreeSet::new();
    for (i, n) in c.nodes.iter().enumerate() {
        for j in 0..per_node {
            let body = format!("node{i}-{j}");
            let r = http_request(
                n.http(),
                "POST",
                &format!("/pub?topic={topic}"),
                body.as_bytes(),
            )
            .await;
            assert_eq!(r.text(), "OK");
            want.insert(body);
        }
    }
    want
}

#[tokio::test]
async fn tokio_nsq_consumer_discovers_two_nodes_through_lookupd() {
    let c = cluster("disc_rs").await;
    let want = publish_to_each(&c, "disc_rs", 5).await;
    let mut addrs = HashSet::new();
    addrs.insert(format!("http://{}", c.lookupd.http()));
    let mut consumer = NSQConsumerConfig::new(
        NSQTopic::new("disc_rs").unwrap(),
        NSQChannel::new("c").unwrap(),
    )
    .set_max_in_flight(10)
    .set_sources(NSQConsumerConfigSources::Lookup(
        NSQConsumerLookupConfig::new()
            .set_poll_interval(Duration::from_secs(1))
            .set_addresses(addrs),
    ))
    .build();
    let mut got = BTreeSet::new();
    while got.len() < want.len() {
        let msg = tokio::time::timeout(Duration::from_secs(30), consumer.consume_filtered())
            .await
            .expect("message in time")
            .expect("consumer open");
        got.insert(String::from_utf8_lossy(&msg.body).into_owned());
        msg.finish().await;
    }
    assert_eq!(got, want);
}

#[tokio::test]
async fn pynsq_reader_discovers_two_nodes_through_lookupd() {
    let c = cluster("disc_py").await;
    let want = publish_to_each(&c, "disc_py", 5).await;
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let python = std::env::var_os("NSQ_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("../target/pyenv/bin/python"));
    assert!(
        python.exists(),
        "{} missing: run scripts/test",
        python.display()
    );
    let out = tokio::process::Command::new(python)
        .arg(root.join("python/pynsq_lookupd_reader.py"))
        .arg(c.lookupd.http().to_string())
        .arg("disc_py")
        .arg(want.len().to_string())
        .output()
        .await
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "pynsq reader failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    let got: BTreeSet<String> = v["received"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_str().unwrap().to_string())
        .collect();
    assert_eq!(got, want);
}
