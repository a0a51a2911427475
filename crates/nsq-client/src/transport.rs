//! The byte stream under a V2 connection, and the seam where connection
//! upgrades (TLS, snappy, deflate) will wrap it.
//!
//! Today the stream is plain TCP. The handshake asks nsqd for no upgrade
//! ([`check_requested`] refuses configurations that would need one), and
//! [`upgrade`] is where a negotiated upgrade is applied after the IDENTIFY
//! reply; it returns [`ConnectError::Unsupported`] until the transports exist.

use std::pin::Pin;
use std::task::{Context, Poll};

use nsq_protocol::codec::ClientCodec;
use nsq_protocol::IdentifyResponse;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

use crate::config::Config;
use crate::error::ConnectError;

/// A connection's byte stream: plain TCP now, wrapped streams later.
pub struct Transport {
    inner: Pin<Box<dyn Stream>>,
}

trait Stream: AsyncRead + AsyncWrite + Send {}
impl<T: AsyncRead + AsyncWrite + Send> Stream for T {}

impl Transport {
    /// A plain TCP transport.
    pub fn tcp(stream: TcpStream) -> Transport {
        Transport {
            inner: Box::pin(stream),
        }
    }
}

impl AsyncRead for Transport {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        self.inner.as_mut().poll_read(cx, buf)
    }
}

impl AsyncWrite for Transport {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.inner.as_mut().poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.inner.as_mut().poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.inner.as_mut().poll_shutdown(cx)
    }
}

/// A framed V2 connection over a [`Transport`].
pub type FramedConn = Framed<Transport, ClientCodec>;

/// Refuses settings that ask nsqd for an upgrade this client cannot apply.
pub fn check_requested(config: &Config, addr: &str) -> Result<(), ConnectError> {
    let feature = if config.tls.enabled {
        "tls_v1"
    } else if config.snappy {
        "snappy"
    } else if config.deflate {
        "deflate"
    } else {
        return Ok(());
    };
    Err(ConnectError::Unsupported {
        addr: addr.to_string(),
        feature,
    })
}

/// Applies the upgrades nsqd granted in its IDENTIFY reply. With none
/// granted the connection is returned unchanged.
pub fn upgrade(
    conn: FramedConn,
    granted: &IdentifyResponse,
    addr: &str,
) -> Result<FramedConn, ConnectError> {
    let feature = if granted.tls_v1 {
        "tls_v1"
    } else if granted.snappy {
        "snappy"
    } else if granted.deflate {
        "deflate"
    } else {
        return Ok(conn);
    };
    Err(ConnectError::Unsupported {
        addr: addr.to_string(),
        feature,
    })
}
