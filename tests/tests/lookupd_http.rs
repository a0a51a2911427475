//! nsqlookupd's HTTP API, black-box: the real binary on free ports, compared
//! with the v1.3.0 capture (fixtures/http/nsqlookupd.json) and the spec.

mod lookupd_common;

use lookupd_common::*;
use nsq_test_support::{http_request, HttpResponse};
use std::time::Duration;

const NSQ_HEADER: &str = "X-Nsq-Content-Type";
const NSQ_V1: &str = "nsq; version=1.0";
const JSON: &str = "application/json; charset=utf-8";

/// Headers that vary per run or per server and are not compared.
fn compared_headers(headers: &[(String, String)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = headers
        .iter()
        .filter(|(k, _)| {
            !["date", "content-length", "connection"].contains(&k.to_ascii_lowercase().as_str())
        })
        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
        .collect();
    out.sort();
    out
}

/// Rebuilds the capture's state (topic `alpha`, channels `c1` and `c2`,
/// one nsqd with the captured identity) and replays every captured
/// request: status, headers (apart from Date/Content-Length/Connection)
/// and body must match, with only the producer's `remote_address` replaced.
#[tokio::test]
async fn matches_the_v1_3_0_capture() {
    let d = start(&[]);
    let capture = fixture("http/nsqlookupd.json");
    let nsqd_tcp = capture["ports"]["nsqd_tcp"].as_u64().expect("port") as u16;
    let nsqd_http = capture["ports"]["nsqd_http"].as_u64().expect("port") as u16;
    let mut nsqd = V1Conn::nsqd(d.tcp(), "nsq-host", nsqd_tcp, nsqd_http).await;
    assert_eq!(nsqd.command("REGISTER alpha c1").await, "OK");
    assert_eq!(nsqd.command("REGISTER alpha c2").await, "OK");
    let ours = nsqd.local_addr().to_string();

    let exchanges = capture["exchanges"].as_array().expect("exchanges");
    assert_eq!(exchanges.len(), 11);
    for ex in exchanges {
        let name = ex["name"].as_str().unwrap_or_default();
        let req = &ex["request"];
        let resp = &ex["response"];
        let got = http_request(
            d.http(),
            req["method"].as_str().expect("method"),
            req["target"].as_str().expect("target"),
            b"",
        )
        .await;
        assert_eq!(
            u64::from(got.status),
            resp["status"].as_u64().expect("status"),
            "{name}"
        );
        let mut body = resp["body"].as_str().expect("body").to_string();
        if let Some(start) = body.find(r#""remote_address":""#) {
            let value_start = start + r#""remote_address":""#.len();
            let value_end = value_start + body[value_start..].find('"').expect("end quote");
            body.replace_range(value_start..value_end, &ours);
        }
        assert_eq!(got.text(), body, "{name}");
        let expected_headers: Vec<(String, String)> = resp["headers"]
            .as_array()
            .expect("headers")
            .iter()
            .map(|h| {
                (
                    h[0].as_str().unwrap_or_default().to_string(),
                    h[1].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        assert_eq!(
            compared_headers(&got.headers),
            compared_headers(&expected_headers),
            "{name}"
        );
    }
}

#[tokio::test]
async fn nsq_header_on_every_response_except_ping() {
    let d = start(&[]);
    let ping = get(&d, "/ping").await;
    assert_eq!((ping.status, ping.text().as_str()), (200, "OK"));
    assert_eq!(ping.header(NSQ_HEADER), None);
    assert_eq!(
        ping.header("Content-Type"),
        Some("text/plain; charset=utf-8")
    );
    for (method, target) in [
        ("GET", "/info"),
        ("GET", "/debug"),
        ("GET", "/topics"),
        ("GET", "/channels?topic=x"),
        ("GET", "/channels"),
        ("GET", "/lookup?topic=missing"),
        ("GET", "/lookup"),
        ("GET", "/nodes"),
        ("POST", "/topic/create?topic=x"),
        ("POST", "/topic/create"),
        ("POST", "/topic/delete?topic=x"),
        ("POST", "/channel/create?topic=x&channel=y"),
        ("POST", "/channel/delete?topic=x&channel=nope"),
        ("POST", "/topic/tombstone?topic=x&node=y:1"),
        ("GET", "/nosuchpath"),
        ("POST", "/lookup"),
    ] {
        let r = http_request(d.http(), method, target, b"").await;
        // The header name is written in Go's canonical case.
        let sent = r.headers.iter().find(|(k, _)| k == NSQ_HEADER);
        assert_eq!(
            sent.map(|(_, v)| v.as_str()),
            Some(NSQ_V1),
            "{method} {target}: {:?}",
            r.headers
        );
    }
    // OPTIONS and redirects are answered by the router itself, like httprouter.
    let r = http_request(d.http(), "OPTIONS", "/lookup", b"").await;
    assert_eq!(r.header(NSQ_HEADER), None);
}

#[tokio::test]
async fn lookup_errors() {
    let d = start(&[]);
    let r = get(&d, "/lookup?topic=missing").await;
    assert_eq!(
        (r.status, r.text().as_str()),
        (404, r#"{"message":"TOPIC_NOT_FOUND"}"#)
    );
    assert_eq!(r.header("Content-Type"), Some(JSON));
    let r = get(&d, "/lookup").await;
    assert_eq!(
        (r.status, r.text().as_str()),
        (400, r#"{"message":"MISSING_ARG_TOPIC"}"#)
    );
    let r = get(&d, "/lookup?topic=%zz").await;
    assert_eq!(
        (r.status, r.text().as_str()),
        (400, r#"{"message":"INVALID_REQUEST"}"#)
    );
    let r = get(&d, "/channels").await;
    assert_eq!(
        (r.status, r.text().as_str()),
        (400, r#"{"message":"MISSING_ARG_TOPIC"}"#)
    );
    // Parameters only come from the query string; the first value wins.
    let r = http_request(d.http(), "GET", "/lookup", b"topic=x").await;
    assert_eq!(r.text(), r#"{"message":"MISSING_ARG_TOPIC"}"#);
    assert_eq!(post(&d, "/topic/create?topic=alpha").await.status, 200);
    assert_eq!(
        get(&d, "/lookup?topic=missing&topic=alpha").await.status,
        404
    );
    assert_eq!(
        get(&d, "/lookup?topic=alpha&topic=missing").await.status,
        200
    );
}

#[tokio::test]
async fn topic_create_and_delete() {
    let d = start(&[]);
    for (target, status, body) in [
        ("/topic/create", 400, r#"{"message":"MISSING_ARG_TOPIC"}"#),
        (
            "/topic/create?topic=bad!name",
            400,
            r#"{"message":"INVALID_ARG_TOPIC"}"#,
        ),
        (
            "/topic/create?topic=",
            400,
            r#"{"message":"INVALID_ARG_TOPIC"}"#,
        ),
        (
            "/topic/create?topic=%",
            400,
            r#"{"message":"INVALID_REQUEST"}"#,
        ),
        ("/topic/delete", 400, r#"{"message":"MISSING_ARG_TOPIC"}"#),
        ("/topic/delete?topic=never-created", 200, ""),
    ] {
        let r = post(&d, target).await;
        assert_eq!((r.status, r.text().as_str()), (status, body), "{target}");
    }
    let r = http_request(d.http(), "POST", "/topic/create", b"topic=t1").await;
    assert_eq!(r.text(), r#"{"message":"MISSING_ARG_TOPIC"}"#);

    let r = post(&d, "/topic/create?topic=t1").await;
    assert_eq!((r.status, r.body.len()), (200, 0));
    assert_eq!(r.header("Content-Type"), None);
    assert_eq!(r.header(NSQ_HEADER), Some(NSQ_V1));
    assert_eq!(get_ok(&d, "/topics").await, r#"{"topics":["t1"]}"#);
    assert_eq!(
        get_ok(&d, "/lookup?topic=t1").await,
        r#"{"channels":[],"producers":[]}"#
    );

    // Delete removes the topic and its channels even while an nsqd is registered.
    let mut nsqd = V1Conn::nsqd(d.tcp(), "h", 4150, 4151).await;
    assert_eq!(nsqd.command("REGISTER t1 c1").await, "OK");
    assert_eq!(nsqd.command("REGISTER t2").await, "OK");
    assert_eq!(post(&d, "/topic/delete?topic=t1").await.status, 200);
    assert_eq!(get(&d, "/lookup?topic=t1").await.status, 404);
    assert_eq!(get_ok(&d, "/channels?topic=t1").await, r#"{"channels":[]}"#);
    assert_eq!(get_ok(&d, "/topics").await, r#"{"topics":["t2"]}"#);
    assert!(get_ok(&d, "/nodes").await.contains(r#""topics":["t2"]"#));
}

#[tokio::test]
async fn channel_create_and_delete() {
    let d = start(&[]);
    for (target, body) in [
        ("/channel/create", "MISSING_ARG_TOPIC"),
        ("/channel/create?topic=a!", "INVALID_ARG_TOPIC"),
        ("/channel/create?topic=a", "MISSING_ARG_CHANNEL"),
        ("/channel/create?topic=a&channel=b!", "INVALID_ARG_CHANNEL"),
        ("/channel/create?topic=a&channel=%g", "INVALID_REQUEST"),
        ("/channel/delete?channel=b", "MISSING_ARG_TOPIC"),
        ("/channel/delete?topic=a", "MISSING_ARG_CHANNEL"),
        ("/channel/delete?topic=a&channel=", "INVALID_ARG_CHANNEL"),
    ] {
        let r = post(&d, target).await;
        assert_eq!(
            (r.status, r.text()),
            (400, format!(r#"{{"message":"{body}"}}"#)),
            "{target}"
        );
    }
    let r = post(&d, "/channel/delete?topic=a&channel=b").await;
    assert_eq!(
        (r.status, r.text().as_str()),
        (404, r#"{"message":"CHANNEL_NOT_FOUND"}"#)
    );

    let r = post(&d, "/channel/create?topic=a&channel=b").await;
    assert_eq!((r.status, r.body.len()), (200, 0));
    assert_eq!(get_ok(&d, "/topics").await, r#"{"topics":["a"]}"#);
    assert_eq!(
        get_ok(&d, "/channels?topic=a").await,
        r#"{"channels":["b"]}"#
    );
    assert_eq!(
        get_ok(&d, "/lookup?topic=a").await,
        r#"{"channels":["b"],"producers":[]}"#
    );
    assert_eq!(
        post(&d, "/channel/delete?topic=a&channel=b").await.status,
        200
    );
    assert_eq!(get_ok(&d, "/channels?topic=a").await, r#"{"channels":[]}"#);
    assert_eq!(get_ok(&d, "/topics").await, r#"{"topics":["a"]}"#);
    assert_eq!(
        post(&d, "/channel/delete?topic=a&channel=b").await.status,
        404
    );
}

#[tokio::test]
async fn tombstone_hides_a_producer_for_its_lifetime() {
    let d = start(&["--tombstone-lifetime=2s"]);
    let mut one = V1Conn::nsqd(d.tcp(), "one", 4150, 4151).await;
    let mut two = V1Conn::nsqd(d.tcp(), "two", 5150, 5151).await;
    assert_eq!(one.command("REGISTER t").await, "OK");
    assert_eq!(two.command("REGISTER t").await, "OK");
    assert_eq!(one.command("REGISTER other").await, "OK");

    for (target, body) in [
        ("/topic/tombstone?node=127.0.0.1:4151", "MISSING_ARG_TOPIC"),
        ("/topic/tombstone?topic=t", "MISSING_ARG_NODE"),
        ("/topic/tombstone?topic=t&node=%", "INVALID_REQUEST"),
    ] {
        let r = post(&d, target).await;
        assert_eq!(
            (r.status, r.text()),
            (400, format!(r#"{{"message":"{body}"}}"#))
        );
    }
    // Unknown topics and nodes are not errors.
    assert_eq!(
        post(&d, "/topic/tombstone?topic=nope&node=x:1")
            .await
            .status,
        200
    );

    let r = post(&d, "/topic/tombstone?topic=t&node=127.0.0.1:4151").await;
    assert_eq!((r.status, r.body.len()), (200, 0));
    let lookup = get_ok(&d, "/lookup?topic=t").await;
    assert!(!lookup.contains(r#""hostname":"one""#), "{lookup}");
    assert!(lookup.contains(r#""hostname":"two""#), "{lookup}");
    // Only topic t is affected; /nodes still lists the node, flagged.
    assert!(get_ok(&d, "/lookup?topic=other")
        .await
        .contains(r#""hostname":"one""#));
    let nodes: serde_json::Value = serde_json::from_str(&get_ok(&d, "/nodes").await).expect("json");
    let one_node = nodes["producers"]
        .as_array()
        .expect("producers")
        .iter()
        .find(|p| p["hostname"] == "one")
        .expect("node one listed");
    assert_eq!(one_node["topics"], serde_json::json!(["other", "t"]));
    assert_eq!(one_node["tombstones"], serde_json::json!([false, true]));

    wait_for("the tombstone to expire", || async {
        get_ok(&d, "/lookup?topic=t")
            .await
            .contains(r#""hostname":"one""#)
    })
    .await;
    assert!(get_ok(&d, "/nodes")
        .await
        .contains(r#""tombstones":[false,false]"#));
    // The flag itself stays set.
    let debug: serde_json::Value = serde_json::from_str(&get_ok(&d, "/debug").await).expect("json");
    let flagged: Vec<bool> = debug["topic:t:"]
        .as_array()
        .expect("topic:t:")
        .iter()
        .map(|p| p["tombstoned"].as_bool().expect("bool"))
        .collect();
    assert_eq!(flagged.iter().filter(|f| **f).count(), 1, "{debug}");
}

#[tokio::test]
async fn debug_dump_shape() {
    let d = start(&[]);
    assert_eq!(get_ok(&d, "/debug").await, "{}");
    let mut c = V1Conn::nsqd(d.tcp(), "h", 4150, 4151).await;
    let id = c.local_addr().to_string();
    assert_eq!(c.command("REGISTER t c").await, "OK");
    assert_eq!(post(&d, "/topic/create?topic=empty").await.status, 200);
    let text = get_ok(&d, "/debug").await;
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    let keys: Vec<&String> = v.as_object().expect("object").keys().collect();
    assert_eq!(keys, ["channel:t:c", "client::", "topic:t:"]);
    let entry = &v["client::"][0];
    let last_update = entry["last_update"].as_i64().expect("last_update");
    assert!(last_update > 1_600_000_000_000_000_000, "{last_update}");
    let expected = format!(
        r#"{{"broadcast_address":"127.0.0.1","hostname":"h","http_port":4151,"id":"{id}","last_update":{last_update},"tcp_port":4150,"tombstoned":false,"tombstoned_at":-6795364578871345152,"version":"1.3.0"}}"#
    );
    assert!(
        text.contains(&format!(r#""client::":[{expected}]"#)),
        "{text}"
    );
}

#[tokio::test]
async fn router_behaviour() {
    let d = start(&[]);
    let check = |r: &HttpResponse, status: u16, allow: Option<&str>| {
        assert_eq!(r.status, status, "{r:?}");
        assert_eq!(r.header("Allow"), allow, "{r:?}");
    };
    let r = get(&d, "/topic/create?topic=x").await;
    check(&r, 405, Some("OPTIONS, POST"));
    assert_eq!(r.text(), r#"{"message":"METHOD_NOT_ALLOWED"}"#);
    check(&post(&d, "/lookup").await, 405, Some("GET, OPTIONS"));
    check(
        &http_request(d.http(), "HEAD", "/ping", b"").await,
        405,
        Some("GET, OPTIONS"),
    );
    check(
        &http_request(d.http(), "DELETE", "/topics", b"").await,
        405,
        Some("GET, OPTIONS"),
    );
    let r = http_request(d.http(), "OPTIONS", "/topic/create", b"").await;
    check(&r, 200, Some("OPTIONS, POST"));
    assert!(r.body.is_empty());
    let r = get(&d, "/nosuchpath").await;
    check(&r, 404, None);
    assert_eq!(r.text(), r#"{"message":"NOT_FOUND"}"#);
    // Removed pre-1.0 aliases are unknown paths.
    check(&post(&d, "/create_topic?topic=x").await, 404, None);

    let r = get(&d, "/lookup/?topic=x").await;
    check(&r, 301, None);
    assert_eq!(r.header("Location"), Some("/lookup?topic=x"));
    assert_eq!(
        r.text(),
        "<a href=\"/lookup?topic=x\">Moved Permanently</a>.\n\n"
    );
    let r = get(&d, "/PING").await;
    assert_eq!((r.status, r.header("Location")), (301, Some("/ping")));
    let r = post(&d, "/Topic/Create/?topic=x").await;
    assert_eq!(
        (r.status, r.header("Location")),
        (307, Some("/topic/create?topic=x"))
    );
    assert!(r.body.is_empty());
    // The redirect target works.
    assert_eq!(post(&d, "/topic/create?topic=x").await.status, 200);
}

#[tokio::test]
async fn info_and_ping() {
    let d = start(&[]);
    let r = get(&d, "/info").await;
    assert_eq!(
        (r.status, r.text().as_str()),
        (200, r#"{"version":"1.3.0"}"#)
    );
    assert_eq!(r.header("Content-Type"), Some(JSON));
    // The Accept header changes nothing.
    let r = nsq_test_support::http::http_request_with_headers(
        d.http(),
        "GET",
        "/info",
        &[("Accept", "application/vnd.nsq; version=1.0")],
        b"",
    )
    .await;
    assert_eq!(r.text(), r#"{"version":"1.3.0"}"#);
    // The request is logged in NSQ's format.
    assert!(
        d.wait_for_log("200 GET /info (127.0.0.1:", Duration::from_secs(5)),
        "{}",
        d.log_text()
    );
}
