//! Parsing of `/pub` and `/mpub` request parameters and bodies, kept apart
//! from the handlers so it can be tested and fuzzed without a running nsqd.

use bytes::{Buf, Bytes};
use nsq_http::{ApiError, StatusCode};
use std::time::Duration;

/// How an `/mpub` body is split into messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MpubFormat {
    /// One message per `\n`-terminated line; empty lines are skipped.
    Lines,
    /// `[u32 count]([u32 size][bytes])*`, the TCP MPUB layout.
    Binary,
}

impl MpubFormat {
    /// The format selected by the `binary` query parameter: absent, `false`
    /// or `0` mean lines, any other value means binary (as in nsqd v1.3.0).
    pub fn from_param(binary: Option<&str>) -> MpubFormat {
        match binary {
            None | Some("false") | Some("0") => MpubFormat::Lines,
            Some(_) => MpubFormat::Binary,
        }
    }
}

fn too_big(code: &'static str) -> ApiError {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, code)
}

/// Splits an `/mpub` body into message bodies (slices of `body`, no copies).
///
/// Lines: a line longer than `max_msg` is `413 MSG_TOO_BIG`. Binary: a
/// count that is not positive or could not fit in `max_body` is
/// `413 BAD_BODY`; a missing size, a size that is not positive, above
/// `max_msg` or beyond the end of the body is `413 BAD_MESSAGE`. Bytes after
/// the last message are ignored, as nsqd does. The caller checks the body
/// length against `max_body` first.
pub fn parse_mpub_body(
    body: Bytes,
    format: MpubFormat,
    max_body: u64,
    max_msg: u64,
) -> Result<Vec<Bytes>, ApiError> {
    match format {
        MpubFormat::Lines => parse_lines(body, max_msg),
        MpubFormat::Binary => parse_binary(body, max_body, max_msg),
    }
}

/// Newline-separated MPUB body.
fn parse_lines(mut rest: Bytes, max_msg: u64) -> Result<Vec<Bytes>, ApiError> {
    let mut bodies = Vec::new();
    while !rest.is_empty() {
        let line = match rest.iter().position(|b| *b == b'\n') {
            Some(i) => {
                let line = rest.split_to(i);
                rest.advance(1);
                line
            }
            None => std::mem::take(&mut rest),
        };
        if line.is_empty() {
            continue;
        }
        if line.len() as u64 > max_msg {
            return Err(too_big("MSG_TOO_BIG"));
        }
        bodies.push(line);
    }
    Ok(bodies)
}

/// Binary MPUB body: `[u32 count]([u32 size][bytes])*`; the TCP MPUB rules.
fn parse_binary(mut body: Bytes, max_body: u64, max_msg: u64) -> Result<Vec<Bytes>, ApiError> {
    let bad_body = || too_big("BAD_BODY");
    let bad_message = || too_big("BAD_MESSAGE");
    if body.len() < 4 {
        return Err(bad_body());
    }
    let count = body.get_i32();
    let max_count = (max_body.saturating_sub(4) / 5) as i64;
    if count <= 0 || i64::from(count) > max_count {
        return Err(bad_body());
    }
    // Each message takes at least 5 bytes: never reserve more than the
    // body can hold, whatever the count claims.
    let mut bodies = Vec::with_capacity((count as usize).min(body.len() / 5));
    for _ in 0..count {
        if body.len() < 4 {
            return Err(bad_message());
        }
        let size = body.get_i32();
        if size <= 0 || size as u64 > max_msg || body.len() < size as usize {
            return Err(bad_message());
        }
        bodies.push(body.split_to(size as usize));
    }
    Ok(bodies)
}

/// The `defer` parameter of `/pub` in milliseconds: absent is no deferral;
/// anything but an integer in `0..=max_ms` is `400 INVALID_DEFER`.
pub fn parse_defer(raw: Option<&str>, max_ms: i64) -> Result<Duration, ApiError> {
    let Some(raw) = raw else {
        return Ok(Duration::ZERO);
    };
    let invalid = || ApiError::bad_request("INVALID_DEFER");
    let ms: i64 = raw.parse().map_err(|_| invalid())?;
    if !(0..=max_ms).contains(&ms) {
        return Err(invalid());
    }
    u64::try_from(ms)
        .map(Duration::from_millis)
        .map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_skip_empty_ones() {
        let got = parse_mpub_body(Bytes::from_static(b"a\n\nb"), MpubFormat::Lines, 100, 10);
        assert_eq!(got.unwrap(), vec![Bytes::from("a"), Bytes::from("b")]);
        let err = parse_mpub_body(Bytes::from_static(b"abc\n"), MpubFormat::Lines, 100, 2);
        assert_eq!(err.unwrap_err(), too_big("MSG_TOO_BIG"));
    }

    #[test]
    fn binary_follows_the_tcp_rules() {
        let body = Bytes::from_static(b"\0\0\0\x02\0\0\0\x01x\0\0\0\x02yz");
        let got = parse_mpub_body(body, MpubFormat::Binary, 100, 10).unwrap();
        assert_eq!(got, vec![Bytes::from("x"), Bytes::from("yz")]);
        let huge_count = Bytes::from_static(b"\x7f\xff\xff\xff");
        let err = parse_mpub_body(huge_count, MpubFormat::Binary, u64::MAX, 10).unwrap_err();
        assert_eq!(err, too_big("BAD_MESSAGE"));
        let zero = Bytes::from_static(b"\0\0\0\0");
        let err = parse_mpub_body(zero, MpubFormat::Binary, 100, 10).unwrap_err();
        assert_eq!(err, too_big("BAD_BODY"));
    }

    #[test]
    fn format_and_defer_params() {
        assert_eq!(MpubFormat::from_param(None), MpubFormat::Lines);
        assert_eq!(MpubFormat::from_param(Some("0")), MpubFormat::Lines);
        assert_eq!(MpubFormat::from_param(Some("yes")), MpubFormat::Binary);
        assert_eq!(parse_defer(None, 10), Ok(Duration::ZERO));
        assert_eq!(parse_defer(Some("10"), 10), Ok(Duration::from_millis(10)));
        assert!(parse_defer(Some("11"), 10).is_err());
        assert!(parse_defer(Some("-1"), 10).is_err());
        assert!(parse_defer(Some("1.5"), 10).is_err());
    }
}
