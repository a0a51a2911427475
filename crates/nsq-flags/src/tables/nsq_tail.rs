//! nsq_tail's flags (flags.md §10.2).

use super::flag;
use crate::spec::{FlagKind, FlagSet};

/// Every nsq_tail v1.3.0 flag.
pub fn nsq_tail() -> FlagSet {
    FlagSet::new(
        "nsq_tail",
        vec![
            flag("version", FlagKind::Bool, "false", "print version string"),
            flag("channel", FlagKind::String, "", "NSQ channel"),
            flag(
                "max-in-flight",
                FlagKind::Int,
                "200",
                "max number of messages to allow in flight",
            ),
            flag(
                "n",
                FlagKind::Int,
                "0",
                "total messages to show (will wait if starved)",
            ),
            flag(
                "print-topic",
                FlagKind::Bool,
                "false",
                "print topic name where message was received",
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
            flag(
                "topic",
                FlagKind::StringList,
                "",
                "NSQ topic (may be given multiple times)",
            ),
            super::utility_consumer_opt(),
        ],
    )
}
