//! Query strings with Go `url.ParseQuery` rules (`nsq_http::Query`), then
//! the parameter readers nsqd's `/pub` and `/mpub` apply to them.
//!
//! Input: the raw query string (after `?`); invalid UTF-8 is replaced, as
//! a URI reaching the router is always text.
//!
//! Checks: no panic; `get` returns the first value of a key; the pairs,
//! percent-encoded again, parse back to the same pairs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nsq_http::Query;
use nsqd::http_body::{parse_defer, MpubFormat};

/// Percent-encodes everything but unreserved characters.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let raw = String::from_utf8_lossy(data);
    let Ok(query) = Query::parse(&raw) else {
        return;
    };
    for (key, value) in query.pairs() {
        let first = query.get(key).expect("a parsed key is present");
        assert_eq!(Some(first), query.get_all(key).next());
        let _ = value;
    }
    let encoded: Vec<String> = query
        .pairs()
        .iter()
        .map(|(k, v)| format!("{}={}", escape(k), escape(v)))
        .collect();
    let again = Query::parse(&encoded.join("&")).expect("re-encoded query parses");
    assert_eq!(again.pairs(), query.pairs());

    let _ = query.get_bool("include_clients", true);
    let _ = MpubFormat::from_param(query.get("binary"));
    if let Ok(defer) = parse_defer(query.get("defer"), 3_600_000) {
        assert!(defer.as_millis() <= 3_600_000);
    }
});
