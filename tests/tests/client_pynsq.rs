//! The official Python client `pynsq` (Writer and Reader) against the real nsqd binary.
//!
//! The interpreter comes from `target/pyenv` (made by the test command, see
//! README) or from `NSQ_TEST_PYTHON`.

use nsq_test_support::Daemon;
use std::path::PathBuf;
use std::process::Command;

fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("NSQ_TEST_PYTHON") {
        return PathBuf::from(p);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let p = root.join("target/pyenv/bin/python");
    assert!(
        p.exists(),
        "{} missing: run `scripts/test` (it installs pynsq 0.9.1 and tornado 6.0.4 there)",
        p.display()
    );
    p
}

#[test]
fn pynsq_writer_and_reader_round_trip() {
    let d = Daemon::nsqd(&[]);
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("python/pynsq_roundtrip.py");
    let out = Command::new(python())
        .arg(script)
        .arg(d.tcp().to_string())
        .arg("pynsq_topic")
        .arg("20")
        .output()
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "pynsq script failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout.lines().last().expect("a JSON line");
    let v: serde_json::Value = serde_json::from_str(line).expect("JSON result");
    assert_eq!(v["published"], 20, "{v}");
    assert_eq!(v["errors"], serde_json::json!([]));
    let mut received: Vec<String> = v["received"]
        .as_array()
        .expect("received list")
        .iter()
        .map(|b| b.as_str().unwrap_or_default().to_string())
        .collect();
    received.sort();
    let mut want: Vec<String> = (0..20).map(|i| format!("msg-{i}")).collect();
    want.sort();
    assert_eq!(received, want);
    assert!(v["attempts"].as_array().unwrap().iter().all(|a| a == 1));
}
