//! Response compression, as v1.3.0 wraps its whole server: the first of
//! `gzip` / `deflate` listed in `Accept-Encoding` is used, with
//! `Content-Encoding` and `Vary: Accept-Encoding` set.

use axum::body::Body;
use axum::http::{header, HeaderValue, Response};
use flate2::write::{DeflateEncoder, GzEncoder};
use flate2::Compression;
use http_body_util::BodyExt;
use std::io::Write;

/// A supported content coding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// `gzip`.
    Gzip,
    /// `deflate` (raw DEFLATE, as Go's handler writes it).
    Deflate,
}

/// The coding to use for an `Accept-Encoding` value, if any.
pub fn choose(accept_encoding: &str) -> Option<Encoding> {
    accept_encoding.split(',').find_map(|part| {
        let name = part.split(';').next().unwrap_or("").trim();
        if name.eq_ignore_ascii_case("gzip") {
            Some(Encoding::Gzip)
        } else if name.eq_ignore_ascii_case("deflate") {
            Some(Encoding::Deflate)
        } else {
            None
        }
    })
}

/// Compresses `resp`'s body with `encoding` (left as is if it already has
/// a `Content-Encoding` or the body cannot be read).
pub async fn compress(resp: Response<Body>, encoding: Encoding) -> Response<Body> {
    if resp.headers().contains_key(header::CONTENT_ENCODING) {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let bytes = match body.collect().await {
        Ok(c) => c.to_bytes(),
        Err(e) => {
            tracing::warn!("failed to read a response body for compression - {e}");
            return Response::from_parts(parts, Body::empty());
        }
    };
    let encoded = match encoding {
        Encoding::Gzip => {
            let mut enc = GzEncoder::new(Vec::new(), Compression::default());
            enc.write_all(&bytes).and_then(|()| enc.finish())
        }
        Encoding::Deflate => {
            let mut enc = DeflateEncoder::new(Vec::new(), Compression::default());
            enc.write_all(&bytes).and_then(|()| enc.finish())
        }
    };
    let Ok(encoded) = encoded else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let name = match encoding {
        Encoding::Gzip => "gzip",
        Encoding::Deflate => "deflate",
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_ENCODING, HeaderValue::from_static(name));
    parts
        .headers
        .insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    Response::from_parts(parts, Body::from(encoded))
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::GzDecoder;
    use std::io::Read;

    #[test]
    fn first_supported_coding_wins() {
        assert_eq!(choose("gzip, deflate, br"), Some(Encoding::Gzip));
        assert_eq!(choose("br, deflate;q=0.5, gzip"), Some(Encoding::Deflate));
        assert_eq!(choose("br"), None);
        assert_eq!(choose(""), None);
    }

    #[tokio::test]
    async fn gzip_body_round_trips() {
        let resp = Response::new(Body::from("hello hello hello"));
        let out = compress(resp, Encoding::Gzip).await;
        assert_eq!(out.headers()["content-encoding"], "gzip");
        assert_eq!(out.headers()["vary"], "Accept-Encoding");
        let bytes = out.into_body().collect().await.unwrap().to_bytes();
        let mut text = String::new();
        GzDecoder::new(&bytes[..])
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "hello hello hello");
    }
}
