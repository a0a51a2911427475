//! Decoding server frames on the client side.

use super::FrameDecodeError;
use crate::frame::{Frame, FrameType};
use crate::message::{Message, MESSAGE_HEADER_LEN};
use bytes::{Buf, BytesMut};

/// Largest amount reserved ahead for a frame that is still arriving, so a
/// garbage size field cannot make the client allocate gigabytes at once.
const MAX_RESERVE: usize = 1 << 20;

/// Decodes one `[u32 size][i32 type][data]` frame, if complete.
pub(crate) fn decode_frame(
    max_frame_size: Option<u32>,
    src: &mut BytesMut,
) -> Result<Option<Frame>, FrameDecodeError> {
    let Some(size) = src
        .get(..4)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_be_bytes)
    else {
        return Ok(None);
    };
    if size < 4 || max_frame_size.is_some_and(|max| size > max) {
        return Err(FrameDecodeError::InvalidSize(size));
    }
    let Some(raw_type) = src
        .get(4..8)
        .and_then(|b| b.try_into().ok())
        .map(i32::from_be_bytes)
    else {
        return Ok(None);
    };
    let frame_type =
        FrameType::from_i32(raw_type).ok_or(FrameDecodeError::UnknownFrameType(raw_type))?;
    let data_len = (size - 4) as usize;
    if frame_type == FrameType::Message && data_len < MESSAGE_HEADER_LEN {
        return Err(FrameDecodeError::ShortMessage(data_len));
    }
    let total = 8 + data_len;
    if src.len() < total {
        src.reserve((total - src.len()).min(MAX_RESERVE));
        return Ok(None);
    }
    src.advance(8);
    let data = src.split_to(data_len).freeze();
    Ok(Some(match frame_type {
        FrameType::Response => Frame::Response(data),
        FrameType::Error => Frame::Error(data),
        FrameType::Message => Frame::Message(
            Message::decode(data).map_err(|_| FrameDecodeError::ShortMessage(data_len))?,
        ),
    }))
}
