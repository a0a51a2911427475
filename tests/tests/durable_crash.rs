//! `--sync-every=1`: an acknowledged publish survives SIGKILL, including
//! messages that were in flight or deferred when the process died.

use bytes::Bytes;
use nsq_protocol::{Command, Frame};
use nsq_test_support::{http_request, Daemon, V2Client};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const ARGS: [&str; 2] = ["--sync-every=1", "--msg-timeout=60s"];

#[tokio::test]
async fn sigkill_loses_no_acknowledged_unfinished_message() {
    let mut d = Daemon::nsqd(&ARGS);
    http_request(d.http(), "POST", "/topic/create?topic=safe", b"").await;
    http_request(
        d.http(),
        "POST",
        "/channel/create?topic=safe&channel=c",
        b"",
    )
    .await;

    // Publishers on 8 connections record what was acknowledged.
    let acked = Arc::new(Mutex::new(HashSet::new()));
    let mut publishers = Vec::new();
    for p in 0..8 {
        let addr = d.tcp();
        let acked = acked.clone();
        publishers.push(tokio::spawn(async move {
            let mut c = V2Client::connect(addr).await;
            for i in 0..150 {
                let body = Bytes::from(format!("p{p}-{i}"));
                c.send(Command::Pub {
                    topic: "safe".into(),
                    body: body.clone(),
                })
                .await;
                match c.try_read_frame(Duration::from_secs(10)).await {
                    Some(Frame::Response(r)) if &r[..] == b"OK" => {
                        acked.lock().unwrap().insert(body);
                    }
                    _ => return,
                }
            }
        }));
    }
    // A deferred message, acknowledged before the crash.
    let mut dp = V2Client::connect(d.tcp()).await;
    dp.send(Command::Dpub {
        topic: "safe".into(),
        defer_ms: 200,
        body: Bytes::from_static(b"deferred"),
    })
    .await;
    dp.expect_response(b"OK").await;
    acked
        .lock()
        .unwrap()
        .insert(Bytes::from_static(b"deferred"));

    // A consumer finishes some messages and holds others in flight.
    let mut c = V2Client::connect(d.tcp()).await;
    c.subscribe("safe", "c").await;
    c.send(Command::Rdy(50)).await;
    let mut finished = HashSet::new();
    for i in 0..100 {
        let m = c.expect_message().await;
        if i % 2 == 0 {
            c.send(Command::Fin(m.id)).await;
            finished.insert(m.body);
        }
    }
    // Kill while publishers are still running.
    d.signal("KILL");
    d.wait_exit(Duration::from_secs(10));
    for p in publishers {
        let _ = p.await;
    }
    let acked: HashSet<Bytes> = acked.lock().unwrap().clone();
    // Not vacuous: plenty was acknowledged (an OK still in flight at the kill
    // may be missing from the count, which only makes the check weaker).
    assert!(
        acked.len() >= 50,
        "only {} publishes acknowledged",
        acked.len()
    );

    let dir = d.take_data_dir().unwrap();
    let path = dir.path().to_path_buf();
    let d2 = Daemon::nsqd_in(dir, &path, &ARGS);
    let mut c = V2Client::connect(d2.tcp()).await;
    c.subscribe("safe", "c").await;
    c.send(Command::Rdy(500)).await;
    let must_arrive: HashSet<Bytes> = acked.difference(&finished).cloned().collect();
    c.receive_all(&must_arrive, "after SIGKILL").await;
}
