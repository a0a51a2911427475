//! nsq_to_file's flags (flags.md §10.4). Its flag set is named `nsqd` in
//! v1.3.0, so `--help` prints `Usage of nsqd:`.

use super::{
    channel, flag, http_client_connect_timeout, http_client_request_timeout,
    lookupd_http_addresses, max_in_flight, nsqd_tcp_addresses, topics, utility_consumer_opt,
    version,
};
use crate::spec::{FlagKind, FlagSet};

/// Every nsq_to_file v1.3.0 flag.
pub fn nsq_to_file() -> FlagSet {
    FlagSet::new(
        "nsqd",
        vec![
            version(),
            flag(
                "log-level",
                FlagKind::String,
                "info",
                "set log verbosity: debug, info, warn, error, or fatal",
            ),
            flag(
                "log-prefix",
                FlagKind::String,
                "[nsq_to_file] ",
                "log message prefix",
            ),
            channel("nsq_to_file", "nsq channel"),
            max_in_flight(),
            flag(
                "output-dir",
                FlagKind::String,
                "/tmp",
                "directory to write output files to",
            ),
            flag(
                "work-dir",
                FlagKind::String,
                "",
                "directory for in-progress files before moving to output-dir",
            ),
            flag(
                "datetime-format",
                FlagKind::String,
                "%Y-%m-%d_%H",
                "strftime compatible format for <DATETIME> in filename format",
            ),
            flag(
                "filename-format",
                FlagKind::String,
                "<TOPIC>.<HOST><REV>.<DATETIME>.log",
                "output filename format (<TOPIC>, <HOST>, <PID>, <DATETIME>, <REV> are replaced. <REV> is increased when file already exists)",
            ),
            flag(
                "host-identifier",
                FlagKind::String,
                "",
                "value to output in log filename in place of hostname. <SHORT_HOST> and <HOSTNAME> are valid replacement tokens",
            ),
            flag(
                "gzip-level",
                FlagKind::Int,
                "6",
                "gzip compression level (1-9, 1=BestSpeed, 9=BestCompression)",
            ),
            flag("gzip", FlagKind::Bool, "false", "gzip output files."),
            flag(
                "skip-empty-files",
                FlagKind::Bool,
                "false",
                "skip writing empty files",
            ),
            flag(
                "topic-refresh",
                FlagKind::Duration,
                "1m",
                "how frequently the topic list should be refreshed",
            ),
            flag(
                "topic-pattern",
                FlagKind::String,
                "",
                "only log topics matching the following pattern",
            ),
            flag(
                "rotate-size",
                FlagKind::Int,
                "0",
                "rotate the file when it grows bigger than `rotate-size` bytes",
            ),
            flag(
                "rotate-interval",
                FlagKind::Duration,
                "0s",
                "rotate the file every duration",
            ),
            flag(
                "sync-interval",
                FlagKind::Duration,
                "30s",
                "sync file to disk every duration",
            ),
            http_client_connect_timeout(),
            http_client_request_timeout("5s"),
            nsqd_tcp_addresses(),
            lookupd_http_addresses(),
            topics("nsq topic (may be given multiple times)"),
            utility_consumer_opt(),
        ],
    )
}
