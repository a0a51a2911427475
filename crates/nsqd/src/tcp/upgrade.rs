//! Connection upgrades negotiated by IDENTIFY: TLS first, then snappy or
//! deflate stacked on it, each confirmed by an `OK` frame sent inside the new
//! layer (the negotiation JSON itself went out in plaintext).

use super::connection::{Connection, Reader, Writer};
use bytes::BytesMut;
use nsq_protocol::codec::ServerCodec;
use nsq_protocol::{frame, ErrorCode, ProtocolError};
use nsq_transport::{stream, BoxedIo};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio_util::codec::FramedRead;

/// How long writing an upgrade's `OK` may take.
const OK_WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// What IDENTIFY granted.
pub(super) struct Upgrades {
    pub tls: bool,
    pub snappy: bool,
    pub deflate_level: Option<u32>,
}

fn placeholder() -> (Reader, Writer) {
    let (a, _) = tokio::io::duplex(1);
    tokio::io::split(stream::boxed(a))
}

fn identify_failed(reason: impl std::fmt::Display) -> ProtocolError {
    ProtocolError::new(
        ErrorCode::IdentifyFailed,
        format!("IDENTIFY failed {reason}"),
    )
}

async fn send_ok(io: &mut BoxedIo) -> Result<(), ProtocolError> {
    let mut buf = BytesMut::new();
    frame::write_response(&mut buf, frame::OK);
    let write = async {
        io.write_all(&buf).await?;
        io.flush().await
    };
    match tokio::time::timeout(OK_WRITE_TIMEOUT, write).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(identify_failed(e)),
        Err(_) => Err(identify_failed("write timed out")),
    }
}

impl Connection {
    /// Re-layers the socket as negotiated. On failure the connection is
    /// unusable and the returned error is fatal.
    pub(super) async fn upgrade(&mut self, up: Upgrades) -> Result<(), ProtocolError> {
        if !up.tls && !up.snappy && up.deflate_level.is_none() {
            return Ok(());
        }
        let (ph_r, ph_w) = placeholder();
        let reader = std::mem::replace(
            &mut self.reader,
            FramedRead::new(ph_r, ServerCodec::default()),
        );
        let writer = std::mem::replace(&mut self.writer, ph_w);
        let parts = reader.into_parts();
        let mut codec = parts.codec;
        let mut io: BoxedIo = parts.io.unsplit(writer);
        if !parts.read_buf.is_empty() {
            io = stream::prepend(io, parts.read_buf.to_vec());
        }
        if up.tls {
            let acceptor = self
                .nsqd
                .tls
                .acceptor()
                .ok_or_else(|| identify_failed("TLS is not configured"))?;
            let (tls_io, info) = match stream::upgrade_server_tls_keep(io, &acceptor).await {
                Ok(done) => done,
                Err((e, plain)) => {
                    // The error goes out in plaintext on the original socket, as in nsqd.
                    let (r, w) = tokio::io::split(plain);
                    self.reader = FramedRead::with_capacity(r, codec, 16 * 1024);
                    self.writer = w;
                    return Err(identify_failed(e));
                }
            };
            io = tls_io;
            self.tls_active = true;
            self.tls_common_name = info.peer_common_name.clone().unwrap_or_default();
            codec.context.tls_required_pending = false;
            {
                let mut ident = self.stats.identity.lock();
                ident.tls = true;
                ident.tls_version = info.version;
                ident.tls_cipher_suite = info.cipher_suite;
            }
            send_ok(&mut io).await?;
        }
        if up.snappy {
            io = stream::wrap_snappy(io);
            self.stats.identity.lock().snappy = true;
            send_ok(&mut io).await?;
        } else if let Some(level) = up.deflate_level {
            io = stream::wrap_deflate(io, level);
            self.stats.identity.lock().deflate = true;
            send_ok(&mut io).await?;
        }
        let (r, w) = tokio::io::split(io);
        self.reader = FramedRead::with_capacity(r, codec, 16 * 1024);
        self.writer = w;
        Ok(())
    }
}
