//! IDENTIFY: the client's JSON settings, their bounds, and the negotiation reply.
//!
//! Decoding follows Go's `encoding/json` rules as nsqd v1.3.0 applies them:
//! unknown keys ignored, keys matched case-insensitively, `null` leaves the
//! default, a value of the wrong JSON type (a float or a string for an int)
//! is an error.

mod gojson;

use crate::error::{ErrorCode, ProtocolError};
use gojson::{JsonError, Value};
use serde::Serialize;

/// The fields a client may send in IDENTIFY; `None` when absent or `null`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdentifyRequest {
    /// `client_id`.
    pub client_id: Option<String>,
    /// `hostname`.
    pub hostname: Option<String>,
    /// `user_agent`.
    pub user_agent: Option<String>,
    /// `feature_negotiation`: reply with JSON instead of `OK`.
    pub feature_negotiation: Option<bool>,
    /// `heartbeat_interval` in ms (-1 disables, 0 default).
    pub heartbeat_interval: Option<i64>,
    /// `output_buffer_size` in bytes (-1 disables buffering, 0 default).
    pub output_buffer_size: Option<i64>,
    /// `output_buffer_timeout` in ms (-1 disables timed flushes, 0 default).
    pub output_buffer_timeout: Option<i64>,
    /// `tls_v1`.
    pub tls_v1: Option<bool>,
    /// `snappy`.
    pub snappy: Option<bool>,
    /// `deflate`.
    pub deflate: Option<bool>,
    /// `deflate_level`.
    pub deflate_level: Option<i64>,
    /// `sample_rate` (Go int32).
    pub sample_rate: Option<i32>,
    /// `msg_timeout` in ms (0 default).
    pub msg_timeout: Option<i64>,
}

/// The server settings IDENTIFY is validated and negotiated against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerIdentifyLimits {
    /// `--max-heartbeat-interval` in ms.
    pub max_heartbeat_interval_ms: i64,
    /// Heartbeat interval used when the client sends 0 or nothing (30000).
    pub default_heartbeat_interval_ms: i64,
    /// Default output buffer size (16384).
    pub default_output_buffer_size: i64,
    /// `--max-output-buffer-size`.
    pub max_output_buffer_size: i64,
    /// `--output-buffer-timeout` in ms.
    pub default_output_buffer_timeout_ms: i64,
    /// `--min-output-buffer-timeout` in ms.
    pub min_output_buffer_timeout_ms: i64,
    /// `--max-output-buffer-timeout` in ms.
    pub max_output_buffer_timeout_ms: i64,
    /// `--msg-timeout` in ms.
    pub default_msg_timeout_ms: i64,
    /// `--max-msg-timeout` in ms.
    pub max_msg_timeout_ms: i64,
    /// `--max-rdy-count`.
    pub max_rdy_count: i64,
    /// `--max-deflate-level`.
    pub max_deflate_level: i64,
    /// TLS cert and key are configured.
    pub tls_available: bool,
    /// `--deflate`.
    pub deflate_enabled: bool,
    /// `--snappy`.
    pub snappy_enabled: bool,
    /// `--auth-http-address` is configured.
    pub auth_required: bool,
}

impl Default for ServerIdentifyLimits {
    fn default() -> Self {
        ServerIdentifyLimits {
            max_heartbeat_interval_ms: 60_000,
            default_heartbeat_interval_ms: 30_000,
            default_output_buffer_size: 16_384,
            max_output_buffer_size: 65_536,
            default_output_buffer_timeout_ms: 250,
            min_output_buffer_timeout_ms: 25,
            max_output_buffer_timeout_ms: 30_000,
            default_msg_timeout_ms: 60_000,
            max_msg_timeout_ms: 900_000,
            max_rdy_count: 2500,
            max_deflate_level: 6,
            tls_available: false,
            deflate_enabled: true,
            snappy_enabled: true,
            auth_required: false,
        }
    }
}

/// The effective per-connection settings after a successful IDENTIFY.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegotiatedSettings {
    /// `client_id` (empty when omitted: IDENTIFY overwrites unconditionally).
    pub client_id: String,
    /// `hostname` (empty when omitted).
    pub hostname: String,
    /// `user_agent`.
    pub user_agent: String,
    /// Reply with the negotiation JSON rather than `OK`.
    pub feature_negotiation: bool,
    /// Heartbeat interval in ms; `None` when the client disabled heartbeats.
    pub heartbeat_interval_ms: Option<i64>,
    /// Output buffer size in bytes (1 when the client sent -1).
    pub output_buffer_size: i64,
    /// Output buffer timeout in ms (0 = no timed flush).
    pub output_buffer_timeout_ms: i64,
    /// Sample rate 0-99 (0 = every message).
    pub sample_rate: i32,
    /// Per-client in-flight timeout in ms.
    pub msg_timeout_ms: i64,
    /// TLS was requested and is available.
    pub tls_v1: bool,
    /// Deflate was requested and is enabled.
    pub deflate: bool,
    /// Effective deflate level (reported even when deflate is off).
    pub deflate_level: i64,
    /// Snappy was requested and is enabled.
    pub snappy: bool,
}

/// The negotiation JSON, keys in nsqd v1.3.0's order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IdentifyResponse {
    /// `--max-rdy-count`.
    pub max_rdy_count: i64,
    /// Always `"1.3.0"`.
    pub version: String,
    /// `--max-msg-timeout` in ms.
    pub max_msg_timeout: i64,
    /// The client's effective msg timeout in ms.
    pub msg_timeout: i64,
    /// TLS upgrade follows.
    pub tls_v1: bool,
    /// Deflate upgrade follows.
    pub deflate: bool,
    /// Effective deflate level.
    pub deflate_level: i64,
    /// `--max-deflate-level`.
    pub max_deflate_level: i64,
    /// Snappy upgrade follows.
    pub snappy: bool,
    /// The client's sample rate.
    pub sample_rate: i32,
    /// AUTH is required.
    pub auth_required: bool,
    /// Effective output buffer size.
    pub output_buffer_size: i64,
    /// Effective output buffer timeout in ms.
    pub output_buffer_timeout: i64,
}

impl IdentifyRequest {
    /// Decodes the IDENTIFY body with Go JSON rules.
    /// Any failure is `E_BAD_BODY IDENTIFY failed to decode JSON body`.
    pub fn from_json(body: &[u8]) -> Result<IdentifyRequest, ProtocolError> {
        let mut req = IdentifyRequest::default();
        gojson::walk_object(body, |key, value| match Field::for_key(key) {
            Some(field) => req.set(field, value),
            None => Ok(()),
        })
        .map_err(|_| bad_body("failed to decode JSON body"))?;
        Ok(req)
    }

    /// Validates the values against `limits` (order: heartbeat_interval,
    /// output_buffer_timeout, output_buffer_size, sample_rate, msg_timeout)
    /// and computes the effective settings. Out-of-range values are
    /// `E_BAD_BODY IDENTIFY <reason>`; snappy and deflate both granted is
    /// `E_IDENTIFY_FAILED cannot enable both deflate and snappy compression`.
    ///
    /// This is the first IDENTIFY of a connection: values sent as 0 (or not
    /// sent) take the server defaults. See [`IdentifyRequest::negotiate_from`]
    /// for a repeated IDENTIFY.
    pub fn negotiate(
        &self,
        limits: &ServerIdentifyLimits,
    ) -> Result<NegotiatedSettings, ProtocolError> {
        self.negotiate_from(&NegotiatedSettings::initial(limits), limits)
    }

    /// Like [`IdentifyRequest::negotiate`], starting from the connection's
    /// `current` settings: nsqd keeps the current heartbeat interval, output
    /// buffer size and timeout, and msg timeout when a value is sent as 0 or
    /// omitted, so a second IDENTIFY does not reset them to the defaults.
    /// Client id, hostname, user agent and sample rate are always replaced.
    ///
    /// Compression and TLS are only granted with `feature_negotiation`
    /// (without it nsqd answers `OK` and upgrades nothing, so the
    /// deflate-and-snappy conflict cannot arise either).
    pub fn negotiate_from(
        &self,
        current: &NegotiatedSettings,
        limits: &ServerIdentifyLimits,
    ) -> Result<NegotiatedSettings, ProtocolError> {
        let heartbeat_interval_ms = match self.heartbeat_interval.unwrap_or(0) {
            -1 => None,
            0 => current.heartbeat_interval_ms,
            n if (1000..=limits.max_heartbeat_interval_ms).contains(&n) => Some(n),
            n => return Err(bad_body(format!("heartbeat interval ({n}) is invalid"))),
        };

        let mut output_buffer_timeout_ms = match self.output_buffer_timeout.unwrap_or(0) {
            -1 => 0,
            0 => current.output_buffer_timeout_ms,
            n if (limits.min_output_buffer_timeout_ms..=limits.max_output_buffer_timeout_ms)
                .contains(&n) =>
            {
                n
            }
            n => return Err(bad_body(format!("output buffer timeout ({n}) is invalid"))),
        };

        let output_buffer_size = match self.output_buffer_size.unwrap_or(0) {
            -1 => {
                output_buffer_timeout_ms = 0;
                1
            }
            0 => current.output_buffer_size,
            n if (64..=limits.max_output_buffer_size).contains(&n) => n,
            n => return Err(bad_body(format!("output buffer size ({n}) is invalid"))),
        };

        let sample_rate = self.sample_rate.unwrap_or(0);
        if !(0..=99).contains(&sample_rate) {
            return Err(bad_body(format!("sample rate ({sample_rate}) is invalid")));
        }

        let msg_timeout_ms = match self.msg_timeout.unwrap_or(0) {
            0 => current.msg_timeout_ms,
            n if (1000..=limits.max_msg_timeout_ms).contains(&n) => n,
            n => return Err(bad_body(format!("msg timeout ({n}) is invalid"))),
        };

        let feature_negotiation = self.feature_negotiation.unwrap_or(false);
        let tls_v1 = feature_negotiation && limits.tls_available && self.tls_v1.unwrap_or(false);
        let deflate =
            feature_negotiation && limits.deflate_enabled && self.deflate.unwrap_or(false);
        let snappy = feature_negotiation && limits.snappy_enabled && self.snappy.unwrap_or(false);
        let requested_level = self.deflate_level.unwrap_or(0);
        let deflate_level = if deflate && requested_level > 0 {
            requested_level
        } else {
            DEFAULT_DEFLATE_LEVEL
        }
        .min(limits.max_deflate_level);
        if deflate && snappy {
            return Err(ProtocolError::new(
                ErrorCode::IdentifyFailed,
                "cannot enable both deflate and snappy compression",
            ));
        }

        Ok(NegotiatedSettings {
            client_id: self.client_id.clone().unwrap_or_default(),
            hostname: self.hostname.clone().unwrap_or_default(),
            user_agent: self.user_agent.clone().unwrap_or_default(),
            feature_negotiation,
            heartbeat_interval_ms,
            output_buffer_size,
            output_buffer_timeout_ms,
            sample_rate,
            msg_timeout_ms,
            tls_v1,
            deflate,
            deflate_level,
            snappy,
        })
    }

    /// Stores one decoded member; a `null` leaves the field as it was.
    fn set(&mut self, field: Field, value: Value<'_>) -> Result<(), JsonError> {
        if value == Value::Null {
            return Ok(());
        }
        match field {
            Field::ClientId => self.client_id = Some(json_string(value)?),
            Field::Hostname => self.hostname = Some(json_string(value)?),
            Field::UserAgent => self.user_agent = Some(json_string(value)?),
            Field::FeatureNegotiation => self.feature_negotiation = Some(json_bool(value)?),
            Field::HeartbeatInterval => self.heartbeat_interval = Some(json_int(value)?),
            Field::OutputBufferSize => self.output_buffer_size = Some(json_int(value)?),
            Field::OutputBufferTimeout => self.output_buffer_timeout = Some(json_int(value)?),
            Field::TlsV1 => self.tls_v1 = Some(json_bool(value)?),
            Field::Snappy => self.snappy = Some(json_bool(value)?),
            Field::Deflate => self.deflate = Some(json_bool(value)?),
            Field::DeflateLevel => self.deflate_level = Some(json_int(value)?),
            Field::SampleRate => self.sample_rate = Some(json_int(value)?),
            Field::MsgTimeout => self.msg_timeout = Some(json_int(value)?),
        }
        Ok(())
    }
}

/// Deflate level used when the client asks for none (or for 0 or less).
const DEFAULT_DEFLATE_LEVEL: i64 = 6;

/// The nsqd release this implementation answers as.
pub const VERSION: &str = "1.3.0";

fn bad_body(reason: impl std::fmt::Display) -> ProtocolError {
    ProtocolError::new(ErrorCode::BadBody, format!("IDENTIFY {reason}"))
}

fn json_string(value: Value<'_>) -> Result<String, JsonError> {
    match value {
        Value::Str(raw) => Ok(String::from_utf8_lossy(&gojson::unquote(raw)).into_owned()),
        _ => Err(JsonError),
    }
}

fn json_bool(value: Value<'_>) -> Result<bool, JsonError> {
    match value {
        Value::Bool(b) => Ok(b),
        _ => Err(JsonError),
    }
}

/// An integer literal: no fraction, no exponent, within the field's range.
fn json_int<T: std::str::FromStr>(value: Value<'_>) -> Result<T, JsonError> {
    match value {
        Value::Number(raw) => std::str::from_utf8(raw)
            .ok()
            .and_then(|text| text.parse().ok())
            .ok_or(JsonError),
        _ => Err(JsonError),
    }
}

/// The IDENTIFY members nsqd reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    ClientId,
    Hostname,
    UserAgent,
    FeatureNegotiation,
    HeartbeatInterval,
    OutputBufferSize,
    OutputBufferTimeout,
    TlsV1,
    Snappy,
    Deflate,
    DeflateLevel,
    SampleRate,
    MsgTimeout,
}

impl Field {
    const ALL: [(&'static str, Field); 13] = [
        ("client_id", Field::ClientId),
        ("hostname", Field::Hostname),
        ("user_agent", Field::UserAgent),
        ("feature_negotiation", Field::FeatureNegotiation),
        ("heartbeat_interval", Field::HeartbeatInterval),
        ("output_buffer_size", Field::OutputBufferSize),
        ("output_buffer_timeout", Field::OutputBufferTimeout),
        ("tls_v1", Field::TlsV1),
        ("snappy", Field::Snappy),
        ("deflate", Field::Deflate),
        ("deflate_level", Field::DeflateLevel),
        ("sample_rate", Field::SampleRate),
        ("msg_timeout", Field::MsgTimeout),
    ];

    /// The field a JSON key fills, matched case-insensitively as Go does.
    fn for_key(key: &[u8]) -> Option<Field> {
        Self::ALL
            .iter()
            .find(|(name, _)| key_matches(name, key))
            .map(|&(_, field)| field)
    }
}

/// Go's key folding for these (ASCII, lower-case) names: ASCII letters match
/// either case, and `s` / `k` also match U+017F and U+212A, the non-ASCII
/// runes that fold to them.
fn key_matches(name: &str, key: &[u8]) -> bool {
    let Ok(key) = std::str::from_utf8(key) else {
        return false;
    };
    let mut folded = key.chars().map(|c| match c {
        '\u{17f}' => 's',
        '\u{212a}' => 'k',
        c => c.to_ascii_lowercase(),
    });
    name.chars().all(|n| folded.next() == Some(n)) && folded.next().is_none()
}

impl NegotiatedSettings {
    /// The settings of a connection that has not sent IDENTIFY: server
    /// defaults, empty names, no upgrades.
    pub fn initial(limits: &ServerIdentifyLimits) -> NegotiatedSettings {
        NegotiatedSettings {
            client_id: String::new(),
            hostname: String::new(),
            user_agent: String::new(),
            feature_negotiation: false,
            heartbeat_interval_ms: Some(limits.default_heartbeat_interval_ms),
            output_buffer_size: limits.default_output_buffer_size,
            output_buffer_timeout_ms: limits.default_output_buffer_timeout_ms,
            sample_rate: 0,
            msg_timeout_ms: limits.default_msg_timeout_ms,
            tls_v1: false,
            deflate: false,
            deflate_level: DEFAULT_DEFLATE_LEVEL.min(limits.max_deflate_level),
            snappy: false,
        }
    }

    /// The JSON reply sent when `feature_negotiation` was requested.
    pub fn response(&self, limits: &ServerIdentifyLimits) -> IdentifyResponse {
        IdentifyResponse {
            max_rdy_count: limits.max_rdy_count,
            version: VERSION.to_string(),
            max_msg_timeout: limits.max_msg_timeout_ms,
            msg_timeout: self.msg_timeout_ms,
            tls_v1: self.tls_v1,
            deflate: self.deflate,
            deflate_level: self.deflate_level,
            max_deflate_level: limits.max_deflate_level,
            snappy: self.snappy,
            sample_rate: self.sample_rate,
            auth_required: limits.auth_required,
            output_buffer_size: self.output_buffer_size,
            output_buffer_timeout: self.output_buffer_timeout_ms,
        }
    }
}

impl IdentifyResponse {
    /// Compact JSON, exactly as nsqd writes it.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}
