//! Snappy **framing format** over any async byte stream, as nsqd v1.3.0
//! speaks it after a client negotiates `snappy` in IDENTIFY
//! (nsqd-tcp.md §7 step 4).
//!
//! * Writer: buffers written bytes and emits them as data chunks on
//!   `poll_flush`/`poll_shutdown`, or as soon as 64 KiB are buffered. The
//!   first chunk ever emitted is preceded by the stream identifier chunk.
//!   Each chunk holds at most 65536 uncompressed bytes and is stored
//!   uncompressed (type 0x01) when compression would not save at least 1/8.
//! * Reader: requires the stream identifier first, verifies every CRC,
//!   skips padding and skippable chunks, rejects reserved unskippable ones.
//!
//! Framing violations surface as [`std::io::Error`]s of kind `InvalidData`
//! (or `UnexpectedEof` for a stream cut inside a chunk) wrapping a
//! [`SnappyError`].

mod chunk;
#[cfg(test)]
mod tests;

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

pub use chunk::{
    masked_crc, SnappyError, CHUNK_COMPRESSED, CHUNK_PADDING, CHUNK_STREAM_IDENTIFIER,
    CHUNK_UNCOMPRESSED, MAX_BLOCK_SIZE, STREAM_IDENTIFIER,
};
use chunk::{Decoded, HEADER_LEN};

/// A duplex stream speaking the snappy framing format in both directions
/// over an inner stream `S`.
pub struct SnappyStream<S> {
    inner: S,
    reader: ReadHalfState,
    writer: WriteHalfState,
}

/// Decoding state of the read direction.
struct ReadHalfState {
    decoder: snap::raw::Decoder,
    /// Raw bytes read from the inner stream, valid in `start..end`.
    input: Vec<u8>,
    start: usize,
    end: usize,
    /// Decoded bytes not yet handed out, valid in `dec_pos..dec_len`.
    decoded: Vec<u8>,
    dec_pos: usize,
    dec_len: usize,
    /// Bytes of a skippable chunk still to be discarded.
    skip: usize,
    seen_identifier: bool,
    eof: bool,
}

/// Encoding state of the write direction.
struct WriteHalfState {
    encoder: snap::raw::Encoder,
    /// Uncompressed bytes accepted but not yet framed.
    pending: Vec<u8>,
    /// Framed bytes not yet written to the inner stream, from `out_pos`.
    out: Vec<u8>,
    out_pos: usize,
    wrote_identifier: bool,
}

impl<S> SnappyStream<S> {
    /// Wraps `inner`. Nothing is written until data is flushed.
    pub fn new(inner: S) -> Self {
        let input_cap = HEADER_LEN + chunk::max_chunk_body();
        SnappyStream {
            inner,
            reader: ReadHalfState {
                decoder: snap::raw::Decoder::new(),
                input: vec![0; input_cap],
                start: 0,
                end: 0,
                decoded: vec![0; MAX_BLOCK_SIZE],
                dec_pos: 0,
                dec_len: 0,
                skip: 0,
                seen_identifier: false,
                eof: false,
            },
            writer: WriteHalfState {
                encoder: snap::raw::Encoder::new(),
                pending: Vec::with_capacity(MAX_BLOCK_SIZE),
                out: Vec::new(),
                out_pos: 0,
                wrote_identifier: false,
            },
        }
    }

    /// The wrapped stream.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped stream, mutably (writing to it directly corrupts the
    /// snappy stream).
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner stream; buffered but unflushed data is lost.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl ReadHalfState {
    /// Tries to produce decoded bytes from buffered input. `Ok(true)` when
    /// `decoded` has data, `Ok(false)` when more input is needed.
    fn process(&mut self) -> Result<bool, SnappyError> {
        loop {
            if self.dec_pos < self.dec_len {
                return Ok(true);
            }
            let avail = self.end - self.start;
            if self.skip > 0 {
                if avail == 0 {
                    return Ok(false);
                }
                let n = avail.min(self.skip);
                self.start += n;
                self.skip -= n;
                continue;
            }
            if avail < HEADER_LEN {
                return Ok(false);
            }
            let mut hdr = [0u8; HEADER_LEN];
            hdr.copy_from_slice(&self.input[self.start..self.start + HEADER_LEN]);
            let (kind, len) = chunk::parse_header(&hdr);
            if !self.seen_identifier && kind != CHUNK_STREAM_IDENTIFIER {
                return Err(SnappyError::MissingStreamIdentifier(kind));
            }
            if chunk::is_skippable(kind) {
                self.start += HEADER_LEN;
                self.skip = len;
                continue;
            }
            if (0x02..=0x7f).contains(&kind) {
                return Err(SnappyError::UnskippableChunk(kind));
            }
            if kind == CHUNK_STREAM_IDENTIFIER && len != STREAM_IDENTIFIER.len() - HEADER_LEN {
                return Err(SnappyError::BadStreamIdentifier);
            }
            if len > chunk::max_chunk_body() {
                return Err(SnappyError::BadChunkLength { kind, len });
            }
            if avail < HEADER_LEN + len {
                return Ok(false);
            }
            let body = &self.input[self.start + HEADER_LEN..self.start + HEADER_LEN + len];
            let decoded = chunk::decode_chunk(&mut self.decoder, kind, body, &mut self.decoded)?;
            self.start += HEADER_LEN + len;
            if kind == CHUNK_STREAM_IDENTIFIER {
                self.seen_identifier = true;
            }
            if let Decoded::Data(n) = decoded {
                self.dec_pos = 0;
                self.dec_len = n;
            }
        }
    }

    /// Reads more raw input from `inner`. Returns the number of bytes read
    /// (0 at end of stream).
    fn poll_fill<S: AsyncRead + Unpin>(
        &mut self,
        inner: &mut S,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<usize>> {
        if self.start > 0 {
            self.input.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let mut buf = ReadBuf::new(&mut self.input[self.end..]);
        ready!(Pin::new(inner).poll_read(cx, &mut buf))?;
        let n = buf.filled().len();
        self.end += n;
        Poll::Ready(Ok(n))
    }
}

impl WriteHalfState {
    /// Frames everything pending into `out`.
    fn encode_pending(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        if !self.wrote_identifier {
            self.out.extend_from_slice(&STREAM_IDENTIFIER);
            self.wrote_identifier = true;
        }
        for block in self.pending.chunks(MAX_BLOCK_SIZE) {
            chunk::encode_data_chunk(&mut self.encoder, block, &mut self.out);
        }
        self.pending.clear();
    }

    /// Frames pending data and writes all framed bytes to `inner`.
    fn poll_emit<S: AsyncWrite + Unpin>(
        &mut self,
        inner: &mut S,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        self.encode_pending();
        while self.out_pos < self.out.len() {
            let n = ready!(Pin::new(&mut *inner).poll_write(cx, &self.out[self.out_pos..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.out_pos += n;
        }
        self.out.clear();
        self.out_pos = 0;
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for SnappyStream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        let r = &mut this.reader;
        loop {
            if r.process().map_err(io::Error::from)? {
                let n = (r.dec_len - r.dec_pos).min(buf.remaining());
                buf.put_slice(&r.decoded[r.dec_pos..r.dec_pos + n]);
                r.dec_pos += n;
                return Poll::Ready(Ok(()));
            }
            if r.eof {
                return Poll::Ready(Ok(()));
            }
            let n = ready!(r.poll_fill(&mut this.inner, cx))?;
            if n == 0 {
                r.eof = true;
                if r.end > r.start || r.skip > 0 {
                    return Poll::Ready(Err(SnappyError::Truncated.into()));
                }
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for SnappyStream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let w = &mut this.writer;
        if w.pending.len() >= MAX_BLOCK_SIZE || w.out_pos < w.out.len() {
            ready!(w.poll_emit(&mut this.inner, cx))?;
        }
        let n = (MAX_BLOCK_SIZE - w.pending.len()).min(buf.len());
        w.pending.extend_from_slice(&buf[..n]);
        if w.pending.len() >= MAX_BLOCK_SIZE {
            // Frame the full block now; it is written out by the next
            // write or flush.
            w.encode_pending();
        }
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.writer.poll_emit(&mut this.inner, cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.writer.poll_emit(&mut this.inner, cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

impl<S> std::fmt::Debug for SnappyStream<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnappyStream")
            .field("pending_write", &self.writer.pending.len())
            .field("pending_read", &(self.reader.dec_len - self.reader.dec_pos))
            .finish_non_exhaustive()
    }
}
