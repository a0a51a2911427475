//! Go's text parsers and formatters that NSQ flag values go through:
//! `strconv.ParseBool`, `strconv.ParseInt`, `strconv.ParseFloat`,
//! `time.ParseDuration`, `time.Duration.String` and `strconv.Quote`.
//!
//! They are public because the daemons need the same rules elsewhere
//! (HTTP query parameters, `/config` read-back, log lines).

use std::time::Duration;

/// Why a Go number parse failed; the `Display` texts are the ones Go's
/// `flag` package prints after `invalid value "<v>" for flag -<name>: `.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NumError {
    /// Not a number in the accepted syntax (Go `strconv.ErrSyntax`).
    #[error("parse error")]
    Syntax,
    /// A well-formed number outside the type's range (Go `strconv.ErrRange`).
    #[error("value out of range")]
    Range,
}

/// Go `strconv.ParseBool`: `1 t T TRUE true True` and `0 f F FALSE false False`.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Go `strconv.ParseInt(s, base, 64)` for `base` 0 or 2..=36.
///
/// Base 0 picks the base from the prefix (`0x`, `0o`, `0b`, a bare leading
/// `0` = octal) and allows `_` between digits, exactly like Go.
pub fn parse_int(s: &str, base: u32) -> Result<i64, NumError> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    let magnitude = parse_uint(body, base)?;
    if neg {
        if magnitude > 1u64 << 63 {
            return Err(NumError::Range);
        }
        Ok((magnitude as i64).wrapping_neg())
    } else {
        i64::try_from(magnitude).map_err(|_| NumError::Range)
    }
}

/// Go `strconv.ParseUint(s, base, 64)` (no sign allowed).
fn parse_uint(s0: &str, base: u32) -> Result<u64, NumError> {
    if s0.is_empty() {
        return Err(NumError::Syntax);
    }
    let base0 = base == 0;
    let bytes = s0.as_bytes();
    let (base, digits) = if base0 {
        if bytes[0] == b'0' {
            let prefix = bytes.get(1).map(u8::to_ascii_lowercase);
            match prefix {
                Some(b'b') if bytes.len() >= 3 => (2, &bytes[2..]),
                Some(b'o') if bytes.len() >= 3 => (8, &bytes[2..]),
                Some(b'x') if bytes.len() >= 3 => (16, &bytes[2..]),
                _ => (8, &bytes[1..]),
            }
        } else {
            (10, bytes)
        }
    } else if (2..=36).contains(&base) {
        (base, bytes)
    } else {
        return Err(NumError::Syntax);
    };

    let base = u64::from(base);
    let cutoff = u64::MAX / base + 1;
    let mut n: u64 = 0;
    let mut underscores = false;
    for &c in digits {
        let d = match c {
            b'_' if base0 => {
                underscores = true;
                continue;
            }
            b'0'..=b'9' => u64::from(c - b'0'),
            b'a'..=b'z' | b'A'..=b'Z' => u64::from(c.to_ascii_lowercase() - b'a') + 10,
            _ => return Err(NumError::Syntax),
        };
        if d >= base {
            return Err(NumError::Syntax);
        }
        if n >= cutoff {
            return Err(NumError::Range);
        }
        n *= base;
        n = n.checked_add(d).ok_or(NumError::Range)?;
    }
    if underscores && !underscore_ok(s0) {
        return Err(NumError::Syntax);
    }
    Ok(n)
}

/// Go's rule for `_` in number literals: only between digits, or between a
/// base prefix and a digit.
fn underscore_ok(s: &str) -> bool {
    let mut b = s.as_bytes();
    if let Some(b'+' | b'-') = b.first() {
        b = &b[1..];
    }
    // '^' start, '0' digit or prefix, '_' underscore, '!' anything else.
    let mut saw = b'^';
    let mut i = 0;
    let mut hex = false;
    if b.len() >= 2 && b[0] == b'0' && matches!(b[1].to_ascii_lowercase(), b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = b[1].eq_ignore_ascii_case(&b'x');
    }
    while i < b.len() {
        let c = b[i];
        i += 1;
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = b'0';
            continue;
        }
        if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
            continue;
        }
        if saw == b'_' {
            return false;
        }
        saw = b'!';
    }
    saw != b'_'
}

/// Go `strconv.ParseFloat(s, 64)`: decimal and hexadecimal (`0x1p-2`) forms,
/// `_` separators, `inf`/`infinity`/`nan` (case-insensitive); overflow to
/// infinity is a range error.
pub fn parse_float(s: &str) -> Result<f64, NumError> {
    if let Some(v) = parse_special_float(s) {
        return Ok(v);
    }
    let bytes = s.as_bytes();
    let (neg, body) = match bytes.first() {
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    if body.contains('_') && !underscore_ok(s) {
        return Err(NumError::Syntax);
    }
    let cleaned: String = body.chars().filter(|&c| c != '_').collect();
    let lower = cleaned.to_ascii_lowercase();
    let magnitude = if let Some(hex) = lower.strip_prefix("0x") {
        parse_hex_float(hex)?
    } else {
        if !is_decimal_float(&cleaned) {
            return Err(NumError::Syntax);
        }
        cleaned.parse::<f64>().map_err(|_| NumError::Syntax)?
    };
    if magnitude.is_infinite() {
        return Err(NumError::Range);
    }
    Ok(if neg { -magnitude } else { magnitude })
}

/// Go's `inf`, `+inf`, `-infinity`, `nan` spellings (no sign on `nan`).
fn parse_special_float(s: &str) -> Option<f64> {
    let lower = s.to_ascii_lowercase();
    match lower.as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => Some(f64::INFINITY),
        "-inf" | "-infinity" => Some(f64::NEG_INFINITY),
        "nan" => Some(f64::NAN),
        _ => None,
    }
}

/// `digits [. digits] [e [sign] digits]` or `. digits [...]`, nothing else.
fn is_decimal_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let int_digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    i += int_digits;
    let mut frac_digits = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        frac_digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        i += frac_digits;
    }
    if int_digits + frac_digits == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp_digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if exp_digits == 0 {
            return false;
        }
        i += exp_digits;
    }
    i == b.len()
}

/// Hexadecimal mantissa (after `0x`) with a mandatory `p` exponent.
fn parse_hex_float(s: &str) -> Result<f64, NumError> {
    let (mantissa, exponent) = s.split_once('p').ok_or(NumError::Syntax)?;
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return Err(NumError::Syntax);
    }
    let mut value: f64 = 0.0;
    for c in int_part.chars() {
        value = value * 16.0 + f64::from(c.to_digit(16).ok_or(NumError::Syntax)?);
    }
    let mut scale = 1.0 / 16.0;
    for c in frac_part.chars() {
        value += f64::from(c.to_digit(16).ok_or(NumError::Syntax)?) * scale;
        scale /= 16.0;
    }
    let exp_digits = exponent.trim_start_matches(['+', '-']);
    if exp_digits.is_empty()
        || !exp_digits.bytes().all(|c| c.is_ascii_digit())
        || exponent.len() - exp_digits.len() > 1
    {
        return Err(NumError::Syntax);
    }
    // Exponents beyond the f64 range saturate; the result is then 0 or inf.
    let exp: i32 = exponent.parse().unwrap_or(if exponent.starts_with('-') {
        i32::MIN
    } else {
        i32::MAX
    });
    Ok(value * 2f64.powi(exp.clamp(-2000, 2000)))
}

/// Why [`parse_duration`] refused its input; `Display` is Go's error text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Malformed or overflowing (Go `time: invalid duration "<s>"`).
    #[error("time: invalid duration {}", quote(.0))]
    Invalid(String),
    /// A number without a unit (Go `time: missing unit in duration "<s>"`).
    #[error("time: missing unit in duration {}", quote(.0))]
    MissingUnit(String),
    /// An unknown unit (Go `time: unknown unit "<u>" in duration "<s>"`).
    #[error("time: unknown unit {} in duration {}", quote(.unit), quote(.input))]
    UnknownUnit {
        /// The unit as written.
        unit: String,
        /// The whole input.
        input: String,
    },
}

/// Go `time.ParseDuration`, returning signed nanoseconds like Go's
/// `time.Duration`: `[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+`, units `ns us µs μs
/// ms s m h`, bare `0` allowed.
pub fn parse_duration(s: &str) -> Result<i64, DurationError> {
    let invalid = || DurationError::Invalid(s.to_string());
    let mut rest = s.as_bytes();
    let mut neg = false;
    if let Some(&c @ (b'-' | b'+')) = rest.first() {
        neg = c == b'-';
        rest = &rest[1..];
    }
    if rest == b"0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    const LIMIT: u64 = 1 << 63;
    let mut total: u64 = 0;
    while !rest.is_empty() {
        if !(rest[0] == b'.' || rest[0].is_ascii_digit()) {
            return Err(invalid());
        }
        // Integer part.
        let mut whole: u64 = 0;
        let int_len = rest.iter().take_while(|c| c.is_ascii_digit()).count();
        for &c in &rest[..int_len] {
            if whole > LIMIT / 10 {
                return Err(invalid());
            }
            whole = whole * 10 + u64::from(c - b'0');
            if whole > LIMIT {
                return Err(invalid());
            }
        }
        rest = &rest[int_len..];
        // Fraction part.
        let mut frac: u64 = 0;
        let mut scale: f64 = 1.0;
        let mut frac_len = 0;
        if rest.first() == Some(&b'.') {
            rest = &rest[1..];
            frac_len = rest.iter().take_while(|c| c.is_ascii_digit()).count();
            let mut overflow = false;
            for &c in &rest[..frac_len] {
                if overflow {
                    continue;
                }
                if frac > (LIMIT - 1) / 10 {
                    overflow = true;
                    continue;
                }
                let next = frac * 10 + u64::from(c - b'0');
                if next > LIMIT {
                    overflow = true;
                    continue;
                }
                frac = next;
                scale *= 10.0;
            }
            rest = &rest[frac_len..];
        }
        if int_len == 0 && frac_len == 0 {
            return Err(invalid());
        }
        // Unit: everything up to the next digit or '.'.
        let unit_len = rest
            .iter()
            .take_while(|&&c| c != b'.' && !c.is_ascii_digit())
            .count();
        if unit_len == 0 {
            return Err(DurationError::MissingUnit(s.to_string()));
        }
        let unit_bytes = &rest[..unit_len];
        rest = &rest[unit_len..];
        let unit: u64 = match unit_bytes {
            b"ns" => 1,
            // "us", "µs" (U+00B5 micro sign), "μs" (U+03BC Greek mu)
            b"us" | [0xC2, 0xB5, b's'] | [0xCE, 0xBC, b's'] => 1_000,
            b"ms" => 1_000_000,
            b"s" => 1_000_000_000,
            b"m" => 60_000_000_000,
            b"h" => 3_600_000_000_000,
            _ => {
                return Err(DurationError::UnknownUnit {
                    unit: String::from_utf8_lossy(unit_bytes).into_owned(),
                    input: s.to_string(),
                })
            }
        };
        if whole > LIMIT / unit {
            return Err(invalid());
        }
        let mut v = whole * unit;
        if frac > 0 {
            v += (frac as f64 * (unit as f64 / scale)) as u64;
            if v > LIMIT {
                return Err(invalid());
            }
        }
        total += v;
        if total > LIMIT {
            return Err(invalid());
        }
    }
    if neg {
        return Ok((total as i64).wrapping_neg());
    }
    i64::try_from(total).map_err(|_| invalid())
}

/// Go `time.Duration.String` for a non-negative duration: `0s`, `250ms`,
/// `1.5µs`, `45s`, `1m0s`, `1h30m0s` (as printed in `--help` defaults).
pub fn format_duration(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns == 0 {
        return "0s".to_string();
    }
    if ns < 1_000_000_000 {
        let (prec, unit) = match ns {
            n if n < 1_000 => (0, "ns"),
            n if n < 1_000_000 => (3, "µs"),
            _ => (6, "ms"),
        };
        return format!("{}{unit}", fixed_point(ns, prec));
    }
    let secs = ns / 1_000_000_000;
    let frac = ns % 1_000_000_000;
    let sec_text = fixed_point((secs % 60) * 1_000_000_000 + frac, 9);
    let minutes = secs / 60;
    if minutes == 0 {
        return format!("{sec_text}s");
    }
    let hours = minutes / 60;
    if hours == 0 {
        return format!("{}m{sec_text}s", minutes % 60);
    }
    format!("{hours}h{}m{sec_text}s", minutes % 60)
}

/// `v / 10^prec` with the fraction's trailing zeros (and a bare `.`) dropped.
fn fixed_point(v: u128, prec: u32) -> String {
    let div = 10u128.pow(prec);
    let whole = v / div;
    let frac = v % div;
    if frac == 0 {
        return whole.to_string();
    }
    let digits = format!("{frac:0width$}", width = prec as usize);
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// Go `strconv.Quote` (the `%q` verb): double quotes, Go escapes for
/// control characters, printable text kept as is.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            ' '..='~' => out.push(c),
            c if c.is_ascii() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if c.is_control() || c.is_whitespace() || c == '\u{fffd}' => {
                if (c as u32) < 0x10000 {
                    out.push_str(&format!("\\u{:04x}", c as u32));
                } else {
                    out.push_str(&format!("\\U{:08x}", c as u32));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Go's `%v` for a `float64` (`strconv.FormatFloat(f, 'g', -1, 64)`):
/// shortest digits, exponent form (`1e+06`, `1e-05`) when the decimal
/// exponent is below -4 or at least 6. Used to echo config values in errors.
pub fn format_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_string();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.to_string();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    // Shortest round-trip digits via Rust's `{:e}` (e.g. "1.5e6").
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exp.abs());
    }
    // Plain decimal form: Rust's Display gives the shortest digits too.
    format!("{f}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bools_accept_exactly_go_words() {
        for w in ["1", "t", "T", "TRUE", "true", "True"] {
            assert_eq!(parse_bool(w), Some(true), "{w}");
        }
        for w in ["0", "f", "F", "FALSE", "false", "False"] {
            assert_eq!(parse_bool(w), Some(false), "{w}");
        }
        for w in ["", "yes", "no", "tRUE", "on", "2", " true"] {
            assert_eq!(parse_bool(w), None, "{w}");
        }
    }

    #[test]
    fn ints_base0_prefixes_and_signs() {
        let ok = [
            ("0", 0),
            ("42", 42),
            ("+42", 42),
            ("-42", -42),
            ("0x10", 16),
            ("0X1f", 31),
            ("-0x10", -16),
            ("0o17", 15),
            ("0O17", 15),
            ("017", 15),
            ("0b101", 5),
            ("0B11", 3),
            ("1_000", 1000),
            ("0x_ff", 255),
            ("0_7", 7),
            ("9223372036854775807", i64::MAX),
            ("-9223372036854775808", i64::MIN),
        ];
        for (s, v) in ok {
            assert_eq!(parse_int(s, 0), Ok(v), "{s}");
        }
        let syntax = [
            "", "+", "-", "0x", "0b", "0o", "08", "0b2", "1e3", "1.0", "abc", " 1", "1 ", "_1",
            "1_", "1__0", "--1", "0x_", "12a",
        ];
        for s in syntax {
            assert_eq!(parse_int(s, 0), Err(NumError::Syntax), "{s}");
        }
        for s in [
            "9223372036854775808",
            "-9223372036854775809",
            "99999999999999999999",
        ] {
            assert_eq!(parse_int(s, 0), Err(NumError::Range), "{s}");
        }
    }

    #[test]
    fn ints_base10_reject_prefixes_and_underscores() {
        assert_eq!(parse_int("017", 10), Ok(17));
        assert_eq!(parse_int("-5", 10), Ok(-5));
        assert_eq!(parse_int("0x10", 10), Err(NumError::Syntax));
        assert_eq!(parse_int("1_000", 10), Err(NumError::Syntax));
        assert_eq!(parse_int("5", 1), Err(NumError::Syntax));
    }

    #[test]
    fn num_error_texts_match_go_flag() {
        assert_eq!(NumError::Syntax.to_string(), "parse error");
        assert_eq!(NumError::Range.to_string(), "value out of range");
    }

    #[test]
    fn floats_like_go() {
        let ok = [
            ("1", 1.0),
            ("1.0", 1.0),
            ("0.99", 0.99),
            (".5", 0.5),
            ("5.", 5.0),
            ("+0.5", 0.5),
            ("-0.5", -0.5),
            ("1e2", 100.0),
            ("1E-2", 0.01),
            ("1_000.5", 1000.5),
            ("0x1p-2", 0.25),
            ("0x1.8p1", 3.0),
            ("1e-400", 0.0),
        ];
        for (s, v) in ok {
            assert_eq!(parse_float(s), Ok(v), "{s}");
        }
        assert_eq!(parse_float("inf"), Ok(f64::INFINITY));
        assert_eq!(parse_float("-Infinity"), Ok(f64::NEG_INFINITY));
        assert!(parse_float("NaN").unwrap().is_nan());
        for s in [
            "", ".", "e5", "1e", "1e+", "abc", "1,0", " 1", "0x1", "+nan", "infin", "1_", "0.5x",
        ] {
            assert_eq!(parse_float(s), Err(NumError::Syntax), "{s}");
        }
        assert_eq!(parse_float("1e400"), Err(NumError::Range));
    }

    #[test]
    fn durations_like_go() {
        let ok = [
            ("0", 0),
            ("-0", 0),
            ("+0", 0),
            ("0s", 0),
            ("1ns", 1),
            ("1us", 1_000),
            ("1µs", 1_000),
            ("1μs", 1_000),
            ("25ms", 25_000_000),
            ("60s", 60_000_000_000),
            ("1m", 60_000_000_000),
            ("1h", 3_600_000_000_000),
            ("1.5h", 5_400_000_000_000),
            ("1h30m", 5_400_000_000_000),
            ("1m30.5s", 90_500_000_000),
            (".5s", 500_000_000),
            ("1.s", 1_000_000_000),
            ("+2s", 2_000_000_000),
            ("-2s", -2_000_000_000),
            ("2562047h47m16.854775807s", i64::MAX),
        ];
        for (s, v) in ok {
            assert_eq!(parse_duration(s), Ok(v), "{s}");
        }
        assert_eq!(
            parse_duration("60"),
            Err(DurationError::MissingUnit("60".into()))
        );
        assert_eq!(
            parse_duration("5x").unwrap_err().to_string(),
            "time: unknown unit \"x\" in duration \"5x\""
        );
        for s in [
            "",
            "-",
            "s",
            ".s",
            "1.5",
            "1s2",
            "2562047h47m16.854775808s",
            "99999999999999999999s",
            " 1s",
        ] {
            assert!(parse_duration(s).is_err(), "{s}");
        }
        assert_eq!(
            parse_duration("bad").unwrap_err().to_string(),
            "time: invalid duration \"bad\""
        );
    }

    #[test]
    fn duration_strings_like_go() {
        let cases = [
            (0, "0s"),
            (1, "1ns"),
            (1_500, "1.5µs"),
            (25_000_000, "25ms"),
            (250_000_000, "250ms"),
            (1_000_000_000, "1s"),
            (2_500_000_000, "2.5s"),
            (45_000_000_000, "45s"),
            (60_000_000_000, "1m0s"),
            (300_000_000_000, "5m0s"),
            (900_000_000_000, "15m0s"),
            (3_600_000_000_000, "1h0m0s"),
            (5_430_000_000_000, "1h30m30s"),
        ];
        for (ns, text) in cases {
            assert_eq!(format_duration(Duration::from_nanos(ns)), text);
        }
    }

    #[test]
    fn quote_like_go() {
        assert_eq!(quote("[nsqd] "), "\"[nsqd] \"");
        assert_eq!(quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(quote("\n\t\u{1}"), "\"\\n\\t\\x01\"");
        assert_eq!(quote("µs"), "\"µs\"");
        assert_eq!(quote("\u{a0}"), "\"\\u00a0\"");
    }

    #[test]
    fn float_v_formatting_like_go() {
        let cases = [
            (1.0, "1"),
            (0.5, "0.5"),
            (2.5, "2.5"),
            (123456.0, "123456"),
            (1e6, "1e+06"),
            (1234567.0, "1.234567e+06"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-3.0, "-3"),
        ];
        for (f, text) in cases {
            assert_eq!(format_float(f), text, "{f}");
        }
    }
}
