//! The V2 command decoder nsqd runs on every TCP connection
//! (`nsq_protocol::ServerCodec`), fed arbitrary bytes in arbitrary reads,
//! with IDENTIFY bodies decoded and negotiated as nsqd's handler does.
//!
//! Input: `[flags][chunk seed][stream after the "  V2" magic]`.
//! flags bit 0: small limits (so the size checks are reachable);
//! bit 1: `--tls-required` not yet satisfied.
//!
//! Checks: no panic; the same commands and the same final error whatever
//! the read sizes; every decoded command, encoded again by the client
//! codec, decodes to itself.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use nsq_fuzz::{chunk_lengths, Input};
use nsq_protocol::codec::{ClientState, CodecLimits, ConnContext, ServerCodec};
use nsq_protocol::identify::NegotiatedSettings;
use nsq_protocol::{Command, IdentifyRequest, ServerIdentifyLimits};
use tokio_util::codec::Decoder;

/// What a connection produced: one entry per command, then the error if any.
type Outcome = Vec<String>;

/// Applies what nsqd's handlers change in the codec context after `cmd`.
/// Returns false when the handler would close the connection.
fn apply(
    cmd: &Command,
    codec: &mut ServerCodec,
    negotiated: &mut Option<NegotiatedSettings>,
    log: &mut Outcome,
) -> bool {
    match cmd {
        Command::Identify(body) => {
            let limits = ServerIdentifyLimits::default();
            let request = match IdentifyRequest::from_json(body) {
                Ok(r) => r,
                Err(e) => {
                    log.push(format!("IDENTIFY error {}", e.wire_text()));
                    return false;
                }
            };
            let current = negotiated
                .take()
                .unwrap_or_else(|| NegotiatedSettings::initial(&limits));
            match request.negotiate_from(&current, &limits) {
                Ok(settings) => {
                    let reply = settings.response(&limits).to_json();
                    assert!(
                        serde_json::from_slice::<serde_json::Value>(&reply).is_ok(),
                        "IDENTIFY reply is not JSON: {:?}",
                        String::from_utf8_lossy(&reply)
                    );
                    codec.context.heartbeats_disabled = settings.heartbeat_interval_ms.is_none();
                    if settings.tls_v1 {
                        codec.context.tls_required_pending = false;
                    }
                    *negotiated = Some(settings);
                    true
                }
                Err(e) => {
                    log.push(format!("IDENTIFY error {}", e.wire_text()));
                    false
                }
            }
        }
        Command::Sub { .. } => {
            codec.context.state = ClientState::Subscribed;
            true
        }
        Command::Cls => {
            codec.context.state = ClientState::Closing;
            true
        }
        _ => true,
    }
}

/// Whether the line protocol can carry `cmd`: a message id holding a
/// space, `\r` or `\n` decodes (nsqd only checks its length) but cannot be
/// sent back (see `Command::encode`).
fn encodable(cmd: &Command) -> bool {
    match cmd {
        Command::Fin(id) | Command::Touch(id) | Command::Req { id, .. } => !id
            .as_bytes()
            .iter()
            .any(|b| matches!(b, b' ' | b'\r' | b'\n')),
        _ => true,
    }
}

/// Encodes `cmd` as a client would and decodes it with a fresh codec in
/// the same state: it must come back unchanged.
fn check_round_trip(cmd: &Command, limits: CodecLimits, context: ConnContext) {
    if !encodable(cmd) {
        return;
    }
    let mut wire = BytesMut::new();
    cmd.encode(&mut wire);
    let mut codec = ServerCodec::new(limits);
    codec.context = context;
    match codec.decode(&mut wire) {
        Ok(Some(again)) => assert_eq!(&again, cmd, "re-encoded command decodes differently"),
        other => panic!("re-encoded {cmd:?} does not decode: {other:?}"),
    }
    assert!(wire.is_empty(), "re-encoded {cmd:?} leaves bytes behind");
}

fn run(stream: &[u8], chunks: &[usize], limits: CodecLimits, tls_pending: bool) -> Outcome {
    let mut codec = ServerCodec::new(limits);
    codec.context.tls_required_pending = tls_pending;
    let mut negotiated = None;
    let mut log = Outcome::new();
    let mut buf = BytesMut::new();
    let mut offset = 0;
    let mut reads = chunks.iter();
    loop {
        let eof = match reads.next() {
            Some(&n) => {
                buf.extend_from_slice(&stream[offset..offset + n]);
                offset += n;
                false
            }
            None => true,
        };
        loop {
            let context = codec.context;
            let decoded = if eof {
                codec.decode_eof(&mut buf)
            } else {
                codec.decode(&mut buf)
            };
            if let Some(topic) = codec.take_mpub_topic() {
                log.push(format!("mpub line {topic}"));
            }
            match decoded {
                Ok(Some(cmd)) => {
                    check_round_trip(&cmd, limits, context);
                    log.push(format!("{cmd:?}"));
                    if !apply(&cmd, &mut codec, &mut negotiated, &mut log) {
                        return log;
                    }
                }
                Ok(None) if eof => return log,
                Ok(None) => break,
                Err(e) => {
                    log.push(format!("error {e}"));
                    return log;
                }
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let flags = input.byte();
    let seed = input.byte();
    let stream = input.rest();
    let limits = if flags & 1 != 0 {
        CodecLimits {
            max_msg_size: 64,
            max_body_size: 256,
            max_rdy_count: 10,
            max_req_timeout_ms: 1000,
        }
    } else {
        CodecLimits::default()
    };
    let tls_pending = flags & 2 != 0;
    let whole = run(stream, &[stream.len()], limits, tls_pending);
    if seed != 0 {
        let chunked = run(
            stream,
            &chunk_lengths(stream.len(), seed),
            limits,
            tls_pending,
        );
        assert_eq!(whole, chunked, "outcome depends on how the bytes are read");
    }
});
