//! Property tests: the server decoder never panics, its result does not
//! depend on how the input is split into reads, and client encoding round
//! trips through it.

use bytes::{Bytes, BytesMut};
use nsq_protocol::codec::{ClientState, ConnContext, DecodeError, ServerCodec};
use nsq_protocol::{ClientCodec, CodecLimits, Command, IdentifyRequest, MessageId};
use proptest::prelude::*;
use tokio_util::codec::{Decoder, Encoder};

/// Fragments that steer random input into the interesting paths.
fn fragment() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..12),
        prop::sample::select(vec![
            &b"IDENTIFY\n"[..],
            b"AUTH\n",
            b"SUB t c\n",
            b"PUB t\n",
            b"MPUB t\n",
            b"DPUB t 10\n",
            b"RDY ",
            b"RDY 1\n",
            b"FIN 0123456789abcdef\n",
            b"REQ 0123456789abcdef 5\n",
            b"TOUCH 0123456789abcdef\n",
            b"CLS\n",
            b"NOP\r\n",
            b"\n",
            b" ",
            b"bad!name",
        ])
        .prop_map(|b| b.to_vec()),
        (0i32..24).prop_map(|n| n.to_be_bytes().to_vec()),
        any::<i32>().prop_map(|n| n.to_be_bytes().to_vec()),
    ]
}

fn input() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(fragment(), 0..24).prop_map(|parts| parts.concat())
}

fn context() -> impl Strategy<Value = ConnContext> {
    (
        prop::sample::select(vec![
            ClientState::Init,
            ClientState::Subscribed,
            ClientState::Closing,
        ]),
        any::<bool>(),
        prop::bool::weighted(0.1),
    )
        .prop_map(
            |(state, heartbeats_disabled, tls_required_pending)| ConnContext {
                state,
                heartbeats_disabled,
                tls_required_pending,
            },
        )
}

fn limits() -> impl Strategy<Value = CodecLimits> {
    prop_oneof![
        Just(CodecLimits::default()),
        (0u64..40, 0u64..80, 0u64..10, 0u64..100).prop_map(|(msg, body, rdy, req)| CodecLimits {
            max_msg_size: msg,
            max_body_size: body,
            max_rdy_count: rdy,
            max_req_timeout_ms: req,
        }),
    ]
}

fn codec(limits: CodecLimits, context: ConnContext) -> ServerCodec {
    let mut codec = ServerCodec::new(limits);
    codec.context = context;
    codec
}

/// Commands plus how decoding ended, comparable across runs.
type Outcome = (Vec<Command>, Option<String>);

fn describe(err: DecodeError) -> String {
    match err {
        DecodeError::Protocol(e) => {
            assert!(e.is_fatal());
            e.wire_text()
        }
        DecodeError::LineTooLong => "line too long".into(),
        DecodeError::Io(e) => format!("io {e}"),
    }
}

fn all_at_once(mut codec: ServerCodec, input: &[u8]) -> Outcome {
    let mut buf = BytesMut::from(input);
    let mut cmds = Vec::new();
    loop {
        match codec.decode(&mut buf) {
            Ok(Some(cmd)) => cmds.push(cmd),
            Ok(None) => return (cmds, None),
            Err(e) => return (cmds, Some(describe(e))),
        }
    }
}

fn in_pieces(mut codec: ServerCodec, input: &[u8], cuts: &[usize]) -> Outcome {
    let mut buf = BytesMut::new();
    let mut cmds = Vec::new();
    let mut start = 0;
    let mut ends: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
    ends.push(input.len());
    ends.sort_unstable();
    for end in ends {
        buf.extend_from_slice(&input[start..end]);
        start = end;
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(cmd)) => cmds.push(cmd),
                Ok(None) => break,
                Err(e) => return (cmds, Some(describe(e))),
            }
        }
    }
    (cmds, None)
}

fn topic() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9._-]{1,54}(#ephemeral)?"
}

fn body() -> impl Strategy<Value = Bytes> {
    proptest::collection::vec(any::<u8>(), 1..64).prop_map(Bytes::from)
}

fn any_command() -> impl Strategy<Value = Command> {
    // Ids are opaque bytes, but a space, `\r` or `\n` cannot travel in a line.
    let id = proptest::collection::vec(
        any::<u8>().prop_filter("line separator", |b| !matches!(b, b' ' | b'\r' | b'\n')),
        16,
    )
    .prop_map(|v| MessageId::from_slice(&v).unwrap());
    prop_oneof![
        body().prop_map(Command::Identify),
        body().prop_map(Command::Auth),
        (topic(), topic()).prop_map(|(topic, channel)| Command::Sub { topic, channel }),
        (topic(), body()).prop_map(|(topic, body)| Command::Pub { topic, body }),
        (topic(), proptest::collection::vec(body(), 1..5))
            .prop_map(|(topic, bodies)| Command::Mpub { topic, bodies }),
        (topic(), 0u64..=3_600_000, body()).prop_map(|(topic, defer_ms, body)| Command::Dpub {
            topic,
            defer_ms,
            body
        }),
        (0u64..=2500).prop_map(Command::Rdy),
        id.clone().prop_map(Command::Fin),
        (id.clone(), 0u64..=3_600_000).prop_map(|(id, timeout_ms)| Command::Req { id, timeout_ms }),
        id.prop_map(Command::Touch),
        Just(Command::Cls),
        Just(Command::Nop),
    ]
}

/// The state in which `cmd` is accepted.
fn state_for(cmd: &Command) -> ClientState {
    match cmd {
        Command::Identify(_) | Command::Auth(_) | Command::Sub { .. } => ClientState::Init,
        _ => ClientState::Subscribed,
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512),
                                   ctx in context(), lim in limits()) {
        let mut c = codec(lim, ctx);
        let mut buf = BytesMut::from(&bytes[..]);
        for _ in 0..bytes.len() + 2 {
            match c.decode(&mut buf) {
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
        let _ = c.decode_eof(&mut buf);
    }

    #[test]
    fn structured_garbage_never_panics(data in input(), ctx in context(), lim in limits()) {
        let (_, _) = all_at_once(codec(lim, ctx), &data);
        let mut c = codec(lim, ctx);
        let mut buf = BytesMut::from(&data[..]);
        while let Ok(Some(_)) = c.decode_eof(&mut buf) {}
    }

    #[test]
    fn splitting_reads_does_not_change_the_result(
        data in input(),
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
        ctx in context(),
        lim in limits(),
    ) {
        let whole = all_at_once(codec(lim, ctx), &data);
        let pieces = in_pieces(codec(lim, ctx), &data, &cuts);
        prop_assert_eq!(&whole, &pieces);
        let bytewise: Vec<usize> = (0..data.len()).collect();
        let one_by_one = in_pieces(codec(lim, ctx), &data, &bytewise);
        prop_assert_eq!(whole, one_by_one);
    }

    #[test]
    fn client_encoding_round_trips(cmd in any_command()) {
        let mut wire = BytesMut::new();
        ClientCodec::default().encode(cmd.clone(), &mut wire).unwrap();
        let mut server = ServerCodec::new(CodecLimits::default());
        server.context.state = state_for(&cmd);
        let got = server.decode(&mut wire).unwrap();
        prop_assert_eq!(got, Some(cmd));
        prop_assert!(wire.is_empty());
    }

    #[test]
    fn identify_json_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(req) = IdentifyRequest::from_json(&bytes) {
            let _ = req.negotiate(&Default::default());
        }
    }

    #[test]
    fn identify_integers_round_trip(n in any::<i64>(), rate in any::<i32>()) {
        let json = format!(r#"{{"msg_timeout":{n},"SAMPLE_RATE":{rate}}}"#);
        let req = IdentifyRequest::from_json(json.as_bytes()).unwrap();
        prop_assert_eq!(req.msg_timeout, Some(n));
        prop_assert_eq!(req.sample_rate, Some(rate));
    }
}
