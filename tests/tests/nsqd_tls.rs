//! nsqd's TLS, black-box: the in-protocol upgrade after IDENTIFY
//! (nsqd-tcp.md §5.1, §7), `--tls-required` on TCP and on the plain HTTP
//! listener (nsqd-tcp.md §4, nsqd-http.md §1.6), the HTTPS listener,
//! client certificates (`--tls-client-auth-policy`), `--tls-min-version`,
//! certificate reload on SIGHUP, and the tokio-nsq and pynsq clients over
//! TLS. Certificates are generated per test.

mod nsqd_secure_common;

use nsq_protocol::Command;
use nsq_test_support::{http_request, Daemon};
use nsq_transport::rustls;
use nsqd_secure_common::*;
use serde_json::json;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

const NSQ_HEADER: &str = "X-Nsq-Content-Type";
const NSQ_V1: &str = "nsq; version=1.0";
const JSON_TYPE: &str = "application/json; charset=utf-8";

fn tls_identify(client_id: &str) -> serde_json::Value {
    json!({"client_id": client_id, "hostname": "h", "feature_negotiation": true, "tls_v1": true})
}

#[tokio::test]
async fn tls_is_not_granted_without_a_certificate() {
    let d = Daemon::nsqd(&[]);
    let mut n = negotiate_ok(d.tcp(), tls_identify("no-cert"), None).await;
    assert_eq!(n.json["tls_v1"], false, "{}", n.json);
    assert!(n.tls.is_none());
    // The connection simply stays in plaintext.
    n.conn.publish("plain", b"still plaintext").await;
}

#[tokio::test]
async fn raw_tls_upgrade_sequence_then_pub_sub() {
    let pki = pki();
    let d = nsqd_tls(&pki, &[]);

    // Producer: server verified under its DNS name.
    let mut prod = negotiate_ok(
        d.tcp(),
        tls_identify("tls-prod"),
        Some((client_tls(&pki, None), "localhost")),
    )
    .await;
    let text = String::from_utf8_lossy(&prod.raw).into_owned();
    assert!(
        text.contains(r#""tls_v1":true,"deflate":false,"deflate_level":6,"max_deflate_level":6,"snappy":false,"#),
        "IDENTIFY response (plaintext, before the handshake): {text}"
    );
    let info = prod.tls.clone().expect("TLS session");
    assert_eq!(info.peer_common_name.as_deref(), Some("nsqd-one"));
    assert!(
        info.version == "TLS1.2" || info.version == "TLS1.3",
        "{info:?}"
    );

    // Consumer: server verified under its IP address.
    let mut cons = negotiate_ok(
        d.tcp(),
        tls_identify("tls-cons"),
        Some((client_tls(&pki, None), "127.0.0.1")),
    )
    .await;
    assert!(cons.tls.is_some());
    cons.conn.subscribe("secure", "c", 10).await;

    let bodies = vec![
        b"one".to_vec(),
        text_body("two", 5000),
        random_body(100_000, 7),
    ];
    round_trip(&mut prod.conn, &mut cons.conn, "secure", &bodies).await;

    // A plaintext client on the same nsqd (TLS not required).
    let mut plain = negotiate_ok(
        d.tcp(),
        json!({"client_id": "plain-prod", "feature_negotiation": true}),
        None,
    )
    .await;
    plain.conn.publish("secure", b"plain").await;

    let s = stats(d.http()).await;
    let p = client_by_id(&s, "tls-prod").unwrap_or_else(|| panic!("tls-prod in {s}"));
    assert_eq!(p["tls"], true, "{p}");
    assert_eq!(p["tls_version"], info.version.as_str(), "{p}");
    assert_eq!(p["tls_cipher_suite"], info.cipher_suite.as_str(), "{p}");
    assert_ne!(p["tls_cipher_suite"], "", "{p}");
    assert_eq!(p["snappy"], false, "{p}");
    assert_eq!(p["deflate"], false, "{p}");
    let c = client_by_id(&s, "tls-cons").unwrap_or_else(|| panic!("tls-cons in {s}"));
    assert_eq!(c["tls"], true, "{c}");
    let q = client_by_id(&s, "plain-prod").unwrap_or_else(|| panic!("plain-prod in {s}"));
    assert_eq!(q["tls"], false, "{q}");
    assert_eq!(q["tls_version"], "", "{q}");
    assert_eq!(q["tls_cipher_suite"], "", "{q}");
}

#[tokio::test]
async fn garbage_instead_of_a_tls_handshake_fails_identify() {
    let pki = pki();
    let d = nsqd_tls(&pki, &[]);
    let (mut tcp, reply) = raw_identify(d.tcp(), &tls_identify("garbage")).await;
    let v: serde_json::Value = serde_json::from_slice(&reply).expect("JSON reply");
    assert_eq!(v["tls_v1"], true);
    tcp.write_all(b"GARBAGE, NOT A TLS CLIENT HELLO\n")
        .await
        .expect("write garbage");
    let (data, _) = read_until_closed(&mut tcp, TIMEOUT).await;
    assert!(
        contains(&data, b"E_IDENTIFY_FAILED IDENTIFY failed"),
        "expected an E_IDENTIFY_FAILED frame before the close, got {:?}",
        String::from_utf8_lossy(&data)
    );
    // nsqd is unaffected.
    let mut ok = negotiate_ok(
        d.tcp(),
        tls_identify("after"),
        Some((client_tls(&pki, None), "localhost")),
    )
    .await;
    ok.conn.publish("t", b"x").await;
}

#[tokio::test]
async fn silent_client_hits_the_tls_handshake_deadline() {
    let pki = pki();
    let d = nsqd_tls(&pki, &[]);
    let (mut tcp, _) = raw_identify(d.tcp(), &tls_identify("silent")).await;
    // Send nothing: nsqd gives up on the handshake after 5 s.
    let (data, took) = read_until_closed(&mut tcp, Duration::from_secs(15)).await;
    assert!(
        took >= Duration::from_millis(4500),
        "closed after only {took:?}"
    );
    let mut r = &data[..];
    let (frame_type, payload) = read_raw_frame(&mut r)
        .await
        .unwrap_or_else(|e| panic!("expected an error frame before the close ({e}): {data:?}"));
    assert_eq!(frame_type, 1, "{:?}", String::from_utf8_lossy(&payload));
    assert!(
        payload.starts_with(b"E_IDENTIFY_FAILED IDENTIFY failed "),
        "{:?}",
        String::from_utf8_lossy(&payload)
    );
}

#[tokio::test]
async fn tls_required_refuses_every_command_but_identify_until_upgraded() {
    let pki = pki();
    let d = nsqd_tls(&pki, &["--tls-required"]);

    // Each refusal is fatal, so every case uses a fresh connection.
    let cases: Vec<(Command, &str)> = vec![
        (
            Command::Pub {
                topic: "t".into(),
                body: bytes::Bytes::from_static(b"x"),
            },
            "E_INVALID cannot PUB in current state (TLS required)",
        ),
        (
            Command::Nop,
            "E_INVALID cannot NOP in current state (TLS required)",
        ),
        (
            Command::Sub {
                topic: "t".into(),
                channel: "c".into(),
            },
            "E_INVALID cannot SUB in current state (TLS required)",
        ),
        (
            Command::Auth(bytes::Bytes::from_static(b"secret")),
            "E_INVALID cannot AUTH in current state (TLS required)",
        ),
    ];
    for (cmd, want) in cases {
        let mut c = Layered::connect(d.tcp()).await;
        c.send(cmd).await;
        c.expect_fatal(want).await;
    }

    // An unknown command is refused the same way, named by its first token.
    let mut c = Layered::connect(d.tcp()).await;
    c.send_raw(b"FOO bar\n").await;
    c.expect_fatal("E_INVALID cannot FOO in current state (TLS required)")
        .await;

    // IDENTIFY is allowed; without tls_v1 the connection stays plaintext
    // and PUB is still refused.
    let mut n = negotiate_ok(
        d.tcp(),
        json!({"client_id": "no-tls", "feature_negotiation": true}),
        None,
    )
    .await;
    assert_eq!(n.json["tls_v1"], false);
    n.conn
        .send(Command::Pub {
            topic: "t".into(),
            body: bytes::Bytes::from_static(b"x"),
        })
        .await;
    n.conn
        .expect_fatal("E_INVALID cannot PUB in current state (TLS required)")
        .await;

    // After the upgrade everything works.
    let mut prod = negotiate_ok(
        d.tcp(),
        tls_identify("p"),
        Some((client_tls(&pki, None), "localhost")),
    )
    .await;
    let mut cons = negotiate_ok(
        d.tcp(),
        tls_identify("c"),
        Some((client_tls(&pki, None), "localhost")),
    )
    .await;
    cons.conn.subscribe("t", "c", 1).await;
    round_trip(
        &mut prod.conn,
        &mut cons.conn,
        "t",
        &[b"after upgrade".to_vec()],
    )
    .await;
    prod.conn.send(Command::Nop).await;
    prod.conn.publish("t", b"after NOP").await;
}

#[tokio::test]
async fn tls_required_plain_http_listener_answers_403_with_the_https_port() {
    let pki = pki();
    let d = nsqd_tls(&pki, &["--tls-required=true"]);
    let https = https_addr(&d);
    let want_body = format!(
        r#"{{"message": "TLS_REQUIRED", "https_port": {}}}"#,
        https.port()
    );

    for (method, target) in [
        ("GET", "/ping"),
        ("GET", "/stats?format=json"),
        ("GET", "/no/such/path"),
        ("POST", "/pub?topic=t"),
        ("POST", "/topic/create?topic=t"),
    ] {
        let r = http_request(d.http(), method, target, b"body").await;
        assert_eq!(r.status, 403, "{method} {target}: {}", r.text());
        assert_eq!(r.text(), want_body, "{method} {target}");
        assert_eq!(
            r.header("Content-Type"),
            Some(JSON_TYPE),
            "{method} {target}"
        );
        assert_eq!(r.header(NSQ_HEADER), Some(NSQ_V1), "{method} {target}");
    }

    // The HTTPS listener serves the API.
    let r = https_request(&pki, https, "GET", "/ping", b"").await;
    assert_eq!((r.status, r.text().as_str()), (200, "OK"));
    let r = https_request(&pki, https, "POST", "/pub?topic=over_https", b"hello").await;
    assert_eq!((r.status, r.text().as_str()), (200, "OK"));
    let r = https_request(&pki, https, "GET", "/stats?format=json", b"").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let s = r.json();
    let topic = s["topics"]
        .as_array()
        .and_then(|ts| ts.iter().find(|t| t["topic_name"] == "over_https"))
        .unwrap_or_else(|| panic!("topic over_https in {s}"));
    assert_eq!(topic["message_count"], 1);
}

#[tokio::test]
async fn tls_required_tcp_https_leaves_the_plain_http_listener_open() {
    let pki = pki();
    let d = nsqd_tls(&pki, &["--tls-required=tcp-https"]);
    let r = http_request(d.http(), "GET", "/ping", b"").await;
    assert_eq!((r.status, r.text().as_str()), (200, "OK"));
    let r = http_request(d.http(), "POST", "/pub?topic=t", b"via http").await;
    assert_eq!((r.status, r.text().as_str()), (200, "OK"));

    // TCP still requires TLS.
    let mut c = Layered::connect(d.tcp()).await;
    c.send(Command::Pub {
        topic: "t".into(),
        body: bytes::Bytes::from_static(b"x"),
    })
    .await;
    c.expect_fatal("E_INVALID cannot PUB in current state (TLS required)")
        .await;
    let mut ok = negotiate_ok(
        d.tcp(),
        tls_identify("p"),
        Some((client_tls(&pki, None), "localhost")),
    )
    .await;
    ok.conn.publish("t", b"x").await;
}

#[tokio::test]
async fn https_listener_serves_the_same_routes() {
    let pki = pki();
    let d = nsqd_tls(&pki, &[]);
    let https = https_addr(&d);

    let (tls, cn) = https_connect(client_tls(&pki, None), https)
        .await
        .expect("TLS handshake with the HTTPS listener");
    assert_eq!(cn.as_deref(), Some("nsqd-one"));
    let r = http_on(tls, "localhost", "GET", "/ping", b"").await;
    assert_eq!((r.status, r.text().as_str()), (200, "OK"));

    let r = https_request(&pki, https, "GET", "/info", b"").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let info = r.json();
    assert_eq!(info["tcp_port"], d.tcp().port());
    assert_eq!(info["http_port"], d.http().port());
    assert_eq!(r.header(NSQ_HEADER), Some(NSQ_V1));

    // Without --tls-required the plain listener answers normally.
    let r = http_request(d.http(), "GET", "/ping", b"").await;
    assert_eq!((r.status, r.text().as_str()), (200, "OK"));
}

#[tokio::test]
async fn client_certificates_with_require_verify() {
    let pki = pki();
    let ca = flag("tls-root-ca-file", &pki.ca_cert);
    let d = nsqd_tls(&pki, &[&ca, "--tls-client-auth-policy=require-verify"]);

    // Signed by the CA: accepted.
    let good = client_tls(&pki, Some((&pki.client_cert, &pki.client_key)));
    let mut n = negotiate_ok(
        d.tcp(),
        tls_identify("good-cert"),
        Some((good.clone(), "localhost")),
    )
    .await;
    n.conn.publish("certs", b"from a verified client").await;

    // From another CA: rejected.
    let rogue = client_tls(&pki, Some((&pki.rogue_cert, &pki.rogue_key)));
    match negotiate(
        d.tcp(),
        tls_identify("rogue-cert"),
        Some((rogue.clone(), "localhost")),
    )
    .await
    {
        Err(NegotiateError::Handshake(_)) | Err(NegotiateError::NoOk { stage: "TLS", .. }) => {}
        Err(e) => panic!("rogue certificate: unexpected failure {e:?}"),
        Ok(_) => panic!("a client certificate from an unrelated CA was accepted"),
    }

    // No certificate at all: rejected.
    match negotiate(
        d.tcp(),
        tls_identify("no-cert"),
        Some((client_tls(&pki, None), "localhost")),
    )
    .await
    {
        Err(NegotiateError::Handshake(_)) | Err(NegotiateError::NoOk { stage: "TLS", .. }) => {}
        Err(e) => panic!("missing certificate: unexpected failure {e:?}"),
        Ok(_) => panic!("a client without a certificate was accepted"),
    }

    // A client-auth policy implies --tls-required.
    let mut plain = Layered::connect(d.tcp()).await;
    plain
        .send(Command::Pub {
            topic: "certs".into(),
            body: bytes::Bytes::from_static(b"x"),
        })
        .await;
    plain
        .expect_fatal("E_INVALID cannot PUB in current state (TLS required)")
        .await;

    // The HTTPS listener asks for the same client certificates.
    let https = https_addr(&d);
    let r = try_https(good.clone(), https, "GET", "/ping")
        .await
        .expect("HTTPS with a verified client certificate");
    assert_eq!((r.status, r.text().as_str()), (200, "OK"));
    let refused = try_https(rogue, https, "GET", "/ping").await;
    assert!(
        refused.is_err(),
        "HTTPS with a rogue certificate: {refused:?}"
    );
    let refused = try_https(client_tls(&pki, None), https, "GET", "/ping").await;
    assert!(refused.is_err(), "HTTPS without a certificate: {refused:?}");

    // Still serving verified clients after the rejections.
    let mut again = negotiate_ok(
        d.tcp(),
        tls_identify("good-again"),
        Some((good, "localhost")),
    )
    .await;
    again.conn.publish("certs", b"again").await;
}

#[tokio::test]
async fn client_certificates_with_require_accept_any_certificate() {
    let pki = pki();
    let d = nsqd_tls(&pki, &["--tls-client-auth-policy=require"]);

    // Not verified against any CA, but one must be presented.
    let rogue = client_tls(&pki, Some((&pki.rogue_cert, &pki.rogue_key)));
    let mut n = negotiate_ok(
        d.tcp(),
        tls_identify("rogue-ok"),
        Some((rogue, "localhost")),
    )
    .await;
    n.conn.publish("any", b"x").await;

    match negotiate(
        d.tcp(),
        tls_identify("no-cert"),
        Some((client_tls(&pki, None), "localhost")),
    )
    .await
    {
        Err(NegotiateError::Handshake(_)) | Err(NegotiateError::NoOk { stage: "TLS", .. }) => {}
        Err(e) => panic!("missing certificate: unexpected failure {e:?}"),
        Ok(_) => panic!("a client without a certificate was accepted"),
    }
}

#[tokio::test]
async fn tls_min_version_tls13_refuses_tls12_clients() {
    let pki = pki();
    let d = nsqd_tls(&pki, &["--tls-min-version=tls1.3"]);

    let only12 = client_tls_only(&pki, &rustls::version::TLS12);
    match negotiate(d.tcp(), tls_identify("tls12"), Some((only12, "localhost"))).await {
        Err(NegotiateError::Handshake(_)) | Err(NegotiateError::NoOk { stage: "TLS", .. }) => {}
        Err(e) => panic!("TLS 1.2 client: unexpected failure {e:?}"),
        Ok(_) => panic!("a TLS 1.2 client was accepted with --tls-min-version=tls1.3"),
    }

    let only13 = client_tls_only(&pki, &rustls::version::TLS13);
    let mut n = negotiate_ok(d.tcp(), tls_identify("tls13"), Some((only13, "localhost"))).await;
    n.conn.publish("v13", b"x").await;
    let info = n.tls.clone().expect("TLS session");
    assert_eq!(info.version, "TLS1.3");
    let s = stats(d.http()).await;
    let c = client_by_id(&s, "tls13").unwrap_or_else(|| panic!("tls13 in {s}"));
    assert_eq!(c["tls_version"], "TLS1.3", "{c}");
    let suite = c["tls_cipher_suite"].as_str().unwrap_or_default();
    let id = suite
        .strip_prefix("Unknown ")
        .unwrap_or_else(|| panic!("{c}"));
    assert!(
        id.parse::<u16>().is_ok(),
        "TLS 1.3 suites print as `Unknown <id>`: {c}"
    );
    assert_eq!(suite, info.cipher_suite);
}

#[tokio::test]
async fn tls12_sessions_report_cipher_suites_by_nsqd_table() {
    use rustls::crypto::ring::cipher_suite as cs;
    let pki = pki();
    let d = nsqd_tls(&pki, &[]);
    // The certificates are ECDSA keys. nsqd v1.3.0 names only the suites
    // of its own table (ECDHE_ECDSA AES-128-GCM is in it, AES-256-GCM is
    // not and prints as `Unknown 49196`).
    for (suite, id, want) in [
        (
            cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            "tls12-aes128",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        ),
        (
            cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            "tls12-aes256",
            "Unknown 49196",
        ),
    ] {
        let cfg = client_tls_with_suite(&pki, suite);
        let mut n = negotiate_ok(d.tcp(), tls_identify(id), Some((cfg, "localhost"))).await;
        n.conn.publish("v12", b"x").await;
        assert_eq!(n.tls.as_ref().map(|i| i.version.as_str()), Some("TLS1.2"));
        let s = stats(d.http()).await;
        let c = client_by_id(&s, id).unwrap_or_else(|| panic!("{id} in {s}"));
        assert_eq!(c["tls"], true, "{c}");
        assert_eq!(c["tls_version"], "TLS1.2", "{c}");
        assert_eq!(c["tls_cipher_suite"], want, "{c}");
    }
}

#[tokio::test]
async fn sighup_reloads_the_certificate_and_keeps_existing_connections() {
    let pki = pki();
    let files = tempfile::tempdir().expect("temp dir");
    let cert = files.path().join("cert.pem");
    let key = files.path().join("key.pem");
    std::fs::copy(&pki.server_cert, &cert).expect("copy cert");
    std::fs::copy(&pki.server_key, &key).expect("copy key");
    let d = Daemon::nsqd(&[
        &flag("tls-cert", &cert),
        &flag("tls-key", &key),
        "--https-address=127.0.0.1:0",
    ]);
    let https = https_addr(&d);

    let mut old = negotiate_ok(
        d.tcp(),
        tls_identify("old"),
        Some((client_tls(&pki, None), "localhost")),
    )
    .await;
    assert_eq!(
        old.tls.as_ref().and_then(|i| i.peer_common_name.as_deref()),
        Some("nsqd-one")
    );
    let (_, cn) = https_connect(client_tls(&pki, None), https)
        .await
        .expect("HTTPS handshake");
    assert_eq!(cn.as_deref(), Some("nsqd-one"));

    // Replace both files (atomically each), then SIGHUP.
    for (from, to) in [(&pki.server2_cert, &cert), (&pki.server2_key, &key)] {
        let tmp = to.with_extension("new");
        std::fs::copy(from, &tmp).expect("copy new file");
        std::fs::rename(&tmp, to).expect("replace file");
    }
    d.signal("HUP");

    // New TLS connections see the new certificate (bounded wait: the
    // reload happens asynchronously after the signal).
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    let mut fresh = loop {
        let n = negotiate_ok(
            d.tcp(),
            tls_identify("new"),
            Some((client_tls(&pki, None), "localhost")),
        )
        .await;
        let cn = n.tls.as_ref().and_then(|i| i.peer_common_name.clone());
        if cn.as_deref() == Some("nsqd-two") {
            break n;
        }
        assert_eq!(cn.as_deref(), Some("nsqd-one"), "unexpected certificate");
        assert!(
            tokio::time::Instant::now() < deadline,
            "TCP TLS still presents the old certificate {TIMEOUT:?} after SIGHUP; log:\n{}",
            d.log_text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let (_, cn) = https_connect(client_tls(&pki, None), https)
        .await
        .expect("HTTPS handshake after reload");
    assert_eq!(
        cn.as_deref(),
        Some("nsqd-two"),
        "HTTPS listener after SIGHUP"
    );

    // The connection made before the reload keeps working, both ways.
    fresh.conn.subscribe("reload", "c", 5).await;
    round_trip(
        &mut old.conn,
        &mut fresh.conn,
        "reload",
        &[b"across reload".to_vec()],
    )
    .await;
    old.conn.subscribe("reload2", "c", 5).await;
    round_trip(
        &mut fresh.conn,
        &mut old.conn,
        "reload2",
        &[b"back".to_vec()],
    )
    .await;
    // nsqd is still running.
    let r = http_request(d.http(), "GET", "/ping", b"").await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn tokio_nsq_over_tls() {
    use tokio_nsq::{
        NSQChannel, NSQConfigShared, NSQConfigSharedTLS, NSQConsumerConfig,
        NSQConsumerConfigSources, NSQEvent, NSQProducerConfig, NSQTopic,
    };
    let pki = pki();
    let d = nsqd_tls(&pki, &["--tls-required"]);
    let addr = d.tcp().to_string();
    let shared = |id: &str| {
        NSQConfigShared::new().set_client_id(id).set_tls(
            NSQConfigSharedTLS::new("localhost").set_client_config(tokio_nsq_tls_config(&pki)),
        )
    };
    let topic = NSQTopic::new("tokio_tls").expect("topic");
    let mut producer = NSQProducerConfig::new(addr.clone())
        .set_shared(shared("tokio-tls-prod"))
        .build();
    let ev = tokio::time::timeout(TIMEOUT, producer.consume())
        .await
        .expect("producer event in time");
    assert!(matches!(ev, Some(NSQEvent::Healthy())), "{ev:?}");
    for body in ["a", "b", "c"] {
        producer
            .publish(&topic, body.as_bytes().to_vec())
            .await
            .expect("publish");
        let ev = tokio::time::timeout(TIMEOUT, producer.consume())
            .await
            .expect("publish acknowledged in time");
        assert!(matches!(ev, Some(NSQEvent::Ok())), "{ev:?}");
    }
    let mut consumer = NSQConsumerConfig::new(topic, NSQChannel::new("c").expect("channel"))
        .set_max_in_flight(10)
        .set_shared(shared("tokio-tls-cons"))
        .set_sources(NSQConsumerConfigSources::Daemons(vec![addr]))
        .build();
    let mut got = Vec::new();
    while got.len() < 3 {
        let msg = tokio::time::timeout(TIMEOUT, consumer.consume_filtered())
            .await
            .expect("message in time")
            .expect("consumer open");
        got.push(String::from_utf8_lossy(&msg.body).into_owned());
        msg.finish().await;
    }
    got.sort();
    assert_eq!(got, ["a", "b", "c"]);

    let https = https_addr(&d);
    let r = https_request(&pki, https, "GET", "/stats?format=json", b"").await;
    let s = r.json();
    for id in ["tokio-tls-prod", "tokio-tls-cons"] {
        let c = client_by_id(&s, id).unwrap_or_else(|| panic!("{id} in {s}"));
        assert_eq!(c["tls"], true, "{c}");
    }
}

#[test]
fn pynsq_over_tls() {
    let pki = pki();
    let d = nsqd_tls(&pki, &[]);
    let v = run_pynsq_features(
        d.tcp(),
        d.http(),
        "pynsq_tls",
        "tls",
        Some(&pki.ca_cert),
        20,
    );
    check_pynsq_features(&v, "tls");
}
