//! Log lines in the format of the Go daemons, on stderr:
//! `<prefix><YYYY/MM/DD HH:MM:SS.micros> <LEVEL>: <message>`.
//!
//! Scripts and tests grep these lines (`TCP: listening on 127.0.0.1:4150`),
//! so the layout is kept exactly.

use std::fmt;
use std::str::FromStr;
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::{FormatEvent, FormatFields, Writer};
use tracing_subscriber::fmt::FmtContext;
use tracing_subscriber::registry::LookupSpan;

/// NSQ log levels (`--log-level`), numbered as `/config/log_level` reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// 1
    Debug = 1,
    /// 2
    Info = 2,
    /// 3
    Warn = 3,
    /// 4
    Error = 4,
    /// 5
    Fatal = 5,
}

/// A `--log-level` value that is not one of the five words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidLogLevel(pub String);

impl fmt::Display for InvalidLogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid log level '{}' (debug, info, warn, error, fatal)",
            self.0
        )
    }
}

impl std::error::Error for InvalidLogLevel {}

impl FromStr for LogLevel {
    type Err = InvalidLogLevel;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "debug" => Ok(LogLevel::Debug),
            "info" => Ok(LogLevel::Info),
            "warn" => Ok(LogLevel::Warn),
            "error" => Ok(LogLevel::Error),
            "fatal" => Ok(LogLevel::Fatal),
            _ => Err(InvalidLogLevel(s.to_string())),
        }
    }
}

impl LogLevel {
    /// The tracing level that lets exactly this level and the ones above through.
    pub fn tracing_level(self) -> Level {
        match self {
            LogLevel::Debug => Level::DEBUG,
            LogLevel::Info => Level::INFO,
            LogLevel::Warn => Level::WARN,
            LogLevel::Error | LogLevel::Fatal => Level::ERROR,
        }
    }

    /// The lower-case word (`debug`, `info`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
            LogLevel::Fatal => "fatal",
        }
    }
}

struct NsqFormat {
    prefix: String,
}

/// Collects an event's `message` field and ignores the others.
struct MessageOnly(String);

impl tracing::field::Visit for MessageOnly {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        }
    }

    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            use fmt::Write;
            let _ = write!(self.0, "{value:?}");
        }
    }
}

impl<S, N> FormatEvent<S, N> for NsqFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let now =
            time::OffsetDateTime::now_local().unwrap_or_else(|_| time::OffsetDateTime::now_utc());
        let format = time::macros::format_description!(
            "[year]/[month]/[day] [hour]:[minute]:[second].[subsecond digits:6]"
        );
        let stamp = now.format(&format).unwrap_or_default();
        let level = match *event.metadata().level() {
            Level::TRACE | Level::DEBUG => "DEBUG",
            Level::INFO => "INFO",
            Level::WARN => "WARNING",
            Level::ERROR => "ERROR",
        };
        write!(writer, "{}{} {}: ", self.prefix, stamp, level)?;
        // Only the message, as NSQ's lines have no structured fields.
        let mut message = MessageOnly(String::new());
        event.record(&mut message);
        writeln!(writer, "{}", message.0)
    }
}

static GLOBAL_LEVEL: std::sync::OnceLock<LogLevelHandle> = std::sync::OnceLock::new();

/// Changes the level of the logger installed by [`init_logging`] (no-op without one).
pub fn set_level(level: LogLevel) {
    if let Some(h) = GLOBAL_LEVEL.get() {
        h.set(level);
    }
}

/// Installs the global logger: NSQ line format on stderr, `level` and above.
/// The level can be changed later with [`set_level`] (`PUT /config/log_level`).
pub fn init_logging(prefix: &str, level: LogLevel) {
    use tracing_subscriber::prelude::*;
    use tracing_subscriber::{filter::LevelFilter, reload};

    let (filter, handle) = reload::Layer::new(LevelFilter::from_level(level.tracing_level()));
    let fmt_layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .event_format(NsqFormat {
            prefix: prefix.to_string(),
        });
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(fmt_layer)
        .try_init();
    let _ = GLOBAL_LEVEL.set(LogLevelHandle {
        reload: Some(Box::new(move |lvl: LogLevel| {
            let _ = handle.modify(|f| *f = LevelFilter::from_level(lvl.tracing_level()));
        })),
    });
}

/// Changes the process log level after start-up.
struct LogLevelHandle {
    reload: Option<Box<dyn Fn(LogLevel) + Send + Sync>>,
}

impl LogLevelHandle {
    fn set(&self, level: LogLevel) {
        if let Some(f) = &self.reload {
            f(level);
        }
    }
}

impl fmt::Debug for LogLevelHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LogLevelHandle")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_level_words_case_insensitively() {
        assert_eq!("DEBUG".parse::<LogLevel>(), Ok(LogLevel::Debug));
        assert_eq!("warn".parse::<LogLevel>(), Ok(LogLevel::Warn));
        let err = "loud".parse::<LogLevel>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid log level 'loud' (debug, info, warn, error, fatal)"
        );
    }

    #[test]
    fn levels_are_numbered_like_nsq() {
        assert_eq!(LogLevel::Debug as i32, 1);
        assert_eq!(LogLevel::Fatal as i32, 5);
    }
}
