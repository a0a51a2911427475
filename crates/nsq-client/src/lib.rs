//! A tokio NSQ client: producer, consumer, nsqlookupd discovery.
//!
//! Module map:
//!
//! | module | contents |
//! |---|---|
//! | [`config`] | [`Config`]: go-nsq options, defaults, bounds, `name,value` pass-through |
//! | [`error`] | error enums: [`ConnectError`], [`PublishError`], [`ConsumerError`], [`LookupError`], [`HttpError`], [`TlsSetupError`] |
//! | `conn` | opening a V2 connection: dial, magic, IDENTIFY, AUTH |
//! | `identify` | the IDENTIFY body sent and the reply read |
//! | `transport` | the byte stream and the TLS / snappy / deflate upgrades after IDENTIFY |
//! | `tls` | the TLS client configuration from the `tls_*` options |
//! | [`producer`] | [`Producer`]: PUB / MPUB / DPUB with sync or async acknowledgement |
//! | [`consumer`] | [`Consumer`] and [`Delivery`]: SUB, RDY, backoff, FIN / REQ / TOUCH, graceful stop |
//! | [`lookup`] | nsqlookupd `/lookup` and `/topics` |
//! | [`http`] | [`HttpClient`], a small HTTP client with timeouts |
//!
//! Wire encoding and decoding live in `nsq-protocol` and the transport
//! layers (TLS, snappy, deflate) in `nsq-transport`; this crate only drives
//! connections.

#![warn(missing_docs)]

pub mod config;
mod conn;
pub mod consumer;
pub mod error;
pub mod http;
mod identify;
pub mod lookup;
pub mod producer;
mod tls;
mod transport;

pub use config::{BackoffStrategy, Config, ConfigError};
pub use consumer::{Consumer, ConsumerStats, Delivery};
pub use error::{ConnectError, ConsumerError, HttpError, LookupError, PublishError};
pub use http::{HttpClient, HttpResponse};
pub use nsq_protocol::{Message, MessageId};
pub use producer::{PendingAck, Producer};
pub use tls::TlsSetupError;
