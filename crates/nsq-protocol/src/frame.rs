//! Server-to-client frames: `[u32 size][i32 frame type][data]`, where size counts type + data.

use crate::message::Message;
use bytes::{BufMut, Bytes, BytesMut};

/// The 4 bytes a V2 (nsqd) client sends first.
pub const MAGIC_V2: &[u8; 4] = b"  V2";
/// The 4 bytes an nsqlookupd V1 client sends first.
pub const MAGIC_V1: &[u8; 4] = b"  V1";

/// The response payload that acknowledges most commands.
pub const OK: &[u8] = b"OK";
/// The heartbeat response payload.
pub const HEARTBEAT: &[u8] = b"_heartbeat_";
/// The reply to CLS.
pub const CLOSE_WAIT: &[u8] = b"CLOSE_WAIT";

/// The type field of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameType {
    /// `OK`, `CLOSE_WAIT`, `_heartbeat_` or a JSON document.
    Response = 0,
    /// `E_* description`.
    Error = 1,
    /// A message (see [`Message`]).
    Message = 2,
}

impl FrameType {
    /// Maps the wire value to a frame type.
    pub fn from_i32(value: i32) -> Option<FrameType> {
        match value {
            0 => Some(FrameType::Response),
            1 => Some(FrameType::Error),
            2 => Some(FrameType::Message),
            _ => None,
        }
    }
}

/// A decoded server frame, as a client sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A response frame.
    Response(Bytes),
    /// An error frame (`E_* description`).
    Error(Bytes),
    /// A message frame.
    Message(Message),
}

/// Appends a frame with a raw payload.
pub fn write_frame(buf: &mut BytesMut, frame_type: FrameType, data: &[u8]) {
    buf.reserve(8 + data.len());
    buf.put_u32(data.len() as u32 + 4);
    buf.put_i32(frame_type as i32);
    buf.put_slice(data);
}

/// Appends a response frame.
pub fn write_response(buf: &mut BytesMut, data: &[u8]) {
    write_frame(buf, FrameType::Response, data);
}

/// Appends an error frame.
pub fn write_error(buf: &mut BytesMut, text: &[u8]) {
    write_frame(buf, FrameType::Error, text);
}

/// Appends a message frame for `msg`.
pub fn write_message(buf: &mut BytesMut, msg: &Message) {
    buf.reserve(8 + msg.encoded_len());
    buf.put_u32(msg.encoded_len() as u32 + 4);
    buf.put_i32(FrameType::Message as i32);
    msg.encode_into(buf);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::MessageId;

    #[test]
    fn ok_frame_bytes() {
        let mut buf = BytesMut::new();
        write_response(&mut buf, OK);
        assert_eq!(&buf[..], &[0, 0, 0, 6, 0, 0, 0, 0, b'O', b'K']);
    }

    #[test]
    fn error_frame_bytes() {
        let mut buf = BytesMut::new();
        write_error(&mut buf, b"E_BAD_PROTOCOL");
        assert_eq!(&buf[..8], &[0, 0, 0, 18, 0, 0, 0, 1]);
        assert_eq!(&buf[8..], b"E_BAD_PROTOCOL");
    }

    #[test]
    fn message_frame_layout() {
        let msg = Message {
            id: MessageId(*b"0123456789abcdef"),
            timestamp: 1,
            attempts: 1,
            body: Bytes::from_static(b"hi"),
        };
        let mut buf = BytesMut::new();
        write_message(&mut buf, &msg);
        assert_eq!(buf.len(), 8 + 26 + 2);
        assert_eq!(&buf[..8], &[0, 0, 0, 32, 0, 0, 0, 2]);
        assert_eq!(&buf[34..], b"hi");
    }
}
