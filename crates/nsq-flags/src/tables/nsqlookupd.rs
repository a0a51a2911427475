//! nsqlookupd's flags (flags.md §8).

use super::{common, flag};
use crate::spec::{FlagKind, FlagSet};

/// Every nsqlookupd v1.3.0 flag. `--broadcast-address` defaults to empty
/// here; the daemon substitutes the OS hostname.
pub fn nsqlookupd() -> FlagSet {
    let mut specs = common("[nsqlookupd] ");
    specs.extend([
        flag(
            "tcp-address",
            FlagKind::String,
            "0.0.0.0:4160",
            "<addr>:<port> to listen on for TCP clients",
        ),
        flag(
            "http-address",
            FlagKind::String,
            "0.0.0.0:4161",
            "<addr>:<port> to listen on for HTTP clients",
        ),
        // Default: the OS hostname, filled in by the daemon.
        flag(
            "broadcast-address",
            FlagKind::String,
            "",
            "address of this lookupd node, (default to the OS hostname)",
        ),
        flag(
            "inactive-producer-timeout",
            FlagKind::Duration,
            "300s",
            "duration of time a producer will remain in the active list since its last ping",
        ),
        flag(
            "tombstone-lifetime",
            FlagKind::Duration,
            "45s",
            "duration of time a producer will remain tombstoned if registration remains",
        ),
    ]);
    FlagSet::new("nsqlookupd", specs)
}
