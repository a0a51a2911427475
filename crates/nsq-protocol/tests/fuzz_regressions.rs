//! Replays fuzz inputs (crashes once found, and the most instructive inputs
//! of each corpus) stored under `tests/fuzz_regressions/<target>/`, in the
//! input format of the fuzz target of the same name (`fuzz/fuzz_targets/`).
//!
//! Each input `<name>` has a `<name>.expected` file: what decoding it must
//! produce, one line per command or error. After a deliberate behaviour
//! change, regenerate them with `NSQ_UPDATE_FUZZ_EXPECTED=1 cargo test` and
//! review the diff.

use bytes::BytesMut;
use nsq_protocol::codec::{ClientState, CodecLimits, ServerCodec};
use nsq_protocol::lookup::{write_command, LookupClientCodec, LookupServerCodec};
use nsq_protocol::{Command, IdentifyRequest, NegotiatedSettings, ServerIdentifyLimits};
use tokio_util::codec::Decoder;

use nsq_fuzz_support::{chunk_lengths, feed};

/// Replays the stored inputs of `target` (see `nsq_fuzz_support`).
fn replay(target: &str, outcome: impl Fn(&[u8]) -> Vec<String>) {
    nsq_fuzz_support::replay(env!("CARGO_MANIFEST_DIR"), target, outcome);
}

/// Whether the line protocol can carry `cmd`: a message id holding a
/// space, `\r` or `\n` decodes (nsqd only checks its length) but cannot be
/// sent back.
fn encodable(cmd: &Command) -> bool {
    match cmd {
        Command::Fin(id) | Command::Touch(id) | Command::Req { id, .. } => !id
            .as_bytes()
            .iter()
            .any(|b| matches!(b, b' ' | b'\r' | b'\n')),
        _ => true,
    }
}

/// `[flags][chunk seed][stream]` as in the `v2_server` target.
fn v2_session(stream: &[u8], chunks: &[usize], flags: u8) -> Vec<String> {
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
    let mut codec = ServerCodec::new(limits);
    codec.context.tls_required_pending = flags & 2 != 0;
    let identify_limits = ServerIdentifyLimits::default();
    let mut negotiated: Option<NegotiatedSettings> = None;
    let mut log = Vec::new();
    feed(&mut codec, stream, chunks, &mut log, |codec, cmd, log| {
        // Re-encoded, the command decodes to itself (unless it holds an id
        // the line protocol cannot carry, see `Command::encode`).
        if encodable(&cmd) {
            let mut wire = BytesMut::new();
            cmd.encode(&mut wire);
            let mut again = ServerCodec::new(limits);
            again.context = codec.context;
            assert_eq!(again.decode(&mut wire).ok().flatten().as_ref(), Some(&cmd));
        }
        log.push(format!("{cmd:?}"));
        match &cmd {
            Command::Identify(body) => {
                let current = negotiated
                    .take()
                    .unwrap_or_else(|| NegotiatedSettings::initial(&identify_limits));
                let settings = IdentifyRequest::from_json(body)
                    .and_then(|r| r.negotiate_from(&current, &identify_limits));
                match settings {
                    Ok(s) => {
                        codec.context.heartbeats_disabled = s.heartbeat_interval_ms.is_none();
                        if s.tls_v1 {
                            codec.context.tls_required_pending = false;
                        }
                        log.push(format!(
                            "IDENTIFY ok heartbeat={:?}",
                            s.heartbeat_interval_ms
                        ));
                        negotiated = Some(s);
                    }
                    Err(e) => {
                        log.push(format!("IDENTIFY error {}", e.wire_text()));
                        return false;
                    }
                }
            }
            Command::Sub { .. } => codec.context.state = ClientState::Subscribed,
            Command::Cls => codec.context.state = ClientState::Closing,
            _ => {}
        }
        if let Some(topic) = codec.take_mpub_topic() {
            log.push(format!("mpub line {topic}"));
        }
        true
    });
    log
}

#[test]
fn v2_server_inputs() {
    replay("v2_server", |data| {
        let (flags, seed) = (data.first().copied(), data.get(1).copied());
        let stream = data.get(2..).unwrap_or_default();
        let flags = flags.unwrap_or(0);
        let whole = v2_session(stream, &[stream.len()], flags);
        let chunked = v2_session(
            stream,
            &chunk_lengths(stream.len(), seed.unwrap_or(0)),
            flags,
        );
        assert_eq!(whole, chunked, "outcome depends on the read sizes");
        whole
    });
}

#[test]
fn identify_json_inputs() {
    replay("identify_json", |body| {
        let limits = ServerIdentifyLimits::default();
        match IdentifyRequest::from_json(body) {
            Err(e) => vec![format!("decode error {}", e.wire_text())],
            Ok(req) => {
                let negotiated = match req.negotiate(&limits) {
                    Ok(s) => String::from_utf8_lossy(&s.response(&limits).to_json()).into_owned(),
                    Err(e) => format!("negotiate error {}", e.wire_text()),
                };
                vec![format!("{req:?}"), negotiated]
            }
        }
    });
}

#[test]
fn lookupd_v1_inputs() {
    replay("lookupd_v1", |data| {
        let flags = data.first().copied().unwrap_or(0);
        let seed = data.get(1).copied().unwrap_or(0);
        let stream = data.get(2..).unwrap_or_default();
        let run = |chunks: &[usize]| {
            let mut log = Vec::new();
            if flags & 1 != 0 {
                let mut codec = LookupClientCodec::new(1024);
                feed(&mut codec, stream, chunks, &mut log, |_, reply, log| {
                    log.push(format!("reply {reply:?}"));
                    true
                });
            } else {
                let mut codec = if flags & 2 != 0 {
                    LookupServerCodec::new()
                } else {
                    LookupServerCodec::after_magic()
                };
                feed(&mut codec, stream, chunks, &mut log, |_, cmd, log| {
                    let mut wire = BytesMut::new();
                    write_command(&mut wire, &cmd);
                    log.push(format!("{cmd:?} = {:?}", String::from_utf8_lossy(&wire)));
                    true
                });
            }
            log
        };
        let whole = run(&[stream.len()]);
        assert_eq!(whole, run(&chunk_lengths(stream.len(), seed)));
        whole
    });
}

/// A command line trickled in one byte per read used to be rescanned from
/// its start at every read: ~0.8 s of CPU (release build) for one 64 KiB
/// line, a cheap way for a client to keep nsqlookupd busy. The decoder now
/// remembers how far it has looked, so this is linear.
#[test]
fn lookupd_line_sent_a_byte_at_a_time_is_scanned_once() {
    let mut line = b"PING".to_vec();
    line.resize(nsq_protocol::lookup::MAX_LINE_LEN - 1, b' ');
    line.push(b'\n');
    let mut codec = LookupServerCodec::after_magic();
    let mut buf = BytesMut::new();
    let started = std::time::Instant::now();
    let mut decoded = Vec::new();
    for &b in &line {
        buf.extend_from_slice(&[b]);
        if let Some(cmd) = codec.decode(&mut buf).unwrap() {
            decoded.push(cmd);
        }
    }
    let elapsed = started.elapsed();
    assert_eq!(decoded, [nsq_protocol::lookup::LookupCommand::Ping]);
    assert!(buf.is_empty());
    // Linear: a few milliseconds even unoptimised; quadratic took seconds.
    assert!(
        elapsed < std::time::Duration::from_secs(2),
        "{elapsed:?} for one trickled line"
    );
}
