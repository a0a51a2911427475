//! Flag declarations: what a flag is called, its type, default, help text
//! and config-file key. A [`FlagSet`] is one binary's list of them.

use std::borrow::Cow;

/// The value type of a flag; decides parsing, help text and TOML coercion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlagKind {
    /// Go `bool`: `--x` alone means true; value only with `=`.
    Bool,
    /// Go `int`/`int64`, parsed like `strconv.ParseInt(s, 0, 64)`.
    Int,
    /// Go `string`, taken verbatim.
    String,
    /// Go `time.Duration`, parsed like `time.ParseDuration` (negative refused).
    Duration,
    /// NSQ `StringArray`: every occurrence appends the whole text.
    StringList,
    /// NSQ `FloatArray`: each occurrence split on commas, list sorted descending.
    FloatList,
    /// Go `float64`, parsed like `strconv.ParseFloat(s, 64)` (`nsq_to_http --sample`).
    Float,
    /// NSQ `lg.LogLevel`: `debug|info|warn|error|fatal`, case-insensitive.
    LogLevel,
    /// nsqd `--tls-required`: a boolean flag that also accepts `tcp-https`.
    TlsRequired,
    /// nsqd `--tls-min-version`: `tls1.0` .. `tls1.3`, case-insensitive.
    TlsMinVersion,
}

impl FlagKind {
    /// Go "boolean flag": may be given without a value and then means true.
    pub fn is_bool_flag(self) -> bool {
        matches!(self, FlagKind::Bool | FlagKind::TlsRequired)
    }

    /// The type word Go's `PrintDefaults` shows after the flag name
    /// (empty for boolean flags).
    pub fn type_word(self) -> &'static str {
        match self {
            FlagKind::Bool | FlagKind::TlsRequired => "",
            FlagKind::Int => "int",
            FlagKind::String => "string",
            FlagKind::Duration => "duration",
            FlagKind::Float => "float",
            FlagKind::StringList
            | FlagKind::FloatList
            | FlagKind::LogLevel
            | FlagKind::TlsMinVersion => "value",
        }
    }
}

/// How a flag is named in the TOML config file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConfigKey {
    /// The flag name with every `-` replaced by `_` (NSQ's default rule).
    Derived,
    /// An explicit key (NSQ's `cfg:` renames, e.g. `--node-id` → `id`).
    Renamed(&'static str),
    /// Not settable from the config file (`--config`, `--version`, ...).
    None,
}

/// One flag declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagSpec {
    /// Name without dashes, e.g. `msg-timeout`.
    pub name: &'static str,
    /// Value type.
    pub kind: FlagKind,
    /// Default in command-line syntax; empty means the type's zero value
    /// (for lists: no entries). Parsed with the same parser as the flag.
    pub default: &'static str,
    /// Help text shown by `--help`.
    pub usage: &'static str,
    /// Config-file key.
    pub config_key: ConfigKey,
}

impl FlagSpec {
    /// A flag whose config key is derived from its name.
    pub const fn new(
        name: &'static str,
        kind: FlagKind,
        default: &'static str,
        usage: &'static str,
    ) -> Self {
        FlagSpec {
            name,
            kind,
            default,
            usage,
            config_key: ConfigKey::Derived,
        }
    }

    /// The same flag with another config key (a rename or `ConfigKey::None`).
    pub const fn with_config_key(mut self, key: ConfigKey) -> Self {
        self.config_key = key;
        self
    }

    /// The TOML key this flag is read from, if any.
    pub fn config_name(&self) -> Option<Cow<'static, str>> {
        match self.config_key {
            ConfigKey::Derived => Some(Cow::Owned(self.name.replace('-', "_"))),
            ConfigKey::Renamed(key) => Some(Cow::Borrowed(key)),
            ConfigKey::None => None,
        }
    }
}

/// All flags of one program, e.g. nsqd.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagSet {
    /// Program name used in `Usage of <program>:` and FATAL line prefixes.
    pub program: &'static str,
    /// The flags, in declaration order (help output is sorted by name).
    pub specs: Vec<FlagSpec>,
}

impl FlagSet {
    /// A flag set for `program`.
    pub fn new(program: &'static str, specs: Vec<FlagSpec>) -> Self {
        FlagSet { program, specs }
    }

    /// The declaration of flag `name`, if the set has it.
    pub fn spec(&self, name: &str) -> Option<&FlagSpec> {
        self.specs.iter().find(|s| s.name == name)
    }

    /// The flag read from config key `key`, if any.
    pub fn spec_for_config_key(&self, key: &str) -> Option<&FlagSpec> {
        self.specs
            .iter()
            .find(|s| s.config_name().is_some_and(|k| k == key))
    }

    /// Replaces the default of flag `name` before parsing, e.g. with a
    /// value computed from the hostname, so `--help` shows it like Go does.
    ///
    /// # Panics
    /// If the set has no flag `name` (a programming error).
    pub fn with_default(mut self, name: &str, default: &'static str) -> Self {
        let spec = self
            .specs
            .iter_mut()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("flag set {} has no flag {name}", self.program));
        spec.default = default;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_names() {
        let derived = FlagSpec::new("max-msg-size", FlagKind::Int, "0", "");
        assert_eq!(derived.config_name().as_deref(), Some("max_msg_size"));
        let renamed = derived.clone().with_config_key(ConfigKey::Renamed("x_y"));
        assert_eq!(renamed.config_name().as_deref(), Some("x_y"));
        let none = derived.with_config_key(ConfigKey::None);
        assert_eq!(none.config_name(), None);
    }

    #[test]
    fn lookups_and_default_override() {
        let set = FlagSet::new(
            "p",
            vec![
                FlagSpec::new("node-id", FlagKind::Int, "", "")
                    .with_config_key(ConfigKey::Renamed("id")),
                FlagSpec::new("a-b", FlagKind::String, "", ""),
            ],
        );
        assert_eq!(set.spec_for_config_key("id").unwrap().name, "node-id");
        assert_eq!(set.spec_for_config_key("a_b").unwrap().name, "a-b");
        assert!(set.spec_for_config_key("node_id").is_none());
        assert!(set.spec("zz").is_none());
        let set = set.with_default("node-id", "7");
        assert_eq!(set.spec("node-id").unwrap().default, "7");
    }

    #[test]
    #[should_panic(expected = "has no flag")]
    fn default_override_of_unknown_flag_panics() {
        let _ = FlagSet::new("p", vec![]).with_default("nope", "1");
    }

    #[test]
    fn bool_flags_and_type_words() {
        assert!(FlagKind::Bool.is_bool_flag());
        assert!(FlagKind::TlsRequired.is_bool_flag());
        assert!(!FlagKind::TlsMinVersion.is_bool_flag());
        assert_eq!(FlagKind::Duration.type_word(), "duration");
        assert_eq!(FlagKind::LogLevel.type_word(), "value");
        assert_eq!(FlagKind::TlsRequired.type_word(), "");
        assert_eq!(FlagKind::Int.type_word(), "int");
    }
}
