//! The nsqlookupd V1 protocol (`"  V1"` magic, unframed `[u32 size][data]` replies).
//!
//! Client → lookupd: the 4-byte magic, then text lines ending in `\n`.
//! Each line is trimmed of surrounding whitespace and split on single
//! spaces. `IDENTIFY` is followed by `[u32 size][JSON]`.
//!
//! Lookupd → client: every reply, errors included, is `[u32 size][payload]`
//! with **no** frame type. Every error is fatal: lookupd sends it and closes.
//!
//! | command | reply | errors (exact payloads) |
//! |---|---|---|
//! | `PING` | `OK` | – |
//! | `IDENTIFY` + body | JSON with lookupd's own [`PeerIdentity`] | `E_INVALID cannot IDENTIFY again`, `E_BAD_BODY IDENTIFY failed to read body size`, `E_BAD_BODY IDENTIFY failed to read body`, `E_BAD_BODY IDENTIFY failed to decode JSON body`, `E_BAD_BODY IDENTIFY missing fields` |
//! | `REGISTER <topic> [<channel>]` | `OK` | `E_INVALID client must IDENTIFY`, `E_INVALID REGISTER insufficient number of params`, `E_BAD_TOPIC REGISTER topic name '<t>' is not valid`, `E_BAD_CHANNEL REGISTER channel name '<c>' is not valid` |
//! | `UNREGISTER <topic> [<channel>]` | `OK` | the same with `UNREGISTER` |
//! | anything else | – | `E_INVALID invalid command <cmd>` |
//! | wrong magic | – | `E_BAD_PROTOCOL` |
//!
//! [`LookupServerCodec`] is lookupd's end (it also enforces the IDENTIFY
//! state rules); [`LookupClientCodec`] is nsqd's end.

use crate::frame::MAGIC_V1;
use crate::names::{is_valid_channel_name, is_valid_topic_name};
use bytes::{Buf, BufMut, Bytes, BytesMut};
use serde::de::{self, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;
use tokio_util::codec::{Decoder, Encoder};

/// The reply to PING, REGISTER and UNREGISTER.
pub const OK: &[u8] = b"OK";

/// Longest command line lookupd buffers. v1.3.0 has no limit; real lines are
/// under 150 bytes. A longer line closes the connection without a reply.
pub const MAX_LINE_LEN: usize = 64 * 1024;

/// Largest IDENTIFY body accepted. v1.3.0 has no bound (and crashes on a
/// negative size); a negative or larger size is answered with
/// `E_BAD_BODY IDENTIFY failed to read body`.
pub const MAX_IDENTIFY_BODY: usize = 1024 * 1024;

/// The peer description exchanged by IDENTIFY, in both directions.
///
/// Fields are declared in sorted order, so the JSON matches Go's encoding of
/// a map (what both nsqd and nsqlookupd send):
/// `{"broadcast_address":..,"hostname":..,"http_port":..,"tcp_port":..,"version":..}`.
/// Ports are Go `int`s: any 64-bit value is accepted and echoed unchanged.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PeerIdentity {
    /// Address other parties should use to reach this peer.
    pub broadcast_address: String,
    /// OS hostname (optional in requests).
    pub hostname: String,
    /// HTTP port.
    pub http_port: i64,
    /// TCP port.
    pub tcp_port: i64,
    /// NSQ version, e.g. `1.3.0`.
    pub version: String,
}

impl PeerIdentity {
    /// Decodes an IDENTIFY body (or lookupd's reply) with Go `encoding/json`
    /// rules: unknown keys ignored, keys matched case-insensitively, `null`
    /// leaves a field empty, a value of the wrong JSON type (a float or a
    /// string for a port, a number for a string) is an error, a top-level
    /// `null` is an empty identity. `remote_address` is type-checked and
    /// dropped: lookupd always uses the connection's address.
    pub fn from_go_json(body: &[u8]) -> Result<PeerIdentity, serde_json::Error> {
        // Go replaces invalid UTF-8 inside strings instead of failing.
        let text = String::from_utf8_lossy(body);
        serde_json::from_str::<GoIdentity>(&text).map(|g| g.0)
    }

    /// Lookupd's required-field rule: broadcast address, both ports and the
    /// version must be non-empty / non-zero.
    pub fn check_required(&self) -> Result<(), LookupError> {
        if self.broadcast_address.is_empty()
            || self.tcp_port == 0
            || self.http_port == 0
            || self.version.is_empty()
        {
            return Err(LookupError::IdentifyMissingFields);
        }
        Ok(())
    }

    /// Compact JSON with sorted keys and Go's HTML-safe escaping.
    pub fn to_json(&self) -> Vec<u8> {
        go_escape(serde_json::to_vec(self).unwrap_or_default())
    }
}

/// Go's `encoding/json` escapes `<`, `>`, `&`, U+2028 and U+2029 in strings;
/// in compact JSON these characters can only occur inside strings.
fn go_escape(json: Vec<u8>) -> Vec<u8> {
    if !json.iter().any(|b| matches!(b, b'<' | b'>' | b'&' | 0xe2)) {
        return json;
    }
    let mut out = Vec::with_capacity(json.len() + 16);
    let mut i = 0;
    while i < json.len() {
        match &json[i..] {
            [b'<', ..] => out.extend_from_slice(b"\\u003c"),
            [b'>', ..] => out.extend_from_slice(b"\\u003e"),
            [b'&', ..] => out.extend_from_slice(b"\\u0026"),
            [0xe2, 0x80, 0xa8, ..] => {
                out.extend_from_slice(b"\\u2028");
                i += 2;
            }
            [0xe2, 0x80, 0xa9, ..] => {
                out.extend_from_slice(b"\\u2029");
                i += 2;
            }
            [b, ..] => out.push(*b),
            [] => break,
        }
        i += 1;
    }
    out
}

struct GoIdentity(PeerIdentity);

impl<'de> Deserialize<'de> for GoIdentity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(GoIdentityVisitor)
    }
}

struct GoIdentityVisitor;

/// Go matches keys to fields case-insensitively (with Unicode simple
/// folding: `ſ` is `s`, the Kelvin sign is `k`).
fn fold_key(key: &str) -> String {
    key.chars()
        .map(|c| match c {
            '\u{17f}' => 's',
            '\u{212a}' => 'k',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

impl<'de> Visitor<'de> for GoIdentityVisitor {
    type Value = GoIdentity;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_unit<E: de::Error>(self) -> Result<GoIdentity, E> {
        Ok(GoIdentity(PeerIdentity::default()))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<GoIdentity, A::Error> {
        let mut out = PeerIdentity::default();
        // Go keeps decoding after a type mismatch and reports it at the end.
        let mut mismatch: Option<String> = None;
        while let Some(key) = map.next_key::<String>()? {
            let folded = fold_key(&key);
            let string_field = match folded.as_str() {
                "broadcast_address" => Some(&mut out.broadcast_address),
                "hostname" => Some(&mut out.hostname),
                "version" => Some(&mut out.version),
                _ => None,
            };
            if let Some(field) = string_field {
                match map.next_value::<serde_json::Value>()? {
                    serde_json::Value::String(s) => *field = s,
                    serde_json::Value::Null => {}
                    _ => {
                        mismatch.get_or_insert(key);
                    }
                }
                continue;
            }
            let int_field = match folded.as_str() {
                "tcp_port" => Some(&mut out.tcp_port),
                "http_port" => Some(&mut out.http_port),
                _ => None,
            };
            if let Some(field) = int_field {
                match map.next_value::<serde_json::Value>()? {
                    serde_json::Value::Number(n) if n.as_i64().is_some() => {
                        *field = n.as_i64().unwrap_or_default();
                    }
                    serde_json::Value::Null => {}
                    _ => {
                        mismatch.get_or_insert(key);
                    }
                }
                continue;
            }
            if folded == "remote_address" {
                match map.next_value::<serde_json::Value>()? {
                    serde_json::Value::String(_) | serde_json::Value::Null => {}
                    _ => {
                        mismatch.get_or_insert(key);
                    }
                }
                continue;
            }
            map.next_value::<IgnoredAny>()?;
        }
        match mismatch {
            Some(key) => Err(de::Error::custom(format!(
                "wrong JSON type for IDENTIFY field {key:?}"
            ))),
            None => Ok(GoIdentity(out)),
        }
    }
}

/// A decoded client command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupCommand {
    /// `PING`.
    Ping,
    /// `IDENTIFY` with its decoded, validated body.
    Identify(PeerIdentity),
    /// `REGISTER <topic> [<channel>]`.
    Register {
        /// Topic name (valid).
        topic: String,
        /// Channel name (valid), if given.
        channel: Option<String>,
    },
    /// `UNREGISTER <topic> [<channel>]`.
    Unregister {
        /// Topic name (valid).
        topic: String,
        /// Channel name (valid), if given.
        channel: Option<String>,
    },
}

/// Which of the two registration verbs an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistrationVerb {
    /// `REGISTER`.
    Register,
    /// `UNREGISTER`.
    Unregister,
}

impl RegistrationVerb {
    /// The command word.
    pub fn as_str(self) -> &'static str {
        match self {
            RegistrationVerb::Register => "REGISTER",
            RegistrationVerb::Unregister => "UNREGISTER",
        }
    }
}

/// A protocol error lookupd reports to the client before closing.
/// Names and command words are kept as raw bytes: the payload echoes them
/// exactly as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupError {
    /// The first 4 bytes were not `"  V1"` (carries what was received).
    BadProtocol(Vec<u8>),
    /// Unknown command word (may be empty).
    InvalidCommand(Vec<u8>),
    /// A second IDENTIFY on the same connection.
    IdentifyAgain,
    /// The 4-byte body size could not be read.
    IdentifyBodySize,
    /// The body could not be read, or its size is negative or too large.
    IdentifyBody,
    /// The body is not a JSON object of the right shape.
    IdentifyJson,
    /// A required field is empty or zero.
    IdentifyMissingFields,
    /// REGISTER/UNREGISTER before IDENTIFY.
    MustIdentify,
    /// REGISTER/UNREGISTER without a topic.
    InsufficientParams(RegistrationVerb),
    /// Invalid topic name.
    BadTopic(RegistrationVerb, Vec<u8>),
    /// Invalid channel name.
    BadChannel(RegistrationVerb, Vec<u8>),
}

impl LookupError {
    /// The reply payload, e.g. `E_BAD_TOPIC REGISTER topic name 'bad!topic' is not valid`.
    pub fn wire_payload(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        let mut push = |parts: &[&[u8]]| parts.iter().for_each(|p| out.extend_from_slice(p));
        match self {
            LookupError::BadProtocol(_) => push(&[b"E_BAD_PROTOCOL"]),
            LookupError::InvalidCommand(cmd) => push(&[b"E_INVALID invalid command ", cmd]),
            LookupError::IdentifyAgain => push(&[b"E_INVALID cannot IDENTIFY again"]),
            LookupError::IdentifyBodySize => {
                push(&[b"E_BAD_BODY IDENTIFY failed to read body size"])
            }
            LookupError::IdentifyBody => push(&[b"E_BAD_BODY IDENTIFY failed to read body"]),
            LookupError::IdentifyJson => push(&[b"E_BAD_BODY IDENTIFY failed to decode JSON body"]),
            LookupError::IdentifyMissingFields => push(&[b"E_BAD_BODY IDENTIFY missing fields"]),
            LookupError::MustIdentify => push(&[b"E_INVALID client must IDENTIFY"]),
            LookupError::InsufficientParams(verb) => push(&[
                b"E_INVALID ",
                verb.as_str().as_bytes(),
                b" insufficient number of params",
            ]),
            LookupError::BadTopic(verb, name) => push(&[
                b"E_BAD_TOPIC ",
                verb.as_str().as_bytes(),
                b" topic name '",
                name,
                b"' is not valid",
            ]),
            LookupError::BadChannel(verb, name) => push(&[
                b"E_BAD_CHANNEL ",
                verb.as_str().as_bytes(),
                b" channel name '",
                name,
                b"' is not valid",
            ]),
        }
        out
    }
}

impl fmt::Display for LookupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.wire_payload()))
    }
}

impl std::error::Error for LookupError {}

/// The result of parsing one command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParsedLine {
    /// A complete command.
    Command(LookupCommand),
    /// `IDENTIFY`: a `[u32 size][JSON]` body follows.
    IdentifyBodyFollows,
}

/// Parses one line (with or without its `\n`) the way nsqlookupd v1.3.0
/// does: trim surrounding whitespace, split on every single space, check
/// the IDENTIFY state first, then the parameters. Extra parameters after
/// the channel are ignored; an empty channel (`REGISTER t  c`) means "no
/// channel", an empty topic is an invalid name.
pub fn parse_line(line: &[u8], identified: bool) -> Result<ParsedLine, LookupError> {
    let line = trim_go_space(line);
    let mut words = line.split(|&b| b == b' ');
    let command = words.next().unwrap_or_default();
    let verb = match command {
        b"PING" => return Ok(ParsedLine::Command(LookupCommand::Ping)),
        b"IDENTIFY" if identified => return Err(LookupError::IdentifyAgain),
        b"IDENTIFY" => return Ok(ParsedLine::IdentifyBodyFollows),
        b"REGISTER" => RegistrationVerb::Register,
        b"UNREGISTER" => RegistrationVerb::Unregister,
        other => return Err(LookupError::InvalidCommand(other.to_vec())),
    };
    if !identified {
        return Err(LookupError::MustIdentify);
    }
    let topic = words.next().ok_or(LookupError::InsufficientParams(verb))?;
    let channel = words.next().filter(|c| !c.is_empty());
    let topic = valid_name(topic, is_valid_topic_name)
        .ok_or_else(|| LookupError::BadTopic(verb, topic.to_vec()))?;
    let channel = match channel {
        Some(c) => Some(
            valid_name(c, is_valid_channel_name)
                .ok_or_else(|| LookupError::BadChannel(verb, c.to_vec()))?,
        ),
        None => None,
    };
    Ok(ParsedLine::Command(match verb {
        RegistrationVerb::Register => LookupCommand::Register { topic, channel },
        RegistrationVerb::Unregister => LookupCommand::Unregister { topic, channel },
    }))
}

fn valid_name(raw: &[u8], rule: fn(&str) -> bool) -> Option<String> {
    std::str::from_utf8(raw)
        .ok()
        .filter(|s| rule(s))
        .map(str::to_string)
}

/// Go's `strings.TrimSpace` on bytes: ASCII and Unicode whitespace at both ends.
fn trim_go_space(mut s: &[u8]) -> &[u8] {
    loop {
        match leading_space_len(s) {
            0 => break,
            n => s = &s[n..],
        }
    }
    loop {
        match trailing_space_len(s) {
            0 => break,
            n => s = &s[..s.len() - n],
        }
    }
    s
}

fn is_ascii_go_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn leading_space_len(s: &[u8]) -> usize {
    match s.first() {
        None => 0,
        Some(&b) if is_ascii_go_space(b) => 1,
        Some(&b) if b < 0x80 => 0,
        Some(_) => (2..=4)
            .filter(|&n| n <= s.len())
            .find_map(|n| std::str::from_utf8(&s[..n]).ok())
            .and_then(|c| c.chars().next())
            .filter(|c| c.is_whitespace())
            .map_or(0, char::len_utf8),
    }
}

fn trailing_space_len(s: &[u8]) -> usize {
    match s.last() {
        None => 0,
        Some(&b) if is_ascii_go_space(b) => 1,
        Some(&b) if b < 0x80 => 0,
        Some(_) => (2..=4)
            .filter(|&n| n <= s.len())
            .find_map(|n| std::str::from_utf8(&s[s.len() - n..]).ok())
            .and_then(|c| c.chars().next_back())
            .filter(|c| c.is_whitespace())
            .map_or(0, char::len_utf8),
    }
}

/// Why the server codec stopped.
#[derive(Debug, thiserror::Error)]
pub enum LookupDecodeError {
    /// A protocol error: send [`LookupError::wire_payload`] framed, then close.
    #[error("{0}")]
    Protocol(LookupError),
    /// A line longer than [`MAX_LINE_LEN`]: close without a reply.
    #[error("command line longer than {0} bytes")]
    LineTooLong(usize),
    /// Reading or writing the socket failed.
    #[error("connection I/O error: {0}")]
    Io(#[from] std::io::Error),
}

impl From<LookupError> for LookupDecodeError {
    fn from(e: LookupError) -> Self {
        LookupDecodeError::Protocol(e)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ServerState {
    Magic,
    /// Looking for `\n`; the first `scanned` buffered bytes hold none (so a
    /// line arriving a byte at a time is scanned once, not once per byte).
    Line {
        scanned: usize,
    },
    BodySize,
    Body(usize),
}

/// Lookupd's end of a connection: decodes the magic and the commands
/// (enforcing "IDENTIFY once, before REGISTER/UNREGISTER"), encodes replies
/// as `[u32 size][payload]`.
///
/// After a decode error the connection must be closed (every error is fatal).
#[derive(Debug, Clone)]
pub struct LookupServerCodec {
    state: ServerState,
    identified: bool,
}

impl Default for LookupServerCodec {
    fn default() -> Self {
        Self::new()
    }
}

impl LookupServerCodec {
    /// A codec that expects the `"  V1"` magic first.
    pub fn new() -> Self {
        LookupServerCodec {
            state: ServerState::Magic,
            identified: false,
        }
    }

    /// A codec for a stream whose magic was already consumed.
    pub fn after_magic() -> Self {
        LookupServerCodec {
            state: ServerState::Line { scanned: 0 },
            identified: false,
        }
    }

    /// Whether an IDENTIFY has been decoded on this connection.
    pub fn identified(&self) -> bool {
        self.identified
    }
}

impl Decoder for LookupServerCodec {
    type Item = LookupCommand;
    type Error = LookupDecodeError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<LookupCommand>, LookupDecodeError> {
        loop {
            match self.state {
                ServerState::Magic => {
                    if src.len() < MAGIC_V1.len() {
                        return Ok(None);
                    }
                    let magic = src.split_to(MAGIC_V1.len());
                    if &magic[..] != MAGIC_V1 {
                        return Err(LookupError::BadProtocol(magic.to_vec()).into());
                    }
                    self.state = ServerState::Line { scanned: 0 };
                }
                ServerState::Line { scanned } => {
                    let from = scanned.min(src.len());
                    let unscanned = src.get(from..).unwrap_or_default();
                    let Some(end) = unscanned.iter().position(|&b| b == b'\n') else {
                        if src.len() > MAX_LINE_LEN {
                            return Err(LookupDecodeError::LineTooLong(MAX_LINE_LEN));
                        }
                        self.state = ServerState::Line { scanned: src.len() };
                        return Ok(None);
                    };
                    let end = from + end;
                    if end > MAX_LINE_LEN {
                        return Err(LookupDecodeError::LineTooLong(MAX_LINE_LEN));
                    }
                    self.state = ServerState::Line { scanned: 0 };
                    let line = src.split_to(end + 1);
                    match parse_line(&line, self.identified)? {
                        ParsedLine::Command(cmd) => return Ok(Some(cmd)),
                        ParsedLine::IdentifyBodyFollows => self.state = ServerState::BodySize,
                    }
                }
                ServerState::BodySize => {
                    if src.len() < 4 {
                        return Ok(None);
                    }
                    let size = src.get_i32();
                    match usize::try_from(size) {
                        Ok(n) if n <= MAX_IDENTIFY_BODY => self.state = ServerState::Body(n),
                        _ => return Err(LookupError::IdentifyBody.into()),
                    }
                }
                ServerState::Body(size) => {
                    if src.len() < size {
                        src.reserve(size - src.len());
                        return Ok(None);
                    }
                    let body = src.split_to(size);
                    self.state = ServerState::Line { scanned: 0 };
                    let identity =
                        PeerIdentity::from_go_json(&body).map_err(|_| LookupError::IdentifyJson)?;
                    identity.check_required()?;
                    self.identified = true;
                    return Ok(Some(LookupCommand::Identify(identity)));
                }
            }
        }
    }

    fn decode_eof(
        &mut self,
        src: &mut BytesMut,
    ) -> Result<Option<LookupCommand>, LookupDecodeError> {
        if let Some(cmd) = self.decode(src)? {
            return Ok(Some(cmd));
        }
        // A partial line or magic is dropped silently, as lookupd does; a
        // cut IDENTIFY body is reported (the client may still be reading).
        match self.state {
            ServerState::BodySize => Err(LookupError::IdentifyBodySize.into()),
            ServerState::Body(_) => Err(LookupError::IdentifyBody.into()),
            ServerState::Magic | ServerState::Line { .. } => {
                src.clear();
                Ok(None)
            }
        }
    }
}

/// Appends one reply: `[u32 size][payload]`.
pub fn write_reply(dst: &mut BytesMut, payload: &[u8]) {
    dst.reserve(4 + payload.len());
    dst.put_u32(payload.len() as u32);
    dst.put_slice(payload);
}

impl Encoder<&[u8]> for LookupServerCodec {
    type Error = std::io::Error;

    fn encode(&mut self, payload: &[u8], dst: &mut BytesMut) -> Result<(), std::io::Error> {
        write_reply(dst, payload);
        Ok(())
    }
}

impl Encoder<Bytes> for LookupServerCodec {
    type Error = std::io::Error;

    fn encode(&mut self, payload: Bytes, dst: &mut BytesMut) -> Result<(), std::io::Error> {
        write_reply(dst, &payload);
        Ok(())
    }
}

/// Why the client codec stopped.
#[derive(Debug, thiserror::Error)]
pub enum LookupClientError {
    /// The reply announced more bytes than the client accepts (nsqd: `--max-body-size`).
    #[error("response body size ({size}) is greater than limit ({limit})")]
    ReplyTooLarge {
        /// The announced size (as a signed Go int32).
        size: i64,
        /// The configured limit.
        limit: usize,
    },
    /// The reply announced a negative size.
    #[error("response body size ({0}) is negative")]
    NegativeSize(i32),
    /// Reading or writing the socket failed.
    #[error("connection I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// nsqd's end of a lookupd connection: encodes commands (the `"  V1"` magic
/// goes out before the first one) and decodes `[u32 size][payload]` replies.
///
/// A reply payload starting with `E_` is an error; lookupd closes the
/// connection after sending it.
#[derive(Debug, Clone)]
pub struct LookupClientCodec {
    magic_pending: bool,
    max_reply: usize,
}

impl LookupClientCodec {
    /// A codec for a fresh connection, accepting replies up to `max_reply` bytes.
    pub fn new(max_reply: usize) -> Self {
        LookupClientCodec {
            magic_pending: true,
            max_reply,
        }
    }

    /// A codec that does not send the magic (already sent by the caller).
    pub fn without_magic(max_reply: usize) -> Self {
        LookupClientCodec {
            magic_pending: false,
            max_reply,
        }
    }
}

/// Appends `cmd` in wire form: `PING\n`, `IDENTIFY\n[u32][json]`,
/// `REGISTER t[ c]\n`, `UNREGISTER t[ c]\n`.
pub fn write_command(dst: &mut BytesMut, cmd: &LookupCommand) {
    match cmd {
        LookupCommand::Ping => dst.put_slice(b"PING\n"),
        LookupCommand::Identify(identity) => {
            let body = identity.to_json();
            dst.reserve(13 + body.len());
            dst.put_slice(b"IDENTIFY\n");
            dst.put_u32(body.len() as u32);
            dst.put_slice(&body);
        }
        LookupCommand::Register { topic, channel }
        | LookupCommand::Unregister { topic, channel } => {
            let verb = if matches!(cmd, LookupCommand::Register { .. }) {
                RegistrationVerb::Register
            } else {
                RegistrationVerb::Unregister
            };
            dst.put_slice(verb.as_str().as_bytes());
            dst.put_u8(b' ');
            dst.put_slice(topic.as_bytes());
            if let Some(channel) = channel {
                dst.put_u8(b' ');
                dst.put_slice(channel.as_bytes());
            }
            dst.put_u8(b'\n');
        }
    }
}

impl Encoder<&LookupCommand> for LookupClientCodec {
    type Error = LookupClientError;

    fn encode(&mut self, cmd: &LookupCommand, dst: &mut BytesMut) -> Result<(), Self::Error> {
        if self.magic_pending {
            dst.put_slice(MAGIC_V1);
            self.magic_pending = false;
        }
        write_command(dst, cmd);
        Ok(())
    }
}

impl Encoder<LookupCommand> for LookupClientCodec {
    type Error = LookupClientError;

    fn encode(&mut self, cmd: LookupCommand, dst: &mut BytesMut) -> Result<(), Self::Error> {
        self.encode(&cmd, dst)
    }
}

impl Decoder for LookupClientCodec {
    type Item = Bytes;
    type Error = LookupClientError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, LookupClientError> {
        if src.len() < 4 {
            return Ok(None);
        }
        let size = i32::from_be_bytes([src[0], src[1], src[2], src[3]]);
        let size = usize::try_from(size).map_err(|_| LookupClientError::NegativeSize(size))?;
        if size > self.max_reply {
            return Err(LookupClientError::ReplyTooLarge {
                size: size as i64,
                limit: self.max_reply,
            });
        }
        if src.len() < 4 + size {
            src.reserve(4 + size - src.len());
            return Ok(None);
        }
        src.advance(4);
        Ok(Some(src.split_to(size).freeze()))
    }
}

/// Whether a reply payload is an error (`E_...`).
pub fn is_error_reply(payload: &[u8]) -> bool {
    payload.starts_with(b"E_")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// wire/22 (raw client against nsqlookupd v1.3.0, `--broadcast-address=127.0.0.1`,
    /// hostname `nsq-host`, http port 59703, tcp port 45195): `--` opens a
    /// connection, `C` is what the client sent, `S` one reply.
    const WIRE_22: &str = "\
    --\n\
    C 20205631\n\
    C 50494e470a\n\
    S 000000024f4b\n\
    C 524547495354455220616c7068610a\n\
    S 0000001e455f494e56414c494420636c69656e74206d757374204944454e54494659\n\
    --\n\
    C 20205631\n\
    C 464f4f0a\n\
    S 0000001d455f494e56414c494420696e76616c696420636f6d6d616e6420464f4f\n\
    --\n\
    C 20205631\n\
    C 4944454e544946590a000000076e6f746a736f6e\n\
    S 0000002e455f4241445f424f4459204944454e54494659206661696c656420746f206465636f6465204a534f4e20626f6479\n\
    --\n\
    C 20205631\n\
    C 4944454e544946590a000000647b2262726f6164636173745f61646472657373223a223132372e302e302e31222c22686f73746e616d65223a226e73712d686f7374222c22687474705f706f7274223a312c227463705f706f7274223a322c2276657273696f6e223a22312e332e30227d\n\
    S 0000006c7b2262726f6164636173745f61646472657373223a223132372e302e302e31222c22686f73746e616d65223a226e73712d686f7374222c22687474705f706f7274223a35393730332c227463705f706f7274223a34353139352c2276657273696f6e223a22312e332e30227d\n\
    C 4944454e544946590a000000647b2262726f6164636173745f61646472657373223a223132372e302e302e31222c22686f73746e616d65223a226e73712d686f7374222c22687474705f706f7274223a312c227463705f706f7274223a322c2276657273696f6e223a22312e332e30227d\n\
    S 0000001f455f494e56414c49442063616e6e6f74204944454e5449465920616761696e\n\
    --\n\
    C 20205631\n\
    C 4944454e544946590a000000647b2262726f6164636173745f61646472657373223a223132372e302e302e31222c22686f73746e616d65223a226e73712d686f7374222c22687474705f706f7274223a312c227463705f706f7274223a322c2276657273696f6e223a22312e332e30227d\n\
    S 0000006c7b2262726f6164636173745f61646472657373223a223132372e302e302e31222c22686f73746e616d65223a226e73712d686f7374222c22687474705f706f7274223a35393730332c227463705f706f7274223a34353139352c2276657273696f6e223a22312e332e30227d\n\
    C 524547495354455220616c7068612063310a\n\
    S 000000024f4b\n\
    C 524547495354455220616c7068612063310a\n\
    S 000000024f4b\n\
    C 554e524547495354455220616c7068612063310a\n\
    S 000000024f4b\n\
    C 554e524547495354455220616c7068612063390a\n\
    S 000000024f4b\n\
    C 554e524547495354455220616c7068610a\n\
    S 000000024f4b\n\
    C 554e5245474953544552206e6f737563680a\n\
    S 000000024f4b\n\
    C 50494e470a\n\
    S 000000024f4b\n\
    --\n\
    C 20205631\n\
    C 4944454e544946590a000000647b2262726f6164636173745f61646472657373223a223132372e302e302e31222c22686f73746e616d65223a226e73712d686f7374222c22687474705f706f7274223a312c227463705f706f7274223a322c2276657273696f6e223a22312e332e30227d\n\
    S 0000006c7b2262726f6164636173745f61646472657373223a223132372e302e302e31222c22686f73746e616d65223a226e73712d686f7374222c22687474705f706f7274223a35393730332c227463705f706f7274223a34353139352c2276657273696f6e223a22312e332e30227d\n\
    C 52454749535445522062616421746f7069630a\n\
    S 00000038455f4241445f544f50494320524547495354455220746f706963206e616d65202762616421746f70696327206973206e6f742076616c6964\n\
    --\n\
    C 20205631\n\
    C 4944454e544946590a000000647b2262726f6164636173745f61646472657373223a223132372e302e302e31222c22686f73746e616d65223a226e73712d686f7374222c22687474705f706f7274223a312c227463705f706f7274223a322c2276657273696f6e223a22312e332e30227d\n\
    S 0000006c7b2262726f6164636173745f61646472657373223a223132372e302e302e31222c22686f73746e616d65223a226e73712d686f7374222c22687474705f706f7274223a35393730332c227463705f706f7274223a34353139352c2276657273696f6e223a22312e332e30227d\n\
    C 524547495354455220616c70686120626164216368616e0a\n\
    S 0000003b455f4241445f4348414e4e454c205245474953544552206368616e6e656c206e616d652027626164216368616e27206973206e6f742076616c6964\n\
    --\n\
    C 20205631\n\
    C 4944454e544946590a000000647b2262726f6164636173745f61646472657373223a223132372e302e302e31222c22686f73746e616d65223a226e73712d686f7374222c22687474705f706f7274223a312c227463705f706f7274223a322c2276657273696f6e223a22312e332e30227d\n\
    S 0000006c7b2262726f6164636173745f61646472657373223a223132372e302e302e31222c22686f73746e616d65223a226e73712d686f7374222c22687474705f706f7274223a35393730332c227463705f706f7274223a34353139352c2276657273696f6e223a22312e332e30227d\n\
    C 52454749535445520a\n\
    S 00000030455f494e56414c494420524547495354455220696e73756666696369656e74206e756d626572206f6620706172616d73\n\
    --\n\
    C 20205631\n\
    C 4944454e544946590a000000647b2262726f6164636173745f61646472657373223a223132372e302e302e31222c22686f73746e616d65223a226e73712d686f7374222c22687474705f706f7274223a312c227463705f706f7274223a322c2276657273696f6e223a22312e332e30227d\n\
    S 0000006c7b2262726f6164636173745f61646472657373223a223132372e302e302e31222c22686f73746e616d65223a226e73712d686f7374222c22687474705f706f7274223a35393730332c227463705f706f7274223a34353139352c2276657273696f6e223a22312e332e30227d\n\
    C 554e52454749535445520a\n\
    S 00000032455f494e56414c494420554e524547495354455220696e73756666696369656e74206e756d626572206f6620706172616d73\n\
    --\n\
    C 20205631\n\
    C 4944454e544946590a000000647b2262726f6164636173745f61646472657373223a223132372e302e302e31222c22686f73746e616d65223a226e73712d686f7374222c22687474705f706f7274223a312c227463705f706f7274223a322c2276657273696f6e223a22312e332e30227d\n\
    S 0000006c7b2262726f6164636173745f61646472657373223a223132372e302e302e31222c22686f73746e616d65223a226e73712d686f7374222c22687474705f706f7274223a35393730332c227463705f706f7274223a34353139352c2276657273696f6e223a22312e332e30227d\n\
    C 554e52454749535445522062616421746f7069630a\n\
    S 0000003a455f4241445f544f50494320554e524547495354455220746f706963206e616d65202762616421746f70696327206973206e6f742076616c6964\n\
    --\n\
    C 20205632\n\
    S 0000000e455f4241445f50524f544f434f4c\n\
    ";

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn framed(payload: &[u8]) -> Vec<u8> {
        let mut b = BytesMut::new();
        write_reply(&mut b, payload);
        b.to_vec()
    }

    fn fixture_lookupd() -> PeerIdentity {
        PeerIdentity {
            broadcast_address: "127.0.0.1".into(),
            hostname: "nsq-host".into(),
            http_port: 59703,
            tcp_port: 45195,
            version: "1.3.0".into(),
        }
    }

    /// Replays every connection of wire/22 through the server codec with a
    /// trivial command handler and compares each reply byte for byte.
    #[test]
    fn replays_wire_22_byte_exact() {
        let mut connections: Vec<Vec<(char, Vec<u8>)>> = Vec::new();
        for line in WIRE_22.lines() {
            match line.split_once(' ') {
                None => connections.push(Vec::new()),
                Some((dir, hex)) => connections
                    .last_mut()
                    .unwrap()
                    .push((dir.chars().next().unwrap(), unhex(hex))),
            }
        }
        assert_eq!(connections.len(), 11);
        for (n, steps) in connections.iter().enumerate() {
            let mut codec = LookupServerCodec::new();
            let mut input = BytesMut::new();
            let mut produced: Vec<Vec<u8>> = Vec::new();
            let mut closed = false;
            for (dir, bytes) in steps {
                if *dir != 'C' {
                    continue;
                }
                assert!(!closed, "connection {n}: client sent after close");
                input.extend_from_slice(bytes);
                loop {
                    match codec.decode(&mut input) {
                        Ok(Some(LookupCommand::Identify(_))) => {
                            produced.push(framed(&fixture_lookupd().to_json()))
                        }
                        Ok(Some(_)) => produced.push(framed(OK)),
                        Ok(None) => break,
                        Err(LookupDecodeError::Protocol(e)) => {
                            produced.push(framed(&e.wire_payload()));
                            closed = true;
                            break;
                        }
                        Err(e) => panic!("connection {n}: {e}"),
                    }
                }
            }
            let expected: Vec<Vec<u8>> = steps
                .iter()
                .filter(|(d, _)| *d == 'S')
                .map(|(_, b)| b.clone())
                .collect();
            // The capture records one OK per REGISTER/UNREGISTER/PING, merged
            // when they arrived together; compare the byte streams.
            assert_eq!(produced.concat(), expected.concat(), "connection {n}");
            let every_error_closes = expected
                .last()
                .is_some_and(|last| last.len() > 4 && last[4..].starts_with(b"E_"));
            assert_eq!(closed, every_error_closes, "connection {n}");
        }
    }

    fn decode_one(
        codec: &mut LookupServerCodec,
        bytes: &[u8],
    ) -> Result<Option<LookupCommand>, LookupError> {
        let mut buf = BytesMut::from(bytes);
        match codec.decode(&mut buf) {
            Ok(v) => Ok(v),
            Err(LookupDecodeError::Protocol(e)) => Err(e),
            Err(e) => panic!("{e}"),
        }
    }

    fn identified() -> LookupServerCodec {
        let mut c = LookupServerCodec::after_magic();
        let body = br#"{"broadcast_address":"h","tcp_port":1,"http_port":2,"version":"1.3.0"}"#;
        let mut frame = b"IDENTIFY\n".to_vec();
        frame.extend_from_slice(&(body.len() as u32).to_be_bytes());
        frame.extend_from_slice(body);
        assert!(matches!(
            decode_one(&mut c, &frame),
            Ok(Some(LookupCommand::Identify(_)))
        ));
        assert!(c.identified());
        c
    }

    fn reg(topic: &str, channel: Option<&str>) -> LookupCommand {
        LookupCommand::Register {
            topic: topic.into(),
            channel: channel.map(Into::into),
        }
    }

    #[test]
    fn lines_are_trimmed_and_split_on_single_spaces() {
        let mut c = identified();
        assert_eq!(
            decode_one(&mut c, b"  PING  \r\n"),
            Ok(Some(LookupCommand::Ping))
        );
        assert_eq!(
            decode_one(&mut c, "\tPING\u{a0}\n".as_bytes()),
            Ok(Some(LookupCommand::Ping))
        );
        assert_eq!(
            decode_one(&mut c, b"PING extra\n"),
            Ok(Some(LookupCommand::Ping))
        );
        assert_eq!(
            decode_one(&mut c, b"REGISTER t c extra\n"),
            Ok(Some(reg("t", Some("c"))))
        );
        assert_eq!(
            decode_one(&mut c, b"REGISTER t  c\n"),
            Ok(Some(reg("t", None)))
        );
        assert_eq!(
            decode_one(&mut c, b"REGISTER t \n"),
            Ok(Some(reg("t", None)))
        );
        assert_eq!(
            decode_one(&mut c, b"UNREGISTER t#ephemeral c#ephemeral\n"),
            Ok(Some(LookupCommand::Unregister {
                topic: "t#ephemeral".into(),
                channel: Some("c#ephemeral".into())
            }))
        );
        let err = decode_one(&mut c, b"REGISTER  t\n").unwrap_err();
        assert_eq!(
            err.wire_payload(),
            b"E_BAD_TOPIC REGISTER topic name '' is not valid"
        );
    }

    #[test]
    fn unknown_and_empty_commands() {
        let mut c = LookupServerCodec::after_magic();
        let err = decode_one(&mut c, b"\n").unwrap_err();
        assert_eq!(err.wire_payload(), b"E_INVALID invalid command ");
        let err = decode_one(&mut c, b"ping\n").unwrap_err();
        assert_eq!(err.wire_payload(), b"E_INVALID invalid command ping");
        let err = decode_one(&mut c, b"FO\xffO x\n").unwrap_err();
        assert_eq!(err.wire_payload(), b"E_INVALID invalid command FO\xffO");
    }

    #[test]
    fn names_are_validated_with_single_quotes() {
        let mut c = identified();
        let long = "a".repeat(65);
        let err = decode_one(&mut c, format!("UNREGISTER t {long}\n").as_bytes()).unwrap_err();
        assert_eq!(
            err.wire_payload(),
            format!("E_BAD_CHANNEL UNREGISTER channel name '{long}' is not valid").into_bytes()
        );
        let err = decode_one(&mut c, b"REGISTER t\xff\n").unwrap_err();
        assert_eq!(
            err.wire_payload(),
            b"E_BAD_TOPIC REGISTER topic name 't\xff' is not valid"
        );
        let ok = "a".repeat(64);
        assert_eq!(
            decode_one(&mut c, format!("REGISTER {ok}\n").as_bytes()),
            Ok(Some(reg(&ok, None)))
        );
    }

    #[test]
    fn unidentified_checks_come_before_params() {
        let mut c = LookupServerCodec::after_magic();
        assert_eq!(
            decode_one(&mut c, b"UNREGISTER\n"),
            Err(LookupError::MustIdentify)
        );
        assert_eq!(
            decode_one(&mut c, b"REGISTER bad!\n"),
            Err(LookupError::MustIdentify)
        );
        let mut c = identified();
        assert_eq!(
            decode_one(&mut c, b"IDENTIFY\n"),
            Err(LookupError::IdentifyAgain)
        );
    }

    fn identify_frame(size: i32, body: &[u8]) -> Vec<u8> {
        let mut f = b"IDENTIFY\n".to_vec();
        f.extend_from_slice(&size.to_be_bytes());
        f.extend_from_slice(body);
        f
    }

    #[test]
    fn negative_or_huge_identify_size_is_rejected() {
        for size in [-1, i32::MIN, MAX_IDENTIFY_BODY as i32 + 1] {
            let mut c = LookupServerCodec::after_magic();
            let err = decode_one(&mut c, &identify_frame(size, b"")).unwrap_err();
            assert_eq!(
                err.wire_payload(),
                b"E_BAD_BODY IDENTIFY failed to read body"
            );
        }
    }

    #[test]
    fn cut_identify_reports_at_eof() {
        let mut c = LookupServerCodec::after_magic();
        let mut buf = BytesMut::from(&b"IDENTIFY\n\x00\x00"[..]);
        assert!(c.decode(&mut buf).unwrap().is_none());
        match c.decode_eof(&mut buf) {
            Err(LookupDecodeError::Protocol(e)) => assert_eq!(
                e.wire_payload(),
                b"E_BAD_BODY IDENTIFY failed to read body size"
            ),
            other => panic!("{other:?}"),
        }
        let mut c = LookupServerCodec::after_magic();
        let mut buf = BytesMut::from(&identify_frame(10, b"{}")[..]);
        assert!(c.decode(&mut buf).unwrap().is_none());
        match c.decode_eof(&mut buf) {
            Err(LookupDecodeError::Protocol(LookupError::IdentifyBody)) => {}
            other => panic!("{other:?}"),
        }
        // A partial line or magic is dropped without a reply.
        let mut c = LookupServerCodec::new();
        let mut buf = BytesMut::from(&b"  V1PIN"[..]);
        assert!(matches!(c.decode_eof(&mut buf), Ok(None)));
        let mut c = LookupServerCodec::new();
        let mut buf = BytesMut::from(&b"  V"[..]);
        assert!(matches!(c.decode_eof(&mut buf), Ok(None)));
    }

    #[test]
    fn overlong_line_closes_without_reply() {
        let mut c = LookupServerCodec::after_magic();
        let mut buf = BytesMut::from(&vec![b'A'; MAX_LINE_LEN + 1][..]);
        assert!(matches!(
            c.decode(&mut buf),
            Err(LookupDecodeError::LineTooLong(_))
        ));
    }

    #[test]
    fn bad_magic_carries_the_bytes() {
        let mut c = LookupServerCodec::new();
        let err = decode_one(&mut c, b"GET / HTTP/1.1\r\n").unwrap_err();
        assert_eq!(err, LookupError::BadProtocol(b"GET ".to_vec()));
        assert_eq!(err.wire_payload(), b"E_BAD_PROTOCOL");
    }

    fn identify_body(body: &str) -> Result<PeerIdentity, LookupError> {
        let mut c = LookupServerCodec::after_magic();
        match decode_one(&mut c, &identify_frame(body.len() as i32, body.as_bytes())) {
            Ok(Some(LookupCommand::Identify(p))) => Ok(p),
            Ok(other) => panic!("{other:?}"),
            Err(e) => Err(e),
        }
    }

    #[test]
    fn identify_json_follows_go_rules() {
        let p = identify_body(
            r#"{"BROADCAST_ADDRESS":"b","Tcp_Port":1,"http_port":2,"version":"v","short_id":"x","long_id":{"a":[1]},"hostname":null,"remote_address":"ignored"}"#,
        )
        .unwrap();
        assert_eq!(
            p,
            PeerIdentity {
                broadcast_address: "b".into(),
                hostname: String::new(),
                http_port: 2,
                tcp_port: 1,
                version: "v".into()
            }
        );
        // Unicode folding of 's' (U+017F), last duplicate wins, any i64 port.
        let p = identify_body(
            "{\"broadca\u{17f}t_address\":\"x\",\"tcp_port\":5,\"TCP_PORT\":99999,\"http_port\":-3,\"version\":\"v\"}",
        )
        .unwrap();
        assert_eq!(
            (p.broadcast_address.as_str(), p.tcp_port, p.http_port),
            ("x", 99999, -3)
        );
        // Invalid UTF-8 inside a string is replaced, not refused.
        let mut raw = br#"{"broadcast_address":"a"#.to_vec();
        raw.push(0xff);
        raw.extend_from_slice(br#"","tcp_port":1,"http_port":2,"version":"v"}"#);
        let mut c = LookupServerCodec::after_magic();
        let frame = identify_frame(raw.len() as i32, &raw);
        match decode_one(&mut c, &frame) {
            Ok(Some(LookupCommand::Identify(p))) => assert_eq!(p.broadcast_address, "a\u{fffd}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn identify_json_type_errors() {
        for body in [
            r#"{"broadcast_address":"b","tcp_port":1.0,"http_port":2,"version":"v"}"#,
            r#"{"broadcast_address":"b","tcp_port":"1","http_port":2,"version":"v"}"#,
            r#"{"broadcast_address":"b","tcp_port":1e2,"http_port":2,"version":"v"}"#,
            r#"{"broadcast_address":"b","tcp_port":9223372036854775808,"http_port":2,"version":"v"}"#,
            r#"{"broadcast_address":1,"tcp_port":1,"http_port":2,"version":"v"}"#,
            r#"{"broadcast_address":"b","tcp_port":1,"http_port":2,"version":"v","remote_address":5}"#,
            r#"{"broadcast_address":"b","tcp_port":1,"http_port":2,"version":"v"} x"#,
            r#"["broadcast_address"]"#,
            r#""x""#,
            "",
        ] {
            assert_eq!(
                identify_body(body),
                Err(LookupError::IdentifyJson),
                "{body}"
            );
        }
    }

    #[test]
    fn identify_requires_fields() {
        for body in [
            "null",
            "{}",
            r#"{"tcp_port":1,"http_port":2,"version":"v"}"#,
            r#"{"broadcast_address":"","tcp_port":1,"http_port":2,"version":"v"}"#,
            r#"{"broadcast_address":"b","tcp_port":0,"http_port":2,"version":"v"}"#,
            r#"{"broadcast_address":"b","tcp_port":1,"version":"v"}"#,
            r#"{"broadcast_address":"b","tcp_port":1,"http_port":2,"version":null}"#,
        ] {
            let err = identify_body(body).unwrap_err();
            assert_eq!(
                err.wire_payload(),
                b"E_BAD_BODY IDENTIFY missing fields",
                "{body}"
            );
        }
    }

    #[test]
    fn identity_json_is_sorted_and_go_escaped() {
        assert_eq!(
            framed(&fixture_lookupd().to_json()),
            unhex("0000006c7b2262726f6164636173745f61646472657373223a223132372e302e302e31222c22686f73746e616d65223a226e73712d686f7374222c22687474705f706f7274223a35393730332c227463705f706f7274223a34353139352c2276657273696f6e223a22312e332e30227d")
        );
        let odd = PeerIdentity {
            broadcast_address: "a<b>&\u{2028}€".into(),
            ..PeerIdentity::default()
        };
        assert_eq!(
            String::from_utf8(odd.to_json()).unwrap(),
            r#"{"broadcast_address":"a\u003cb\u003e\u0026\u2028€","hostname":"","http_port":0,"tcp_port":0,"version":""}"#
        );
    }

    /// nsqd's side of wire/20: the client codec writes exactly what Go nsqd
    /// sent, and the server codec decodes it even when it trickles in byte
    /// by byte.
    #[test]
    fn client_commands_match_wire_20() {
        let nsqd = PeerIdentity {
            broadcast_address: "127.0.0.1".into(),
            hostname: "nsq-host".into(),
            http_port: 38077,
            tcp_port: 59207,
            version: "1.3.0".into(),
        };
        let commands = [
            LookupCommand::Identify(nsqd.clone()),
            reg("alpha", None),
            reg("alpha", Some("c1")),
            reg("alpha", Some("tmp#ephemeral")),
            LookupCommand::Unregister {
                topic: "alpha".into(),
                channel: Some("tmp#ephemeral".into()),
            },
            LookupCommand::Ping,
            LookupCommand::Unregister {
                topic: "alpha".into(),
                channel: None,
            },
        ];
        let expected = [
            "20205631",
            "4944454e544946590a0000006c7b2262726f6164636173745f61646472657373223a223132372e302e302e31222c22686f73746e616d65223a226e73712d686f7374222c22687474705f706f7274223a33383037372c227463705f706f7274223a35393230372c2276657273696f6e223a22312e332e30227d",
            "524547495354455220616c7068610a",
            "524547495354455220616c7068612063310a",
            "524547495354455220616c70686120746d7023657068656d6572616c0a",
            "554e524547495354455220616c70686120746d7023657068656d6572616c0a",
            "50494e470a",
            "554e524547495354455220616c7068610a",
        ]
        .concat();
        let mut client = LookupClientCodec::new(1024);
        let mut wire = BytesMut::new();
        for cmd in &commands {
            client.encode(cmd, &mut wire).unwrap();
        }
        assert_eq!(wire.to_vec(), unhex(&expected));

        let mut server = LookupServerCodec::new();
        let mut buf = BytesMut::new();
        let mut decoded = Vec::new();
        for b in wire.iter() {
            buf.extend_from_slice(&[*b]);
            while let Some(cmd) = server.decode(&mut buf).unwrap() {
                decoded.push(cmd);
            }
        }
        assert_eq!(decoded, commands);
    }

    #[test]
    fn client_decodes_replies() {
        let mut client = LookupClientCodec::without_magic(200);
        let mut buf = BytesMut::from(&unhex("0000006c7b2262726f6164636173745f61646472657373223a223132372e302e302e31222c22686f73746e616d65223a226e73712d686f7374222c22687474705f706f7274223a35393730332c227463705f706f7274223a34353139352c2276657273696f6e223a22312e332e30227d000000024f4b0000")[..]);
        let first = client.decode(&mut buf).unwrap().unwrap();
        assert_eq!(
            PeerIdentity::from_go_json(&first).unwrap(),
            fixture_lookupd()
        );
        let second = client.decode(&mut buf).unwrap().unwrap();
        assert_eq!(&second[..], OK);
        assert!(!is_error_reply(&second));
        assert!(client.decode(&mut buf).unwrap().is_none());
        buf.extend_from_slice(&[0, 0x1e]);
        buf.extend_from_slice(b"E_INVALID client must IDENTIFY");
        let err = client.decode(&mut buf).unwrap().unwrap();
        assert!(is_error_reply(&err));

        let mut small = LookupClientCodec::without_magic(4);
        let mut buf = BytesMut::from(&[0u8, 0, 0, 5, 1][..]);
        let e = small.decode(&mut buf).unwrap_err();
        assert_eq!(
            e.to_string(),
            "response body size (5) is greater than limit (4)"
        );
        let mut buf = BytesMut::from(&[0xffu8, 0xff, 0xff, 0xff][..]);
        assert!(matches!(
            small.decode(&mut buf),
            Err(LookupClientError::NegativeSize(-1))
        ));
    }

    #[test]
    fn magic_is_sent_once() {
        let mut client = LookupClientCodec::new(16);
        let mut wire = BytesMut::new();
        client.encode(LookupCommand::Ping, &mut wire).unwrap();
        client.encode(LookupCommand::Ping, &mut wire).unwrap();
        assert_eq!(&wire[..], b"  V1PING\nPING\n");
    }
}
