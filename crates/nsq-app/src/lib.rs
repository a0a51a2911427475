//! Plumbing shared by the thin `main`s of every binary.
//!
//! - [`logging`]: log lines in NSQ's format (`[nsqd] 2026/11/22 02:28:29.788752 INFO: ...`).
//! - [`shutdown`]: a future that completes on SIGINT or SIGTERM.

pub mod logging;
pub mod shutdown;

pub use logging::{init_logging, set_level, LogLevel};
pub use shutdown::shutdown_signal;

/// The NSQ release every binary is compatible with (reported by `--version`, `/info`, IDENTIFY).
pub const NSQ_VERSION: &str = "1.3.0";

/// What follows `built w/` in version lines: this suite and its version.
pub const BUILT_WITH: &str = concat!("nsq-rs ", env!("CARGO_PKG_VERSION"));

/// The `--version` line and first log line of a daemon: `nsqd v1.3.0 (built w/nsq-rs 0.1.0)`.
pub fn version_line(program: &str) -> String {
    format!("{program} v{NSQ_VERSION} (built w/{BUILT_WITH})")
}
