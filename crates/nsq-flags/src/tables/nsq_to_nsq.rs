//! nsq_to_nsq's flags (flags.md §10.6).

use super::{
    channel, flag, lookupd_http_addresses, max_in_flight, nsqd_tcp_addresses, topics,
    utility_consumer_opt, utility_producer_opt, version,
};
use crate::spec::{FlagKind, FlagSet};

/// Every nsq_to_nsq v1.3.0 flag.
pub fn nsq_to_nsq() -> FlagSet {
    FlagSet::new(
        "nsq_to_nsq",
        vec![
            version(),
            channel("nsq_to_nsq", "nsq channel"),
            flag(
                "destination-topic",
                FlagKind::String,
                "",
                "use this destination topic for all consumed topics (default is consumed topic name)",
            ),
            max_in_flight(),
            flag(
                "status-every",
                FlagKind::Int,
                "250",
                "the # of requests between logging status (per destination), 0 disables",
            ),
            flag(
                "mode",
                FlagKind::String,
                "hostpool",
                "the upstream request mode options: round-robin, hostpool (default), epsilon-greedy",
            ),
            nsqd_tcp_addresses(),
            flag(
                "destination-nsqd-tcp-address",
                FlagKind::StringList,
                "",
                "destination nsqd TCP address (may be given multiple times)",
            ),
            lookupd_http_addresses(),
            topics("nsq topic (may be given multiple times)"),
            flag(
                "whitelist-json-field",
                FlagKind::StringList,
                "",
                "for JSON messages: pass this field (may be given multiple times)",
            ),
            flag(
                "require-json-field",
                FlagKind::String,
                "",
                "for JSON messages: only pass messages that contain this field",
            ),
            flag(
                "require-json-value",
                FlagKind::String,
                "",
                "for JSON messages: only pass messages in which the required field has this value",
            ),
            utility_consumer_opt(),
            utility_producer_opt(),
        ],
    )
}
