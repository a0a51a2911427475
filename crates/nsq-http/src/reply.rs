//! What a handler answers, and how NSQ's "V1" response writer renders it.
//!
//! | result | status | body | headers |
//! |---|---|---|---|
//! | [`Reply::Text`] | 200 | raw text | `Content-Type: text/plain; charset=utf-8` (when non-empty), `X-NSQ-Content-Type` |
//! | [`Reply::Json`] | 200 | compact Go-style JSON | `Content-Type: application/json; charset=utf-8`, `X-NSQ-Content-Type` |
//! | [`Reply::Empty`] | 200 | empty | `X-NSQ-Content-Type` only |
//! | [`Reply::Plain`] | any | raw text | `Content-Type: text/plain; charset=utf-8` (when non-empty); **no** `X-NSQ-Content-Type` |
//! | [`ApiError`] | its status | `{"message":"CODE"}` | JSON content type, `X-NSQ-Content-Type` |

use crate::error::ApiError;
use crate::json;
use axum::body::Body;
use axum::http::{header, HeaderValue, Response, StatusCode};
use bytes::Bytes;
use serde::Serialize;

/// Header every V1 response carries; go-nsq only parses lookupd answers
/// directly when it is present.
pub const NSQ_CONTENT_TYPE_HEADER: &str = "x-nsq-content-type";
/// The exact value of [`NSQ_CONTENT_TYPE_HEADER`].
pub const NSQ_CONTENT_TYPE_V1: &str = "nsq; version=1.0";
/// `Content-Type` of JSON bodies.
pub const JSON_CONTENT_TYPE: &str = "application/json; charset=utf-8";
/// `Content-Type` of text bodies (what Go's content sniffing yields for text).
pub const TEXT_CONTENT_TYPE: &str = "text/plain; charset=utf-8";

/// A successful handler result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `200` with a text body (e.g. nsqd's `/pub` answer `OK`, text `/stats`).
    Text(String),
    /// `200` with an already encoded JSON body; build it with [`Reply::json`].
    Json(Bytes),
    /// `200` with an empty body and no `Content-Type`.
    Empty,
    /// Go's "PlainText" routes (`/ping`): the status and raw body as given,
    /// without `X-NSQ-Content-Type`. Such routes report failures this way
    /// too (nsqd's `500 NOK - ...`), not through [`ApiError`].
    Plain {
        /// The response status.
        status: StatusCode,
        /// The body, sent as is.
        body: String,
    },
}

impl Reply {
    /// Encodes `value` as Go-compatible JSON (see [`crate::json`]).
    /// An unencodable value becomes `500` with the encoder's message, as in NSQ.
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<Reply, ApiError> {
        json::to_vec(value)
            .map(|v| Reply::Json(Bytes::from(v)))
            .map_err(|e| ApiError::internal(e.to_string()))
    }

    /// `200` text with the X-NSQ header.
    pub fn text(body: impl Into<String>) -> Reply {
        Reply::Text(body.into())
    }

    /// `200` plain text without the X-NSQ header (`/ping`).
    pub fn plain(body: impl Into<String>) -> Reply {
        Reply::Plain {
            status: StatusCode::OK,
            body: body.into(),
        }
    }

    /// Plain text with another status (nsqd's unhealthy `/ping`).
    pub fn plain_status(status: StatusCode, body: impl Into<String>) -> Reply {
        Reply::Plain {
            status,
            body: body.into(),
        }
    }
}

/// The status a handler result is sent (and logged) with.
pub(crate) fn status_of(result: &Result<Reply, ApiError>) -> StatusCode {
    match result {
        Ok(Reply::Plain { status, .. }) => *status,
        Ok(_) => StatusCode::OK,
        Err(e) => e.status,
    }
}

/// Renders a handler result with NSQ's response rules.
pub fn render(result: Result<Reply, ApiError>) -> Response<Body> {
    match result {
        Ok(Reply::Text(text)) => {
            let ct = (!text.is_empty()).then_some(TEXT_CONTENT_TYPE);
            build(StatusCode::OK, ct, true, Bytes::from(text))
        }
        Ok(Reply::Json(body)) => build(StatusCode::OK, Some(JSON_CONTENT_TYPE), true, body),
        Ok(Reply::Empty) => build(StatusCode::OK, None, true, Bytes::new()),
        Ok(Reply::Plain { status, body }) => {
            let ct = (!body.is_empty()).then_some(TEXT_CONTENT_TYPE);
            build(status, ct, false, Bytes::from(body))
        }
        Err(e) => render_error(&e),
    }
}

/// `{"message":"CODE"}` with the error's status and the V1 headers.
pub fn render_error(error: &ApiError) -> Response<Body> {
    #[derive(Serialize)]
    struct Message<'a> {
        message: &'a str,
    }
    let body = json::to_vec(&Message {
        message: &error.message,
    })
    .unwrap_or_else(|_| b"{\"message\":\"INTERNAL_ERROR\"}".to_vec());
    build(
        error.status,
        Some(JSON_CONTENT_TYPE),
        true,
        Bytes::from(body),
    )
}

/// Builds a response. Headers are inserted in Go's (sorted) order.
pub(crate) fn build(
    status: StatusCode,
    content_type: Option<&'static str>,
    nsq_header: bool,
    body: Bytes,
) -> Response<Body> {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    let headers = resp.headers_mut();
    if let Some(ct) = content_type {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    }
    if nsq_header {
        headers.insert(
            NSQ_CONTENT_TYPE_HEADER,
            HeaderValue::from_static(NSQ_CONTENT_TYPE_V1),
        );
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn parts(resp: Response<Body>) -> (u16, Vec<(String, String)>, Vec<u8>) {
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap().to_string()))
            .collect();
        let body = resp
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        (status, headers, body)
    }

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[tokio::test]
    async fn text_reply() {
        let (s, hd, b) = parts(render(Ok(Reply::text("OK")))).await;
        assert_eq!(s, 200);
        assert_eq!(
            hd,
            h(&[
                ("content-type", "text/plain; charset=utf-8"),
                ("x-nsq-content-type", "nsq; version=1.0")
            ])
        );
        assert_eq!(b, b"OK");
    }

    #[tokio::test]
    async fn json_reply_is_compact() {
        let v = serde_json::json!({"version": "1.3.0", "n": 1.0});
        let (s, hd, b) = parts(render(Reply::json(&v))).await;
        assert_eq!(s, 200);
        assert_eq!(
            hd,
            h(&[
                ("content-type", "application/json; charset=utf-8"),
                ("x-nsq-content-type", "nsq; version=1.0")
            ])
        );
        assert_eq!(b, br#"{"version":"1.3.0","n":1}"#);
    }

    #[tokio::test]
    async fn empty_reply_has_no_content_type() {
        let (s, hd, b) = parts(render(Ok(Reply::Empty))).await;
        assert_eq!(s, 200);
        assert_eq!(hd, h(&[("x-nsq-content-type", "nsq; version=1.0")]));
        assert!(b.is_empty());
    }

    #[tokio::test]
    async fn plain_reply_has_no_nsq_header() {
        let (s, hd, b) = parts(render(Ok(Reply::plain("OK")))).await;
        assert_eq!((s, b.as_slice()), (200, &b"OK"[..]));
        assert_eq!(hd, h(&[("content-type", "text/plain; charset=utf-8")]));
        let (s, hd, b) = parts(render(Ok(Reply::plain_status(
            StatusCode::INTERNAL_SERVER_ERROR,
            "NOK - x",
        ))))
        .await;
        assert_eq!((s, b.as_slice()), (500, &b"NOK - x"[..]));
        assert_eq!(hd.len(), 1);
    }

    #[tokio::test]
    async fn error_reply_is_message_json() {
        let (s, hd, b) = parts(render(Err(ApiError::not_found("TOPIC_NOT_FOUND")))).await;
        assert_eq!(s, 404);
        assert_eq!(
            hd,
            h(&[
                ("content-type", "application/json; charset=utf-8"),
                ("x-nsq-content-type", "nsq; version=1.0")
            ])
        );
        assert_eq!(b, br#"{"message":"TOPIC_NOT_FOUND"}"#);
    }

    #[test]
    fn status_of_results() {
        assert_eq!(status_of(&Ok(Reply::Empty)), StatusCode::OK);
        assert_eq!(
            status_of(&Err(ApiError::bad_request("X"))),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            status_of(&Ok(Reply::plain_status(
                StatusCode::INTERNAL_SERVER_ERROR,
                ""
            ))),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
