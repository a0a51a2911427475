//! Route patterns (`/config/:opt`, `/static/*file`) and the path helpers the
//! httprouter-compatible fix-ups need: cleaning, percent-decoding, escaping.

use crate::query::hex_value;

/// One `/`-separated piece of a route pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// Literal text.
    Static(String),
    /// `:name`: one non-empty segment.
    Param(String),
    /// `*name`: the rest of the path, leading `/` included (last segment only).
    CatchAll(String),
}

/// A parsed route pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pattern {
    raw: String,
    segments: Vec<Segment>,
}

/// Why a route pattern was refused at registration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    /// The pattern does not start with `/`.
    #[error("route pattern {0:?} must start with '/'")]
    NotAbsolute(String),
    /// `:` or `*` with no name, or not at the start of a segment.
    #[error("route pattern {0:?} has a malformed parameter (use '/:name' or '/*name' as a whole segment)")]
    BadParam(String),
    /// `*name` that is not the last segment.
    #[error("route pattern {0:?} has a catch-all parameter before the end")]
    CatchAllNotLast(String),
}

impl Pattern {
    /// Parses `/a/:b/*c`.
    pub(crate) fn parse(raw: &str) -> Result<Pattern, PatternError> {
        let rest = raw
            .strip_prefix('/')
            .ok_or_else(|| PatternError::NotAbsolute(raw.to_string()))?;
        let pieces: Vec<&str> = rest.split('/').collect();
        let mut segments = Vec::with_capacity(pieces.len());
        for (i, piece) in pieces.iter().enumerate() {
            let seg = if let Some(name) = piece.strip_prefix(':') {
                Segment::Param(name.to_string())
            } else if let Some(name) = piece.strip_prefix('*') {
                if i + 1 != pieces.len() {
                    return Err(PatternError::CatchAllNotLast(raw.to_string()));
                }
                Segment::CatchAll(name.to_string())
            } else {
                Segment::Static(piece.to_string())
            };
            let bad = match &seg {
                Segment::Param(n) | Segment::CatchAll(n) => n.is_empty() || n.contains([':', '*']),
                Segment::Static(s) => s.contains([':', '*']),
            };
            if bad {
                return Err(PatternError::BadParam(raw.to_string()));
            }
            segments.push(seg);
        }
        Ok(Pattern {
            raw: raw.to_string(),
            segments,
        })
    }

    /// The pattern as registered.
    pub(crate) fn as_str(&self) -> &str {
        &self.raw
    }

    /// Ordering key: at each position a literal beats `:param` beats `*rest`,
    /// as in httprouter's tree.
    pub(crate) fn priority(&self) -> Vec<u8> {
        self.segments
            .iter()
            .map(|s| match s {
                Segment::Static(_) => 0,
                Segment::Param(_) => 1,
                Segment::CatchAll(_) => 2,
            })
            .collect()
    }

    /// Matches a decoded path exactly; returns the parameters.
    pub(crate) fn matches(&self, path: &str) -> Option<Vec<(String, String)>> {
        let mut params = Vec::new();
        self.walk(path, |a, b| a == b, |_, _| {}, &mut params)
            .map(|_| params)
    }

    /// Matches ignoring letter case in literal segments; returns the
    /// canonical path (literals from the pattern, parameters from `path`).
    pub(crate) fn matches_ignore_case(&self, path: &str) -> Option<String> {
        let mut canonical = String::with_capacity(path.len());
        let mut params = Vec::new();
        self.walk(
            path,
            eq_ignore_case,
            |piece, _| {
                canonical.push('/');
                canonical.push_str(piece);
            },
            &mut params,
        )?;
        Some(canonical)
    }

    fn walk(
        &self,
        path: &str,
        eq: impl Fn(&str, &str) -> bool,
        mut emit: impl FnMut(&str, bool),
        params: &mut Vec<(String, String)>,
    ) -> Option<()> {
        let rest = path.strip_prefix('/')?;
        let pieces: Vec<&str> = rest.split('/').collect();
        for (i, seg) in self.segments.iter().enumerate() {
            match seg {
                Segment::CatchAll(name) => {
                    if i >= pieces.len() {
                        return None;
                    }
                    let value = format!("/{}", pieces.get(i..)?.join("/"));
                    emit(&value[1..], true);
                    params.push((name.clone(), value));
                    return Some(());
                }
                Segment::Static(lit) => {
                    let piece = pieces.get(i)?;
                    if !eq(lit, piece) {
                        return None;
                    }
                    emit(lit, false);
                }
                Segment::Param(name) => {
                    let piece = pieces.get(i)?;
                    if piece.is_empty() {
                        return None;
                    }
                    emit(piece, true);
                    params.push((name.clone(), piece.to_string()));
                }
            }
        }
        (pieces.len() == self.segments.len()).then_some(())
    }
}

fn eq_ignore_case(a: &str, b: &str) -> bool {
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

/// httprouter's `CleanPath`: resolves `.`, `..` and repeated slashes, keeps
/// (or, after a final `.`/`..`, adds) a trailing slash.
pub(crate) fn clean_path(path: &str) -> String {
    if path.is_empty() {
        return "/".to_string();
    }
    let mut trailing = path.len() > 1 && path.ends_with('/');
    let mut stack: Vec<&str> = Vec::new();
    let pieces: Vec<&str> = path.split('/').collect();
    for (i, piece) in pieces.iter().enumerate() {
        let last = i + 1 == pieces.len();
        match *piece {
            "" => {}
            "." => trailing |= last,
            ".." => {
                stack.pop();
                trailing |= last;
            }
            p => stack.push(p),
        }
    }
    let mut out = String::with_capacity(path.len());
    out.push('/');
    out.push_str(&stack.join("/"));
    if trailing && out.len() > 1 {
        out.push('/');
    }
    out
}

/// The path with its trailing slash removed, or added.
pub(crate) fn toggle_trailing_slash(path: &str) -> String {
    match path.strip_suffix('/') {
        Some(stripped) if path.len() > 1 => stripped.to_string(),
        _ => format!("{path}/"),
    }
}

/// Decodes `%XX` escapes in a request path (`+` stays `+`); `None` for a
/// malformed escape, which Go's server refuses with `400 Bad Request`.
pub(crate) fn decode_path(raw: &str) -> Option<String> {
    if !raw.contains('%') {
        return Some(raw.to_string());
    }
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hi = hex_value(*bytes.get(i + 1)?)?;
            let lo = hex_value(*bytes.get(i + 2)?)?;
            out.push(hi << 4 | lo);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// Go's `url.PathEscape`-style escaping for a path (`/` and the reserved
/// characters `$&+,:;=@` kept, everything else outside `A-Za-z0-9-_.~` as `%XX`).
pub(crate) fn escape_path(path: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(path.len());
    for &b in path.as_bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'_'
                    | b'.'
                    | b'~'
                    | b'$'
                    | b'&'
                    | b'+'
                    | b','
                    | b'/'
                    | b':'
                    | b';'
                    | b'='
                    | b'@'
            );
        if keep {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 0xf) as usize] as char);
        }
    }
    out
}

/// Go's `htmlEscape` as used in redirect bodies.
pub(crate) fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Pattern {
        Pattern::parse(s).unwrap()
    }

    #[test]
    fn static_patterns_match_exactly() {
        assert_eq!(p("/ping").matches("/ping"), Some(vec![]));
        assert_eq!(p("/ping").matches("/ping/"), None);
        assert_eq!(p("/ping").matches("/PING"), None);
        assert_eq!(p("/").matches("/"), Some(vec![]));
        assert_eq!(p("/debug/pprof/").matches("/debug/pprof/"), Some(vec![]));
        assert_eq!(p("/debug/pprof/").matches("/debug/pprof"), None);
    }

    #[test]
    fn params_capture_one_non_empty_segment() {
        let pat = p("/api/topics/:topic/:channel");
        assert_eq!(
            pat.matches("/api/topics/t/c"),
            Some(vec![
                ("topic".to_string(), "t".to_string()),
                ("channel".to_string(), "c".to_string())
            ])
        );
        assert_eq!(pat.matches("/api/topics/t"), None);
        assert_eq!(pat.matches("/api/topics/t/"), None);
        assert_eq!(pat.matches("/api/topics/t/c/d"), None);
        assert_eq!(p("/config/:opt").matches("/config/"), None);
    }

    #[test]
    fn catch_all_takes_the_rest() {
        let pat = p("/static/*file");
        assert_eq!(
            pat.matches("/static/a/b.css"),
            Some(vec![("file".to_string(), "/a/b.css".to_string())])
        );
        assert_eq!(
            pat.matches("/static/"),
            Some(vec![("file".to_string(), "/".to_string())])
        );
        assert_eq!(pat.matches("/static"), None);
    }

    #[test]
    fn bad_patterns_are_refused() {
        assert!(matches!(
            Pattern::parse("ping"),
            Err(PatternError::NotAbsolute(_))
        ));
        assert!(matches!(
            Pattern::parse("/a/:"),
            Err(PatternError::BadParam(_))
        ));
        assert!(matches!(
            Pattern::parse("/a:b"),
            Err(PatternError::BadParam(_))
        ));
        assert!(matches!(
            Pattern::parse("/*a/b"),
            Err(PatternError::CatchAllNotLast(_))
        ));
    }

    #[test]
    fn case_insensitive_match_gives_canonical_path() {
        assert_eq!(
            p("/ping").matches_ignore_case("/PiNg"),
            Some("/ping".to_string())
        );
        assert_eq!(
            p("/config/:opt").matches_ignore_case("/CONFIG/Log_Level"),
            Some("/config/Log_Level".to_string())
        );
        assert_eq!(
            p("/static/*f").matches_ignore_case("/STATIC/A/b"),
            Some("/static/A/b".to_string())
        );
        assert_eq!(p("/ping").matches_ignore_case("/pong"), None);
    }

    #[test]
    fn priority_prefers_literals() {
        assert!(p("/a/b").priority() < p("/a/:x").priority());
        assert!(p("/a/:x").priority() < p("/a/*x").priority());
    }

    #[test]
    fn clean_path_like_httprouter() {
        assert_eq!(clean_path(""), "/");
        assert_eq!(clean_path("/"), "/");
        assert_eq!(clean_path("//ping"), "/ping");
        assert_eq!(clean_path("/a/../ping"), "/ping");
        assert_eq!(clean_path("/a/./b/"), "/a/b/");
        assert_eq!(clean_path("/a/."), "/a/");
        assert_eq!(clean_path("/a/b/.."), "/a/");
        assert_eq!(clean_path("/../.."), "/");
    }

    #[test]
    fn trailing_slash_toggle() {
        assert_eq!(toggle_trailing_slash("/ping/"), "/ping");
        assert_eq!(toggle_trailing_slash("/ping"), "/ping/");
        assert_eq!(toggle_trailing_slash("/"), "//");
    }

    #[test]
    fn path_decoding_and_escaping() {
        assert_eq!(decode_path("/pi%6Eg"), Some("/ping".to_string()));
        assert_eq!(decode_path("/a+b"), Some("/a+b".to_string()));
        assert_eq!(decode_path("/a%zz"), None);
        assert_eq!(decode_path("/a%4"), None);
        assert_eq!(escape_path("/a b/ü?x:y"), "/a%20b/%C3%BC%3Fx:y");
        assert_eq!(
            html_escape("/a?b=1&c=\"'<>"),
            "/a?b=1&amp;c=&#34;&#39;&lt;&gt;"
        );
    }
}
