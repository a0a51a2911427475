//! nsqd's snappy and deflate connection upgrades, black-box (nsqd-tcp.md
//! §5.1, §7; flags `--snappy`, `--deflate`, `--max-deflate-level`): the
//! raw upgrade sequences with and without TLS underneath, the exact bytes
//! of the first compressed frames, negotiation rules, and the tokio-nsq and
//! pynsq clients over snappy/deflate (alone and stacked on TLS).

mod nsqd_secure_common;

use nsq_protocol::Command;
use nsq_test_support::Daemon;
use nsq_transport::snappy::{masked_crc, STREAM_IDENTIFIER};
use nsq_transport::stream;
use nsqd_secure_common::*;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn identify(client_id: &str, extra: Value) -> Value {
    let mut v = json!({"client_id": client_id, "hostname": "h", "feature_negotiation": true});
    for (k, x) in extra.as_object().expect("object").iter() {
        v[k] = x.clone();
    }
    v
}

/// The `OK` response frame.
const OK_FRAME: [u8; 10] = [0, 0, 0, 6, 0, 0, 0, 0, b'O', b'K'];

fn mixed_bodies() -> Vec<Vec<u8>> {
    vec![
        b"small".to_vec(),
        text_body("text", 300_000),
        random_body(200_000, 11),
        text_body("more", 70_000),
    ]
}

async fn check_client_layers(d: &Daemon, id: &str, tls: bool, snappy: bool, deflate: bool) {
    let s = stats(d.http()).await;
    let c = client_by_id(&s, id).unwrap_or_else(|| panic!("{id} in {s}"));
    assert_eq!(c["tls"], tls, "{c}");
    assert_eq!(c["snappy"], snappy, "{c}");
    assert_eq!(c["deflate"], deflate, "{c}");
}

#[tokio::test]
async fn raw_snappy_upgrade_wire_bytes_and_round_trip() {
    let d = Daemon::nsqd(&[]);
    let (mut tcp, reply) =
        raw_identify(d.tcp(), &identify("snappy-prod", json!({"snappy": true}))).await;
    let v: Value = serde_json::from_slice(&reply).expect("JSON reply in plaintext");
    assert_eq!(v["snappy"], true, "{v}");
    assert_eq!(v["deflate"], false, "{v}");

    // Stream identifier, then `OK` in an uncompressed chunk (0x01) with
    // the masked CRC-32C of the frame.
    let mut first = [0u8; 28];
    tokio::time::timeout(TIMEOUT, tcp.read_exact(&mut first))
        .await
        .expect("compressed OK in time")
        .expect("read compressed OK");
    let mut want = STREAM_IDENTIFIER.to_vec();
    want.extend_from_slice(&[0x01, 0x0e, 0x00, 0x00]);
    want.extend_from_slice(&masked_crc(&OK_FRAME).to_le_bytes());
    want.extend_from_slice(&OK_FRAME);
    assert_eq!(
        first.to_vec(),
        want,
        "first bytes after the IDENTIFY response"
    );

    // Re-read them through the snappy layer and carry on.
    let mut prod = Layered::new(stream::wrap_snappy(stream::prepend(tcp, first.to_vec())));
    prod.expect_response(b"OK").await;

    let mut cons = negotiate_ok(
        d.tcp(),
        identify("snappy-cons", json!({"snappy": true})),
        None,
    )
    .await
    .conn;
    cons.subscribe("snappy", "c", 10).await;
    round_trip(&mut prod, &mut cons, "snappy", &mixed_bodies()).await;
    check_client_layers(&d, "snappy-prod", false, true, false).await;
    check_client_layers(&d, "snappy-cons", false, true, false).await;
}

#[tokio::test]
async fn raw_deflate_upgrade_wire_bytes_and_round_trip() {
    let d = Daemon::nsqd(&[]);
    let (mut tcp, reply) = raw_identify(
        d.tcp(),
        &identify("deflate-prod", json!({"deflate": true, "deflate_level": 9})),
    )
    .await;
    let v: Value = serde_json::from_slice(&reply).expect("JSON reply in plaintext");
    assert_eq!(v["deflate"], true, "{v}");
    assert_eq!(v["snappy"], false, "{v}");
    // Requested 9, clamped to the default --max-deflate-level of 6.
    assert_eq!(v["deflate_level"], 6, "{v}");
    assert_eq!(v["max_deflate_level"], 6, "{v}");

    // The deflated OK ends with a sync flush (empty stored block).
    let mut raw = Vec::new();
    let mut buf = [0u8; 256];
    while !raw.ends_with(&[0x00, 0x00, 0xff, 0xff]) {
        let n = tokio::time::timeout(TIMEOUT, tcp.read(&mut buf))
            .await
            .unwrap_or_else(|_| panic!("no sync-flushed deflate data; got {raw:02x?}"))
            .expect("read deflate data");
        assert!(n > 0, "closed after {raw:02x?}");
        raw.extend_from_slice(&buf[..n]);
    }
    let mut prod = Layered::new(stream::wrap_deflate(stream::prepend(tcp, raw), 6));
    prod.expect_response(b"OK").await;

    let mut cons = negotiate_ok(
        d.tcp(),
        identify("deflate-cons", json!({"deflate": true})),
        None,
    )
    .await
    .conn;
    cons.subscribe("deflate", "c", 10).await;
    round_trip(&mut prod, &mut cons, "deflate", &mixed_bodies()).await;
    check_client_layers(&d, "deflate-prod", false, false, true).await;
    check_client_layers(&d, "deflate-cons", false, false, true).await;
}

#[tokio::test]
async fn deflate_level_is_negotiated_and_clamped() {
    let d9 = Daemon::nsqd(&["--max-deflate-level=9"]);
    for (requested, want) in [
        (json!(9), 9),
        (json!(3), 3),
        (json!(0), 6),
        (json!(-1), 6),
        (Value::Null, 6),
    ] {
        let mut n = negotiate_ok(
            d9.tcp(),
            identify("lvl", json!({"deflate": true, "deflate_level": requested})),
            None,
        )
        .await;
        assert_eq!(n.json["deflate"], true, "{}", n.json);
        assert_eq!(
            n.json["deflate_level"], want,
            "requested {requested}: {}",
            n.json
        );
        assert_eq!(n.json["max_deflate_level"], 9, "{}", n.json);
        n.conn.publish("lvl", &text_body("lvl", 10_000)).await;
    }

    // --max-deflate-level=2 clamps even the default level, which is
    // reported when deflate is not requested at all.
    let d2 = Daemon::nsqd(&["--max-deflate-level=2"]);
    let n = negotiate_ok(d2.tcp(), identify("no-deflate", json!({})), None).await;
    assert_eq!(n.json["deflate"], false, "{}", n.json);
    assert_eq!(n.json["deflate_level"], 2, "{}", n.json);
    assert_eq!(n.json["max_deflate_level"], 2, "{}", n.json);
    let mut n = negotiate_ok(
        d2.tcp(),
        identify("clamped", json!({"deflate": true, "deflate_level": 8})),
        None,
    )
    .await;
    assert_eq!(n.json["deflate_level"], 2, "{}", n.json);
    n.conn.publish("lvl", b"clamped").await;
}

#[tokio::test]
async fn snappy_and_deflate_together_are_refused_in_plaintext() {
    let d = Daemon::nsqd(&[]);
    let mut c = Layered::connect(d.tcp()).await;
    let body =
        serde_json::to_vec(&identify("both", json!({"snappy": true, "deflate": true}))).unwrap();
    c.send(Command::Identify(body.into())).await;
    c.expect_fatal("E_IDENTIFY_FAILED cannot enable both deflate and snappy compression")
        .await;
}

#[tokio::test]
async fn compression_disabled_by_flags_is_not_granted() {
    let d = Daemon::nsqd(&["--snappy=false", "--deflate=false"]);
    for feature in ["snappy", "deflate"] {
        let mut n = negotiate_ok(d.tcp(), identify(feature, json!({feature: true})), None).await;
        assert_eq!(n.json["snappy"], false, "{}", n.json);
        assert_eq!(n.json["deflate"], false, "{}", n.json);
        // Still plaintext.
        n.conn.publish("plain", b"x").await;
    }

    // With snappy disabled, asking for both is not a conflict: deflate wins.
    let d = Daemon::nsqd(&["--snappy=false"]);
    let mut n = negotiate_ok(
        d.tcp(),
        identify("both", json!({"snappy": true, "deflate": true})),
        None,
    )
    .await;
    assert_eq!(n.json["snappy"], false, "{}", n.json);
    assert_eq!(n.json["deflate"], true, "{}", n.json);
    n.conn.publish("deflated", b"x").await;
    check_client_layers(&d, "both", false, false, true).await;
}

/// Frames `data` as one uncompressed snappy chunk.
fn uncompressed_chunk(data: &[u8]) -> Vec<u8> {
    let len = data.len() + 4;
    let mut out = vec![0x01, len as u8, (len >> 8) as u8, (len >> 16) as u8];
    out.extend_from_slice(&masked_crc(data).to_le_bytes());
    out.extend_from_slice(data);
    out
}

fn pub_bytes(topic: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!("PUB {topic}\n").into_bytes();
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(body);
    out
}

#[tokio::test]
async fn snappy_client_stream_must_start_with_the_stream_identifier() {
    let d = Daemon::nsqd(&[]);

    // A hand-framed stream with the identifier is accepted.
    let (mut tcp, _) = raw_identify(d.tcp(), &identify("framed", json!({"snappy": true}))).await;
    let mut first = [0u8; 28];
    tokio::time::timeout(TIMEOUT, tcp.read_exact(&mut first))
        .await
        .expect("compressed OK in time")
        .expect("read compressed OK");
    let mut out = STREAM_IDENTIFIER.to_vec();
    out.extend(uncompressed_chunk(&pub_bytes("framed", b"hand framed")));
    tcp.write_all(&out).await.expect("write chunk");
    let mut c = Layered::new(stream::wrap_snappy(stream::prepend(tcp, first.to_vec())));
    c.expect_response(b"OK").await;
    c.expect_response(b"OK").await;

    // The same chunk without the identifier first: the stream is corrupt
    // and nsqd drops the connection without accepting the PUB.
    let (mut tcp, _) = raw_identify(d.tcp(), &identify("unframed", json!({"snappy": true}))).await;
    tcp.read_exact(&mut first)
        .await
        .expect("read compressed OK");
    tcp.write_all(&uncompressed_chunk(&pub_bytes(
        "unframed",
        b"no identifier",
    )))
    .await
    .expect("write chunk");
    let (data, _) = read_until_closed(&mut tcp, TIMEOUT).await;
    let mut c = Layered::new(stream::wrap_snappy(stream::prepend(tcp, data)));
    assert!(
        c.next_frame(std::time::Duration::from_millis(200))
            .await
            .is_none(),
        "nsqd answered a PUB from a stream without the identifier"
    );
    let s = stats(d.http()).await;
    let topics: Vec<&str> = s["topics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["topic_name"].as_str())
        .collect();
    assert!(topics.contains(&"framed"), "{s}");
    assert!(!topics.contains(&"unframed"), "{s}");
}

#[tokio::test]
async fn raw_tls_then_snappy_and_tls_then_deflate() {
    let pki = pki();
    let d = nsqd_tls(&pki, &["--tls-required"]);
    for (feature, snappy, deflate) in [("snappy", true, false), ("deflate", false, true)] {
        let prod_id = format!("tls-{feature}-prod");
        let cons_id = format!("tls-{feature}-cons");
        let extra = json!({"tls_v1": true, feature: true});
        let mut prod = negotiate_ok(
            d.tcp(),
            identify(&prod_id, extra.clone()),
            Some((client_tls(&pki, None), "localhost")),
        )
        .await;
        assert!(prod.tls.is_some());
        assert_eq!(prod.json[feature], true, "{}", prod.json);
        let mut cons = negotiate_ok(
            d.tcp(),
            identify(&cons_id, extra),
            Some((client_tls(&pki, None), "localhost")),
        )
        .await;
        let topic = format!("tls_{feature}");
        cons.conn.subscribe(&topic, "c", 10).await;
        round_trip(&mut prod.conn, &mut cons.conn, &topic, &mixed_bodies()).await;
        let https = https_addr(&d);
        let r = https_request(&pki, https, "GET", "/stats?format=json", b"").await;
        let s = r.json();
        for id in [&prod_id, &cons_id] {
            let c = client_by_id(&s, id).unwrap_or_else(|| panic!("{id} in {s}"));
            assert_eq!(c["tls"], true, "{c}");
            assert_eq!(c["snappy"], snappy, "{c}");
            assert_eq!(c["deflate"], deflate, "{c}");
            assert_ne!(c["tls_version"], "", "{c}");
        }
    }
}

// ---------------------------------------------------------------------------
// tokio-nsq
// ---------------------------------------------------------------------------

async fn tokio_nsq_round_trip(
    d: &Daemon,
    topic_name: &str,
    shared: impl Fn(&str) -> tokio_nsq::NSQConfigShared,
    expect: (bool, bool, bool),
) {
    use tokio_nsq::{
        NSQChannel, NSQConsumerConfig, NSQConsumerConfigSources, NSQEvent, NSQProducerConfig,
        NSQTopic,
    };
    let addr = d.tcp().to_string();
    let topic = NSQTopic::new(topic_name).expect("topic");
    let prod_id = format!("{topic_name}-prod");
    let cons_id = format!("{topic_name}-cons");
    let mut producer = NSQProducerConfig::new(addr.clone())
        .set_shared(shared(&prod_id))
        .build();
    let ev = tokio::time::timeout(TIMEOUT, producer.consume())
        .await
        .expect("producer event in time");
    assert!(matches!(ev, Some(NSQEvent::Healthy())), "{ev:?}");
    // Incompressible bodies stay small: tokio-nsq 0.14's deflate writer
    // (async-compression 0.3) does not flush all of a large incompressible
    // write, so such a PUB never fully reaches any server.
    let bodies: Vec<Vec<u8>> = vec![
        b"one".to_vec(),
        text_body("two", 100_000),
        random_body(1_000, 3),
        text_body("four", 300_000),
    ];
    for (i, b) in bodies.iter().enumerate() {
        producer.publish(&topic, b.clone()).await.expect("publish");
        let ev = tokio::time::timeout(TIMEOUT, producer.consume())
            .await
            .unwrap_or_else(|_| {
                panic!("publish #{i} ({} bytes) not acknowledged in time", b.len())
            });
        assert!(matches!(ev, Some(NSQEvent::Ok())), "{ev:?}");
    }
    let mut consumer = NSQConsumerConfig::new(topic, NSQChannel::new("c").expect("channel"))
        .set_max_in_flight(10)
        .set_shared(shared(&cons_id))
        .set_sources(NSQConsumerConfigSources::Daemons(vec![addr]))
        .build();
    let mut got = Vec::new();
    while got.len() < bodies.len() {
        let msg = tokio::time::timeout(TIMEOUT, consumer.consume_filtered())
            .await
            .expect("message in time")
            .expect("consumer open");
        got.push(msg.body.clone());
        msg.finish().await;
    }
    let mut want = bodies.clone();
    want.sort();
    got.sort();
    assert!(
        got == want,
        "tokio-nsq received other bodies than it published"
    );

    let s = stats(d.http()).await;
    for id in [&prod_id, &cons_id] {
        let c = client_by_id(&s, id).unwrap_or_else(|| panic!("{id} in {s}"));
        assert_eq!(c["tls"], expect.0, "{c}");
        assert_eq!(c["snappy"], expect.1, "{c}");
        assert_eq!(c["deflate"], expect.2, "{c}");
    }
}

#[tokio::test]
async fn tokio_nsq_deflate() {
    use tokio_nsq::{NSQConfigShared, NSQConfigSharedCompression, NSQDeflateLevel};
    let d = Daemon::nsqd(&[]);
    tokio_nsq_round_trip(
        &d,
        "tokio_deflate",
        |id| {
            NSQConfigShared::new().set_client_id(id).set_compression(
                NSQConfigSharedCompression::Deflate(NSQDeflateLevel::new(3).expect("level")),
            )
        },
        (false, false, true),
    )
    .await;
}

#[tokio::test]
async fn tokio_nsq_snappy() {
    use tokio_nsq::{NSQConfigShared, NSQConfigSharedCompression};
    let d = Daemon::nsqd(&[]);
    tokio_nsq_round_trip(
        &d,
        "tokio_snappy",
        |id| {
            NSQConfigShared::new()
                .set_client_id(id)
                .set_compression(NSQConfigSharedCompression::Snappy)
        },
        (false, true, false),
    )
    .await;
}

#[tokio::test]
async fn tokio_nsq_over_tls_and_deflate() {
    use tokio_nsq::{
        NSQConfigShared, NSQConfigSharedCompression, NSQConfigSharedTLS, NSQDeflateLevel,
    };
    let pki = pki();
    let d = nsqd_tls(&pki, &[]);
    let cfg = tokio_nsq_tls_config(&pki);
    tokio_nsq_round_trip(
        &d,
        "tokio_tls_deflate",
        |id| {
            NSQConfigShared::new()
                .set_client_id(id)
                .set_tls(NSQConfigSharedTLS::new("localhost").set_client_config(cfg.clone()))
                .set_compression(NSQConfigSharedCompression::Deflate(
                    NSQDeflateLevel::new(3).expect("level"),
                ))
        },
        (true, false, true),
    )
    .await;
}

#[tokio::test]
async fn tokio_nsq_over_tls_and_snappy() {
    use tokio_nsq::{NSQConfigShared, NSQConfigSharedCompression, NSQConfigSharedTLS};
    let pki = pki();
    let d = nsqd_tls(&pki, &[]);
    let cfg = tokio_nsq_tls_config(&pki);
    tokio_nsq_round_trip(
        &d,
        "tokio_tls_snappy",
        |id| {
            NSQConfigShared::new()
                .set_client_id(id)
                .set_tls(NSQConfigSharedTLS::new("localhost").set_client_config(cfg.clone()))
                .set_compression(NSQConfigSharedCompression::Snappy)
        },
        (true, true, false),
    )
    .await;
}

// ---------------------------------------------------------------------------
// pynsq
// ---------------------------------------------------------------------------

fn pynsq_mode(mode: &str, tls: bool) {
    let pki = pki();
    let d = if tls {
        nsqd_tls(&pki, &[])
    } else {
        Daemon::nsqd(&[])
    };
    let topic = format!("pynsq_{}", mode.replace('+', "_"));
    let ca = tls.then_some(pki.ca_cert.as_path());
    let v = run_pynsq_features(d.tcp(), d.http(), &topic, mode, ca, 20);
    check_pynsq_features(&v, mode);
}

#[test]
fn pynsq_snappy() {
    pynsq_mode("snappy", false);
}

#[test]
fn pynsq_deflate() {
    pynsq_mode("deflate", false);
}

#[test]
fn pynsq_tls_and_snappy() {
    pynsq_mode("tls+snappy", true);
}

#[test]
fn pynsq_tls_and_deflate() {
    pynsq_mode("tls+deflate", true);
}
