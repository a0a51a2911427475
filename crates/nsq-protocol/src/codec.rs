//! `tokio_util` codecs for V2 connections.
//!
//! [`ServerCodec`] turns the byte stream after the `"  V2"` magic into
//! validated [`Command`]s, applying nsqd v1.3.0's checks in nsqd's order
//! (state, parameters, names, numbers, body sizes) and producing the exact
//! `E_*` texts. Every decode error is fatal: the server sends the error frame
//! and closes. [`ClientCodec`] is the other end: it encodes commands and
//! decodes frames.
//!
//! Magic handling is not part of the codecs: the server reads the 4 magic
//! bytes itself before wrapping the socket.

mod client;
mod line;
mod server;

use crate::command::Command;
use crate::error::ProtocolError;
use crate::frame::Frame;
use bytes::BytesMut;
use tokio_util::codec::{Decoder, Encoder};

/// Longest accepted command line, including the `\n` (nsqd's read buffer).
pub const MAX_LINE_LEN: usize = 16 * 1024;

/// Server-side limits the decoder enforces (nsqd flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodecLimits {
    /// `--max-msg-size`: largest message body.
    pub max_msg_size: u64,
    /// `--max-body-size`: largest IDENTIFY / AUTH / MPUB body.
    pub max_body_size: u64,
    /// `--max-rdy-count`.
    pub max_rdy_count: u64,
    /// `--max-req-timeout` in milliseconds (REQ is clamped to it, DPUB is rejected above it).
    pub max_req_timeout_ms: u64,
}

impl Default for CodecLimits {
    fn default() -> Self {
        CodecLimits {
            max_msg_size: 1_048_576,
            max_body_size: 5_242_880,
            max_rdy_count: 2500,
            max_req_timeout_ms: 3_600_000,
        }
    }
}

/// Connection state as the V2 protocol defines it (numbers as in `/stats`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientState {
    /// After the magic: IDENTIFY, AUTH, SUB allowed.
    #[default]
    Init = 0,
    /// After SUB.
    Subscribed = 3,
    /// After CLS.
    Closing = 4,
}

/// What the decoder needs to know about the connection to apply the state rules.
/// The server updates it as the connection progresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConnContext {
    /// Current state.
    pub state: ClientState,
    /// IDENTIFY set `heartbeat_interval: -1` (SUB is then refused).
    pub heartbeats_disabled: bool,
    /// `--tls-required` is on and the connection is not yet TLS: every command
    /// but IDENTIFY fails with `E_INVALID cannot <CMD> in current state (TLS required)`.
    pub tls_required_pending: bool,
}

/// Why decoding stopped.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// A protocol error to send to the client before closing.
    #[error("{0}")]
    Protocol(ProtocolError),
    /// A command line longer than [`MAX_LINE_LEN`]: close without an error frame.
    #[error("command line longer than {MAX_LINE_LEN} bytes")]
    LineTooLong,
    /// The socket failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

/// Decodes client commands on the server side of a V2 connection.
///
/// The decoder reads `context` each time it starts a command, so the server
/// must update it (after SUB, CLS, IDENTIFY, a TLS upgrade) before asking for
/// the next command. A command is returned only once its line and its whole
/// body have arrived; bodies are slices of the read buffer, not copies.
/// Partial progress is kept inside the codec, so keep feeding it the same
/// buffer.
#[derive(Debug, Clone, Default)]
pub struct ServerCodec {
    /// Limits enforced while decoding.
    pub limits: CodecLimits,
    /// Connection facts that decide which commands are allowed.
    pub context: ConnContext,
    /// Progress inside the command being decoded.
    progress: server::Progress,
}

impl ServerCodec {
    /// A decoder enforcing `limits`, for a connection in state init.
    pub fn new(limits: CodecLimits) -> Self {
        ServerCodec {
            limits,
            context: ConnContext::default(),
            progress: server::Progress::default(),
        }
    }

    /// The topic of an MPUB whose command line was just accepted, reported
    /// once. nsqd checks authorization and creates the topic right after the
    /// MPUB line, before it reads the body (so an auth error wins over a body
    /// error, and the topic exists even if the body proves invalid). Call
    /// this after every `decode`, whatever it returned, to do the same.
    pub fn take_mpub_topic(&mut self) -> Option<String> {
        self.progress.mpub_started.take()
    }
}

impl Decoder for ServerCodec {
    type Item = Command;
    type Error = DecodeError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Command>, DecodeError> {
        server::decode(&mut self.progress, &self.context, &self.limits, src)
    }

    /// At end of input, a command cut off inside its body yields nsqd's
    /// "failed to read ..." error; a partial command line ends the stream
    /// quietly (nsqd closes without an error frame).
    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Command>, DecodeError> {
        server::decode_eof(&mut self.progress, &self.context, &self.limits, src)
    }
}

/// Client side of a V2 connection: encodes commands, decodes server frames.
#[derive(Debug, Clone, Default)]
pub struct ClientCodec {
    /// Frames larger than this are a decode error (protects against garbage).
    pub max_frame_size: Option<u32>,
}

/// Why a client could not decode a server frame.
#[derive(Debug, thiserror::Error)]
pub enum FrameDecodeError {
    /// A frame type other than 0, 1, 2.
    #[error("unknown frame type {0}")]
    UnknownFrameType(i32),
    /// A size field smaller than 4 or above the configured maximum.
    #[error("invalid frame size {0}")]
    InvalidSize(u32),
    /// A message frame shorter than the 26-byte header.
    #[error("message frame too short ({0} bytes)")]
    ShortMessage(usize),
    /// The socket failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

impl Decoder for ClientCodec {
    type Item = Frame;
    type Error = FrameDecodeError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, FrameDecodeError> {
        client::decode_frame(self.max_frame_size, src)
    }
}

impl Encoder<Command> for ClientCodec {
    type Error = std::io::Error;

    fn encode(&mut self, item: Command, dst: &mut BytesMut) -> Result<(), std::io::Error> {
        item.encode(dst);
        Ok(())
    }
}
