//! A small JSON reader with the rules Go's `encoding/json` applies when
//! nsqd decodes the IDENTIFY body into its struct.
//!
//! Only what IDENTIFY needs: the top-level value must be an object (or
//! `null`, which decodes to nothing); each member is handed to a visitor in
//! document order, duplicates included. Nested objects and arrays are
//! validated and skipped without recursion. Go's details that matter here:
//! nesting deeper than 10000 levels is an error, strings may hold any byte
//! at or above 0x20 (invalid UTF-8 decodes to U+FFFD, one per byte), and an
//! unpaired surrogate escape decodes to U+FFFD.

/// Go's `encoding/json` nesting limit.
const MAX_DEPTH: usize = 10_000;

/// The document is not acceptable (syntax error, wrong type, bad nesting).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct JsonError;

/// One member value as the walker saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Value<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number literal, exactly as written.
    Number(&'a [u8]),
    /// A string literal's contents between the quotes, still escaped.
    Str(&'a [u8]),
    /// An object or an array (already validated).
    Composite,
}

/// Walks `input`: for a top-level object, calls `visit(key, value)` for every
/// member in order (keys unescaped). A top-level `null` visits nothing.
/// Any other top-level value is an error, like decoding it into a struct.
pub(crate) fn walk_object<'a, F>(input: &'a [u8], mut visit: F) -> Result<(), JsonError>
where
    F: FnMut(&[u8], Value<'a>) -> Result<(), JsonError>,
{
    let mut sc = Scanner { s: input, i: 0 };
    sc.ws();
    match sc.peek() {
        Some(b'{') => {
            sc.i += 1;
            sc.ws();
            if sc.peek() == Some(b'}') {
                sc.i += 1;
            } else {
                loop {
                    let key = sc.member_key()?;
                    sc.ws();
                    let value = sc.value(1)?;
                    visit(&unquote(key), value)?;
                    sc.ws();
                    match sc.peek() {
                        Some(b',') => {
                            sc.i += 1;
                            sc.ws();
                        }
                        Some(b'}') => {
                            sc.i += 1;
                            break;
                        }
                        _ => return Err(JsonError),
                    }
                }
            }
        }
        Some(b'n') => sc.literal(b"null")?,
        _ => return Err(JsonError),
    }
    sc.ws();
    if sc.i == input.len() {
        Ok(())
    } else {
        Err(JsonError)
    }
}

struct Scanner<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn expect(&mut self, b: u8) -> Result<(), JsonError> {
        if self.peek() == Some(b) {
            self.i += 1;
            Ok(())
        } else {
            Err(JsonError)
        }
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), JsonError> {
        match self.s.get(self.i..) {
            Some(rest) if rest.starts_with(word) => {
                self.i += word.len();
                Ok(())
            }
            _ => Err(JsonError),
        }
    }

    /// `"key"` followed by `:`; returns the raw key contents.
    fn member_key(&mut self) -> Result<&'a [u8], JsonError> {
        let key = self.string()?;
        self.ws();
        self.expect(b':')?;
        Ok(key)
    }

    /// A string literal starting at the current `"`; returns its raw contents.
    fn string(&mut self) -> Result<&'a [u8], JsonError> {
        self.expect(b'"')?;
        let start = self.i;
        loop {
            let b = self.peek().ok_or(JsonError)?;
            match b {
                b'"' => {
                    let raw = self.s.get(start..self.i).ok_or(JsonError)?;
                    self.i += 1;
                    return Ok(raw);
                }
                b'\\' => {
                    self.i += 1;
                    match self.peek().ok_or(JsonError)? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.i += 1,
                        b'u' => {
                            self.i += 1;
                            for _ in 0..4 {
                                if !self.peek().ok_or(JsonError)?.is_ascii_hexdigit() {
                                    return Err(JsonError);
                                }
                                self.i += 1;
                            }
                        }
                        _ => return Err(JsonError),
                    }
                }
                0x00..=0x1f => return Err(JsonError),
                _ => self.i += 1,
            }
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        self.i - start
    }

    /// A number literal (JSON grammar); returns it as written.
    fn number(&mut self) -> Result<&'a [u8], JsonError> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(JsonError),
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return Err(JsonError);
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if self.digits() == 0 {
                return Err(JsonError);
            }
        }
        self.s.get(start..self.i).ok_or(JsonError)
    }

    /// Any value; `depth` is the number of containers around it.
    fn value(&mut self, depth: usize) -> Result<Value<'a>, JsonError> {
        match self.peek() {
            Some(b'{' | b'[') => {
                self.skip_composite(depth)?;
                Ok(Value::Composite)
            }
            Some(b'"') => Ok(Value::Str(self.string()?)),
            Some(b't') => self.literal(b"true").map(|()| Value::Bool(true)),
            Some(b'f') => self.literal(b"false").map(|()| Value::Bool(false)),
            Some(b'n') => self.literal(b"null").map(|()| Value::Null),
            Some(b'-' | b'0'..=b'9') => Ok(Value::Number(self.number()?)),
            _ => Err(JsonError),
        }
    }

    /// Validates and skips an object or array, iteratively.
    fn skip_composite(&mut self, outer_depth: usize) -> Result<(), JsonError> {
        let mut open: Vec<u8> = Vec::new();
        loop {
            // A value is expected here.
            self.ws();
            match self.peek() {
                Some(kind @ (b'{' | b'[')) => {
                    self.i += 1;
                    open.push(kind);
                    if outer_depth + open.len() > MAX_DEPTH {
                        return Err(JsonError);
                    }
                    self.ws();
                    let close = if kind == b'{' { b'}' } else { b']' };
                    if self.peek() == Some(close) {
                        self.i += 1;
                        open.pop();
                    } else {
                        if kind == b'{' {
                            self.member_key()?;
                        }
                        continue;
                    }
                }
                Some(b'"') => {
                    self.string()?;
                }
                Some(b't') => self.literal(b"true")?,
                Some(b'f') => self.literal(b"false")?,
                Some(b'n') => self.literal(b"null")?,
                Some(b'-' | b'0'..=b'9') => {
                    self.number()?;
                }
                _ => return Err(JsonError),
            }
            // After a value: close containers, or go on to the next element.
            loop {
                let Some(&kind) = open.last() else {
                    return Ok(());
                };
                self.ws();
                match (kind, self.peek()) {
                    (_, Some(b',')) => {
                        self.i += 1;
                        if kind == b'{' {
                            self.ws();
                            self.member_key()?;
                        }
                        break;
                    }
                    (b'{', Some(b'}')) | (b'[', Some(b']')) => {
                        self.i += 1;
                        open.pop();
                    }
                    _ => return Err(JsonError),
                }
            }
        }
    }
}

/// Decodes a string literal's raw contents the way Go does.
pub(crate) fn unquote(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while let Some(rest) = raw.get(i..).filter(|rest| !rest.is_empty()) {
        if rest.first() != Some(&b'\\') {
            let run = rest.iter().position(|&b| b == b'\\').unwrap_or(rest.len());
            push_go_utf8(&mut out, rest.get(..run).unwrap_or_default());
            i += run;
            continue;
        }
        let Some(&esc) = raw.get(i + 1) else {
            break;
        };
        i += 2;
        match esc {
            b'b' => out.push(0x08),
            b'f' => out.push(0x0c),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'u' => {
                let Some(first) = hex4(raw, i) else {
                    break;
                };
                i += 4;
                let c = if (0xd800..0xe000).contains(&first) {
                    match low_surrogate_after(raw, i) {
                        Some(second) if first < 0xdc00 => {
                            i += 6;
                            let combined = 0x10000 + ((first - 0xd800) << 10) + (second - 0xdc00);
                            char::from_u32(combined).unwrap_or(char::REPLACEMENT_CHARACTER)
                        }
                        _ => char::REPLACEMENT_CHARACTER,
                    }
                } else {
                    char::from_u32(first).unwrap_or(char::REPLACEMENT_CHARACTER)
                };
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
            other => out.push(other),
        }
    }
    out
}

/// A `\uDC00`..`\uDFFF` escape starting at `raw[i]`.
fn low_surrogate_after(raw: &[u8], i: usize) -> Option<u32> {
    if raw.get(i) != Some(&b'\\') || raw.get(i + 1) != Some(&b'u') {
        return None;
    }
    hex4(raw, i + 2).filter(|v| (0xdc00..0xe000).contains(v))
}

fn hex4(raw: &[u8], i: usize) -> Option<u32> {
    let digits = raw.get(i..i + 4)?;
    let text = std::str::from_utf8(digits).ok()?;
    u32::from_str_radix(text, 16).ok()
}

/// Copies bytes, replacing each byte of an invalid UTF-8 sequence with U+FFFD.
fn push_go_utf8(out: &mut Vec<u8>, bytes: &[u8]) {
    for chunk in bytes.utf8_chunks() {
        out.extend_from_slice(chunk.valid().as_bytes());
        for _ in chunk.invalid() {
            out.extend_from_slice("\u{fffd}".as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(input: &str) -> Result<Vec<(String, String)>, JsonError> {
        let mut seen = Vec::new();
        walk_object(input.as_bytes(), |k, v| {
            seen.push((String::from_utf8_lossy(k).into_owned(), format!("{v:?}")));
            Ok(())
        })?;
        Ok(seen)
    }

    #[test]
    fn accepts_valid_documents() {
        for doc in [
            "{}",
            " { } ",
            "null",
            "\t\r\n{\"a\" : 1 }\n",
            r#"{"a":[1,2,{"b":[]}],"c":{"d":{}},"e":-0.5e+10,"f":"x\u00e9\"","g":null}"#,
            r#"{"a":[[],[[]],{}],"b":true,"c":false}"#,
        ] {
            assert!(members(doc).is_ok(), "{doc}");
        }
    }

    #[test]
    fn rejects_invalid_documents() {
        for doc in [
            "",
            "   ",
            "[]",
            "1",
            "\"x\"",
            "true",
            "{",
            "{\"a\"}",
            "{\"a\":}",
            "{\"a\":1,}",
            "{\"a\":1}x",
            "{\"a\":01}",
            "{\"a\":1.}",
            "{\"a\":.5}",
            "{\"a\":1e}",
            "{\"a\":-}",
            "{\"a\":+1}",
            "{\"a\":tru}",
            "{\"a\":nul}",
            "{\"a\":[1,]}",
            "{\"a\":[1 2]}",
            "{\"a\":{\"b\"}}",
            "{\"a\":{1:2}}",
            "{\"a\":\"\\x\"}",
            "{\"a\":\"\\u12g4\"}",
            "{\"a\":\"tab\there\"}",
            "{'a':1}",
            "{\"a\":1}{}",
            "nullx",
        ] {
            assert_eq!(members(doc), Err(JsonError), "{doc:?}");
        }
    }

    #[test]
    fn members_come_in_order_with_duplicates() {
        let seen = members(r#"{"a":1,"b":"x","a":null,"c\u005fd":[1]}"#).unwrap();
        let keys: Vec<&str> = seen.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["a", "b", "a", "c_d"]);
        assert_eq!(seen[0].1, format!("{:?}", Value::Number(b"1")));
        assert_eq!(seen[2].1, format!("{:?}", Value::Null));
        assert_eq!(seen[3].1, format!("{:?}", Value::Composite));
    }

    #[test]
    fn nesting_limit_matches_go() {
        let ok = format!("{{\"a\":{}{}}}", "[".repeat(9_999), "]".repeat(9_999));
        assert!(members(&ok).is_ok());
        let too_deep = format!("{{\"a\":{}{}}}", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(members(&too_deep), Err(JsonError));
    }

    #[test]
    fn unquote_handles_escapes() {
        assert_eq!(
            unquote(br#"a\"b\\c\/d\b\f\n\r\t"#),
            b"a\"b\\c/d\x08\x0c\n\r\t"
        );
        assert_eq!(unquote(br"\u00e9"), "é".as_bytes());
        assert_eq!(unquote(br"\ud83d\ude00"), "😀".as_bytes());
    }

    #[test]
    fn unquote_replaces_bad_surrogates_and_bytes() {
        assert_eq!(unquote(br"\ud83dx"), "\u{fffd}x".as_bytes());
        assert_eq!(unquote(br"\ude00\ud83d"), "\u{fffd}\u{fffd}".as_bytes());
        assert_eq!(unquote(br"\ud83d\u0041"), "\u{fffd}A".as_bytes());
        assert_eq!(unquote(b"a\xffb"), "a\u{fffd}b".as_bytes());
        assert_eq!(unquote(b"\xe2\x82"), "\u{fffd}\u{fffd}".as_bytes());
    }

    #[test]
    fn strings_may_hold_raw_high_bytes() {
        let doc = b"{\"a\":\"\xff\x7f\"}";
        assert!(walk_object(doc, |_, _| Ok(())).is_ok());
    }
}
