//! nsq_stat's flags (flags.md §10.5).

use super::flag;
use crate::spec::{FlagKind, FlagSet};

/// Every nsq_stat v1.3.0 flag. `--count` is "unset = forever": check
/// [`crate::Parsed::is_set`].
pub fn nsq_stat() -> FlagSet {
    FlagSet::new(
        "nsq_stat",
        vec![
            flag("version", FlagKind::Bool, "false", "print version"),
            flag("topic", FlagKind::String, "", "NSQ topic"),
            flag("channel", FlagKind::String, "", "NSQ channel"),
            flag(
                "interval",
                FlagKind::Duration,
                "2s",
                "duration of time between polling/printing output",
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
                "5s",
                "timeout for HTTP request",
            ),
            flag("count", FlagKind::Int, "0", "number of reports"),
            flag(
                "nsqd-http-address",
                FlagKind::StringList,
                "",
                "nsqd HTTP address (may be given multiple times)",
            ),
            flag(
                "lookupd-http-address",
                FlagKind::StringList,
                "",
                "lookupd HTTP address (may be given multiple times)",
            ),
        ],
    )
}
