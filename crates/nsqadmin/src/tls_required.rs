//! NSQ's `TLS_REQUIRED` redirect (nsqd-http.md §1.6): an nsqd started with
//! `--tls-required=true` answers every plain-HTTP request with
//!
//! ```text
//! 403 Forbidden
//! {"message": "TLS_REQUIRED", "https_port": 4152}
//! ```
//!
//! and NSQ's own HTTP clients then retry the same path once at
//! `https://<same host>:<https_port>`.

use hyper::StatusCode;
use serde::Deserialize;

/// The parts of the 403 body the redirect needs.
#[derive(Debug, Deserialize)]
struct Forbidden {
    #[serde(default)]
    message: String,
    https_port: u64,
}

/// The `https://` URL to retry `url` at, if `status`/`body` are a
/// `TLS_REQUIRED` answer to a plain `http://` request; `None` otherwise
/// (also when the body names no usable port: the original 403 is then the
/// more useful error).
pub fn https_retry_url(url: &str, status: StatusCode, body: &[u8]) -> Option<String> {
    if status != StatusCode::FORBIDDEN {
        return None;
    }
    let mut target = url::Url::parse(url).ok()?;
    if target.scheme() != "http" {
        return None;
    }
    let answer: Forbidden = serde_json::from_slice(body).ok()?;
    if answer.message != "TLS_REQUIRED" {
        return None;
    }
    let port = u16::try_from(answer.https_port).ok().filter(|p| *p != 0)?;
    target.set_scheme("https").ok()?;
    target.set_port(Some(port)).ok()?;
    Some(target.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"message": "TLS_REQUIRED", "https_port": 4152}"#;

    #[test]
    fn tls_required_moves_to_https_on_the_given_port() {
        assert_eq!(
            https_retry_url(
                "http://127.0.0.1:4151/stats?format=json",
                StatusCode::FORBIDDEN,
                BODY
            )
            .as_deref(),
            Some("https://127.0.0.1:4152/stats?format=json")
        );
        assert_eq!(
            https_retry_url("http://[::1]:4151/info", StatusCode::FORBIDDEN, BODY).as_deref(),
            Some("https://[::1]:4152/info")
        );
    }

    #[test]
    fn other_answers_are_not_redirects() {
        let url = "http://127.0.0.1:4151/info";
        assert_eq!(https_retry_url(url, StatusCode::NOT_FOUND, BODY), None);
        assert_eq!(
            https_retry_url("https://127.0.0.1:4152/info", StatusCode::FORBIDDEN, BODY),
            None
        );
        assert_eq!(
            https_retry_url(url, StatusCode::FORBIDDEN, b"Forbidden"),
            None
        );
        assert_eq!(
            https_retry_url(
                url,
                StatusCode::FORBIDDEN,
                br#"{"message": "TLS_REQUIRED", "https_port": 0}"#
            ),
            None
        );
        assert_eq!(
            https_retry_url(
                url,
                StatusCode::FORBIDDEN,
                br#"{"message": "NOPE", "https_port": 4152}"#
            ),
            None
        );
    }
}
