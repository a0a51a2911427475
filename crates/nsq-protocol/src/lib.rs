//! NSQ wire formats, shared by every daemon and client in the workspace.
//!
//! This crate is pure bytes <-> types: no sockets, no tasks. Module map:
//! - [`frame`]: server-to-client frames (`[u32 size][i32 type][data]`).
//! - [`message`]: the message layout (timestamp, attempts, 16-byte id, body).
//! - [`command`]: V2 client commands as typed values.
//! - [`codec`]: `tokio_util` codecs for both ends of a V2 connection.
//! - [`identify`]: IDENTIFY request decoding, bounds and the negotiation reply.
//! - [`error`]: the `E_*` error codes and which of them are fatal.
//! - [`names`]: topic and channel name validation, `#ephemeral`.
//! - [`lookup`]: the nsqlookupd V1 protocol.

pub mod codec;
pub mod command;
pub mod error;
pub mod frame;
pub mod identify;
pub mod lookup;
pub mod message;
pub mod names;
mod text;

pub use codec::{ClientCodec, CodecLimits, ServerCodec};
pub use command::Command;
pub use error::{ErrorCode, ProtocolError};
pub use frame::{Frame, FrameType, MAGIC_V1, MAGIC_V2};
pub use identify::{IdentifyRequest, IdentifyResponse, NegotiatedSettings, ServerIdentifyLimits};
pub use message::{Message, MessageId, MESSAGE_HEADER_LEN};
pub use names::{is_ephemeral, is_valid_channel_name, is_valid_topic_name};
