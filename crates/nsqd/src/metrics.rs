//! Prometheus text exposition (format 0.0.4) of the `/stats` figures.
//!
//! [`render`] turns a [`StatsDoc`] (as built by [`crate::stats::collect`]) into
//! the text a Prometheus server scrapes: every metric family has one `# HELP`
//! and one `# TYPE` line followed by its samples; families without samples
//! are left out. Label values are escaped (`\` → `\\`, `"` → `\"`, newline → `\n`).
//!
//! Families (labels in braces):
//!
//! | metric | type | from |
//! |---|---|---|
//! | `nsq_up` | gauge | always 1 |
//! | `nsq_healthy` | gauge | 1 when `health` is `OK` |
//! | `nsq_start_time_seconds` | gauge | `start_time` |
//! | `nsq_topic_depth{topic}` | gauge | `depth` |
//! | `nsq_topic_backend_depth{topic}` | gauge | `backend_depth` |
//! | `nsq_topic_messages_total{topic}` | counter | `message_count` |
//! | `nsq_topic_message_bytes_total{topic}` | counter | `message_bytes` |
//! | `nsq_topic_paused{topic}` | gauge | `paused` |
//! | `nsq_topic_channels{topic}` | gauge | number of channels listed |
//! | `nsq_topic_e2e_latency_seconds{topic,quantile}` | gauge | topic `e2e_processing_latency` percentiles, when configured |
//! | `nsq_topic_e2e_latency_samples{topic}` | gauge | its `count` (samples in the window) |
//! | `nsq_channel_depth{topic,channel}` | gauge | `depth` |
//! | `nsq_channel_backend_depth{topic,channel}` | gauge | `backend_depth` |
//! | `nsq_channel_in_flight{topic,channel}` | gauge | `in_flight_count` |
//! | `nsq_channel_deferred{topic,channel}` | gauge | `deferred_count` |
//! | `nsq_channel_messages_total{topic,channel}` | counter | `message_count` |
//! | `nsq_channel_requeued_total{topic,channel}` | counter | `requeue_count` |
//! | `nsq_channel_timed_out_total{topic,channel}` | counter | `timeout_count` |
//! | `nsq_channel_clients{topic,channel}` | gauge | `client_count` |
//! | `nsq_channel_paused{topic,channel}` | gauge | `paused` |
//! | `nsq_channel_e2e_latency_seconds{topic,channel,quantile}` | gauge | channel percentiles, when configured |
//! | `nsq_channel_e2e_latency_samples{topic,channel}` | gauge | its `count` |
//! | `nsq_producer_messages_total{client_id,hostname,remote_address,topic}` | counter | `producers[].pub_counts` |
//! | `nsq_memory_<key>` | gauge | the `memory` object, when present (`gc_total_runs` as counter `nsq_memory_gc_runs_total`) |
//!
//! The latency quantiles are gauges (not a summary) because nsqd's figures
//! cover a sliding window and have no cumulative sum.

use crate::stats::{E2eLatency, StatsDoc};
use nsq_http::prometheus::{Family, Kind};

/// The content type to serve [`render`]'s output with.
pub use nsq_http::prometheus::CONTENT_TYPE;

fn bool_value(b: bool) -> u8 {
    u8::from(b)
}

/// Nanoseconds as seconds, in Prometheus' float syntax.
fn seconds(ns: i64) -> f64 {
    ns as f64 / 1e9
}

fn add_latency(
    quantiles: &mut Family,
    samples: &mut Family,
    labels: &[(&str, &str)],
    l: &E2eLatency,
) {
    let Some(ps) = l.percentiles.as_deref() else {
        return;
    };
    for q in ps {
        let qs = q.quantile.to_string();
        let mut with_q = labels.to_vec();
        with_q.push(("quantile", &qs));
        quantiles.add(&with_q, seconds(q.value));
    }
    samples.add(labels, l.count);
}

/// Renders `doc` in the Prometheus text format 0.0.4 (serve it with [`CONTENT_TYPE`]).
pub fn render(doc: &StatsDoc) -> String {
    use Kind::{Counter, Gauge};
    let mut up = Family::new("nsq_up", Gauge, "Whether nsqd is up (always 1).");
    let mut healthy = Family::new(
        "nsq_healthy",
        Gauge,
        "1 when nsqd reports health OK, 0 after a disk write error.",
    );
    let mut start = Family::new(
        "nsq_start_time_seconds",
        Gauge,
        "Start time of nsqd since the Unix epoch in seconds.",
    );
    up.add(&[], 1);
    healthy.add(&[], bool_value(doc.health == "OK"));
    start.add(&[], doc.start_time);

    let mut t_depth = Family::new(
        "nsq_topic_depth",
        Gauge,
        "Messages waiting in the topic (memory and disk).",
    );
    let mut t_backend = Family::new(
        "nsq_topic_backend_depth",
        Gauge,
        "Messages waiting in the topic on disk.",
    );
    let mut t_msgs = Family::new(
        "nsq_topic_messages_total",
        Counter,
        "Messages published to the topic since nsqd started.",
    );
    let mut t_bytes = Family::new(
        "nsq_topic_message_bytes_total",
        Counter,
        "Message body bytes published to the topic since nsqd started.",
    );
    let mut t_paused = Family::new("nsq_topic_paused", Gauge, "1 when the topic is paused.");
    let mut t_channels = Family::new("nsq_topic_channels", Gauge, "Channels of the topic.");
    let mut t_e2e = Family::new(
        "nsq_topic_e2e_latency_seconds",
        Gauge,
        "End-to-end processing latency quantiles over all the topic's channels, in the sliding window.",
    );
    let mut t_e2e_n = Family::new(
        "nsq_topic_e2e_latency_samples",
        Gauge,
        "Latency samples in the sliding window over all the topic's channels.",
    );
    let mut c_depth = Family::new(
        "nsq_channel_depth",
        Gauge,
        "Messages waiting in the channel (memory and disk; excludes in-flight and deferred).",
    );
    let mut c_backend = Family::new(
        "nsq_channel_backend_depth",
        Gauge,
        "Messages waiting in the channel on disk.",
    );
    let mut c_inflight = Family::new(
        "nsq_channel_in_flight",
        Gauge,
        "Messages sent to consumers and not yet finished, requeued or timed out.",
    );
    let mut c_deferred = Family::new(
        "nsq_channel_deferred",
        Gauge,
        "Deferred messages waiting for their time.",
    );
    let mut c_msgs = Family::new(
        "nsq_channel_messages_total",
        Counter,
        "Messages the channel received from its topic since nsqd started.",
    );
    let mut c_req = Family::new(
        "nsq_channel_requeued_total",
        Counter,
        "Messages requeued (REQ) since nsqd started.",
    );
    let mut c_timeout = Family::new(
        "nsq_channel_timed_out_total",
        Counter,
        "In-flight messages that timed out since nsqd started.",
    );
    let mut c_clients = Family::new(
        "nsq_channel_clients",
        Gauge,
        "Consumers connected to the channel.",
    );
    let mut c_paused = Family::new("nsq_channel_paused", Gauge, "1 when the channel is paused.");
    let mut c_e2e = Family::new(
        "nsq_channel_e2e_latency_seconds",
        Gauge,
        "End-to-end processing latency quantiles (publish to FIN) in the sliding window.",
    );
    let mut c_e2e_n = Family::new(
        "nsq_channel_e2e_latency_samples",
        Gauge,
        "Latency samples in the sliding window.",
    );
    let mut p_msgs = Family::new(
        "nsq_producer_messages_total",
        Counter,
        "Messages a connected TCP producer published, per topic.",
    );

    for t in doc.topics.as_deref().unwrap_or(&[]) {
        let tl = [("topic", t.topic_name.as_str())];
        t_depth.add(&tl, t.depth);
        t_backend.add(&tl, t.backend_depth);
        t_msgs.add(&tl, t.message_count);
        t_bytes.add(&tl, t.message_bytes);
        t_paused.add(&tl, bool_value(t.paused));
        t_channels.add(&tl, t.channels.len());
        add_latency(&mut t_e2e, &mut t_e2e_n, &tl, &t.e2e_processing_latency);
        for c in &t.channels {
            let cl = [
                ("topic", t.topic_name.as_str()),
                ("channel", c.channel_name.as_str()),
            ];
            c_depth.add(&cl, c.depth);
            c_backend.add(&cl, c.backend_depth);
            c_inflight.add(&cl, c.in_flight_count);
            c_deferred.add(&cl, c.deferred_count);
            c_msgs.add(&cl, c.message_count);
            c_req.add(&cl, c.requeue_count);
            c_timeout.add(&cl, c.timeout_count);
            c_clients.add(&cl, c.client_count);
            c_paused.add(&cl, bool_value(c.paused));
            add_latency(&mut c_e2e, &mut c_e2e_n, &cl, &c.e2e_processing_latency);
        }
    }
    for p in doc.producers.as_deref().unwrap_or(&[]) {
        for pc in &p.pub_counts {
            p_msgs.add(
                &[
                    ("client_id", p.client_id.as_str()),
                    ("hostname", p.hostname.as_str()),
                    ("remote_address", p.remote_address.as_str()),
                    ("topic", pc.topic.as_str()),
                ],
                pc.count,
            );
        }
    }

    let mut families = vec![
        up, healthy, start, t_depth, t_backend, t_msgs, t_bytes, t_paused, t_channels, t_e2e,
        t_e2e_n, c_depth, c_backend, c_inflight, c_deferred, c_msgs, c_req, c_timeout, c_clients,
        c_paused, c_e2e, c_e2e_n, p_msgs,
    ];
    if let Some(m) = &doc.memory {
        for (name, help, kind, v) in [
            (
                "nsq_memory_heap_objects",
                "Live heap objects (0 where not tracked).",
                Gauge,
                m.heap_objects,
            ),
            (
                "nsq_memory_heap_idle_bytes",
                "Idle heap bytes (0 where not tracked).",
                Gauge,
                m.heap_idle_bytes,
            ),
            (
                "nsq_memory_heap_in_use_bytes",
                "Heap bytes in use (resident set size of the process).",
                Gauge,
                m.heap_in_use_bytes,
            ),
            (
                "nsq_memory_heap_released_bytes",
                "Heap bytes released to the OS (0 where not tracked).",
                Gauge,
                m.heap_released_bytes,
            ),
            (
                "nsq_memory_gc_pause_usec_100",
                "Longest GC pause in microseconds (0: no garbage collector).",
                Gauge,
                m.gc_pause_usec_100,
            ),
            (
                "nsq_memory_gc_pause_usec_99",
                "99th percentile GC pause in microseconds (0: no garbage collector).",
                Gauge,
                m.gc_pause_usec_99,
            ),
            (
                "nsq_memory_gc_pause_usec_95",
                "95th percentile GC pause in microseconds (0: no garbage collector).",
                Gauge,
                m.gc_pause_usec_95,
            ),
            (
                "nsq_memory_next_gc_bytes",
                "Heap size of the next GC (0: no garbage collector).",
                Gauge,
                m.next_gc_bytes,
            ),
            (
                "nsq_memory_gc_runs_total",
                "GC runs (0: no garbage collector).",
                Counter,
                m.gc_total_runs,
            ),
        ] {
            let mut f = Family::new(name, kind, help);
            f.add(&[], v);
            families.push(f);
        }
    }

    nsq_http::prometheus::render(&families)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{ChannelStats, ClientJson, MemoryStats, PubCount, Quantile, TopicStats};
    use std::collections::{BTreeMap, HashMap, HashSet};

    type Series = BTreeMap<String, String>;

    /// A small parser for the text format: returns (name, labels) → value and
    /// checks the structural rules on the way.
    fn parse(text: &str) -> HashMap<(String, Series), f64> {
        let mut help = HashSet::new();
        let mut types: HashMap<String, String> = HashMap::new();
        let mut finished: HashSet<String> = HashSet::new();
        let mut current: Option<String> = None;
        let mut samples = HashMap::new();
        assert!(text.ends_with('\n'), "output ends with a newline");
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# HELP ") {
                let (name, _) = rest.split_once(' ').expect("HELP has text");
                assert!(help.insert(name.to_string()), "HELP twice for {name}");
                if let Some(prev) = current.replace(name.to_string()) {
                    finished.insert(prev);
                }
                continue;
            }
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').expect("TYPE has a type");
                assert!(["gauge", "counter"].contains(&kind), "{line}");
                assert_eq!(current.as_deref(), Some(name), "TYPE right after HELP");
                assert!(
                    types.insert(name.to_string(), kind.to_string()).is_none(),
                    "TYPE twice for {name}"
                );
                if kind == "counter" {
                    assert!(name.ends_with("_total"), "{name}");
                }
                continue;
            }
            assert!(!line.starts_with('#'), "unexpected comment {line}");
            let (name, labels, value) = parse_sample(line);
            assert_eq!(
                current.as_deref(),
                Some(name.as_str()),
                "sample {line} outside its family"
            );
            assert!(!finished.contains(&name), "family {name} is split");
            assert!(
                types.contains_key(&name) && help.contains(&name),
                "{name} lacks HELP/TYPE"
            );
            assert!(
                samples.insert((name, labels), value).is_none(),
                "duplicate series {line}"
            );
        }
        samples
    }

    fn parse_sample(line: &str) -> (String, Series, f64) {
        let chars: Vec<char> = line.chars().collect();
        let at = |i: usize| -> char {
            *chars
                .get(i)
                .unwrap_or_else(|| panic!("line ends early: {line}"))
        };
        let mut i = 0;
        while i < chars.len() && chars[i] != '{' && chars[i] != ' ' {
            i += 1;
        }
        let name: String = chars[..i].iter().collect();
        assert!(
            name.chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "bad metric name {name:?} in {line}"
        );
        let mut labels = Series::new();
        if at(i) == '{' {
            i += 1;
            loop {
                if at(i) == '}' {
                    i += 1;
                    break;
                }
                let mut key = String::new();
                while at(i) != '=' {
                    assert!(
                        at(i).is_ascii_alphanumeric() || at(i) == '_',
                        "bad label name in {line}"
                    );
                    key.push(at(i));
                    i += 1;
                }
                assert!(!key.is_empty(), "empty label name in {line}");
                assert_eq!(at(i + 1), '"', "label value quoted in {line}");
                i += 2;
                let mut val = String::new();
                loop {
                    match at(i) {
                        '"' => break,
                        '\\' => {
                            i += 1;
                            match at(i) {
                                '\\' => val.push('\\'),
                                '"' => val.push('"'),
                                'n' => val.push('\n'),
                                e => panic!("bad escape \\{e} in {line}"),
                            }
                        }
                        c => val.push(c),
                    }
                    i += 1;
                }
                i += 1;
                assert!(
                    labels.insert(key, val).is_none(),
                    "duplicate label in {line}"
                );
                match at(i) {
                    ',' => i += 1,
                    '}' => {
                        i += 1;
                        break;
                    }
                    c => panic!("unexpected {c:?} in {line}"),
                }
            }
        }
        assert_eq!(at(i), ' ', "one space before the value in {line}");
        let value: String = chars[i + 1..].iter().collect();
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("bad value in {line}"));
        (name, labels, value)
    }

    fn latency(count: u64, values: &[(f64, i64)]) -> E2eLatency {
        E2eLatency {
            count,
            percentiles: Some(
                values
                    .iter()
                    .map(|&(quantile, value)| Quantile { quantile, value })
                    .collect(),
            ),
        }
    }

    fn no_latency() -> E2eLatency {
        E2eLatency {
            count: 0,
            percentiles: None,
        }
    }

    fn sample_doc() -> StatsDoc {
        let nasty = "we\"ird\\ch\nan".to_string();
        StatsDoc {
            version: "1.3.0",
            health: "OK".into(),
            start_time: 1_795_314_509,
            topics: Some(vec![
                TopicStats {
                    topic_name: "t3".into(),
                    channels: vec![
                        ChannelStats {
                            channel_name: "c".into(),
                            depth: 11,
                            backend_depth: 4,
                            in_flight_count: 1,
                            deferred_count: 2,
                            message_count: 7,
                            requeue_count: 3,
                            timeout_count: 5,
                            client_count: 1,
                            clients: None,
                            paused: true,
                            e2e_processing_latency: latency(
                                9,
                                &[(0.99, 2_636_789_146), (1.0, 3_000_000_000)],
                            ),
                            backend_bad_files: 0,
                        },
                        ChannelStats {
                            channel_name: nasty,
                            depth: 0,
                            backend_depth: 0,
                            in_flight_count: 0,
                            deferred_count: 0,
                            message_count: 1,
                            requeue_count: 0,
                            timeout_count: 0,
                            client_count: 0,
                            clients: None,
                            paused: false,
                            e2e_processing_latency: no_latency(),
                            backend_bad_files: 0,
                        },
                    ],
                    depth: 20,
                    backend_depth: 10,
                    message_count: 70,
                    message_bytes: 130,
                    paused: false,
                    e2e_processing_latency: latency(
                        9,
                        &[(0.99, 2_636_789_146), (1.0, 3_000_000_000)],
                    ),
                    backend_bad_files: 0,
                },
                TopicStats {
                    topic_name: "empty#ephemeral".into(),
                    channels: vec![],
                    depth: 0,
                    backend_depth: 0,
                    message_count: 0,
                    message_bytes: 0,
                    paused: true,
                    e2e_processing_latency: no_latency(),
                    backend_bad_files: 0,
                },
            ]),
            memory: Some(MemoryStats {
                heap_in_use_bytes: 4_456_448,
                gc_total_runs: 2,
                ..MemoryStats::default()
            }),
            producers: Some(vec![ClientJson {
                client_id: "prod1".into(),
                hostname: "prodhost".into(),
                version: "V2",
                remote_address: "127.0.0.1:49530".into(),
                state: 0,
                ready_count: 0,
                in_flight_count: 0,
                message_count: 0,
                finish_count: 0,
                requeue_count: 0,
                connect_ts: 0,
                sample_rate: 0,
                deflate: false,
                snappy: false,
                user_agent: "ua/1".into(),
                authed: false,
                auth_identity: String::new(),
                auth_identity_url: String::new(),
                pub_counts: vec![PubCount {
                    topic: "t3".into(),
                    count: 6,
                }],
                tls: false,
                tls_cipher_suite: String::new(),
                tls_version: String::new(),
                tls_negotiated_protocol: String::new(),
                tls_negotiated_protocol_is_mutual: false,
            }]),
        }
    }

    fn get(s: &HashMap<(String, Series), f64>, name: &str, labels: &[(&str, &str)]) -> f64 {
        let key: Series = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        *s.get(&(name.to_string(), key.clone()))
            .unwrap_or_else(|| panic!("missing {name}{key:?}"))
    }

    #[test]
    fn output_parses_and_values_match_the_doc() {
        let doc = sample_doc();
        let text = render(&doc);
        let s = parse(&text);
        assert_eq!(get(&s, "nsq_up", &[]), 1.0);
        assert_eq!(get(&s, "nsq_healthy", &[]), 1.0);
        assert_eq!(get(&s, "nsq_start_time_seconds", &[]), 1_795_314_509.0);
        let t = [("topic", "t3")];
        assert_eq!(get(&s, "nsq_topic_depth", &t), 20.0);
        assert_eq!(get(&s, "nsq_topic_backend_depth", &t), 10.0);
        assert_eq!(get(&s, "nsq_topic_messages_total", &t), 70.0);
        assert_eq!(get(&s, "nsq_topic_message_bytes_total", &t), 130.0);
        assert_eq!(get(&s, "nsq_topic_paused", &t), 0.0);
        assert_eq!(
            get(&s, "nsq_topic_paused", &[("topic", "empty#ephemeral")]),
            1.0
        );
        assert_eq!(get(&s, "nsq_topic_channels", &t), 2.0);
        assert_eq!(
            get(
                &s,
                "nsq_topic_e2e_latency_seconds",
                &[("topic", "t3"), ("quantile", "0.99")]
            ),
            2.636789146
        );
        assert_eq!(get(&s, "nsq_topic_e2e_latency_samples", &t), 9.0);
        let c = [("topic", "t3"), ("channel", "c")];
        assert_eq!(get(&s, "nsq_channel_depth", &c), 11.0);
        assert_eq!(get(&s, "nsq_channel_backend_depth", &c), 4.0);
        assert_eq!(get(&s, "nsq_channel_in_flight", &c), 1.0);
        assert_eq!(get(&s, "nsq_channel_deferred", &c), 2.0);
        assert_eq!(get(&s, "nsq_channel_messages_total", &c), 7.0);
        assert_eq!(get(&s, "nsq_channel_requeued_total", &c), 3.0);
        assert_eq!(get(&s, "nsq_channel_timed_out_total", &c), 5.0);
        assert_eq!(get(&s, "nsq_channel_clients", &c), 1.0);
        assert_eq!(get(&s, "nsq_channel_paused", &c), 1.0);
        assert_eq!(
            get(
                &s,
                "nsq_channel_e2e_latency_seconds",
                &[("topic", "t3"), ("channel", "c"), ("quantile", "1")]
            ),
            3.0
        );
        // The escaped channel name round-trips through the parser.
        let nasty = [("topic", "t3"), ("channel", "we\"ird\\ch\nan")];
        assert_eq!(get(&s, "nsq_channel_messages_total", &nasty), 1.0);
        assert!(text.contains(r#"channel="we\"ird\\ch\nan""#), "{text}");
        // No latency series for a channel without percentiles.
        assert!(!s.keys().any(|(n, l)| n.starts_with("nsq_channel_e2e")
            && l.get("channel").map(String::as_str) == Some("we\"ird\\ch\nan")));
        assert_eq!(
            get(
                &s,
                "nsq_producer_messages_total",
                &[
                    ("client_id", "prod1"),
                    ("hostname", "prodhost"),
                    ("remote_address", "127.0.0.1:49530"),
                    ("topic", "t3")
                ]
            ),
            6.0
        );
        assert_eq!(get(&s, "nsq_memory_heap_in_use_bytes", &[]), 4_456_448.0);
        assert_eq!(get(&s, "nsq_memory_gc_runs_total", &[]), 2.0);
    }

    #[test]
    fn no_topics_no_memory_still_valid() {
        let doc = StatsDoc {
            version: "1.3.0",
            health: "NOK - disk full".into(),
            start_time: 5,
            topics: None,
            memory: None,
            producers: None,
        };
        let text = render(&doc);
        let s = parse(&text);
        assert_eq!(get(&s, "nsq_healthy", &[]), 0.0);
        assert_eq!(s.len(), 3, "{text}");
        assert!(!text.contains("nsq_topic"));
        assert!(!text.contains("nsq_memory"));
    }
}
