//! `to_nsq` and `nsq_tail` as real processes against a real nsqd.
//! Build first: `cargo build --workspace --bins`.

use std::time::{Duration, Instant};

use nsq_test_support::utility::{run_utility, Utility};
use nsq_test_support::{http_request, Daemon};

const WAIT: Duration = Duration::from_secs(20);

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

fn tail(d: &Daemon, extra: &[&str]) -> Utility {
    let mut args = s(&["--nsqd-tcp-address", &d.tcp().to_string()]);
    args.extend(s(extra));
    let u = Utility::spawn("nsq_tail", &args, None);
    assert!(
        u.wait_for_stderr("connected to nsqd", WAIT),
        "nsq_tail did not connect: {}",
        u.stderr_text()
    );
    u
}

fn publish(d: &Daemon, topic: &str, input: &[u8], extra: &[&str]) {
    let mut args = s(&["--topic", topic, "--nsqd-tcp-address", &d.tcp().to_string()]);
    args.extend(s(extra));
    let (status, _, err) = run_utility("to_nsq", &args, Some(input), WAIT);
    assert!(status.success(), "to_nsq failed: {err}");
}

async fn topic_count(d: &Daemon, topic: &str) -> serde_json::Value {
    let stats = http_request(
        d.http(),
        "GET",
        &format!("/stats?format=json&topic={topic}"),
        b"",
    )
    .await
    .json();
    stats["topics"][0]["message_count"].clone()
}

#[test]
fn to_nsq_then_nsq_tail_n_round_trip() {
    let d = Daemon::nsqd(&[]);
    let mut t = tail(&d, &["--topic=rt", "-n", "3"]);
    // The last line has no newline: it must arrive whole.
    publish(&d, "rt", b"one\ntwo\n\nthree", &[]);
    assert!(t.wait_for_stdout_lines(3, WAIT), "{:?}", t.stdout_lines());
    let status = t.wait_exit(WAIT);
    assert!(status.success(), "{}", t.stderr_text());
    let mut lines = t.stdout_lines();
    lines.sort();
    assert_eq!(lines, vec!["one", "three", "two"]);
}

#[test]
fn print_topic_and_several_topics() {
    let d = Daemon::nsqd(&[]);
    let mut t = tail(&d, &["--topic=ta", "--topic=tb", "--print-topic", "-n=2"]);
    publish(&d, "ta", b"a1\n", &[]);
    publish(&d, "tb", b"b1\n", &[]);
    assert!(t.wait_exit(WAIT).success(), "{}", t.stderr_text());
    let mut lines = t.stdout_lines();
    lines.sort();
    assert_eq!(lines, vec!["ta | a1", "tb | b1"]);
}

#[test]
fn custom_delimiter_and_every_nsqd() {
    let a = Daemon::nsqd(&[]);
    let b = Daemon::nsqd(&[]);
    let args = s(&[
        "--topic=multi",
        "--delimiter=,",
        "--nsqd-tcp-address",
        &a.tcp().to_string(),
        "--nsqd-tcp-address",
        &b.tcp().to_string(),
    ]);
    let (status, _, err) = run_utility("to_nsq", &args, Some(b"x,y,z"), WAIT);
    assert!(status.success(), "{err}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    for d in [&a, &b] {
        assert_eq!(rt.block_on(topic_count(d, "multi")), 3);
    }
    let mut t = tail(&a, &["--topic=multi", "--channel=c", "-n=3"]);
    assert!(t.wait_exit(WAIT).success());
    let mut lines = t.stdout_lines();
    lines.sort();
    assert_eq!(lines, vec!["x", "y", "z"]);
}

#[test]
fn to_nsq_rate_limits() {
    let d = Daemon::nsqd(&[]);
    let start = Instant::now();
    publish(&d, "slow", b"1\n2\n3\n4\n5\n6\n", &["--rate=10"]);
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(450),
        "6 messages at 10/s took {took:?}"
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    assert_eq!(rt.block_on(topic_count(&d, "slow")), 6);
}

#[test]
fn nsq_tail_stops_cleanly_on_sigterm_and_sigint() {
    let d = Daemon::nsqd(&[]);
    for sig in ["TERM", "INT"] {
        let mut t = tail(&d, &["--topic=sig", "--channel=c"]);
        publish(&d, "sig", b"m\n", &[]);
        assert!(t.wait_for_stdout_lines(1, WAIT));
        t.signal(sig);
        assert!(t.wait_exit(WAIT).success(), "{}", t.stderr_text());
    }
    // The message was finished, not left in flight.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let stats = rt
        .block_on(http_request(
            d.http(),
            "GET",
            "/stats?format=json&topic=sig",
            b"",
        ))
        .json();
    let ch = &stats["topics"][0]["channels"][0];
    assert_eq!(ch["in_flight_count"], 0, "{ch}");
    assert_eq!(ch["depth"], 0, "{ch}");
}

#[test]
fn bad_flags_and_unreachable_daemons_fail_clearly() {
    let cases: Vec<(&str, Vec<&str>, i32, &str)> = vec![
        (
            "nsq_tail",
            vec!["--nsqd-tcp-address=127.0.0.1:1"],
            1,
            "--topic is required",
        ),
        (
            "nsq_tail",
            vec!["--topic=t"],
            1,
            "--nsqd-tcp-address or --lookupd-http-address required",
        ),
        (
            "nsq_tail",
            vec![
                "--topic=t",
                "--nsqd-tcp-address=a:1",
                "--lookupd-http-address=b:2",
            ],
            1,
            "not both",
        ),
        (
            "nsq_tail",
            vec!["--bogus"],
            2,
            "flag provided but not defined: -bogus",
        ),
        (
            "nsq_tail",
            vec!["-n=x"],
            2,
            "invalid value \"x\" for flag -n",
        ),
        (
            "to_nsq",
            vec!["--nsqd-tcp-address=127.0.0.1:1"],
            1,
            "--topic required",
        ),
        (
            "to_nsq",
            vec!["--topic=t"],
            1,
            "--nsqd-tcp-address required",
        ),
        (
            "to_nsq",
            vec![
                "--topic=t",
                "--nsqd-tcp-address=127.0.0.1:1",
                "--delimiter=ab",
            ],
            1,
            "--delimiter must be a single byte",
        ),
        (
            "to_nsq",
            vec!["--version"],
            2,
            "flag provided but not defined: -version",
        ),
        (
            "to_nsq",
            vec![
                "--topic=t",
                "--nsqd-tcp-address=127.0.0.1:1",
                "--producer-opt=nope,1",
            ],
            1,
            "invalid option nope",
        ),
    ];
    for (bin, args, code, needle) in cases {
        let (status, _, err) = run_utility(bin, &s(&args), None, WAIT);
        assert_eq!(status.code(), Some(code), "{bin} {args:?}: {err}");
        assert!(err.contains(needle), "{bin} {args:?}: {err}");
    }
    // Unreachable nsqd.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let addr = format!("127.0.0.1:{port}");
    for bin in ["nsq_tail", "to_nsq"] {
        let (status, _, err) = run_utility(
            bin,
            &s(&["--topic=t", "--nsqd-tcp-address", &addr]),
            Some(b"x\n"),
            WAIT,
        );
        assert_eq!(status.code(), Some(1), "{bin}: {err}");
        assert!(
            err.contains("cannot connect to nsqd") && err.contains(&addr),
            "{bin}: {err}"
        );
    }
}

#[test]
fn version_and_help() {
    let (status, out, _) = run_utility("nsq_tail", &s(&["--version"]), None, WAIT);
    assert!(status.success());
    assert_eq!(out, "nsq_tail v1.3.0");
    let (status, _, err) = run_utility("to_nsq", &s(&["--help"]), None, WAIT);
    assert_eq!(status.code(), Some(0));
    assert!(err.starts_with("Usage of "), "{err}");
    assert!(
        err.contains(
            "  -delimiter string\n    \tcharacter to split input from stdin (default \"\\n\")"
        ),
        "{err}"
    );
}
