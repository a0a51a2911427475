//! nsqd killed or stopped under load. `durable_crash.rs` covers one SIGKILL
//! with messages in flight and deferred; here:
//!
//! - SIGKILL at random moments, several rounds on the same data directory
//!   with `--sync-every=1`, publishers (PUB, MPUB, DPUB) and a consumer running
//!   in every round: after the last restart every acknowledged message that
//!   was not finished is delivered. The seed of the random kill points is
//!   printed in every failure message; `FAULT_SEED=<n>` replays a run.
//! - SIGTERM under full load with the default settings: publishers and
//!   consumers running, a clean exit, and after a restart on the same data
//!   directory every acknowledged-but-not-finished message is delivered.

use bytes::Bytes;
use nsq_protocol::{Command, Frame};
use nsq_test_support::{create_topic_channel, Daemon, V2Client};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A small deterministic generator (xorshift64*), enough for kill points.
struct Rng(u64);

impl Rng {
    fn from_env_or_clock() -> (u64, Rng) {
        let seed = std::env::var("FAULT_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64)
            });
        (seed, Rng(seed.max(1)))
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1)
    }
}

type Set = Arc<Mutex<HashSet<Bytes>>>;

/// Publishes until `stop` or until the connection fails, recording every
/// acknowledged body in `acked`. Cycles through PUB, MPUB (3 bodies) and
/// DPUB (50 ms) so every publish path is covered.
async fn publisher(
    addr: SocketAddr,
    topic: &'static str,
    tag: String,
    acked: Set,
    stop: Arc<AtomicBool>,
) {
    let mut c = V2Client::connect(addr).await;
    let mut i = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let bodies: Vec<Bytes> = match i % 3 {
            1 => (0..3)
                .map(|k| Bytes::from(format!("{tag}-{i}.{k}")))
                .collect(),
            _ => vec![Bytes::from(format!("{tag}-{i}"))],
        };
        let cmd = match i % 3 {
            0 => Command::Pub {
                topic: topic.into(),
                body: bodies[0].clone(),
            },
            1 => Command::Mpub {
                topic: topic.into(),
                bodies: bodies.clone(),
            },
            _ => Command::Dpub {
                topic: topic.into(),
                defer_ms: 50,
                body: bodies[0].clone(),
            },
        };
        c.send(cmd).await;
        match c.try_read_frame(Duration::from_secs(10)).await {
            Some(Frame::Response(r)) if &r[..] == b"OK" => {
                acked.lock().unwrap().extend(bodies);
            }
            _ => return,
        }
        i += 1;
    }
}

/// Consumes until the connection fails or `stop`: FINs two messages of
/// three (recorded in `finished`) and leaves the third in flight.
async fn consumer(addr: SocketAddr, topic: &'static str, finished: Set, stop: Arc<AtomicBool>) {
    let mut c = V2Client::connect(addr).await;
    c.send(Command::Sub {
        topic: topic.into(),
        channel: "c".into(),
    })
    .await;
    c.send(Command::Rdy(100)).await;
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        match c.try_read_frame(Duration::from_secs(10)).await {
            Some(Frame::Message(m)) => {
                n += 1;
                if !n.is_multiple_of(3) {
                    c.send(Command::Fin(m.id)).await;
                    finished.lock().unwrap().insert(m.body);
                }
            }
            Some(_) => {}
            None => return,
        }
    }
}

/// Reads `topic/c` on a fresh nsqd until every body of `must` arrived.
async fn drain_expecting(d: &Daemon, topic: &str, must: &HashSet<Bytes>, context: &str) {
    let mut c = V2Client::connect(d.tcp()).await;
    c.subscribe(topic, "c").await;
    c.send(Command::Rdy(1000)).await;
    c.receive_all(must, context).await;
}

async fn create_channel(d: &Daemon, topic: &str) {
    create_topic_channel(d.http(), topic, Some("c")).await;
}

/// How long the load runs before the fault: until `min_acked` more
/// publishes were acknowledged, then `extra` more.
struct LoadFor {
    min_acked: usize,
    extra: Duration,
}

/// Runs `publishers` publishers and a consumer against `d` as `load_for`
/// says, then applies `fault` and waits for the tasks to end.
#[allow(clippy::too_many_arguments)]
async fn under_load(
    d: &mut Daemon,
    topic: &'static str,
    round: usize,
    acked: &Set,
    finished: &Set,
    publishers: usize,
    load_for: LoadFor,
    fault: impl FnOnce(&mut Daemon),
) {
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for p in 0..publishers {
        let tag = format!("r{round}p{p}");
        tasks.push(tokio::spawn(publisher(
            d.tcp(),
            topic,
            tag,
            acked.clone(),
            stop.clone(),
        )));
    }
    tasks.push(tokio::spawn(consumer(
        d.tcp(),
        topic,
        finished.clone(),
        stop.clone(),
    )));
    let target = acked.lock().unwrap().len() + load_for.min_acked;
    let deadline = Instant::now() + Duration::from_secs(20);
    while acked.lock().unwrap().len() < target {
        assert!(
            Instant::now() < deadline,
            "round {round}: fewer than {} publishes acknowledged in 20 s",
            load_for.min_acked
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(load_for.extra).await;
    fault(d);
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.expect("load task");
    }
}

#[tokio::test]
async fn sigkill_at_random_points_with_sync_every_1_loses_nothing_acknowledged() {
    const ARGS: [&str; 2] = ["--sync-every=1", "--msg-timeout=60s"];
    let (seed, mut rng) = Rng::from_env_or_clock();
    let rounds = 5;
    let acked: Set = Default::default();
    let finished: Set = Default::default();
    let mut d = Daemon::nsqd(&ARGS);
    create_channel(&d, "crash").await;
    for round in 0..rounds {
        // A random point: after 1..200 acknowledged publishes and 0..300 ms.
        let load_for = LoadFor {
            min_acked: 1 + rng.below(200) as usize,
            extra: Duration::from_millis(rng.below(300)),
        };
        eprintln!(
            "seed {seed} round {round}: SIGKILL after {} acks + {:?}",
            load_for.min_acked, load_for.extra
        );
        under_load(
            &mut d,
            "crash",
            round,
            &acked,
            &finished,
            4,
            load_for,
            |d| {
                d.signal("KILL");
                d.wait_exit(Duration::from_secs(10));
            },
        )
        .await;
        d = d.restart_nsqd(&ARGS);
    }
    let must: HashSet<Bytes> = {
        let a = acked.lock().unwrap();
        let f = finished.lock().unwrap();
        a.difference(&f).cloned().collect()
    };
    drain_expecting(
        &d,
        "crash",
        &must,
        &format!("seed {seed} ({rounds} SIGKILL rounds; FAULT_SEED={seed} replays)"),
    )
    .await;
}

#[tokio::test]
async fn sigterm_under_full_load_loses_nothing_acknowledged() {
    let acked: Set = Default::default();
    let finished: Set = Default::default();
    let mut d = Daemon::nsqd(&["--msg-timeout=60s"]);
    create_channel(&d, "busy").await;
    let load_for = LoadFor {
        min_acked: 500,
        extra: Duration::from_millis(200),
    };
    under_load(&mut d, "busy", 0, &acked, &finished, 8, load_for, |d| {
        let status = d.terminate();
        assert!(status.success(), "nsqd exited with {status} on SIGTERM");
    })
    .await;
    let acked = acked.lock().unwrap().clone();
    let must: HashSet<Bytes> = acked
        .difference(&finished.lock().unwrap())
        .cloned()
        .collect();
    assert!(
        must.len() >= 100,
        "only {} acknowledged, unfinished messages at SIGTERM",
        must.len()
    );
    let d2 = d.restart_nsqd(&["--msg-timeout=60s"]);
    drain_expecting(&d2, "busy", &must, "after SIGTERM under load").await;
}
