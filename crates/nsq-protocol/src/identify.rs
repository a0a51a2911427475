//! IDENTIFY: the client's JSON settings, their bounds, and the negotiation reply.
//!
//! Decoding follows Go's `encoding/json` rules as nsqd v1.3.0 applies them:
//! unknown keys ignored, keys matched case-insensitively, `null` leaves the
//! default, a value of the wrong JSON type (a float or a string for an int)
//! is an error.

use crate::error::ProtocolError;
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
        let _ = body;
        todo!()
    }

    /// Validates the values against `limits` (order: heartbeat_interval,
    /// output_buffer_timeout, output_buffer_size, sample_rate, msg_timeout)
    /// and computes the effective settings. Out-of-range values are
    /// `E_BAD_BODY IDENTIFY <reason>`; snappy and deflate both granted is
    /// `E_IDENTIFY_FAILED cannot enable both deflate and snappy compression`.
    pub fn negotiate(
        &self,
        limits: &ServerIdentifyLimits,
    ) -> Result<NegotiatedSettings, ProtocolError> {
        let _ = limits;
        todo!()
    }
}

impl NegotiatedSettings {
    /// The JSON reply sent when `feature_negotiation` was requested.
    pub fn response(&self, limits: &ServerIdentifyLimits) -> IdentifyResponse {
        let _ = limits;
        todo!()
    }
}

impl IdentifyResponse {
    /// Compact JSON, exactly as nsqd writes it.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}
