//! Query-string parameters with Go `url.ParseQuery` rules.
//!
//! NSQ reads parameters from the URL query string only (never from a form
//! body). A repeated parameter yields its first value. A query string that
//! Go refuses (a bad `%` escape, a `;` separator) makes the endpoint answer
//! `400 INVALID_REQUEST`, which [`Query::parse`] reports as [`QueryError`]
//! and `?`-converts into that [`ApiError`].

use crate::error::ApiError;

/// Why a query string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// A `%` not followed by two hex digits.
    #[error("invalid URL escape {0:?} in the query string")]
    InvalidEscape(String),
    /// A `;` inside a `key=value` pair (Go no longer accepts it as a separator).
    #[error("invalid semicolon separator in query")]
    Semicolon,
}

impl From<QueryError> for ApiError {
    fn from(_: QueryError) -> Self {
        ApiError::invalid_request()
    }
}

/// Parsed query parameters, in the order they appear.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// Parses a raw query string (without the `?`), like Go's `url.ParseQuery`:
    /// pairs split on `&`, empty pairs skipped, `+` is a space, `%XX` escapes
    /// decoded, a key without `=` has the value `""`.
    pub fn parse(raw: &str) -> Result<Query, QueryError> {
        let mut pairs = Vec::new();
        let mut first_error = None;
        for pair in raw.split('&') {
            if pair.contains(';') {
                first_error.get_or_insert(QueryError::Semicolon);
                continue;
            }
            if pair.is_empty() {
                continue;
            }
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match (unescape(key), unescape(value)) {
                (Ok(k), Ok(v)) => pairs.push((k, v)),
                (Err(e), _) | (_, Err(e)) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(Query { pairs }),
        }
    }

    /// The first value of `key`, or `None` when the key is absent.
    /// `?topic=` gives `Some("")`: NSQ treats only an absent key as missing.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `key`, in order.
    pub fn get_all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of `key`, or `Err(400 <missing_code>)` when absent,
    /// e.g. `query.require("topic", "MISSING_ARG_TOPIC")?`.
    pub fn require(&self, key: &str, missing_code: &'static str) -> Result<&str, ApiError> {
        self.get(key)
            .ok_or_else(|| ApiError::bad_request(missing_code))
    }

    /// A boolean parameter: `true`/`1` → true, `false`/`0` → false, anything
    /// else (including absent) → `default`.
    pub fn get_bool(&self, key: &str, default: bool) -> bool {
        match self.get(key) {
            Some("true") | Some("1") => true,
            Some("false") | Some("0") => false,
            _ => default,
        }
    }

    /// All pairs in order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }
}

/// Go `url.QueryUnescape`. Invalid UTF-8 after decoding is replaced by U+FFFD.
fn unescape(s: &str) -> Result<String, QueryError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hi = bytes.get(i + 1).copied().and_then(hex_value);
                let lo = bytes.get(i + 2).copied().and_then(hex_value);
                match (hi, lo) {
                    (Some(h), Some(l)) => out.push(h << 4 | l),
                    _ => {
                        let end = (i + 3).min(bytes.len());
                        let bad = String::from_utf8_lossy(&bytes[i..end]).into_owned();
                        return Err(QueryError::InvalidEscape(bad));
                    }
                }
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

pub(crate) fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_value_wins() {
        let q = Query::parse("topic=a&topic=b").unwrap();
        assert_eq!(q.get("topic"), Some("a"));
        assert_eq!(q.get_all("topic").collect::<Vec<_>>(), ["a", "b"]);
    }

    #[test]
    fn empty_value_is_present_absent_key_is_not() {
        let q = Query::parse("topic=&flag").unwrap();
        assert_eq!(q.get("topic"), Some(""));
        assert_eq!(q.get("flag"), Some(""));
        assert_eq!(q.get("channel"), None);
        let err = q.require("channel", "MISSING_ARG_CHANNEL").unwrap_err();
        assert_eq!(err, ApiError::bad_request("MISSING_ARG_CHANNEL"));
        assert_eq!(q.require("topic", "MISSING_ARG_TOPIC"), Ok(""));
    }

    #[test]
    fn escapes_and_plus_are_decoded() {
        let q = Query::parse("a=x%20y+z&b%3D=%26&&").unwrap();
        assert_eq!(q.get("a"), Some("x y z"));
        assert_eq!(q.get("b="), Some("&"));
        assert_eq!(q.pairs().len(), 2);
    }

    #[test]
    fn bad_escape_and_semicolon_are_refused() {
        assert!(matches!(
            Query::parse("topic=%zz"),
            Err(QueryError::InvalidEscape(_))
        ));
        assert!(matches!(
            Query::parse("topic=%4"),
            Err(QueryError::InvalidEscape(_))
        ));
        assert_eq!(Query::parse("a=1;b=2"), Err(QueryError::Semicolon));
        let api: ApiError = QueryError::Semicolon.into();
        assert_eq!(api, ApiError::bad_request("INVALID_REQUEST"));
    }

    #[test]
    fn bool_params() {
        let q = Query::parse("a=true&b=1&c=false&d=0&e=yes&f=TRUE").unwrap();
        assert!(q.get_bool("a", false));
        assert!(q.get_bool("b", false));
        assert!(!q.get_bool("c", true));
        assert!(!q.get_bool("d", true));
        assert!(q.get_bool("e", true));
        assert!(!q.get_bool("e", false));
        assert!(q.get_bool("f", true));
        assert!(!q.get_bool("missing", false));
    }

    #[test]
    fn empty_query_is_empty() {
        assert_eq!(Query::parse("").unwrap(), Query::default());
    }
}
