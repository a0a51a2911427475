//! nsq_tail's flags (flags.md §10.2).

use super::{
    channel, flag, lookupd_http_addresses, max_in_flight, nsqd_tcp_addresses, topics,
    utility_consumer_opt, version,
};
use crate::spec::{FlagKind, FlagSet};

/// Every nsq_tail v1.3.0 flag.
pub fn nsq_tail() -> FlagSet {
    FlagSet::new(
        "nsq_tail",
        vec![
            version(),
            channel("", "NSQ channel"),
            max_in_flight(),
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
            nsqd_tcp_addresses(),
            lookupd_http_addresses(),
            topics("NSQ topic (may be given multiple times)"),
            utility_consumer_opt(),
        ],
    )
}
