//! `nsq_to_file` as a real process against a real nsqd (and a fake
//! nsqlookupd for topic discovery). Build first: `cargo build --workspace --bins`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use nsq_test_support::utility::{run_utility, FakeLookupd, Utility};
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

fn channel(d: &Daemon, topic: &str, channel: &str) -> serde_json::Value {
    let stats = rt()
        .block_on(http_request(
            d.http(),
            "GET",
            &format!("/stats?format=json&topic={topic}"),
            b"",
        ))
        .json();
    stats["topics"][0]["channels"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["channel_name"] == channel).cloned())
        .unwrap_or_default()
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    out.sort();
    out
}

fn name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

fn gunzip(p: &Path) -> String {
    let out = Command::new("gzip")
        .arg("-dc")
        .arg(p)
        .output()
        .expect("run gzip -dc");
    assert!(out.status.success(), "gzip -dc {}: {:?}", p.display(), out);
    String::from_utf8(out.stdout).unwrap()
}

fn lines_in(paths: &[PathBuf], gz: bool) -> Vec<String> {
    let mut all: Vec<String> = paths
        .iter()
        .flat_map(|p| {
            let text = if gz {
                gunzip(p)
            } else {
                std::fs::read_to_string(p).unwrap()
            };
            text.lines().map(str::to_string).collect::<Vec<_>>()
        })
        .collect();
    all.sort();
    all
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

fn short_host() -> String {
    let h = gethostname::gethostname().to_string_lossy().into_owned();
    h.split('.').next().unwrap_or_default().to_string()
}

fn to_file(d: &Daemon, extra: &[&str]) -> Utility {
    let mut args = s(&["--nsqd-tcp-address", &d.tcp().to_string()]);
    args.extend(s(extra));
    let u = Utility::spawn("nsq_to_file", &args, None);
    assert!(
        u.wait_for_stderr("connected to nsqd", WAIT),
        "{}",
        u.stderr_text()
    );
    u
}

#[test]
fn writes_plain_files_and_syncs_on_exit() {
    let d = Daemon::nsqd(&[]);
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_string_lossy().into_owned();
    // A sync interval far away: only the exit can sync and finish.
    let mut u = to_file(
        &d,
        &["--topic=ft", "--output-dir", &dir, "--sync-interval=1h"],
    );
    publish(&d, "ft", &["a", "b", "c"]);
    wait_until("3 lines written", || {
        files(out.path())
            .first()
            .is_some_and(|f| std::fs::read_to_string(f).unwrap().lines().count() == 3)
    });
    assert_eq!(
        channel(&d, "ft", "nsq_to_file")["in_flight_count"],
        3,
        "FIN waits for the sync"
    );
    u.signal("TERM");
    assert!(u.wait_exit(WAIT).success(), "{}", u.stderr_text());
    let f = files(out.path());
    assert_eq!(f.len(), 1, "{f:?}");
    let n = name(&f[0]);
    assert!(
        n.starts_with(&format!("ft.{}.", short_host())) && n.ends_with(".log"),
        "{n}"
    );
    assert!(!n.contains("-000000"), "no <REV> needed: {n}");
    assert_eq!(lines_in(&f, false), vec!["a", "b", "c"]);
    wait_until("FINs at nsqd", || {
        let ch = channel(&d, "ft", "nsq_to_file");
        ch["in_flight_count"] == 0 && ch["depth"] == 0 && ch["requeue_count"] == 0
    });
}

#[test]
fn gzip_with_work_dir_moves_multi_member_files() {
    let d = Daemon::nsqd(&[]);
    let out = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let mut u = to_file(
        &d,
        &[
            "--topic=gz",
            "--gzip",
            "--output-dir",
            &out.path().to_string_lossy(),
            "--work-dir",
            &work.path().to_string_lossy(),
            "--sync-interval=50ms",
            "--filename-format=<TOPIC>-<PID><REV>.<DATETIME>.log",
        ],
    );
    publish(&d, "gz", &["one", "two"]);
    wait_until("first batch finished", || {
        channel(&d, "gz", "nsq_to_file")["clients"][0]["finish_count"] == 2
    });
    publish(&d, "gz", &["three"]);
    wait_until("second batch finished", || {
        channel(&d, "gz", "nsq_to_file")["clients"][0]["finish_count"] == 3
    });
    assert!(
        files(out.path()).is_empty(),
        "still in the work dir while open"
    );
    u.signal("INT");
    assert!(u.wait_exit(WAIT).success(), "{}", u.stderr_text());
    assert!(files(work.path()).is_empty(), "{:?}", files(work.path()));
    let f = files(out.path());
    assert_eq!(f.len(), 1, "{f:?}");
    let n = name(&f[0]);
    assert!(
        n.starts_with("gz-") && n.contains("-000000.") && n.ends_with(".log.gz"),
        "{n}"
    );
    assert_eq!(lines_in(&f, true), vec!["one", "three", "two"]);
    // Each sync closed a gzip member: more than one member in the file.
    let raw = std::fs::read(&f[0]).unwrap();
    let members = raw.windows(3).filter(|w| *w == [0x1f, 0x8b, 0x08]).count();
    assert!(members >= 2, "{members} gzip members");
}

#[test]
fn rotate_size_numbers_revisions() {
    let d = Daemon::nsqd(&[]);
    let out = tempfile::tempdir().unwrap();
    publish(
        &d,
        "rs",
        &["msg-0001", "msg-0002", "msg-0003", "msg-0004", "msg-0005"],
    );
    let mut u = to_file(
        &d,
        &[
            "--topic=rs",
            "--output-dir",
            &out.path().to_string_lossy(),
            "--rotate-size=10",
            "--sync-interval=50ms",
            "--max-in-flight=1",
        ],
    );
    wait_until("all finished", || {
        channel(&d, "rs", "nsq_to_file")["clients"][0]["finish_count"] == 5
    });
    u.signal("TERM");
    assert!(u.wait_exit(WAIT).success(), "{}", u.stderr_text());
    let f = files(out.path());
    let names: Vec<String> = f.iter().map(|p| name(p)).collect();
    assert_eq!(f.len(), 3, "{names:?}");
    for (i, n) in names.iter().enumerate() {
        assert!(n.contains(&format!("-{i:06}.")), "{names:?}");
    }
    assert_eq!(lines_in(&f, false).len(), 5);
}

#[test]
fn topic_pattern_discovers_topics_through_lookupd() {
    let d = Daemon::nsqd(&[]);
    for t in ["app1", "app2", "other"] {
        publish(&d, t, &[t]);
    }
    let lookupd = FakeLookupd::start(
        vec![(d.tcp(), d.http())],
        vec!["app1".into(), "app2".into(), "other".into()],
    );
    let out = tempfile::tempdir().unwrap();
    let mut u = Utility::spawn(
        "nsq_to_file",
        &s(&[
            "--lookupd-http-address",
            &lookupd.addr().to_string(),
            "--topic-pattern=^app",
            "--output-dir",
            &out.path().to_string_lossy(),
            "--sync-interval=50ms",
        ]),
        None,
    );
    wait_until("two topics written", || {
        files(out.path()).len() == 2 && lines_in(&files(out.path()), false).len() == 2
    });
    u.signal("TERM");
    assert!(u.wait_exit(WAIT).success(), "{}", u.stderr_text());
    let names: Vec<String> = files(out.path()).iter().map(|p| name(p)).collect();
    assert!(
        names[0].starts_with("app1.") && names[1].starts_with("app2."),
        "{names:?}"
    );
    assert_eq!(lines_in(&files(out.path()), false), vec!["app1", "app2"]);
}

#[test]
fn bad_flags_fail_clearly() {
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        (
            vec![
                "--topic=t",
                "--nsqd-tcp-address=x:1",
                "--gzip",
                "--filename-format=<TOPIC>.log",
            ],
            1,
            "missing <REV>",
        ),
        (
            vec!["--topic=t", "--nsqd-tcp-address=x:1", "extra"],
            1,
            "unknown arguments: [extra]",
        ),
        (
            vec!["--nsqd-tcp-address=x:1"],
            1,
            "--topic or --topic-pattern required",
        ),
        (
            vec!["--topic-pattern=a", "--nsqd-tcp-address=x:1"],
            1,
            "--lookupd-http-address must be specified",
        ),
        (
            vec!["--topic=t", "--nsqd-tcp-address=x:1", "--gzip-level=10"],
            1,
            "--gzip-level",
        ),
        (
            vec!["--topic=t", "--nsqd-tcp-address=x:1", "--log-level=loud"],
            1,
            "invalid log level",
        ),
        (vec!["--help"], 0, "Usage of nsqd:"),
    ];
    for (args, code, needle) in cases {
        let (status, _, err) = run_utility("nsq_to_file", &s(&args), None, WAIT);
        assert_eq!(status.code(), Some(code), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let (status, _, err) = run_utility(
        "nsq_to_file",
        &s(&[
            "--topic=t",
            &format!("--nsqd-tcp-address=127.0.0.1:{port}"),
            "--output-dir",
            &dir.path().to_string_lossy(),
        ]),
        None,
        WAIT,
    );
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.contains("cannot connect to nsqd"), "{err}");
    let (status, out, _) = run_utility("nsq_to_file", &s(&["--version"]), None, WAIT);
    assert!(status.success());
    assert_eq!(out, "nsq_to_file v1.3.0");
}
