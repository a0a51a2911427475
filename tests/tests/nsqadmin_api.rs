//! nsqadmin's JSON API against real daemons: nsqlookupd, two nsqd and
//! nsqadmin on free loopback ports, talked to over raw HTTP/1.1.

use nsq_protocol::Command;
use nsq_test_support::cluster::{eventually, nsqadmin, Cluster, EVENTUALLY_TIMEOUT};
use nsq_test_support::http::http_request_with_headers;
use nsq_test_support::utility::TestHttpServer;
use nsq_test_support::{http_request, Daemon, HttpResponse, V2Client};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::Duration;

async fn get(addr: SocketAddr, target: &str) -> HttpResponse {
    http_request(addr, "GET", target, b"").await
}

async fn send(addr: SocketAddr, method: &str, target: &str, body: &Value) -> HttpResponse {
    let body = serde_json::to_vec(body).unwrap();
    http_request_with_headers(
        addr,
        method,
        target,
        &[("Content-Type", "application/json")],
        &body,
    )
    .await
}

async fn publish(nsqd: SocketAddr, topic: &str, n: usize) {
    for i in 0..n {
        let r = http_request(
            nsqd,
            "POST",
            &format!("/pub?topic={topic}"),
            format!("m{i}").as_bytes(),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text());
    }
}

/// nsqd's own view of one channel (`None` if it does not exist there).
async fn nsqd_channel(nsqd: SocketAddr, topic: &str, channel: &str) -> Option<Value> {
    let stats = get(nsqd, &format!("/stats?format=json&topic={topic}"))
        .await
        .json();
    stats["topics"]
        .as_array()?
        .iter()
        .find(|t| t["topic_name"] == topic)?["channels"]
        .as_array()?
        .iter()
        .find(|c| c["channel_name"] == channel)
        .cloned()
}

async fn nsqd_topic(nsqd: SocketAddr, topic: &str) -> Option<Value> {
    let stats = get(nsqd, &format!("/stats?format=json&topic={topic}"))
        .await
        .json();
    stats["topics"]
        .as_array()?
        .iter()
        .find(|t| t["topic_name"] == topic)
        .cloned()
}

fn assert_ok_message(r: &HttpResponse) {
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["message"], "", "{}", r.text());
}

#[tokio::test]
async fn topics_list_and_depth_aggregated_over_two_nsqd() {
    let c = Cluster::start(2, &[]);
    publish(c.nsqds[0].http(), "agg", 3).await;
    publish(c.nsqds[1].http(), "agg", 4).await;
    publish(c.nsqds[1].http(), "other", 1).await;
    c.wait_producers("agg", 2).await;
    c.wait_producers("other", 1).await;

    let topics = get(c.admin_http(), "/api/topics").await;
    assert_eq!(topics.status, 200);
    assert_eq!(
        topics.header("X-Nsq-Content-Type"),
        Some("nsq; version=1.0")
    );
    assert_eq!(
        topics.json(),
        json!({"topics": ["agg", "other"], "message": ""})
    );

    let t = get(c.admin_http(), "/api/topics/agg").await;
    assert_ok_message(&t);
    let t = t.json();
    assert_eq!(t["node"], "*");
    assert_eq!(t["depth"], 7);
    assert_eq!(t["memory_depth"], 7);
    assert_eq!(t["message_count"], 7);
    let nodes = t["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 2);
    let mut depths: Vec<i64> = nodes.iter().map(|n| n["depth"].as_i64().unwrap()).collect();
    depths.sort();
    assert_eq!(depths, [3, 4]);
    let names: Vec<String> = nodes
        .iter()
        .map(|n| n["node"].as_str().unwrap().to_string())
        .collect();
    for d in &c.nsqds {
        assert!(
            names.contains(&format!("127.0.0.1:{}", d.http().port())),
            "{names:?}"
        );
    }
    assert_eq!(t["channels"], Value::Null);
    assert_eq!(t["e2e_processing_latency"]["host"], "*");

    let nodes = get(c.admin_http(), "/api/nodes").await;
    assert_ok_message(&nodes);
    let nodes = nodes.json();
    let list = nodes["nodes"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    for n in list {
        assert_eq!(n["remote_addresses"].as_array().unwrap().len(), 1);
        assert_eq!(n["out_of_date"], false);
    }

    let counter = get(c.admin_http(), "/api/counter").await;
    assert_ok_message(&counter);
    assert_eq!(counter.json()["stats"], json!({}));
}

#[tokio::test]
async fn channel_actions_take_effect_on_both_nsqd() {
    let c = Cluster::start(2, &[]);
    publish(c.nsqds[0].http(), "act", 2).await;
    publish(c.nsqds[1].http(), "act", 3).await;
    c.wait_producers("act", 2).await;
    let admin = c.admin_http();

    // Create a channel: lookupd and every producer get it.
    let r = send(
        admin,
        "POST",
        "/api/topics",
        &json!({"topic": "act", "channel": "ch"}),
    )
    .await;
    assert_ok_message(&r);
    for d in &c.nsqds {
        assert!(nsqd_channel(d.http(), "act", "ch").await.is_some());
    }
    let lookup = get(c.lookupd.http(), "/channels?topic=act").await.json();
    assert_eq!(lookup["channels"], json!(["ch"]));

    // The backlog and new messages reach the channel on both nodes; the
    // channel view sums them.
    publish(c.nsqds[0].http(), "act", 1).await;
    publish(c.nsqds[1].http(), "act", 2).await;
    let ch = eventually("channel depth 8", EVENTUALLY_TIMEOUT, || async {
        let v = get(admin, "/api/topics/act/ch").await.json();
        (v["depth"] == 8).then_some(v)
    })
    .await;
    assert_eq!(ch["node"], "*");
    assert_eq!(ch["nodes"].as_array().unwrap().len(), 2);
    assert_eq!(ch["e2e_processing_latency"]["channel"], "ch");

    // Pause, observed through each nsqd's own /stats.
    let r = send(
        admin,
        "POST",
        "/api/topics/act/ch",
        &json!({"action": "pause"}),
    )
    .await;
    assert_ok_message(&r);
    for d in &c.nsqds {
        assert_eq!(
            nsqd_channel(d.http(), "act", "ch").await.unwrap()["paused"],
            true
        );
    }
    assert_eq!(
        get(admin, "/api/topics/act/ch").await.json()["paused"],
        true
    );
    let r = send(
        admin,
        "POST",
        "/api/topics/act/ch",
        &json!({"action": "unpause"}),
    )
    .await;
    assert_ok_message(&r);
    for d in &c.nsqds {
        assert_eq!(
            nsqd_channel(d.http(), "act", "ch").await.unwrap()["paused"],
            false
        );
    }

    // Empty the channel everywhere.
    let r = send(
        admin,
        "POST",
        "/api/topics/act/ch",
        &json!({"action": "empty"}),
    )
    .await;
    assert_ok_message(&r);
    for d in &c.nsqds {
        assert_eq!(
            nsqd_channel(d.http(), "act", "ch").await.unwrap()["depth"],
            0
        );
    }

    // Topic-level pause.
    let r = send(
        admin,
        "POST",
        "/api/topics/act",
        &json!({"action": "pause"}),
    )
    .await;
    assert_ok_message(&r);
    for d in &c.nsqds {
        assert_eq!(nsqd_topic(d.http(), "act").await.unwrap()["paused"], true);
    }
    assert_eq!(get(admin, "/api/topics/act").await.json()["paused"], true);

    // Bad action / bad body.
    let r = send(
        admin,
        "POST",
        "/api/topics/act",
        &json!({"action": "explode"}),
    )
    .await;
    assert_eq!(
        (r.status, r.json()),
        (400, json!({"message": "INVALID_ACTION"}))
    );
    let r = http_request(admin, "POST", "/api/topics/act", b"not json").await;
    assert_eq!(r.status, 400);

    // Delete the channel: gone from both nsqd and from lookupd.
    let r = send(admin, "DELETE", "/api/topics/act/ch", &json!({})).await;
    assert_ok_message(&r);
    for d in &c.nsqds {
        assert!(nsqd_channel(d.http(), "act", "ch").await.is_none());
    }
    let lookup = get(c.lookupd.http(), "/channels?topic=act").await.json();
    assert_eq!(lookup["channels"], json!([]));

    // Deleting it again: each nsqd's 404 comes back as a warning.
    let r = send(admin, "DELETE", "/api/topics/act/ch", &json!({})).await;
    assert_eq!(r.status, 200);
    let message = r.json()["message"].as_str().unwrap().to_string();
    assert!(
        message.starts_with("WARNING: ")
            && message
                .contains(r#"got response 404 Not Found "{\"message\":\"CHANNEL_NOT_FOUND\"}""#),
        "{message}"
    );

    // Delete the topic everywhere.
    let r = send(admin, "DELETE", "/api/topics/act", &json!({})).await;
    assert_ok_message(&r);
    for d in &c.nsqds {
        assert!(nsqd_topic(d.http(), "act").await.is_none());
    }
}

#[tokio::test]
async fn dead_nsqd_is_an_error_in_the_json_not_a_failure() {
    let live = Daemon::nsqd(&[]);
    let mut dead = Daemon::nsqd(&[]);
    let dead_addr = dead.http();
    publish(live.http(), "t", 2).await;
    publish(dead_addr, "t", 5).await;
    let admin = nsqadmin(&[
        format!("--nsqd-http-address={}", live.http()),
        format!("--nsqd-http-address={dead_addr}"),
    ]);
    let before = get(admin.http(), "/api/topics/t").await;
    assert_ok_message(&before);
    assert_eq!(before.json()["depth"], 7);

    dead.kill();
    let topics = get(admin.http(), "/api/topics").await;
    assert_eq!(topics.status, 200);
    let body = topics.json();
    assert_eq!(body["topics"], json!(["t"]));
    let msg = body["message"].as_str().unwrap();
    assert!(msg.starts_with("WARNING: "), "{msg}");
    assert!(
        msg.contains(&format!(
            "dial tcp {dead_addr}: connect: connection refused"
        )),
        "{msg}"
    );

    let t = get(admin.http(), "/api/topics/t").await;
    assert_eq!(t.status, 200);
    let t = t.json();
    assert_eq!(t["depth"], 2);
    assert_eq!(t["nodes"].as_array().unwrap().len(), 1);
    assert!(t["message"]
        .as_str()
        .unwrap()
        .contains("connection refused"));

    let nodes = get(admin.http(), "/api/nodes").await.json();
    assert_eq!(nodes["nodes"].as_array().unwrap().len(), 1);
    assert_eq!(nodes["nodes"][0]["remote_addresses"], Value::Null);
    assert!(nodes["message"].as_str().unwrap().starts_with("WARNING: "));
}

#[tokio::test]
async fn no_lookupd_answering_is_a_502() {
    let gone = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = gone.local_addr().unwrap();
    drop(gone);
    let admin = nsqadmin(&[format!("--lookupd-http-address={addr}")]);
    let r = get(admin.http(), "/api/topics").await;
    assert_eq!(r.status, 502);
    let msg = r.json()["message"].as_str().unwrap().to_string();
    assert!(
        msg.starts_with("UPSTREAM_ERROR: failed to query any nsqlookupd: Get \"http://"),
        "{msg}"
    );
    // The UI shell still renders, so the page can show the error banner.
    let page = get(admin.http(), "/").await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("Content-Type"),
        Some("text/html; charset=utf-8")
    );
}

#[tokio::test]
async fn acl_rejects_non_admins() {
    let c = Cluster::start(1, &["--admin-user=alice", "--admin-user=bob"]);
    publish(c.nsqds[0].http(), "acl", 1).await;
    c.wait_producers("acl", 1).await;
    let admin = c.admin_http();
    let pause = serde_json::to_vec(&json!({"action": "pause"})).unwrap();
    for headers in [
        vec![],
        vec![("X-Forwarded-User", "mallory")],
        vec![("X-Forwarded-User", "Alice")],
    ] {
        let r = http_request_with_headers(admin, "POST", "/api/topics/acl", &headers, &pause).await;
        assert_eq!(
            (r.status, r.text()),
            (403, r#"{"message":"FORBIDDEN"}"#.to_string())
        );
        // checked before the body is parsed
        let r = http_request_with_headers(admin, "POST", "/api/topics", &headers, b"garbage").await;
        assert_eq!(r.status, 403);
        let r = http_request_with_headers(admin, "DELETE", "/api/topics/acl", &headers, b"").await;
        assert_eq!(r.status, 403);
    }
    assert_eq!(
        nsqd_topic(c.nsqds[0].http(), "acl").await.unwrap()["paused"],
        false
    );
    // Reads stay open; the shell tells the UI to hide the buttons.
    assert_eq!(get(admin, "/api/topics").await.status, 200);
    assert!(get(admin, "/")
        .await
        .text()
        .contains("var IS_ADMIN = false;"));
    let shell =
        http_request_with_headers(admin, "GET", "/", &[("X-Forwarded-User", "bob")], b"").await;
    assert!(shell.text().contains("var IS_ADMIN = true;"));
    // An admin may act.
    let r = http_request_with_headers(
        admin,
        "POST",
        "/api/topics/acl",
        &[("X-Forwarded-User", "bob")],
        &pause,
    )
    .await;
    assert_ok_message(&r);
    assert_eq!(
        nsqd_topic(c.nsqds[0].http(), "acl").await.unwrap()["paused"],
        true
    );
}

#[tokio::test]
async fn custom_acl_header_is_used() {
    let c = Cluster::start(1, &["--admin-user=ops", "--acl-http-header=X-Remote-User"]);
    let body = serde_json::to_vec(&json!({"topic": "made"})).unwrap();
    let r = http_request_with_headers(
        c.admin_http(),
        "POST",
        "/api/topics",
        &[("X-Forwarded-User", "ops")],
        &body,
    )
    .await;
    assert_eq!(r.status, 403);
    let r = http_request_with_headers(
        c.admin_http(),
        "POST",
        "/api/topics",
        &[("X-Remote-User", "ops")],
        &body,
    )
    .await;
    assert_ok_message(&r);
    let topics = get(c.lookupd.http(), "/topics").await.json();
    assert_eq!(topics["topics"], json!(["made"]));
}

#[tokio::test]
async fn actions_send_notifications() {
    let sink = TestHttpServer::start(|_| (200, Vec::new()));
    let endpoint = format!("--notification-http-endpoint=http://{}/notify", sink.addr());
    let c = Cluster::start(1, &[endpoint.as_str()]);
    publish(c.nsqds[0].http(), "n", 1).await;
    c.wait_producers("n", 1).await;
    let body = serde_json::to_vec(&json!({"topic": "n", "channel": "nc"})).unwrap();
    let r = http_request_with_headers(
        c.admin_http(),
        "POST",
        "/api/topics",
        &[
            ("Authorization", "Basic YWxpY2U6cHc="),
            ("User-Agent", "ua-test/1"),
        ],
        &body,
    )
    .await;
    assert_ok_message(&r);
    let r = send(
        c.admin_http(),
        "POST",
        "/api/topics/n/nc",
        &json!({"action": "pause"}),
    )
    .await;
    assert_ok_message(&r);
    assert!(
        sink.wait_for(Duration::from_secs(10), |reqs| reqs.len() >= 3),
        "notifications: {:?}",
        sink.requests()
    );
    let docs: Vec<Value> = sink
        .requests()
        .iter()
        .map(|r| {
            assert_eq!(r.method, "POST");
            assert_eq!(r.target, "/notify");
            assert_eq!(r.header("Content-Type"), Some("application/json"));
            serde_json::from_slice(&r.body).unwrap()
        })
        .collect();
    let find = |action: &str| {
        docs.iter()
            .find(|d| d["action"] == action)
            .unwrap_or_else(|| panic!("no {action} in {docs:?}"))
            .clone()
    };
    let create = find("create_topic");
    assert_eq!(create["topic"], "n");
    assert_eq!(create["user"], "alice");
    assert_eq!(create["user_agent"], "ua-test/1");
    assert!(create.get("channel").is_none());
    assert!(create["remote_ip"]
        .as_str()
        .unwrap()
        .starts_with("127.0.0.1:"));
    assert_eq!(
        create["url"],
        format!("http://{}/api/topics", c.admin_http())
    );
    let keys: Vec<&String> = create.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "action",
            "topic",
            "timestamp",
            "user",
            "remote_ip",
            "user_agent",
            "url",
            "via"
        ]
    );
    assert_eq!(find("create_channel")["channel"], "nc");
    let pause = find("pause_channel");
    assert!(pause.get("user").is_none());
    assert_eq!(pause["channel"], "nc");
}

#[tokio::test]
async fn unreachable_notification_endpoint_only_logs() {
    let gone = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = gone.local_addr().unwrap();
    drop(gone);
    let endpoint = format!("--notification-http-endpoint=http://{addr}/x");
    let c = Cluster::start(1, &[endpoint.as_str()]);
    let r = send(
        c.admin_http(),
        "POST",
        "/api/topics",
        &json!({"topic": "ok"}),
    )
    .await;
    assert_ok_message(&r);
    assert!(c
        .admin
        .wait_for_log("admin action notification", Duration::from_secs(10)));
    assert_eq!(get(c.admin_http(), "/ping").await.text(), "OK");
}

#[tokio::test]
async fn tombstone_hides_the_node_and_deletes_the_topic_there() {
    let c = Cluster::start(2, &[]);
    publish(c.nsqds[0].http(), "tomb", 1).await;
    publish(c.nsqds[1].http(), "tomb", 1).await;
    c.wait_producers("tomb", 2).await;
    let node = format!("127.0.0.1:{}", c.nsqds[0].http().port());
    let r = send(
        c.admin_http(),
        "DELETE",
        &format!("/api/nodes/{node}"),
        &json!({"topic": "tomb"}),
    )
    .await;
    assert_ok_message(&r);
    assert!(nsqd_topic(c.nsqds[0].http(), "tomb").await.is_none());
    assert!(nsqd_topic(c.nsqds[1].http(), "tomb").await.is_some());
    c.wait_producers("tomb", 1).await;
    let r = send(
        c.admin_http(),
        "DELETE",
        &format!("/api/nodes/{node}"),
        &json!({"topic": "bad!"}),
    )
    .await;
    assert_eq!(
        (r.status, r.json()),
        (400, json!({"message": "INVALID_TOPIC"}))
    );
    let r = http_request(
        c.admin_http(),
        "DELETE",
        &format!("/api/nodes/{node}"),
        b"{",
    )
    .await;
    assert_eq!(
        (r.status, r.json()),
        (400, json!({"message": "INVALID_BODY"}))
    );
}

#[tokio::test]
async fn create_validates_names_and_inactive_topics_are_listed() {
    let c = Cluster::start(1, &[]);
    let admin = c.admin_http();
    let r = send(admin, "POST", "/api/topics", &json!({"topic": "bad topic"})).await;
    assert_eq!(
        (r.status, r.json()),
        (400, json!({"message": "INVALID_TOPIC"}))
    );
    let r = send(
        admin,
        "POST",
        "/api/topics",
        &json!({"topic": "ok", "channel": "bad chan"}),
    )
    .await;
    assert_eq!(
        (r.status, r.json()),
        (400, json!({"message": "INVALID_CHANNEL"}))
    );
    let r = http_request(admin, "POST", "/api/topics", b"nope").await;
    assert_eq!(r.status, 400);
    assert!(!r.json()["message"].as_str().unwrap().is_empty());

    // Created in lookupd only: an inactive topic with its channel.
    let r = send(
        admin,
        "POST",
        "/api/topics",
        &json!({"topic": "fresh", "channel": "fc"}),
    )
    .await;
    assert_ok_message(&r);
    let inactive = get(admin, "/api/topics?inactive=true").await;
    assert_eq!(
        inactive.json(),
        json!({"topics": {"fresh": ["fc"]}, "message": ""})
    );
    // A topic with producers is not inactive.
    publish(c.nsqds[0].http(), "live", 1).await;
    c.wait_producers("live", 1).await;
    let inactive = get(admin, "/api/topics?inactive=true").await.json();
    assert!(inactive["topics"].get("live").is_none());
    // Its topic page has no producer: empty aggregate, no error.
    let fresh = get(admin, "/api/topics/fresh").await;
    assert_ok_message(&fresh);
    assert_eq!(fresh.json()["nodes"], Value::Null);
}

#[tokio::test]
async fn config_endpoint_reads_and_changes_options() {
    let c = Cluster::start(1, &[]);
    let admin = c.admin_http();
    let r = get(admin, "/config/nsqlookupd_http_addresses").await;
    assert_eq!(r.json(), json!([c.lookupd.http().to_string()]));
    assert_eq!(
        get(admin, "/config/http_client_connect_timeout")
            .await
            .json(),
        json!(2_000_000_000i64)
    );
    assert_eq!(get(admin, "/config/log_level").await.json(), json!(2));
    let r = get(admin, "/config/nope").await;
    assert_eq!(
        (r.status, r.json()),
        (400, json!({"message": "INVALID_OPTION"}))
    );
    let r = http_request(admin, "PUT", "/config/log_level", b"debug").await;
    assert_eq!((r.status, r.json()), (200, json!(1)));
    let r = http_request(admin, "PUT", "/config/log_level", b"\"debug\"").await;
    assert_eq!(
        (r.status, r.json()),
        (400, json!({"message": "INVALID_VALUE"}))
    );
    let r = http_request(admin, "PUT", "/config/log_level", b"").await;
    assert_eq!(
        (r.status, r.json()),
        (413, json!({"message": "INVALID_VALUE"}))
    );
    let r = http_request(admin, "PUT", "/config/base_path", b"/x").await;
    assert_eq!(
        (r.status, r.json()),
        (400, json!({"message": "INVALID_OPTION"}))
    );
    // Point nsqadmin at no lookupd: the topic list now fails.
    let r = http_request(
        admin,
        "PUT",
        "/config/nsqlookupd_http_addresses",
        b"[\"127.0.0.1:1\"]",
    )
    .await;
    assert_eq!((r.status, r.json()), (200, json!(["127.0.0.1:1"])));
    assert_eq!(get(admin, "/api/topics").await.status, 502);

    let closed = nsqadmin(&[
        format!("--lookupd-http-address={}", c.lookupd.http()),
        "--allow-config-from-cidr=10.0.0.0/8".to_string(),
    ]);
    let r = get(closed.http(), "/config/log_level").await;
    assert_eq!((r.status, r.json()), (403, json!({"message": "FORBIDDEN"})));
}

#[tokio::test]
async fn shell_static_files_compression_and_base_path() {
    let c = Cluster::start(1, &["--base-path=/admin/"]);
    let admin = c.admin_http();
    for page in [
        "/admin",
        "/admin/topics",
        "/admin/topics/x",
        "/admin/topics/x/y",
        "/admin/nodes",
        "/admin/nodes/h:1",
        "/admin/counter",
        "/admin/lookup",
    ] {
        let r = get(admin, page).await;
        assert_eq!(r.status, 200, "{page}");
        assert_eq!(r.header("Content-Type"), Some("text/html; charset=utf-8"));
        assert_eq!(r.header("X-Nsq-Content-Type"), None);
        let text = r.text();
        assert!(text.contains(r#"var BASE_PATH = "/admin";"#), "{text}");
        assert!(text.contains(&format!(r#"var NSQLOOKUPD = ["{}"];"#, c.lookupd.http())));
        assert!(text.contains(r#"src="/admin/static/app.js""#));
    }
    assert_eq!(get(admin, "/api/topics").await.status, 404);
    assert_eq!(get(admin, "/admin/ping").await.text(), "OK");
    let js = get(admin, "/admin/static/app.js").await;
    assert_eq!(js.status, 200);
    assert_eq!(
        js.header("Content-Type"),
        Some("text/javascript; charset=utf-8")
    );
    let css = get(admin, "/admin/static/app.css").await;
    assert_eq!(css.header("Content-Type"), Some("text/css; charset=utf-8"));
    let missing = get(admin, "/admin/static/nope.js").await;
    assert_eq!(
        (missing.status, missing.text().as_str()),
        (404, "NOT_FOUND")
    );
    assert_eq!(missing.header("X-Nsq-Content-Type"), None);
    let gz = http_request_with_headers(
        admin,
        "GET",
        "/admin/api/topics",
        &[("Accept-Encoding", "gzip, deflate")],
        b"",
    )
    .await;
    assert_eq!(gz.header("Content-Encoding"), Some("gzip"));
    assert_eq!(gz.header("Vary"), Some("Accept-Encoding"));
    assert_eq!(&gz.body[..2], &[0x1f, 0x8b]);
    let wrong_method = http_request(admin, "POST", "/admin/nodes", b"").await;
    assert_eq!(wrong_method.status, 405);
}

/// Replays the setup of the v1.3.0 capture (one nsqd, topic `alpha`,
/// channels `c1`/`c2`, five messages, one consumer on `c1` that finished
/// two and holds the third) and compares every API answer with the
/// capture, byte for byte once ports, hostnames and times are normalised.
#[tokio::test]
async fn answers_match_the_v1_3_0_capture() {
    let fixture: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/nsqadmin/nsqadmin.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let exchange = |name: &str| -> Value {
        fixture["exchanges"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == name)
            .unwrap_or_else(|| panic!("no exchange {name}"))
            .clone()
    };
    let ports = &fixture["ports"];

    let c = Cluster::start(1, &[]);
    let nsqd = &c.nsqds[0];
    for path in [
        "/topic/create?topic=alpha",
        "/channel/create?topic=alpha&channel=c1",
        "/channel/create?topic=alpha&channel=c2",
    ] {
        assert_eq!(
            http_request(nsqd.http(), "POST", path, b"").await.status,
            200
        );
    }
    publish(nsqd.http(), "alpha", 3).await;
    assert_eq!(
        http_request(nsqd.http(), "POST", "/mpub?topic=alpha", b"m3\nm4")
            .await
            .status,
        200
    );
    let mut consumer = V2Client::connect(nsqd.tcp()).await;
    consumer
        .identify(json!({"client_id": "fixture", "hostname": "nsq-host", "user_agent": "fixture-capture/1.0", "feature_negotiation": true}))
        .await;
    consumer.subscribe("alpha", "c1").await;
    consumer.send(Command::Rdy(1)).await;
    for _ in 0..2 {
        let m = consumer.expect_message().await;
        consumer.send(Command::Fin(m.id)).await;
    }
    let _held = consumer.expect_message().await;
    c.wait_producers("alpha", 1).await;
    eventually("c1 finished 2, 1 in flight", EVENTUALLY_TIMEOUT, || async {
        let ch = nsqd_channel(nsqd.http(), "alpha", "c1").await?;
        (ch["depth"] == 2 && ch["in_flight_count"] == 1 && ch["clients"][0]["finish_count"] == 2)
            .then_some(())
    })
    .await;

    // Port numbers differ per run: map ours onto the capture's.
    let ours_to_theirs = [
        (nsqd.http().port(), ports["nsqd_http"].as_u64().unwrap()),
        (nsqd.tcp().port(), ports["nsqd_tcp"].as_u64().unwrap()),
        (
            c.lookupd.http().port(),
            ports["nsqlookupd_http"].as_u64().unwrap(),
        ),
        (
            c.admin_http().port(),
            ports["nsqadmin_http"].as_u64().unwrap(),
        ),
    ];
    let node_path = format!("/api/nodes/127.0.0.1:{}", nsqd.http().port());
    for (name, target) in [
        ("api-topics", "/api/topics"),
        ("api-topic-alpha", "/api/topics/alpha"),
        ("api-channel-alpha-c1", "/api/topics/alpha/c1"),
        ("api-nodes", "/api/nodes"),
        ("api-node", node_path.as_str()),
        ("api-counter", "/api/counter"),
        ("ping", "/ping"),
        ("api-topic-missing", "/api/topics/missing"),
        ("api-node-missing", "/api/nodes/127.0.0.1:1"),
        ("not-found", "/api/nosuchpath"),
    ] {
        let theirs = exchange(name)["response"].clone();
        let ours = get(c.admin_http(), target).await;
        assert_eq!(
            u64::from(ours.status),
            theirs["status"].as_u64().unwrap(),
            "{name}: {}",
            ours.text()
        );
        for header in ["Content-Type", "X-Nsq-Content-Type"] {
            let expected = theirs["headers"]
                .as_array()
                .unwrap()
                .iter()
                .find(|h| h[0] == header)
                .map(|h| h[1].as_str().unwrap().to_string());
            assert_eq!(
                ours.header(header).map(str::to_string),
                expected,
                "{name}: {header}"
            );
        }
        let mut text = ours.text();
        for (o, t) in ours_to_theirs {
            text = text
                .replace(&format!(":{o}"), &format!(":{t}"))
                .replace(&format!("\":{o},"), &format!("\":{t},"));
            text = text.replace(&format!("\"tcp_port\":{o}"), &format!("\"tcp_port\":{t}"));
            text = text.replace(&format!("\"http_port\":{o}"), &format!("\"http_port\":{t}"));
        }
        let expected = theirs["body"].as_str().unwrap().to_string();
        if theirs.get("body_json").is_some_and(|b| !b.is_null()) {
            let ours_norm = normalise(serde_json::from_str(&text).unwrap());
            let theirs_norm = normalise(serde_json::from_str(&expected).unwrap());
            assert_eq!(
                serde_json::to_string(&ours_norm).unwrap(),
                serde_json::to_string(&theirs_norm).unwrap(),
                "{name}"
            );
        } else {
            assert_eq!(text, expected, "{name}");
        }
    }
}

/// Replaces the values that vary between runs (README §4) by placeholders.
fn normalise(v: Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let v = match k.as_str() {
                        "hostname" if v.as_str().is_some_and(|s| !s.is_empty()) => json!("HOST"),
                        "remote_address" | "connect_ts" | "connected" => json!("VARIES"),
                        "remote_addresses" => json!(v.as_array().map(|a| a
                            .iter()
                            .map(|s| json!(
                                s.as_str()
                                    .unwrap_or("")
                                    .split('/')
                                    .next()
                                    .unwrap_or("")
                                    .to_string()
                                    + "/VARIES"
                            ))
                            .collect::<Vec<_>>())),
                        _ => normalise(v),
                    };
                    (k, v)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(normalise).collect()),
        other => other,
    }
}

#[tokio::test]
async fn history_feeds_the_charts_without_graphite() {
    let c = Cluster::start(1, &[]);
    let nsqd = c.nsqds[0].http();
    for path in [
        "/topic/create?topic=h",
        "/channel/create?topic=h&channel=hc",
    ] {
        assert_eq!(http_request(nsqd, "POST", path, b"").await.status, 200);
    }
    publish(nsqd, "h", 5).await;
    let admin = c.admin_http();
    // Samples are taken every 5 s; wait for one that saw the backlog.
    let first = eventually(
        "a history sample with depth 5",
        Duration::from_secs(30),
        || async {
            let h = get(admin, "/api/history?topic=h").await.json();
            let samples = h["samples"].as_array()?.clone();
            samples.iter().any(|s| s["depth"] == 5).then_some(h)
        },
    )
    .await;
    assert_eq!(first["topic"], "h");
    assert_eq!(first["interval"], 5);
    assert_eq!(first["message"], "");
    let keys: Vec<String> = first["samples"][0]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(keys, ["ts", "depth", "in_flight", "message_count", "rate"]);
    publish(nsqd, "h", 10).await;
    let rate = eventually(
        "a delivery rate for the channel",
        Duration::from_secs(30),
        || async {
            let h = get(admin, "/api/history?topic=h&channel=hc").await.json();
            h["samples"]
                .as_array()?
                .iter()
                .filter_map(|s| s["rate"].as_f64())
                .find(|r| *r > 0.0)
        },
    )
    .await;
    assert!(rate > 0.0 && rate <= 10.0, "{rate}");
    let total = get(admin, "/api/history").await.json();
    assert!(!total["samples"].as_array().unwrap().is_empty());
    let none = get(admin, "/api/history?topic=nope").await.json();
    assert_eq!(none["samples"], json!([]));
}

#[tokio::test]
async fn graphite_rate_and_render_proxy() {
    let graphite = TestHttpServer::start(|req| {
        if req.target.contains("fail") {
            (500, b"boom".to_vec())
        } else if req.target.contains("nulls") {
            (200, br#"[{"target":"x","datapoints":[[null,1]]}]"#.to_vec())
        } else {
            (
                200,
                br#"[{"target":"x","datapoints":[[120.0,1700000000],[60.0,1700000060]]}]"#.to_vec(),
            )
        }
    });
    let nsqd = Daemon::nsqd(&[]);
    let admin = nsqadmin(&[
        format!("--nsqd-http-address={}", nsqd.http()),
        format!("--graphite-url=http://user:secret@{}", graphite.addr()),
        "--proxy-graphite".to_string(),
    ]);
    let r = get(
        admin.http(),
        "/api/graphite?metric=rate&target=sumSeries(x)",
    )
    .await;
    assert_eq!((r.status, r.json()), (200, json!({"rate": "2.00"})));
    let seen = graphite.requests();
    let first = &seen[0];
    assert!(
        first
            .target
            .starts_with("/render?target=sumSeries%28x%29&from=-120sec&until=-60sec&format=json"),
        "{}",
        first.target
    );
    assert_eq!(
        first.header("Authorization"),
        Some("Basic dXNlcjpzZWNyZXQ=")
    );
    let r = get(admin.http(), "/api/graphite?metric=rate&target=nulls").await;
    assert_eq!(r.json(), json!({"rate": "N/A"}));
    let r = get(admin.http(), "/api/graphite?metric=rate&target=fail").await;
    assert_eq!(
        (r.status, r.json()),
        (500, json!({"message": "INTERNAL_ERROR"}))
    );
    let r = get(admin.http(), "/api/graphite?metric=count&target=x").await;
    assert_eq!(
        (r.status, r.json()),
        (400, json!({"message": "INVALID_ARG_METRIC"}))
    );
    let r = get(admin.http(), "/api/graphite?metric=rate").await;
    assert_eq!(
        (r.status, r.json()),
        (400, json!({"message": "INVALID_ARG_TARGET"}))
    );

    let proxied = get(admin.http(), "/render?target=abc&format=json").await;
    assert_eq!(proxied.status, 200);
    assert_eq!(proxied.header("Content-Type"), Some("application/json"));
    assert!(proxied.text().contains("datapoints"));
    assert_eq!(
        graphite.requests().last().unwrap().target,
        "/render?target=abc&format=json"
    );
    let shell = get(admin.http(), "/").await.text();
    assert!(shell.contains("var GRAPHITE_URL = \"\";"), "{shell}");
    assert!(shell.contains("var GRAPH_ENABLED = true;"));
}

#[test]
fn bad_command_lines_are_fatal_with_v1_3_0_messages() {
    let bin = nsq_test_support::daemon::binary_path("nsqadmin");
    for (args, message) in [
        (vec![], "failed to instantiate nsqadmin - --nsqd-http-address or --lookupd-http-address required"),
        (
            vec!["--nsqd-http-address=127.0.0.1:4151", "--lookupd-http-address=127.0.0.1:4161"],
            "failed to instantiate nsqadmin - use --nsqd-http-address or --lookupd-http-address not both",
        ),
        (
            vec!["--nsqd-http-address=127.0.0.1:4151", "--allow-config-from-cidr=nope"],
            "failed to instantiate nsqadmin - failed to parse --allow-config-from-cidr (nope)",
        ),
    ] {
        let out = std::process::Command::new(&bin)
            .args(&args)
            .arg("--http-address=127.0.0.1:0")
            .output()
            .expect("run nsqadmin");
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
    let out = std::process::Command::new(&bin)
        .arg("--version")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("nsqadmin v1.3.0 (built w/"));
}

#[tokio::test]
async fn garbage_from_a_peer_is_reported_not_fatal() {
    let liar = TestHttpServer::start(|req| {
        if req.target.starts_with("/info") {
            (
                200,
                br#"{"version":"1.3.0","broadcast_address":"127.0.0.1","http_port":"x"}"#.to_vec(),
            )
        } else {
            (
                200,
                br#"{"topics":[{"topic_name":"t","depth":9223372036854775807,"channels":"nope"}]}"#
                    .to_vec(),
            )
        }
    });
    let good = Daemon::nsqd(&[]);
    publish(good.http(), "t", 1).await;
    let admin = nsqadmin(&[
        format!("--nsqd-http-address={}", good.http()),
        format!("--nsqd-http-address={}", liar.addr()),
    ]);
    for target in ["/api/topics", "/api/topics/t", "/api/nodes", "/api/counter"] {
        let r = get(admin.http(), target).await;
        assert_eq!(r.status, 200, "{target}: {}", r.text());
        let msg = r.json()["message"].as_str().unwrap().to_string();
        assert!(
            msg.starts_with("WARNING: failed to decode the response of http://"),
            "{target}: {msg}"
        );
    }
    assert_eq!(get(admin.http(), "/api/topics/t").await.json()["depth"], 1);
    assert_eq!(get(admin.http(), "/ping").await.text(), "OK");
}
