//! nsq_to_nsq's flags (flags.md §10.6).

use super::flag;
use crate::spec::{FlagKind, FlagSet};

/// Every nsq_to_nsq v1.3.0 flag.
pub fn nsq_to_nsq() -> FlagSet {
    FlagSet::new(
        "nsq_to_nsq",
        vec![
            flag("version", FlagKind::Bool, "false", "print version string"),
            flag("channel", FlagKind::String, "nsq_to_nsq", "nsq channel"),
            flag(
                "destination-topic",
                FlagKind::String,
                "",
                "use this destination topic for all consumed topics (default is consumed topic name)",
            ),
            flag(
                "max-in-flight",
                FlagKind::Int,
                "200",
                "max number of messages to allow in flight",
            ),
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
            flag(
                "nsqd-tcp-address",
                FlagKind::StringList,
                "",
                "nsqd TCP address (may be given multiple times)",
            ),
            flag(
                "destination-nsqd-tcp-address",
                FlagKind::StringList,
                "",
                "destination nsqd TCP address (may be given multiple times)",
            ),
            flag(
                "lookupd-http-address",
                FlagKind::StringList,
                "",
                "lookupd HTTP address (may be given multiple times)",
            ),
            flag(
                "topic",
                FlagKind::StringList,
                "",
                "nsq topic (may be given multiple times)",
            ),
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
            super::utility_consumer_opt(),
            super::utility_producer_opt(),
        ],
    )
}
