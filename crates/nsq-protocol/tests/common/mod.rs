//! Helpers shared by the integration tests.
#![allow(dead_code)]

use bytes::BytesMut;
use nsq_protocol::codec::{ClientState, ConnContext, DecodeError, ServerCodec};
use nsq_protocol::{CodecLimits, Command, ErrorCode, ProtocolError};
use tokio_util::codec::Decoder;

/// A server codec with default limits in `state`.
pub fn codec_in(state: ClientState) -> ServerCodec {
    let mut codec = ServerCodec::new(CodecLimits::default());
    codec.context = ConnContext {
        state,
        ..ConnContext::default()
    };
    codec
}

/// Decodes every complete command in `input`; stops at the first error.
pub fn decode_all(codec: &mut ServerCodec, input: &[u8]) -> (Vec<Command>, Option<DecodeError>) {
    let mut buf = BytesMut::from(input);
    let mut out = Vec::new();
    loop {
        match codec.decode(&mut buf) {
            Ok(Some(cmd)) => out.push(cmd),
            Ok(None) => return (out, None),
            Err(e) => return (out, Some(e)),
        }
    }
}

/// Decodes exactly one command from `input`, which must be consumed entirely.
pub fn decode_one(state: ClientState, input: &[u8]) -> Command {
    let mut codec = codec_in(state);
    let mut buf = BytesMut::from(input);
    let cmd = match codec.decode(&mut buf) {
        Ok(Some(cmd)) => cmd,
        other => panic!("expected a command from {input:?}, got {other:?}"),
    };
    assert!(buf.is_empty(), "left over: {:?}", &buf[..]);
    cmd
}

/// The protocol error decoding `input` in `codec` produces.
pub fn protocol_error(codec: &mut ServerCodec, input: &[u8]) -> ProtocolError {
    match decode_all(codec, input) {
        (cmds, Some(DecodeError::Protocol(e))) => {
            assert!(cmds.is_empty(), "commands before the error: {cmds:?}");
            e
        }
        other => panic!("expected a protocol error from {input:?}, got {other:?}"),
    }
}

/// Asserts that `input` in `state` fails with exactly `wire_text`, fatally.
pub fn assert_fatal(state: ClientState, input: &[u8], code: ErrorCode, wire_text: &str) {
    let mut codec = codec_in(state);
    assert_fatal_in(&mut codec, input, code, wire_text);
}

/// Like [`assert_fatal`] with a prepared codec.
pub fn assert_fatal_in(codec: &mut ServerCodec, input: &[u8], code: ErrorCode, wire_text: &str) {
    let e = protocol_error(codec, input);
    assert_eq!(e.wire_text(), wire_text, "input {input:?}");
    assert_eq!(e.code, code, "input {input:?}");
    assert!(e.is_fatal(), "{wire_text} must be fatal");
}

/// `[u32 size][body]`.
pub fn sized(body: &[u8]) -> Vec<u8> {
    let mut out = (body.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(body);
    out
}

/// Concatenates byte slices.
pub fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// Decodes a hex string.
pub fn hex(text: &str) -> Vec<u8> {
    let clean: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    clean
        .chunks(2)
        .map(|pair| {
            let s = std::str::from_utf8(pair).expect("ascii hex");
            u8::from_str_radix(s, 16).expect("hex digit")
        })
        .collect()
}
