//! Client settings: the go-nsq `Config` options, their defaults and bounds,
//! and the `name,value` pass-through syntax of `--consumer-opt` /
//! `--producer-opt` (flags.md §10.1).

use std::time::Duration;

use nsq_flags::go_parse;

/// How the consumer grows its pause after handler failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackoffStrategy {
    /// `multiplier * 2^(level-1)`, capped at `max_backoff_duration`.
    Exponential,
    /// A random duration up to the exponential value.
    FullJitter,
}

/// TLS settings (the go-nsq `tls_*` options). With `tls_v1` the client asks
/// nsqd for a TLS upgrade; the other fields shape the client side of it.
/// Files are read when an option is set through [`Config::set`] (as go-nsq
/// does) and again for every connection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// `tls_v1`: ask nsqd for a TLS upgrade.
    pub enabled: bool,
    /// `tls_root_ca_file`.
    pub root_ca_file: String,
    /// `tls_insecure_skip_verify`.
    pub insecure_skip_verify: bool,
    /// `tls_cert`.
    pub cert: String,
    /// `tls_key`.
    pub key: String,
    /// `tls_min_version` as written (`ssl3.0`, `tls1.0` .. `tls1.3`; empty
    /// means TLS 1.0). TLS 1.2 is the lowest version actually spoken.
    pub min_version: String,
}

/// Every setting of a producer or consumer connection.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `dial_timeout`: TCP connect timeout.
    pub dial_timeout: Duration,
    /// `read_timeout`: longest silence from nsqd before the connection is dropped.
    pub read_timeout: Duration,
    /// `write_timeout`: longest time one write may take.
    pub write_timeout: Duration,
    /// `local_addr`: local address to bind before connecting.
    pub local_addr: Option<std::net::SocketAddr>,
    /// `lookupd_poll_interval`: time between nsqlookupd queries.
    pub lookupd_poll_interval: Duration,
    /// `lookupd_poll_jitter`: fraction of the interval randomly added to the first poll.
    pub lookupd_poll_jitter: f64,
    /// `lookupd_poll_timeout`: timeout of one nsqlookupd HTTP request.
    pub lookupd_poll_timeout: Duration,
    /// `max_requeue_delay`: cap of the computed requeue delay.
    pub max_requeue_delay: Duration,
    /// `default_requeue_delay`: requeue delay per attempt.
    pub default_requeue_delay: Duration,
    /// `backoff_strategy`.
    pub backoff_strategy: BackoffStrategy,
    /// `max_backoff_duration`: longest pause after failures (0 disables backoff).
    pub max_backoff_duration: Duration,
    /// `backoff_multiplier`: the unit of the backoff pause.
    pub backoff_multiplier: Duration,
    /// `max_attempts`: messages delivered more often are finished and logged (0 = no limit).
    pub max_attempts: u16,
    /// `low_rdy_idle_timeout`: accepted for compatibility.
    pub low_rdy_idle_timeout: Duration,
    /// `low_rdy_timeout`: accepted for compatibility.
    pub low_rdy_timeout: Duration,
    /// `rdy_redistribute_interval`: how often RDY moves between connections
    /// when `max_in_flight` is smaller than the number of connections.
    pub rdy_redistribute_interval: Duration,
    /// `client_id` sent in IDENTIFY (default: short hostname).
    pub client_id: String,
    /// `hostname` sent in IDENTIFY (default: hostname).
    pub hostname: String,
    /// `user_agent` sent in IDENTIFY.
    pub user_agent: String,
    /// `heartbeat_interval` in ms (-1 disables heartbeats).
    pub heartbeat_interval_ms: i64,
    /// `sample_rate` 0..=99 (0 = every message).
    pub sample_rate: i32,
    /// TLS settings (`tls_*`).
    pub tls: TlsOptions,
    /// `deflate`: ask for deflate compression.
    pub deflate: bool,
    /// `deflate_level` 1..=9.
    pub deflate_level: i32,
    /// `snappy`: ask for snappy compression.
    pub snappy: bool,
    /// `output_buffer_size` in bytes (-1 disables buffering).
    pub output_buffer_size: i64,
    /// `output_buffer_timeout` in ms (-1 disables timed flushes).
    pub output_buffer_timeout_ms: i64,
    /// `max_in_flight`: messages in flight over all connections of a consumer.
    pub max_in_flight: u32,
    /// `msg_timeout` in ms sent in IDENTIFY (0 = the server default).
    pub msg_timeout_ms: i64,
    /// `auth_secret`, sent with AUTH when nsqd requires it.
    pub auth_secret: Option<String>,
    /// `skip_lookupd_authorization`: accepted for compatibility.
    pub skip_lookupd_authorization: bool,
}

/// Why an option could not be set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The option name is not a go-nsq option.
    #[error("invalid option {0} (see the client options in the documentation of --consumer-opt/--producer-opt)")]
    UnknownOption(String),
    /// The value does not parse as the option's type.
    #[error("invalid value {value:?} for option {name}: expected {expected}")]
    BadValue {
        /// Option name.
        name: String,
        /// The text given.
        value: String,
        /// What was expected (`a duration like 5s`, `an integer`, ...).
        expected: &'static str,
    },
    /// A TLS file option names a file that does not load, or a
    /// certificate and key that do not match.
    #[error("invalid value {value:?} for option {name}: {detail}")]
    Tls {
        /// Option name.
        name: String,
        /// The text given.
        value: String,
        /// What is wrong and how to fix it.
        detail: String,
    },
    /// The value is outside the option's bounds.
    #[error("invalid {name} ! {value} is outside {min} .. {max}")]
    OutOfRange {
        /// Option name.
        name: String,
        /// The value given.
        value: String,
        /// Lowest accepted value.
        min: String,
        /// Highest accepted value.
        max: String,
    },
}

impl Default for Config {
    fn default() -> Self {
        let hostname = gethostname::gethostname().to_string_lossy().into_owned();
        let short = hostname.split('.').next().unwrap_or_default().to_string();
        Config {
            dial_timeout: Duration::from_secs(1),
            read_timeout: Duration::from_secs(60),
            write_timeout: Duration::from_secs(1),
            local_addr: None,
            lookupd_poll_interval: Duration::from_secs(60),
            lookupd_poll_jitter: 0.3,
            lookupd_poll_timeout: Duration::from_secs(60),
            max_requeue_delay: Duration::from_secs(15 * 60),
            default_requeue_delay: Duration::from_secs(90),
            backoff_strategy: BackoffStrategy::Exponential,
            max_backoff_duration: Duration::from_secs(120),
            backoff_multiplier: Duration::from_secs(1),
            max_attempts: 5,
            low_rdy_idle_timeout: Duration::from_secs(10),
            low_rdy_timeout: Duration::from_secs(30),
            rdy_redistribute_interval: Duration::from_secs(5),
            client_id: short,
            hostname,
            user_agent: format!("nsq-client/{}", env!("CARGO_PKG_VERSION")),
            heartbeat_interval_ms: 30_000,
            sample_rate: 0,
            tls: TlsOptions::default(),
            deflate: false,
            deflate_level: 6,
            snappy: false,
            output_buffer_size: 16_384,
            output_buffer_timeout_ms: 250,
            max_in_flight: 1,
            msg_timeout_ms: 0,
            auth_secret: None,
            skip_lookupd_authorization: true,
        }
    }
}

const MINUTE: u64 = 60;

impl Config {
    /// Applies one `--consumer-opt` / `--producer-opt` value: `name,value`
    /// split at the first comma; `name` alone means `true`.
    pub fn set_pair(&mut self, text: &str) -> Result<(), ConfigError> {
        match text.split_once(',') {
            Some((name, value)) => self.set(name, value),
            None => self.set(text, "true"),
        }
    }

    /// Sets option `name` (go-nsq spelling; `-` is accepted for `_`) from text.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), ConfigError> {
        let key = name.replace('-', "_");
        let v = OptValue {
            name: &key,
            text: value,
        };
        match key.as_str() {
            "dial_timeout" => self.dial_timeout = v.duration(None)?,
            "read_timeout" => self.read_timeout = v.duration(Some((ms(100), secs(5 * MINUTE))))?,
            "write_timeout" => {
                self.write_timeout = v.duration(Some((ms(100), secs(5 * MINUTE))))?
            }
            "local_addr" => {
                self.local_addr = Some(value.parse().map_err(|_| v.bad("an ip:port address"))?)
            }
            "lookupd_poll_interval" => {
                self.lookupd_poll_interval = v.duration(Some((ms(10), secs(5 * MINUTE))))?
            }
            "lookupd_poll_jitter" => self.lookupd_poll_jitter = v.float(0.0, 1.0)?,
            "lookupd_poll_timeout" => self.lookupd_poll_timeout = v.duration(None)?,
            "max_requeue_delay" => {
                self.max_requeue_delay = v.duration(Some((secs(0), secs(60 * MINUTE))))?
            }
            "default_requeue_delay" => {
                self.default_requeue_delay = v.duration(Some((secs(0), secs(60 * MINUTE))))?
            }
            "backoff_strategy" => {
                self.backoff_strategy = match value {
                    "" | "exponential" => BackoffStrategy::Exponential,
                    "full_jitter" => BackoffStrategy::FullJitter,
                    _ => return Err(v.bad("exponential or full_jitter")),
                }
            }
            "max_backoff_duration" => {
                self.max_backoff_duration = v.duration(Some((secs(0), secs(60 * MINUTE))))?
            }
            "backoff_multiplier" => {
                self.backoff_multiplier = v.duration(Some((secs(0), secs(60 * MINUTE))))?
            }
            "max_attempts" => self.max_attempts = v.int(0, 65_535)? as u16,
            "low_rdy_idle_timeout" => {
                self.low_rdy_idle_timeout = v.duration(Some((secs(1), secs(5 * MINUTE))))?
            }
            "low_rdy_timeout" => {
                self.low_rdy_timeout = v.duration(Some((secs(1), secs(5 * MINUTE))))?
            }
            "rdy_redistribute_interval" => {
                self.rdy_redistribute_interval = v.duration(Some((ms(1), secs(5))))?
            }
            "client_id" => self.client_id = value.to_string(),
            "hostname" => self.hostname = value.to_string(),
            "user_agent" => self.user_agent = value.to_string(),
            "heartbeat_interval" => self.heartbeat_interval_ms = v.millis(-1)?,
            "sample_rate" => self.sample_rate = v.int(0, 99)? as i32,
            "tls_v1" => self.tls.enabled = v.bool()?,
            "tls_root_ca_file" => {
                let mut tls = self.tls.clone();
                tls.root_ca_file = value.to_string();
                tls.check_root_ca().map_err(|e| v.tls(e))?;
                self.tls = tls;
            }
            "tls_insecure_skip_verify" => self.tls.insecure_skip_verify = v.bool()?,
            "tls_cert" | "tls_key" => {
                let mut tls = self.tls.clone();
                if key == "tls_cert" {
                    tls.cert = value.to_string();
                } else {
                    tls.key = value.to_string();
                }
                tls.check_key_pair().map_err(|e| v.tls(e))?;
                self.tls = tls;
            }
            "tls_min_version" => {
                crate::tls::min_version_code(value)
                    .ok_or_else(|| v.bad("ssl3.0, tls1.0, tls1.1, tls1.2 or tls1.3"))?;
                self.tls.min_version = value.to_string();
            }
            "deflate" => self.deflate = v.bool()?,
            "deflate_level" => self.deflate_level = v.int(1, 9)? as i32,
            "snappy" => self.snappy = v.bool()?,
            "output_buffer_size" => self.output_buffer_size = v.int(-1, i64::MAX)?,
            "output_buffer_timeout" => self.output_buffer_timeout_ms = v.millis(-1)?,
            "max_in_flight" => self.max_in_flight = v.int(0, i64::from(u32::MAX))? as u32,
            "msg_timeout" => self.msg_timeout_ms = v.millis(0)?,
            "auth_secret" => self.auth_secret = Some(value.to_string()),
            "skip_lookupd_authorization" => self.skip_lookupd_authorization = v.bool()?,
            _ => return Err(ConfigError::UnknownOption(name.to_string())),
        }
        Ok(())
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// One option's text, with the typed parsers and their error values.
struct OptValue<'a> {
    name: &'a str,
    text: &'a str,
}

impl OptValue<'_> {
    fn bad(&self, expected: &'static str) -> ConfigError {
        ConfigError::BadValue {
            name: self.name.to_string(),
            value: self.text.to_string(),
            expected,
        }
    }

    fn tls(&self, error: crate::tls::TlsSetupError) -> ConfigError {
        ConfigError::Tls {
            name: self.name.to_string(),
            value: self.text.to_string(),
            detail: error.to_string(),
        }
    }

    fn range(&self, min: impl ToString, max: impl ToString) -> ConfigError {
        ConfigError::OutOfRange {
            name: self.name.to_string(),
            value: self.text.to_string(),
            min: min.to_string(),
            max: max.to_string(),
        }
    }

    fn bool(&self) -> Result<bool, ConfigError> {
        go_parse::parse_bool(self.text).ok_or_else(|| self.bad("true or false"))
    }

    fn int(&self, min: i64, max: i64) -> Result<i64, ConfigError> {
        let n = go_parse::parse_int(self.text, 0).map_err(|_| self.bad("an integer"))?;
        if n < min || n > max {
            return Err(self.range(min, max));
        }
        Ok(n)
    }

    fn float(&self, min: f64, max: f64) -> Result<f64, ConfigError> {
        let f = go_parse::parse_float(self.text).map_err(|_| self.bad("a number"))?;
        if !(min..=max).contains(&f) {
            return Err(self.range(min, max));
        }
        Ok(f)
    }

    /// Nanoseconds of a Go duration (`5s`, `1m30s`); a bare integer is taken
    /// as nanoseconds, as go-nsq does for numeric values.
    fn nanos(&self) -> Result<i64, ConfigError> {
        if let Ok(n) = go_parse::parse_int(self.text, 10) {
            return Ok(n);
        }
        go_parse::parse_duration(self.text).map_err(|_| self.bad("a duration like 5s or 250ms"))
    }

    fn duration(&self, bounds: Option<(Duration, Duration)>) -> Result<Duration, ConfigError> {
        let ns = self.nanos()?;
        let d = u64::try_from(ns)
            .map(Duration::from_nanos)
            .map_err(|_| self.bad("a duration that is not negative"))?;
        if let Some((min, max)) = bounds {
            if d < min || d > max {
                return Err(self.range(
                    go_parse::format_duration(min),
                    go_parse::format_duration(max),
                ));
            }
        }
        Ok(d)
    }

    /// A duration in whole milliseconds, at least `min_ms` (-1 = disabled).
    fn millis(&self, min_ms: i64) -> Result<i64, ConfigError> {
        let ns = self.nanos()?;
        let value = if ns < 0 { -1 } else { ns / 1_000_000 };
        if value < min_ms {
            return Err(self.range(format!("{min_ms}ms"), "any"));
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_split_at_first_comma_and_bare_name_is_true() {
        let mut c = Config::default();
        c.set_pair("snappy").unwrap();
        assert!(c.snappy);
        c.set_pair("user_agent,a,b").unwrap();
        assert_eq!(c.user_agent, "a,b");
        c.set_pair("max-in-flight,0x10").unwrap();
        assert_eq!(c.max_in_flight, 16);
    }

    #[test]
    fn durations_and_bounds() {
        let mut c = Config::default();
        c.set("read_timeout", "2m").unwrap();
        assert_eq!(c.read_timeout, Duration::from_secs(120));
        let err = c.set("read_timeout", "10ms").unwrap_err();
        assert!(matches!(err, ConfigError::OutOfRange { .. }), "{err}");
        assert!(err.to_string().contains("read_timeout"));
        c.set("heartbeat_interval", "5s").unwrap();
        assert_eq!(c.heartbeat_interval_ms, 5000);
        c.set("msg_timeout", "90s").unwrap();
        assert_eq!(c.msg_timeout_ms, 90_000);
        assert!(matches!(
            c.set("dial_timeout", "soon"),
            Err(ConfigError::BadValue { .. })
        ));
    }

    #[test]
    fn unknown_options_and_bad_enums_are_errors() {
        let mut c = Config::default();
        assert_eq!(
            c.set("nope", "1"),
            Err(ConfigError::UnknownOption("nope".into()))
        );
        assert!(c.set("backoff_strategy", "linear").is_err());
        c.set("backoff_strategy", "full_jitter").unwrap();
        assert_eq!(c.backoff_strategy, BackoffStrategy::FullJitter);
        assert!(c.set("sample_rate", "100").is_err());
        assert!(c.set("lookupd_poll_jitter", "1.5").is_err());
        assert!(c.set("max_attempts", "70000").is_err());
    }

    #[test]
    fn tls_options_are_checked_when_set() {
        let mut c = Config::default();
        c.set_pair("tls_v1").unwrap();
        assert!(c.tls.enabled);
        c.set("tls_min_version", "tls1.2").unwrap();
        assert_eq!(c.tls.min_version, "tls1.2");
        assert!(matches!(
            c.set("tls_min_version", "tls9"),
            Err(ConfigError::BadValue { .. })
        ));
        let err = c
            .set("tls_root_ca_file", "/nonexistent/ca.pem")
            .unwrap_err();
        assert!(matches!(err, ConfigError::Tls { .. }), "{err}");
        assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
        assert_eq!(c.tls.root_ca_file, "");
        // One half of the pair alone is only checked once both are set.
        c.set("tls_cert", "/nonexistent/cert.pem").unwrap();
        assert!(c.set("tls_key", "/nonexistent/key.pem").is_err());
        assert_eq!(c.tls.key, "");
    }

    #[test]
    fn defaults_match_go_nsq() {
        let c = Config::default();
        assert_eq!(c.max_in_flight, 1);
        assert_eq!(c.max_attempts, 5);
        assert_eq!(c.default_requeue_delay, Duration::from_secs(90));
        assert_eq!(c.heartbeat_interval_ms, 30_000);
        assert!(!c.client_id.contains('.'));
    }
}
