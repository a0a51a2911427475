//! nsq_stat's flags (flags.md §10.5).

use super::{
    channel, flag, http_client_connect_timeout, http_client_request_timeout,
    lookupd_http_addresses, nsqd_http_addresses,
};
use crate::spec::{FlagKind, FlagSet};

/// Every nsq_stat v1.3.0 flag. `--count` is "unset = forever": check
/// [`crate::Parsed::is_set`].
pub fn nsq_stat() -> FlagSet {
    FlagSet::new(
        "nsq_stat",
        vec![
            flag("version", FlagKind::Bool, "false", "print version"),
            flag("topic", FlagKind::String, "", "NSQ topic"),
            channel("", "NSQ channel"),
            flag(
                "interval",
                FlagKind::Duration,
                "2s",
                "duration of time between polling/printing output",
            ),
            http_client_connect_timeout(),
            http_client_request_timeout("5s"),
            flag("count", FlagKind::Int, "0", "number of reports"),
            nsqd_http_addresses(),
            lookupd_http_addresses(),
        ],
    )
}
