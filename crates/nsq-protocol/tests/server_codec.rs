//! Server-side decoding: every command's success path and every error in
//! the nsqd v1.3.0 tables, with exact texts.

mod common;

use bytes::{Bytes, BytesMut};
use common::*;
use nsq_protocol::codec::{ClientState, DecodeError, ServerCodec, MAX_LINE_LEN};
use nsq_protocol::{CodecLimits, Command, ErrorCode, MessageId};
use tokio_util::codec::Decoder;

use ClientState::{Closing, Init, Subscribed};

const ID: &[u8; 16] = b"0123456789abcdef";

fn id() -> MessageId {
    MessageId(*ID)
}

mod lines {
    use super::*;

    #[test]
    fn crlf_is_accepted() {
        assert_eq!(decode_one(Init, b"NOP\r\n"), Command::Nop);
        assert_eq!(
            decode_one(Init, b"SUB t c\r\n"),
            Command::Sub {
                topic: "t".into(),
                channel: "c".into()
            }
        );
    }

    #[test]
    fn only_one_cr_is_stripped() {
        assert_fatal(
            Init,
            b"NOP\r\r\n",
            ErrorCode::Invalid,
            "E_INVALID invalid command NOP\r",
        );
    }

    #[test]
    fn unknown_command_is_fatal() {
        assert_fatal(
            Init,
            b"FOO bar\n",
            ErrorCode::Invalid,
            "E_INVALID invalid command FOO",
        );
    }

    #[test]
    fn commands_are_case_sensitive() {
        assert_fatal(
            Init,
            b"nop\n",
            ErrorCode::Invalid,
            "E_INVALID invalid command nop",
        );
        assert_fatal(
            Subscribed,
            b"Rdy 1\n",
            ErrorCode::Invalid,
            "E_INVALID invalid command Rdy",
        );
    }

    #[test]
    fn empty_line_is_an_unknown_command() {
        assert_fatal(
            Init,
            b"\n",
            ErrorCode::Invalid,
            "E_INVALID invalid command ",
        );
        assert_fatal(
            Init,
            b"\r\n",
            ErrorCode::Invalid,
            "E_INVALID invalid command ",
        );
    }

    #[test]
    fn leading_space_makes_an_empty_command_name() {
        assert_fatal(
            Init,
            b" NOP\n",
            ErrorCode::Invalid,
            "E_INVALID invalid command ",
        );
    }

    #[test]
    fn several_commands_in_one_buffer() {
        let mut codec = codec_in(Subscribed);
        let (cmds, err) = decode_all(&mut codec, b"NOP\nRDY 3\nFIN 0123456789abcdef\nNOP");
        assert!(err.is_none());
        assert_eq!(
            cmds,
            vec![Command::Nop, Command::Rdy(3), Command::Fin(id())]
        );
    }

    #[test]
    fn incomplete_line_waits_without_consuming() {
        let mut codec = codec_in(Init);
        let mut buf = BytesMut::from(&b"PUB top"[..]);
        assert!(codec.decode(&mut buf).unwrap().is_none());
        assert_eq!(&buf[..], b"PUB top");
        buf.extend_from_slice(b"ic\n");
        assert!(codec.decode(&mut buf).unwrap().is_none());
        buf.extend_from_slice(&sized(b"x"));
        assert_eq!(
            codec.decode(&mut buf).unwrap(),
            Some(Command::Pub {
                topic: "topic".into(),
                body: Bytes::from_static(b"x")
            })
        );
        assert!(buf.is_empty());
    }

    #[test]
    fn non_utf8_command_name_is_reported_lossily() {
        let mut codec = codec_in(Init);
        let e = protocol_error(&mut codec, b"\xffX\n");
        assert_eq!(e.code, ErrorCode::Invalid);
        assert_eq!(e.description, "invalid command \u{fffd}X");
    }
}

mod line_limit {
    use super::*;

    fn nop_line(total_len: usize) -> Vec<u8> {
        let mut line = b"NOP ".to_vec();
        line.resize(total_len - 1, b'x');
        line.push(b'\n');
        line
    }

    #[test]
    fn a_line_of_exactly_16384_bytes_is_accepted() {
        assert_eq!(MAX_LINE_LEN, 16384);
        let line = nop_line(MAX_LINE_LEN);
        assert_eq!(line.len(), 16384);
        assert_eq!(decode_one(Init, &line), Command::Nop);
    }

    #[test]
    fn a_line_of_16385_bytes_closes_without_error_frame() {
        let mut codec = codec_in(Init);
        let (cmds, err) = decode_all(&mut codec, &nop_line(MAX_LINE_LEN + 1));
        assert!(cmds.is_empty());
        assert!(matches!(err, Some(DecodeError::LineTooLong)), "{err:?}");
    }

    #[test]
    fn limit_applies_before_the_newline_arrives() {
        let mut codec = codec_in(Init);
        let mut buf = BytesMut::from(&vec![b'A'; MAX_LINE_LEN - 1][..]);
        assert!(codec.decode(&mut buf).unwrap().is_none());
        buf.extend_from_slice(b"A");
        assert!(matches!(
            codec.decode(&mut buf),
            Err(DecodeError::LineTooLong)
        ));
    }

    #[test]
    fn limit_is_per_line_not_per_buffer() {
        let mut input = Vec::new();
        for _ in 0..3 {
            input.extend_from_slice(&nop_line(MAX_LINE_LEN));
        }
        let mut codec = codec_in(Init);
        let (cmds, err) = decode_all(&mut codec, &input);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(cmds.len(), 3);
    }

    #[test]
    fn bodies_are_not_subject_to_the_line_limit() {
        let body = vec![b'z'; 100_000];
        let input = cat(&[b"PUB t\n", &sized(&body)]);
        match decode_one(Init, &input) {
            Command::Pub { body: got, .. } => assert_eq!(got.len(), 100_000),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn slow_line_arrival_is_found_once_complete() {
        let mut codec = codec_in(Init);
        let mut buf = BytesMut::new();
        let line = nop_line(8000);
        for (i, b) in line.iter().enumerate() {
            buf.extend_from_slice(&[*b]);
            let got = codec.decode(&mut buf).unwrap();
            if i + 1 < line.len() {
                assert!(got.is_none());
            } else {
                assert_eq!(got, Some(Command::Nop));
            }
        }
    }
}

mod tls_required {
    use super::*;

    fn pending(state: ClientState) -> ServerCodec {
        let mut codec = codec_in(state);
        codec.context.tls_required_pending = true;
        codec
    }

    #[test]
    fn every_command_but_identify_is_refused() {
        for (input, cmd) in [
            (&b"NOP\n"[..], "NOP"),
            (b"PUB t\n", "PUB"),
            (b"SUB t c\n", "SUB"),
            (b"AUTH\n", "AUTH"),
            (b"FOO\n", "FOO"),
            (b"nop\n", "nop"),
            (b"\n", ""),
        ] {
            let mut codec = pending(Init);
            assert_fatal_in(
                &mut codec,
                input,
                ErrorCode::Invalid,
                &format!("E_INVALID cannot {cmd} in current state (TLS required)"),
            );
        }
    }

    #[test]
    fn tls_rule_comes_before_state_and_parameter_checks() {
        let mut codec = pending(Init);
        assert_fatal_in(
            &mut codec,
            b"RDY abc\n",
            ErrorCode::Invalid,
            "E_INVALID cannot RDY in current state (TLS required)",
        );
        let mut codec = pending(Closing);
        assert_fatal_in(
            &mut codec,
            b"RDY 1\n",
            ErrorCode::Invalid,
            "E_INVALID cannot RDY in current state (TLS required)",
        );
    }

    #[test]
    fn identify_is_allowed() {
        let mut codec = pending(Init);
        let body = br#"{"tls_v1":true}"#;
        let (cmds, err) = decode_all(&mut codec, &cat(&[b"IDENTIFY\n", &sized(body)]));
        assert!(err.is_none());
        assert_eq!(cmds, vec![Command::Identify(Bytes::from_static(body))]);
    }

    #[test]
    fn commands_work_once_tls_is_active() {
        let mut codec = pending(Init);
        codec.context.tls_required_pending = false;
        let (cmds, err) = decode_all(&mut codec, b"NOP\n");
        assert!(err.is_none());
        assert_eq!(cmds, vec![Command::Nop]);
    }
}

mod identify {
    use super::*;

    #[test]
    fn body_is_returned_raw() {
        let body = br#"{"client_id":"x"}"#;
        assert_eq!(
            decode_one(Init, &cat(&[b"IDENTIFY\n", &sized(body)])),
            Command::Identify(Bytes::from_static(body))
        );
    }

    #[test]
    fn extra_parameters_are_ignored() {
        let body = b"{}";
        assert_eq!(
            decode_one(Init, &cat(&[b"IDENTIFY x y\n", &sized(body)])),
            Command::Identify(Bytes::from_static(body))
        );
    }

    #[test]
    fn repeated_identify_in_init_is_accepted() {
        let mut codec = codec_in(Init);
        let one = cat(&[b"IDENTIFY\n", &sized(b"{}")]);
        let (cmds, err) = decode_all(&mut codec, &[one.clone(), one].concat());
        assert!(err.is_none());
        assert_eq!(cmds.len(), 2);
    }

    #[test]
    fn refused_after_sub_and_cls_before_body_is_read() {
        for state in [Subscribed, Closing] {
            // Only the line: the state check must not wait for the body.
            assert_fatal(
                state,
                b"IDENTIFY\n",
                ErrorCode::Invalid,
                "E_INVALID cannot IDENTIFY in current state",
            );
        }
    }

    #[test]
    fn body_too_big() {
        assert_fatal(
            Init,
            &cat(&[b"IDENTIFY\n", &5_242_881u32.to_be_bytes()]),
            ErrorCode::BadBody,
            "E_BAD_BODY IDENTIFY body too big 5242881 > 5242880",
        );
    }

    #[test]
    fn body_of_exactly_max_size_is_accepted() {
        let mut codec = ServerCodec::new(CodecLimits {
            max_body_size: 8,
            ..CodecLimits::default()
        });
        let (cmds, err) = decode_all(&mut codec, &cat(&[b"IDENTIFY\n", &sized(b"12345678")]));
        assert!(err.is_none());
        assert_eq!(cmds.len(), 1);
        let mut codec = ServerCodec::new(CodecLimits {
            max_body_size: 8,
            ..CodecLimits::default()
        });
        assert_fatal_in(
            &mut codec,
            &cat(&[b"IDENTIFY\n", &sized(b"123456789")]),
            ErrorCode::BadBody,
            "E_BAD_BODY IDENTIFY body too big 9 > 8",
        );
    }

    #[test]
    fn invalid_body_sizes() {
        assert_fatal(
            Init,
            b"IDENTIFY\n\0\0\0\0",
            ErrorCode::BadBody,
            "E_BAD_BODY IDENTIFY invalid body size 0",
        );
        assert_fatal(
            Init,
            b"IDENTIFY\n\xff\xff\xff\xff",
            ErrorCode::BadBody,
            "E_BAD_BODY IDENTIFY invalid body size -1",
        );
        assert_fatal(
            Init,
            b"IDENTIFY\n\x80\0\0\0",
            ErrorCode::BadBody,
            "E_BAD_BODY IDENTIFY invalid body size -2147483648",
        );
    }

    #[test]
    fn truncated_at_eof() {
        let mut codec = codec_in(Init);
        let mut buf = BytesMut::from(&b"IDENTIFY\n\0\0"[..]);
        match codec.decode_eof(&mut buf) {
            Err(DecodeError::Protocol(e)) => {
                assert_eq!(
                    e.wire_text(),
                    "E_BAD_BODY IDENTIFY failed to read body size"
                )
            }
            other => panic!("{other:?}"),
        }
        let mut codec = codec_in(Init);
        let mut buf = BytesMut::from(&b"IDENTIFY\n\0\0\0\x05{}"[..]);
        match codec.decode_eof(&mut buf) {
            Err(DecodeError::Protocol(e)) => {
                assert_eq!(e.wire_text(), "E_BAD_BODY IDENTIFY failed to read body")
            }
            other => panic!("{other:?}"),
        }
    }
}

mod auth {
    use super::*;

    #[test]
    fn secret_is_returned_raw() {
        assert_eq!(
            decode_one(Init, b"AUTH\n\0\0\0\x06secret"),
            Command::Auth(Bytes::from_static(b"secret"))
        );
    }

    #[test]
    fn state_is_checked_first() {
        for state in [Subscribed, Closing] {
            assert_fatal(
                state,
                b"AUTH x\n",
                ErrorCode::Invalid,
                "E_INVALID cannot AUTH in current state",
            );
        }
    }

    #[test]
    fn no_parameters_allowed() {
        for line in [&b"AUTH x\n"[..], b"AUTH \n", b"AUTH a b\n"] {
            assert_fatal(
                Init,
                line,
                ErrorCode::Invalid,
                "E_INVALID AUTH invalid number of parameters",
            );
        }
    }

    #[test]
    fn body_size_checks() {
        assert_fatal(
            Init,
            &cat(&[b"AUTH\n", &5_242_881u32.to_be_bytes()]),
            ErrorCode::BadBody,
            "E_BAD_BODY AUTH body too big 5242881 > 5242880",
        );
        assert_fatal(
            Init,
            b"AUTH\n\0\0\0\0",
            ErrorCode::BadBody,
            "E_BAD_BODY AUTH invalid body size 0",
        );
        assert_fatal(
            Init,
            b"AUTH\n\xff\xff\xff\xfe",
            ErrorCode::BadBody,
            "E_BAD_BODY AUTH invalid body size -2",
        );
    }

    #[test]
    fn truncated_at_eof() {
        for (input, text) in [
            (&b"AUTH\n"[..], "E_BAD_BODY AUTH failed to read body size"),
            (
                b"AUTH\n\0\0\0\x09abc",
                "E_BAD_BODY AUTH failed to read body",
            ),
        ] {
            let mut codec = codec_in(Init);
            let mut buf = BytesMut::from(input);
            match codec.decode_eof(&mut buf) {
                Err(DecodeError::Protocol(e)) => assert_eq!(e.wire_text(), text),
                other => panic!("{other:?}"),
            }
        }
    }
}

mod sub {
    use super::*;

    #[test]
    fn valid_sub() {
        assert_eq!(
            decode_one(Init, b"SUB wire-sub c1\n"),
            Command::Sub {
                topic: "wire-sub".into(),
                channel: "c1".into()
            }
        );
        assert_eq!(
            decode_one(Init, b"SUB t#ephemeral c#ephemeral extra params\n"),
            Command::Sub {
                topic: "t#ephemeral".into(),
                channel: "c#ephemeral".into()
            }
        );
    }

    #[test]
    fn only_in_init() {
        for state in [Subscribed, Closing] {
            assert_fatal(
                state,
                b"SUB wire-sub c2\n",
                ErrorCode::Invalid,
                "E_INVALID cannot SUB in current state",
            );
        }
    }

    #[test]
    fn heartbeats_disabled_comes_before_parameters() {
        let mut codec = codec_in(Init);
        codec.context.heartbeats_disabled = true;
        assert_fatal_in(
            &mut codec,
            b"SUB\n",
            ErrorCode::Invalid,
            "E_INVALID cannot SUB with heartbeats disabled",
        );
    }

    #[test]
    fn insufficient_parameters() {
        for line in [&b"SUB\n"[..], b"SUB t\n"] {
            assert_fatal(
                Init,
                line,
                ErrorCode::Invalid,
                "E_INVALID SUB insufficient number of parameters",
            );
        }
    }

    #[test]
    fn bad_topic_then_bad_channel() {
        assert_fatal(
            Init,
            b"SUB bad!topic bad!channel\n",
            ErrorCode::BadTopic,
            "E_BAD_TOPIC SUB topic name \"bad!topic\" is not valid",
        );
        assert_fatal(
            Init,
            b"SUB wire-sub bad!channel\n",
            ErrorCode::BadChannel,
            "E_BAD_CHANNEL SUB channel name \"bad!channel\" is not valid",
        );
        assert_fatal(
            Init,
            b"SUB t \n",
            ErrorCode::BadChannel,
            "E_BAD_CHANNEL SUB channel name \"\" is not valid",
        );
    }

    #[test]
    fn names_are_go_quoted() {
        assert_fatal(
            Init,
            b"SUB a\"b\\c\x01\xff c\n",
            ErrorCode::BadTopic,
            "E_BAD_TOPIC SUB topic name \"a\\\"b\\\\c\\x01\\xff\" is not valid",
        );
        assert_fatal(
            Init,
            "SUB t ü\u{200b}\n".as_bytes(),
            ErrorCode::BadChannel,
            "E_BAD_CHANNEL SUB channel name \"ü\\u200b\" is not valid",
        );
    }
}

mod publish {
    use super::*;

    #[test]
    fn valid_pub_in_every_state() {
        for state in [Init, Subscribed, Closing] {
            assert_eq!(
                decode_one(state, b"PUB wire-ok\n\0\0\0\x05hello"),
                Command::Pub {
                    topic: "wire-ok".into(),
                    body: Bytes::from_static(b"hello")
                }
            );
        }
    }

    #[test]
    fn body_is_a_slice_of_the_read_buffer() {
        let mut codec = codec_in(Init);
        let mut buf = BytesMut::with_capacity(64);
        buf.extend_from_slice(b"PUB t\n\0\0\0\x05hello");
        let range = buf.as_ptr() as usize..buf.as_ptr() as usize + buf.len();
        let Some(Command::Pub { body, .. }) = codec.decode(&mut buf).unwrap() else {
            panic!("expected PUB");
        };
        assert!(range.contains(&(body.as_ptr() as usize)), "body was copied");
    }

    #[test]
    fn insufficient_parameters() {
        assert_fatal(
            Init,
            b"PUB\n",
            ErrorCode::Invalid,
            "E_INVALID PUB insufficient number of parameters",
        );
    }

    #[test]
    fn bad_topic_is_reported_before_the_body_size() {
        // No body at all: the topic error must not wait for one.
        assert_fatal(
            Init,
            b"PUB bad!topic\n",
            ErrorCode::BadTopic,
            "E_BAD_TOPIC PUB topic name \"bad!topic\" is not valid",
        );
        // Empty topic and a 65-byte topic.
        assert_fatal(
            Init,
            b"PUB \n\0\0\0\0",
            ErrorCode::BadTopic,
            "E_BAD_TOPIC PUB topic name \"\" is not valid",
        );
        let long = "a".repeat(65);
        assert_fatal(
            Init,
            format!("PUB {long}\n\0\0\0\x01x").as_bytes(),
            ErrorCode::BadTopic,
            &format!("E_BAD_TOPIC PUB topic name \"{long}\" is not valid"),
        );
    }

    #[test]
    fn body_size_checks() {
        assert_fatal(
            Init,
            b"PUB wire\n\0\0\0\0",
            ErrorCode::BadMessage,
            "E_BAD_MESSAGE PUB invalid message body size 0",
        );
        assert_fatal(
            Init,
            b"PUB wire\n\xff\xff\xff\xff",
            ErrorCode::BadMessage,
            "E_BAD_MESSAGE PUB invalid message body size -1",
        );
        // Answered from the size prefix alone.
        assert_fatal(
            Init,
            b"PUB wire\n\0\x10\0\x01",
            ErrorCode::BadMessage,
            "E_BAD_MESSAGE PUB message too big 1048577 > 1048576",
        );
    }

    #[test]
    fn body_of_exactly_max_msg_size_is_accepted() {
        let body = vec![7u8; 1_048_576];
        match decode_one(Init, &cat(&[b"PUB t\n", &sized(&body)])) {
            Command::Pub { body: got, .. } => assert_eq!(got.len(), 1_048_576),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn truncated_at_eof() {
        for (input, text) in [
            (
                &b"PUB t\n\0"[..],
                "E_BAD_MESSAGE PUB failed to read message body size",
            ),
            (
                b"PUB t\n\0\0\0\x02a",
                "E_BAD_MESSAGE PUB failed to read message body",
            ),
        ] {
            let mut codec = codec_in(Init);
            let mut buf = BytesMut::from(input);
            match codec.decode_eof(&mut buf) {
                Err(DecodeError::Protocol(e)) => assert_eq!(e.wire_text(), text),
                other => panic!("{other:?}"),
            }
        }
    }
}

mod mpub {
    use super::*;

    fn mpub(topic: &str, body_size: u32, count: u32, msgs: &[&[u8]]) -> Vec<u8> {
        let mut out = format!("MPUB {topic}\n").into_bytes();
        out.extend_from_slice(&body_size.to_be_bytes());
        out.extend_from_slice(&count.to_be_bytes());
        for m in msgs {
            out.extend_from_slice(&sized(m));
        }
        out
    }

    #[test]
    fn valid_mpub() {
        assert_eq!(
            decode_one(Subscribed, &mpub("wire-ok", 18, 2, &[b"one", b"two"])),
            Command::Mpub {
                topic: "wire-ok".into(),
                bodies: vec![Bytes::from_static(b"one"), Bytes::from_static(b"two")]
            }
        );
    }

    #[test]
    fn insufficient_parameters() {
        assert_fatal(
            Init,
            b"MPUB\n",
            ErrorCode::Invalid,
            "E_INVALID MPUB insufficient number of parameters",
        );
    }

    #[test]
    fn bad_topic_has_the_code_twice() {
        let e = protocol_error(&mut codec_in(Init), &mpub("bad!topic", 9, 1, &[b"x"]));
        assert_eq!(e.code, ErrorCode::BadTopic);
        assert!(e.description.starts_with("E_BAD_TOPIC "));
        assert_eq!(
            e.wire_text(),
            "E_BAD_TOPIC E_BAD_TOPIC MPUB topic name \"bad!topic\" is not valid"
        );
    }

    #[test]
    fn body_size_checks() {
        assert_fatal(
            Init,
            b"MPUB t\n\0\0\0\0",
            ErrorCode::BadBody,
            "E_BAD_BODY MPUB invalid body size 0",
        );
        assert_fatal(
            Init,
            b"MPUB t\n\xff\xff\xff\xf6",
            ErrorCode::BadBody,
            "E_BAD_BODY MPUB invalid body size -10",
        );
        assert_fatal(
            Init,
            &cat(&[b"MPUB t\n", &5_242_881u32.to_be_bytes()]),
            ErrorCode::BadBody,
            "E_BAD_BODY MPUB body too big 5242881 > 5242880",
        );
    }

    #[test]
    fn message_count_checks() {
        assert_fatal(
            Init,
            b"MPUB wire\n\0\0\0\x04\0\0\0\0",
            ErrorCode::BadBody,
            "E_BAD_BODY MPUB invalid message count 0",
        );
        assert_fatal(
            Init,
            b"MPUB wire\n\0\0\0\t\0\x10\0\0\0\0\0\x01a",
            ErrorCode::BadBody,
            "E_BAD_BODY MPUB invalid message count 1048576",
        );
        assert_fatal(
            Init,
            b"MPUB wire\n\0\0\0\t\xff\xff\xff\xff",
            ErrorCode::BadBody,
            "E_BAD_BODY MPUB invalid message count -1",
        );
    }

    #[test]
    fn count_limit_is_max_body_minus_4_over_5() {
        // (5242880 - 4) / 5 = 1048575 is accepted: the codec waits for messages.
        let mut codec = codec_in(Init);
        let (cmds, err) = decode_all(&mut codec, &mpub("t", 9, 1_048_575, &[b"a"]));
        assert!(cmds.is_empty() && err.is_none(), "{err:?}");

        let limits = CodecLimits {
            max_body_size: 14,
            ..CodecLimits::default()
        };
        let mut codec = ServerCodec::new(limits);
        let (cmds, err) = decode_all(&mut codec, &mpub("t", 14, 2, &[b"a", b"b"]));
        assert!(err.is_none());
        assert_eq!(cmds.len(), 1);
        let mut codec = ServerCodec::new(limits);
        assert_fatal_in(
            &mut codec,
            &mpub("t", 14, 3, &[b"a", b"b", b"c"]),
            ErrorCode::BadBody,
            "E_BAD_BODY MPUB invalid message count 3",
        );
    }

    #[test]
    fn message_size_checks() {
        assert_fatal(
            Init,
            b"MPUB wire\n\0\0\0\r\0\0\0\x02\0\0\0\x01a\0\0\0\0",
            ErrorCode::BadMessage,
            "E_BAD_MESSAGE MPUB invalid message(1) body size 0",
        );
        assert_fatal(
            Init,
            b"MPUB wire\n\0\0\0\r\0\0\0\x02\xff\xff\xff\xff",
            ErrorCode::BadMessage,
            "E_BAD_MESSAGE MPUB invalid message(0) body size -1",
        );
        assert_fatal(
            Init,
            b"MPUB wire\n\0\0\0\r\0\0\0\x02\0\x10\0\x01",
            ErrorCode::BadMessage,
            "E_BAD_MESSAGE MPUB message too big 1048577 > 1048576",
        );
    }

    #[test]
    fn body_size_does_not_delimit_the_messages() {
        // Fixture 08, connection 3: body size 9 covers one message, count is 2.
        let mut codec = codec_in(Init);
        let mut buf = BytesMut::from(&b"MPUB wire\n\0\0\0\t\0\0\0\x02\0\0\0\x01a"[..]);
        assert!(codec.decode(&mut buf).unwrap().is_none());
        buf.extend_from_slice(b"\0\0\0\x01b");
        assert_eq!(
            codec.decode(&mut buf).unwrap(),
            Some(Command::Mpub {
                topic: "wire".into(),
                bodies: vec![Bytes::from_static(b"a"), Bytes::from_static(b"b")]
            })
        );
        assert!(buf.is_empty());
    }

    #[test]
    fn bytes_after_count_messages_are_the_next_command() {
        // Body size claims 100 bytes, but only `count` messages belong to MPUB.
        let input = cat(&[&mpub("t", 100, 1, &[b"m"]), b"NOP\n"]);
        let mut codec = codec_in(Init);
        let (cmds, err) = decode_all(&mut codec, &input);
        assert!(err.is_none());
        assert_eq!(
            cmds,
            vec![
                Command::Mpub {
                    topic: "t".into(),
                    bodies: vec![Bytes::from_static(b"m")]
                },
                Command::Nop
            ]
        );
    }

    #[test]
    fn nothing_is_returned_until_every_message_is_valid() {
        let mut codec = codec_in(Init);
        let mut buf = BytesMut::from(&mpub("t", 14, 3, &[b"a", b"b"])[..]);
        assert!(codec.decode(&mut buf).unwrap().is_none());
        buf.extend_from_slice(b"\0\0\0\0");
        match codec.decode(&mut buf) {
            Err(DecodeError::Protocol(e)) => assert_eq!(
                e.wire_text(),
                "E_BAD_MESSAGE MPUB invalid message(2) body size 0"
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn mpub_topic_is_reported_once_the_line_is_accepted() {
        // Before the body: nsqd checks auth and creates the topic here.
        let mut codec = codec_in(Init);
        let mut buf = BytesMut::from(&b"MPUB wire\n"[..]);
        assert!(codec.decode(&mut buf).unwrap().is_none());
        assert_eq!(codec.take_mpub_topic().as_deref(), Some("wire"));
        assert_eq!(codec.take_mpub_topic(), None);

        // Also when the body then fails.
        let mut codec = codec_in(Init);
        let mut buf = BytesMut::from(&b"MPUB wire\n\0\0\0\x04\0\0\0\0"[..]);
        assert!(codec.decode(&mut buf).is_err());
        assert_eq!(codec.take_mpub_topic().as_deref(), Some("wire"));

        // And in the same call as the complete command.
        let mut codec = codec_in(Init);
        let (cmds, _) = decode_all(&mut codec, &mpub("w", 9, 1, &[b"x"]));
        assert_eq!(cmds.len(), 1);
        assert_eq!(codec.take_mpub_topic().as_deref(), Some("w"));

        // Not for an invalid topic, nor for other commands.
        let mut codec = codec_in(Init);
        let _ = decode_all(&mut codec, &mpub("bad!", 9, 1, &[b"x"]));
        assert_eq!(codec.take_mpub_topic(), None);
        let mut codec = codec_in(Init);
        let _ = decode_all(&mut codec, b"PUB t\n\0\0\0\x01x");
        assert_eq!(codec.take_mpub_topic(), None);
    }

    #[test]
    fn truncated_at_eof() {
        for (input, text) in [
            (
                b"MPUB t\n\0\0".to_vec(),
                "E_BAD_BODY MPUB failed to read body size",
            ),
            (
                b"MPUB t\n\0\0\0\x09\0\0".to_vec(),
                "E_BAD_BODY MPUB failed to read message count",
            ),
            (
                mpub("t", 9, 2, &[b"a"]),
                "E_BAD_MESSAGE MPUB failed to read message(1) body size",
            ),
            (
                cat(&[&mpub("t", 9, 2, &[b"a"]), b"\0\0\0\x03ab"]),
                "E_BAD_MESSAGE MPUB failed to read message body",
            ),
        ] {
            let mut codec = codec_in(Init);
            let mut buf = BytesMut::from(&input[..]);
            match codec.decode_eof(&mut buf) {
                Err(DecodeError::Protocol(e)) => assert_eq!(e.wire_text(), text),
                other => panic!("{other:?}"),
            }
        }
    }
}

mod dpub {
    use super::*;

    #[test]
    fn valid_dpub() {
        assert_eq!(
            decode_one(Init, b"DPUB wire-ok 5000\n\0\0\0\x05later"),
            Command::Dpub {
                topic: "wire-ok".into(),
                defer_ms: 5000,
                body: Bytes::from_static(b"later")
            }
        );
        assert_eq!(
            decode_one(Closing, b"DPUB t 3600000\n\0\0\0\x01x"),
            Command::Dpub {
                topic: "t".into(),
                defer_ms: 3_600_000,
                body: Bytes::from_static(b"x")
            }
        );
    }

    #[test]
    fn empty_timeout_is_zero() {
        assert_eq!(
            decode_one(Init, b"DPUB t \n\0\0\0\x01x"),
            Command::Dpub {
                topic: "t".into(),
                defer_ms: 0,
                body: Bytes::from_static(b"x")
            }
        );
    }

    #[test]
    fn insufficient_parameters() {
        for line in [&b"DPUB\n"[..], b"DPUB t\n"] {
            assert_fatal(
                Init,
                line,
                ErrorCode::Invalid,
                "E_INVALID DPUB insufficient number of parameters",
            );
        }
    }

    #[test]
    fn bad_topic_comes_before_timeout() {
        assert_fatal(
            Init,
            b"DPUB bad!topic abc\n",
            ErrorCode::BadTopic,
            "E_BAD_TOPIC DPUB topic name \"bad!topic\" is not valid",
        );
    }

    #[test]
    fn timeout_must_be_digits() {
        for raw in ["-1", "abc", "1.5", "+1"] {
            assert_fatal(
                Init,
                format!("DPUB t {raw}\n").as_bytes(),
                ErrorCode::Invalid,
                &format!("E_INVALID DPUB could not parse timeout {raw}"),
            );
        }
    }

    #[test]
    fn timeout_above_max_is_rejected_before_the_body() {
        assert_fatal(
            Init,
            b"DPUB wire-ok 3600001\n",
            ErrorCode::Invalid,
            "E_INVALID DPUB timeout 3600001 out of range 0-3600000",
        );
        // Wraps to a negative duration, as in nsqd.
        assert_fatal(
            Init,
            b"DPUB t 18446744073709551615\n",
            ErrorCode::Invalid,
            "E_INVALID DPUB timeout 18446744073709551615 out of range 0-3600000",
        );
    }

    #[test]
    fn body_size_checks() {
        assert_fatal(
            Init,
            b"DPUB t 10\n\0\0\0\0",
            ErrorCode::BadMessage,
            "E_BAD_MESSAGE DPUB invalid message body size 0",
        );
        assert_fatal(
            Init,
            b"DPUB t 10\n\0\x10\0\x01",
            ErrorCode::BadMessage,
            "E_BAD_MESSAGE DPUB message too big 1048577 > 1048576",
        );
    }

    #[test]
    fn truncated_at_eof() {
        for (input, text) in [
            (
                &b"DPUB t 1\n"[..],
                "E_BAD_MESSAGE DPUB failed to read message body size",
            ),
            (
                b"DPUB t 1\n\0\0\0\x02a",
                "E_BAD_MESSAGE DPUB failed to read message body",
            ),
        ] {
            let mut codec = codec_in(Init);
            let mut buf = BytesMut::from(input);
            match codec.decode_eof(&mut buf) {
                Err(DecodeError::Protocol(e)) => assert_eq!(e.wire_text(), text),
                other => panic!("{other:?}"),
            }
        }
    }
}

mod rdy {
    use super::*;

    #[test]
    fn counts() {
        assert_eq!(decode_one(Subscribed, b"RDY 2500\n"), Command::Rdy(2500));
        assert_eq!(decode_one(Subscribed, b"RDY 0\n"), Command::Rdy(0));
        assert_eq!(decode_one(Subscribed, b"RDY\n"), Command::Rdy(1));
        assert_eq!(decode_one(Subscribed, b"RDY \n"), Command::Rdy(0));
        assert_eq!(decode_one(Subscribed, b"RDY  5\n"), Command::Rdy(0));
        assert_eq!(decode_one(Subscribed, b"RDY 7 extra\n"), Command::Rdy(7));
    }

    #[test]
    fn refused_before_sub() {
        assert_fatal(
            Init,
            b"RDY 1\n",
            ErrorCode::Invalid,
            "E_INVALID cannot RDY in current state",
        );
    }

    #[test]
    fn dropped_silently_while_closing() {
        let mut codec = codec_in(Closing);
        let mut buf = BytesMut::from(&b"RDY 5\nRDY garbage\nRDY 99999\n"[..]);
        assert_eq!(codec.decode(&mut buf).unwrap(), None);
        assert!(buf.is_empty(), "the RDY lines must be consumed");
        buf.extend_from_slice(b"RDY 1\nFIN 0123456789abcdef\n");
        assert_eq!(codec.decode(&mut buf).unwrap(), Some(Command::Fin(id())));
        assert!(buf.is_empty());
    }

    #[test]
    fn parse_errors() {
        for raw in ["-1", "abc", "1e3"] {
            assert_fatal(
                Subscribed,
                format!("RDY {raw}\n").as_bytes(),
                ErrorCode::Invalid,
                &format!("E_INVALID RDY could not parse count {raw}"),
            );
        }
    }

    #[test]
    fn out_of_range() {
        assert_fatal(
            Subscribed,
            b"RDY 2501\n",
            ErrorCode::Invalid,
            "E_INVALID RDY count 2501 out of range 0-2500",
        );
        // Negative after nsqd's unsigned-to-signed conversion.
        assert_fatal(
            Subscribed,
            b"RDY 18446744073709551615\n",
            ErrorCode::Invalid,
            "E_INVALID RDY count -1 out of range 0-2500",
        );
    }
}

mod fin_req_touch {
    use super::*;

    #[test]
    fn fin_and_touch_when_subscribed_or_closing() {
        for state in [Subscribed, Closing] {
            assert_eq!(
                decode_one(state, b"FIN 0123456789abcdef\n"),
                Command::Fin(id())
            );
            assert_eq!(
                decode_one(state, b"TOUCH 0123456789abcdef extra\n"),
                Command::Touch(id())
            );
        }
    }

    #[test]
    fn ids_are_any_16_bytes() {
        assert_eq!(
            decode_one(Subscribed, b"FIN \x00\xff!!!!!!!!!!!!!!\n"),
            Command::Fin(MessageId(*b"\x00\xff!!!!!!!!!!!!!!"))
        );
    }

    #[test]
    fn refused_before_sub() {
        for cmd in ["FIN", "REQ", "TOUCH"] {
            assert_fatal(
                Init,
                format!("{cmd} 0000000000000000 0\n").as_bytes(),
                ErrorCode::Invalid,
                &format!("E_INVALID cannot {cmd} in current state"),
            );
        }
    }

    #[test]
    fn insufficient_parameters() {
        assert_fatal(
            Subscribed,
            b"FIN\n",
            ErrorCode::Invalid,
            "E_INVALID FIN insufficient number of params",
        );
        assert_fatal(
            Subscribed,
            b"TOUCH\n",
            ErrorCode::Invalid,
            "E_INVALID TOUCH insufficient number of params",
        );
        assert_fatal(
            Subscribed,
            b"REQ 0123456789abcdef\n",
            ErrorCode::Invalid,
            "E_INVALID REQ insufficient number of params",
        );
    }

    #[test]
    fn id_must_be_16_bytes() {
        for line in [
            &b"FIN 1234\n"[..],
            b"FIN 0123456789abcdef0\n",
            b"TOUCH \n",
            b"REQ 123 0\n",
        ] {
            assert_fatal(
                Subscribed,
                line,
                ErrorCode::Invalid,
                "E_INVALID invalid message ID",
            );
        }
    }

    #[test]
    fn req_timeouts() {
        let req = |line: &[u8]| match decode_one(Closing, line) {
            Command::Req {
                id: got,
                timeout_ms,
            } => {
                assert_eq!(got, id());
                timeout_ms
            }
            other => panic!("{other:?}"),
        };
        assert_eq!(req(b"REQ 0123456789abcdef 0\n"), 0);
        assert_eq!(req(b"REQ 0123456789abcdef 100\n"), 100);
        assert_eq!(req(b"REQ 0123456789abcdef \n"), 0);
        // Above --max-req-timeout: clamped silently.
        assert_eq!(req(b"REQ 0123456789abcdef 3600001\n"), 3_600_000);
        // Wraps to a negative duration: clamped to 0.
        assert_eq!(req(b"REQ 0123456789abcdef 18446744073709551615\n"), 0);
    }

    #[test]
    fn req_id_is_checked_before_timeout() {
        assert_fatal(
            Subscribed,
            b"REQ 123 abc\n",
            ErrorCode::Invalid,
            "E_INVALID invalid message ID",
        );
    }

    #[test]
    fn req_timeout_parse_errors() {
        for raw in ["-1", "abc"] {
            assert_fatal(
                Subscribed,
                format!("REQ 0000000000000000 {raw}\n").as_bytes(),
                ErrorCode::Invalid,
                &format!("E_INVALID REQ could not parse timeout {raw}"),
            );
        }
    }
}

mod cls_nop {
    use super::*;

    #[test]
    fn cls_only_when_subscribed() {
        assert_eq!(decode_one(Subscribed, b"CLS\n"), Command::Cls);
        for state in [Init, Closing] {
            assert_fatal(
                state,
                b"CLS\n",
                ErrorCode::Invalid,
                "E_INVALID cannot CLS in current state",
            );
        }
    }

    #[test]
    fn nop_in_every_state_with_any_params() {
        for state in [Init, Subscribed, Closing] {
            assert_eq!(decode_one(state, b"NOP\n"), Command::Nop);
            assert_eq!(decode_one(state, b"NOP a b\n"), Command::Nop);
        }
    }
}

mod state_table {
    use super::*;

    /// Every command in every state: allowed ones decode, the others fail
    /// with `cannot <CMD> in current state`.
    #[test]
    fn matrix() {
        let body = sized(b"{}");
        let inputs: Vec<(&str, Vec<u8>)> = vec![
            ("IDENTIFY", cat(&[b"IDENTIFY\n", &body])),
            ("AUTH", cat(&[b"AUTH\n", &body])),
            ("SUB", b"SUB t c\n".to_vec()),
            ("PUB", cat(&[b"PUB t\n", &body])),
            ("MPUB", cat(&[b"MPUB t\n\0\0\0\x0a\0\0\0\x01", &body])),
            ("DPUB", cat(&[b"DPUB t 1\n", &body])),
            ("RDY", b"RDY 1\n".to_vec()),
            ("FIN", b"FIN 0123456789abcdef\n".to_vec()),
            ("REQ", b"REQ 0123456789abcdef 1\n".to_vec()),
            ("TOUCH", b"TOUCH 0123456789abcdef\n".to_vec()),
            ("CLS", b"CLS\n".to_vec()),
            ("NOP", b"NOP\n".to_vec()),
        ];
        let allowed = |cmd: &str, state: ClientState| match cmd {
            "IDENTIFY" | "AUTH" | "SUB" => state == Init,
            "PUB" | "MPUB" | "DPUB" | "NOP" => true,
            "RDY" | "CLS" => state == Subscribed,
            "FIN" | "REQ" | "TOUCH" => state != Init,
            _ => unreachable!(),
        };
        for state in [Init, Subscribed, Closing] {
            for (cmd, input) in &inputs {
                let mut codec = codec_in(state);
                let (cmds, err) = decode_all(&mut codec, input);
                if *cmd == "RDY" && state == Closing {
                    assert!(cmds.is_empty() && err.is_none(), "RDY while closing");
                } else if allowed(cmd, state) {
                    assert!(err.is_none(), "{cmd} in {state:?}: {err:?}");
                    assert_eq!(cmds.len(), 1, "{cmd} in {state:?}");
                    assert_eq!(cmds[0].name(), *cmd);
                } else {
                    match err {
                        Some(DecodeError::Protocol(e)) => assert_eq!(
                            e.wire_text(),
                            format!("E_INVALID cannot {cmd} in current state")
                        ),
                        other => panic!("{cmd} in {state:?}: {other:?}"),
                    }
                }
            }
        }
    }
}

mod partial_input {
    use super::*;

    fn stream() -> Vec<u8> {
        cat(&[
            b"IDENTIFY\n",
            &sized(br#"{"client_id":"x"}"#),
            b"PUB a\n",
            &sized(b"hello"),
            b"MPUB b\n\0\0\0\x12\0\0\0\x02",
            &sized(b"one"),
            &sized(b"two"),
            b"DPUB c 100\n",
            &sized(b"later"),
            b"NOP\r\n",
            b"AUTH\n",
            &sized(b"secret"),
            b"SUB t c\n",
        ])
    }

    #[test]
    fn byte_by_byte_gives_the_same_commands() {
        let input = stream();
        let (all_at_once, err) = decode_all(&mut codec_in(Init), &input);
        assert!(err.is_none());
        assert_eq!(all_at_once.len(), 7);

        let mut codec = codec_in(Init);
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        for b in &input {
            buf.extend_from_slice(&[*b]);
            while let Some(cmd) = codec.decode(&mut buf).unwrap() {
                got.push(cmd);
            }
        }
        assert_eq!(got, all_at_once);
        assert!(buf.is_empty());
    }

    #[test]
    fn eof_after_complete_commands_is_clean() {
        let mut codec = codec_in(Init);
        let mut buf = BytesMut::from(&b"NOP\n"[..]);
        assert_eq!(codec.decode_eof(&mut buf).unwrap(), Some(Command::Nop));
        assert_eq!(codec.decode_eof(&mut buf).unwrap(), None);
    }

    #[test]
    fn eof_inside_a_line_closes_quietly() {
        let mut codec = codec_in(Init);
        let mut buf = BytesMut::from(&b"PUB to"[..]);
        assert_eq!(codec.decode_eof(&mut buf).unwrap(), None);
    }

    #[test]
    fn errors_while_bytes_trickle_in() {
        let input = b"PUB t\n\0\x10\0\x01";
        let mut codec = codec_in(Init);
        let mut buf = BytesMut::new();
        for (i, b) in input.iter().enumerate() {
            buf.extend_from_slice(&[*b]);
            match codec.decode(&mut buf) {
                Ok(None) => assert!(i + 1 < input.len()),
                Err(DecodeError::Protocol(e)) => {
                    assert_eq!(i + 1, input.len());
                    assert_eq!(
                        e.wire_text(),
                        "E_BAD_MESSAGE PUB message too big 1048577 > 1048576"
                    );
                    return;
                }
                other => panic!("{other:?}"),
            }
        }
        panic!("no error");
    }
}

mod limits {
    use super::*;

    #[test]
    fn custom_limits_appear_in_texts() {
        let limits = CodecLimits {
            max_msg_size: 10,
            max_body_size: 20,
            max_rdy_count: 5,
            max_req_timeout_ms: 1000,
        };
        let cases: [(&[u8], ClientState, &str); 6] = [
            (
                b"PUB t\n\0\0\0\x0b",
                Init,
                "E_BAD_MESSAGE PUB message too big 11 > 10",
            ),
            (
                b"DPUB t 1001\n",
                Init,
                "E_INVALID DPUB timeout 1001 out of range 0-1000",
            ),
            (
                b"RDY 6\n",
                Subscribed,
                "E_INVALID RDY count 6 out of range 0-5",
            ),
            (
                b"AUTH\n\0\0\0\x15",
                Init,
                "E_BAD_BODY AUTH body too big 21 > 20",
            ),
            (
                b"MPUB t\n\0\0\0\x15",
                Init,
                "E_BAD_BODY MPUB body too big 21 > 20",
            ),
            (
                b"MPUB t\n\0\0\0\x14\0\0\0\x04",
                Init,
                "E_BAD_BODY MPUB invalid message count 4",
            ),
        ];
        for (input, state, text) in cases {
            let mut codec = ServerCodec::new(limits);
            codec.context.state = state;
            let e = protocol_error(&mut codec, input);
            assert_eq!(e.wire_text(), text);
        }
        let mut codec = ServerCodec::new(limits);
        codec.context.state = Subscribed;
        let (cmds, _) = decode_all(&mut codec, b"REQ 0123456789abcdef 5000\n");
        assert_eq!(
            cmds,
            vec![Command::Req {
                id: id(),
                timeout_ms: 1000
            }]
        );
    }
}
