//! Turning TOML values into flag values the way NSQ's option resolver
//! (`go-options` on top of BurntSushi/toml) does, plus Go `%v` echoes of
//! TOML values for error messages.

use std::time::Duration;

use toml::Value as Toml;

use crate::go_parse::{self, quote, NumError};
use crate::spec::FlagKind;
use crate::value::{self, TlsRequired, Value};

/// Go's name for the type BurntSushi/toml decodes a value into.
pub(crate) fn go_type(v: &Toml) -> &'static str {
    match v {
        Toml::String(_) => "string",
        Toml::Integer(_) => "int64",
        Toml::Float(_) => "float64",
        Toml::Boolean(_) => "bool",
        Toml::Datetime(_) => "time.Time",
        Toml::Array(_) => "[]interface {}",
        Toml::Table(_) => "map[string]interface {}",
    }
}

/// Go's `%v` of a decoded TOML value (strings unquoted, `[a b]`, `map[k:v]`).
pub(crate) fn go_v(v: &Toml) -> String {
    match v {
        Toml::String(s) => s.clone(),
        Toml::Integer(i) => i.to_string(),
        Toml::Float(f) => go_parse::format_float(*f),
        Toml::Boolean(b) => b.to_string(),
        Toml::Datetime(d) => d.to_string(),
        Toml::Array(items) => {
            let parts: Vec<String> = items.iter().map(go_v).collect();
            format!("[{}]", parts.join(" "))
        }
        Toml::Table(t) => {
            let parts: Vec<String> = t.iter().map(|(k, v)| format!("{k}:{}", go_v(v))).collect();
            format!("map[{}]", parts.join(" "))
        }
    }
}

/// The special-value check NSQ runs on `tls_required`, `tls_min_version`
/// and `log_level` before anything else: the value is formatted with `%v`
/// and parsed like the flag. `Ok(None)` means "leave the option alone"
/// (`tls_min_version = ""`). `Err(())` becomes `failed parsing <key> <v>`.
pub(crate) fn special(kind: FlagKind, v: &Toml) -> Result<Option<Value>, ()> {
    let text = go_v(v);
    match kind {
        FlagKind::TlsRequired => TlsRequired::parse(&text)
            .map(|t| Some(Value::Int(t.as_int())))
            .map_err(|_| ()),
        FlagKind::TlsMinVersion => value::parse_tls_min_version(&text)
            .map(|o| o.map(|c| Value::Int(i64::from(c))))
            .map_err(|_| ()),
        FlagKind::LogLevel => value::parse_log_level(&text)
            .map(|w| Some(Value::Str(w.to_string())))
            .map_err(|_| ()),
        _ => unreachable!("{kind:?} has no special config validation"),
    }
}

/// Whether `kind` goes through [`special`] instead of [`coerce`].
pub(crate) fn is_special(kind: FlagKind) -> bool {
    matches!(
        kind,
        FlagKind::TlsRequired | FlagKind::TlsMinVersion | FlagKind::LogLevel
    )
}

/// Converts a TOML value for a flag of (non-special) `kind`; the error is
/// the reason text of the resulting `ConfigError::Coerce`.
pub(crate) fn coerce(kind: FlagKind, v: &Toml) -> Result<Value, String> {
    match kind {
        FlagKind::Bool => coerce_bool(v).map(Value::Bool),
        FlagKind::Int => coerce_int(v).map(Value::Int),
        FlagKind::String => match v {
            Toml::String(s) => Ok(Value::Str(s.clone())),
            other => Err(format!("invalid string value type {}", go_type(other))),
        },
        FlagKind::Duration => coerce_duration(v).map(Value::Duration),
        FlagKind::StringList => coerce_string_list(v).map(Value::StrList),
        FlagKind::FloatList => coerce_float_list(v).map(Value::FloatList),
        FlagKind::Float => match v {
            Toml::Float(f) => Ok(Value::Float(*f)),
            Toml::Integer(i) => Ok(Value::Float(*i as f64)),
            other => Err(format!("invalid float64 value type {}", go_type(other))),
        },
        FlagKind::LogLevel | FlagKind::TlsRequired | FlagKind::TlsMinVersion => {
            unreachable!("{kind:?} is validated by special()")
        }
    }
}

/// Bool: TOML boolean, a Go bool word in a string, or (as go-options does,
/// inverted) an integer where 0 means true and anything else false.
fn coerce_bool(v: &Toml) -> Result<bool, String> {
    match v {
        Toml::Boolean(b) => Ok(*b),
        Toml::String(s) => go_parse::parse_bool(s)
            .ok_or_else(|| format!("strconv.ParseBool: parsing {}: invalid syntax", quote(s))),
        Toml::Integer(i) => Ok(*i == 0),
        other => Err(format!("invalid bool value type {}", go_type(other))),
    }
}

/// Int: TOML integer or a base-10 numeric string.
fn coerce_int(v: &Toml) -> Result<i64, String> {
    match v {
        Toml::Integer(i) => Ok(*i),
        Toml::String(s) => go_parse::parse_int(s, 10).map_err(|e| {
            let what = match e {
                NumError::Syntax => "invalid syntax",
                NumError::Range => "value out of range",
            };
            format!("strconv.ParseInt: parsing {}: {what}", quote(s))
        }),
        other => Err(format!("invalid int64 value type {}", go_type(other))),
    }
}

/// Duration: a Go duration string, or an integer number of milliseconds.
fn coerce_duration(v: &Toml) -> Result<Duration, String> {
    let negative = || "negative durations are not supported".to_string();
    match v {
        Toml::String(s) => {
            let ns = go_parse::parse_duration(s).map_err(|e| e.to_string())?;
            u64::try_from(ns)
                .map(Duration::from_nanos)
                .map_err(|_| negative())
        }
        Toml::Integer(ms) => u64::try_from(*ms)
            .map(Duration::from_millis)
            .map_err(|_| negative()),
        other => Err(format!(
            "invalid time.Duration value type {}",
            go_type(other)
        )),
    }
}

/// String list: an array of strings, or one string split on commas (an
/// empty string gives an empty list).
fn coerce_string_list(v: &Toml) -> Result<Vec<String>, String> {
    match v {
        Toml::String(s) if s.is_empty() => Ok(Vec::new()),
        Toml::String(s) => Ok(s.split(',').map(str::to_string).collect()),
        Toml::Array(items) => items
            .iter()
            .map(|item| match item {
                Toml::String(s) => Ok(s.clone()),
                other => Err(format!("invalid []string element type {}", go_type(other))),
            })
            .collect(),
        other => Err(format!("invalid []string value type {}", go_type(other))),
    }
}

/// Float list: an array of numbers kept in file order, or a comma-separated
/// string (items trimmed). Not sorted, unlike the command line.
fn coerce_float_list(v: &Toml) -> Result<Vec<f64>, String> {
    match v {
        Toml::String(s) if s.trim().is_empty() => Ok(Vec::new()),
        Toml::String(s) => s
            .split(',')
            .map(|part| {
                let part = part.trim();
                go_parse::parse_float(part).map_err(|e| {
                    let what = match e {
                        NumError::Syntax => "invalid syntax",
                        NumError::Range => "value out of range",
                    };
                    format!("strconv.ParseFloat: parsing {}: {what}", quote(part))
                })
            })
            .collect(),
        Toml::Array(items) => items
            .iter()
            .map(|item| match item {
                Toml::Float(f) => Ok(*f),
                Toml::Integer(i) => Ok(*i as f64),
                other => Err(format!("invalid []float64 element type {}", go_type(other))),
            })
            .collect(),
        other => Err(format!("invalid []float64 value type {}", go_type(other))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> Toml {
        let table: toml::Table = format!("v = {text}").parse().unwrap();
        table["v"].clone()
    }

    #[test]
    fn go_v_echoes() {
        assert_eq!(go_v(&t("\"x y\"")), "x y");
        assert_eq!(go_v(&t("5")), "5");
        assert_eq!(go_v(&t("2.5")), "2.5");
        assert_eq!(go_v(&t("1.0")), "1");
        assert_eq!(go_v(&t("true")), "true");
        assert_eq!(go_v(&t("[1, \"a\"]")), "[1 a]");
        assert_eq!(go_v(&t("{ b = 1, a = 2 }")), "map[a:2 b:1]");
        assert_eq!(go_type(&t("[1]")), "[]interface {}");
        assert_eq!(go_type(&t("1979-05-27")), "time.Time");
    }

    #[test]
    fn bools() {
        assert_eq!(coerce(FlagKind::Bool, &t("true")), Ok(Value::Bool(true)));
        assert_eq!(coerce(FlagKind::Bool, &t("\"F\"")), Ok(Value::Bool(false)));
        assert_eq!(
            coerce(FlagKind::Bool, &t("\"True\"")),
            Ok(Value::Bool(true))
        );
        assert_eq!(
            coerce(FlagKind::Bool, &t("\"yes\"")),
            Err("strconv.ParseBool: parsing \"yes\": invalid syntax".into())
        );
        // go-options' inverted integer rule.
        assert_eq!(coerce(FlagKind::Bool, &t("0")), Ok(Value::Bool(true)));
        assert_eq!(coerce(FlagKind::Bool, &t("1")), Ok(Value::Bool(false)));
        assert_eq!(
            coerce(FlagKind::Bool, &t("1.5")),
            Err("invalid bool value type float64".into())
        );
    }

    #[test]
    fn ints() {
        assert_eq!(
            coerce(FlagKind::Int, &t("1024768")),
            Ok(Value::Int(1024768))
        );
        assert_eq!(coerce(FlagKind::Int, &t("\"-42\"")), Ok(Value::Int(-42)));
        assert_eq!(
            coerce(FlagKind::Int, &t("\"0x10\"")),
            Err("strconv.ParseInt: parsing \"0x10\": invalid syntax".into())
        );
        assert_eq!(
            coerce(FlagKind::Int, &t("\"99999999999999999999\"")),
            Err("strconv.ParseInt: parsing \"99999999999999999999\": value out of range".into())
        );
        assert_eq!(
            coerce(FlagKind::Int, &t("2500.0")),
            Err("invalid int64 value type float64".into())
        );
        assert!(coerce(FlagKind::Int, &t("true")).is_err());
    }

    #[test]
    fn strings() {
        assert_eq!(
            coerce(FlagKind::String, &t("\"0.0.0.0:4150\"")),
            Ok(Value::Str("0.0.0.0:4150".into()))
        );
        assert_eq!(
            coerce(FlagKind::String, &t("4150")),
            Err("invalid string value type int64".into())
        );
    }

    #[test]
    fn durations() {
        let d = |s| coerce(FlagKind::Duration, &t(s));
        assert_eq!(d("\"60s\""), Ok(Value::Duration(Duration::from_secs(60))));
        assert_eq!(d("\"2m\""), Ok(Value::Duration(Duration::from_secs(120))));
        assert_eq!(d("5000"), Ok(Value::Duration(Duration::from_secs(5))));
        assert_eq!(d("0"), Ok(Value::Duration(Duration::ZERO)));
        assert_eq!(
            d("\"60\""),
            Err("time: missing unit in duration \"60\"".into())
        );
        assert_eq!(d("-5"), Err("negative durations are not supported".into()));
        assert_eq!(
            d("\"-5s\""),
            Err("negative durations are not supported".into())
        );
        assert_eq!(
            d("1.5"),
            Err("invalid time.Duration value type float64".into())
        );
    }

    #[test]
    fn string_lists() {
        let l = |s| coerce(FlagKind::StringList, &t(s));
        assert_eq!(
            l("[\"127.0.0.1:4160\"]"),
            Ok(Value::StrList(vec!["127.0.0.1:4160".into()]))
        );
        assert_eq!(
            l("\"x:1,y:2\""),
            Ok(Value::StrList(vec!["x:1".into(), "y:2".into()]))
        );
        assert_eq!(l("\"\""), Ok(Value::StrList(vec![])));
        assert_eq!(l("[]"), Ok(Value::StrList(vec![])));
        assert_eq!(l("[1]"), Err("invalid []string element type int64".into()));
        assert_eq!(l("5"), Err("invalid []string value type int64".into()));
    }

    #[test]
    fn float_lists() {
        let l = |s| coerce(FlagKind::FloatList, &t(s));
        assert_eq!(
            l("[0.5, 0.9]"),
            Ok(Value::FloatList(vec![0.5, 0.9])),
            "file order kept"
        );
        assert_eq!(
            l("[1.0, 0.99, 0.95]"),
            Ok(Value::FloatList(vec![1.0, 0.99, 0.95]))
        );
        assert_eq!(l("[1, 0.5]"), Ok(Value::FloatList(vec![1.0, 0.5])));
        assert_eq!(l("\"0.5, 0.99\""), Ok(Value::FloatList(vec![0.5, 0.99])));
        assert_eq!(
            l("\"0.5,x\""),
            Err("strconv.ParseFloat: parsing \"x\": invalid syntax".into())
        );
        assert_eq!(
            l("[\"a\"]"),
            Err("invalid []float64 element type string".into())
        );
        assert_eq!(l("true"), Err("invalid []float64 value type bool".into()));
    }

    #[test]
    fn specials() {
        let s = |k, v| special(k, &t(v));
        assert_eq!(s(FlagKind::TlsRequired, "true"), Ok(Some(Value::Int(2))));
        assert_eq!(s(FlagKind::TlsRequired, "false"), Ok(Some(Value::Int(0))));
        assert_eq!(
            s(FlagKind::TlsRequired, "\"true\""),
            Ok(Some(Value::Int(2)))
        );
        assert_eq!(
            s(FlagKind::TlsRequired, "\"tcp-https\""),
            Ok(Some(Value::Int(1)))
        );
        assert_eq!(s(FlagKind::TlsRequired, "1"), Ok(Some(Value::Int(2))));
        assert_eq!(s(FlagKind::TlsRequired, "\"maybe\""), Err(()));
        assert_eq!(s(FlagKind::TlsRequired, "2"), Err(()));
        assert_eq!(s(FlagKind::TlsMinVersion, "\"\""), Ok(None));
        assert_eq!(
            s(FlagKind::TlsMinVersion, "\"TLS1.2\""),
            Ok(Some(Value::Int(0x0303)))
        );
        assert_eq!(s(FlagKind::TlsMinVersion, "\"ssl3.0\""), Err(()));
        assert_eq!(s(FlagKind::TlsMinVersion, "771"), Err(()));
        assert_eq!(
            s(FlagKind::LogLevel, "\"DEBUG\""),
            Ok(Some(Value::Str("debug".into())))
        );
        assert_eq!(s(FlagKind::LogLevel, "2"), Err(()));
        assert!(is_special(FlagKind::LogLevel));
        assert!(!is_special(FlagKind::Int));
    }
}
