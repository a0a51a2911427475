//! nsqd's V2 TCP protocol, black-box: the real binary on free ports, raw sockets.

use bytes::Bytes;
use nsq_protocol::{Command, Frame, MessageId};
use nsq_test_support::{Daemon, V2Client};
use serde_json::json;
use std::time::{Duration, Instant};

const CLOSE_WAIT: Duration = Duration::from_secs(5);

async fn consumer(d: &Daemon, topic: &str, channel: &str, rdy: u64) -> V2Client {
    let mut c = V2Client::connect(d.tcp()).await;
    c.subscribe(topic, channel).await;
    c.send(Command::Rdy(rdy)).await;
    c
}

async fn producer(d: &Daemon) -> V2Client {
    V2Client::connect(d.tcp()).await
}

fn body(m: &nsq_protocol::Message) -> String {
    String::from_utf8_lossy(&m.body).into_owned()
}

#[tokio::test]
async fn bad_magic_gets_framed_bad_protocol_and_close() {
    let d = Daemon::nsqd(&[]);
    let mut c = V2Client::connect_raw(d.tcp()).await;
    c.send_raw(b"  V1").await;
    let frames = c.expect_closed(CLOSE_WAIT).await;
    assert_eq!(
        frames,
        vec![Frame::Error(Bytes::from_static(b"E_BAD_PROTOCOL"))]
    );
}

#[tokio::test]
async fn identify_plain_and_with_negotiation() {
    let d = Daemon::nsqd(&[]);
    let mut c = V2Client::connect(d.tcp()).await;
    let f = c.identify(json!({"client_id": "a", "hostname": "h"})).await;
    assert_eq!(f, Frame::Response(Bytes::from_static(b"OK")));
    let f = c
        .identify(json!({"feature_negotiation": true, "msg_timeout": 5000, "output_buffer_size": -1, "output_buffer_timeout": -1}))
        .await;
    let Frame::Response(b) = f else {
        panic!("{f:?}")
    };
    let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(v["max_rdy_count"], 2500);
    assert_eq!(v["version"], "1.3.0");
    assert_eq!(v["msg_timeout"], 5000);
    assert_eq!(v["output_buffer_size"], 1);
    assert_eq!(v["output_buffer_timeout"], 0);
    assert_eq!(v["tls_v1"], false);
    // Key order as nsqd writes it.
    let text = String::from_utf8_lossy(&b);
    assert!(text.starts_with(r#"{"max_rdy_count":2500,"version":"1.3.0","max_msg_timeout":900000,"msg_timeout":5000,"#), "{text}");
}

#[tokio::test]
async fn identify_out_of_range_is_fatal() {
    let d = Daemon::nsqd(&[]);
    let mut c = V2Client::connect(d.tcp()).await;
    c.send(Command::Identify(Bytes::from_static(
        br#"{"heartbeat_interval":100}"#,
    )))
    .await;
    let frames = c.expect_closed(CLOSE_WAIT).await;
    assert_eq!(
        frames,
        vec![Frame::Error(Bytes::from_static(
            b"E_BAD_BODY IDENTIFY heartbeat interval (100) is invalid"
        ))]
    );
}

#[tokio::test]
async fn unknown_command_is_fatal() {
    let d = Daemon::nsqd(&[]);
    let mut c = V2Client::connect(d.tcp()).await;
    c.send_raw(b"FOO\n").await;
    let frames = c.expect_closed(CLOSE_WAIT).await;
    assert_eq!(
        frames,
        vec![Frame::Error(Bytes::from_static(
            b"E_INVALID invalid command FOO"
        ))]
    );
}

#[tokio::test]
async fn publish_errors_are_fatal_with_exact_text() {
    let d = Daemon::nsqd(&["--max-msg-size=10"]);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            b"PUB bad!topic\n".to_vec(),
            "E_BAD_TOPIC PUB topic name \"bad!topic\" is not valid",
        ),
        (
            b"PUB\n".to_vec(),
            "E_INVALID PUB insufficient number of parameters",
        ),
        (
            [b"PUB t\n".as_slice(), &0u32.to_be_bytes()].concat(),
            "E_BAD_MESSAGE PUB invalid message body size 0",
        ),
        (
            [b"PUB t\n".as_slice(), &11u32.to_be_bytes(), b"01234567890"].concat(),
            "E_BAD_MESSAGE PUB message too big 11 > 10",
        ),
        (
            b"MPUB bad!topic\n".to_vec(),
            "E_BAD_TOPIC E_BAD_TOPIC MPUB topic name \"bad!topic\" is not valid",
        ),
        (
            [
                b"MPUB t\n".as_slice(),
                &8u32.to_be_bytes(),
                &0u32.to_be_bytes(),
            ]
            .concat(),
            "E_BAD_BODY MPUB invalid message count 0",
        ),
        (
            [b"DPUB t 3600001\n".as_slice(), &1u32.to_be_bytes(), b"x"].concat(),
            "E_INVALID DPUB timeout 3600001 out of range 0-3600000",
        ),
    ];
    for (bytes, expected) in cases {
        let mut c = V2Client::connect(d.tcp()).await;
        c.send_raw(&bytes).await;
        let frames = c.expect_closed(CLOSE_WAIT).await;
        assert_eq!(
            frames,
            vec![Frame::Error(Bytes::copy_from_slice(expected.as_bytes()))],
            "for {:?}",
            String::from_utf8_lossy(&bytes)
        );
    }
}

#[tokio::test]
async fn message_too_big_accepts_exact_max() {
    let d = Daemon::nsqd(&["--max-msg-size=10"]);
    let mut p = producer(&d).await;
    p.publish("t", b"0123456789").await;
}

#[tokio::test]
async fn state_errors_before_sub() {
    let d = Daemon::nsqd(&[]);
    for (line, expected) in [
        ("RDY 1\n", "E_INVALID cannot RDY in current state"),
        (
            "FIN 0123456789abcdef\n",
            "E_INVALID cannot FIN in current state",
        ),
        ("CLS\n", "E_INVALID cannot CLS in current state"),
    ] {
        let mut c = V2Client::connect(d.tcp()).await;
        c.send_raw(line.as_bytes()).await;
        let frames = c.expect_closed(CLOSE_WAIT).await;
        assert_eq!(
            frames,
            vec![Frame::Error(Bytes::copy_from_slice(expected.as_bytes()))]
        );
    }
}

#[tokio::test]
async fn sub_twice_and_bad_channel() {
    let d = Daemon::nsqd(&[]);
    let mut c = V2Client::connect(d.tcp()).await;
    c.subscribe("t", "c").await;
    c.send_raw(b"SUB t c\n").await;
    assert_eq!(
        c.expect_closed(CLOSE_WAIT).await,
        vec![Frame::Error(Bytes::from_static(
            b"E_INVALID cannot SUB in current state"
        ))]
    );
    let mut c = V2Client::connect(d.tcp()).await;
    c.send_raw(b"SUB t bad!chan\n").await;
    assert_eq!(
        c.expect_closed(CLOSE_WAIT).await,
        vec![Frame::Error(Bytes::from_static(
            b"E_BAD_CHANNEL SUB channel name \"bad!chan\" is not valid"
        ))]
    );
}

#[tokio::test]
async fn rdy_out_of_range_is_fatal() {
    let d = Daemon::nsqd(&[]);
    let mut c = V2Client::connect(d.tcp()).await;
    c.subscribe("t", "c").await;
    c.send_raw(b"RDY 2501\n").await;
    assert_eq!(
        c.expect_closed(CLOSE_WAIT).await,
        vec![Frame::Error(Bytes::from_static(
            b"E_INVALID RDY count 2501 out of range 0-2500"
        ))]
    );
}

#[tokio::test]
async fn fin_unknown_id_is_not_fatal() {
    let d = Daemon::nsqd(&[]);
    let mut c = V2Client::connect(d.tcp()).await;
    c.subscribe("t", "c").await;
    c.send(Command::Fin(MessageId(*b"0000000000000000"))).await;
    c.expect_error("E_FIN_FAILED FIN 0000000000000000 failed ID not in flight")
        .await;
    c.send(Command::Touch(MessageId(*b"0000000000000000")))
        .await;
    c.expect_error("E_TOUCH_FAILED TOUCH 0000000000000000 failed ID not in flight")
        .await;
    // Still open: a publish works on the same connection.
    c.publish("t2", b"x").await;
    c.send_raw(b"FIN 1234\n").await;
    assert_eq!(
        c.expect_closed(CLOSE_WAIT).await,
        vec![Frame::Error(Bytes::from_static(
            b"E_INVALID invalid message ID"
        ))]
    );
}

#[tokio::test]
async fn message_reaches_every_channel_once_and_consumers_split() {
    let d = Daemon::nsqd(&[]);
    let mut c1a = consumer(&d, "fan", "c1", 100).await;
    let mut c1b = consumer(&d, "fan", "c1", 100).await;
    let mut c2 = consumer(&d, "fan", "c2", 100).await;
    let mut p = producer(&d).await;
    let n = 40;
    for i in 0..n {
        p.publish("fan", format!("m{i}").as_bytes()).await;
    }
    // Channel c2 gets every message exactly once.
    let mut seen2 = Vec::new();
    for _ in 0..n {
        let m = c2.expect_message().await;
        assert_eq!(m.attempts, 1);
        seen2.push(body(&m));
        c2.send(Command::Fin(m.id)).await;
    }
    seen2.sort();
    let mut want: Vec<String> = (0..n).map(|i| format!("m{i}")).collect();
    want.sort();
    assert_eq!(seen2, want);
    c2.expect_silence(Duration::from_millis(300)).await;
    // Channel c1's two consumers split the messages: together exactly once each.
    let mut seen1 = Vec::new();
    let (mut got_a, mut got_b) = (0, 0);
    while seen1.len() < n {
        tokio::select! {
            f = c1a.read_non_heartbeat() => {
                let Frame::Message(m) = f else { panic!("{f:?}") };
                got_a += 1;
                seen1.push(body(&m));
                c1a.send(Command::Fin(m.id)).await;
            }
            f = c1b.read_non_heartbeat() => {
                let Frame::Message(m) = f else { panic!("{f:?}") };
                got_b += 1;
                seen1.push(body(&m));
                c1b.send(Command::Fin(m.id)).await;
            }
        }
    }
    seen1.sort();
    assert_eq!(seen1, want);
    assert!(
        got_a > 0 && got_b > 0,
        "both consumers got messages: {got_a} / {got_b}"
    );
}

#[tokio::test]
async fn rdy_limits_in_flight_and_rdy_zero_stops_delivery() {
    let d = Daemon::nsqd(&[]);
    let mut p = producer(&d).await;
    for i in 0..5 {
        p.publish("rdy", format!("{i}").as_bytes()).await;
    }
    let mut c = V2Client::connect(d.tcp()).await;
    c.subscribe("rdy", "c").await;
    c.expect_silence(Duration::from_millis(300)).await; // RDY 0 at start
    c.send(Command::Rdy(2)).await;
    let a = c.expect_message().await;
    let b = c.expect_message().await;
    c.expect_silence(Duration::from_millis(300)).await; // in flight == RDY
    c.send(Command::Rdy(0)).await;
    c.send(Command::Fin(a.id)).await;
    c.send(Command::Fin(b.id)).await;
    c.expect_silence(Duration::from_millis(300)).await; // RDY 0: nothing more
    c.send(Command::Rdy(10)).await;
    for _ in 0..3 {
        c.expect_message().await;
    }
}

#[tokio::test]
async fn req_redelivers_with_attempts_incremented() {
    let d = Daemon::nsqd(&[]);
    let mut c = consumer(&d, "req", "c", 1).await;
    producer(&d).await.publish("req", b"again").await;
    let m = c.expect_message().await;
    assert_eq!(m.attempts, 1);
    c.send(Command::Req {
        id: m.id,
        timeout_ms: 0,
    })
    .await;
    let m2 = c.expect_message().await;
    assert_eq!(m2.id, m.id);
    assert_eq!(m2.attempts, 2);
    let started = Instant::now();
    c.send(Command::Req {
        id: m2.id,
        timeout_ms: 500,
    })
    .await;
    let m3 = c.expect_message().await;
    assert!(started.elapsed() >= Duration::from_millis(500));
    assert_eq!(m3.attempts, 3);
    c.send(Command::Fin(m3.id)).await;
    c.send(Command::Req {
        id: m3.id,
        timeout_ms: 0,
    })
    .await;
    c.expect_error(&format!(
        "E_REQ_FAILED REQ {} failed ID not in flight",
        m3.id
    ))
    .await;
}

#[tokio::test]
async fn msg_timeout_redelivers_and_touch_prevents_it() {
    let d = Daemon::nsqd(&[]);
    let mut c = V2Client::connect(d.tcp()).await;
    c.identify(json!({"msg_timeout": 1000})).await;
    c.subscribe("to", "c").await;
    c.send(Command::Rdy(1)).await;
    producer(&d).await.publish("to", b"slow").await;
    let m = c.expect_message().await;
    let started = Instant::now();
    let again = c.expect_message().await; // timed out and redelivered
    assert!(
        started.elapsed() >= Duration::from_millis(1000),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(again.id, m.id);
    assert_eq!(again.attempts, 2);
    // Keep touching for 2.5 s: no redelivery while touched.
    for _ in 0..5 {
        c.send(Command::Touch(again.id)).await;
        c.expect_silence(Duration::from_millis(500)).await;
    }
    c.send(Command::Fin(again.id)).await;
    c.expect_silence(Duration::from_millis(1500)).await;
}

#[tokio::test]
async fn dpub_delays_delivery() {
    let d = Daemon::nsqd(&[]);
    let mut c = consumer(&d, "defer", "c", 10).await;
    let mut p = producer(&d).await;
    p.send(Command::Dpub {
        topic: "defer".into(),
        defer_ms: 1000,
        body: Bytes::from_static(b"later"),
    })
    .await;
    p.expect_response(b"OK").await;
    let started = Instant::now();
    p.publish("defer", b"now").await;
    let first = c.expect_message().await;
    assert_eq!(body(&first), "now");
    let second = c.expect_message().await;
    assert_eq!(body(&second), "later");
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn disconnected_consumer_messages_go_to_another_at_once() {
    let d = Daemon::nsqd(&["--msg-timeout=60s"]);
    let mut a = consumer(&d, "dc", "c", 10).await;
    let mut p = producer(&d).await;
    for i in 0..3 {
        p.publish("dc", format!("{i}").as_bytes()).await;
    }
    for _ in 0..3 {
        a.expect_message().await;
    }
    let mut b = consumer(&d, "dc", "c", 10).await;
    drop(a);
    let started = Instant::now();
    let mut got = Vec::new();
    for _ in 0..3 {
        let m = b.expect_message().await;
        assert_eq!(m.attempts, 2);
        got.push(body(&m));
    }
    got.sort();
    assert_eq!(got, vec!["0", "1", "2"]);
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn cls_answers_close_wait_and_keeps_connection() {
    let d = Daemon::nsqd(&[]);
    let mut c = consumer(&d, "cls", "c", 10).await;
    producer(&d).await.publish("cls", b"x").await;
    let m = c.expect_message().await;
    c.send(Command::Cls).await;
    c.expect_response(b"CLOSE_WAIT").await;
    // FIN still works after CLS, RDY is ignored.
    c.send(Command::Fin(m.id)).await;
    c.send(Command::Rdy(5)).await;
    producer(&d).await.publish("cls", b"y").await;
    c.expect_silence(Duration::from_millis(400)).await;
    c.send(Command::Nop).await;
    c.publish("cls", b"z").await;
}

#[tokio::test]
async fn heartbeats_are_sent_and_silence_closes() {
    let d = Daemon::nsqd(&[]);
    let mut c = V2Client::connect(d.tcp()).await;
    c.identify(json!({"heartbeat_interval": 1000})).await;
    let started = Instant::now();
    let f = c.read_frame().await;
    assert_eq!(f, Frame::Response(Bytes::from_static(b"_heartbeat_")));
    assert!(started.elapsed() >= Duration::from_millis(900));
    c.send(Command::Nop).await;
    // Now stay silent: closed after two intervals without a command.
    let frames = c.expect_closed(Duration::from_secs(5)).await;
    assert!(frames
        .iter()
        .all(|f| *f == Frame::Response(Bytes::from_static(b"_heartbeat_"))));
}

#[tokio::test]
async fn sub_refused_with_heartbeats_disabled() {
    let d = Daemon::nsqd(&[]);
    let mut c = V2Client::connect(d.tcp()).await;
    c.identify(json!({"heartbeat_interval": -1})).await;
    c.send_raw(b"SUB t c\n").await;
    assert_eq!(
        c.expect_closed(CLOSE_WAIT).await,
        vec![Frame::Error(Bytes::from_static(
            b"E_INVALID cannot SUB with heartbeats disabled"
        ))]
    );
}

#[tokio::test]
async fn mpub_delivers_all_in_order() {
    let d = Daemon::nsqd(&[]);
    let mut c = consumer(&d, "mp", "c", 100).await;
    let mut p = producer(&d).await;
    let bodies: Vec<Bytes> = (0..10).map(|i| Bytes::from(format!("b{i}"))).collect();
    p.send(Command::Mpub {
        topic: "mp".into(),
        bodies: bodies.clone(),
    })
    .await;
    p.expect_response(b"OK").await;
    for want in bodies {
        let m = c.expect_message().await;
        assert_eq!(m.body, want);
    }
}

#[tokio::test]
async fn max_channel_consumers_enforced() {
    let d = Daemon::nsqd(&["--max-channel-consumers=1"]);
    let _a = consumer(&d, "mc", "c", 1).await;
    let mut b = V2Client::connect(d.tcp()).await;
    b.send_raw(b"SUB mc c\n").await;
    assert_eq!(
        b.expect_closed(CLOSE_WAIT).await,
        vec![Frame::Error(Bytes::from_static(
            b"E_SUB_FAILED SUB failed consumers for mc:c exceeds limit of 1"
        ))]
    );
}

#[tokio::test]
async fn sample_rate_drops_most_messages() {
    let d = Daemon::nsqd(&[]);
    let mut c = V2Client::connect(d.tcp()).await;
    c.identify(json!({"sample_rate": 10, "output_buffer_timeout": -1, "output_buffer_size": -1}))
        .await;
    c.subscribe("sr", "c").await;
    c.send(Command::Rdy(2500)).await;
    let mut p = producer(&d).await;
    let bodies: Vec<Bytes> = (0..1000).map(|i| Bytes::from(format!("{i}"))).collect();
    p.send(Command::Mpub {
        topic: "sr".into(),
        bodies,
    })
    .await;
    p.expect_response(b"OK").await;
    let mut got = 0;
    while let Some(f) = c.try_read_frame(Duration::from_millis(500)).await {
        if let Frame::Message(_) = f {
            got += 1;
        }
    }
    // About 11% of 1000; far from all of them and not none.
    assert!((30..300).contains(&got), "sampled {got}");
}

#[tokio::test]
async fn output_buffer_holds_messages_until_timeout_unless_rdy_is_used_up() {
    let d = Daemon::nsqd(&[]);
    let mut c = V2Client::connect(d.tcp()).await;
    c.identify(json!({"output_buffer_timeout": 1000})).await;
    c.subscribe("ob", "c").await;
    c.send(Command::Rdy(10)).await;
    let mut p = producer(&d).await;
    let started = Instant::now();
    p.publish("ob", b"buffered").await;
    // Credit left: the frame waits in the output buffer for the timeout.
    c.expect_silence(Duration::from_millis(600)).await;
    let m = c.expect_message().await;
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    c.send(Command::Fin(m.id)).await;
    // RDY used up: flushed at once.
    c.send(Command::Rdy(1)).await;
    let started = Instant::now();
    p.publish("ob", b"immediate").await;
    let m = c.expect_message().await;
    assert_eq!(&m.body[..], b"immediate");
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn mpub_body_too_big_for_max_body_size() {
    let d = Daemon::nsqd(&["--max-body-size=100"]);
    let mut c = V2Client::connect(d.tcp()).await;
    c.send_raw(&[b"MPUB t\n".as_slice(), &101u32.to_be_bytes()].concat())
        .await;
    assert_eq!(
        c.expect_closed(CLOSE_WAIT).await,
        vec![Frame::Error(Bytes::from_static(
            b"E_BAD_BODY MPUB body too big 101 > 100"
        ))]
    );
}

#[tokio::test]
async fn oversized_command_line_closes_without_error_frame() {
    let d = Daemon::nsqd(&[]);
    let mut c = V2Client::connect(d.tcp()).await;
    let long = format!("PUB {}\n", "a".repeat(20_000));
    c.send_raw(long.as_bytes()).await;
    assert_eq!(c.expect_closed(CLOSE_WAIT).await, vec![]);
}
