//! Small text helpers shared by the decoders: Go-style quoting and nsqd's
//! digits-only number parsing.

mod print_table;
mod quote;

pub(crate) use quote::go_quote;

/// Parses a parameter the way nsqd does: ASCII digits only, an empty string
/// is 0, anything else (signs, spaces, letters) is `None`. Overflow wraps
/// around modulo 2^64, as nsqd's unsigned accumulator does.
pub(crate) fn parse_base10(raw: &[u8]) -> Option<u64> {
    let mut n: u64 = 0;
    for &b in raw {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n.wrapping_mul(10).wrapping_add(u64::from(b - b'0'));
    }
    Some(n)
}

/// Text of raw bytes for an error description. Valid UTF-8 is kept as is;
/// invalid sequences become U+FFFD (a description is a `String`).
pub(crate) fn lossy(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base10_accepts_digits_and_empty() {
        assert_eq!(parse_base10(b""), Some(0));
        assert_eq!(parse_base10(b"0"), Some(0));
        assert_eq!(parse_base10(b"007"), Some(7));
        assert_eq!(parse_base10(b"3600000"), Some(3_600_000));
    }

    #[test]
    fn base10_rejects_non_digits() {
        for raw in [&b"-1"[..], b"+1", b" 1", b"1 ", b"abc", b"1.5", b"0x10"] {
            assert_eq!(parse_base10(raw), None, "{raw:?}");
        }
    }

    #[test]
    fn base10_wraps_on_overflow() {
        assert_eq!(parse_base10(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_base10(b"18446744073709551616"), Some(0));
        assert_eq!(parse_base10(b"18446744073709551617"), Some(1));
    }
}
