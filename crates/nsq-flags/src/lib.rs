//! Go-compatible command-line flags and TOML config files for the NSQ binaries.
//!
//! Operators swap NSQ's Go binaries for these without touching their
//! command lines or config files, so parsing follows Go's `flag` package and
//! NSQ's config resolution exactly (spec: flags.md §1–2).
//!
//! Module map:
//!
//! | module | contents |
//! |---|---|
//! | `spec` | [`FlagKind`], [`FlagSpec`], [`ConfigKey`], [`FlagSet`] declarations |
//! | `value` | [`Value`], [`TlsRequired`], per-kind parsing of one flag occurrence |
//! | [`go_parse`] | Go's bool / int / float / duration parsers, duration and `%q` formatting |
//! | `flagset` | [`FlagSet::parse`] (Go `flag` rules) and [`FlagError`] |
//! | `usage` | [`FlagSet::usage`] (Go `PrintDefaults` layout) |
//! | `parsed` | [`Parsed`] values, typed getters, [`Source`] of each value |
//! | `config` | TOML files: [`Parsed::apply_config_file`], [`ConfigError`] |
//! | `coerce` | TOML value → flag value conversions |
//! | `cli` | [`parse_command_line`] / [`parse_args`]: the daemons' start-up path |
//! | [`tables`] | the nsqd, nsqlookupd and nsqadmin flag tables |
//!
//! Typical use in a daemon:
//!
//! ```no_run
//! let set = nsq_flags::tables::nsqd();
//! let parsed = nsq_flags::parse_command_line(&set);
//! if parsed.bool("version") { /* print version, exit 0 */ }
//! let timeout = parsed.duration("msg-timeout");
//! # let _ = timeout;
//! ```

#![warn(missing_docs)]

mod cli;
mod coerce;
mod config;
mod flagset;
pub mod go_parse;
mod parsed;
mod spec;
pub mod tables;
mod usage;
mod value;

#[cfg(test)]
mod tests;

pub use cli::{fatal_line, parse_args, parse_command_line, CommandLineExit};
pub use config::ConfigError;
pub use flagset::FlagError;
pub use parsed::{Parsed, Source};
pub use spec::{ConfigKey, FlagKind, FlagSet, FlagSpec};
pub use value::{
    parse_log_level, parse_tls_min_version, tls_version_name, TlsRequired, Value, LOG_LEVELS,
    TLS_VERSIONS,
};
