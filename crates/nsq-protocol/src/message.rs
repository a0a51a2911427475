//! The NSQ message layout: `[i64 ns timestamp][u16 attempts][16-byte id][body]`.
//!
//! The same layout is the payload of a message frame and of a disk-queue record.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use std::fmt;

/// Bytes before the body: 8 (timestamp) + 2 (attempts) + 16 (id).
pub const MESSAGE_HEADER_LEN: usize = 26;

/// A message id: 16 ASCII bytes, lowercase hex for ids nsqd generates.
/// Clients treat ids as opaque, so any 16 bytes are accepted on input.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageId(pub [u8; 16]);

impl MessageId {
    /// Hex-encodes a 64-bit id (big-endian) into its 16-character form.
    pub fn from_u64(value: u64) -> Self {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 16];
        for (i, byte) in value.to_be_bytes().iter().enumerate() {
            out[i * 2] = HEX[(byte >> 4) as usize];
            out[i * 2 + 1] = HEX[(byte & 0x0f) as usize];
        }
        MessageId(out)
    }

    /// Takes an id from a command parameter; `None` unless it is exactly 16 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        let arr: [u8; 16] = bytes.try_into().ok()?;
        Some(MessageId(arr))
    }

    /// The 16 id bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.0))
    }
}

impl fmt::Debug for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MessageId({self})")
    }
}

/// One message: what nsqd stores per channel and sends in message frames.
/// The body is shared (`Bytes`), so fanning out to channels never copies it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// The message id.
    pub id: MessageId,
    /// When nsqd accepted the publish, in nanoseconds since the Unix epoch.
    pub timestamp: i64,
    /// Delivery attempts so far (the first delivery is sent with 1).
    pub attempts: u16,
    /// The raw body.
    pub body: Bytes,
}

/// Why a byte string is not a valid encoded message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageDecodeError {
    /// Fewer bytes than the 26-byte header.
    #[error("message too short: {0} bytes, need at least 26")]
    TooShort(usize),
}

impl Message {
    /// Size of the encoded message (header + body).
    pub fn encoded_len(&self) -> usize {
        MESSAGE_HEADER_LEN + self.body.len()
    }

    /// Appends the encoded message to `buf`.
    pub fn encode_into(&self, buf: &mut BytesMut) {
        buf.reserve(self.encoded_len());
        buf.put_i64(self.timestamp);
        buf.put_u16(self.attempts);
        buf.put_slice(&self.id.0);
        buf.put_slice(&self.body);
    }

    /// Appends the encoded message to a plain vector (used by disk writers).
    pub fn encode_to_vec(&self, buf: &mut Vec<u8>) {
        buf.reserve(self.encoded_len());
        buf.extend_from_slice(&self.timestamp.to_be_bytes());
        buf.extend_from_slice(&self.attempts.to_be_bytes());
        buf.extend_from_slice(&self.id.0);
        buf.extend_from_slice(&self.body);
    }

    /// Decodes an encoded message; the body shares `data`'s memory.
    pub fn decode(mut data: Bytes) -> Result<Message, MessageDecodeError> {
        if data.len() < MESSAGE_HEADER_LEN {
            return Err(MessageDecodeError::TooShort(data.len()));
        }
        let timestamp = data.get_i64();
        let attempts = data.get_u16();
        let mut id = [0u8; 16];
        data.copy_to_slice(&mut id);
        Ok(Message {
            id: MessageId(id),
            timestamp,
            attempts,
            body: data,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_hex_is_lowercase_big_endian() {
        let id = MessageId::from_u64(0x18a3_d10a_87a6_9000);
        assert_eq!(&id.0, b"18a3d10a87a69000");
        assert_eq!(id.to_string(), "18a3d10a87a69000");
    }

    #[test]
    fn round_trip() {
        let m = Message {
            id: MessageId(*b"0123456789abcdef"),
            timestamp: 1_700_000_000_123_456_789,
            attempts: 3,
            body: Bytes::from_static(b"hello"),
        };
        let mut buf = BytesMut::new();
        m.encode_into(&mut buf);
        assert_eq!(buf.len(), 31);
        assert_eq!(&buf[8..10], &[0, 3]);
        let mut v = Vec::new();
        m.encode_to_vec(&mut v);
        assert_eq!(&buf[..], &v[..]);
        assert_eq!(Message::decode(buf.freeze()).unwrap(), m);
    }

    #[test]
    fn short_input_is_an_error() {
        assert_eq!(
            Message::decode(Bytes::from_static(b"short")),
            Err(MessageDecodeError::TooShort(5))
        );
    }

    #[test]
    fn id_from_slice_needs_16_bytes() {
        assert!(MessageId::from_slice(b"1234").is_none());
        assert!(MessageId::from_slice(b"0123456789abcdef").is_some());
    }
}
