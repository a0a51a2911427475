//! The `E_*` error codes nsqd sends in error frames, and which ones close the connection.

use std::fmt;

/// An NSQ error code as sent at the start of an error frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// Wrong protocol magic; sent bare, without a description.
    BadProtocol,
    /// State errors, bad parameters, unknown commands.
    Invalid,
    /// Malformed IDENTIFY, AUTH or MPUB body.
    BadBody,
    /// Invalid topic name.
    BadTopic,
    /// Invalid channel name.
    BadChannel,
    /// Bad message size or unreadable message body.
    BadMessage,
    /// PUB could not be queued.
    PubFailed,
    /// MPUB could not be queued.
    MpubFailed,
    /// DPUB could not be queued.
    DpubFailed,
    /// SUB could not be completed.
    SubFailed,
    /// IDENTIFY negotiation failed.
    IdentifyFailed,
    /// AUTH sent while no auth server is configured.
    AuthDisabled,
    /// The auth server could not be queried.
    AuthFailed,
    /// A command needing authorization came before AUTH.
    AuthFirst,
    /// The client is not authorized for this command.
    Unauthorized,
    /// The AUTH reply could not be sent.
    AuthError,
    /// FIN of a message that is not in flight for this client.
    FinFailed,
    /// REQ of a message that is not in flight for this client.
    ReqFailed,
    /// TOUCH of a message that is not in flight for this client.
    TouchFailed,
}

impl ErrorCode {
    /// The code as it appears on the wire, e.g. `E_INVALID`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadProtocol => "E_BAD_PROTOCOL",
            ErrorCode::Invalid => "E_INVALID",
            ErrorCode::BadBody => "E_BAD_BODY",
            ErrorCode::BadTopic => "E_BAD_TOPIC",
            ErrorCode::BadChannel => "E_BAD_CHANNEL",
            ErrorCode::BadMessage => "E_BAD_MESSAGE",
            ErrorCode::PubFailed => "E_PUB_FAILED",
            ErrorCode::MpubFailed => "E_MPUB_FAILED",
            ErrorCode::DpubFailed => "E_DPUB_FAILED",
            ErrorCode::SubFailed => "E_SUB_FAILED",
            ErrorCode::IdentifyFailed => "E_IDENTIFY_FAILED",
            ErrorCode::AuthDisabled => "E_AUTH_DISABLED",
            ErrorCode::AuthFailed => "E_AUTH_FAILED",
            ErrorCode::AuthFirst => "E_AUTH_FIRST",
            ErrorCode::Unauthorized => "E_UNAUTHORIZED",
            ErrorCode::AuthError => "E_AUTH_ERROR",
            ErrorCode::FinFailed => "E_FIN_FAILED",
            ErrorCode::ReqFailed => "E_REQ_FAILED",
            ErrorCode::TouchFailed => "E_TOUCH_FAILED",
        }
    }

    /// Whether nsqd closes the connection after sending this error.
    /// Only FIN, REQ and TOUCH failures leave it open.
    pub fn is_fatal(self) -> bool {
        !matches!(
            self,
            ErrorCode::FinFailed | ErrorCode::ReqFailed | ErrorCode::TouchFailed
        )
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error to report to a V2 client: a code plus the description that follows it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.wire_text())]
pub struct ProtocolError {
    /// The `E_*` code.
    pub code: ErrorCode,
    /// The description after the code; empty for `E_BAD_PROTOCOL`.
    pub description: String,
}

impl ProtocolError {
    /// Builds an error from a code and its description.
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        ProtocolError {
            code,
            description: description.into(),
        }
    }

    /// Shorthand for an `E_INVALID` error.
    pub fn invalid(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::Invalid, description)
    }

    /// Whether the connection must be closed after this error is sent.
    pub fn is_fatal(&self) -> bool {
        self.code.is_fatal()
    }

    /// The error frame payload: `CODE description`, or the bare code.
    pub fn wire_text(&self) -> String {
        if self.description.is_empty() {
            self.code.as_str().to_string()
        } else {
            format!("{} {}", self.code.as_str(), self.description)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_fin_req_touch_are_non_fatal() {
        assert!(!ErrorCode::FinFailed.is_fatal());
        assert!(!ErrorCode::ReqFailed.is_fatal());
        assert!(!ErrorCode::TouchFailed.is_fatal());
        assert!(ErrorCode::Invalid.is_fatal());
        assert!(ErrorCode::BadProtocol.is_fatal());
    }

    #[test]
    fn wire_text_joins_code_and_description() {
        let e = ProtocolError::invalid("invalid command FOO");
        assert_eq!(e.wire_text(), "E_INVALID invalid command FOO");
        let bare = ProtocolError::new(ErrorCode::BadProtocol, "");
        assert_eq!(bare.wire_text(), "E_BAD_PROTOCOL");
    }
}
