//! to_nsq's flags (flags.md §10.3). to_nsq has no `--version`.

use super::{flag, utility_producer_opt};
use crate::spec::{FlagKind, FlagSet};

/// Every to_nsq v1.3.0 flag.
pub fn to_nsq() -> FlagSet {
    FlagSet::new(
        "to_nsq",
        vec![
            flag("topic", FlagKind::String, "", "NSQ topic to publish to"),
            flag(
                "delimiter",
                FlagKind::String,
                "\n",
                "character to split input from stdin",
            ),
            flag(
                "nsqd-tcp-address",
                FlagKind::StringList,
                "",
                "destination nsqd TCP address (may be given multiple times)",
            ),
            utility_producer_opt(),
            flag(
                "rate",
                FlagKind::Int,
                "0",
                "Throttle messages to n/second. 0 to disable",
            ),
        ],
    )
}
