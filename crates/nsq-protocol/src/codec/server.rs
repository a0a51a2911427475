//! The server decoder's state machine: find a line, act on it, then read
//! whatever body the command carries, keeping partial progress between calls.

use super::line::{parse_line, BodyKind, LineAction};
use super::{CodecLimits, ConnContext, DecodeError, MAX_LINE_LEN};
use crate::command::Command;
use crate::error::{ErrorCode, ProtocolError};
use bytes::{Buf, Bytes, BytesMut};

/// Where the decoder is inside the current command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DecodeState {
    /// Looking for `\n`; the first `scanned` buffered bytes hold none.
    Line { scanned: usize },
    /// The line was consumed; `[u32 size][body]` is expected.
    Body(BodyKind),
    /// MPUB line consumed; `[u32 body size][u32 count]` is expected.
    MpubHeader { topic: String },
    /// MPUB header consumed; `count` messages are expected, `bodies` hold
    /// the ones read so far.
    MpubMessages {
        topic: String,
        count: usize,
        bodies: Vec<Bytes>,
    },
}

impl Default for DecodeState {
    fn default() -> Self {
        DecodeState::Line { scanned: 0 }
    }
}

/// Everything the decoder remembers between calls.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Progress {
    /// Where the decoder is inside the current command.
    pub(crate) stage: DecodeState,
    /// The topic of an MPUB whose line was accepted and not yet reported.
    pub(crate) mpub_started: Option<String>,
}

/// What one step produced.
enum Step {
    Command(Command),
    /// Progress was made (or a line was dropped): try again.
    Continue,
    /// More bytes are needed.
    NeedMore,
}

/// Decodes the next command, if complete.
pub(crate) fn decode(
    progress: &mut Progress,
    ctx: &ConnContext,
    limits: &CodecLimits,
    src: &mut BytesMut,
) -> Result<Option<Command>, DecodeError> {
    loop {
        match step(progress, ctx, limits, src) {
            Ok(Step::Command(cmd)) => return Ok(Some(cmd)),
            Ok(Step::Continue) => {}
            Ok(Step::NeedMore) => return Ok(None),
            Err(e) => {
                progress.stage = DecodeState::default();
                return Err(e);
            }
        }
    }
}

/// Decodes at end of input: a command cut short inside its body is the
/// "failed to read" error nsqd reports; a partial line ends quietly.
pub(crate) fn decode_eof(
    progress: &mut Progress,
    ctx: &ConnContext,
    limits: &CodecLimits,
    src: &mut BytesMut,
) -> Result<Option<Command>, DecodeError> {
    if let Some(cmd) = decode(progress, ctx, limits, src)? {
        return Ok(Some(cmd));
    }
    let have = src.len();
    let err = match std::mem::take(&mut progress.stage) {
        DecodeState::Line { .. } => return Ok(None),
        DecodeState::Body(kind) => kind.truncated(have >= 4),
        DecodeState::MpubHeader { .. } => ProtocolError::new(
            ErrorCode::BadBody,
            if have < 4 {
                "MPUB failed to read body size"
            } else {
                "MPUB failed to read message count"
            },
        ),
        DecodeState::MpubMessages { bodies, .. } => {
            if have < 4 {
                ProtocolError::new(
                    ErrorCode::BadMessage,
                    format!("MPUB failed to read message({}) body size", bodies.len()),
                )
            } else {
                ProtocolError::new(ErrorCode::BadMessage, "MPUB failed to read message body")
            }
        }
    };
    Err(DecodeError::Protocol(err))
}

fn step(
    progress: &mut Progress,
    ctx: &ConnContext,
    limits: &CodecLimits,
    src: &mut BytesMut,
) -> Result<Step, DecodeError> {
    let state = &mut progress.stage;
    match state {
        DecodeState::Line { scanned } => {
            let window = src.len().min(MAX_LINE_LEN);
            let from = (*scanned).min(window);
            let unscanned = src.get(from..window).unwrap_or_default();
            let Some(pos) = unscanned.iter().position(|&b| b == b'\n') else {
                if src.len() >= MAX_LINE_LEN {
                    return Err(DecodeError::LineTooLong);
                }
                *scanned = src.len();
                return Ok(Step::NeedMore);
            };
            let end = from + pos;
            let mut line = src.get(..end).unwrap_or_default();
            if let [rest @ .., b'\r'] = line {
                line = rest;
            }
            let action = parse_line(line, ctx, limits).map_err(DecodeError::Protocol)?;
            src.advance(end + 1);
            *state = DecodeState::default();
            match action {
                LineAction::Ready(cmd) => Ok(Step::Command(cmd)),
                LineAction::Ignore => Ok(Step::Continue),
                LineAction::Body(kind) => {
                    *state = DecodeState::Body(kind);
                    Ok(Step::Continue)
                }
                LineAction::Mpub { topic } => {
                    progress.mpub_started = Some(topic.clone());
                    *state = DecodeState::MpubHeader { topic };
                    Ok(Step::Continue)
                }
            }
        }
        DecodeState::Body(kind) => {
            let Some(size) = peek_size(src) else {
                return Ok(Step::NeedMore);
            };
            let len = kind
                .check_size(size, limits)
                .map_err(DecodeError::Protocol)?;
            let Some(body) = take_sized(src, len) else {
                return Ok(Step::NeedMore);
            };
            let DecodeState::Body(kind) = std::mem::take(state) else {
                return Ok(Step::Continue);
            };
            Ok(Step::Command(kind.into_command(body)))
        }
        DecodeState::MpubHeader { topic } => {
            let Some(body_size) = peek_size(src) else {
                return Ok(Step::NeedMore);
            };
            check_mpub_body_size(body_size, limits).map_err(DecodeError::Protocol)?;
            let Some(count) = src.get(4..8).and_then(read_i32) else {
                return Ok(Step::NeedMore);
            };
            let count = check_mpub_count(count, limits).map_err(DecodeError::Protocol)?;
            src.advance(8);
            *state = DecodeState::MpubMessages {
                topic: std::mem::take(topic),
                count,
                bodies: Vec::new(),
            };
            Ok(Step::Continue)
        }
        DecodeState::MpubMessages {
            topic,
            count,
            bodies,
        } => {
            while bodies.len() < *count {
                let Some(size) = peek_size(src) else {
                    return Ok(Step::NeedMore);
                };
                let len = check_mpub_message_size(bodies.len(), size, limits)
                    .map_err(DecodeError::Protocol)?;
                let Some(body) = take_sized(src, len) else {
                    return Ok(Step::NeedMore);
                };
                bodies.push(body);
            }
            let cmd = Command::Mpub {
                topic: std::mem::take(topic),
                bodies: std::mem::take(bodies),
            };
            *state = DecodeState::default();
            Ok(Step::Command(cmd))
        }
    }
}

fn read_i32(bytes: &[u8]) -> Option<i32> {
    bytes.try_into().ok().map(i32::from_be_bytes)
}

/// The signed 32-bit size at the front of `src`, without consuming it.
fn peek_size(src: &BytesMut) -> Option<i32> {
    src.get(..4).and_then(read_i32)
}

/// Consumes `[u32 size][len bytes]` once all of it is buffered; the body
/// shares the buffer's memory.
fn take_sized(src: &mut BytesMut, len: usize) -> Option<Bytes> {
    let total = 4 + len;
    if src.len() < total {
        src.reserve(total - src.len());
        return None;
    }
    src.advance(4);
    Some(src.split_to(len).freeze())
}

/// A size already known to be positive, as a length.
fn positive_len(size: i32) -> usize {
    size.unsigned_abs() as usize
}

fn exceeds(size: i32, max: u64) -> bool {
    i128::from(size) > i128::from(max)
}

impl BodyKind {
    fn name(&self) -> &'static str {
        match self {
            BodyKind::Identify => "IDENTIFY",
            BodyKind::Auth => "AUTH",
            BodyKind::Pub { .. } => "PUB",
            BodyKind::Dpub { .. } => "DPUB",
        }
    }

    /// nsqd's size checks, in its order, for this command.
    fn check_size(&self, size: i32, limits: &CodecLimits) -> Result<usize, ProtocolError> {
        let name = self.name();
        match self {
            BodyKind::Identify | BodyKind::Auth => {
                if exceeds(size, limits.max_body_size) {
                    return Err(ProtocolError::new(
                        ErrorCode::BadBody,
                        format!("{name} body too big {size} > {}", limits.max_body_size),
                    ));
                }
                if size <= 0 {
                    return Err(ProtocolError::new(
                        ErrorCode::BadBody,
                        format!("{name} invalid body size {size}"),
                    ));
                }
            }
            BodyKind::Pub { .. } | BodyKind::Dpub { .. } => {
                if size <= 0 {
                    return Err(ProtocolError::new(
                        ErrorCode::BadMessage,
                        format!("{name} invalid message body size {size}"),
                    ));
                }
                if exceeds(size, limits.max_msg_size) {
                    return Err(ProtocolError::new(
                        ErrorCode::BadMessage,
                        format!("{name} message too big {size} > {}", limits.max_msg_size),
                    ));
                }
            }
        }
        Ok(positive_len(size))
    }

    /// The error for input that ended before the size (`false`) or the body.
    fn truncated(&self, have_size: bool) -> ProtocolError {
        let name = self.name();
        match (self, have_size) {
            (BodyKind::Identify | BodyKind::Auth, false) => ProtocolError::new(
                ErrorCode::BadBody,
                format!("{name} failed to read body size"),
            ),
            (BodyKind::Identify | BodyKind::Auth, true) => {
                ProtocolError::new(ErrorCode::BadBody, format!("{name} failed to read body"))
            }
            (_, false) => ProtocolError::new(
                ErrorCode::BadMessage,
                format!("{name} failed to read message body size"),
            ),
            (_, true) => ProtocolError::new(
                ErrorCode::BadMessage,
                format!("{name} failed to read message body"),
            ),
        }
    }

    fn into_command(self, body: Bytes) -> Command {
        match self {
            BodyKind::Identify => Command::Identify(body),
            BodyKind::Auth => Command::Auth(body),
            BodyKind::Pub { topic } => Command::Pub { topic, body },
            BodyKind::Dpub { topic, defer_ms } => Command::Dpub {
                topic,
                defer_ms,
                body,
            },
        }
    }
}

/// MPUB's body size is only range-checked; it does not delimit anything.
fn check_mpub_body_size(size: i32, limits: &CodecLimits) -> Result<(), ProtocolError> {
    if size <= 0 {
        return Err(ProtocolError::new(
            ErrorCode::BadBody,
            format!("MPUB invalid body size {size}"),
        ));
    }
    if exceeds(size, limits.max_body_size) {
        return Err(ProtocolError::new(
            ErrorCode::BadBody,
            format!("MPUB body too big {size} > {}", limits.max_body_size),
        ));
    }
    Ok(())
}

/// At most `(max_body_size - 4) / 5` messages: 4 bytes of count, and each
/// message needs a 4-byte size and at least 1 byte.
fn check_mpub_count(count: i32, limits: &CodecLimits) -> Result<usize, ProtocolError> {
    let max_messages = (i128::from(limits.max_body_size) - 4) / 5;
    if count <= 0 || i128::from(count) > max_messages {
        return Err(ProtocolError::new(
            ErrorCode::BadBody,
            format!("MPUB invalid message count {count}"),
        ));
    }
    Ok(positive_len(count))
}

fn check_mpub_message_size(
    index: usize,
    size: i32,
    limits: &CodecLimits,
) -> Result<usize, ProtocolError> {
    if size <= 0 {
        return Err(ProtocolError::new(
            ErrorCode::BadMessage,
            format!("MPUB invalid message({index}) body size {size}"),
        ));
    }
    if exceeds(size, limits.max_msg_size) {
        return Err(ProtocolError::new(
            ErrorCode::BadMessage,
            format!("MPUB message too big {size} > {}", limits.max_msg_size),
        ));
    }
    Ok(positive_len(size))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::ClientState;

    fn run(progress: &mut Progress, src: &mut BytesMut) -> Option<Command> {
        let ctx = ConnContext {
            state: ClientState::Subscribed,
            ..ConnContext::default()
        };
        decode(progress, &ctx, &CodecLimits::default(), src).unwrap()
    }

    #[test]
    fn line_search_resumes_where_it_stopped() {
        let mut state = Progress::default();
        let mut src = BytesMut::from(&b"RDY 1"[..]);
        assert_eq!(run(&mut state, &mut src), None);
        assert_eq!(state.stage, DecodeState::Line { scanned: 5 });
        src.extend_from_slice(b"23");
        assert_eq!(run(&mut state, &mut src), None);
        assert_eq!(state.stage, DecodeState::Line { scanned: 7 });
        src.extend_from_slice(b"\n");
        assert_eq!(run(&mut state, &mut src), Some(Command::Rdy(123)));
        assert_eq!(state.stage, DecodeState::Line { scanned: 0 });
    }

    #[test]
    fn line_is_consumed_before_the_body_arrives() {
        let mut state = Progress::default();
        let mut src = BytesMut::from(&b"PUB t\n\0\0"[..]);
        assert_eq!(run(&mut state, &mut src), None);
        assert_eq!(
            state.stage,
            DecodeState::Body(BodyKind::Pub { topic: "t".into() })
        );
        assert_eq!(
            &src[..],
            b"\0\0",
            "size prefix stays until the body is complete"
        );
    }

    #[test]
    fn mpub_keeps_messages_read_so_far() {
        let mut state = Progress::default();
        let mut src = BytesMut::from(&b"MPUB t\n\0\0\0\x09\0\0\0\x02\0\0\0\x01a\0\0"[..]);
        assert_eq!(run(&mut state, &mut src), None);
        assert_eq!(state.mpub_started.as_deref(), Some("t"));
        match &state.stage {
            DecodeState::MpubMessages { count, bodies, .. } => {
                assert_eq!(*count, 2);
                assert_eq!(bodies, &vec![Bytes::from_static(b"a")]);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(&src[..], b"\0\0");
    }

    #[test]
    fn errors_reset_the_state() {
        let mut state = Progress {
            stage: DecodeState::Body(BodyKind::Auth),
            mpub_started: None,
        };
        let mut src = BytesMut::from(&b"\0\0\0\0"[..]);
        let ctx = ConnContext::default();
        assert!(decode(&mut state, &ctx, &CodecLimits::default(), &mut src).is_err());
        assert_eq!(state.stage, DecodeState::default());
    }
}
