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
        version().with_config_key(ConfigKey::None),
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

// Flags that several tables declare alike (flags.md §7–10). Each helper
// returns one flag, so every table keeps its own declaration order.

/// `--version` as the utilities declare it (the daemons' [`common`] head
/// has it command-line only; nsq_stat's help text differs).
fn version() -> FlagSpec {
    flag("version", FlagKind::Bool, "false", "print version string")
}

/// `--channel`: one channel to consume; the utilities differ in its default
/// and help text.
fn channel(default: &'static str, usage: &'static str) -> FlagSpec {
    flag("channel", FlagKind::String, default, usage)
}

/// `--topic` given any number of times; help texts differ in case.
fn topics(usage: &'static str) -> FlagSpec {
    flag("topic", FlagKind::StringList, "", usage)
}

/// The consuming utilities' `--max-in-flight`.
fn max_in_flight() -> FlagSpec {
    flag(
        "max-in-flight",
        FlagKind::Int,
        "200",
        "max number of messages to allow in flight",
    )
}

/// The consuming utilities' `--nsqd-tcp-address` (to_nsq's names the
/// destination instead).
fn nsqd_tcp_addresses() -> FlagSpec {
    flag(
        "nsqd-tcp-address",
        FlagKind::StringList,
        "",
        "nsqd TCP address (may be given multiple times)",
    )
}

/// `--lookupd-http-address`, config key `lookupd_http_address` (nsqadmin
/// renames the key).
fn lookupd_http_addresses() -> FlagSpec {
    flag(
        "lookupd-http-address",
        FlagKind::StringList,
        "",
        "lookupd HTTP address (may be given multiple times)",
    )
}

/// `--nsqd-http-address`, config key `nsqd_http_address` (nsqadmin renames
/// the key).
fn nsqd_http_addresses() -> FlagSpec {
    flag(
        "nsqd-http-address",
        FlagKind::StringList,
        "",
        "nsqd HTTP address (may be given multiple times)",
    )
}

/// `--http-client-connect-timeout` (2s everywhere).
fn http_client_connect_timeout() -> FlagSpec {
    flag(
        "http-client-connect-timeout",
        FlagKind::Duration,
        "2s",
        "timeout for HTTP connect",
    )
}

/// `--http-client-request-timeout` with `default` (5s, nsq_to_http 20s).
fn http_client_request_timeout(default: &'static str) -> FlagSpec {
    flag(
        "http-client-request-timeout",
        FlagKind::Duration,
        default,
        "timeout for HTTP request",
    )
}

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
