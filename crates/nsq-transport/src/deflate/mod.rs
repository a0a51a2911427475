//! Raw DEFLATE (RFC 1951, no zlib or gzip header) over any async byte
//! stream, as nsqd v1.3.0 speaks it after a client negotiates `deflate` in
//! IDENTIFY (nsqd-tcp.md §7 step 5).
//!
//! Each direction is one continuous DEFLATE stream. The writer compresses
//! as data is written and performs a **sync flush** on `poll_flush` (ending
//! the output with the empty stored block `00 00 ff ff`), so everything
//! written so far is decodable by the peer at once. The reader inflates
//! incrementally.
//!
//! A flush with nothing written since the previous flush emits nothing
//! (Go's `flate.Writer` would emit another empty stored block; the peer
//! cannot tell the difference).

#[cfg(test)]
mod tests;

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Size of the raw input buffer of the reader.
const INPUT_BUFFER: usize = 16 * 1024;
/// Compressed output is written to the inner stream before accepting more
/// input once this much is pending.
const OUTPUT_HIGH_WATER: usize = 64 * 1024;
/// Spare output space made available before each compressor call.
const OUTPUT_RESERVE: usize = 32 * 1024;

/// A corrupt or unexpected DEFLATE stream.
#[derive(Debug, thiserror::Error)]
pub enum DeflateError {
    /// The compressor failed (only possible on internal misuse).
    #[error("deflate compression failed: {0}")]
    Compress(#[from] flate2::CompressError),
    /// The peer sent data that is not valid raw DEFLATE.
    #[error("deflate stream corrupt: {0}")]
    Decompress(#[from] flate2::DecompressError),
    /// The peer's stream ended in the middle of a block.
    #[error("deflate stream truncated: connection closed inside a block")]
    Truncated,
}

impl From<DeflateError> for io::Error {
    fn from(e: DeflateError) -> Self {
        let kind = match e {
            DeflateError::Truncated => io::ErrorKind::UnexpectedEof,
            _ => io::ErrorKind::InvalidData,
        };
        io::Error::new(kind, e)
    }
}

/// A duplex stream speaking raw DEFLATE in both directions over `S`.
pub struct DeflateStream<S> {
    inner: S,
    // read side
    decompress: Decompress,
    input: Box<[u8]>,
    in_start: usize,
    in_end: usize,
    read_done: bool,
    /// The last inflate call filled the caller's buffer, so the inflater
    /// may hold more output even without new input.
    more_output: bool,
    // write side
    compress: Compress,
    out: Vec<u8>,
    out_pos: usize,
    /// Bytes were accepted since the last sync flush.
    dirty: bool,
}

impl<S> DeflateStream<S> {
    /// Wraps `inner`, compressing what is written at `level` (0 = store,
    /// 1 = fastest … 9 = best; larger values are treated as 9).
    pub fn new(inner: S, level: u32) -> Self {
        DeflateStream {
            inner,
            decompress: Decompress::new(false),
            input: vec![0; INPUT_BUFFER].into_boxed_slice(),
            in_start: 0,
            in_end: 0,
            read_done: false,
            more_output: false,
            compress: Compress::new(Compression::new(level.min(9)), false),
            out: Vec::new(),
            out_pos: 0,
            dirty: false,
        }
    }

    /// The wrapped stream.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped stream, mutably (writing to it directly corrupts the
    /// DEFLATE stream).
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner stream; unflushed data is lost.
    pub fn into_inner(self) -> S {
        self.inner
    }

    /// Runs the compressor over `input`, appending output to `self.out`.
    /// Returns how many input bytes were consumed.
    fn run_compress(&mut self, input: &[u8], flush: FlushCompress) -> Result<usize, DeflateError> {
        let before_in = self.compress.total_in();
        let mut consumed = 0usize;
        loop {
            self.out.reserve(OUTPUT_RESERVE);
            let before_out = self.compress.total_out();
            let start_in = self.compress.total_in();
            self.compress
                .compress_vec(&input[consumed..], &mut self.out, flush)?;
            consumed = (self.compress.total_in() - before_in) as usize;
            let produced = self.compress.total_out() - before_out;
            let took = self.compress.total_in() - start_in;
            let out_full = self.out.len() == self.out.capacity();
            if consumed >= input.len() && !out_full {
                return Ok(consumed);
            }
            if took == 0 && produced == 0 && !out_full {
                // No progress possible; whatever was consumed is reported.
                return Ok(consumed);
            }
        }
    }

    /// Writes all pending compressed bytes to the inner stream.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>>
    where
        S: AsyncWrite + Unpin,
    {
        while self.out_pos < self.out.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.out[self.out_pos..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.out_pos += n;
        }
        self.out.clear();
        self.out_pos = 0;
        Poll::Ready(Ok(()))
    }

    /// Sync-flushes the compressor if anything was written since the last
    /// sync flush, then drains all output.
    fn poll_sync(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>>
    where
        S: AsyncWrite + Unpin,
    {
        if self.dirty {
            self.run_compress(&[], FlushCompress::Sync)
                .map_err(io::Error::from)?;
            self.dirty = false;
        }
        self.poll_drain(cx)
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for DeflateStream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if buf.remaining() == 0 || this.read_done {
            return Poll::Ready(Ok(()));
        }
        loop {
            if this.in_start < this.in_end || this.more_output {
                let before_in = this.decompress.total_in();
                let before_out = this.decompress.total_out();
                let out = buf.initialize_unfilled();
                let out_len = out.len();
                let status = this
                    .decompress
                    .decompress(
                        &this.input[this.in_start..this.in_end],
                        out,
                        FlushDecompress::None,
                    )
                    .map_err(|e| io::Error::from(DeflateError::from(e)))?;
                let consumed = (this.decompress.total_in() - before_in) as usize;
                let produced = (this.decompress.total_out() - before_out) as usize;
                this.in_start += consumed;
                buf.advance(produced);
                this.more_output = produced == out_len;
                if status == Status::StreamEnd {
                    // The peer finished its stream (final block): end of data.
                    this.read_done = true;
                    return Poll::Ready(Ok(()));
                }
                if produced > 0 {
                    return Poll::Ready(Ok(()));
                }
                if consumed > 0 {
                    continue;
                }
            }
            // Need more input.
            if this.in_start > 0 {
                this.input.copy_within(this.in_start..this.in_end, 0);
                this.in_end -= this.in_start;
                this.in_start = 0;
            }
            if this.in_end == this.input.len() {
                // A full buffer that the decompressor cannot make progress on.
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "deflate stream corrupt: decompressor made no progress",
                )));
            }
            let mut rb = ReadBuf::new(&mut this.input[this.in_end..]);
            ready!(Pin::new(&mut this.inner).poll_read(cx, &mut rb))?;
            let n = rb.filled().len();
            if n == 0 {
                this.read_done = true;
                if this.in_end > this.in_start {
                    return Poll::Ready(Err(DeflateError::Truncated.into()));
                }
                return Poll::Ready(Ok(()));
            }
            this.in_end += n;
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for DeflateStream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.out.len() - this.out_pos >= OUTPUT_HIGH_WATER {
            ready!(this.poll_drain(cx))?;
        }
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        // Compress at most one high-water mark per call to bound memory.
        let input = &buf[..buf.len().min(OUTPUT_HIGH_WATER)];
        let n = this
            .run_compress(input, FlushCompress::None)
            .map_err(io::Error::from)?;
        if n > 0 {
            this.dirty = true;
        }
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_sync(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_sync(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

impl<S> std::fmt::Debug for DeflateStream<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeflateStream")
            .field("total_in", &self.compress.total_in())
            .field("total_out", &self.compress.total_out())
            .finish_non_exhaustive()
    }
}
