//! Transport layers that NSQ clients negotiate through IDENTIFY
//! (nsqd-tcp.md §5.1 and §7), shared by nsqd and the client crate.
//!
//! Module map:
//!
//! | module | what |
//! |---|---|
//! | [`snappy`] | [`SnappyStream`]: snappy framing format in both directions |
//! | [`deflate`] | [`DeflateStream`]: raw DEFLATE with a sync flush per flush |
//! | [`tls`] | rustls server/client configs from NSQ's `--tls-*` options, `/stats` names |
//! | [`stream`] | [`BoxedIo`], [`TlsInfo`] and the upgrade helpers used after IDENTIFY |
//!
//! Server-side upgrade sequence (the daemon writes and flushes the frames):
//!
//! ```no_run
//! # async fn demo(tcp: tokio::net::TcpStream) -> Result<(), Box<dyn std::error::Error>> {
//! use nsq_transport::{stream, tls, TlsAcceptor};
//! use tokio::io::AsyncWriteExt;
//! let ok_frame = [0, 0, 0, 6, 0, 0, 0, 0, b'O', b'K'];
//! let cfg = tls::server_config(
//!     "cert.pem".as_ref(), "key.pem".as_ref(), None,
//!     tls::ClientAuthPolicy::None, tls::VERSION_TLS10,
//! )?;
//! let acceptor = TlsAcceptor::from(cfg);
//! let mut io = stream::boxed(tcp);
//! // ... IDENTIFY read, negotiation JSON written + flushed in plaintext ...
//! let (tls_io, info) = stream::upgrade_server_tls(io, &acceptor).await?;
//! io = tls_io;
//! io.write_all(&ok_frame).await?; // OK inside TLS
//! io.flush().await?;
//! io = stream::wrap_snappy(io); // or stream::wrap_deflate(io, level)
//! io.write_all(&ok_frame).await?; // OK inside snappy
//! io.flush().await?;
//! println!("{} {} {:?}", info.version, info.cipher_suite, info.peer_common_name);
//! # Ok(()) }
//! ```

pub mod deflate;
pub mod snappy;
pub mod stream;
pub mod tls;

#[cfg(test)]
mod test_support;

pub use deflate::DeflateStream;
pub use snappy::SnappyStream;
pub use stream::{AsyncReadWrite, BoxedIo, TlsInfo, UpgradeError};
pub use tls::{ClientAuthPolicy, TlsError};
/// The rustls version the configs are built with.
pub use tokio_rustls::rustls;
pub use tokio_rustls::{TlsAcceptor, TlsConnector};
