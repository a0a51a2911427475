//! The per-request log line: `<status> <METHOD> <request-uri> (<remote addr>) <elapsed>`,
//! with the elapsed time written like Go's `time.Duration` (`21.695µs`, `1.5ms`).

use axum::http::{Method, StatusCode};
use std::net::SocketAddr;
use std::time::Duration;

/// Logs one request at INFO in NSQ's format.
pub(crate) fn log_request(
    status: StatusCode,
    method: &Method,
    request_uri: &str,
    remote: Option<SocketAddr>,
    elapsed: Duration,
) {
    let remote = remote.map(|a| a.to_string()).unwrap_or_default();
    tracing::info!(
        "{} {} {} ({}) {}",
        status.as_u16(),
        method,
        request_uri,
        remote,
        go_duration(elapsed)
    );
}

/// Formats a duration as Go's `Duration.String()` does.
pub fn go_duration(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns == 0 {
        return "0s".to_string();
    }
    if ns < 1_000 {
        return format!("{ns}ns");
    }
    if ns < 1_000_000 {
        return fraction(ns, 1_000, 3, "µs");
    }
    if ns < 1_000_000_000 {
        return fraction(ns, 1_000_000, 6, "ms");
    }
    let hours = ns / 3_600_000_000_000;
    let minutes = ns / 60_000_000_000 % 60;
    let secs_ns = ns % 60_000_000_000;
    let mut out = String::new();
    if hours > 0 {
        out.push_str(&format!("{hours}h"));
    }
    if hours > 0 || minutes > 0 {
        out.push_str(&format!("{minutes}m"));
    }
    out.push_str(&fraction(secs_ns, 1_000_000_000, 9, "s"));
    out
}

fn fraction(value: u128, unit: u128, digits: usize, suffix: &str) -> String {
    let whole = value / unit;
    let rem = value % unit;
    if rem == 0 {
        return format!("{whole}{suffix}");
    }
    let frac = format!("{rem:0digits$}");
    format!("{whole}.{}{suffix}", frac.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_format_like_go() {
        let ns = Duration::from_nanos;
        assert_eq!(go_duration(ns(0)), "0s");
        assert_eq!(go_duration(ns(999)), "999ns");
        assert_eq!(go_duration(ns(21_695)), "21.695µs");
        assert_eq!(go_duration(ns(1_000)), "1µs");
        assert_eq!(go_duration(ns(1_500_000)), "1.5ms");
        assert_eq!(go_duration(ns(1_234_567)), "1.234567ms");
        assert_eq!(go_duration(ns(1_500_000_000)), "1.5s");
        assert_eq!(go_duration(Duration::from_secs(120)), "2m0s");
        assert_eq!(go_duration(Duration::from_secs(3600)), "1h0m0s");
        assert_eq!(go_duration(ns(3_723_000_000_001)), "1h2m3.000000001s");
    }
}
