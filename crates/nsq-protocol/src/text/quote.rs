//! Go's `%q` formatting of a byte string (`strconv.Quote`), used for topic
//! and channel names inside nsqd's error texts.
//!
//! Rules: the result is wrapped in `"`; `"` and `\` are backslash-escaped;
//! printable runes are kept; `\a \b \f \n \r \t \v` use their short escapes;
//! other runes below U+0020 and U+007F become `\xNN`; other non-printable
//! runes become `\uNNNN` or `\UNNNNNNNN`; each byte of an invalid UTF-8
//! sequence becomes `\xNN`. Hex digits are lower case.

use super::print_table::PRINTABLE;
use std::fmt::Write;

/// Quotes `raw` exactly as Go's `strconv.Quote` would.
pub(crate) fn go_quote(raw: &[u8]) -> String {
    let mut out = String::with_capacity(raw.len() + 2);
    out.push('"');
    for chunk in raw.utf8_chunks() {
        for c in chunk.valid().chars() {
            push_rune(&mut out, c);
        }
        for &b in chunk.invalid() {
            push_hex_byte(&mut out, b);
        }
    }
    out.push('"');
    out
}

fn push_rune(out: &mut String, c: char) {
    match c {
        '"' | '\\' => {
            out.push('\\');
            out.push(c);
        }
        _ if is_print(c) => out.push(c),
        '\u{7}' => out.push_str("\\a"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{b}' => out.push_str("\\v"),
        _ => {
            let cp = u32::from(c);
            if cp < 0x20 || cp == 0x7f {
                // Both arms are below 0x80, so the cast is lossless.
                push_hex_byte(out, cp as u8);
            } else if cp < 0x10000 {
                let _ = write!(out, "\\u{cp:04x}");
            } else {
                let _ = write!(out, "\\U{cp:08x}");
            }
        }
    }
}

fn push_hex_byte(out: &mut String, b: u8) {
    let _ = write!(out, "\\x{b:02x}");
}

/// Go's `strconv.IsPrint`: letters, marks, numbers, punctuation, symbols and
/// the ASCII space.
fn is_print(c: char) -> bool {
    let cp = u32::from(c);
    if cp < 0x80 {
        return (0x20..0x7f).contains(&cp);
    }
    PRINTABLE
        .binary_search_by(|&(lo, hi)| {
            if hi < cp {
                std::cmp::Ordering::Less
            } else if lo > cp {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_are_wrapped() {
        assert_eq!(go_quote(b"bad!topic"), "\"bad!topic\"");
        assert_eq!(go_quote(b""), "\"\"");
        assert_eq!(go_quote(b"a b"), "\"a b\"");
    }

    #[test]
    fn quote_and_backslash_are_escaped() {
        assert_eq!(go_quote(b"a\"b\\c"), r#""a\"b\\c""#);
    }

    #[test]
    fn control_characters() {
        assert_eq!(go_quote(b"\x07\x08\x0c\n\r\t\x0b"), r#""\a\b\f\n\r\t\v""#);
        assert_eq!(go_quote(b"\x00\x1f\x7f"), r#""\x00\x1f\x7f""#);
    }

    #[test]
    fn invalid_utf8_bytes_are_hex_escaped_one_by_one() {
        assert_eq!(go_quote(b"\xff"), r#""\xff""#);
        assert_eq!(go_quote(b"a\xe2\x82b"), r#""a\xe2\x82b""#);
        assert_eq!(go_quote(b"\xed\xa0\x80"), r#""\xed\xa0\x80""#);
    }

    #[test]
    fn printable_unicode_is_kept() {
        assert_eq!(go_quote("ü日本\u{fffd}".as_bytes()), "\"ü日本\u{fffd}\"");
        assert_eq!(go_quote("😀".as_bytes()), "\"😀\"");
    }

    #[test]
    fn non_printable_unicode_is_escaped() {
        // C1 control, soft hyphen (Cf), no-break space (Zs), line separator (Zl).
        assert_eq!(go_quote("\u{85}".as_bytes()), r#""\u0085""#);
        assert_eq!(go_quote("\u{ad}".as_bytes()), r#""\u00ad""#);
        assert_eq!(go_quote("\u{a0}".as_bytes()), r#""\u00a0""#);
        assert_eq!(go_quote("\u{2028}".as_bytes()), r#""\u2028""#);
        assert_eq!(go_quote("\u{feff}".as_bytes()), r#""\ufeff""#);
        // Private use and unassigned planes use the long form.
        assert_eq!(go_quote("\u{f0000}".as_bytes()), r#""\U000f0000""#);
        assert_eq!(go_quote("\u{e0001}".as_bytes()), r#""\U000e0001""#);
    }

    #[test]
    fn table_is_sorted_and_disjoint() {
        for w in PRINTABLE.windows(2) {
            assert!(w[0].0 <= w[0].1 && w[0].1 < w[1].0, "{w:?}");
        }
    }
}
