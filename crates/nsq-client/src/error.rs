//! Error types of the client, one enum per kind of operation. Messages name
//! the peer and say what to check.

use std::time::Duration;

use nsq_protocol::codec::FrameDecodeError;
use nsq_transport::UpgradeError;

use crate::tls::TlsSetupError;

/// Why a connection to nsqd could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// TCP connect failed.
    #[error("cannot connect to nsqd at {addr}: {source} (is nsqd running there, and is the address right?)")]
    Dial {
        /// `host:port` dialled.
        addr: String,
        /// The socket error.
        source: std::io::Error,
    },
    /// TCP connect did not finish within `dial_timeout`.
    #[error("connecting to nsqd at {addr} timed out after {timeout:?} (raise dial_timeout or check the address)")]
    DialTimeout {
        /// `host:port` dialled.
        addr: String,
        /// The configured timeout.
        timeout: Duration,
    },
    /// Reading or writing failed during the handshake.
    #[error("i/o error talking to nsqd at {addr}: {source}")]
    Io {
        /// Peer address.
        addr: String,
        /// The socket error.
        source: std::io::Error,
    },
    /// The peer closed the socket during the handshake.
    #[error("nsqd at {addr} closed the connection during {step} (is it an nsqd TCP port?)")]
    Closed {
        /// Peer address.
        addr: String,
        /// Handshake step (`IDENTIFY`, `SUB`, ...).
        step: &'static str,
    },
    /// No answer within `read_timeout`.
    #[error("nsqd at {addr} did not answer {step} within {timeout:?}")]
    Timeout {
        /// Peer address.
        addr: String,
        /// Handshake step.
        step: &'static str,
        /// The configured timeout.
        timeout: Duration,
    },
    /// nsqd answered with an error frame.
    #[error("nsqd at {addr} refused {step}: {error}")]
    Rejected {
        /// Peer address.
        addr: String,
        /// Handshake step.
        step: &'static str,
        /// The `E_*` text nsqd sent.
        error: String,
    },
    /// The peer sent bytes that are not V2 frames.
    #[error("nsqd at {addr} sent an invalid frame: {source} (is it an nsqd TCP port?)")]
    Frame {
        /// Peer address.
        addr: String,
        /// Decoder error.
        source: FrameDecodeError,
    },
    /// The IDENTIFY reply was neither `OK` nor the negotiation JSON.
    #[error("nsqd at {addr} sent an unreadable IDENTIFY reply: {detail}")]
    BadIdentifyReply {
        /// Peer address.
        addr: String,
        /// What was wrong.
        detail: String,
    },
    /// The `tls_*` options do not make a usable TLS configuration.
    #[error("cannot set up TLS for nsqd at {addr}: {source}")]
    TlsSetup {
        /// Peer address.
        addr: String,
        /// What is wrong with the options (boxed: it is large).
        source: Box<TlsSetupError>,
    },
    /// The TLS handshake after IDENTIFY failed.
    #[error("TLS handshake with nsqd at {addr} failed: {source} (check tls_root_ca_file, tls_insecure_skip_verify, tls_min_version, and that nsqd's certificate names the host dialled)")]
    TlsHandshake {
        /// Peer address.
        addr: String,
        /// The handshake error.
        source: UpgradeError,
    },
    /// nsqd answered something other than `OK` right after a connection
    /// upgrade (TLS, snappy or deflate).
    #[error("nsqd at {addr} answered {reply:?} instead of OK after the {layer} upgrade")]
    BadUpgradeReply {
        /// Peer address.
        addr: String,
        /// `TLS`, `snappy` or `deflate`.
        layer: &'static str,
        /// The response text received.
        reply: String,
    },
    /// nsqd requires AUTH and no `auth_secret` is configured.
    #[error("nsqd at {addr} requires authorization: set the auth_secret option")]
    AuthRequired {
        /// Peer address.
        addr: String,
    },
}

/// Why a publish failed.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The topic name is not valid (`^[.a-zA-Z0-9_-]+(#ephemeral)?$`, 1-64 bytes).
    #[error("invalid topic name {0:?}")]
    InvalidTopic(String),
    /// nsqd refuses empty message bodies.
    #[error("message body is empty (nsqd refuses empty messages)")]
    EmptyBody,
    /// MPUB with no messages.
    #[error("MPUB needs at least one message")]
    NoMessages,
    /// Connecting failed.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// nsqd answered with an error frame.
    #[error("nsqd at {addr} rejected the publish: {error}")]
    Rejected {
        /// Peer address.
        addr: String,
        /// The `E_*` text.
        error: String,
    },
    /// The connection broke before the acknowledgement arrived; the message
    /// may or may not have been accepted.
    #[error("connection to nsqd at {addr} was lost before the publish was acknowledged")]
    ConnectionLost {
        /// Peer address.
        addr: String,
    },
    /// The producer was stopped.
    #[error("the producer is stopped")]
    Stopped,
}

/// Why a consumer operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ConsumerError {
    /// Invalid topic name.
    #[error("invalid topic name {0:?}")]
    InvalidTopic(String),
    /// Invalid channel name.
    #[error("invalid channel name {0:?}")]
    InvalidChannel(String),
    /// Already connected (or connecting) to this nsqd or lookupd.
    #[error("already connected to {0}")]
    AlreadyConnected(String),
    /// Connecting to nsqd failed.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// Querying nsqlookupd failed.
    #[error(transparent)]
    Lookup(#[from] LookupError),
    /// The consumer was stopped.
    #[error("the consumer is stopped")]
    Stopped,
}

/// Why an nsqlookupd query failed.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    /// The HTTP request failed.
    #[error("nsqlookupd query {url} failed: {source}")]
    Http {
        /// URL requested.
        url: String,
        /// What failed.
        source: HttpError,
    },
    /// A status other than 200 (and other than 404 for unknown topics).
    #[error("nsqlookupd query {url} answered {status}: {body}")]
    Status {
        /// URL requested.
        url: String,
        /// HTTP status code.
        status: u16,
        /// Response body.
        body: String,
    },
    /// The body is not the expected JSON.
    #[error("nsqlookupd query {url} returned unexpected JSON: {detail}")]
    BadJson {
        /// URL requested.
        url: String,
        /// Parser message.
        detail: String,
    },
}

/// Why an HTTP request failed.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The URL does not parse.
    #[error("invalid URL {url:?}: {detail}")]
    BadUrl {
        /// URL given.
        url: String,
        /// Why.
        detail: String,
    },
    /// The method name is not a valid HTTP method.
    #[error("invalid HTTP method {0:?}")]
    BadMethod(String),
    /// Connecting or exchanging the request failed.
    #[error("{0} (is the server running and reachable?)")]
    Request(String),
    /// No complete response within the request timeout.
    #[error("no response within {0:?}")]
    Timeout(Duration),
}
