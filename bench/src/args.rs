//! A small command-line reader with Go `flag` syntax: `-name value`,
//! `--name value`, `-name=value`, `--name=value`, and bare boolean flags.
//!
//! Every flag must be consumed by the mode that runs, so a typo is an error
//! instead of a silently ignored option.

use std::collections::BTreeMap;
use std::time::Duration;

/// Flags that take no value (`--ack-latency` means `--ack-latency=true`).
const BOOL_FLAGS: &[&str] = &["ack-latency", "relay", "help", "h", "json", "unbuffered"];

/// Parsed `name -> value` pairs plus the positional arguments.
#[derive(Debug, Default)]
pub struct Flags {
    values: BTreeMap<String, String>,
    /// Arguments that are not flags, in order (the mode name, for example).
    pub positional: Vec<String>,
}

impl Flags {
    /// Parses `args` (without the program name).
    pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Flags, String> {
        let mut flags = Flags::default();
        let mut it = args.into_iter();
        while let Some(arg) = it.next() {
            if arg == "--" {
                flags.positional.extend(it.by_ref());
                break;
            }
            let Some(stripped) = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-')) else {
                flags.positional.push(arg);
                continue;
            };
            if stripped.is_empty() {
                return Err(format!("bad flag syntax: {arg}"));
            }
            let (name, value) = match stripped.split_once('=') {
                Some((n, v)) => (n.to_string(), v.to_string()),
                None if BOOL_FLAGS.contains(&stripped) => (stripped.to_string(), "true".into()),
                None => match it.next() {
                    Some(v) => (stripped.to_string(), v),
                    None => return Err(format!("flag needs an argument: -{stripped}")),
                },
            };
            flags.values.insert(name, value);
        }
        Ok(flags)
    }

    /// Whether `name` was given.
    pub fn has(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    /// Takes a string flag.
    pub fn string(&mut self, name: &str, default: &str) -> String {
        self.values
            .remove(name)
            .unwrap_or_else(|| default.to_string())
    }

    /// Takes an optional string flag.
    pub fn opt_string(&mut self, name: &str) -> Option<String> {
        self.values.remove(name)
    }

    /// Takes an unsigned integer flag.
    pub fn u64(&mut self, name: &str, default: u64) -> Result<u64, String> {
        match self.values.remove(name) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse()
                .map_err(|_| format!("invalid value {v:?} for flag -{name}")),
        }
    }

    /// Takes an integer flag that may be negative.
    pub fn i64(&mut self, name: &str, default: i64) -> Result<i64, String> {
        match self.values.remove(name) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse()
                .map_err(|_| format!("invalid value {v:?} for flag -{name}")),
        }
    }

    /// Takes a floating point flag.
    pub fn f64(&mut self, name: &str, default: f64) -> Result<f64, String> {
        match self.values.remove(name) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse()
                .map_err(|_| format!("invalid value {v:?} for flag -{name}")),
        }
    }

    /// Takes a boolean flag (`true`/`false`/`1`/`0`, Go syntax).
    pub fn bool(&mut self, name: &str) -> Result<bool, String> {
        match self.values.remove(name) {
            None => Ok(false),
            Some(v) => nsq_flags::go_parse::parse_bool(&v)
                .ok_or_else(|| format!("invalid boolean value {v:?} for -{name}")),
        }
    }

    /// Takes a Go duration flag (`10s`, `500ms`, `1m30s`).
    pub fn duration(&mut self, name: &str, default: Duration) -> Result<Duration, String> {
        match self.values.remove(name) {
            None => Ok(default),
            Some(v) => match nsq_flags::go_parse::parse_duration(&v) {
                Ok(ns) if ns >= 0 => Ok(Duration::from_nanos(ns as u64)),
                _ => Err(format!("invalid value {v:?} for flag -{name}: parse error")),
            },
        }
    }

    /// Fails if any flag was not taken by the running mode.
    pub fn finish(self) -> Result<(), String> {
        match self.values.keys().next() {
            None => Ok(()),
            Some(name) => Err(format!("flag provided but not defined: -{name}")),
        }
    }
}

/// Seconds since the Unix epoch for a Go `--deadline` value
/// (`2006-01-02 15:04:05`, read as UTC like Go's `time.Parse`).
pub fn parse_deadline(text: &str) -> Result<f64, String> {
    let bad = || format!("invalid -deadline {text:?}: want \"2006-01-02 15:04:05\"");
    let (date, time) = text.trim().split_once(' ').ok_or_else(bad)?;
    let d: Vec<i64> = date
        .split('-')
        .map(|p| p.parse().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    let t: Vec<i64> = time
        .split(':')
        .map(|p| p.parse().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    if d.len() != 3 || t.len() != 3 {
        return Err(bad());
    }
    let days = days_from_civil(d[0], d[1], d[2]);
    Ok((days * 86_400 + t[0] * 3600 + t[1] * 60 + t[2]) as f64)
}

/// Days from 1970-01-01 to the given proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Flags {
        Flags::parse(args.iter().map(|s| s.to_string())).unwrap()
    }

    #[test]
    fn go_style_flags() {
        let mut f = parse(&[
            "writer",
            "--runfor=2s",
            "-size",
            "100",
            "--ack-latency",
            "--topic",
            "t",
        ]);
        assert_eq!(f.positional, vec!["writer"]);
        assert_eq!(
            f.duration("runfor", Duration::ZERO).unwrap(),
            Duration::from_secs(2)
        );
        assert_eq!(f.u64("size", 0).unwrap(), 100);
        assert!(f.bool("ack-latency").unwrap());
        assert_eq!(f.string("topic", "x"), "t");
        assert_eq!(f.u64("batch-size", 7).unwrap(), 7);
        f.finish().unwrap();
    }

    #[test]
    fn unknown_flags_are_errors() {
        let f = parse(&["--nope=1"]);
        assert!(f.finish().is_err());
    }

    #[test]
    fn deadline_is_utc() {
        assert_eq!(parse_deadline("1970-01-02 00:00:01").unwrap(), 86_401.0);
        assert_eq!(
            parse_deadline("2024-03-01 12:00:00").unwrap(),
            1_709_294_400.0
        );
        assert!(parse_deadline("tomorrow").is_err());
    }
}
