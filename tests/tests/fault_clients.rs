//! Misbehaving clients: consumers that vanish with messages in flight,
//! consumers and publishers that stop reading (their output backs up into
//! nsqd), and slowloris clients that dribble or stall partial commands.
//! nsqd must lose nothing, keep its memory bounded, and keep serving the
//! well-behaved clients at their normal pace meanwhile.

use bytes::Bytes;
use nsq_protocol::{Command, Frame};
use nsq_test_support::cluster::eventually;
use nsq_test_support::{http_request, Daemon, V2Client};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(20);

async fn channel_stats(d: &Daemon, topic: &str, channel: &str) -> Value {
    let r = http_request(
        d.http(),
        "GET",
        &format!("/stats?format=json&topic={topic}"),
        b"",
    )
    .await;
    let v = r.json();
    v["topics"]
        .as_array()
        .and_then(|ts| ts.iter().find(|t| t["topic_name"] == topic))
        .and_then(|t| t["channels"].as_array())
        .and_then(|cs| cs.iter().find(|c| c["channel_name"] == channel))
        .cloned()
        .unwrap_or(Value::Null)
}

/// PUB's wire bytes, for clients that write without reading.
fn pub_bytes(topic: &str, body: &[u8]) -> Vec<u8> {
    let mut b = format!("PUB {topic}\n").into_bytes();
    b.extend_from_slice(&(body.len() as u32).to_be_bytes());
    b.extend_from_slice(body);
    b
}

/// A well-behaved producer and consumer on `topic`: `n` round trips, each
/// must complete within `max_latency`. Returns the slowest one.
async fn normal_traffic(d: &Daemon, topic: &str, n: usize, max_latency: Duration) -> Duration {
    let mut c = V2Client::connect(d.tcp()).await;
    c.subscribe(topic, "normal").await;
    // RDY 1: each message is flushed at once (a larger RDY waits for the
    // output buffer timeout when nothing else follows, as in nsqd).
    c.send(Command::Rdy(1)).await;
    let mut p = V2Client::connect(d.tcp()).await;
    let mut slowest = Duration::ZERO;
    for i in 0..n {
        let started = Instant::now();
        let body = format!("normal-{i}");
        p.publish(topic, body.as_bytes()).await;
        let m = c.expect_message().await;
        assert_eq!(&m.body[..], body.as_bytes());
        c.send(Command::Fin(m.id)).await;
        slowest = slowest.max(started.elapsed());
    }
    assert!(
        slowest < max_latency,
        "a normal client's round trip took {slowest:?} (limit {max_latency:?})"
    );
    slowest
}

// ----------------------------------------------------------------------
// Consumers that vanish
// ----------------------------------------------------------------------

/// Consumers disconnect abruptly while holding messages in flight (one in
/// the middle of receiving a large message frame, one after sending half a
/// FIN): every message they did not finish goes to the remaining consumer at
/// once (not after --msg-timeout), and nothing is lost.
#[tokio::test]
async fn vanished_consumers_messages_are_redelivered_to_another_consumer() {
    let d = Daemon::nsqd(&["--msg-timeout=60s"]);
    let mut p = V2Client::connect(d.tcp()).await;
    let big = vec![b'x'; 900 * 1024];
    let mut all: HashSet<Bytes> = HashSet::new();
    for i in 0..30 {
        let body = format!("m{i}");
        p.publish("vanish", body.as_bytes()).await;
        all.insert(Bytes::from(body));
    }

    let mut finished: HashSet<Bytes> = HashSet::new();
    // A: takes 10, finishes 5, vanishes.
    let mut a = V2Client::connect(d.tcp()).await;
    a.subscribe("vanish", "c").await;
    a.send(Command::Rdy(10)).await;
    for i in 0..10 {
        let m = a.expect_message().await;
        if i % 2 == 0 {
            a.send(Command::Fin(m.id)).await;
            finished.insert(m.body);
        }
    }
    // B: takes 10, sends half a FIN, vanishes.
    let mut b = V2Client::connect(d.tcp()).await;
    b.subscribe("vanish", "c").await;
    b.send(Command::Rdy(10)).await;
    let mut last = None;
    for _ in 0..10 {
        last = Some(b.expect_message().await);
    }
    let id = last.expect("ten messages").id;
    b.send_raw(&[b"FIN ".as_slice(), &id.as_bytes()[..8]].concat())
        .await;
    // Wait until nsqd has applied A's FINs before it goes.
    eventually("A's FINs applied", WAIT, || async {
        // A's FINs freed credit for 5 more: 10 (A) + 10 (B) in flight.
        let s = channel_stats(&d, "vanish", "c").await;
        (s["in_flight_count"] == 20).then_some(())
    })
    .await;
    drop(a);
    drop(b);

    // C: subscribes with RDY 1 and is handed a big message mid-frame when it vanishes.
    p.publish("vanish", &big).await;
    all.insert(Bytes::from(big.clone()));
    let mut c = V2Client::connect_small_buffer(d.tcp(), 4096).await;
    c.subscribe("vanish", "c").await;
    c.send(Command::Rdy(100)).await;
    // The small buffer means nsqd is still writing the big frame: drop now.
    drop(c);

    // D gets everything that was not finished, well before --msg-timeout.
    let started = Instant::now();
    let mut d_client = V2Client::connect(d.tcp()).await;
    d_client.subscribe("vanish", "c").await;
    d_client.send(Command::Rdy(100)).await;
    let must: HashSet<Bytes> = all.difference(&finished).cloned().collect();
    let mut seen = HashSet::new();
    while !must.is_subset(&seen) {
        match d_client.try_read_frame(Duration::from_secs(10)).await {
            Some(Frame::Message(m)) => {
                d_client.send(Command::Fin(m.id)).await;
                seen.insert(m.body);
            }
            Some(_) => {}
            None => panic!(
                "{} unfinished messages of vanished consumers not redelivered",
                must.difference(&seen).count()
            ),
        }
    }
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "redelivery waited for --msg-timeout"
    );
    assert!(
        seen.is_subset(&all),
        "delivered a body that was never published"
    );
}

// ----------------------------------------------------------------------
// Clients that stop reading
// ----------------------------------------------------------------------

/// Consumers with a large RDY that never read, on four channels of a topic
/// of big messages: nsqd's memory stays within the published data plus a
/// bounded amount per connection and stops growing, and a normal consumer
/// on another topic keeps its pace.
#[tokio::test]
async fn non_reading_consumers_bound_memory_and_do_not_stall_others() {
    const MSGS: usize = 120;
    const SIZE: usize = 256 * 1024;
    const CHANNELS: usize = 4;
    let d = Daemon::nsqd(&[]);
    http_request(d.http(), "POST", "/topic/create?topic=big", b"").await;
    for ch in 0..CHANNELS {
        let target = format!("/channel/create?topic=big&channel=stalled{ch}");
        assert_eq!(
            http_request(d.http(), "POST", &target, b"").await.status,
            200
        );
    }
    let base = d.rss_kib().expect("nsqd RSS");
    let mut p = V2Client::connect(d.tcp()).await;
    for i in 0..MSGS {
        let mut body = vec![b'a' + (i % 26) as u8; SIZE];
        body[..8].copy_from_slice(&(i as u64).to_be_bytes());
        p.publish("big", &body).await;
    }
    // Consumers that never read take everything at once.
    let mut stalled = Vec::new();
    for ch in 0..CHANNELS {
        let mut c = V2Client::connect_small_buffer(d.tcp(), 4096).await;
        c.subscribe("big", &format!("stalled{ch}")).await;
        c.send(Command::Rdy(1000)).await;
        stalled.push(c);
    }
    // Every stalled consumer has all messages in flight.
    for ch in 0..CHANNELS {
        eventually(
            "stalled consumers have every message in flight",
            WAIT,
            || async {
                let s = channel_stats(&d, "big", &format!("stalled{ch}")).await;
                (s["in_flight_count"] == MSGS).then_some(())
            },
        )
        .await;
    }
    // A normal consumer elsewhere is not slowed down.
    normal_traffic(&d, "small", 100, Duration::from_secs(1)).await;

    let data_kib = (MSGS * SIZE / 1024) as u64;
    let rss1 = d.rss_kib().expect("nsqd RSS");
    // The bodies once, plus per stalled connection at most a few MiB of
    // buffers, plus slack for the allocator.
    let limit = base + data_kib + (CHANNELS as u64) * 4 * 1024 + 48 * 1024;
    assert!(
        rss1 < limit,
        "nsqd RSS {rss1} KiB with {CHANNELS} non-reading consumers of {data_kib} KiB: \
         over {limit} KiB (started at {base} KiB)"
    );
    // It stops growing.
    normal_traffic(&d, "small", 50, Duration::from_secs(1)).await;
    let rss2 = d.rss_kib().expect("nsqd RSS");
    assert!(
        rss2 < rss1 + 8 * 1024,
        "nsqd RSS still growing: {rss1} KiB -> {rss2} KiB"
    );
    drop(stalled);
}

/// A consumer that stops reading and asked for a 1 s heartbeat is cut off
/// by the write deadline, and its messages go to another consumer.
#[tokio::test]
async fn non_reading_consumer_is_cut_off_and_its_messages_redelivered() {
    let d = Daemon::nsqd(&["--msg-timeout=60s"]);
    let mut stalled = V2Client::connect_small_buffer(d.tcp(), 4096).await;
    stalled.identify(json!({"heartbeat_interval": 1000})).await;
    stalled.subscribe("cut", "c").await;
    stalled.send(Command::Rdy(100)).await;
    let mut p = V2Client::connect(d.tcp()).await;
    for i in 0..40u8 {
        p.publish("cut", &vec![i; 128 * 1024]).await;
    }
    eventually("the non-reading consumer is disconnected", WAIT, || async {
        let s = channel_stats(&d, "cut", "c").await;
        (s["client_count"] == 0).then_some(())
    })
    .await;
    let mut c = V2Client::connect(d.tcp()).await;
    c.subscribe("cut", "c").await;
    c.send(Command::Rdy(100)).await;
    let mut seen = HashSet::new();
    while seen.len() < 40 {
        let m = c.expect_message().await;
        c.send(Command::Fin(m.id)).await;
        seen.insert(m.body[0]);
    }
}

/// A publisher that pipelines PUBs and never reads its `OK`s: once its
/// responses back up, nsqd stops reading from it (no unbounded buffering),
/// cuts it off at the write deadline, and serves everyone else meanwhile.
#[tokio::test]
async fn non_reading_publisher_is_cut_off_without_hurting_others() {
    let d = Daemon::nsqd(&[]);
    let base = d.rss_kib().expect("nsqd RSS");
    let mut flood = V2Client::connect_small_buffer(d.tcp(), 4096).await;
    flood.identify(json!({"heartbeat_interval": 1000})).await;
    let flooder = tokio::spawn(async move {
        let batch: Vec<u8> = (0..500).flat_map(|_| pub_bytes("flood", b"x")).collect();
        let started = Instant::now();
        let mut sent = 0usize;
        while started.elapsed() < Duration::from_secs(15) {
            match flood.try_send_raw(&batch).await {
                Ok(()) => sent += 500,
                Err(_) => return Some(sent),
            }
        }
        None
    });
    normal_traffic(&d, "other", 100, Duration::from_secs(1)).await;
    let sent = tokio::time::timeout(Duration::from_secs(20), flooder)
        .await
        .expect("the flooding publisher was never cut off")
        .expect("flood task");
    let sent = sent.expect("nsqd kept reading from a client that reads nothing for 15 s");
    // nsqd stopped once the OKs backed up; it did not take everything.
    let r = http_request(d.http(), "GET", "/stats?format=json&topic=flood", b"").await;
    let accepted = r.json()["topics"][0]["message_count"].as_u64().unwrap_or(0);
    assert!(
        accepted > 0 && accepted as usize <= sent,
        "accepted {accepted} of {sent}"
    );
    normal_traffic(&d, "other", 20, Duration::from_secs(1)).await;
    let rss = d.rss_kib().expect("nsqd RSS");
    assert!(
        rss < base + 64 * 1024,
        "nsqd RSS {rss} KiB after a non-reading publisher (started at {base} KiB)"
    );
}

// ----------------------------------------------------------------------
// Slowloris
// ----------------------------------------------------------------------

/// nsqd closes a connection that sends no complete command for two
/// heartbeat intervals, as nsqd v1.3.0 does: dribbling bytes of a command
/// does not count as activity.
#[tokio::test]
async fn dribbled_partial_command_is_cut_off_after_two_heartbeats() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let d = Daemon::nsqd(&[]);
    let stream = tokio::net::TcpStream::connect(d.tcp())
        .await
        .expect("connect");
    stream.set_nodelay(true).ok();
    let (mut rd, mut wr) = stream.into_split();
    let identify = br#"{"heartbeat_interval":1000}"#;
    let mut hello = b"  V2IDENTIFY\n".to_vec();
    hello.extend_from_slice(&(identify.len() as u32).to_be_bytes());
    hello.extend_from_slice(identify);
    wr.write_all(&hello).await.expect("identify");
    let started = Instant::now();
    // The reader sees the IDENTIFY answer and heartbeats, then the close.
    let reader = tokio::spawn(async move {
        let mut buf = vec![0u8; 4096];
        loop {
            match rd.read(&mut buf).await {
                Ok(0) | Err(_) => return started.elapsed(),
                Ok(_) => {}
            }
        }
    });
    // One byte every 200 ms: the whole command would take ~8 s.
    let cmd = pub_bytes("slow", b"a body that never completes");
    for byte in &cmd[..cmd.len() - 1] {
        if reader.is_finished() || wr.write_all(&[*byte]).await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let after = tokio::time::timeout(Duration::from_secs(10), reader)
        .await
        .expect("a dribbling client was never closed")
        .expect("reader task");
    assert!(
        after >= Duration::from_millis(1500) && after < Duration::from_secs(5),
        "a dribbling client was closed after {after:?} (expected about 2 s)"
    );
    assert!(
        d.wait_for_log("read timeout", WAIT),
        "log:\n{}",
        d.log_text()
    );
}

/// Many slowloris clients at once (partial commands, dribbled bytes, idle
/// after the magic) do not slow down a normal client, and the ones that
/// negotiated a short heartbeat are all closed after two intervals.
#[tokio::test]
async fn many_slowloris_clients_do_not_stall_others() {
    let d = Daemon::nsqd(&[]);
    let mut idle = Vec::new();
    let mut short = Vec::new();
    for i in 0..150 {
        if i % 3 == 0 {
            // Magic and half a command, default heartbeat: held, harmless.
            let mut c = V2Client::connect(d.tcp()).await;
            c.send_raw(b"PUB idle").await;
            idle.push(c);
        } else {
            let mut c = V2Client::connect(d.tcp()).await;
            c.identify(json!({"heartbeat_interval": 1000})).await;
            c.send_raw(&pub_bytes("t", b"body")[..12]).await;
            short.push((c, Instant::now()));
        }
    }
    let last_stalled = Instant::now();
    normal_traffic(&d, "served", 100, Duration::from_secs(1)).await;
    let mut tasks = Vec::new();
    for (mut c, stalled_at) in short {
        tasks.push(tokio::spawn(async move {
            c.expect_closed(Duration::from_secs(10)).await;
            stalled_at.elapsed()
        }));
    }
    for t in tasks {
        let after = t.await.expect("slowloris task");
        assert!(
            after >= Duration::from_millis(1500) && after < Duration::from_secs(5),
            "a stalled client was closed {after:?} after it stalled (expected about 2 s)"
        );
    }
    assert!(last_stalled.elapsed() < Duration::from_secs(8));
    normal_traffic(&d, "served", 20, Duration::from_secs(1)).await;
    drop(idle);
}
