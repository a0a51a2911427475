//! Replays the recorded nsqd v1.3.0 sessions (tests/fixtures) through the
//! server codec and IDENTIFY negotiation, and checks every frame this crate
//! can predict against the recorded bytes.
//!
//! Predicted: codec errors (and that nsqd closed right after them), IDENTIFY
//! replies and errors, `OK` for SUB/PUB/MPUB/DPUB, `CLOSE_WAIT` for CLS.
//! Frames that depend on the rest of nsqd (messages, heartbeats, FIN/REQ/
//! TOUCH failures, AUTH) are skipped, but an error frame with a code the
//! codec owns must always have been predicted.

mod common;

use bytes::BytesMut;
use common::hex;
use nsq_protocol::codec::{ClientState, DecodeError, ServerCodec};
use nsq_protocol::frame::{write_error, write_response};
use nsq_protocol::{
    CodecLimits, Command, IdentifyRequest, NegotiatedSettings, ServerIdentifyLimits, MAGIC_V2,
};
use serde_json::Value;
use tokio_util::codec::Decoder;

const TRANSCRIPTS: &str = include_str!("fixtures/transcripts-nsqd.json");

/// Error codes only the codec or IDENTIFY negotiation produce.
const CODEC_CODES: &[&str] = &[
    "E_INVALID ",
    "E_BAD_BODY ",
    "E_BAD_TOPIC ",
    "E_BAD_CHANNEL ",
    "E_BAD_MESSAGE ",
    "E_IDENTIFY_FAILED ",
];

#[derive(Debug)]
enum Step {
    Client(Vec<u8>),
    Server(Vec<u8>),
    Closed,
}

/// Splits a transcript into connections.
fn connections(transcript: &Value) -> Vec<Vec<Step>> {
    let mut out: Vec<Vec<Step>> = Vec::new();
    for step in transcript["steps"].as_array().expect("steps") {
        let dir = step["dir"].as_str().expect("dir");
        let text = step["text"].as_str().unwrap_or_default();
        match dir {
            "event" if text.starts_with("client opens TCP connection") => out.push(Vec::new()),
            "event" if text.starts_with("server closed") || text.starts_with("server reset") => {
                out.last_mut().expect("connection").push(Step::Closed)
            }
            "C->S" => out
                .last_mut()
                .expect("connection")
                .push(Step::Client(hex(step["hex"].as_str().expect("hex")))),
            "S->C" => out
                .last_mut()
                .expect("connection")
                .push(Step::Server(hex(step["hex"].as_str().expect("hex")))),
            _ => {}
        }
    }
    out
}

/// The little bit of nsqd needed to predict replies.
struct Model {
    codec: ServerCodec,
    limits: ServerIdentifyLimits,
    settings: NegotiatedSettings,
    closed: bool,
}

impl Model {
    fn new() -> Model {
        let limits = ServerIdentifyLimits::default();
        Model {
            codec: ServerCodec::new(CodecLimits::default()),
            settings: NegotiatedSettings::initial(&limits),
            limits,
            closed: false,
        }
    }

    /// Handles a decoded command; returns the frames nsqd sends for it.
    fn handle(&mut self, cmd: Command) -> Vec<Vec<u8>> {
        let mut frame = BytesMut::new();
        match cmd {
            Command::Identify(body) => {
                let result = IdentifyRequest::from_json(&body)
                    .and_then(|req| req.negotiate_from(&self.settings, &self.limits));
                match result {
                    Ok(settings) => {
                        if settings.feature_negotiation {
                            write_response(&mut frame, &settings.response(&self.limits).to_json());
                        } else {
                            write_response(&mut frame, b"OK");
                        }
                        self.codec.context.heartbeats_disabled =
                            settings.heartbeat_interval_ms.is_none();
                        self.settings = settings;
                    }
                    Err(e) => {
                        write_error(&mut frame, e.wire_text().as_bytes());
                        self.closed = true;
                    }
                }
            }
            Command::Sub { .. } => {
                self.codec.context.state = ClientState::Subscribed;
                write_response(&mut frame, b"OK");
            }
            Command::Pub { .. } | Command::Mpub { .. } | Command::Dpub { .. } => {
                write_response(&mut frame, b"OK")
            }
            Command::Cls => {
                self.codec.context.state = ClientState::Closing;
                write_response(&mut frame, b"CLOSE_WAIT");
            }
            Command::Auth(_)
            | Command::Rdy(_)
            | Command::Fin(_)
            | Command::Req { .. }
            | Command::Touch(_)
            | Command::Nop => return Vec::new(),
        }
        vec![frame.to_vec()]
    }
}

fn is_codec_error(frame: &[u8]) -> bool {
    frame.get(4..8) == Some(&[0, 0, 0, 1][..])
        && CODEC_CODES
            .iter()
            .any(|code| frame[8..].starts_with(code.as_bytes()))
}

/// Replays one connection; returns how many frames were predicted.
fn replay(name: &str, steps: &[Step]) -> usize {
    let mut model = Model::new();
    let mut buf = BytesMut::new();
    let mut predicted: Vec<Vec<u8>> = Vec::new();
    let mut checked = 0;
    let mut expect_close = false;
    let mut magic_seen = false;
    for step in steps {
        match step {
            Step::Client(bytes) if !magic_seen => {
                magic_seen = true;
                assert_eq!(
                    &bytes[..],
                    MAGIC_V2,
                    "{name}: first client step is the magic"
                );
            }
            Step::Client(bytes) => {
                assert!(!model.closed, "{name}: client data after a fatal error");
                buf.extend_from_slice(bytes);
                loop {
                    match model.codec.decode(&mut buf) {
                        Ok(Some(cmd)) => {
                            let frames = model.handle(cmd);
                            predicted.extend(frames);
                            if model.closed {
                                expect_close = true;
                                break;
                            }
                        }
                        Ok(None) => break,
                        Err(DecodeError::Protocol(e)) => {
                            let mut frame = BytesMut::new();
                            write_error(&mut frame, e.wire_text().as_bytes());
                            predicted.push(frame.to_vec());
                            model.closed = true;
                            expect_close = true;
                            break;
                        }
                        Err(other) => panic!("{name}: unexpected {other:?}"),
                    }
                }
            }
            Step::Server(frame) => {
                if predicted.first() == Some(frame) {
                    predicted.remove(0);
                    checked += 1;
                } else {
                    assert!(
                        !is_codec_error(frame),
                        "{name}: unpredicted error frame {:?}; predicted {:?}",
                        String::from_utf8_lossy(frame),
                        predicted
                            .iter()
                            .map(|p| String::from_utf8_lossy(p).into_owned())
                            .collect::<Vec<_>>()
                    );
                }
            }
            Step::Closed => {
                if expect_close {
                    assert!(predicted.is_empty(), "{name}: predicted frames never sent");
                    expect_close = false;
                }
            }
        }
    }
    assert!(
        predicted.is_empty(),
        "{name}: predicted frames not in the transcript: {:?}",
        predicted
            .iter()
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect::<Vec<_>>()
    );
    assert!(
        !expect_close,
        "{name}: nsqd did not close after a fatal error"
    );
    checked
}

#[test]
fn recorded_sessions_replay_byte_for_byte() {
    let all: Value = serde_json::from_str(TRANSCRIPTS).expect("fixture JSON");
    let mut total = 0;
    for (name, transcript) in all.as_object().expect("object") {
        if name.starts_with("04-") {
            continue; // bad magic: handled before the codec
        }
        for (i, conn) in connections(transcript).iter().enumerate() {
            total += replay(&format!("{name} #{}", i + 1), conn);
        }
    }
    // Every transcript contributes; a regression that predicts nothing fails here.
    assert_eq!(total, 49, "frames checked");
}

#[test]
fn fatal_errors_are_followed_by_a_close_in_every_transcript() {
    let all: Value = serde_json::from_str(TRANSCRIPTS).expect("fixture JSON");
    let mut fatal = 0;
    for (name, transcript) in all.as_object().expect("object") {
        for conn in connections(transcript) {
            for (i, step) in conn.iter().enumerate() {
                if let Step::Server(frame) = step {
                    if is_codec_error(frame) {
                        fatal += 1;
                        assert!(
                            matches!(conn.get(i + 1), Some(Step::Closed)),
                            "{name}: codec error not followed by close"
                        );
                    }
                }
            }
        }
    }
    assert_eq!(fatal, 27, "codec errors recorded");
}
