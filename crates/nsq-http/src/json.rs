//! JSON encoded the way Go's `encoding/json` writes it.
//!
//! Differences from plain `serde_json` output that this encoder removes:
//! - `<`, `>`, `&`, U+2028 and U+2029 inside strings are written as
//!   `\u003c`, `\u003e`, `\u0026`, `\u2028`, `\u2029`;
//! - backspace and form feed are written as `\u0008` and `\u000c`;
//! - floats use Go's shortest form: `1` rather than `1.0`, and exponent
//!   notation (`1e+21`, `1e-7`) outside `[1e-6, 1e21)`.
//!
//! Key order is whatever the value serializes: struct fields in declaration
//! order, `BTreeMap` sorted (what Go does for every map), and
//! `serde_json::Map` / `json!` in insertion order.

use serde::Serialize;
use serde_json::ser::{CharEscape, Formatter};
use std::io::{self, Write};

/// Encodes `value` as compact JSON with Go's escaping and float formatting.
///
/// Fails only when the value cannot be represented in JSON (for example a
/// map with non-string keys).
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::with_capacity(128);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, GoFormatter);
    value.serialize(&mut ser)?;
    Ok(out)
}

/// A `serde_json` formatter producing Go `encoding/json` output.
#[derive(Debug, Clone, Copy, Default)]
pub struct GoFormatter;

impl Formatter for GoFormatter {
    fn write_f64<W: ?Sized + Write>(&mut self, writer: &mut W, value: f64) -> io::Result<()> {
        let exp = !(1e-6..1e21).contains(&value.abs());
        writer.write_all(format_go_float(value, exp).as_bytes())
    }

    fn write_f32<W: ?Sized + Write>(&mut self, writer: &mut W, value: f32) -> io::Result<()> {
        let exp = !(1e-6..1e21).contains(&value.abs());
        let text = if value != 0.0 && exp {
            exponent_form(format!("{value:e}"))
        } else {
            format!("{value}")
        };
        writer.write_all(text.as_bytes())
    }

    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            let escaped: &[u8] = match c {
                '<' => b"\\u003c",
                '>' => b"\\u003e",
                '&' => b"\\u0026",
                '\u{2028}' => b"\\u2028",
                '\u{2029}' => b"\\u2029",
                _ => continue,
            };
            writer.write_all(&fragment.as_bytes()[start..i])?;
            writer.write_all(escaped)?;
            start = i + c.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }

    fn write_char_escape<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        char_escape: CharEscape,
    ) -> io::Result<()> {
        let text: &[u8] = match char_escape {
            CharEscape::Quote => b"\\\"",
            CharEscape::ReverseSolidus => b"\\\\",
            CharEscape::Solidus => b"\\/",
            CharEscape::Backspace => b"\\u0008",
            CharEscape::FormFeed => b"\\u000c",
            CharEscape::LineFeed => b"\\n",
            CharEscape::CarriageReturn => b"\\r",
            CharEscape::Tab => b"\\t",
            CharEscape::AsciiControl(byte) => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let buf = [
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[(byte >> 4) as usize],
                    HEX[(byte & 0xf) as usize],
                ];
                return writer.write_all(&buf);
            }
        };
        writer.write_all(text)
    }
}

fn format_go_float(value: f64, exponent: bool) -> String {
    if value != 0.0 && exponent {
        exponent_form(format!("{value:e}"))
    } else {
        format!("{value}")
    }
}

/// Rust writes `1e21` / `1.5e-7`; Go writes `1e+21` / `1.5e-7`.
fn exponent_form(rust: String) -> String {
    match rust.split_once('e') {
        Some((mantissa, exp)) if !exp.starts_with('-') => format!("{mantissa}e+{exp}"),
        _ => rust,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn enc<T: Serialize>(v: &T) -> String {
        String::from_utf8(to_vec(v).unwrap()).unwrap()
    }

    #[test]
    fn html_characters_are_escaped_like_go() {
        assert_eq!(
            enc(&json!({"a": "<b>&\u{2028}\u{2029}"})),
            r#"{"a":"\u003cb\u003e\u0026\u2028\u2029"}"#
        );
    }

    #[test]
    fn control_characters_use_go_escapes() {
        assert_eq!(
            enc(&"\u{8}\u{c}\n\r\t\u{1}\"\\/"),
            r#""\u0008\u000c\n\r\t\u0001\"\\/""#
        );
    }

    #[test]
    fn floats_use_go_shortest_form() {
        assert_eq!(enc(&1.0f64), "1");
        assert_eq!(enc(&2636789146.0f64), "2636789146");
        assert_eq!(enc(&0.99f64), "0.99");
        assert_eq!(enc(&-0.5f64), "-0.5");
        assert_eq!(enc(&1e21f64), "1e+21");
        assert_eq!(enc(&1.5e-7f64), "1.5e-7");
        assert_eq!(enc(&1e20f64), "100000000000000000000");
        assert_eq!(enc(&0.000001f64), "0.000001");
        assert_eq!(enc(&0.0f64), "0");
        assert_eq!(enc(&0.1f32), "0.1");
        assert_eq!(enc(&1e22f32), "1e+22");
    }

    #[test]
    fn output_is_compact_and_keeps_order() {
        assert_eq!(
            enc(&json!({"z": [1, 2], "a": null})),
            r#"{"z":[1,2],"a":null}"#
        );
    }
}
