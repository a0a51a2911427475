//! One command line: splitting, the TLS rule, the state table and every
//! parameter check nsqd v1.3.0 makes before it reads a body.

use super::{ClientState, CodecLimits, ConnContext};
use crate::command::Command;
use crate::error::{ErrorCode, ProtocolError};
use crate::message::MessageId;
use crate::names::{is_valid_channel_name, is_valid_topic_name};
use crate::text::{go_quote, lossy, parse_base10};

/// What the decoder does after a complete, valid line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum LineAction {
    /// The command has no body: it is complete.
    Ready(Command),
    /// The line is dropped silently (RDY while closing).
    Ignore,
    /// A `[u32 size][body]` follows.
    Body(BodyKind),
    /// An MPUB body follows.
    Mpub {
        /// The validated topic.
        topic: String,
    },
}

/// A command whose line is parsed and which waits for `[u32 size][body]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum BodyKind {
    /// IDENTIFY.
    Identify,
    /// AUTH.
    Auth,
    /// PUB to `topic`.
    Pub { topic: String },
    /// DPUB to `topic`.
    Dpub { topic: String, defer_ms: u64 },
}

/// Parses one line (without `\n` and the optional `\r`).
pub(super) fn parse_line(
    line: &[u8],
    ctx: &ConnContext,
    limits: &CodecLimits,
) -> Result<LineAction, ProtocolError> {
    let params: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
    let name = params.first().copied().unwrap_or_default();
    if name == b"IDENTIFY" {
        return identify(ctx);
    }
    if ctx.tls_required_pending {
        return Err(ProtocolError::invalid(format!(
            "cannot {} in current state (TLS required)",
            lossy(name)
        )));
    }
    match name {
        b"FIN" => {
            message_id_command(&params, ctx, "FIN").map(|id| LineAction::Ready(Command::Fin(id)))
        }
        b"RDY" => rdy(&params, ctx, limits),
        b"REQ" => req(&params, ctx, limits),
        b"PUB" => publish(&params),
        b"MPUB" => mpub(&params),
        b"DPUB" => dpub(&params, limits),
        b"NOP" => Ok(LineAction::Ready(Command::Nop)),
        b"TOUCH" => message_id_command(&params, ctx, "TOUCH")
            .map(|id| LineAction::Ready(Command::Touch(id))),
        b"SUB" => sub(&params, ctx),
        b"CLS" => cls(ctx),
        b"AUTH" => auth(&params, ctx),
        _ => Err(ProtocolError::invalid(format!(
            "invalid command {}",
            lossy(name)
        ))),
    }
}

fn wrong_state(cmd: &str) -> ProtocolError {
    ProtocolError::invalid(format!("cannot {cmd} in current state"))
}

fn may_ack(ctx: &ConnContext) -> bool {
    matches!(ctx.state, ClientState::Subscribed | ClientState::Closing)
}

/// A validated topic or channel name.
fn valid_name(raw: &[u8], valid: fn(&str) -> bool) -> Option<String> {
    std::str::from_utf8(raw)
        .ok()
        .filter(|name| valid(name))
        .map(str::to_owned)
}

fn topic_param(cmd: &str, raw: &[u8], doubled_code: bool) -> Result<String, ProtocolError> {
    valid_name(raw, is_valid_topic_name).ok_or_else(|| {
        let prefix = if doubled_code { "E_BAD_TOPIC " } else { "" };
        ProtocolError::new(
            ErrorCode::BadTopic,
            format!("{prefix}{cmd} topic name {} is not valid", go_quote(raw)),
        )
    })
}

/// nsqd's millisecond count as a Go `time.Duration` in nanoseconds
/// (wrapping like Go's int64 multiplication).
fn duration_ns(ms: u64) -> i64 {
    (ms as i64).wrapping_mul(1_000_000)
}

/// `--max-req-timeout` in nanoseconds.
fn max_req_ns(limits: &CodecLimits) -> i64 {
    i64::try_from(limits.max_req_timeout_ms)
        .ok()
        .and_then(|ms| ms.checked_mul(1_000_000))
        .unwrap_or(i64::MAX)
}

fn ns_to_ms(ns: i64) -> u64 {
    (ns / 1_000_000).unsigned_abs()
}

fn identify(ctx: &ConnContext) -> Result<LineAction, ProtocolError> {
    if ctx.state != ClientState::Init {
        return Err(wrong_state("IDENTIFY"));
    }
    Ok(LineAction::Body(BodyKind::Identify))
}

fn auth(params: &[&[u8]], ctx: &ConnContext) -> Result<LineAction, ProtocolError> {
    if ctx.state != ClientState::Init {
        return Err(wrong_state("AUTH"));
    }
    if params.len() != 1 {
        return Err(ProtocolError::invalid("AUTH invalid number of parameters"));
    }
    Ok(LineAction::Body(BodyKind::Auth))
}

fn sub(params: &[&[u8]], ctx: &ConnContext) -> Result<LineAction, ProtocolError> {
    if ctx.state != ClientState::Init {
        return Err(wrong_state("SUB"));
    }
    if ctx.heartbeats_disabled {
        return Err(ProtocolError::invalid(
            "cannot SUB with heartbeats disabled",
        ));
    }
    let [_, topic, channel, ..] = params else {
        return Err(ProtocolError::invalid(
            "SUB insufficient number of parameters",
        ));
    };
    let topic = topic_param("SUB", topic, false)?;
    let channel = valid_name(channel, is_valid_channel_name).ok_or_else(|| {
        ProtocolError::new(
            ErrorCode::BadChannel,
            format!("SUB channel name {} is not valid", go_quote(channel)),
        )
    })?;
    Ok(LineAction::Ready(Command::Sub { topic, channel }))
}

fn publish(params: &[&[u8]]) -> Result<LineAction, ProtocolError> {
    let [_, topic, ..] = params else {
        return Err(ProtocolError::invalid(
            "PUB insufficient number of parameters",
        ));
    };
    let topic = topic_param("PUB", topic, false)?;
    Ok(LineAction::Body(BodyKind::Pub { topic }))
}

fn mpub(params: &[&[u8]]) -> Result<LineAction, ProtocolError> {
    let [_, topic, ..] = params else {
        return Err(ProtocolError::invalid(
            "MPUB insufficient number of parameters",
        ));
    };
    let topic = topic_param("MPUB", topic, true)?;
    Ok(LineAction::Mpub { topic })
}

fn dpub(params: &[&[u8]], limits: &CodecLimits) -> Result<LineAction, ProtocolError> {
    let [_, topic, raw_timeout, ..] = params else {
        return Err(ProtocolError::invalid(
            "DPUB insufficient number of parameters",
        ));
    };
    let topic = topic_param("DPUB", topic, false)?;
    let timeout_ms = parse_base10(raw_timeout).ok_or_else(|| {
        ProtocolError::invalid(format!(
            "DPUB could not parse timeout {}",
            lossy(raw_timeout)
        ))
    })?;
    let ns = duration_ns(timeout_ms);
    if ns < 0 || ns > max_req_ns(limits) {
        return Err(ProtocolError::invalid(format!(
            "DPUB timeout {timeout_ms} out of range 0-{}",
            limits.max_req_timeout_ms
        )));
    }
    Ok(LineAction::Body(BodyKind::Dpub {
        topic,
        defer_ms: ns_to_ms(ns),
    }))
}

fn rdy(
    params: &[&[u8]],
    ctx: &ConnContext,
    limits: &CodecLimits,
) -> Result<LineAction, ProtocolError> {
    match ctx.state {
        ClientState::Closing => return Ok(LineAction::Ignore),
        ClientState::Subscribed => {}
        ClientState::Init => return Err(wrong_state("RDY")),
    }
    let count: i64 = match params.get(1) {
        None => 1,
        Some(raw) => {
            let n = parse_base10(raw).ok_or_else(|| {
                ProtocolError::invalid(format!("RDY could not parse count {}", lossy(raw)))
            })?;
            // nsqd converts the unsigned value to a signed one.
            n as i64
        }
    };
    if count < 0 || i128::from(count) > i128::from(limits.max_rdy_count) {
        return Err(ProtocolError::invalid(format!(
            "RDY count {count} out of range 0-{}",
            limits.max_rdy_count
        )));
    }
    Ok(LineAction::Ready(Command::Rdy(count.unsigned_abs())))
}

fn req(
    params: &[&[u8]],
    ctx: &ConnContext,
    limits: &CodecLimits,
) -> Result<LineAction, ProtocolError> {
    if !may_ack(ctx) {
        return Err(wrong_state("REQ"));
    }
    let [_, raw_id, raw_timeout, ..] = params else {
        return Err(ProtocolError::invalid("REQ insufficient number of params"));
    };
    let id = message_id(raw_id)?;
    let timeout_ms = parse_base10(raw_timeout).ok_or_else(|| {
        ProtocolError::invalid(format!(
            "REQ could not parse timeout {}",
            lossy(raw_timeout)
        ))
    })?;
    let max = max_req_ns(limits);
    let clamped = duration_ns(timeout_ms).clamp(0, max);
    Ok(LineAction::Ready(Command::Req {
        id,
        timeout_ms: ns_to_ms(clamped),
    }))
}

/// FIN and TOUCH: state, one id parameter.
fn message_id_command(
    params: &[&[u8]],
    ctx: &ConnContext,
    cmd: &str,
) -> Result<MessageId, ProtocolError> {
    if !may_ack(ctx) {
        return Err(wrong_state(cmd));
    }
    let [_, raw_id, ..] = params else {
        return Err(ProtocolError::invalid(format!(
            "{cmd} insufficient number of params"
        )));
    };
    message_id(raw_id)
}

fn message_id(raw: &[u8]) -> Result<MessageId, ProtocolError> {
    MessageId::from_slice(raw).ok_or_else(|| ProtocolError::invalid("invalid message ID"))
}

fn cls(ctx: &ConnContext) -> Result<LineAction, ProtocolError> {
    if ctx.state != ClientState::Subscribed {
        return Err(wrong_state("CLS"));
    }
    Ok(LineAction::Ready(Command::Cls))
}
