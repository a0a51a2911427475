//! The byte stream under a V2 connection and the upgrades nsqd grants in
//! its IDENTIFY reply (nsqd-tcp.md §7), applied in go-nsq's order: TLS,
//! then deflate, then snappy. Each upgrade restacks the stream with a layer
//! of `nsq-transport` and reads the `OK` nsqd sends inside the new layer.
//!
//! Bytes the framed reader already pulled off the old stream belong to the
//! new layer's input; they are replayed beneath it with `stream::prepend`.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use nsq_protocol::codec::ClientCodec;
use nsq_protocol::IdentifyResponse;
use nsq_transport::{stream, BoxedIo, TlsConnector};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

use crate::config::Config;
use crate::conn::read_response;
use crate::error::ConnectError;

/// A connection's byte stream: TCP, possibly wrapped in TLS and/or a
/// compression layer.
pub struct Transport {
    inner: BoxedIo,
}

impl Transport {
    /// A plain TCP transport.
    pub fn tcp(stream: TcpStream) -> Transport {
        Transport {
            inner: stream::boxed(stream),
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

/// Builds the TLS connector from the `tls_*` options. Called before dialing
/// when `tls_v1` is set, so bad options fail before anything is sent.
pub fn tls_connector(config: &Config, addr: &str) -> Result<TlsConnector, ConnectError> {
    let client = config
        .tls
        .client_config()
        .map_err(|source| ConnectError::TlsSetup {
            addr: addr.to_string(),
            source: Box::new(source),
        })?;
    Ok(TlsConnector::from(client))
}

/// Applies the upgrades nsqd granted in its IDENTIFY reply (go-nsq follows
/// the reply, so a requested upgrade nsqd did not grant is only logged).
/// With none granted the connection is returned unchanged.
pub async fn upgrade(
    mut conn: FramedConn,
    granted: &IdentifyResponse,
    config: &Config,
    connector: Option<TlsConnector>,
    addr: &str,
) -> Result<FramedConn, ConnectError> {
    warn_not_granted(config, granted, addr);
    let timeout = config.read_timeout;
    if granted.tls_v1 {
        let connector = match connector {
            Some(c) => c,
            None => tls_connector(config, addr)?,
        };
        conn = upgrade_tls(conn, &connector, addr, timeout).await?;
        expect_ok(&mut conn, addr, "TLS", timeout).await?;
    }
    if granted.deflate {
        let level = u32::try_from(granted.deflate_level.clamp(1, 9)).unwrap_or(6);
        let (io, codec) = unstack(conn);
        conn = Framed::new(wrap(stream::wrap_deflate(io, level)), codec);
        expect_ok(&mut conn, addr, "deflate", timeout).await?;
    }
    if granted.snappy {
        let (io, codec) = unstack(conn);
        conn = Framed::new(wrap(stream::wrap_snappy(io)), codec);
        expect_ok(&mut conn, addr, "snappy", timeout).await?;
    }
    Ok(conn)
}

fn wrap(inner: BoxedIo) -> Transport {
    Transport { inner }
}

/// Takes the stream out of the framed connection, with the bytes its reader
/// had already buffered replayed first.
fn unstack(conn: FramedConn) -> (BoxedIo, ClientCodec) {
    let parts = conn.into_parts();
    let io = stream::prepend(parts.io.inner, parts.read_buf.to_vec());
    (io, parts.codec)
}

async fn upgrade_tls(
    conn: FramedConn,
    connector: &TlsConnector,
    addr: &str,
    timeout: Duration,
) -> Result<FramedConn, ConnectError> {
    let (io, codec) = unstack(conn);
    let handshake = stream::upgrade_client_tls(io, connector, server_name(addr));
    let (io, _info) = tokio::time::timeout(timeout, handshake)
        .await
        .map_err(|_| ConnectError::Timeout {
            addr: addr.to_string(),
            step: "the TLS handshake",
            timeout,
        })?
        .map_err(|source| ConnectError::TlsHandshake {
            addr: addr.to_string(),
            source,
        })?;
    Ok(Framed::new(wrap(io), codec))
}

/// Reads the `OK` nsqd sends inside a freshly stacked `layer`.
async fn expect_ok(
    conn: &mut FramedConn,
    addr: &str,
    layer: &'static str,
    timeout: Duration,
) -> Result<(), ConnectError> {
    let reply = read_response(conn, addr, "IDENTIFY", timeout).await?;
    if reply.as_ref() == b"OK" {
        return Ok(());
    }
    Err(ConnectError::BadUpgradeReply {
        addr: addr.to_string(),
        layer,
        reply: String::from_utf8_lossy(&reply).into_owned(),
    })
}

fn warn_not_granted(config: &Config, granted: &IdentifyResponse, addr: &str) {
    let asked = [
        (
            config.tls.enabled,
            granted.tls_v1,
            "tls_v1",
            "--tls-cert/--tls-key",
        ),
        (config.deflate, granted.deflate, "deflate", "--deflate"),
        (config.snappy, granted.snappy, "snappy", "--snappy"),
    ];
    for (requested, got, name, flag) in asked {
        if requested && !got {
            tracing::warn!(
                "nsqd at {addr} did not grant {name} (is nsqd started with {flag}?); continuing without it"
            );
        }
    }
}

/// The host part of `host:port` (brackets of an IPv6 literal removed), as
/// the TLS server name; an empty host means the local machine.
fn server_name(addr: &str) -> &str {
    let host = addr.rsplit_once(':').map_or(addr, |(host, _)| host);
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if host.is_empty() {
        "localhost"
    } else {
        host
    }
}

#[cfg(test)]
mod tests {
    use super::server_name;

    #[test]
    fn server_names() {
        assert_eq!(server_name("127.0.0.1:4150"), "127.0.0.1");
        assert_eq!(server_name("nsqd.example:4150"), "nsqd.example");
        assert_eq!(server_name("[::1]:4150"), "::1");
        assert_eq!(server_name(":4150"), "localhost");
    }
}
