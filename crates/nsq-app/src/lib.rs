//! Plumbing shared by the thin `main`s of every binary.
//!
//! - [`logging`]: log lines in NSQ's format (`[nsqd] 2026/11/22 02:28:29.788752 INFO: ...`).
//! - [`shutdown`]: a future that completes on SIGINT or SIGTERM.

pub mod logging;
pub mod shutdown;

pub use logging::{init_logging, set_level, LogLevel};
pub use shutdown::shutdown_signal;
