//! nsqadmin's flags (flags.md §9).

use super::{
    common, flag, http_client_connect_timeout, http_client_request_timeout, lookupd_http_addresses,
    nsqd_http_addresses, renamed,
};
use crate::spec::{ConfigKey, FlagKind, FlagSet};

/// Every nsqadmin v1.3.0 flag.
pub fn nsqadmin() -> FlagSet {
    use FlagKind::{Bool, Duration, String, StringList};
    let mut specs = common("[nsqadmin] ");
    specs.extend([
        flag(
            "http-address",
            String,
            "0.0.0.0:4171",
            "<addr>:<port> to listen on for HTTP clients",
        ),
        flag("base-path", String, "/", "URL base path"),
        flag("dev-static-dir", String, "", "(development use only)"),
        flag("graphite-url", String, "", "graphite HTTP address"),
        flag("proxy-graphite", Bool, "false", "proxy HTTP requests to graphite"),
        flag(
            "statsd-counter-format",
            String,
            "stats.counters.%s.count",
            "The counter stats key formatting applied by the implementation of statsd. \
             If no formatting is desired, set this to an empty string.",
        ),
        flag(
            "statsd-gauge-format",
            String,
            "stats.gauges.%s",
            "The gauge stats key formatting applied by the implementation of statsd. \
             If no formatting is desired, set this to an empty string.",
        ),
        flag(
            "statsd-prefix",
            String,
            "nsq.%s",
            "prefix used for keys sent to statsd (%s for host replacement, must match nsqd)",
        ),
        flag(
            "statsd-interval",
            Duration,
            "60s",
            "time interval nsqd is configured to push to statsd (must match nsqd)",
        ),
        flag(
            "notification-http-endpoint",
            String,
            "",
            "HTTP endpoint (fully qualified) to which POST notifications of admin actions will be sent",
        ),
        http_client_connect_timeout(),
        http_client_request_timeout("5s"),
        flag(
            "http-client-tls-insecure-skip-verify",
            Bool,
            "false",
            "configure the HTTP client to skip verification of TLS certificates",
        ),
        flag(
            "http-client-tls-root-ca-file",
            String,
            "",
            "path to CA file for the HTTP client",
        ),
        flag(
            "http-client-tls-cert",
            String,
            "",
            "path to certificate file for the HTTP client",
        ),
        flag(
            "http-client-tls-key",
            String,
            "",
            "path to key file for the HTTP client",
        ),
        flag(
            "allow-config-from-cidr",
            String,
            "127.0.0.1/8",
            "A CIDR from which to allow HTTP requests to the /config endpoint",
        ),
        flag(
            "acl-http-header",
            String,
            "X-Forwarded-User",
            "HTTP header to check for authenticated admin users",
        ),
        lookupd_http_addresses().with_config_key(ConfigKey::Renamed("nsqlookupd_http_addresses")),
        nsqd_http_addresses().with_config_key(ConfigKey::Renamed("nsqd_http_addresses")),
        renamed(
            "admin-user",
            StringList,
            "",
            "admin user (may be given multiple times; if specified, only these users will be \
             able to perform privileged actions; acl-http-header is used to determine the \
             authenticated user)",
            "admin_users",
        ),
    ]);
    FlagSet::new("nsqadmin", specs)
}
