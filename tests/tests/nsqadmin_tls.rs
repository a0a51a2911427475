//! nsqadmin reaching an nsqd that requires TLS (`--tls-required=true`):
//! its plain-HTTP answer `403 {"message": "TLS_REQUIRED", "https_port": N}`
//! is followed to `https://<host>:N`, verified with
//! `--http-client-tls-root-ca-file` (nsqd-http.md §1.6, nsqadmin.md §1).

mod nsqd_secure_common;

use nsq_test_support::cluster::nsqadmin;
use nsq_test_support::http::http_request_with_headers;
use nsq_test_support::{http_request, Daemon, HttpResponse};
use nsqd_secure_common::{flag, https_addr, https_request, nsqd_tls, pki, Pki};
use std::net::SocketAddr;
use std::path::PathBuf;

async fn get(addr: SocketAddr, target: &str) -> HttpResponse {
    http_request(addr, "GET", target, b"").await
}

/// nsqd with the test PKI's certificate, an HTTPS listener and plain HTTP
/// refused; topic `secure` holds `messages` messages. Returns nsqd and its
/// HTTPS address.
async fn tls_only_nsqd(pki: &Pki, messages: usize) -> (Daemon, SocketAddr) {
    let nsqd = nsqd_tls(pki, &["--tls-required=true"]);
    let https = https_addr(&nsqd);
    let plain = get(nsqd.http(), "/info").await;
    assert_eq!(plain.status, 403, "{}", plain.text());
    assert_eq!(plain.json()["message"], "TLS_REQUIRED", "{}", plain.text());
    assert_eq!(plain.json()["https_port"], https.port(), "{}", plain.text());
    for i in 0..messages {
        let r = https_request(
            pki,
            https,
            "POST",
            "/pub?topic=secure",
            format!("m{i}").as_bytes(),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text());
    }
    (nsqd, https)
}

/// A CA certificate (PEM) unrelated to the test PKI, written to `dir`.
fn unrelated_ca(dir: &std::path::Path) -> PathBuf {
    let key = rcgen::KeyPair::generate().expect("CA key");
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "somebody else's CA");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    let cert = params.self_signed(&key).expect("CA certificate");
    let path = dir.join("other-ca.pem");
    std::fs::write(&path, cert.pem()).expect("write CA");
    path
}

#[tokio::test]
async fn nodes_and_topic_follow_tls_required_to_https() {
    let pki = pki();
    let (nsqd, https) = tls_only_nsqd(&pki, 3).await;
    let admin = nsqadmin(&[
        format!("--nsqd-http-address={}", nsqd.http()),
        flag("http-client-tls-root-ca-file", &pki.ca_cert),
    ]);

    let nodes = get(admin.http(), "/api/nodes").await;
    assert_eq!(nodes.status, 200, "{}", nodes.text());
    let body = nodes.json();
    assert_eq!(body["message"], "", "{}", nodes.text());
    let list = body["nodes"].as_array().expect("nodes array");
    assert_eq!(list.len(), 1, "{}", nodes.text());
    assert_eq!(list[0]["http_port"], nsqd.http().port(), "{}", nodes.text());
    assert!(
        list[0]["topics"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t["topic"] == "secure")),
        "{}",
        nodes.text()
    );

    let topic = get(admin.http(), "/api/topics/secure").await;
    assert_eq!(topic.status, 200, "{}", topic.text());
    let t = topic.json();
    assert_eq!(t["message"], "", "{}", topic.text());
    assert_eq!(t["topic_name"], "secure", "{}", topic.text());
    assert_eq!(t["depth"], 3, "{}", topic.text());
    assert_eq!(t["message_count"], 3, "{}", topic.text());
    assert_eq!(
        t["nodes"].as_array().map(Vec::len),
        Some(1),
        "{}",
        topic.text()
    );

    // Admin actions (POST) take the same detour.
    let r = http_request_with_headers(
        admin.http(),
        "POST",
        "/api/topics/secure",
        &[("Content-Type", "application/json")],
        br#"{"action":"pause"}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let stats = https_request(&pki, https, "GET", "/stats?format=json&topic=secure", b"").await;
    assert_eq!(
        stats.json()["topics"][0]["paused"],
        true,
        "{}",
        stats.text()
    );
}

#[tokio::test]
async fn untrusted_certificate_is_reported_as_the_upstream_error() {
    let pki = pki();
    let (nsqd, https) = tls_only_nsqd(&pki, 1).await;
    let other_ca = unrelated_ca(pki.dir.path());
    let admin = nsqadmin(&[
        format!("--nsqd-http-address={}", nsqd.http()),
        flag("http-client-tls-root-ca-file", &other_ca),
    ]);
    let expected = format!(
        "Get \"https://{https}/info\": tls: failed to verify certificate: x509: \
         certificate signed by unknown authority"
    );

    let nodes = get(admin.http(), "/api/nodes").await;
    let msg = nodes.json()["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(msg.contains(&expected), "{} {}", nodes.status, nodes.text());
    assert_eq!(nodes.status, 502, "{}", nodes.text());

    let topic = get(admin.http(), "/api/topics/secure").await;
    let msg = topic.json()["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        msg.contains("certificate signed by unknown authority") && msg.contains("https://"),
        "{} {}",
        topic.status,
        topic.text()
    );
}

#[tokio::test]
async fn insecure_skip_verify_needs_no_root_ca() {
    let pki = pki();
    let (nsqd, _https) = tls_only_nsqd(&pki, 2).await;
    let admin = nsqadmin(&[
        format!("--nsqd-http-address={}", nsqd.http()),
        "--http-client-tls-insecure-skip-verify=true".to_string(),
    ]);
    let topic = get(admin.http(), "/api/topics/secure").await;
    assert_eq!(topic.status, 200, "{}", topic.text());
    assert_eq!(topic.json()["depth"], 2, "{}", topic.text());
}

#[tokio::test]
async fn unreadable_root_ca_file_is_fatal_at_start() {
    let out = std::process::Command::new(nsq_test_support::daemon::binary_path("nsqadmin"))
        .args([
            "--http-address=127.0.0.1:0",
            "--nsqd-http-address=127.0.0.1:4151",
            "--http-client-tls-root-ca-file=/nonexistent/ca.pem",
        ])
        .output()
        .expect("run nsqadmin");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "failed to instantiate nsqadmin - failed to load the --http-client-tls-* settings"
        ),
        "{stderr}"
    );
}
