//! `/stats`: the JSON document and the text report, in nsqd v1.3.0's shapes.

use crate::client_stats::ClientStats;
use crate::nsqd::{unix_seconds, Nsqd};
use serde::{Serialize, Serializer};
use std::fmt::Write as _;
use std::sync::atomic::Ordering;

/// Which parts of the stats to produce (the `/stats` query parameters).
#[derive(Debug, Clone, Default)]
pub struct StatsFilter {
    /// Only this topic.
    pub topic: Option<String>,
    /// Only this channel (within every selected topic).
    pub channel: Option<String>,
    /// Include client lists and producers.
    pub include_clients: bool,
    /// Include the `memory` object.
    pub include_mem: bool,
}

/// The whole `/stats?format=json` document.
#[derive(Debug, Serialize)]
pub struct StatsDoc {
    /// Always `1.3.0`.
    pub version: &'static str,
    /// `OK` or `NOK - <err>`.
    pub health: String,
    /// Process start, Unix seconds.
    pub start_time: i64,
    /// Topics, or `null` when the requested topic does not exist.
    pub topics: Option<Vec<TopicStats>>,
    /// Memory figures; omitted with `include_mem=false`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<MemoryStats>,
    /// TCP connections that published and never subscribed; `null` when none.
    pub producers: Option<Vec<ClientJson>>,
}

/// One topic in `/stats`.
#[derive(Debug, Serialize)]
pub struct TopicStats {
    /// Topic name.
    pub topic_name: String,
    /// Channels, sorted by name.
    pub channels: Vec<ChannelStats>,
    /// Messages waiting in the topic itself.
    pub depth: u64,
    /// Of which on disk.
    pub backend_depth: u64,
    /// Messages accepted since start.
    pub message_count: u64,
    /// Body bytes accepted since start.
    pub message_bytes: u64,
    /// Paused.
    pub paused: bool,
    /// End-to-end latency figures.
    pub e2e_processing_latency: E2eLatency,
    /// Corrupt disk-queue files set aside (renamed `.bad`) and undecodable
    /// records skipped; only present when not 0 (not in nsqd v1.3.0).
    #[serde(skip_serializing_if = "is_zero")]
    pub backend_bad_files: u64,
}

/// One channel in `/stats`.
#[derive(Debug, Serialize)]
pub struct ChannelStats {
    /// Channel name.
    pub channel_name: String,
    /// Waiting messages (memory + disk).
    pub depth: u64,
    /// Waiting messages on disk.
    pub backend_depth: u64,
    /// In flight.
    pub in_flight_count: u64,
    /// Deferred.
    pub deferred_count: u64,
    /// Received from the topic since start.
    pub message_count: u64,
    /// REQs since start.
    pub requeue_count: u64,
    /// Timeouts since start.
    pub timeout_count: u64,
    /// Connected consumers.
    pub client_count: usize,
    /// Consumers; `null` with `include_clients=false`.
    pub clients: Option<Vec<ClientJson>>,
    /// Paused.
    pub paused: bool,
    /// End-to-end latency figures.
    pub e2e_processing_latency: E2eLatency,
    /// Corrupt disk-queue files set aside and undecodable records skipped;
    /// only present when not 0 (not in nsqd v1.3.0).
    #[serde(skip_serializing_if = "is_zero")]
    pub backend_bad_files: u64,
}

/// One connection in `/stats`.
#[derive(Debug, Serialize)]
pub struct ClientJson {
    /// From IDENTIFY.
    pub client_id: String,
    /// From IDENTIFY.
    pub hostname: String,
    /// Always `V2`.
    pub version: &'static str,
    /// `ip:port`.
    pub remote_address: String,
    /// 0 init, 3 subscribed, 4 closing.
    pub state: u8,
    /// Last RDY.
    pub ready_count: i64,
    /// In flight.
    pub in_flight_count: i64,
    /// Messages sent.
    pub message_count: u64,
    /// FINs.
    pub finish_count: u64,
    /// REQs.
    pub requeue_count: u64,
    /// Connect time, Unix seconds.
    pub connect_ts: i64,
    /// Sample rate.
    pub sample_rate: i32,
    /// Deflate active.
    pub deflate: bool,
    /// Snappy active.
    pub snappy: bool,
    /// From IDENTIFY.
    pub user_agent: String,
    /// Present only when true.
    #[serde(skip_serializing_if = "is_false")]
    pub authed: bool,
    /// Present only when set.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub auth_identity: String,
    /// Present only when set.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub auth_identity_url: String,
    /// Messages published per topic; omitted when empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pub_counts: Vec<PubCount>,
    /// TLS active.
    pub tls: bool,
    /// Cipher suite name.
    pub tls_cipher_suite: String,
    /// `TLS1.2` etc.
    pub tls_version: String,
    /// ALPN protocol.
    pub tls_negotiated_protocol: String,
    /// ALPN mutual.
    pub tls_negotiated_protocol_is_mutual: bool,
}

/// A producer's count for one topic.
#[derive(Debug, Serialize)]
pub struct PubCount {
    /// Topic name.
    pub topic: String,
    /// Messages published.
    pub count: u64,
}

/// The `e2e_processing_latency` object.
#[derive(Debug, Serialize)]
pub struct E2eLatency {
    /// Samples in the window.
    pub count: u64,
    /// Configured percentiles, `null` when none are configured.
    pub percentiles: Option<Vec<Quantile>>,
}

/// One latency percentile.
#[derive(Debug, Serialize)]
pub struct Quantile {
    /// The quantile, printed like Go prints floats (`1`, not `1.0`).
    #[serde(serialize_with = "go_float")]
    pub quantile: f64,
    /// Latency in nanoseconds.
    pub value: i64,
}

/// The `memory` object (Go runtime figures in nsqd; process figures here).
#[derive(Debug, Serialize, Default)]
pub struct MemoryStats {
    /// Live allocations (not tracked: 0).
    pub heap_objects: u64,
    /// Not tracked: 0.
    pub heap_idle_bytes: u64,
    /// Resident set size of the process.
    pub heap_in_use_bytes: u64,
    /// Not tracked: 0.
    pub heap_released_bytes: u64,
    /// No garbage collector: 0.
    pub gc_pause_usec_100: u64,
    /// No garbage collector: 0.
    pub gc_pause_usec_99: u64,
    /// No garbage collector: 0.
    pub gc_pause_usec_95: u64,
    /// No garbage collector: 0.
    pub next_gc_bytes: u64,
    /// No garbage collector: 0.
    pub gc_total_runs: u64,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn go_float<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        s.serialize_i64(*v as i64)
    } else {
        s.serialize_f64(*v)
    }
}

/// Resident memory of this process in bytes (0 where unknown).
pub fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|v| v.parse::<u64>().ok())
        })
        .map(|pages| pages * 4096)
        .unwrap_or(0)
}

fn client_json(c: &ClientStats, topic_filter: Option<&str>) -> ClientJson {
    let ident = c.identity.lock().clone();
    let pub_counts = c
        .pub_counts
        .lock()
        .iter()
        .filter(|(t, _)| topic_filter.is_none_or(|f| f == t))
        .map(|(topic, count)| PubCount {
            topic: topic.clone(),
            count: *count,
        })
        .collect();
    ClientJson {
        client_id: ident.client_id,
        hostname: ident.hostname,
        version: "V2",
        remote_address: c.remote_address.clone(),
        state: c.state(),
        ready_count: c.ready_count.load(Ordering::Relaxed),
        in_flight_count: c.in_flight_count.load(Ordering::Relaxed),
        message_count: c.message_count.load(Ordering::Relaxed),
        finish_count: c.finish_count.load(Ordering::Relaxed),
        requeue_count: c.requeue_count.load(Ordering::Relaxed),
        connect_ts: c.connect_ts,
        sample_rate: ident.sample_rate,
        deflate: ident.deflate,
        snappy: ident.snappy,
        user_agent: ident.user_agent,
        authed: ident.authed,
        auth_identity: ident.auth_identity,
        auth_identity_url: ident.auth_identity_url,
        pub_counts,
        tls: ident.tls,
        tls_cipher_suite: ident.tls_cipher_suite,
        tls_version: ident.tls_version,
        tls_negotiated_protocol: String::new(),
        tls_negotiated_protocol_is_mutual: false,
    }
}

/// Builds the stats document for `filter`.
pub fn collect(nsqd: &Nsqd, filter: &StatsFilter) -> StatsDoc {
    let topics = match &filter.topic {
        Some(name) => nsqd.topic(name).map(|t| vec![t]),
        None => Some(nsqd.topics()),
    };
    let topics = topics.map(|topics| {
        topics
            .iter()
            .filter_map(|topic| {
                let snap = topic.snapshot();
                let channels: Vec<ChannelStats> = snap
                    .channels
                    .iter()
                    .filter(|ch| filter.channel.as_ref().is_none_or(|c| *c == ch.name))
                    .map(|ch| {
                        let cs = ch.snapshot();
                        ChannelStats {
                            channel_name: cs.name,
                            depth: cs.depth,
                            backend_depth: cs.backend_depth,
                            in_flight_count: cs.in_flight_count,
                            deferred_count: cs.deferred_count,
                            message_count: cs.message_count,
                            requeue_count: cs.requeue_count,
                            timeout_count: cs.timeout_count,
                            client_count: cs.clients.len(),
                            clients: filter
                                .include_clients
                                .then(|| cs.clients.iter().map(|c| client_json(c, None)).collect()),
                            paused: cs.paused,
                            e2e_processing_latency: ch.e2e.snapshot(),
                            backend_bad_files: cs.bad_files,
                        }
                    })
                    .collect();
                if filter.channel.is_some() && channels.is_empty() {
                    return None;
                }
                Some(TopicStats {
                    topic_name: snap.name,
                    channels,
                    depth: snap.depth,
                    backend_depth: snap.backend_depth,
                    message_count: snap.message_count,
                    message_bytes: snap.message_bytes,
                    paused: snap.paused,
                    e2e_processing_latency: {
                        let all: Vec<&crate::e2e::E2eLatency> =
                            snap.channels.iter().map(|c| &c.e2e).collect();
                        crate::e2e::E2eLatency::merge(&all)
                    },
                    backend_bad_files: snap.bad_files,
                })
            })
            .collect()
    });
    let producers = if filter.include_clients {
        let list: Vec<ClientJson> = nsqd
            .clients()
            .iter()
            .filter(|c| c.state() == 0 && c.has_published())
            .map(|c| client_json(c, filter.topic.as_deref()))
            .collect();
        (!list.is_empty()).then_some(list)
    } else {
        None
    };
    StatsDoc {
        version: crate::VERSION,
        health: match nsqd.health() {
            Ok(()) => "OK".into(),
            Err(e) => format!("NOK - {e}"),
        },
        start_time: nsqd.start_time,
        topics,
        memory: filter.include_mem.then(|| MemoryStats {
            heap_in_use_bytes: resident_bytes(),
            ..MemoryStats::default()
        }),
        producers,
    }
}

/// Formats a duration in nanoseconds like nsqd's text stats (`2.6s`, `0.0ns`).
fn latency_text(ns: i64) -> String {
    let v = ns as f64;
    if v > 1e9 {
        format!("{:.1}s", v / 1e9)
    } else if v > 1e6 {
        format!("{:.1}ms", v / 1e6)
    } else if v > 1e3 {
        format!("{:.1}us", v / 1e3)
    } else {
        format!("{v:.1}ns")
    }
}

fn latencies_text(l: &E2eLatency) -> String {
    l.percentiles
        .as_ref()
        .map(|ps| {
            ps.iter()
                .map(|q| latency_text(q.value))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

/// Formats seconds like Go's `time.Duration` text truncated to seconds (`1m5s`).
fn go_duration_secs(total: i64) -> String {
    let total = total.max(0);
    let (h, m, s) = (total / 3600, (total % 3600) / 60, total % 60);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

/// The text report (`/stats` without `format=json`).
pub fn render_text(doc: &StatsDoc) -> String {
    let now = unix_seconds();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "nsqd v{} (built w/{})",
        crate::VERSION,
        crate::BUILT_WITH
    );
    let _ = writeln!(out, "start_time {}", rfc3339_utc(doc.start_time));
    let _ = writeln!(out, "uptime {}", go_duration_secs(now - doc.start_time));
    let _ = write!(out, "\nHealth: {}\n", doc.health);
    if let Some(m) = &doc.memory {
        out.push_str("\nMemory:\n");
        for (k, v) in [
            ("heap_objects", m.heap_objects),
            ("heap_idle_bytes", m.heap_idle_bytes),
            ("heap_in_use_bytes", m.heap_in_use_bytes),
            ("heap_released_bytes", m.heap_released_bytes),
            ("gc_pause_usec_100", m.gc_pause_usec_100),
            ("gc_pause_usec_99", m.gc_pause_usec_99),
            ("gc_pause_usec_95", m.gc_pause_usec_95),
            ("next_gc_bytes", m.next_gc_bytes),
            ("gc_total_runs", m.gc_total_runs),
        ] {
            let _ = writeln!(out, "   {k:<25}\t{v}");
        }
    }
    let topics = doc.topics.as_deref().unwrap_or(&[]);
    if topics.is_empty() {
        out.push_str("\nTopics: None\n");
    } else {
        out.push_str("\nTopics:");
        for t in topics {
            let p = if t.paused { "*P " } else { "   " };
            let _ = write!(
                out,
                "\n{p}[{:<15}] depth: {:<5} be-depth: {:<5} msgs: {:<8} e2e%: {}\n",
                t.topic_name,
                t.depth,
                t.backend_depth,
                t.message_count,
                latencies_text(&t.e2e_processing_latency)
            );
            for c in &t.channels {
                let cp = if c.paused { "   *P " } else { "      " };
                let _ = writeln!(
                    out,
                    "{cp}[{:<25}] depth: {:<5} be-depth: {:<5} inflt: {:<4} def: {:<4} re-q: {:<5} timeout: {:<5} msgs: {:<8} e2e%: {}",
                    c.channel_name,
                    c.depth,
                    c.backend_depth,
                    c.in_flight_count,
                    c.deferred_count,
                    c.requeue_count,
                    c.timeout_count,
                    c.message_count,
                    latencies_text(&c.e2e_processing_latency)
                );
                for cl in c.clients.as_deref().unwrap_or(&[]) {
                    let _ = writeln!(
                        out,
                        "        [V2 {:<21}] state: {} inflt: {:<4} rdy: {:<4} fin: {:<8} re-q: {:<8} msgs: {:<8} connected: {}",
                        client_label(cl),
                        cl.state,
                        cl.in_flight_count,
                        cl.ready_count,
                        cl.finish_count,
                        cl.requeue_count,
                        cl.message_count,
                        go_duration_secs(now - cl.connect_ts)
                    );
                }
            }
        }
    }
    match doc.producers.as_deref() {
        Some(producers) if !producers.is_empty() => {
            out.push_str("\nProducers:\n");
            for p in producers {
                let topics: Vec<String> = p
                    .pub_counts
                    .iter()
                    .map(|c| format!("{}={}", c.topic, c.count))
                    .collect();
                let msgs: u64 = p.pub_counts.iter().map(|c| c.count).sum();
                let _ = writeln!(
                    out,
                    "   [V2 {:<21}] msgs: {:<8} topics: {} connected: {}",
                    client_label(p),
                    msgs,
                    topics.join(","),
                    go_duration_secs(now - p.connect_ts)
                );
            }
        }
        _ => out.push_str("\nProducers: None\n"),
    }
    out
}

fn client_label(c: &ClientJson) -> String {
    let port = c.remote_address.rsplit(':').next().unwrap_or("");
    format!("{}:{} {}", c.hostname, port, c.user_agent)
}

/// Unix seconds as an RFC 3339 UTC timestamp (`2026-11-22T03:48:18Z`).
fn rfc3339_utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_of_fixture_start_time() {
        assert_eq!(rfc3339_utc(1_795_319_298), "2026-11-22T03:48:18Z");
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn latency_units() {
        assert_eq!(latency_text(2_636_789_146), "2.6s");
        assert_eq!(latency_text(0), "0.0ns");
        assert_eq!(latency_text(1_500_000), "1.5ms");
    }

    #[test]
    fn go_style_floats() {
        let q = Quantile {
            quantile: 1.0,
            value: 5,
        };
        assert_eq!(
            serde_json::to_string(&q).unwrap(),
            r#"{"quantile":1,"value":5}"#
        );
        let q = Quantile {
            quantile: 0.99,
            value: 5,
        };
        assert_eq!(
            serde_json::to_string(&q).unwrap(),
            r#"{"quantile":0.99,"value":5}"#
        );
    }

    #[test]
    fn durations_truncated_to_seconds() {
        assert_eq!(go_duration_secs(1), "1s");
        assert_eq!(go_duration_secs(65), "1m5s");
        assert_eq!(go_duration_secs(3_725), "1h2m5s");
    }
}
