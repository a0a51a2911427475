//! `nsq_stat` as a real process reading a real nsqd's `/stats` (directly
//! and through a fake nsqlookupd). Build first: `cargo build --workspace --bins`.

use std::time::Duration;

use nsq_test_support::utility::{run_utility, FakeLookupd, Utility};
use nsq_test_support::{http_request, Daemon};

const WAIT: Duration = Duration::from_secs(20);

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().unwrap()
}

fn post(d: &Daemon, target: &str, body: &[u8]) {
    let r = rt().block_on(http_request(d.http(), "POST", target, body));
    assert_eq!(r.status, 200, "{}", r.text());
}

const HEADER1: &str =
    "------rate------+----------------depth----------------+--------------metadata---------------";
const HEADER2: &str =
    "ingress  egress |   total     mem    disk inflt   def |     req     t-o         msgs clients";

fn columns(line: &str) -> Vec<i64> {
    line.split_whitespace()
        .filter(|w| *w != "|")
        .map(|w| w.parse().unwrap())
        .collect()
}

#[test]
fn prints_count_rows_from_nsqd() {
    let d = Daemon::nsqd(&[]);
    post(&d, "/topic/create?topic=st", b"");
    post(&d, "/channel/create?topic=st&channel=ch", b"");
    post(&d, "/mpub?topic=st", b"a\nb\nc");
    let (status, out, err) = run_utility(
        "nsq_stat",
        &s(&[
            "--topic=st",
            "--channel=ch",
            "--nsqd-http-address",
            &d.http().to_string(),
            "--interval=100ms",
            "--count=2",
        ]),
        None,
        WAIT,
    );
    assert!(status.success(), "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert_eq!(lines[0], HEADER1);
    assert_eq!(lines[1], HEADER2);
    for row in &lines[2..] {
        let c = columns(row);
        // ingress egress | total mem disk inflt def | req t-o msgs clients
        assert_eq!(c.len(), 11, "{row}");
        assert_eq!(&c[2..], &[3, 3, 0, 0, 0, 0, 0, 3, 0], "{row}");
    }
}

#[test]
fn rates_follow_traffic_through_lookupd() {
    let d = Daemon::nsqd(&[]);
    post(&d, "/topic/create?topic=lt", b"");
    post(&d, "/channel/create?topic=lt&channel=ch", b"");
    let lookupd = FakeLookupd::start(vec![(d.tcp(), d.http())], vec![]);
    let u = Utility::spawn(
        "nsq_stat",
        &s(&[
            "--topic=lt",
            "--channel=ch",
            "--lookupd-http-address",
            &lookupd.addr().to_string(),
            "--interval=1s",
        ]),
        None,
    );
    assert!(u.wait_for_stdout_lines(2, WAIT), "{}", u.stderr_text());
    post(&d, "/mpub?topic=lt", b"1\n2\n3\n4\n5\n6\n7\n8\n9\n10");
    assert!(u.wait_for_stdout_lines(4, WAIT), "{}", u.stderr_text());
    let lines = u.stdout_lines();
    let total_ingress: i64 = lines[2..].iter().map(|l| columns(l)[0]).sum();
    assert_eq!(total_ingress, 10, "{lines:?}");
    let last = columns(&lines[lines.len() - 1]);
    assert_eq!(last[9], 10, "message count column: {lines:?}");
    u.signal("TERM");
}

#[test]
fn errors_are_clear() {
    let d = Daemon::nsqd(&[]);
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            s(&["--channel=c", "--nsqd-http-address=a:1"]),
            "--topic and --channel are required",
        ),
        (
            s(&["--topic=t", "--channel=c"]),
            "--nsqd-http-address or --lookupd-http-address required",
        ),
        (
            s(&[
                "--topic=t",
                "--channel=c",
                "--lookupd-http-address=http://a:1",
            ]),
            "should not have an http:// prefix",
        ),
        (
            s(&[
                "--topic=t",
                "--channel=c",
                "--nsqd-http-address=a:1",
                "--count=0",
            ]),
            "--count should be positive",
        ),
        (
            vec![
                "--topic=nope".into(),
                "--channel=c".into(),
                format!("--nsqd-http-address={}", d.http()),
            ],
            "failed to find channel(c) in stats metadata for topic(nope)",
        ),
    ];
    for (args, needle) in cases {
        let (status, _, err) = run_utility("nsq_stat", &args, None, WAIT);
        assert_eq!(status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let (status, _, err) = run_utility(
        "nsq_stat",
        &s(&[
            "--topic=t",
            "--channel=c",
            &format!("--nsqd-http-address=127.0.0.1:{port}"),
        ]),
        None,
        WAIT,
    );
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.contains("failed to get nsqd stats"), "{err}");
    let (status, out, _) = run_utility("nsq_stat", &s(&["--version"]), None, WAIT);
    assert!(status.success());
    assert_eq!(out, "nsq_stat v1.3.0");
}
