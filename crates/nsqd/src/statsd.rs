//! Pushing stats to statsd (`--statsd-address`), as nsqd v1.3.0's statsd loop
//! does (nsqd-http.md §11).
//!
//! Every `--statsd-interval` the loop collects the stats (no clients, memory
//! only with `--statsd-mem-stats`), turns them into statsd lines with
//! [`build_lines`] (counters as deltas against the previous push, gauges as
//! values), packs the lines into datagrams of at most
//! `--statsd-udp-packet-size` bytes with [`pack`], and sends the datagrams over
//! a fresh UDP socket spread evenly over `interval − 1s`.
//!
//! The line building and packing are pure so they can be tested without sockets.

use crate::stats::{self, StatsDoc, StatsFilter};
use crate::Nsqd;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::UdpSocket;
use tokio_util::sync::CancellationToken;

/// Buffer size Go's `bufio` falls back to when `--statsd-udp-packet-size` is not positive.
const DEFAULT_PACKET_SIZE: usize = 4096;

/// Why one push could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum StatsdError {
    /// `--statsd-address` did not resolve.
    #[error("failed to resolve statsd address {addr:?} - {source} (expected host:port, e.g. 127.0.0.1:8125)")]
    Resolve {
        /// The configured address.
        addr: String,
        /// The resolver's error.
        source: std::io::Error,
    },
    /// `--statsd-address` resolved to nothing.
    #[error(
        "statsd address {addr:?} resolved to no address (expected host:port, e.g. 127.0.0.1:8125)"
    )]
    NoAddress {
        /// The configured address.
        addr: String,
    },
    /// The UDP socket could not be created or connected.
    #[error("failed to create UDP socket to statsd({addr}) - {source}")]
    Socket {
        /// The resolved address.
        addr: String,
        /// The socket error.
        source: std::io::Error,
    },
}

/// What shapes the lines of one push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineOptions {
    /// The resolved prefix (see [`resolve_prefix`]), e.g. `nsq.myhost_4151.`.
    pub prefix: String,
    /// `--statsd-exclude-ephemeral`: skip `#ephemeral` topics and channels.
    pub exclude_ephemeral: bool,
    /// `--statsd-mem-stats`: send the `mem.*` stats.
    pub mem_stats: bool,
}

/// Resolves `--statsd-prefix` as nsqd does at start-up: every `%s` becomes
/// `<broadcast_address>:<broadcast_http_port>` (IPv6 addresses in brackets, as
/// Go's `net.JoinHostPort` writes them) with `.` and `:` replaced by `_`, and a
/// trailing `.` is added if missing. An empty prefix stays empty.
pub fn resolve_prefix(template: &str, broadcast_address: &str, broadcast_http_port: i64) -> String {
    if template.is_empty() {
        return String::new();
    }
    let host_port = if broadcast_address.contains(':') {
        format!("[{broadcast_address}]:{broadcast_http_port}")
    } else {
        format!("{broadcast_address}:{broadcast_http_port}")
    };
    let key = host_port.replace(['.', ':'], "_");
    let mut prefix = template.replace("%s", &key);
    if !prefix.ends_with('.') {
        prefix.push('.');
    }
    prefix
}

/// `%.0f` of `quantile × 100`, as the stat name suffix (`0.99` → `99`).
fn pct_suffix(quantile: f64) -> String {
    format!("{:.0}", quantile * 100.0)
}

/// Counter delta as nsqd computes it: unsigned subtraction cast to int64
/// (a counter that went down, e.g. a recreated topic, gives a negative delta).
fn delta(cur: u64, prev: u64) -> i64 {
    cur.wrapping_sub(prev) as i64
}

struct Lines<'a> {
    prefix: &'a str,
    out: Vec<String>,
}

impl Lines<'_> {
    fn counter(&mut self, stat: &str, value: i64) {
        self.out.push(format!("{}{stat}:{value}|c", self.prefix));
    }
    fn gauge(&mut self, stat: &str, value: impl std::fmt::Display) {
        self.out.push(format!("{}{stat}:{value}|g", self.prefix));
    }
    fn latencies(&mut self, base: &str, l: &stats::E2eLatency) {
        for q in l.percentiles.as_deref().unwrap_or(&[]) {
            let stat = format!("{base}.e2e_processing_latency_{}", pct_suffix(q.quantile));
            self.gauge(&stat, q.value);
        }
    }
}

/// The statsd lines (without the trailing newline) of one push, in nsqd's
/// order: per topic its counters and gauges then its channels', then the
/// `mem.*` stats. Counters are deltas against `prev` (the previous push's
/// document; a topic or channel absent there counts from 0, and `None` means
/// this is the first push).
pub fn build_lines(prev: Option<&StatsDoc>, cur: &StatsDoc, opts: &LineOptions) -> Vec<String> {
    let mut lines = Lines {
        prefix: &opts.prefix,
        out: Vec::new(),
    };
    let prev_topics: HashMap<&str, &stats::TopicStats> = prev
        .and_then(|p| p.topics.as_deref())
        .unwrap_or(&[])
        .iter()
        .map(|t| (t.topic_name.as_str(), t))
        .collect();
    let skip = |name: &str| opts.exclude_ephemeral && nsq_protocol::is_ephemeral(name);
    for topic in cur.topics.as_deref().unwrap_or(&[]) {
        if skip(&topic.topic_name) {
            continue;
        }
        let last = prev_topics.get(topic.topic_name.as_str()).copied();
        let t = format!("topic.{}", topic.topic_name);
        lines.counter(
            &format!("{t}.message_count"),
            delta(topic.message_count, last.map_or(0, |l| l.message_count)),
        );
        lines.counter(
            &format!("{t}.message_bytes"),
            delta(topic.message_bytes, last.map_or(0, |l| l.message_bytes)),
        );
        lines.gauge(&format!("{t}.depth"), topic.depth);
        lines.gauge(&format!("{t}.backend_depth"), topic.backend_depth);
        lines.latencies(&t, &topic.e2e_processing_latency);

        for channel in &topic.channels {
            if skip(&channel.channel_name) {
                continue;
            }
            let lc = last.and_then(|l| {
                l.channels
                    .iter()
                    .find(|c| c.channel_name == channel.channel_name)
            });
            let c = format!("{t}.channel.{}", channel.channel_name);
            lines.counter(
                &format!("{c}.message_count"),
                delta(channel.message_count, lc.map_or(0, |l| l.message_count)),
            );
            lines.gauge(&format!("{c}.depth"), channel.depth);
            lines.gauge(&format!("{c}.backend_depth"), channel.backend_depth);
            lines.gauge(&format!("{c}.in_flight_count"), channel.in_flight_count);
            lines.gauge(&format!("{c}.deferred_count"), channel.deferred_count);
            lines.counter(
                &format!("{c}.requeue_count"),
                delta(channel.requeue_count, lc.map_or(0, |l| l.requeue_count)),
            );
            lines.counter(
                &format!("{c}.timeout_count"),
                delta(channel.timeout_count, lc.map_or(0, |l| l.timeout_count)),
            );
            lines.gauge(&format!("{c}.clients"), channel.client_count);
            lines.latencies(&c, &channel.e2e_processing_latency);
        }
    }
    if opts.mem_stats {
        let zero = stats::MemoryStats::default();
        let m = cur.memory.as_ref().unwrap_or(&zero);
        let last_runs = prev
            .and_then(|p| p.memory.as_ref())
            .map_or(0, |pm| pm.gc_total_runs);
        lines.gauge("mem.heap_objects", m.heap_objects);
        lines.gauge("mem.heap_idle_bytes", m.heap_idle_bytes);
        lines.gauge("mem.heap_in_use_bytes", m.heap_in_use_bytes);
        lines.gauge("mem.heap_released_bytes", m.heap_released_bytes);
        lines.gauge("mem.gc_pause_usec_100", m.gc_pause_usec_100);
        lines.gauge("mem.gc_pause_usec_99", m.gc_pause_usec_99);
        lines.gauge("mem.gc_pause_usec_95", m.gc_pause_usec_95);
        lines.gauge("mem.next_gc_bytes", m.next_gc_bytes);
        lines.counter("mem.gc_runs", delta(m.gc_total_runs, last_runs));
    }
    lines.out
}

/// Packs lines, each terminated by `\n`, into datagrams of at most
/// `packet_size` bytes without splitting a line (nsqd's boundary-buffered
/// writer). A single line longer than `packet_size` goes alone in its own
/// oversized datagram. A `packet_size` ≤ 0 means 4096, as Go's `bufio` does.
pub fn pack(lines: &[String], packet_size: i64) -> Vec<Vec<u8>> {
    let size = usize::try_from(packet_size)
        .ok()
        .filter(|&s| s > 0)
        .unwrap_or(DEFAULT_PACKET_SIZE);
    let mut packets = Vec::new();
    let mut cur: Vec<u8> = Vec::with_capacity(size);
    for line in lines {
        let len = line.len() + 1;
        if len > size - cur.len() && !cur.is_empty() {
            packets.push(std::mem::replace(&mut cur, Vec::with_capacity(size)));
        }
        cur.extend_from_slice(line.as_bytes());
        cur.push(b'\n');
        if cur.len() > size {
            // An oversized line on its own.
            packets.push(std::mem::replace(&mut cur, Vec::with_capacity(size)));
        }
    }
    if !cur.is_empty() {
        packets.push(cur);
    }
    packets
}

/// The settings the loop reads from [`crate::Options`], with the prefix resolved.
#[derive(Debug, Clone)]
pub struct StatsdConfig {
    /// `--statsd-address` (`host:port`).
    pub address: String,
    /// `--statsd-interval`.
    pub interval: Duration,
    /// `--statsd-udp-packet-size`.
    pub packet_size: i64,
    /// Prefix, ephemeral exclusion and memory stats.
    pub lines: LineOptions,
}

impl StatsdConfig {
    /// The configuration of `nsqd`: its options plus the prefix resolved with
    /// its broadcast address and HTTP port.
    pub fn from_nsqd(nsqd: &Nsqd) -> Self {
        let o = &nsqd.opts;
        StatsdConfig {
            address: o.statsd_address.clone(),
            interval: o.statsd_interval,
            packet_size: o.statsd_udp_packet_size,
            lines: LineOptions {
                prefix: resolve_prefix(
                    &o.statsd_prefix,
                    &o.broadcast_address,
                    nsqd.broadcast_http_port(),
                ),
                exclude_ephemeral: o.statsd_exclude_ephemeral,
                mem_stats: o.statsd_mem_stats,
            },
        }
    }
}

/// Opens a UDP socket connected to `addr` (bound to the matching wildcard address).
async fn connect(addr: &str) -> Result<UdpSocket, StatsdError> {
    let target: SocketAddr = tokio::net::lookup_host(addr)
        .await
        .map_err(|source| StatsdError::Resolve {
            addr: addr.to_string(),
            source,
        })?
        .next()
        .ok_or_else(|| StatsdError::NoAddress {
            addr: addr.to_string(),
        })?;
    let local: SocketAddr = if target.is_ipv4() {
        (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket_err = |source| StatsdError::Socket {
        addr: target.to_string(),
        source,
    };
    let sock = UdpSocket::bind(local).await.map_err(socket_err)?;
    sock.connect(target).await.map_err(socket_err)?;
    Ok(sock)
}

/// Sends `packets` to `addr`, spread evenly over `spread` (all at once when
/// `spread` is zero). Shutdown skips the remaining pauses but still sends
/// everything, as nsqd's spread writer does. Send errors of single datagrams
/// (e.g. nothing listening) are logged and do not stop the push.
pub async fn send_spread(
    addr: &str,
    packets: &[Vec<u8>],
    spread: Duration,
    shutdown: &CancellationToken,
) -> Result<(), StatsdError> {
    if packets.is_empty() {
        return Ok(());
    }
    let sock = connect(addr).await?;
    let pause = spread / u32::try_from(packets.len()).unwrap_or(u32::MAX);
    for p in packets {
        if let Err(e) = sock.send(p).await {
            tracing::warn!("STATSD: failed to send {} bytes to {addr} - {e}", p.len());
        }
        if !pause.is_zero() && !shutdown.is_cancelled() {
            tokio::select! {
                _ = shutdown.cancelled() => {}
                _ = tokio::time::sleep(pause) => {}
            }
        }
    }
    Ok(())
}

/// Runs the statsd push loop until `shutdown` is cancelled: first push one
/// `--statsd-interval` after start, then every interval. Spawn it when
/// `--statsd-address` is set; a failed push is logged and retried at the next tick.
pub async fn run_statsd(nsqd: Arc<Nsqd>, shutdown: CancellationToken) {
    let cfg = StatsdConfig::from_nsqd(&nsqd);
    if cfg.address.is_empty() {
        return;
    }
    let interval = cfg.interval.max(Duration::from_millis(1));
    let spread = interval.saturating_sub(Duration::from_secs(1));
    let filter = StatsFilter {
        topic: None,
        channel: None,
        include_clients: false,
        include_mem: cfg.lines.mem_stats,
    };
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut prev: Option<StatsDoc> = None;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = ticker.tick() => {}
        }
        tracing::info!("STATSD: pushing stats to {}", cfg.address);
        let doc = stats::collect(&nsqd, &filter);
        let lines = build_lines(prev.as_ref(), &doc, &cfg.lines);
        prev = Some(doc);
        let packets = pack(&lines, cfg.packet_size);
        if let Err(e) = send_spread(&cfg.address, &packets, spread, &shutdown).await {
            tracing::error!("STATSD: {e}");
        }
    }
    tracing::info!("STATSD: closing");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{ChannelStats, E2eLatency, MemoryStats, Quantile, TopicStats};

    fn channel(name: &str, msgs: u64, requeues: u64, timeouts: u64) -> ChannelStats {
        ChannelStats {
            channel_name: name.into(),
            depth: 3,
            backend_depth: 1,
            in_flight_count: 2,
            deferred_count: 4,
            message_count: msgs,
            requeue_count: requeues,
            timeout_count: timeouts,
            client_count: 5,
            clients: None,
            paused: false,
            e2e_processing_latency: E2eLatency {
                count: 0,
                percentiles: None,
            },
            backend_bad_files: 0,
        }
    }

    fn topic(name: &str, msgs: u64, bytes: u64, channels: Vec<ChannelStats>) -> TopicStats {
        TopicStats {
            topic_name: name.into(),
            channels,
            depth: 7,
            backend_depth: 6,
            message_count: msgs,
            message_bytes: bytes,
            paused: false,
            e2e_processing_latency: E2eLatency {
                count: 0,
                percentiles: None,
            },
            backend_bad_files: 0,
        }
    }

    fn doc(topics: Vec<TopicStats>, gc_runs: u64) -> StatsDoc {
        StatsDoc {
            version: "1.3.0",
            health: "OK".into(),
            start_time: 0,
            topics: Some(topics),
            memory: Some(MemoryStats {
                heap_in_use_bytes: 1000,
                gc_total_runs: gc_runs,
                ..MemoryStats::default()
            }),
            producers: None,
        }
    }

    fn opts(exclude_ephemeral: bool, mem_stats: bool) -> LineOptions {
        LineOptions {
            prefix: "nsq.host_4151.".into(),
            exclude_ephemeral,
            mem_stats,
        }
    }

    #[test]
    fn prefix_resolution() {
        assert_eq!(
            resolve_prefix("nsq.%s", "my.host", 4151),
            "nsq.my_host_4151."
        );
        assert_eq!(resolve_prefix("a.%s.b.", "h", 1), "a.h_1.b.");
        assert_eq!(resolve_prefix("static", "h", 1), "static.");
        assert_eq!(resolve_prefix("%s%s", "h", 1), "h_1h_1.");
        assert_eq!(resolve_prefix("nsq.%s", "::1", 4151), "nsq.[__1]_4151.");
        assert_eq!(resolve_prefix("", "h", 1), "");
    }

    #[test]
    fn first_push_counts_from_zero_in_nsqd_order() {
        let cur = doc(vec![topic("t", 10, 100, vec![channel("c", 9, 2, 1)])], 0);
        let lines = build_lines(None, &cur, &opts(false, false));
        assert_eq!(
            lines,
            vec![
                "nsq.host_4151.topic.t.message_count:10|c",
                "nsq.host_4151.topic.t.message_bytes:100|c",
                "nsq.host_4151.topic.t.depth:7|g",
                "nsq.host_4151.topic.t.backend_depth:6|g",
                "nsq.host_4151.topic.t.channel.c.message_count:9|c",
                "nsq.host_4151.topic.t.channel.c.depth:3|g",
                "nsq.host_4151.topic.t.channel.c.backend_depth:1|g",
                "nsq.host_4151.topic.t.channel.c.in_flight_count:2|g",
                "nsq.host_4151.topic.t.channel.c.deferred_count:4|g",
                "nsq.host_4151.topic.t.channel.c.requeue_count:2|c",
                "nsq.host_4151.topic.t.channel.c.timeout_count:1|c",
                "nsq.host_4151.topic.t.channel.c.clients:5|g",
            ]
        );
    }

    #[test]
    fn counters_are_deltas_and_gauges_are_values() {
        let prev = doc(vec![topic("t", 10, 100, vec![channel("c", 9, 2, 1)])], 3);
        let cur = doc(
            vec![topic(
                "t",
                15,
                160,
                vec![channel("c", 14, 2, 4), channel("new", 5, 0, 0)],
            )],
            5,
        );
        let lines = build_lines(Some(&prev), &cur, &opts(false, true));
        let has = |l: &str| lines.iter().any(|x| x == &format!("nsq.host_4151.{l}"));
        assert!(has("topic.t.message_count:5|c"), "{lines:#?}");
        assert!(has("topic.t.message_bytes:60|c"));
        assert!(has("topic.t.depth:7|g"));
        assert!(has("topic.t.channel.c.message_count:5|c"));
        assert!(has("topic.t.channel.c.requeue_count:0|c"));
        assert!(has("topic.t.channel.c.timeout_count:3|c"));
        assert!(has("topic.t.channel.new.message_count:5|c"));
        assert!(has("mem.heap_in_use_bytes:1000|g"));
        assert!(has("mem.gc_runs:2|c"));
        assert_eq!(
            lines.iter().filter(|l| l.contains(".mem.")).count(),
            9,
            "{lines:#?}"
        );
        // A counter that went down (topic recreated) gives a negative delta, as in Go.
        let cur = doc(vec![topic("t", 4, 100, vec![])], 5);
        let lines = build_lines(Some(&prev), &cur, &opts(false, false));
        assert_eq!(lines[0], "nsq.host_4151.topic.t.message_count:-6|c");
    }

    #[test]
    fn ephemeral_exclusion_and_latency_gauges() {
        let mut t = topic(
            "t",
            1,
            1,
            vec![channel("c#ephemeral", 1, 0, 0), channel("d", 1, 0, 0)],
        );
        t.e2e_processing_latency = E2eLatency {
            count: 3,
            percentiles: Some(vec![
                Quantile {
                    quantile: 0.99,
                    value: 2_636_789_146,
                },
                Quantile {
                    quantile: 0.5,
                    value: 12,
                },
            ]),
        };
        let cur = doc(vec![t, topic("e#ephemeral", 1, 1, vec![])], 0);
        let all = build_lines(None, &cur, &opts(false, false));
        assert!(all.iter().any(|l| l.contains("topic.e#ephemeral.depth")));
        assert!(all.iter().any(|l| l.contains("channel.c#ephemeral.depth")));
        assert!(all
            .contains(&"nsq.host_4151.topic.t.e2e_processing_latency_99:2636789146|g".to_string()));
        assert!(all.contains(&"nsq.host_4151.topic.t.e2e_processing_latency_50:12|g".to_string()));
        let some = build_lines(None, &cur, &opts(true, false));
        assert!(!some.iter().any(|l| l.contains("#ephemeral")), "{some:#?}");
        assert!(some.iter().any(|l| l.contains("channel.d.depth")));
    }

    #[test]
    fn packing_respects_the_boundary() {
        let lines: Vec<String> = vec!["a".repeat(9), "b".repeat(9), "c".repeat(4), "d".repeat(30)];
        let packets = pack(&lines, 20);
        let text: Vec<String> = packets
            .iter()
            .map(|p| String::from_utf8(p.clone()).unwrap())
            .collect();
        // 10 + 10 = 20 fits exactly; "cccc\n" starts a new one; the oversized line goes alone.
        assert_eq!(
            text,
            vec![
                format!("{}\n{}\n", "a".repeat(9), "b".repeat(9)),
                "cccc\n".to_string(),
                format!("{}\n", "d".repeat(30)),
            ]
        );
        assert!(pack(&[], 508).is_empty());
        // Non-positive sizes fall back to 4096.
        let many: Vec<String> = (0..1000).map(|i| format!("stat.{i}:1|c")).collect();
        for p in pack(&many, 0) {
            assert!(p.len() <= 4096);
        }
        let packets = pack(&many, 508);
        assert!(packets.iter().all(|p| p.len() <= 508 && p.ends_with(b"\n")));
        let joined: Vec<u8> = packets.concat();
        let expected: String = many.iter().map(|l| format!("{l}\n")).collect();
        assert_eq!(joined, expected.as_bytes());
    }

    #[tokio::test]
    async fn pushes_datagrams_over_udp() {
        let receiver = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = receiver.local_addr().unwrap().to_string();
        let cur = doc(vec![topic("t", 2, 20, vec![channel("c", 2, 0, 0)])], 1);
        let lines = build_lines(None, &cur, &opts(false, true));
        let packets = pack(&lines, 100);
        assert!(packets.len() > 1);
        send_spread(&addr, &packets, Duration::ZERO, &CancellationToken::new())
            .await
            .unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 2048];
        for _ in 0..packets.len() {
            let n = tokio::time::timeout(Duration::from_secs(5), receiver.recv(&mut buf))
                .await
                .expect("datagram within 5s")
                .unwrap();
            assert!(n <= 100);
            got.extend_from_slice(&buf[..n]);
        }
        let text = String::from_utf8(got).unwrap();
        assert!(text.starts_with("nsq.host_4151.topic.t.message_count:2|c\n"));
        assert!(text.ends_with("nsq.host_4151.mem.gc_runs:1|c\n"));
        assert_eq!(text.lines().count(), lines.len());
    }

    #[tokio::test]
    async fn run_statsd_pushes_on_each_tick() {
        let receiver = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let opts = crate::Options {
            statsd_address: receiver.local_addr().unwrap().to_string(),
            statsd_interval: Duration::from_millis(50),
            statsd_prefix: "nsq.%s".into(),
            broadcast_address: "h.local".into(),
            broadcast_http_port: 4151,
            ..crate::Options::default()
        };
        let nsqd = Nsqd::new(opts, crate::nsqd::BoundAddrs::default(), None);
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(run_statsd(nsqd, shutdown.clone()));
        let mut buf = [0u8; 2048];
        let n = tokio::time::timeout(Duration::from_secs(5), receiver.recv(&mut buf))
            .await
            .expect("a push within 5s")
            .unwrap();
        let text = String::from_utf8_lossy(&buf[..n]).into_owned();
        assert!(
            text.starts_with("nsq.h_local_4151.mem.heap_objects:0|g\n"),
            "{text}"
        );
        shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .expect("loop stops on shutdown")
            .unwrap();
    }

    #[tokio::test]
    async fn unresolvable_address_is_a_typed_error() {
        let err = send_spread(
            "not an address",
            &[b"x\n".to_vec()],
            Duration::ZERO,
            &CancellationToken::new(),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, StatsdError::Resolve { .. }), "{err}");
    }
}
