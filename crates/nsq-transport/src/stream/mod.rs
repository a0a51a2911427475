//! Boxed duplex streams and the upgrade helpers used right after IDENTIFY.
//!
//! Order on the wire (nsqd-tcp.md §7): the negotiation JSON goes out in
//! plaintext, then the TLS handshake, `OK` inside TLS, then compression is
//! stacked on top (on TLS when negotiated), `OK` inside compression. These
//! helpers only wrap streams; the daemon/client send the frames and flush.
//!
//! If a buffered reader already holds bytes that belong to the next layer,
//! hand them over with [`prepend`] before wrapping.

mod deadline;
mod prefixed;
#[cfg(test)]
mod tests;

use std::io;
use std::pin::Pin;
use std::time::Duration;

use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::{TlsAcceptor, TlsConnector};

use crate::deflate::DeflateStream;
use crate::snappy::SnappyStream;
use crate::tls::{cipher_suite_name, subject_common_name, version_name};
pub use deadline::Deadline;
pub use prefixed::Prefixed;

/// Anything that is both [`AsyncRead`] and [`AsyncWrite`] (a trait alias).
pub trait AsyncReadWrite: AsyncRead + AsyncWrite {}

impl<T: AsyncRead + AsyncWrite + ?Sized> AsyncReadWrite for T {}

/// A type-erased duplex connection; layers stack by boxing again.
pub type BoxedIo = Pin<Box<dyn AsyncReadWrite + Send>>;

/// nsqd's deadline for the server-side TLS handshake.
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// What the TLS handshake negotiated, as nsqd reports it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlsInfo {
    /// `/stats` `tls_version`: `TLS1.2` or `TLS1.3`.
    pub version: String,
    /// `/stats` `tls_cipher_suite`, e.g. `TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`
    /// or `Unknown 4865`.
    pub cipher_suite: String,
    /// Subject CN of the peer's leaf certificate, if it sent one (on the
    /// server: the client certificate, used as AUTH's `common_name`).
    pub peer_common_name: Option<String>,
}

/// Failure of a TLS upgrade.
#[derive(Debug, thiserror::Error)]
pub enum UpgradeError {
    /// The handshake failed (bad certificate, protocol error, I/O error).
    #[error("TLS handshake failed: {0}")]
    Handshake(#[source] io::Error),
    /// The server-side handshake did not complete within
    /// [`TLS_HANDSHAKE_TIMEOUT`].
    #[error("TLS handshake timed out after {0:?}")]
    Timeout(Duration),
    /// The name given for the server is neither a DNS name nor an IP.
    #[error("invalid TLS server name {0:?}: use the nsqd host name or IP address")]
    InvalidServerName(String),
}

impl From<UpgradeError> for io::Error {
    fn from(e: UpgradeError) -> Self {
        match e {
            UpgradeError::Handshake(inner) => inner,
            UpgradeError::Timeout(_) => io::Error::new(io::ErrorKind::TimedOut, e),
            UpgradeError::InvalidServerName(_) => io::Error::new(io::ErrorKind::InvalidInput, e),
        }
    }
}

/// Boxes any stream.
pub fn boxed<S>(io: S) -> BoxedIo
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    Box::pin(io)
}

/// Makes `buffered` (bytes already read off `io` by a buffered reader) be
/// read first, then `io`. With an empty `buffered` this only boxes.
pub fn prepend<S>(io: S, buffered: Vec<u8>) -> BoxedIo
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    if buffered.is_empty() {
        Box::pin(io)
    } else {
        Box::pin(Prefixed::new(buffered, io))
    }
}

fn info_from(
    version: Option<rustls::ProtocolVersion>,
    suite: Option<rustls::SupportedCipherSuite>,
    peer: Option<&[rustls::pki_types::CertificateDer<'static>]>,
) -> TlsInfo {
    TlsInfo {
        version: version.map(version_name).unwrap_or_default().to_string(),
        cipher_suite: suite.as_ref().map(cipher_suite_name).unwrap_or_default(),
        peer_common_name: peer
            .and_then(|certs| certs.first())
            .and_then(|leaf| subject_common_name(leaf.as_ref())),
    }
}

/// Runs the server side of the TLS handshake on `io` (after the IDENTIFY
/// response went out in plaintext), bounded by [`TLS_HANDSHAKE_TIMEOUT`].
pub async fn upgrade_server_tls<S>(
    io: S,
    acceptor: &TlsAcceptor,
) -> Result<(BoxedIo, TlsInfo), UpgradeError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    upgrade_server_tls_keep(io, acceptor)
        .await
        .map_err(|(e, _)| e)
}

/// Like [`upgrade_server_tls`], but a failed handshake (or the deadline)
/// hands the plain stream back, so the caller can still write an error on it
/// as nsqd does (`E_IDENTIFY_FAILED` in plaintext).
pub async fn upgrade_server_tls_keep<S>(
    io: S,
    acceptor: &TlsAcceptor,
) -> Result<(BoxedIo, TlsInfo), (UpgradeError, S)>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let guarded = Deadline::new(io, TLS_HANDSHAKE_TIMEOUT);
    match acceptor.accept(guarded).into_fallible().await {
        Ok(mut tls) => {
            tls.get_mut().0.disarm();
            let (_, conn) = tls.get_ref();
            let info = info_from(
                conn.protocol_version(),
                conn.negotiated_cipher_suite(),
                conn.peer_certificates(),
            );
            Ok((Box::pin(tls), info))
        }
        Err((e, guarded)) => {
            let err = if guarded.expired() {
                UpgradeError::Timeout(TLS_HANDSHAKE_TIMEOUT)
            } else {
                UpgradeError::Handshake(e)
            };
            Err((err, guarded.into_inner()))
        }
    }
}

/// Runs the client side of the TLS handshake on `io` right after reading
/// the IDENTIFY response. `server_name` is a DNS name or IP address (the
/// nsqd host). No timeout is applied; wrap the call if one is needed.
pub async fn upgrade_client_tls<S>(
    io: S,
    connector: &TlsConnector,
    server_name: &str,
) -> Result<(BoxedIo, TlsInfo), UpgradeError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let name = ServerName::try_from(server_name.to_string())
        .map_err(|_| UpgradeError::InvalidServerName(server_name.to_string()))?;
    let tls = connector
        .connect(name, io)
        .await
        .map_err(UpgradeError::Handshake)?;
    let (_, conn) = tls.get_ref();
    let info = info_from(
        conn.protocol_version(),
        conn.negotiated_cipher_suite(),
        conn.peer_certificates(),
    );
    Ok((Box::pin(tls), info))
}

/// Stacks the snappy framing format on `io`.
pub fn wrap_snappy<S>(io: S) -> BoxedIo
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    Box::pin(SnappyStream::new(io))
}

/// Stacks raw DEFLATE at `level` (the negotiated `deflate_level`, 1…9) on
/// `io`.
pub fn wrap_deflate<S>(io: S, level: u32) -> BoxedIo
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    Box::pin(DeflateStream::new(io, level))
}
