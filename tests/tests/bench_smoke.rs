//! Smoke test for the benchmark tools (`nsq_bench`), so they cannot rot:
//! the writer, reader and latency modes run for about a second against a
//! real nsqd, and the writer and reader also against `nsq_bench null-server`;
//! every printed result line must parse and count something.
//!
//! Needs the binaries: `cargo build --workspace --bins`.

use nsq_test_support::daemon::{binary_path, Daemon};
use std::process::Command;

/// Runs `nsq_bench` with `args`, asserts success, returns stdout.
fn nsq_bench(args: &[String]) -> String {
    let out = Command::new(binary_path("nsq_bench"))
        .args(args)
        .output()
        .expect("run nsq_bench");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "nsq_bench {args:?} failed ({}):\nstdout: {stdout}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// The fields of `duration: <d> - <X>mb/s - <Y>ops/s - <Z>us/op`.
#[derive(Debug)]
struct BenchLine {
    seconds: f64,
    mb_per_s: f64,
    ops_per_s: f64,
    us_per_op: f64,
}

fn parse_line(stdout: &str, prefix: &str) -> BenchLine {
    let line = stdout
        .lines()
        .find(|l| l.starts_with(prefix) && l.contains("duration: "))
        .unwrap_or_else(|| panic!("no `{prefix} duration:` line in {stdout:?}"));
    let rest = &line[line.find("duration: ").unwrap() + "duration: ".len()..];
    let parts: Vec<&str> = rest.split(" - ").collect();
    assert_eq!(parts.len(), 4, "unexpected result line {line:?}");
    let num = |text: &str, suffix: &str| -> f64 {
        text.strip_suffix(suffix)
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("cannot parse {text:?} (want <n>{suffix}) in {line:?}"))
    };
    let seconds = if let Some(ms) = parts[0].strip_suffix("ms") {
        ms.parse::<f64>().expect("duration in ms") / 1000.0
    } else {
        num(parts[0], "s")
    };
    BenchLine {
        seconds,
        mb_per_s: num(parts[1], "mb/s"),
        ops_per_s: num(parts[2], "ops/s"),
        us_per_op: num(parts[3], "us/op"),
    }
}

fn check_counts(line: &BenchLine, what: &str) {
    assert!(line.seconds > 0.5, "{what}: {line:?}");
    assert!(line.ops_per_s > 0.0, "{what} counted nothing: {line:?}");
    assert!(line.mb_per_s > 0.0, "{what}: {line:?}");
    assert!(line.us_per_op > 0.0, "{what}: {line:?}");
}

#[test]
fn writer_reader_and_latency_against_nsqd() {
    let nsqd = Daemon::nsqd(&[]);
    let addr = format!("--nsqd-tcp-address={}", nsqd.tcp());

    let out = nsq_bench(&args(&[
        "writer",
        &addr,
        "--runfor=1s",
        "--topic=bench_smoke",
        "--size=100",
        "--batch-size=20",
        "--connections=2",
        "--ack-latency",
    ]));
    let pub_line = parse_line(&out, "[bench_writer]");
    check_counts(&pub_line, "writer");
    assert!(
        out.contains("ack latency:") && out.contains("p99.9:"),
        "{out}"
    );

    // The topic kept what was published; the new channel receives it.
    let out = nsq_bench(&args(&[
        "reader",
        &addr,
        "--runfor=1s",
        "--topic=bench_smoke",
        "--channel=ch",
        "--size=100",
        "--rdy=100",
    ]));
    check_counts(&parse_line(&out, "[bench_reader]"), "reader");

    let out = nsq_bench(&args(&[
        "latency",
        &addr,
        "--runfor=1s",
        "--rate=500",
        "--topic=bench_smoke_latency",
    ]));
    let line = out
        .lines()
        .find(|l| l.starts_with("[bench_latency]"))
        .unwrap_or_else(|| panic!("no latency line in {out:?}"));
    for field in ["p50: ", "p90: ", "p99: ", "p99.9: ", "max: "] {
        let at = line
            .find(field)
            .unwrap_or_else(|| panic!("no {field} in {line}"));
        let value = &line[at + field.len()..];
        let ms: f64 = value
            .split("ms")
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("cannot parse {field} in {line}"));
        assert!(ms > 0.0, "{field} is zero: {line}");
    }
    let received: u64 = line
        .split("received: ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no received count in {line}"));
    assert!(received > 100, "{line}");
}

#[test]
fn writer_and_reader_against_the_null_server() {
    let server = Daemon::start(
        "nsq_bench",
        &args(&[
            "null-server",
            "--tcp-address=127.0.0.1:0",
            "--max-lifetime=60s",
        ]),
        &["TCP"],
    );
    let addr = format!("--nsqd-tcp-address={}", server.tcp());
    let out = nsq_bench(&args(&["writer", &addr, "--runfor=1s", "--connections=2"]));
    check_counts(&parse_line(&out, "[bench_writer]"), "writer");
    let out = nsq_bench(&args(&["reader", &addr, "--runfor=1s", "--connections=2"]));
    check_counts(&parse_line(&out, "[bench_reader]"), "reader");
}
