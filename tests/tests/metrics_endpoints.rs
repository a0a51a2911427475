//! The Prometheus `/metrics` routes of nsqlookupd and nsqadmin, against a
//! real cluster: nsqlookupd, two nsqd registered with it, and nsqadmin.

use nsq_protocol::Command;
use nsq_test_support::cluster::{nsqadmin, Cluster, EVENTUALLY_TIMEOUT};
use nsq_test_support::{http_request, V2Client};
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;

/// Series (`name{labels}` exactly as written) → value.
type Samples = HashMap<String, f64>;

/// Parses the text format 0.0.4 and checks its structure: `# HELP` then
/// `# TYPE` once per family, right before the family's samples, which are
/// contiguous; every sample is `name{labels} value` with a numeric value
/// and well-formed, escaped label values.
fn parse(text: &str) -> Samples {
    assert!(text.ends_with('\n'), "no final newline:\n{text}");
    let mut helped = HashSet::new();
    let mut typed = HashSet::new();
    let mut done = HashSet::new();
    let mut current: Option<String> = None;
    let mut samples = Samples::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').expect("HELP has a text");
            assert!(!help.trim().is_empty(), "empty help: {line}");
            assert!(helped.insert(name.to_string()), "HELP twice for {name}");
            if let Some(prev) = current.replace(name.to_string()) {
                done.insert(prev);
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE has a type");
            assert_eq!(
                current.as_deref(),
                Some(name),
                "TYPE right after HELP: {line}"
            );
            assert!(typed.insert(name.to_string()), "TYPE twice for {name}");
            match kind {
                "gauge" => {}
                "counter" => assert!(name.ends_with("_total"), "counter {name}"),
                other => panic!("unexpected type {other}"),
            }
            continue;
        }
        assert!(
            !line.starts_with('#') && !line.is_empty(),
            "stray line {line:?}"
        );
        let (series, value) = line.rsplit_once(' ').expect("sample has a value");
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("non-numeric value in {line:?}"));
        let name = check_series(series);
        assert_eq!(
            current.as_deref(),
            Some(name),
            "sample outside its family: {line}"
        );
        assert!(typed.contains(name), "sample before TYPE: {line}");
        assert!(!done.contains(name), "family {name} is split");
        assert!(
            samples.insert(series.to_string(), value).is_none(),
            "duplicate series {series}"
        );
    }
    samples
}

/// Checks `name` or `name{k="v",...}`; returns the name.
fn check_series(series: &str) -> &str {
    let (name, labels) = match series.split_once('{') {
        Some((n, l)) => (n, Some(l)),
        None => (series, None),
    };
    assert!(
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
            && !name.starts_with(|c: char| c.is_ascii_digit()),
        "bad metric name {name:?}"
    );
    let Some(labels) = labels else {
        return name;
    };
    let mut rest = labels;
    loop {
        let (key, after) = rest.split_once("=\"").expect("label has =\"");
        assert!(
            !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "bad label name {key:?} in {series}"
        );
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next() {
                Some((_, '\\')) => {
                    let esc = chars.next().map(|(_, c)| c);
                    assert!(
                        matches!(esc, Some('\\' | '"' | 'n')),
                        "bad escape in {series}"
                    );
                }
                Some((i, '"')) => break i,
                Some(_) => {}
                None => panic!("unterminated label value in {series}"),
            }
        };
        rest = &after[end + 1..];
        if let Some(r) = rest.strip_prefix(',') {
            rest = r;
        } else {
            assert_eq!(rest, "}", "labels end with }} in {series}");
            return name;
        }
    }
}

async fn scrape(addr: SocketAddr, path: &str) -> Samples {
    let r = http_request(addr, "GET", path, b"").await;
    assert_eq!(r.status, 200, "{path}: {}", r.text());
    let ct = r.header("Content-Type").unwrap_or_default();
    assert!(ct.starts_with("text/plain"), "content type {ct}");
    parse(&r.text())
}

/// The value of `series`, if present.
fn value(s: &Samples, series: &str) -> Option<f64> {
    s.get(series).copied()
}

/// Whether every `(series, value)` is present with that value.
fn all_match(s: &Samples, expected: &[(&str, f64)]) -> bool {
    expected.iter().all(|(k, v)| value(s, k) == Some(*v))
}

/// Polls `path` on `addr` until every expected series has its value;
/// panics with the last scrape otherwise.
async fn wait_for(addr: SocketAddr, path: &str, expected: &[(&str, f64)]) -> Samples {
    let mut last = Samples::new();
    let found = tokio::time::timeout(EVENTUALLY_TIMEOUT, async {
        loop {
            last = scrape(addr, path).await;
            if all_match(&last, expected) {
                return last.clone();
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    })
    .await;
    found.unwrap_or_else(|_| {
        let mut missing: Vec<String> = expected
            .iter()
            .filter(|(k, v)| value(&last, k) != Some(*v))
            .map(|(k, v)| format!("{k} want {v}, got {:?}", value(&last, k)))
            .collect();
        missing.sort();
        panic!("{path} never matched: {missing:#?}")
    })
}

async fn post(addr: SocketAddr, target: &str, body: &[u8]) {
    let r = http_request(addr, "POST", target, body).await;
    assert_eq!(r.status, 200, "POST {target}: {}", r.text());
}

async fn publish(addr: SocketAddr, topic: &str, n: usize) {
    for i in 0..n {
        post(
            addr,
            &format!("/pub?topic={topic}"),
            format!("m{i}").as_bytes(),
        )
        .await;
    }
}

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs_f64()
}

#[tokio::test]
async fn lookupd_and_admin_metrics_reflect_the_cluster() {
    let before = unix_now().floor();
    let c = Cluster::start(2, &["--base-path=/adm"]);
    let (n0, n1) = (c.nsqds[0].http(), c.nsqds[1].http());
    for n in [n0, n1] {
        post(n, "/topic/create?topic=t", b"").await;
        post(n, "/channel/create?topic=t&channel=c", b"").await;
    }
    publish(n0, "t", 3).await;
    publish(n1, "t", 4).await;
    // A topic without channels keeps its messages in the topic's queue.
    publish(n0, "solo", 2).await;
    publish(n1, "solo", 5).await;

    // One consumer per node; the one on node 0 holds a message in flight.
    let mut consumers = Vec::new();
    for d in &c.nsqds {
        let mut v = V2Client::connect(d.tcp()).await;
        v.subscribe("t", "c").await;
        consumers.push(v);
    }
    consumers[0].send(Command::Rdy(1)).await;
    let held = consumers[0].expect_message().await;

    // nsqlookupd.
    let lookupd = c.lookupd.http();
    let s = wait_for(
        lookupd,
        "/metrics",
        &[
            ("nsqlookupd_up", 1.0),
            ("nsqlookupd_producers", 2.0),
            ("nsqlookupd_topics", 2.0),
            ("nsqlookupd_channels", 1.0),
            ("nsqlookupd_topic_producers{topic=\"t\"}", 2.0),
            ("nsqlookupd_topic_producers{topic=\"solo\"}", 2.0),
            ("nsqlookupd_tombstoned_producers{topic=\"t\"}", 0.0),
            (
                "nsqlookupd_channel_registrations{topic=\"t\",channel=\"c\"}",
                2.0,
            ),
        ],
    )
    .await;
    let start = value(&s, "nsqlookupd_start_time_seconds").expect("start time");
    assert!(
        before <= start && start <= unix_now(),
        "start time {start} not in [{before}, now]"
    );

    // nsqadmin, under its base path: figures summed over both nodes.
    let admin = c.admin_http();
    let ch = |m: &str| format!("nsqadmin_channel_{m}{{topic=\"t\",channel=\"c\"}}");
    let expected: Vec<(String, f64)> = vec![
        ("nsqadmin_nsqd_nodes".into(), 2.0),
        ("nsqadmin_upstream_errors".into(), 0.0),
        ("nsqadmin_topic_depth{topic=\"solo\"}".into(), 7.0),
        ("nsqadmin_topic_messages_total{topic=\"solo\"}".into(), 7.0),
        ("nsqadmin_topic_messages_total{topic=\"t\"}".into(), 7.0),
        ("nsqadmin_topic_depth{topic=\"t\"}".into(), 0.0),
        (ch("depth"), 6.0),
        (ch("in_flight"), 1.0),
        (ch("deferred"), 0.0),
        (ch("messages_total"), 7.0),
        (ch("requeued_total"), 0.0),
        (ch("timed_out_total"), 0.0),
        (ch("clients"), 2.0),
    ];
    let expected: Vec<(&str, f64)> = expected.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    wait_for(admin, "/adm/metrics", &expected).await;
    let r = http_request(admin, "GET", "/metrics", b"").await;
    assert_eq!(r.status, 404, "/metrics outside the base path");

    // A requeue shows up in the admin counters (and the message is back).
    consumers[0]
        .send(Command::Req {
            id: held.id,
            timeout_ms: 0,
        })
        .await;
    wait_for(
        admin,
        "/adm/metrics",
        &[
            (ch("requeued_total").as_str(), 1.0),
            (ch("messages_total").as_str(), 7.0),
        ],
    )
    .await;

    // Tombstoning node 0 for "solo" moves it to the tombstoned figure.
    let node0 = format!("127.0.0.1:{}", n0.port());
    post(
        lookupd,
        &format!("/topic/tombstone?topic=solo&node={node0}"),
        b"",
    )
    .await;
    wait_for(
        lookupd,
        "/metrics",
        &[
            ("nsqlookupd_topic_producers{topic=\"solo\"}", 1.0),
            ("nsqlookupd_tombstoned_producers{topic=\"solo\"}", 1.0),
            ("nsqlookupd_topic_producers{topic=\"t\"}", 2.0),
        ],
    )
    .await;
}

#[tokio::test]
async fn admin_counts_unreachable_nsqd_as_upstream_errors() {
    let c = Cluster::start(1, &[]);
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    };
    publish(c.nsqds[0].http(), "e", 2).await;
    let admin = nsqadmin(&[
        format!("--nsqd-http-address={}", c.nsqds[0].http()),
        format!("--nsqd-http-address={dead}"),
    ]);
    let s = wait_for(
        admin.http(),
        "/metrics",
        &[
            ("nsqadmin_nsqd_nodes", 1.0),
            ("nsqadmin_upstream_errors", 1.0),
            ("nsqadmin_topic_depth{topic=\"e\"}", 2.0),
        ],
    )
    .await;
    assert!(
        !s.keys().any(|k| k.starts_with("nsqadmin_channel_")),
        "no channels exist: {s:?}"
    );
    // The lookupd-mode admin of the same cluster sees no failures.
    wait_for(
        c.admin_http(),
        "/metrics",
        &[
            ("nsqadmin_nsqd_nodes", 1.0),
            ("nsqadmin_upstream_errors", 0.0),
        ],
    )
    .await;
}

#[test]
fn the_parser_rejects_malformed_text() {
    let ok = "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"q\\\"\"} 1\n";
    assert_eq!(parse(ok).get("a_total{x=\"q\\\"\"}"), Some(&1.0));
    for bad in [
        "a 1\n",                                                                     // no HELP/TYPE
        "# HELP a A.\n# TYPE a gauge\na one\n",                                      // not a number
        "# HELP a A.\n# TYPE a gauge\na{x=\"1} 1\n",                                 // unterminated
        "# HELP a A.\n# TYPE a gauge\n# HELP a A.\n",                                // HELP twice
        "# HELP a A.\n# TYPE a gauge\na 1\n# HELP b B.\n# TYPE b gauge\nb 1\na 2\n", // split
        "# HELP a A.\n# TYPE a counter\na 1\n", // counter without _total
    ] {
        assert!(
            std::panic::catch_unwind(|| parse(bad)).is_err(),
            "accepted {bad:?}"
        );
    }
}
