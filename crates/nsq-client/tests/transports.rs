//! TLS, snappy and deflate against the real nsqd binary, with certificates
//! generated per test. Build the binaries first:
//! `cargo build --workspace --bins`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bytes::Bytes;
use nsq_client::{Config, ConnectError, Consumer, Delivery, Producer, PublishError};
use nsq_test_support::utility::{run_utility, Utility};
use nsq_test_support::{http_request, Daemon};

const WAIT: Duration = Duration::from_secs(20);

/// PEM files of a throwaway PKI.
struct Pki {
    _dir: tempfile::TempDir,
    ca: PathBuf,
    server_cert: PathBuf,
    server_key: PathBuf,
    client_cert: PathBuf,
    client_key: PathBuf,
}

fn params(cn: &str, sans: &[&str]) -> rcgen::CertificateParams {
    let names = sans.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let mut p = rcgen::CertificateParams::new(names).expect("valid SANs");
    p.distinguished_name = rcgen::DistinguishedName::new();
    p.distinguished_name.push(rcgen::DnType::CommonName, cn);
    p
}

/// A CA, a server certificate for `localhost`/`127.0.0.1` and a client
/// certificate, both signed by the CA.
fn pki() -> Pki {
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, pem: String| {
        let path = dir.path().join(name);
        std::fs::write(&path, pem).expect("write pem");
        path
    };
    let ca_key = rcgen::KeyPair::generate().expect("ca key");
    let mut ca_params = params("transport test CA", &[]);
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).expect("ca cert");
    let server_key = rcgen::KeyPair::generate().expect("server key");
    let server = params("nsqd.test", &["localhost", "127.0.0.1"])
        .signed_by(&server_key, &ca, &ca_key)
        .expect("server cert");
    let client_key = rcgen::KeyPair::generate().expect("client key");
    let client = params("client.test", &["client.test"])
        .signed_by(&client_key, &ca, &ca_key)
        .expect("client cert");
    Pki {
        ca: write("ca.pem", ca.pem()),
        server_cert: write("server.pem", server.pem()),
        server_key: write("server.key", server_key.serialize_pem()),
        client_cert: write("client.pem", client.pem()),
        client_key: write("client.key", client_key.serialize_pem()),
        _dir: dir,
    }
}

fn arg(flag: &str, path: &Path) -> String {
    format!("--{flag}={}", path.display())
}

/// nsqd with TLS configured (snappy and deflate are on by default); its
/// HTTPS listener goes to a free port too.
fn tls_nsqd(pki: &Pki, extra: &[&str]) -> Daemon {
    let mut args = vec![
        "--https-address=127.0.0.1:0".to_string(),
        arg("tls-cert", &pki.server_cert),
        arg("tls-key", &pki.server_key),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    Daemon::nsqd(&refs)
}

/// A config with go-nsq options applied through `Config::set_pair`.
fn config(opts: &[String]) -> Config {
    let mut c = Config {
        max_in_flight: 10,
        user_agent: "transport-test/1".into(),
        ..Config::default()
    };
    for opt in opts {
        c.set_pair(opt).expect("valid option");
    }
    c
}

fn tls_opts(pki: &Pki) -> Vec<String> {
    vec![
        "tls_v1".into(),
        format!("tls_root_ca_file,{}", pki.ca.display()),
    ]
}

/// Deterministic incompressible bytes.
fn noise(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Small, large compressible (several snappy chunks) and large
/// incompressible bodies.
fn bodies() -> Vec<Bytes> {
    let mut out: Vec<Bytes> = (0..20).map(|i| Bytes::from(format!("msg-{i}"))).collect();
    out.push(Bytes::from("abcdefgh".repeat(40_000)));
    out.push(Bytes::from(noise(150_000)));
    out
}

async fn recv(c: &Consumer) -> Delivery {
    tokio::time::timeout(WAIT, c.recv())
        .await
        .expect("a message within the time limit")
        .expect("consumer still running")
}

async fn stats(d: &Daemon, topic: &str) -> serde_json::Value {
    http_request(
        d.http(),
        "GET",
        &format!("/stats?format=json&topic={topic}"),
        b"",
    )
    .await
    .json()
}

/// The transport flags nsqd reports for one client.
fn flags(client: &serde_json::Value) -> (bool, bool, bool) {
    (
        client["tls"] == true,
        client["snappy"] == true,
        client["deflate"] == true,
    )
}

/// Checks `/stats` shows `want` (tls, snappy, deflate) for both the
/// producer and the consumer connection of `topic`.
async fn check_stats(d: &Daemon, topic: &str, want: (bool, bool, bool)) {
    let s = stats(d, topic).await;
    let Some(producers) = s["producers"].as_array() else {
        panic!("no producers in /stats: {s}")
    };
    assert_eq!(producers.len(), 1, "{s}");
    assert_eq!(flags(&producers[0]), want, "producer: {}", producers[0]);
    let client = &s["topics"][0]["channels"][0]["clients"][0];
    assert_eq!(flags(client), want, "consumer: {client}");
    if want.0 {
        let version = client["tls_version"].as_str().unwrap_or_default();
        assert!(version.starts_with("TLS1."), "{client}");
    }
}

/// Publishes [`bodies`] (PUB and MPUB) and consumes them back over the
/// transports `opts` ask for; with `want`, checks `/stats` while both
/// connections are open.
async fn round_trip(d: &Daemon, topic: &str, opts: &[String], want: Option<(bool, bool, bool)>) {
    let p = Producer::new(d.tcp().to_string(), config(opts));
    let sent = bodies();
    for b in &sent[..10] {
        p.publish(topic, b.clone()).await.expect("PUB");
    }
    p.multi_publish(topic, sent[10..].to_vec())
        .await
        .expect("MPUB");

    let c = Consumer::new(topic, "ch", config(opts)).expect("consumer");
    c.connect_to_nsqd(&d.tcp().to_string())
        .await
        .expect("consumer connects");
    let mut got = Vec::new();
    for _ in 0..sent.len() {
        let m = recv(&c).await;
        got.push(m.body().clone());
        m.finish();
    }
    let mut expected = sent.clone();
    expected.sort();
    got.sort();
    assert!(got == expected, "bodies differ over {opts:?}");

    if let Some(want) = want {
        check_stats(d, topic, want).await;
    }

    // The connections keep working after the /stats check.
    p.publish(topic, "last").await.expect("PUB after stats");
    let m = recv(&c).await;
    assert_eq!(m.body().as_ref(), b"last");
    m.finish();
    c.stop();
    tokio::time::timeout(WAIT, async { while c.recv().await.is_some() {} })
        .await
        .expect("consumer stops");
    p.stop().await;
}

fn with(mut base: Vec<String>, more: &[&str]) -> Vec<String> {
    base.extend(more.iter().map(|s| s.to_string()));
    base
}

#[tokio::test]
async fn tls_round_trip_verifies_the_server_with_the_test_ca() {
    let pki = pki();
    let d = tls_nsqd(&pki, &[]);
    round_trip(&d, "tls", &tls_opts(&pki), Some((true, false, false))).await;
}

#[tokio::test]
async fn snappy_round_trip() {
    let d = Daemon::nsqd(&[]);
    round_trip(&d, "snappy", &["snappy".into()], Some((false, true, false))).await;
}

#[tokio::test]
async fn deflate_round_trip_at_several_levels() {
    let d = Daemon::nsqd(&[]);
    round_trip(
        &d,
        "deflate",
        &["deflate".into()],
        Some((false, false, true)),
    )
    .await;
    let d = Daemon::nsqd(&["--max-deflate-level=3"]);
    let opts = ["deflate,true".to_string(), "deflate_level,9".to_string()];
    round_trip(&d, "deflate9", &opts, Some((false, false, true))).await;
}

#[tokio::test]
async fn tls_plus_snappy_round_trip() {
    let pki = pki();
    let d = tls_nsqd(&pki, &[]);
    let opts = with(tls_opts(&pki), &["snappy"]);
    round_trip(&d, "tls_snappy", &opts, Some((true, true, false))).await;
}

#[tokio::test]
async fn tls_plus_deflate_round_trip() {
    let pki = pki();
    let d = tls_nsqd(&pki, &[]);
    let opts = with(tls_opts(&pki), &["deflate", "deflate_level,9"]);
    round_trip(&d, "tls_deflate", &opts, Some((true, false, true))).await;
}

#[tokio::test]
async fn tls_with_client_certificate_and_min_version() {
    let pki = pki();
    let d = tls_nsqd(
        &pki,
        &[
            "--tls-client-auth-policy=require-verify",
            &arg("tls-root-ca-file", &pki.ca),
        ],
    );
    let opts = with(
        tls_opts(&pki),
        &[
            &format!("tls_cert,{}", pki.client_cert.display()),
            &format!("tls_key,{}", pki.client_key.display()),
            "tls_min_version,tls1.3",
        ],
    );
    // --tls-client-auth-policy forces --tls-required, so plain HTTP /stats is
    // refused; the round trip itself needs the verified client certificate.
    round_trip(&d, "mtls", &opts, None).await;
    let p = Producer::new(d.tcp().to_string(), config(&tls_opts(&pki)));
    let err = p.publish("mtls", "x").await;
    assert!(err.is_err(), "nsqd accepted a client without certificate");
}

#[tokio::test]
async fn untrusted_server_certificate_is_a_handshake_error() {
    let pki = pki();
    let d = tls_nsqd(&pki, &[]);
    // No tls_root_ca_file: the system store does not trust the test CA.
    let p = Producer::new(d.tcp().to_string(), config(&["tls_v1".into()]));
    let err = p.connect().await.unwrap_err();
    match &err {
        PublishError::Connect(ConnectError::TlsHandshake { .. }) => {}
        other => panic!("unexpected {other}"),
    }
    assert!(err.to_string().contains("tls_root_ca_file"), "{err}");
    // Skipping verification connects.
    let insecure = ["tls_v1".to_string(), "tls_insecure_skip_verify".to_string()];
    round_trip(&d, "insecure", &insecure, Some((true, false, false))).await;
}

#[tokio::test]
async fn tls_requested_from_nsqd_without_tls_continues_in_plaintext() {
    let pki = pki();
    let d = Daemon::nsqd(&[]);
    round_trip(&d, "plain", &tls_opts(&pki), Some((false, false, false))).await;
}

#[tokio::test]
async fn snappy_and_deflate_together_are_refused_by_nsqd() {
    let d = Daemon::nsqd(&[]);
    let opts = ["snappy".to_string(), "deflate".to_string()];
    let p = Producer::new(d.tcp().to_string(), config(&opts));
    let err = p.connect().await.unwrap_err().to_string();
    assert!(err.contains("E_IDENTIFY_FAILED"), "{err}");
}

#[tokio::test]
async fn unreadable_tls_files_fail_before_connecting() {
    let mut c = config(&["tls_v1".into()]);
    c.tls.root_ca_file = "/nonexistent/ca.pem".into();
    // Nothing listens here: the TLS options are checked before dialing.
    let p = Producer::new("127.0.0.1:1", c);
    let err = p.connect().await.unwrap_err();
    assert!(
        matches!(&err, PublishError::Connect(ConnectError::TlsSetup { .. })),
        "{err}"
    );
    assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn to_nsq_and_nsq_tail_over_tls() {
    let pki = pki();
    let d = tls_nsqd(&pki, &[]);
    let addr = d.tcp().to_string();
    let ca = format!("tls_root_ca_file,{}", pki.ca.display());
    let tail_args: Vec<String> = [
        "--topic=utl",
        "--nsqd-tcp-address",
        &addr,
        "-n",
        "2",
        "--consumer-opt=tls_v1,true",
        &format!("--consumer-opt={ca}"),
        "--consumer-opt=snappy",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut tail = Utility::spawn("nsq_tail", &tail_args, None);
    assert!(
        tail.wait_for_stderr("connected to nsqd", WAIT),
        "nsq_tail did not connect: {}",
        tail.stderr_text()
    );
    let s = stats(&d, "utl").await;
    let client = &s["topics"][0]["channels"][0]["clients"][0];
    assert_eq!(flags(client), (true, true, false), "{client}");

    let pub_args: Vec<String> = [
        "--topic=utl",
        "--nsqd-tcp-address",
        &addr,
        "--producer-opt=tls_v1",
        &format!("--producer-opt={ca}"),
        "--producer-opt=deflate",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let (status, _, err) = run_utility("to_nsq", &pub_args, Some(b"first\nsecond\n"), WAIT);
    assert!(status.success(), "to_nsq failed: {err}");
    assert!(
        tail.wait_for_stdout_lines(2, WAIT),
        "{:?}",
        tail.stdout_lines()
    );
    assert!(tail.wait_exit(WAIT).success(), "{}", tail.stderr_text());
    let mut lines = tail.stdout_lines();
    lines.sort();
    assert_eq!(lines, vec!["first", "second"]);

    // A bad CA file is reported when the option is parsed.
    let bad: Vec<String> = [
        "--topic=utl",
        "--nsqd-tcp-address",
        &addr,
        "--producer-opt=tls_root_ca_file,/nonexistent/ca.pem",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let started = Instant::now();
    let (status, _, err) = run_utility("to_nsq", &bad, Some(b"x\n"), WAIT);
    assert!(!status.success(), "to_nsq accepted a missing CA file");
    assert!(err.contains("/nonexistent/ca.pem"), "{err}");
    assert!(started.elapsed() < WAIT);
}
