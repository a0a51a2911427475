//! nsqlookupd's V1 TCP protocol, black-box: the real binary on free ports,
//! raw sockets, checked against the v1.3.0 capture (fixtures/wire).

mod lookupd_common;

use lookupd_common::*;
use nsq_test_support::daemon::binary_path;
use std::time::Duration;

/// Replays wire/22 (a raw client against nsqlookupd v1.3.0) step by step:
/// every reply byte-exact, every close and every silence where the capture
/// has one. The IDENTIFY reply differs only in the hostname and ports,
/// which are substituted (their digit counts change the size prefix).
#[tokio::test]
async fn replays_the_v1_3_0_capture() {
    let d = start(&[]);
    let transcript = fixture("wire/transcripts-nsqlookupd.json");
    let steps = transcript["22-lookupd-v1-direct"]["steps"]
        .as_array()
        .expect("steps");
    let ours = format!(
        r#"{{"broadcast_address":"127.0.0.1","hostname":"{}","http_port":{},"tcp_port":{},"version":"1.3.0"}}"#,
        os_hostname(),
        d.http().port(),
        d.tcp().port()
    );
    let captured_identify = r#"{"broadcast_address":"127.0.0.1","hostname":"nsq-host","http_port":59703,"tcp_port":45195,"version":"1.3.0"}"#;
    let mut conn: Option<V1Conn> = None;
    let mut checked = 0;
    for step in steps {
        let dir = step["dir"].as_str().unwrap_or_default();
        let text = step["text"].as_str().unwrap_or_default();
        let label = step["label"].as_str().unwrap_or_default();
        match dir {
            "event" if text.starts_with("client opens TCP connection") => {
                conn = Some(V1Conn::connect_raw(d.tcp()).await);
            }
            "event" if text.starts_with("server closed the connection") => {
                conn.as_mut()
                    .expect("open connection")
                    .expect_closed()
                    .await;
                checked += 1;
            }
            "event" if text.starts_with("no response") => {
                conn.as_mut()
                    .expect("open connection")
                    .expect_silence(Duration::from_millis(300))
                    .await;
                checked += 1;
            }
            "C->S" => {
                let bytes = unhex(step["hex"].as_str().expect("hex"));
                conn.as_mut().expect("open connection").send(&bytes).await;
            }
            "S->C" => {
                let mut expected = unhex(step["hex"].as_str().expect("hex"));
                if expected[4..] == *captured_identify.as_bytes() {
                    expected = framed(ours.as_bytes());
                }
                let got = conn.as_mut().expect("open connection").reply_frame().await;
                assert_eq!(
                    String::from_utf8_lossy(&got),
                    String::from_utf8_lossy(&expected),
                    "reply to step {label:?}"
                );
                checked += 1;
            }
            _ => {}
        }
    }
    assert!(checked >= 30, "only {checked} checks ran");
}

#[tokio::test]
async fn identify_reports_this_lookupd() {
    // Without --broadcast-address the OS hostname is reported.
    let d = start_plain(&[]);
    let mut c = V1Conn::connect(d.tcp()).await;
    c.send(&identify_cmd(&nsqd_identity("h", 4150, 4151))).await;
    let reply = String::from_utf8(c.reply().await).expect("utf-8");
    let host = os_hostname();
    assert_eq!(
        reply,
        format!(
            r#"{{"broadcast_address":"{host}","hostname":"{host}","http_port":{},"tcp_port":{},"version":"1.3.0"}}"#,
            d.http().port(),
            d.tcp().port()
        )
    );
    let d = start_plain(&["--broadcast-address=lookupd.example"]);
    let mut c = V1Conn::connect(d.tcp()).await;
    c.send(&identify_cmd(&nsqd_identity("h", 4150, 4151))).await;
    let reply = String::from_utf8(c.reply().await).expect("utf-8");
    assert!(
        reply.starts_with(r#"{"broadcast_address":"lookupd.example","#),
        "{reply}"
    );
}

#[tokio::test]
async fn bad_magic_is_refused_unframed() {
    let d = start(&[]);
    let mut c = V1Conn::connect_raw(d.tcp()).await;
    c.send(b"GET ").await;
    assert_eq!(c.reply_frame().await, b"\x00\x00\x00\x0eE_BAD_PROTOCOL");
    c.expect_closed().await;
}

#[tokio::test]
async fn identify_body_errors_are_fatal() {
    let d = start(&[]);
    // A negative size crashes v1.3.0; here it is refused.
    let mut c = V1Conn::connect(d.tcp()).await;
    let mut cmd = b"IDENTIFY\n".to_vec();
    cmd.extend_from_slice(&(-5i32).to_be_bytes());
    c.expect_fatal(&cmd, "E_BAD_BODY IDENTIFY failed to read body")
        .await;

    for body in [
        "{}",
        "null",
        r#"{"broadcast_address":"127.0.0.1","tcp_port":1,"http_port":2}"#,
        r#"{"broadcast_address":"","tcp_port":1,"http_port":2,"version":"1.3.0"}"#,
        r#"{"broadcast_address":"a","tcp_port":0,"http_port":2,"version":"1.3.0"}"#,
    ] {
        let mut c = V1Conn::connect(d.tcp()).await;
        c.expect_fatal(&identify_cmd(body), "E_BAD_BODY IDENTIFY missing fields")
            .await;
    }
    for body in [
        r#"{"broadcast_address":"a","tcp_port":"1","http_port":2,"version":"1.3.0"}"#,
        r#"{"broadcast_address":"a","tcp_port":1.5,"http_port":2,"version":"1.3.0"}"#,
        "[1,2]",
    ] {
        let mut c = V1Conn::connect(d.tcp()).await;
        c.expect_fatal(
            &identify_cmd(body),
            "E_BAD_BODY IDENTIFY failed to decode JSON body",
        )
        .await;
    }
    // Go JSON rules: keys match case-insensitively, unknown keys are ignored.
    let mut c = V1Conn::connect(d.tcp()).await;
    c.send(&identify_cmd(
        r#"{"Broadcast_Address":"a","TCP_PORT":1,"http_port":2,"version":"1.3.0","short_id":"x"}"#,
    ))
    .await;
    assert!(c.reply().await.starts_with(b"{"));

    // The client stops sending in the middle of the body or of its size.
    let mut c = V1Conn::connect(d.tcp()).await;
    let cut = identify_cmd(&nsqd_identity("h", 1, 2));
    c.send(&cut[..cut.len() - 3]).await;
    c.shutdown_write().await;
    assert_eq!(c.reply().await, b"E_BAD_BODY IDENTIFY failed to read body");
    c.expect_closed().await;
    let mut c = V1Conn::connect(d.tcp()).await;
    c.send(b"IDENTIFY\n\x00\x00").await;
    c.shutdown_write().await;
    assert_eq!(
        c.reply().await,
        b"E_BAD_BODY IDENTIFY failed to read body size"
    );
    c.expect_closed().await;
}

#[tokio::test]
async fn lines_are_trimmed_pipelined_and_case_sensitive() {
    let d = start(&[]);
    let mut c = V1Conn::connect(d.tcp()).await;
    c.send(b"  PING  \r\nPING\n\tPING extra\n").await;
    for _ in 0..3 {
        assert_eq!(c.reply().await, b"OK");
    }
    c.expect_fatal(b"ping\n", "E_INVALID invalid command ping")
        .await;
    let mut c = V1Conn::connect(d.tcp()).await;
    c.expect_fatal(b"\n", "E_INVALID invalid command ").await;
    let mut c = V1Conn::connect(d.tcp()).await;
    c.expect_fatal(b"UNREGISTER t\n", "E_INVALID client must IDENTIFY")
        .await;

    let mut c = V1Conn::nsqd(d.tcp(), "h", 4150, 4151).await;
    // Double spaces make empty words: an empty channel means "none",
    // an empty topic is an invalid name.
    assert_eq!(c.command("REGISTER t1  c1").await, "OK");
    assert_eq!(get_ok(&d, "/channels?topic=t1").await, r#"{"channels":[]}"#);
    c.expect_fatal(
        b"REGISTER  t1\n",
        "E_BAD_TOPIC REGISTER topic name '' is not valid",
    )
    .await;
    let mut c = V1Conn::nsqd(d.tcp(), "h", 4150, 4151).await;
    let long = "c".repeat(65);
    c.expect_fatal(
        format!("UNREGISTER t1 {long}\n").as_bytes(),
        &format!("E_BAD_CHANNEL UNREGISTER channel name '{long}' is not valid"),
    )
    .await;
}

#[tokio::test]
async fn registrations_show_up_with_this_peer() {
    let d = start(&[]);
    let mut c = V1Conn::nsqd(d.tcp(), "h1", 4150, 4151).await;
    let me = c.local_addr();
    assert_eq!(c.command("REGISTER t1 c1").await, "OK");
    assert_eq!(c.command("REGISTER t1 c2").await, "OK");
    assert_eq!(c.command("REGISTER t2").await, "OK");
    let producer = format!(
        r#"{{"remote_address":"{me}","hostname":"h1","broadcast_address":"127.0.0.1","tcp_port":4150,"http_port":4151,"version":"1.3.0"}}"#
    );
    assert_eq!(
        get_ok(&d, "/lookup?topic=t1").await,
        format!(r#"{{"channels":["c1","c2"],"producers":[{producer}]}}"#)
    );
    assert_eq!(
        get_ok(&d, "/lookup?topic=t2").await,
        format!(r#"{{"channels":[],"producers":[{producer}]}}"#)
    );
    assert_eq!(get_ok(&d, "/topics").await, r#"{"topics":["t1","t2"]}"#);
    assert_eq!(
        get_ok(&d, "/channels?topic=t1").await,
        r#"{"channels":["c1","c2"]}"#
    );
    let node = &producer[..producer.len() - 1];
    assert_eq!(
        get_ok(&d, "/nodes").await,
        format!(r#"{{"producers":[{node},"tombstones":[false,false],"topics":["t1","t2"]}}]}}"#)
    );
}

#[tokio::test]
async fn disconnect_removes_the_producer_but_keeps_registrations() {
    let d = start(&[]);
    let mut c = V1Conn::nsqd(d.tcp(), "h", 4150, 4151).await;
    assert_eq!(c.command("REGISTER ltopic lchan").await, "OK");
    assert!(get_ok(&d, "/lookup?topic=ltopic")
        .await
        .contains("remote_address"));
    drop(c);
    wait_for("the producer to leave /lookup", || async {
        get_ok(&d, "/lookup?topic=ltopic").await == r#"{"channels":["lchan"],"producers":[]}"#
    })
    .await;
    assert_eq!(get_ok(&d, "/nodes").await, r#"{"producers":[]}"#);
    assert_eq!(get_ok(&d, "/topics").await, r#"{"topics":["ltopic"]}"#);
    assert_eq!(get_ok(&d, "/debug").await, "{}");
}

#[tokio::test]
async fn unregister_rules() {
    let d = start(&[]);
    let mut a = V1Conn::nsqd(d.tcp(), "a", 4150, 4151).await;
    let mut b = V1Conn::nsqd(d.tcp(), "b", 5150, 5151).await;

    // An ephemeral channel goes away with its last producer, a normal one stays.
    for c in [&mut a, &mut b] {
        assert_eq!(c.command("REGISTER t e#ephemeral").await, "OK");
        assert_eq!(c.command("REGISTER t keep").await, "OK");
    }
    assert_eq!(a.command("UNREGISTER t e#ephemeral").await, "OK");
    assert_eq!(
        get_ok(&d, "/channels?topic=t").await,
        r#"{"channels":["e#ephemeral","keep"]}"#
    );
    assert_eq!(b.command("UNREGISTER t e#ephemeral").await, "OK");
    assert_eq!(b.command("UNREGISTER t keep").await, "OK");
    assert_eq!(
        get_ok(&d, "/channels?topic=t").await,
        r#"{"channels":["keep"]}"#
    );

    // A topic UNREGISTER also takes the peer off the topic's channels.
    assert_eq!(a.command("UNREGISTER t").await, "OK");
    let dump = get_ok(&d, "/debug").await;
    assert!(!dump.contains("channel:t:keep"), "{dump}");
    assert!(dump.contains("topic:t:"), "{dump}");
    assert_eq!(
        get_ok(&d, "/lookup?topic=t")
            .await
            .matches("remote_address")
            .count(),
        1
    );

    // An ephemeral topic goes away with its last producer.
    assert_eq!(a.command("REGISTER x#ephemeral").await, "OK");
    assert_eq!(get(&d, "/lookup?topic=x%23ephemeral").await.status, 200);
    assert_eq!(a.command("UNREGISTER x#ephemeral").await, "OK");
    let r = get(&d, "/lookup?topic=x%23ephemeral").await;
    assert_eq!(
        (r.status, r.text().as_str()),
        (404, r#"{"message":"TOPIC_NOT_FOUND"}"#)
    );
}

#[tokio::test]
async fn inactive_producers_are_hidden_until_they_ping() {
    let d = start(&["--inactive-producer-timeout=1s"]);
    let mut c = V1Conn::nsqd(d.tcp(), "h", 4150, 4151).await;
    assert_eq!(c.command("REGISTER t").await, "OK");
    assert!(get_ok(&d, "/lookup?topic=t")
        .await
        .contains("remote_address"));
    wait_for("the producer to turn inactive", || async {
        get_ok(&d, "/lookup?topic=t").await == r#"{"channels":[],"producers":[]}"#
    })
    .await;
    assert_eq!(get_ok(&d, "/nodes").await, r#"{"producers":[]}"#);
    // Inactive producers are hidden, not removed.
    assert!(get_ok(&d, "/debug").await.contains("topic:t:"));
    let before = last_update(&get_ok(&d, "/debug").await);
    assert_eq!(c.command("PING").await, "OK");
    assert!(last_update(&get_ok(&d, "/debug").await) > before);
    assert!(get_ok(&d, "/lookup?topic=t")
        .await
        .contains("remote_address"));
    assert!(get_ok(&d, "/nodes").await.contains("remote_address"));
}

fn last_update(debug: &str) -> i64 {
    let v: serde_json::Value = serde_json::from_str(debug).expect("json");
    v["client::"][0]["last_update"]
        .as_i64()
        .expect("last_update")
}

#[tokio::test]
async fn sigterm_and_sigint_exit_zero() {
    for signal in ["TERM", "INT"] {
        let mut d = start(&[]);
        let _c = V1Conn::nsqd(d.tcp(), "h", 4150, 4151).await;
        d.signal(signal);
        let status = d.wait_exit(Duration::from_secs(10));
        assert!(
            status.success(),
            "SIG{signal}: {status:?}\n{}",
            d.log_text()
        );
        assert!(d.log_text().contains("TCP: closing"), "{}", d.log_text());
    }
}

#[test]
fn version_flag_prints_the_version() {
    let out = std::process::Command::new(binary_path("nsqlookupd"))
        .arg("--version")
        .output()
        .expect("run nsqlookupd --version");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("nsqlookupd v1.3.0 (built w/"), "{text}");
    assert!(text.ends_with(")\n"), "{text}");
}

#[test]
fn unknown_flag_exits_2() {
    let out = std::process::Command::new(binary_path("nsqlookupd"))
        .arg("--no-such-flag")
        .output()
        .expect("run nsqlookupd");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("flag provided but not defined: -no-such-flag"),
        "{err}"
    );
}
