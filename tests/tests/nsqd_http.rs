//! nsqd's HTTP API, black-box: the real binary on free ports, raw HTTP/1.1.

use nsq_protocol::Command;
use nsq_test_support::{http_request, Daemon, HttpResponse, V2Client};
use serde_json::Value;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const NSQ_HEADER: &str = "X-Nsq-Content-Type";

async fn post(addr: SocketAddr, target: &str, body: &[u8]) -> HttpResponse {
    http_request(addr, "POST", target, body).await
}

async fn get(addr: SocketAddr, target: &str) -> HttpResponse {
    http_request(addr, "GET", target, b"").await
}

fn assert_error(resp: &HttpResponse, status: u16, message: &str) {
    assert_eq!(resp.status, status, "body {}", resp.text());
    assert_eq!(resp.text(), format!(r#"{{"message":"{message}"}}"#));
    assert_eq!(resp.header(NSQ_HEADER), Some("nsq; version=1.0"));
}

async fn stats(addr: SocketAddr) -> Value {
    get(addr, "/stats?format=json").await.json()
}

fn fixture(name: &str) -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/http/nsqd.json");
    let all: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    all["exchanges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name)
        .unwrap_or_else(|| panic!("no fixture exchange {name}"))["response"]["body_json"]
        .clone()
}

/// Asserts that `ours` has exactly the keys of `theirs`, in the same order,
/// recursively (first array element against first array element).
fn assert_same_shape(ours: &Value, theirs: &Value, path: &str) {
    match (ours, theirs) {
        (Value::Object(a), Value::Object(b)) => {
            let ka: Vec<&String> = a.keys().collect();
            let kb: Vec<&String> = b.keys().collect();
            assert_eq!(ka, kb, "keys at {path}");
            for (k, v) in b {
                assert_same_shape(&a[k], v, &format!("{path}.{k}"));
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            if let (Some(x), Some(y)) = (a.first(), b.first()) {
                assert_same_shape(x, y, &format!("{path}[0]"));
            }
        }
        (a, b) => {
            let kind = |v: &Value| match v {
                Value::Null => "null",
                Value::Bool(_) => "bool",
                Value::Number(_) => "number",
                Value::String(_) => "string",
                Value::Array(_) => "array",
                Value::Object(_) => "object",
            };
            assert_eq!(kind(a), kind(b), "type at {path}: ours {a} theirs {b}");
        }
    }
}

#[tokio::test]
async fn ping_info_and_headers() {
    let d = Daemon::nsqd(&[]);
    let ping = get(d.http(), "/ping").await;
    assert_eq!(ping.status, 200);
    assert_eq!(ping.text(), "OK");
    assert_eq!(ping.header(NSQ_HEADER), None);
    let info = get(d.http(), "/info").await;
    assert_eq!(info.status, 200);
    assert_eq!(info.header(NSQ_HEADER), Some("nsq; version=1.0"));
    assert_eq!(
        info.header("Content-Type"),
        Some("application/json; charset=utf-8")
    );
    let v = info.json();
    assert_same_shape(&v, &fixture("info"), "info");
    assert_eq!(v["tcp_port"], d.tcp().port());
    assert_eq!(v["http_port"], d.http().port());
    assert_eq!(v["max_heartbeat_interval"], 60_000_000_000u64);
    assert_eq!(v["version"], "1.3.0");
}

#[tokio::test]
async fn stats_json_has_every_key_of_nsqd() {
    let d = Daemon::nsqd(&[]);
    post(d.http(), "/topic/create?topic=alpha", b"").await;
    post(d.http(), "/channel/create?topic=alpha&channel=c1", b"").await;
    post(d.http(), "/channel/create?topic=alpha&channel=c2", b"").await;
    for i in 0..5 {
        let r = post(d.http(), "/pub?topic=alpha", format!("msg-{i}").as_bytes()).await;
        assert_eq!(r.text(), "OK");
    }
    let mut c = V2Client::connect(d.tcp()).await;
    c.identify(serde_json::json!({"client_id": "fixture", "hostname": "h", "user_agent": "ua/1"}))
        .await;
    c.subscribe("alpha", "c1").await;
    c.send(Command::Rdy(1)).await;
    let m = c.expect_message().await;
    let before_producer = stats(d.http()).await;
    assert_same_shape(&before_producer, &fixture("stats-json"), "stats");
    let mut p = V2Client::connect(d.tcp()).await;
    p.publish("alpha", b"from-tcp").await;

    let full = stats(d.http()).await;
    let with_producer = get(d.http(), "/stats?format=json&include_mem=false")
        .await
        .json();
    assert_same_shape(
        &with_producer,
        &fixture("stats-json-with-producer"),
        "stats",
    );
    assert!(with_producer.get("memory").is_none());
    let producers = with_producer["producers"]
        .as_array()
        .expect("producers listed");
    assert_eq!(producers.len(), 1);
    assert_eq!(
        producers[0]["pub_counts"],
        serde_json::json!([{"topic": "alpha", "count": 1}])
    );

    let topic = &full["topics"][0];
    assert_eq!(topic["topic_name"], "alpha");
    assert_eq!(topic["message_count"], 6);
    assert_eq!(topic["message_bytes"], 5 * 5 + 8);
    let channels = topic["channels"].as_array().unwrap();
    assert_eq!(channels.len(), 2);
    let c1 = &channels[0];
    assert_eq!(c1["channel_name"], "c1");
    assert_eq!(c1["in_flight_count"], 1);
    assert_eq!(c1["depth"], 5);
    assert_eq!(c1["clients"][0]["client_id"], "fixture");
    assert_eq!(c1["clients"][0]["state"], 3);
    assert_eq!(c1["clients"][0]["ready_count"], 1);
    assert_eq!(channels[1]["clients"], serde_json::json!([]));

    let no_clients = get(d.http(), "/stats?format=json&include_clients=false")
        .await
        .json();
    assert_same_shape(&no_clients, &fixture("stats-json-no-clients"), "stats");
    assert_eq!(
        no_clients["topics"][0]["channels"][0]["clients"],
        Value::Null
    );
    assert_eq!(no_clients["producers"], Value::Null);

    let filtered = get(d.http(), "/stats?format=json&topic=alpha&channel=c1")
        .await
        .json();
    assert_eq!(
        filtered["topics"][0]["channels"].as_array().unwrap().len(),
        1
    );
    let unknown = get(d.http(), "/stats?format=json&topic=nope").await.json();
    assert_eq!(unknown["topics"], Value::Null);
    let no_channel = get(d.http(), "/stats?format=json&channel=nope")
        .await
        .json();
    assert_eq!(no_channel["topics"], serde_json::json!([]));

    let text = get(d.http(), "/stats").await;
    assert_eq!(
        text.header("Content-Type"),
        Some("text/plain; charset=utf-8")
    );
    let body = text.text();
    assert!(body.starts_with("nsqd v1.3.0 (built w/"), "{body}");
    assert!(body.contains("\nHealth: OK\n"), "{body}");
    assert!(
        body.contains(
            "\nTopics:\n   [alpha          ] depth: 0     be-depth: 0     msgs: 6        e2e%: \n"
        ),
        "{body}"
    );
    assert!(body.contains("      [c1                       ] depth: 5     be-depth: 0     inflt: 1    def: 0    re-q: 0     timeout: 0     msgs: 6        e2e%: \n"), "{body}");
    c.send(Command::Fin(m.id)).await;
}

#[tokio::test]
async fn pub_reaches_two_channels_once_each_and_defer_delays() {
    let d = Daemon::nsqd(&[]);
    let mut c1 = V2Client::connect(d.tcp()).await;
    c1.subscribe("web", "one").await;
    c1.send(Command::Rdy(10)).await;
    let mut c2 = V2Client::connect(d.tcp()).await;
    c2.subscribe("web", "two").await;
    c2.send(Command::Rdy(10)).await;
    let r = post(d.http(), "/pub?topic=web", b"hello").await;
    assert_eq!((r.status, r.text().as_str()), (200, "OK"));
    assert_eq!(r.header(NSQ_HEADER), Some("nsq; version=1.0"));
    for c in [&mut c1, &mut c2] {
        let m = c.expect_message().await;
        assert_eq!(&m.body[..], b"hello");
        c.send(Command::Fin(m.id)).await;
        c.expect_silence(Duration::from_millis(300)).await;
    }
    let started = Instant::now();
    post(d.http(), "/pub?topic=web&defer=800", b"later").await;
    let m = c1.expect_message().await;
    assert_eq!(&m.body[..], b"later");
    assert!(
        started.elapsed() >= Duration::from_millis(700),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn pub_errors_in_nsqd_order() {
    let d = Daemon::nsqd(&["--max-msg-size=10"]);
    let h = d.http();
    assert_error(&post(h, "/pub", b"").await, 400, "MSG_EMPTY");
    assert_error(&post(h, "/pub", b"x").await, 400, "MISSING_ARG_TOPIC");
    assert_error(
        &post(h, "/pub?topic=bad!topic", b"x").await,
        400,
        "INVALID_TOPIC",
    );
    assert_error(
        &post(h, "/pub?topic=t", b"01234567890").await,
        413,
        "MSG_TOO_BIG",
    );
    assert_error(
        &post(h, "/pub?topic=t&defer=3600001", b"x").await,
        400,
        "INVALID_DEFER",
    );
    assert_error(
        &post(h, "/pub?topic=t&defer=-1", b"x").await,
        400,
        "INVALID_DEFER",
    );
    assert_error(
        &post(h, "/pub?topic=t&defer=abc", b"x").await,
        400,
        "INVALID_DEFER",
    );
    assert_eq!(post(h, "/pub?topic=t", b"0123456789").await.status, 200);
    // The body is never read as a form.
    assert_error(
        &post(h, "/topic/create", b"topic=x").await,
        400,
        "MISSING_ARG_TOPIC",
    );
}

#[tokio::test]
async fn mpub_text_and_binary() {
    let d = Daemon::nsqd(&["--max-msg-size=10"]);
    let h = d.http();
    assert_eq!(post(h, "/mpub?topic=m", b"a\n\nb\nc").await.text(), "OK");
    let mut bin = Vec::new();
    bin.extend_from_slice(&2u32.to_be_bytes());
    for b in [&b"bin1"[..], b"bin2"] {
        bin.extend_from_slice(&(b.len() as u32).to_be_bytes());
        bin.extend_from_slice(b);
    }
    assert_eq!(
        post(h, "/mpub?topic=m&binary=true", &bin).await.text(),
        "OK"
    );
    let v = stats(h).await;
    assert_eq!(v["topics"][0]["message_count"], 5);
    assert_eq!(v["topics"][0]["depth"], 5);
    assert_error(
        &post(h, "/mpub?topic=m", b"ok\n01234567890").await,
        413,
        "MSG_TOO_BIG",
    );
    assert_error(
        &post(h, "/mpub?topic=m&binary=1", &0u32.to_be_bytes()).await,
        413,
        "BAD_BODY",
    );
    let mut bad = Vec::new();
    bad.extend_from_slice(&1u32.to_be_bytes());
    bad.extend_from_slice(&0u32.to_be_bytes());
    assert_error(
        &post(h, "/mpub?topic=m&binary=yes", &bad).await,
        413,
        "BAD_MESSAGE",
    );
    assert_error(
        &post(h, "/mpub?topic=bad!", b"x").await,
        400,
        "INVALID_TOPIC",
    );
}

#[tokio::test]
async fn router_404_405_options() {
    let d = Daemon::nsqd(&[]);
    assert_error(&get(d.http(), "/nosuchpath").await, 404, "NOT_FOUND");
    let r = get(d.http(), "/pub?topic=alpha").await;
    assert_error(&r, 405, "METHOD_NOT_ALLOWED");
    assert_eq!(r.header("Allow"), Some("OPTIONS, POST"));
    let r = http_request(d.http(), "OPTIONS", "/pub", b"").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Allow"), Some("OPTIONS, POST"));
    assert_error(&get(d.http(), "/put?topic=x").await, 404, "NOT_FOUND");
}

#[tokio::test]
async fn topic_and_channel_management() {
    let d = Daemon::nsqd(&[]);
    let h = d.http();
    let r = post(h, "/topic/create?topic=mgmt", b"").await;
    assert_eq!((r.status, r.text().as_str()), (200, ""));
    assert_eq!(r.header("Content-Type"), None);
    assert_error(
        &post(h, "/topic/create?topic=bad!", b"").await,
        400,
        "INVALID_TOPIC",
    );
    assert_error(
        &post(h, "/channel/create?topic=nope&channel=c", b"").await,
        404,
        "TOPIC_NOT_FOUND",
    );
    assert_error(
        &post(h, "/channel/create?topic=bad!&channel=c", b"").await,
        400,
        "INVALID_ARG_TOPIC",
    );
    assert_error(
        &post(h, "/channel/create?topic=mgmt", b"").await,
        400,
        "MISSING_ARG_CHANNEL",
    );
    assert_error(
        &post(h, "/channel/create?topic=mgmt&channel=b!", b"").await,
        400,
        "INVALID_ARG_CHANNEL",
    );
    assert_eq!(
        post(h, "/channel/create?topic=mgmt&channel=c", b"")
            .await
            .status,
        200
    );
    assert_error(
        &post(h, "/channel/pause?topic=mgmt&channel=nosuch", b"").await,
        404,
        "CHANNEL_NOT_FOUND",
    );

    // Publishing fills the channel; emptying it drops everything.
    post(h, "/mpub?topic=mgmt", b"1\n2\n3").await;
    assert_eq!(stats(h).await["topics"][0]["channels"][0]["depth"], 3);
    assert_eq!(
        post(h, "/channel/empty?topic=mgmt&channel=c", b"")
            .await
            .status,
        200
    );
    assert_eq!(stats(h).await["topics"][0]["channels"][0]["depth"], 0);

    // Topic pause holds messages in the topic; unpause hands them over.
    post(h, "/topic/pause?topic=mgmt", b"").await;
    post(h, "/pub?topic=mgmt", b"held").await;
    let v = stats(h).await;
    assert_eq!(v["topics"][0]["paused"], true);
    assert_eq!(v["topics"][0]["depth"], 1);
    assert_eq!(v["topics"][0]["channels"][0]["depth"], 0);
    post(h, "/topic/unpause?topic=mgmt", b"").await;
    let v = stats(h).await;
    assert_eq!(v["topics"][0]["depth"], 0);
    assert_eq!(v["topics"][0]["channels"][0]["depth"], 1);
    post(h, "/topic/empty?topic=mgmt", b"").await;

    // Deleting the channel disconnects its consumer.
    let mut c = V2Client::connect(d.tcp()).await;
    c.subscribe("mgmt", "c").await;
    assert_eq!(
        post(h, "/channel/delete?topic=mgmt&channel=c", b"")
            .await
            .status,
        200
    );
    c.expect_closed(Duration::from_secs(5)).await;
    assert_error(
        &post(h, "/topic/delete?topic=nope", b"").await,
        404,
        "TOPIC_NOT_FOUND",
    );
    assert_eq!(post(h, "/topic/delete?topic=mgmt", b"").await.status, 200);
    assert_eq!(stats(h).await["topics"], serde_json::json!([]));
}

#[tokio::test]
async fn channel_pause_stops_delivery_and_unpause_resumes() {
    let d = Daemon::nsqd(&[]);
    let mut c = V2Client::connect(d.tcp()).await;
    c.subscribe("pz", "c").await;
    c.send(Command::Rdy(10)).await;
    assert_eq!(
        post(d.http(), "/channel/pause?topic=pz&channel=c", b"")
            .await
            .status,
        200
    );
    post(d.http(), "/pub?topic=pz", b"wait").await;
    c.expect_silence(Duration::from_millis(500)).await;
    assert_eq!(
        stats(d.http()).await["topics"][0]["channels"][0]["paused"],
        true
    );
    post(d.http(), "/channel/unpause?topic=pz&channel=c", b"").await;
    let m = c.expect_message().await;
    assert_eq!(&m.body[..], b"wait");
}

#[tokio::test]
async fn ephemeral_channel_and_topic_vanish_with_last_consumer() {
    let d = Daemon::nsqd(&[]);
    let mut c = V2Client::connect(d.tcp()).await;
    c.subscribe("eph#ephemeral", "ch#ephemeral").await;
    let v = stats(d.http()).await;
    assert_eq!(v["topics"][0]["topic_name"], "eph#ephemeral");
    drop(c);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let v = stats(d.http()).await;
        if v["topics"] == serde_json::json!([]) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "ephemeral topic still there: {v}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn config_endpoint() {
    let d = Daemon::nsqd(&["--msg-timeout=30s"]);
    let r = get(d.http(), "/config/msg_timeout").await;
    assert_eq!(r.text(), "30000000000");
    assert_eq!(get(d.http(), "/config/log_level").await.text(), "2");
    assert_eq!(
        get(d.http(), "/config/nsqlookupd_tcp_addresses")
            .await
            .text(),
        "[]"
    );
    assert_error(
        &get(d.http(), "/config/node_id").await,
        400,
        "INVALID_OPTION",
    );
    let r = http_request(d.http(), "PUT", "/config/log_level", b"debug").await;
    assert_eq!((r.status, r.text().as_str()), (200, "1"));
    let r = http_request(d.http(), "PUT", "/config/log_level", br#""debug""#).await;
    assert_error(&r, 400, "INVALID_VALUE");
}
