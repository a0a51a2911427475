//! TOML config files (`--config=<path>`): keys, precedence and errors.
//!
//! Order of work, as in NSQ: the file is parsed; `tls_required`,
//! `tls_min_version` and `log_level` are validated whenever present (even if
//! the flag was also given on the command line); then every flag that was
//! not given on the command line takes the file's value, coerced to its
//! type. Unknown keys and nested tables are ignored.

use std::path::Path;

use crate::coerce;
use crate::parsed::{Parsed, Source};
use crate::spec::{FlagKind, FlagSet};
use crate::value::Value;

/// A config file that cannot be used; `Display` gives NSQ's fatal text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// Unreadable file or invalid TOML.
    #[error("failed to load config file {path} - {reason}")]
    Load {
        /// The path as given.
        path: String,
        /// What went wrong (I/O error or TOML parse error).
        reason: String,
    },
    /// `tls_required`, `tls_min_version` or `log_level` with a bad value.
    #[error("failed parsing {key} {value}")]
    Special {
        /// The config key.
        key: String,
        /// The value, formatted like Go's `%v`.
        value: String,
    },
    /// A value of a type the option cannot take (e.g. `max_msg_size = 1.5`).
    #[error("failed to coerce value {value} for config key {key} - {reason}")]
    Coerce {
        /// The config key.
        key: String,
        /// The value, formatted like Go's `%v`.
        value: String,
        /// Why it does not fit.
        reason: String,
    },
}

/// What stands for the path when TOML text is applied from memory.
const INLINE_PATH: &str = "<inline>";

impl Parsed {
    /// Reads and applies a TOML config file: every flag not given on the
    /// command line takes the file's value for its config key.
    pub fn apply_config_file(&mut self, set: &FlagSet, path: &Path) -> Result<(), ConfigError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Load {
            reason: io_reason(path, &shown, &e),
            path: shown.clone(),
        })?;
        self.apply_text(set, &text, &shown)
    }

    /// Applies TOML text as if it were a config file (for tests and tools).
    pub fn apply_config_str(&mut self, set: &FlagSet, toml_text: &str) -> Result<(), ConfigError> {
        self.apply_text(set, toml_text, INLINE_PATH)
    }

    fn apply_text(&mut self, set: &FlagSet, text: &str, path: &str) -> Result<(), ConfigError> {
        let table: toml::Table = text.parse().map_err(|e| ConfigError::Load {
            path: path.to_string(),
            reason: toml_reason(text, &e),
        })?;

        // Validation of the special values comes first, in NSQ's order.
        let mut specials: Vec<(&'static str, Option<Value>)> = Vec::new();
        for kind in [
            FlagKind::TlsRequired,
            FlagKind::TlsMinVersion,
            FlagKind::LogLevel,
        ] {
            for spec in set.specs.iter().filter(|s| s.kind == kind) {
                let Some(key) = spec.config_name() else {
                    continue;
                };
                let Some(raw) = table.get(key.as_ref()) else {
                    continue;
                };
                let value = coerce::special(kind, raw).map_err(|()| ConfigError::Special {
                    key: key.to_string(),
                    value: coerce::go_v(raw),
                })?;
                specials.push((spec.name, value));
            }
        }

        for spec in &set.specs {
            let Some(key) = spec.config_name() else {
                continue;
            };
            let Some(raw) = table.get(key.as_ref()) else {
                continue;
            };
            if self.is_set(spec.name) {
                continue;
            }
            let value = if coerce::is_special(spec.kind) {
                match specials.iter().find(|(name, _)| *name == spec.name) {
                    Some((_, Some(v))) => v.clone(),
                    _ => continue, // e.g. tls_min_version = "": keep as is
                }
            } else {
                coerce::coerce(spec.kind, raw).map_err(|reason| ConfigError::Coerce {
                    key: key.to_string(),
                    value: coerce::go_v(raw),
                    reason,
                })?
            };
            *self.value_mut(spec.name) = value;
            self.set_source(spec.name, Source::ConfigFile);
        }
        Ok(())
    }
}

/// An I/O error worded like Go's `os.ReadFile` errors
/// (`open /x: no such file or directory`).
fn io_reason(path: &Path, shown: &str, e: &std::io::Error) -> String {
    let op = if path.is_dir() { "read" } else { "open" };
    let mut text = e.to_string();
    if let Some(pos) = text.find(" (os error") {
        text.truncate(pos);
    }
    let mut chars = text.chars();
    let text = match chars.next() {
        Some(first) => first.to_lowercase().collect::<String>() + chars.as_str(),
        None => text,
    };
    format!("{op} {shown}: {text}")
}

/// A TOML error on one line: `toml: line L, column C: <message>`.
fn toml_reason(text: &str, e: &toml::de::Error) -> String {
    let message = e.message().trim().replace('\n', "; ");
    match e.span() {
        Some(span) => {
            let mut end = span.start.min(text.len());
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            let before = &text[..end];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("toml: line {line}, column {column}: {message}")
        }
        None => format!("toml: {message}"),
    }
}
