//! V2 client commands as typed, fully validated values.
//!
//! The server codec ([`crate::codec::ServerCodec`]) produces these only after
//! every protocol-level check of nsqd v1.3.0 has passed (state, parameters,
//! names, number parsing, body sizes), so nsqd's handlers deal with meaning
//! only. The client codec encodes them.

use crate::message::MessageId;
use bytes::Bytes;

/// One command from a V2 client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `IDENTIFY\n[u32 size][json]`: the raw JSON body.
    Identify(Bytes),
    /// `AUTH\n[u32 size][secret]`: the raw secret.
    Auth(Bytes),
    /// `SUB <topic> <channel>\n`.
    Sub {
        /// Topic name (validated).
        topic: String,
        /// Channel name (validated).
        channel: String,
    },
    /// `PUB <topic>\n[u32 size][body]`.
    Pub {
        /// Topic name (validated).
        topic: String,
        /// Message body, 1 to max-msg-size bytes.
        body: Bytes,
    },
    /// `MPUB <topic>\n[u32 body size][u32 count]([u32 size][body])*`.
    Mpub {
        /// Topic name (validated).
        topic: String,
        /// Message bodies, in order; each 1 to max-msg-size bytes.
        bodies: Vec<Bytes>,
    },
    /// `DPUB <topic> <defer ms>\n[u32 size][body]`.
    Dpub {
        /// Topic name (validated).
        topic: String,
        /// Deferral in milliseconds, at most max-req-timeout.
        defer_ms: u64,
        /// Message body.
        body: Bytes,
    },
    /// `RDY [count]\n`: how many messages may be in flight to this client.
    Rdy(u64),
    /// `FIN <id>\n`.
    Fin(MessageId),
    /// `REQ <id> <timeout ms>\n`: timeout already clamped to max-req-timeout.
    Req {
        /// Message id.
        id: MessageId,
        /// Requeue delay in milliseconds (0 = requeue at once).
        timeout_ms: u64,
    },
    /// `TOUCH <id>\n`.
    Touch(MessageId),
    /// `CLS\n`: start closing.
    Cls,
    /// `NOP\n`: does nothing; answers heartbeats.
    Nop,
}

impl Command {
    /// The command name as sent on the wire (`PUB`, `RDY`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            Command::Identify(_) => "IDENTIFY",
            Command::Auth(_) => "AUTH",
            Command::Sub { .. } => "SUB",
            Command::Pub { .. } => "PUB",
            Command::Mpub { .. } => "MPUB",
            Command::Dpub { .. } => "DPUB",
            Command::Rdy(_) => "RDY",
            Command::Fin(_) => "FIN",
            Command::Req { .. } => "REQ",
            Command::Touch(_) => "TOUCH",
            Command::Cls => "CLS",
            Command::Nop => "NOP",
        }
    }

    /// Appends the wire encoding of this command (what a client sends).
    pub fn encode(&self, buf: &mut bytes::BytesMut) {
        let _ = buf;
        todo!("encode every variant exactly as a client would send it")
    }
}
