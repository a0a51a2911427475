//! Client side: frame decoding, command encoding, and round trips through
//! the server decoder.

mod common;

use bytes::{Bytes, BytesMut};
use common::*;
use nsq_protocol::codec::{ClientState, FrameDecodeError};
use nsq_protocol::{ClientCodec, Command, Frame, Message, MessageId};
use tokio_util::codec::{Decoder, Encoder};

fn decode_frames(codec: &mut ClientCodec, input: &[u8]) -> Vec<Frame> {
    let mut buf = BytesMut::from(input);
    let mut out = Vec::new();
    while let Some(f) = codec.decode(&mut buf).expect("decode") {
        out.push(f);
    }
    assert!(buf.is_empty());
    out
}

fn decode_error(codec: &mut ClientCodec, input: &[u8]) -> FrameDecodeError {
    let mut buf = BytesMut::from(input);
    match codec.decode(&mut buf) {
        Err(e) => e,
        other => panic!("expected an error, got {other:?}"),
    }
}

mod frames {
    use super::*;

    #[test]
    fn response_error_and_heartbeat() {
        let input = cat(&[
            b"\0\0\0\x06\0\0\0\0OK",
            b"\0\0\0\x0f\0\0\0\0_heartbeat_",
            b"\0\0\0\x21\0\0\0\x01E_INVALID invalid command FOO",
            b"\0\0\0\x0e\0\0\0\0CLOSE_WAIT",
        ]);
        assert_eq!(
            decode_frames(&mut ClientCodec::default(), &input),
            vec![
                Frame::Response(Bytes::from_static(b"OK")),
                Frame::Response(Bytes::from_static(b"_heartbeat_")),
                Frame::Error(Bytes::from_static(b"E_INVALID invalid command FOO")),
                Frame::Response(Bytes::from_static(b"CLOSE_WAIT")),
            ]
        );
    }

    /// wire/14: a message frame with a binary body.
    #[test]
    fn message_frame_from_fixture_14() {
        let input = hex(
            "0000002c00000002 18ea41859dce3b87 0001 31386133653264356533303163303030
             68656c6c6f2000ff20776f726c64",
        );
        let frames = decode_frames(&mut ClientCodec::default(), &input);
        assert_eq!(
            frames,
            vec![Frame::Message(Message {
                id: MessageId(*b"18a3e2d5e301c000"),
                timestamp: 1_795_319_443_594_558_343,
                attempts: 1,
                body: Bytes::from_static(b"hello \x00\xff world"),
            })]
        );
    }

    #[test]
    fn empty_response_payload() {
        assert_eq!(
            decode_frames(&mut ClientCodec::default(), b"\0\0\0\x04\0\0\0\0"),
            vec![Frame::Response(Bytes::new())]
        );
    }

    #[test]
    fn byte_by_byte() {
        let input = cat(&[
            b"\0\0\0\x06\0\0\0\0OK",
            &hex("0000002000000002 0000000000000001 0002 30313233343536373839616263646566 6869"),
        ]);
        let mut codec = ClientCodec::default();
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        for b in &input {
            buf.extend_from_slice(&[*b]);
            if let Some(f) = codec.decode(&mut buf).unwrap() {
                got.push(f);
            }
        }
        assert_eq!(got.len(), 2);
        assert_eq!(got[0], Frame::Response(Bytes::from_static(b"OK")));
        match &got[1] {
            Frame::Message(m) => {
                assert_eq!(m.attempts, 2);
                assert_eq!(&m.body[..], b"hi");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn size_below_4_is_invalid() {
        for size in 0u32..4 {
            let input = size.to_be_bytes();
            assert!(matches!(
                decode_error(&mut ClientCodec::default(), &input),
                FrameDecodeError::InvalidSize(s) if s == size
            ));
        }
    }

    #[test]
    fn size_above_the_maximum_is_invalid() {
        let mut codec = ClientCodec {
            max_frame_size: Some(10),
        };
        assert!(matches!(
            decode_error(&mut codec, b"\0\0\0\x0b"),
            FrameDecodeError::InvalidSize(11)
        ));
        assert_eq!(
            decode_frames(&mut codec, b"\0\0\0\x0a\0\0\0\0abcdef"),
            vec![Frame::Response(Bytes::from_static(b"abcdef"))]
        );
    }

    #[test]
    fn unknown_frame_type() {
        assert!(matches!(
            decode_error(&mut ClientCodec::default(), b"\0\0\0\x06\0\0\0\x03OK"),
            FrameDecodeError::UnknownFrameType(3)
        ));
        assert!(matches!(
            decode_error(&mut ClientCodec::default(), b"\0\0\0\x04\xff\xff\xff\xff"),
            FrameDecodeError::UnknownFrameType(-1)
        ));
    }

    #[test]
    fn short_message_frame() {
        let input = cat(&[b"\0\0\0\x0e\0\0\0\x02", &[0u8; 10]]);
        assert!(matches!(
            decode_error(&mut ClientCodec::default(), &input),
            FrameDecodeError::ShortMessage(10)
        ));
    }

    #[test]
    fn huge_size_waits_without_error() {
        let mut codec = ClientCodec::default();
        let mut buf = BytesMut::from(&b"\xff\xff\xff\xff\0\0\0\0abc"[..]);
        assert!(codec.decode(&mut buf).unwrap().is_none());
        assert_eq!(buf.len(), 11);
    }
}

mod encoding {
    use super::*;

    fn encode(cmd: Command) -> Vec<u8> {
        let mut buf = BytesMut::new();
        ClientCodec::default().encode(cmd, &mut buf).unwrap();
        buf.to_vec()
    }

    #[test]
    fn line_commands() {
        assert_eq!(
            encode(Command::Sub {
                topic: "wire-sub".into(),
                channel: "c1".into()
            }),
            b"SUB wire-sub c1\n"
        );
        assert_eq!(encode(Command::Rdy(1)), b"RDY 1\n");
        assert_eq!(encode(Command::Rdy(2500)), b"RDY 2500\n");
        assert_eq!(
            encode(Command::Fin(MessageId(*b"18a3e2d5e301c000"))),
            b"FIN 18a3e2d5e301c000\n"
        );
        assert_eq!(
            encode(Command::Req {
                id: MessageId(*b"18a3e2d26981c000"),
                timeout_ms: 100
            }),
            b"REQ 18a3e2d26981c000 100\n"
        );
        assert_eq!(
            encode(Command::Touch(MessageId(*b"18a3e2d26981c000"))),
            b"TOUCH 18a3e2d26981c000\n"
        );
        assert_eq!(encode(Command::Cls), b"CLS\n");
        assert_eq!(encode(Command::Nop), b"NOP\n");
    }

    /// wire/16: PUB, MPUB and DPUB bytes as a raw client sent them.
    #[test]
    fn publish_commands_match_fixture_16() {
        assert_eq!(
            encode(Command::Pub {
                topic: "wire-ok".into(),
                body: Bytes::from_static(b"hello")
            }),
            b"PUB wire-ok\n\0\0\0\x05hello"
        );
        assert_eq!(
            encode(Command::Mpub {
                topic: "wire-ok".into(),
                bodies: vec![Bytes::from_static(b"one"), Bytes::from_static(b"two")]
            }),
            b"MPUB wire-ok\n\0\0\0\x12\0\0\0\x02\0\0\0\x03one\0\0\0\x03two"
        );
        assert_eq!(
            encode(Command::Dpub {
                topic: "wire-ok".into(),
                defer_ms: 5000,
                body: Bytes::from_static(b"later")
            }),
            b"DPUB wire-ok 5000\n\0\0\0\x05later"
        );
    }

    /// wire/02 and wire/17: IDENTIFY and AUTH with their bodies.
    #[test]
    fn identify_and_auth_match_fixtures() {
        let json =
            br#"{"client_id":"fixture","hostname":"nsq-host","user_agent":"fixture-capture/1.0"}"#;
        assert_eq!(
            encode(Command::Identify(Bytes::from_static(json))),
            cat(&[b"IDENTIFY\n\0\0\0P", json])
        );
        assert_eq!(
            encode(Command::Auth(Bytes::from_static(b"secret"))),
            b"AUTH\n\0\0\0\x06secret"
        );
    }

    #[test]
    fn encoding_appends() {
        let mut buf = BytesMut::from(&b"NOP\n"[..]);
        Command::Rdy(5).encode(&mut buf);
        assert_eq!(&buf[..], b"NOP\nRDY 5\n");
    }
}

mod round_trip {
    use super::*;

    fn round_trip(state: ClientState, cmds: Vec<Command>) {
        let mut client = ClientCodec::default();
        let mut wire = BytesMut::new();
        for cmd in &cmds {
            client.encode(cmd.clone(), &mut wire).unwrap();
        }
        let mut server = codec_in(state);
        let (decoded, err) = decode_all(&mut server, &wire);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(decoded, cmds);
    }

    #[test]
    fn producer_commands() {
        round_trip(
            ClientState::Init,
            vec![
                Command::Identify(Bytes::from_static(br#"{"feature_negotiation":true}"#)),
                Command::Auth(Bytes::from_static(b"s3cret")),
                Command::Pub {
                    topic: "t".into(),
                    body: Bytes::from_static(b"\0\n\xff"),
                },
                Command::Mpub {
                    topic: "t#ephemeral".into(),
                    bodies: vec![
                        Bytes::from_static(b"a"),
                        Bytes::from_static(b"MPUB x\n"),
                        Bytes::from(vec![9u8; 70_000]),
                    ],
                },
                Command::Dpub {
                    topic: "t".into(),
                    defer_ms: 3_600_000,
                    body: Bytes::from_static(b"d"),
                },
                Command::Nop,
                Command::Sub {
                    topic: "t".into(),
                    channel: "c".into(),
                },
            ],
        );
    }

    #[test]
    fn consumer_commands() {
        let id = MessageId::from_u64(0x18a3_d10a_87a6_9000);
        round_trip(
            ClientState::Subscribed,
            vec![
                Command::Rdy(0),
                Command::Rdy(2500),
                Command::Fin(id),
                Command::Req { id, timeout_ms: 0 },
                Command::Req {
                    id,
                    timeout_ms: 3_600_000,
                },
                Command::Touch(id),
                Command::Pub {
                    topic: "t".into(),
                    body: Bytes::from_static(b"x"),
                },
                Command::Cls,
            ],
        );
    }
}
