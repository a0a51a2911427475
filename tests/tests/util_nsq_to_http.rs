//! `nsq_to_http` as a real process delivering to a test HTTP server.
//! Build first: `cargo build --workspace --bins`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nsq_test_support::utility::{run_utility, TestHttpServer, Utility};
use nsq_test_support::{http_request, Daemon};

const WAIT: Duration = Duration::from_secs(20);

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().unwrap()
}

fn publish(d: &Daemon, topic: &str, bodies: &[&str]) {
    let body = bodies.join("\n");
    let r = rt().block_on(http_request(
        d.http(),
        "POST",
        &format!("/mpub?topic={topic}"),
        body.as_bytes(),
    ));
    assert_eq!(r.status, 200, "{}", r.text());
}

fn channel(d: &Daemon, topic: &str) -> serde_json::Value {
    let stats = rt()
        .block_on(http_request(
            d.http(),
            "GET",
            &format!("/stats?format=json&topic={topic}"),
            b"",
        ))
        .json();
    stats["topics"][0]["channels"][0].clone()
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// Short requeue and backoff delays so a retry happens within the test.
const FAST_RETRY: [&str; 2] = [
    "--consumer-opt=default_requeue_delay,100ms",
    "--consumer-opt=backoff_multiplier,50ms",
];

#[test]
fn posts_every_message_and_requeues_on_500() {
    let d = Daemon::nsqd(&[]);
    let failures = Arc::new(AtomicUsize::new(0));
    let f = failures.clone();
    let server = TestHttpServer::start(move |req| {
        if req.body == b"flaky" && f.fetch_add(1, Ordering::SeqCst) == 0 {
            (500, b"try again".to_vec())
        } else {
            (200, b"OK".to_vec())
        }
    });
    publish(&d, "web", &["one", "flaky", "two"]);
    let mut args = s(&[
        "--topic=web",
        "--nsqd-tcp-address",
        &d.tcp().to_string(),
        "--post",
        &format!("http://{}/in?x=1", server.addr()),
        "--content-type=text/plain",
        "--header=X-Test: yes: really",
    ]);
    args.extend(s(&FAST_RETRY));
    let mut u = Utility::spawn("nsq_to_http", &args, None);
    assert!(
        server.wait_for(WAIT, |reqs| reqs
            .iter()
            .filter(|r| r.body == b"flaky")
            .count()
            == 2),
        "no retry of the failed message: {:?}; {}",
        server.requests(),
        u.stderr_text()
    );
    wait_until("all finished", || {
        let ch = channel(&d, "web");
        ch["clients"][0]["finish_count"] == 3 && ch["in_flight_count"] == 0
    });
    let ch = channel(&d, "web");
    assert_eq!(ch["requeue_count"], 1, "{ch}");
    u.signal("TERM");
    assert!(u.wait_exit(WAIT).success(), "{}", u.stderr_text());
    let reqs = server.requests();
    let mut bodies: Vec<String> = reqs
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect();
    bodies.sort();
    assert_eq!(bodies, vec!["flaky", "flaky", "one", "two"]);
    for r in &reqs {
        assert_eq!(r.method, "POST");
        assert_eq!(r.target, "/in?x=1");
        assert_eq!(r.header("content-type"), Some("text/plain"));
        assert_eq!(r.header("user-agent"), Some("nsq_to_http v1.3.0"));
        assert_eq!(r.header("x-test"), Some("yes: really"));
    }
}

#[test]
fn get_substitutes_the_escaped_body_and_round_robins() {
    let d = Daemon::nsqd(&[]);
    let a = TestHttpServer::start(|_| (200, Vec::new()));
    let b = TestHttpServer::start(|_| (200, Vec::new()));
    publish(&d, "getter", &["a b", "c&d", "e", "f"]);
    let mut u = Utility::spawn(
        "nsq_to_http",
        &s(&[
            "--topic=getter",
            "--nsqd-tcp-address",
            &d.tcp().to_string(),
            "--get",
            &format!("http://{}/g?m=%s", a.addr()),
            "--get",
            &format!("http://{}/g?m=%s", b.addr()),
            "--mode=round-robin",
            "-n=1",
        ]),
        None,
    );
    wait_until("4 requests", || {
        a.requests().len() + b.requests().len() == 4
    });
    u.signal("INT");
    assert!(u.wait_exit(WAIT).success(), "{}", u.stderr_text());
    assert_eq!(a.requests().len(), 2);
    assert_eq!(b.requests().len(), 2);
    let mut targets: Vec<String> = a
        .requests()
        .into_iter()
        .chain(b.requests())
        .map(|r| r.target)
        .collect();
    targets.sort();
    assert_eq!(targets, vec!["/g?m=a+b", "/g?m=c%26d", "/g?m=e", "/g?m=f"]);
    assert!(a.requests().iter().all(|r| r.method == "GET"));
}

#[test]
fn a_get_that_is_not_200_is_retried() {
    let d = Daemon::nsqd(&[]);
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let server = TestHttpServer::start(move |_| {
        if c.fetch_add(1, Ordering::SeqCst) == 0 {
            (201, Vec::new())
        } else {
            (200, Vec::new())
        }
    });
    publish(&d, "g2", &["x"]);
    let mut args = s(&[
        "--topic=g2",
        "--nsqd-tcp-address",
        &d.tcp().to_string(),
        "--get",
        &format!("http://{}/?%s", server.addr()),
    ]);
    args.extend(s(&FAST_RETRY));
    let mut u = Utility::spawn("nsq_to_http", &args, None);
    assert!(
        server.wait_for(WAIT, |r| r.len() == 2),
        "{}",
        u.stderr_text()
    );
    wait_until("finished", || {
        channel(&d, "g2")["clients"][0]["finish_count"] == 1
    });
    u.signal("TERM");
    assert!(u.wait_exit(WAIT).success());
}

#[test]
fn bad_flags_fail_clearly() {
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        (
            vec!["--nsqd-tcp-address=a:1", "--post=http://h/"],
            1,
            "--topic is required",
        ),
        (
            vec!["--topic=t", "--nsqd-tcp-address=a:1"],
            1,
            "--get or --post required",
        ),
        (
            vec![
                "--topic=t",
                "--nsqd-tcp-address=a:1",
                "--post=http://h/",
                "--get=http://h/%s",
            ],
            1,
            "not both",
        ),
        (
            vec!["--topic=t", "--nsqd-tcp-address=a:1", "--get=http://h/"],
            1,
            "exactly one %s",
        ),
        (
            vec![
                "--topic=t",
                "--nsqd-tcp-address=a:1",
                "--post=http://h/",
                "--sample=2",
            ],
            1,
            "--sample",
        ),
        (
            vec![
                "--topic=t",
                "--nsqd-tcp-address=a:1",
                "--post=http://h/",
                "--header=bad",
            ],
            1,
            "invalid header",
        ),
        (
            vec!["--topic=t", "--post=http://h/"],
            1,
            "--nsqd-tcp-address or --lookupd-http-address required",
        ),
        (
            vec!["--sample=abc"],
            2,
            "invalid value \"abc\" for flag -sample",
        ),
    ];
    for (args, code, needle) in cases {
        let (status, _, err) = run_utility("nsq_to_http", &s(&args), None, WAIT);
        assert_eq!(status.code(), Some(code), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    let (_, _, help) = run_utility("nsq_to_http", &s(&["--help"]), None, WAIT);
    assert!(
        help.contains(
            "  -sample float\n    \t% of messages to publish (float b/w 0 -> 1) (default 1)"
        ),
        "{help}"
    );
}
