//! nsq_to_http's flags (flags.md §10.7).

use super::flag;
use crate::spec::{FlagKind, FlagSet};

/// Every nsq_to_http v1.3.0 flag.
pub fn nsq_to_http() -> FlagSet {
    FlagSet::new(
        "nsq_to_http",
        vec![
            flag("version", FlagKind::Bool, "false", "print version string"),
            flag("topic", FlagKind::String, "", "nsq topic"),
            flag("channel", FlagKind::String, "nsq_to_http", "nsq channel"),
            flag(
                "max-in-flight",
                FlagKind::Int,
                "200",
                "max number of messages to allow in flight",
            ),
            flag(
                "get",
                FlagKind::StringList,
                "",
                "HTTP address to make a GET request to. '%s' will be printf replaced with data (may be given multiple times)",
            ),
            flag(
                "post",
                FlagKind::StringList,
                "",
                "HTTP address to make a POST request to.  data will be in the body (may be given multiple times)",
            ),
            flag(
                "header",
                FlagKind::StringList,
                "",
                "Custom header for HTTP requests (may be given multiple times)",
            ),
            flag(
                "content-type",
                FlagKind::String,
                "application/octet-stream",
                "the Content-Type used for POST requests",
            ),
            flag(
                "mode",
                FlagKind::String,
                "hostpool",
                "the upstream request mode options: round-robin, hostpool (default), epsilon-greedy",
            ),
            flag("n", FlagKind::Int, "100", "number of concurrent publishers"),
            flag(
                "sample",
                FlagKind::Float,
                "1.0",
                "% of messages to publish (float b/w 0 -> 1)",
            ),
            flag(
                "status-every",
                FlagKind::Int,
                "250",
                "the # of requests between logging status (per handler), 0 disables",
            ),
            flag(
                "http-client-connect-timeout",
                FlagKind::Duration,
                "2s",
                "timeout for HTTP connect",
            ),
            flag(
                "http-client-request-timeout",
                FlagKind::Duration,
                "20s",
                "timeout for HTTP request",
            ),
            flag(
                "nsqd-tcp-address",
                FlagKind::StringList,
                "",
                "nsqd TCP address (may be given multiple times)",
            ),
            flag(
                "lookupd-http-address",
                FlagKind::StringList,
                "",
                "lookupd HTTP address (may be given multiple times)",
            ),
            super::utility_consumer_opt(),
        ],
    )
}
