//! The result of parsing: every flag's value, where it came from, and the
//! positional arguments left over.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::spec::FlagSet;
use crate::value::{self, TlsRequired, Value};

/// Where a flag's current value came from (command line > config > default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// The flag's default.
    Default,
    /// A TOML config file.
    ConfigFile,
    /// The command line (parsed before parsing stopped).
    CommandLine,
}

/// Values of all flags of a [`FlagSet`] after parsing (and optionally
/// loading a config file).
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    values: BTreeMap<&'static str, Value>,
    sources: BTreeMap<&'static str, Source>,
    args: Vec<String>,
}

impl Parsed {
    /// Every flag of `set` at its default, no positional arguments.
    pub(crate) fn defaults(set: &FlagSet) -> Parsed {
        let mut values = BTreeMap::new();
        let mut sources = BTreeMap::new();
        for spec in &set.specs {
            values.insert(
                spec.name,
                value::default_value(spec.kind, spec.name, spec.default),
            );
            sources.insert(spec.name, Source::Default);
        }
        Parsed {
            values,
            sources,
            args: Vec::new(),
        }
    }

    pub(crate) fn value_mut(&mut self, name: &str) -> &mut Value {
        self.values
            .get_mut(name)
            .unwrap_or_else(|| panic!("unknown flag {name}"))
    }

    pub(crate) fn set_source(&mut self, name: &'static str, source: Source) {
        self.sources.insert(name, source);
    }

    pub(crate) fn set_args(&mut self, args: Vec<String>) {
        self.args = args;
    }

    fn get(&self, name: &str) -> &Value {
        self.values
            .get(name)
            .unwrap_or_else(|| panic!("unknown flag {name}"))
    }

    /// The raw value of flag `name`, or `None` if the set has no such flag.
    pub fn value(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }

    /// Where the value of flag `name` came from.
    ///
    /// # Panics
    /// On an unknown flag name.
    pub fn source(&self, name: &str) -> Source {
        *self
            .sources
            .get(name)
            .unwrap_or_else(|| panic!("unknown flag {name}"))
    }

    /// Whether flag `name` was given on the command line (before parsing
    /// stopped). Config-file values do not count.
    ///
    /// # Panics
    /// On an unknown flag name.
    pub fn is_set(&self, name: &str) -> bool {
        self.source(name) == Source::CommandLine
    }

    /// Positional arguments after the flags (after `--`, or from the first
    /// non-flag argument on).
    pub fn args(&self) -> &[String] {
        &self.args
    }

    /// Value of a `Bool` flag. Panics on an unknown name or another kind.
    pub fn bool(&self, name: &str) -> bool {
        match self.get(name) {
            Value::Bool(b) => *b,
            other => panic!("flag {name} is not a bool: {other:?}"),
        }
    }

    /// Value of an `Int` flag (also the 0/1/2 of `TlsRequired` and the code
    /// point of `TlsMinVersion`). Panics on an unknown name or another kind.
    pub fn int(&self, name: &str) -> i64 {
        match self.get(name) {
            Value::Int(i) => *i,
            other => panic!("flag {name} is not an int: {other:?}"),
        }
    }

    /// Value of a `String` flag. Panics on an unknown name or another kind.
    pub fn string(&self, name: &str) -> &str {
        match self.get(name) {
            Value::Str(s) => s,
            other => panic!("flag {name} is not a string: {other:?}"),
        }
    }

    /// Value of a `Duration` flag. Panics on an unknown name or another kind.
    pub fn duration(&self, name: &str) -> Duration {
        match self.get(name) {
            Value::Duration(d) => *d,
            other => panic!("flag {name} is not a duration: {other:?}"),
        }
    }

    /// Value of a `StringList` flag. Panics on an unknown name or another kind.
    pub fn string_list(&self, name: &str) -> &[String] {
        match self.get(name) {
            Value::StrList(list) => list,
            other => panic!("flag {name} is not a string list: {other:?}"),
        }
    }

    /// Value of a `FloatList` flag. Panics on an unknown name or another kind.
    pub fn float_list(&self, name: &str) -> &[f64] {
        match self.get(name) {
            Value::FloatList(list) => list,
            other => panic!("flag {name} is not a float list: {other:?}"),
        }
    }

    /// Value of a `Float` flag. Panics on an unknown name or another kind.
    pub fn float(&self, name: &str) -> f64 {
        match self.get(name) {
            Value::Float(f) => *f,
            other => panic!("flag {name} is not a float: {other:?}"),
        }
    }

    /// Value of a `LogLevel` flag as a lower-case word (`debug` .. `fatal`).
    pub fn log_level(&self, name: &str) -> &str {
        self.string(name)
    }

    /// nsqd's `--tls-required`. Panics if the set has no such flag.
    pub fn tls_required(&self) -> TlsRequired {
        let v = self.int("tls-required");
        TlsRequired::from_int(v).unwrap_or_else(|| panic!("bad tls-required value {v}"))
    }

    /// nsqd's `--tls-min-version` as a TLS code point (0x0301 = TLS 1.0 ..
    /// 0x0304 = TLS 1.3). Panics if the set has no such flag.
    pub fn tls_min_version(&self) -> u16 {
        let v = self.int("tls-min-version");
        u16::try_from(v).unwrap_or_else(|_| panic!("bad tls-min-version value {v}"))
    }
}
