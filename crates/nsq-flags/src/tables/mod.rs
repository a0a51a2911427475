//! The flag tables of the NSQ binaries (flags.md §7–9): names, types,
//! defaults, help texts and config keys as nsq v1.3.0 has them.
//!
//! Machine-dependent defaults (nsqd `--node-id`, every `--broadcast-address`)
//! are empty here: the daemon computes them when the option was set neither
//! on the command line nor in the config file (see [`crate::Source`]), or
//! installs them beforehand with [`crate::FlagSet::with_default`].

mod nsqadmin;
mod nsqd;
mod nsqlookupd;

pub use nsqadmin::nsqadmin;
pub use nsqd::nsqd;
pub use nsqlookupd::nsqlookupd;

use crate::spec::{ConfigKey, FlagKind, FlagSpec};

/// A flag read from the config key derived from its name.
const fn flag(
    name: &'static str,
    kind: FlagKind,
    default: &'static str,
    usage: &'static str,
) -> FlagSpec {
    FlagSpec::new(name, kind, default, usage)
}

/// A flag with a renamed config key.
const fn renamed(
    name: &'static str,
    kind: FlagKind,
    default: &'static str,
    usage: &'static str,
    key: &'static str,
) -> FlagSpec {
    FlagSpec::new(name, kind, default, usage).with_config_key(ConfigKey::Renamed(key))
}

/// A command-line-only flag (no config key).
const fn cli_only(
    name: &'static str,
    kind: FlagKind,
    default: &'static str,
    usage: &'static str,
) -> FlagSpec {
    FlagSpec::new(name, kind, default, usage).with_config_key(ConfigKey::None)
}

/// `--config`, `--version`, `--log-level`, `--log-prefix`, `--verbose`:
/// the head every daemon's table starts with.
fn common(log_prefix: &'static str) -> Vec<FlagSpec> {
    vec![
        cli_only("config", FlagKind::String, "", "path to config file"),
        cli_only("version", FlagKind::Bool, "false", "print version string"),
        flag(
            "log-level",
            FlagKind::LogLevel,
            "info",
            "set log verbosity: debug, info, warn, error, or fatal",
        ),
        flag(
            "log-prefix",
            FlagKind::String,
            log_prefix,
            "log message prefix",
        ),
        cli_only(
            "verbose",
            FlagKind::Bool,
            "false",
            "[deprecated] has no effect, use --log-level",
        ),
    ]
}

mod nsq_stat;
mod nsq_tail;
mod nsq_to_file;
mod nsq_to_http;
mod nsq_to_nsq;
mod to_nsq;

pub use nsq_stat::nsq_stat;
pub use nsq_tail::nsq_tail;
pub use nsq_to_file::nsq_to_file;
pub use nsq_to_http::nsq_to_http;
pub use nsq_to_nsq::nsq_to_nsq;
pub use to_nsq::to_nsq;

/// The utilities' `--consumer-opt` (flags.md §10.1).
fn utility_consumer_opt() -> FlagSpec {
    flag(
        "consumer-opt",
        FlagKind::StringList,
        "",
        "option to passthrough to nsq.Consumer (may be given multiple times, http://godoc.org/github.com/nsqio/go-nsq#Config)",
    )
}

/// The utilities' `--producer-opt` (flags.md §10.1).
fn utility_producer_opt() -> FlagSpec {
    flag(
        "producer-opt",
        FlagKind::StringList,
        "",
        "option to passthrough to nsq.Producer (may be given multiple times, http://godoc.org/github.com/nsqio/go-nsq#Config)",
    )
}
