//! `nsq_to_nsq` as a real process moving messages between two real nsqd.
//! Build first: `cargo build --workspace --bins`.

use std::time::{Duration, Instant};

use nsq_test_support::utility::{run_utility, Utility};
use nsq_test_support::{http_request, Daemon};

const WAIT: Duration = Duration::from_secs(20);

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().unwrap()
}

fn publish(d: &Daemon, topic: &str, bodies: &[String]) {
    let body = bodies.join("\n");
    let r = rt().block_on(http_request(
        d.http(),
        "POST",
        &format!("/mpub?topic={topic}"),
        body.as_bytes(),
    ));
    assert_eq!(r.status, 200, "{}", r.text());
}

fn topic_stats(d: &Daemon, topic: &str) -> serde_json::Value {
    let stats = rt()
        .block_on(http_request(
            d.http(),
            "GET",
            &format!("/stats?format=json&topic={topic}"),
            b"",
        ))
        .json();
    stats["topics"][0].clone()
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// Drains `topic` on `d` through an nsq_tail process and returns the bodies.
fn drain(d: &Daemon, topic: &str, n: usize) -> Vec<String> {
    let mut t = Utility::spawn(
        "nsq_tail",
        &s(&[
            "--topic",
            topic,
            "--nsqd-tcp-address",
            &d.tcp().to_string(),
            "-n",
            &n.to_string(),
        ]),
        None,
    );
    assert!(t.wait_exit(WAIT).success(), "{}", t.stderr_text());
    let mut lines = t.stdout_lines();
    lines.sort();
    lines
}

#[test]
fn moves_every_message_between_two_nsqd() {
    let src = Daemon::nsqd(&[]);
    let dst = Daemon::nsqd(&[]);
    let bodies: Vec<String> = (0..200).map(|i| format!("m{i:04}")).collect();
    publish(&src, "copy", &bodies);
    let mut u = Utility::spawn(
        "nsq_to_nsq",
        &s(&[
            "--topic=copy",
            "--nsqd-tcp-address",
            &src.tcp().to_string(),
            "--destination-nsqd-tcp-address",
            &dst.tcp().to_string(),
            "--destination-topic=copied",
        ]),
        None,
    );
    wait_until("200 messages at the destination", || {
        topic_stats(&dst, "copied")["message_count"] == 200
    });
    wait_until("source channel drained", || {
        let ch = &topic_stats(&src, "copy")["channels"][0];
        ch["depth"] == 0 && ch["in_flight_count"] == 0
    });
    u.signal("TERM");
    assert!(u.wait_exit(WAIT).success(), "{}", u.stderr_text());
    let mut expected = bodies.clone();
    expected.sort();
    assert_eq!(drain(&dst, "copied", 200), expected);
}

#[test]
fn json_require_and_whitelist_filter_messages() {
    let src = Daemon::nsqd(&[]);
    let dst = Daemon::nsqd(&[]);
    let bodies: Vec<String> = vec![
        r#"{"kind":"a","secret":1,"keep":"x"}"#.into(),
        r#"{"kind":"b","keep":"y"}"#.into(),
        "not json".into(),
        r#"{"kind":"a","keep":"z"}"#.into(),
    ];
    publish(&src, "js", &bodies);
    let mut u = Utility::spawn(
        "nsq_to_nsq",
        &s(&[
            "--topic=js",
            "--nsqd-tcp-address",
            &src.tcp().to_string(),
            "--destination-nsqd-tcp-address",
            &dst.tcp().to_string(),
            "--require-json-field=kind",
            "--require-json-value=a",
            "--whitelist-json-field=kind",
            "--whitelist-json-field=keep",
            "--mode=round-robin",
        ]),
        None,
    );
    wait_until("source drained", || {
        let ch = &topic_stats(&src, "js")["channels"][0];
        ch["message_count"] == 4 && ch["depth"] == 0 && ch["in_flight_count"] == 0
    });
    u.signal("INT");
    assert!(u.wait_exit(WAIT).success(), "{}", u.stderr_text());
    assert_eq!(topic_stats(&dst, "js")["message_count"], 2);
    assert_eq!(
        drain(&dst, "js", 2),
        vec![r#"{"kind":"a","keep":"x"}"#, r#"{"kind":"a","keep":"z"}"#]
    );
}

#[test]
fn bad_flags_and_unreachable_destination() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dead = format!("127.0.0.1:{port}");
    let src = Daemon::nsqd(&[]);
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            s(&[
                "--nsqd-tcp-address=a:1",
                "--destination-nsqd-tcp-address=b:1",
            ]),
            "--topic is required",
        ),
        (
            s(&["--topic=t", "--nsqd-tcp-address=a:1"]),
            "--destination-nsqd-tcp-address required",
        ),
        (
            s(&[
                "--topic=t",
                "--nsqd-tcp-address=a:1",
                "--destination-nsqd-tcp-address=b:1",
                "--mode=x",
            ]),
            "invalid --mode",
        ),
        (
            s(&[
                "--topic=t",
                "--nsqd-tcp-address=a:1",
                "--destination-nsqd-tcp-address=b:1",
                "--require-json-value=v",
            ]),
            "--require-json-value requires --require-json-field",
        ),
        (
            s(&[
                "--topic=bad!",
                "--nsqd-tcp-address=a:1",
                "--destination-nsqd-tcp-address=b:1",
            ]),
            "is invalid",
        ),
        (
            vec![
                "--topic=t".into(),
                format!("--nsqd-tcp-address={}", src.tcp()),
                format!("--destination-nsqd-tcp-address={dead}"),
            ],
            "cannot connect to nsqd",
        ),
    ];
    for (args, needle) in cases {
        let (status, _, err) = run_utility("nsq_to_nsq", &args, None, WAIT);
        assert_eq!(status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    let (status, out, _) = run_utility("nsq_to_nsq", &s(&["--version"]), None, WAIT);
    assert!(status.success());
    assert_eq!(out, "nsq_to_nsq v1.3.0");
}
