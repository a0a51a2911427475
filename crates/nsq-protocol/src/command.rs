//! V2 client commands as typed, fully validated values.
//!
//! The server codec ([`crate::codec::ServerCodec`]) produces these only after
//! every protocol-level check of nsqd v1.3.0 has passed (state, parameters,
//! names, number parsing, body sizes), so nsqd's handlers deal with meaning
//! only. The client codec encodes them.

use crate::message::MessageId;
use bytes::{BufMut, Bytes, BytesMut};

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

    /// Appends the wire encoding of this command (what a client sends):
    /// `NAME params\n`, followed for IDENTIFY, AUTH, PUB and DPUB by
    /// `[u32 size][body]` and for MPUB by
    /// `[u32 body size][u32 count]([u32 size][body])*`.
    ///
    /// Message ids are written as their raw 16 bytes; an id holding a space,
    /// `\r` or `\n` cannot be carried by the line protocol.
    pub fn encode(&self, buf: &mut BytesMut) {
        match self {
            Command::Identify(body) => put_with_body(buf, &["IDENTIFY"], body),
            Command::Auth(secret) => put_with_body(buf, &["AUTH"], secret),
            Command::Sub { topic, channel } => put_line(buf, &["SUB", topic, channel]),
            Command::Pub { topic, body } => put_with_body(buf, &["PUB", topic], body),
            Command::Mpub { topic, bodies } => {
                put_line(buf, &["MPUB", topic]);
                let payload: usize = bodies.iter().map(|b| 4 + b.len()).sum();
                buf.reserve(8 + payload);
                buf.put_u32(wire_len(4 + payload));
                buf.put_u32(wire_len(bodies.len()));
                for body in bodies {
                    buf.put_u32(wire_len(body.len()));
                    buf.put_slice(body);
                }
            }
            Command::Dpub {
                topic,
                defer_ms,
                body,
            } => put_with_body(buf, &["DPUB", topic, &defer_ms.to_string()], body),
            Command::Rdy(count) => put_line(buf, &["RDY", &count.to_string()]),
            Command::Fin(id) => put_id_line(buf, "FIN", id, None),
            Command::Req { id, timeout_ms } => put_id_line(buf, "REQ", id, Some(*timeout_ms)),
            Command::Touch(id) => put_id_line(buf, "TOUCH", id, None),
            Command::Cls => put_line(buf, &["CLS"]),
            Command::Nop => put_line(buf, &["NOP"]),
        }
    }
}

/// A length as the 32-bit size field. Lengths beyond `u32::MAX` cannot be
/// sent; they are written as `u32::MAX` (the server rejects that size).
fn wire_len(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

/// `part part ...\n`.
fn put_line(buf: &mut BytesMut, parts: &[&str]) {
    let len: usize = parts.iter().map(|p| p.len() + 1).sum();
    buf.reserve(len);
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            buf.put_u8(b' ');
        }
        buf.put_slice(part.as_bytes());
    }
    buf.put_u8(b'\n');
}

/// `NAME <id>[ <timeout>]\n`; the id is written as raw bytes.
fn put_id_line(buf: &mut BytesMut, name: &str, id: &MessageId, timeout_ms: Option<u64>) {
    buf.reserve(name.len() + 40);
    buf.put_slice(name.as_bytes());
    buf.put_u8(b' ');
    buf.put_slice(id.as_bytes());
    if let Some(ms) = timeout_ms {
        buf.put_u8(b' ');
        buf.put_slice(ms.to_string().as_bytes());
    }
    buf.put_u8(b'\n');
}

/// A line followed by `[u32 size][body]`.
fn put_with_body(buf: &mut BytesMut, parts: &[&str], body: &[u8]) {
    put_line(buf, parts);
    buf.reserve(4 + body.len());
    buf.put_u32(wire_len(body.len()));
    buf.put_slice(body);
}
