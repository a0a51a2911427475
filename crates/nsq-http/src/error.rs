//! The error a handler returns: an HTTP status plus the `message` code.

use axum::http::StatusCode;
use std::borrow::Cow;

/// An API error, sent as `{"message":"<message>"}` with `status`
/// (plus `Content-Type: application/json; charset=utf-8` and the
/// `X-NSQ-Content-Type` header).
///
/// `message` is an NSQ error code such as `MISSING_ARG_TOPIC`; clients and
/// scripts compare it literally, so spell it exactly as NSQ v1.3.0 does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("HTTP {status}: {message}")]
pub struct ApiError {
    /// The response status.
    pub status: StatusCode,
    /// The error code placed in the `message` field.
    pub message: Cow<'static, str>,
}

impl ApiError {
    /// An error with any status.
    pub fn new(status: StatusCode, message: impl Into<Cow<'static, str>>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }

    /// `400` with `message` (e.g. `MISSING_ARG_TOPIC`).
    pub fn bad_request(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// `404` with `message` (e.g. `TOPIC_NOT_FOUND`).
    pub fn not_found(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// `500` with `message`.
    pub fn internal(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    /// `400 INVALID_REQUEST`: the query string could not be parsed.
    pub fn invalid_request() -> Self {
        Self::bad_request("INVALID_REQUEST")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_set_status_and_message() {
        let e = ApiError::bad_request("MISSING_ARG_TOPIC");
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert_eq!(e.message, "MISSING_ARG_TOPIC");
        assert_eq!(ApiError::not_found("X").status, StatusCode::NOT_FOUND);
        assert_eq!(ApiError::internal("X").status.as_u16(), 500);
        assert_eq!(ApiError::invalid_request().message, "INVALID_REQUEST");
        assert_eq!(e.to_string(), "HTTP 400 Bad Request: MISSING_ARG_TOPIC");
    }
}
