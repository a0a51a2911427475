//! nsqlookupd's settings: one field per v1.3.0 flag that affects the daemon
//! (logging flags are handled by the binary).

use std::time::Duration;

/// Default `--tcp-address`.
pub const DEFAULT_TCP_ADDRESS: &str = "0.0.0.0:4160";
/// Default `--http-address`.
pub const DEFAULT_HTTP_ADDRESS: &str = "0.0.0.0:4161";
/// Default `--inactive-producer-timeout` (5 minutes).
pub const DEFAULT_INACTIVE_PRODUCER_TIMEOUT: Duration = Duration::from_secs(300);
/// Default `--tombstone-lifetime`.
pub const DEFAULT_TOMBSTONE_LIFETIME: Duration = Duration::from_secs(45);

/// nsqlookupd options. `Options::default()` has v1.3.0's defaults, with the
/// broadcast address set to the OS hostname.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// `--tcp-address`: where nsqd connect (`host:port`).
    pub tcp_address: String,
    /// `--http-address`: the HTTP API (`host:port`).
    pub http_address: String,
    /// `--broadcast-address`: what IDENTIFY replies report as this lookupd's address.
    pub broadcast_address: String,
    /// `--inactive-producer-timeout`: producers not heard from for longer are
    /// hidden from `/lookup` and `/nodes` (never removed).
    pub inactive_producer_timeout: Duration,
    /// `--tombstone-lifetime`: how long `/topic/tombstone` hides a producer.
    pub tombstone_lifetime: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            tcp_address: DEFAULT_TCP_ADDRESS.to_string(),
            http_address: DEFAULT_HTTP_ADDRESS.to_string(),
            broadcast_address: os_hostname(),
            inactive_producer_timeout: DEFAULT_INACTIVE_PRODUCER_TIMEOUT,
            tombstone_lifetime: DEFAULT_TOMBSTONE_LIFETIME,
        }
    }
}

/// The OS hostname (lossily decoded); empty if it cannot be read.
pub fn os_hostname() -> String {
    gethostname::gethostname().to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_nsqlookupd() {
        let o = Options::default();
        assert_eq!(o.tcp_address, "0.0.0.0:4160");
        assert_eq!(o.http_address, "0.0.0.0:4161");
        assert_eq!(o.broadcast_address, os_hostname());
        assert_eq!(o.inactive_producer_timeout, Duration::from_secs(300));
        assert_eq!(o.tombstone_lifetime, Duration::from_secs(45));
    }
}
