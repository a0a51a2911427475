//! nsq_to_http's flags (flags.md §10.7).

use super::{
    channel, flag, http_client_connect_timeout, http_client_request_timeout,
    lookupd_http_addresses, max_in_flight, nsqd_tcp_addresses, utility_consumer_opt, version,
};
use crate::spec::{FlagKind, FlagSet};

/// Every nsq_to_http v1.3.0 flag.
pub fn nsq_to_http() -> FlagSet {
    FlagSet::new(
        "nsq_to_http",
        vec![
            version(),
            flag("topic", FlagKind::String, "", "nsq topic"),
            channel("nsq_to_http", "nsq channel"),
            max_in_flight(),
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
            http_client_connect_timeout(),
            http_client_request_timeout("20s"),
            nsqd_tcp_addresses(),
            lookupd_http_addresses(),
            utility_consumer_opt(),
        ],
    )
}
