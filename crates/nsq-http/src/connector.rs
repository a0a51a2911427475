//! The connector of the HTTP clients the daemons use for each other: plain TCP for
//! `http://` URLs, TCP + TLS (rustls, configured from the
//! daemon's TLS client options) for `https://` URLs.

use hyper::rt::{Read, ReadBufCursor, Write};
use hyper::Uri;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::rt::TokioIo;
use nsq_transport::stream::{self, BoxedIo, UpgradeError};
use nsq_transport::{rustls, TlsConnector};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// Any error a connection attempt ends with (hyper-util boxes it).
type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A failed TLS handshake with an `https://` upstream. The text reads like
/// Go's `crypto/tls` errors (`tls: failed to verify certificate: x509:
/// certificate signed by unknown authority`), since it ends up in API
/// `message` fields.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TlsHandshakeError(pub String);

/// Opens upstream connections: TCP always, TLS on top for `https`.
#[derive(Clone)]
pub struct UpstreamConnector {
    tcp: HttpConnector,
    tls: Option<TlsConnector>,
}

impl std::fmt::Debug for UpstreamConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamConnector")
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

impl UpstreamConnector {
    /// A connector over `tcp` (which must not enforce the `http` scheme);
    /// `tls: None` makes every `https://` URL fail with a
    /// [`TlsHandshakeError`].
    pub fn new(mut tcp: HttpConnector, tls: Option<Arc<rustls::ClientConfig>>) -> Self {
        tcp.enforce_http(false);
        UpstreamConnector {
            tcp,
            tls: tls.map(TlsConnector::from),
        }
    }
}

impl tower_service::Service<Uri> for UpstreamConnector {
    type Response = UpstreamIo;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<UpstreamIo, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.tcp.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let is_https = uri.scheme_str() == Some("https");
        // The host as a TLS server name: IPv6 literals lose their brackets.
        let host = uri
            .host()
            .unwrap_or_default()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let tls = self.tls.clone();
        let connecting = self.tcp.call(uri);
        Box::pin(async move {
            let tcp = connecting.await?.into_inner();
            if !is_https {
                return Ok(UpstreamIo(TokioIo::new(stream::boxed(tcp))));
            }
            let Some(tls) = tls else {
                return Err(TlsHandshakeError(
                    "tls: no TLS client configuration (https upstreams are unavailable)"
                        .to_string(),
                )
                .into());
            };
            match stream::upgrade_client_tls(tcp, &tls, &host).await {
                Ok((io, _info)) => Ok(UpstreamIo(TokioIo::new(io))),
                Err(e) => Err(TlsHandshakeError(handshake_text(&e)).into()),
            }
        })
    }
}

/// An open upstream connection, plain or TLS.
pub struct UpstreamIo(TokioIo<BoxedIo>);

impl Connection for UpstreamIo {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

impl Read for UpstreamIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl Write for UpstreamIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }
}

/// The handshake failure in Go's words where there is an equivalent.
fn handshake_text(e: &UpgradeError) -> String {
    let io = match e {
        UpgradeError::Handshake(io) => io,
        other => return format!("tls: {other}"),
    };
    match io
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        Some(tls) => rustls_text(tls),
        None if io.kind() == io::ErrorKind::UnexpectedEof => {
            "tls: handshake failed - EOF (the peer closed the connection)".to_string()
        }
        None => format!("tls: handshake failed - {io}"),
    }
}

/// A rustls error in the words of Go's `crypto/tls` and `crypto/x509`.
pub fn rustls_text(e: &rustls::Error) -> String {
    use rustls::{CertificateError as C, Error as E};
    const VERIFY: &str = "tls: failed to verify certificate: x509:";
    match e {
        E::InvalidCertificate(C::UnknownIssuer) => {
            format!("{VERIFY} certificate signed by unknown authority")
        }
        E::InvalidCertificate(
            C::Expired | C::ExpiredContext { .. } | C::NotValidYet | C::NotValidYetContext { .. },
        ) => format!("{VERIFY} certificate has expired or is not yet valid"),
        E::InvalidCertificate(C::NotValidForName | C::NotValidForNameContext { .. }) => {
            format!("{VERIFY} certificate is not valid for the requested host ({e})")
        }
        E::InvalidCertificate(other) => format!("{VERIFY} {other:?}"),
        E::AlertReceived(alert) => format!("remote error: tls: {}", alert_words(alert)),
        E::InvalidMessage(_) | E::InappropriateMessage { .. } => {
            format!("tls: handshake failed - {e} (is the upstream serving HTTPS on this port?)")
        }
        other => format!("tls: {other}"),
    }
}

/// `BadCertificate` → `bad certificate` (Go's alert texts).
fn alert_words(alert: &rustls::AlertDescription) -> String {
    let name = format!("{alert:?}");
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push(' ');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rustls_errors_read_like_go() {
        assert_eq!(
            rustls_text(&rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer
            )),
            "tls: failed to verify certificate: x509: certificate signed by unknown authority"
        );
        assert_eq!(
            rustls_text(&rustls::Error::AlertReceived(
                rustls::AlertDescription::BadCertificate
            )),
            "remote error: tls: bad certificate"
        );
    }
}
