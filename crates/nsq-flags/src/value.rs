//! Flag values and the per-kind rules for turning command-line text into
//! them (one occurrence at a time, since lists accumulate).

use std::time::Duration;

use crate::go_parse::{self, quote};
use crate::spec::FlagKind;

/// A flag's current value.
///
/// `LogLevel` flags hold `Str` (normalized lower-case word); `TlsRequired`
/// holds `Int` 0/1/2 and `TlsMinVersion` holds `Int` with the TLS code
/// point (0x0301..0x0304), the numbers nsqd's `/config` reports.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `Bool` flags.
    Bool(bool),
    /// `Int`, `TlsRequired` and `TlsMinVersion` flags.
    Int(i64),
    /// `String` and `LogLevel` flags.
    Str(String),
    /// `Duration` flags.
    Duration(Duration),
    /// `StringList` flags.
    StrList(Vec<String>),
    /// `FloatList` flags.
    FloatList(Vec<f64>),
    /// `Float` flags.
    Float(f64),
}

/// nsqd's `--tls-required` setting (Go's `TLSNotRequired`,
/// `TLSRequiredExceptHTTP`, `TLSRequired`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TlsRequired {
    /// TLS optional (0).
    False,
    /// TLS required for TCP clients; plain HTTP still served (1).
    TcpHttps,
    /// TLS required everywhere (2).
    True,
}

impl TlsRequired {
    /// Go's integer for this setting, as `/config/tls_required` reports it.
    pub fn as_int(self) -> i64 {
        match self {
            TlsRequired::False => 0,
            TlsRequired::TcpHttps => 1,
            TlsRequired::True => 2,
        }
    }

    /// Parses Go's accepted spellings: `tcp-https` or a bool word, any case.
    pub fn parse(text: &str) -> Result<TlsRequired, String> {
        let lower = text.to_lowercase();
        if lower == "tcp-https" {
            return Ok(TlsRequired::TcpHttps);
        }
        match go_parse::parse_bool(&lower) {
            Some(true) => Ok(TlsRequired::True),
            Some(false) => Ok(TlsRequired::False),
            None => Err(format!(
                "strconv.ParseBool: parsing {}: invalid syntax",
                quote(&lower)
            )),
        }
    }

    /// The inverse of [`TlsRequired::as_int`].
    pub fn from_int(v: i64) -> Option<TlsRequired> {
        match v {
            0 => Some(TlsRequired::False),
            1 => Some(TlsRequired::TcpHttps),
            2 => Some(TlsRequired::True),
            _ => None,
        }
    }
}

/// The five `--log-level` words, in NSQ's numeric order (1..=5).
pub const LOG_LEVELS: [&str; 5] = ["debug", "info", "warn", "error", "fatal"];

/// Normalizes a log level word (case-insensitive) or gives NSQ's error text.
pub fn parse_log_level(text: &str) -> Result<&'static str, String> {
    let lower = text.to_lowercase();
    LOG_LEVELS
        .iter()
        .find(|w| **w == lower)
        .copied()
        .ok_or_else(|| format!("invalid log level '{text}' (debug, info, warn, error, fatal)"))
}

/// TLS versions nsqd accepts, with their code points.
pub const TLS_VERSIONS: [(&str, u16); 4] = [
    ("tls1.0", 0x0301),
    ("tls1.1", 0x0302),
    ("tls1.2", 0x0303),
    ("tls1.3", 0x0304),
];

/// Parses a `--tls-min-version` word (case-insensitive). `Ok(None)` for the
/// empty string, which Go treats as "keep the current value".
pub fn parse_tls_min_version(text: &str) -> Result<Option<u16>, String> {
    let lower = text.to_lowercase();
    if lower.is_empty() {
        return Ok(None);
    }
    TLS_VERSIONS
        .iter()
        .find(|(w, _)| *w == lower)
        .map(|(_, v)| Some(*v))
        .ok_or_else(|| format!("unknown tlsVersionOption {}", quote(&lower)))
}

/// The `tlsX.Y` word for a code point, if it is one of [`TLS_VERSIONS`].
pub fn tls_version_name(v: u16) -> Option<&'static str> {
    TLS_VERSIONS.iter().find(|(_, c)| *c == v).map(|(w, _)| *w)
}

/// The value a flag of `kind` has before anything sets it.
pub(crate) fn zero(kind: FlagKind) -> Value {
    match kind {
        FlagKind::Bool => Value::Bool(false),
        FlagKind::Int | FlagKind::TlsRequired | FlagKind::TlsMinVersion => Value::Int(0),
        FlagKind::String | FlagKind::LogLevel => Value::Str(String::new()),
        FlagKind::Duration => Value::Duration(Duration::ZERO),
        FlagKind::StringList => Value::StrList(Vec::new()),
        FlagKind::FloatList => Value::FloatList(Vec::new()),
        FlagKind::Float => Value::Float(0.0),
    }
}

/// Applies one occurrence of a flag's text to its current value (Go's
/// `flag.Value.Set`): scalars are replaced, lists grow. The error is the
/// reason Go prints after `invalid value "<v>" for flag -<name>: `.
pub(crate) fn apply(kind: FlagKind, current: &mut Value, text: &str) -> Result<(), String> {
    match (kind, current) {
        (FlagKind::Bool, Value::Bool(b)) => {
            *b = go_parse::parse_bool(text).ok_or_else(|| "parse error".to_string())?;
        }
        (FlagKind::Int, Value::Int(i)) => {
            *i = go_parse::parse_int(text, 0).map_err(|e| e.to_string())?;
        }
        (FlagKind::String, Value::Str(s)) => *s = text.to_string(),
        (FlagKind::Duration, Value::Duration(d)) => *d = parse_flag_duration(text)?,
        (FlagKind::StringList, Value::StrList(list)) => list.push(text.to_string()),
        (FlagKind::FloatList, Value::FloatList(list)) => {
            for part in text.split(',') {
                let f =
                    go_parse::parse_float(part).map_err(|_| format!("Could not parse: {part}"))?;
                list.push(f);
            }
            sort_descending(list);
        }
        (FlagKind::Float, Value::Float(f)) => {
            *f = go_parse::parse_float(text).map_err(|_| "parse error".to_string())?;
        }
        (FlagKind::LogLevel, Value::Str(s)) => *s = parse_log_level(text)?.to_string(),
        (FlagKind::TlsRequired, Value::Int(i)) => *i = TlsRequired::parse(text)?.as_int(),
        (FlagKind::TlsMinVersion, Value::Int(i)) => {
            if let Some(v) = parse_tls_min_version(text)? {
                *i = i64::from(v);
            }
        }
        (kind, value) => panic!("value {value:?} does not belong to a {kind:?} flag"),
    }
    Ok(())
}

/// Command-line duration: Go syntax, "parse error" like Go's flag package;
/// negative durations cannot be represented and are refused.
fn parse_flag_duration(text: &str) -> Result<Duration, String> {
    let ns = go_parse::parse_duration(text).map_err(|_| "parse error".to_string())?;
    u64::try_from(ns)
        .map(Duration::from_nanos)
        .map_err(|_| "negative durations are not supported".to_string())
}

/// NSQ's `FloatArray` order: largest first.
pub(crate) fn sort_descending(list: &mut [f64]) {
    list.sort_by(|a, b| b.total_cmp(a));
}

/// The value a spec's `default` text stands for.
///
/// # Panics
/// If the default does not parse (a mistake in a flag table).
pub(crate) fn default_value(kind: FlagKind, name: &str, default: &str) -> Value {
    let mut value = zero(kind);
    if default.is_empty() && kind != FlagKind::LogLevel {
        return value;
    }
    if let Err(reason) = apply(kind, &mut value, default) {
        panic!("flag -{name} has a bad default {default:?}: {reason}");
    }
    value
}

/// Go's `flag.Value.String()` of a value, used for `(default ...)` in help.
/// `None` when Go would treat it as the zero value and print nothing.
pub(crate) fn help_default(kind: FlagKind, value: &Value) -> Option<String> {
    let text = match (kind, value) {
        (FlagKind::Bool, Value::Bool(b)) => b.then(|| "true".to_string()),
        (FlagKind::Int | FlagKind::TlsRequired, Value::Int(i)) => (*i != 0).then(|| i.to_string()),
        (FlagKind::String, Value::Str(s)) => (!s.is_empty()).then(|| quote(s)),
        (FlagKind::Duration, Value::Duration(d)) => {
            (!d.is_zero()).then(|| go_parse::format_duration(*d))
        }
        (FlagKind::StringList, Value::StrList(list)) => (!list.is_empty()).then(|| list.join(",")),
        (FlagKind::FloatList, Value::FloatList(list)) => (!list.is_empty()).then(|| {
            list.iter()
                .map(|f| format!("{f:.6}"))
                .collect::<Vec<_>>()
                .join(",")
        }),
        (FlagKind::Float, Value::Float(f)) => (*f != 0.0).then(|| go_parse::format_float(*f)),
        (FlagKind::LogLevel, Value::Str(s)) => Some(match s.as_str() {
            "warn" => "WARNING".to_string(),
            "" => "invalid".to_string(),
            other => other.to_uppercase(),
        }),
        (FlagKind::TlsMinVersion, Value::Int(i)) => {
            match u16::try_from(*i).ok().and_then(tls_version_name) {
                Some(word) => Some(word.to_string()),
                None => (*i != 0).then(|| i.to_string()),
            }
        }
        (kind, value) => panic!("value {value:?} does not belong to a {kind:?} flag"),
    };
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(kind: FlagKind, texts: &[&str]) -> Result<Value, String> {
        let mut v = zero(kind);
        for t in texts {
            apply(kind, &mut v, t)?;
        }
        Ok(v)
    }

    #[test]
    fn scalars_last_wins() {
        assert_eq!(set(FlagKind::Int, &["1", "0x10"]), Ok(Value::Int(16)));
        assert_eq!(
            set(FlagKind::String, &["a", "b"]),
            Ok(Value::Str("b".into()))
        );
        assert_eq!(set(FlagKind::Bool, &["true", "F"]), Ok(Value::Bool(false)));
        assert_eq!(
            set(FlagKind::Duration, &["1s", "1.5h"]),
            Ok(Value::Duration(Duration::from_secs(5400)))
        );
    }

    #[test]
    fn scalar_errors_use_go_reasons() {
        assert_eq!(set(FlagKind::Int, &["x"]), Err("parse error".into()));
        assert_eq!(
            set(FlagKind::Int, &["9223372036854775808"]),
            Err("value out of range".into())
        );
        assert_eq!(set(FlagKind::Bool, &["yes"]), Err("parse error".into()));
        assert_eq!(set(FlagKind::Duration, &["60"]), Err("parse error".into()));
        assert_eq!(
            set(FlagKind::Duration, &["-1s"]),
            Err("negative durations are not supported".into())
        );
        assert_eq!(
            set(FlagKind::Duration, &["-0s"]),
            Ok(Value::Duration(Duration::ZERO))
        );
    }

    #[test]
    fn string_lists_append_whole_text() {
        assert_eq!(
            set(FlagKind::StringList, &["a:1,b:2", "c:3"]),
            Ok(Value::StrList(vec!["a:1,b:2".into(), "c:3".into()]))
        );
    }

    #[test]
    fn float_lists_split_and_sort_descending() {
        assert_eq!(
            set(FlagKind::FloatList, &["0.5,0.99", "1.0"]),
            Ok(Value::FloatList(vec![1.0, 0.99, 0.5]))
        );
        assert_eq!(
            set(FlagKind::FloatList, &["0.5,x"]),
            Err("Could not parse: x".into())
        );
        assert_eq!(
            set(FlagKind::FloatList, &["1.0,"]),
            Err("Could not parse: ".into())
        );
        // NaN must not upset the sort.
        assert!(set(FlagKind::FloatList, &["nan,0.5,1"]).is_ok());
    }

    #[test]
    fn log_levels() {
        for (text, word) in [
            ("debug", "debug"),
            ("INFO", "info"),
            ("Warn", "warn"),
            ("error", "error"),
            ("FATAL", "fatal"),
        ] {
            assert_eq!(
                set(FlagKind::LogLevel, &[text]),
                Ok(Value::Str(word.into()))
            );
        }
        assert_eq!(
            set(FlagKind::LogLevel, &["verbose"]),
            Err("invalid log level 'verbose' (debug, info, warn, error, fatal)".into())
        );
        assert!(set(FlagKind::LogLevel, &["warning"]).is_err());
        assert!(set(FlagKind::LogLevel, &[""]).is_err());
    }

    #[test]
    fn tls_required_words() {
        for (text, v) in [
            ("true", 2),
            ("TRUE", 2),
            ("tRuE", 2),
            ("1", 2),
            ("t", 2),
            ("false", 0),
            ("0", 0),
            ("F", 0),
            ("tcp-https", 1),
            ("TCP-HTTPS", 1),
        ] {
            assert_eq!(
                set(FlagKind::TlsRequired, &[text]),
                Ok(Value::Int(v)),
                "{text}"
            );
        }
        assert_eq!(
            set(FlagKind::TlsRequired, &["Yes"]),
            Err("strconv.ParseBool: parsing \"yes\": invalid syntax".into())
        );
        assert_eq!(TlsRequired::from_int(1), Some(TlsRequired::TcpHttps));
        assert_eq!(TlsRequired::from_int(3), None);
    }

    #[test]
    fn tls_min_versions() {
        for (text, v) in [
            ("tls1.0", 0x0301),
            ("TLS1.1", 0x0302),
            ("tls1.2", 0x0303),
            ("Tls1.3", 0x0304),
        ] {
            assert_eq!(set(FlagKind::TlsMinVersion, &[text]), Ok(Value::Int(v)));
        }
        assert_eq!(
            set(FlagKind::TlsMinVersion, &["SSL3.0"]),
            Err("unknown tlsVersionOption \"ssl3.0\"".into())
        );
        // Empty keeps the current value.
        assert_eq!(
            set(FlagKind::TlsMinVersion, &["tls1.2", ""]),
            Ok(Value::Int(0x0303))
        );
        assert_eq!(tls_version_name(0x0304), Some("tls1.3"));
        assert_eq!(tls_version_name(0x0300), None);
    }

    #[test]
    fn defaults() {
        assert_eq!(default_value(FlagKind::Int, "x", ""), Value::Int(0));
        assert_eq!(
            default_value(FlagKind::Duration, "x", "1m"),
            Value::Duration(Duration::from_secs(60))
        );
        assert_eq!(
            default_value(FlagKind::StringList, "x", ""),
            Value::StrList(vec![])
        );
        assert_eq!(
            default_value(FlagKind::TlsMinVersion, "x", "tls1.0"),
            Value::Int(0x0301)
        );
    }

    #[test]
    #[should_panic(expected = "bad default")]
    fn bad_default_panics() {
        default_value(FlagKind::Int, "x", "ten");
    }

    #[test]
    fn help_defaults_like_go() {
        let h = |k, d: &str| help_default(k, &default_value(k, "x", d));
        assert_eq!(h(FlagKind::Bool, "true"), Some("true".into()));
        assert_eq!(h(FlagKind::Bool, "false"), None);
        assert_eq!(h(FlagKind::Int, "0"), None);
        assert_eq!(h(FlagKind::Int, "508"), Some("508".into()));
        assert_eq!(h(FlagKind::String, ""), None);
        assert_eq!(h(FlagKind::String, "[nsqd] "), Some("\"[nsqd] \"".into()));
        assert_eq!(h(FlagKind::Duration, "60s"), Some("1m0s".into()));
        assert_eq!(h(FlagKind::Duration, "0"), None);
        assert_eq!(h(FlagKind::LogLevel, "info"), Some("INFO".into()));
        assert_eq!(h(FlagKind::LogLevel, "warn"), Some("WARNING".into()));
        assert_eq!(h(FlagKind::TlsRequired, "false"), None);
        assert_eq!(h(FlagKind::TlsRequired, "true"), Some("2".into()));
        assert_eq!(h(FlagKind::TlsMinVersion, "tls1.0"), Some("tls1.0".into()));
        assert_eq!(h(FlagKind::StringList, ""), None);
        assert_eq!(h(FlagKind::StringList, "a"), Some("a".into()));
        assert_eq!(
            h(FlagKind::FloatList, "0.5,1"),
            Some("1.000000,0.500000".into())
        );
    }
}

#[cfg(test)]
mod float_tests {
    use super::*;

    #[test]
    fn float_flags_parse_and_show_defaults_like_go() {
        let mut v = zero(FlagKind::Float);
        apply(FlagKind::Float, &mut v, "0.25").unwrap();
        assert_eq!(v, Value::Float(0.25));
        assert_eq!(
            apply(FlagKind::Float, &mut v, "x"),
            Err("parse error".to_string())
        );
        let one = default_value(FlagKind::Float, "sample", "1.0");
        assert_eq!(help_default(FlagKind::Float, &one), Some("1".to_string()));
        assert_eq!(help_default(FlagKind::Float, &Value::Float(0.0)), None);
        assert_eq!(FlagKind::Float.type_word(), "float");
    }
}
