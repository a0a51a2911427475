//! A stream whose reads and writes fail with `TimedOut` once a deadline has
//! passed: lets a handshake time out while the socket stays ours, so an error
//! frame can still be written on it afterwards.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

/// `inner` with an optional deadline on every read and write.
pub struct Deadline<S> {
    inner: S,
    sleep: Option<Pin<Box<Sleep>>>,
}

impl<S> Deadline<S> {
    /// Wraps `inner`; operations fail once `after` has elapsed.
    pub fn new(inner: S, after: Duration) -> Self {
        Deadline {
            inner,
            sleep: Some(Box::pin(tokio::time::sleep(after))),
        }
    }

    /// Removes the deadline (the handshake completed).
    pub fn disarm(&mut self) {
        self.sleep = None;
    }

    /// Whether the deadline has passed.
    pub fn expired(&self) -> bool {
        self.sleep.as_ref().is_some_and(|s| s.is_elapsed())
    }

    /// The wrapped stream.
    pub fn into_inner(self) -> S {
        self.inner
    }

    fn check(&mut self, cx: &mut Context<'_>) -> Result<(), io::Error> {
        if let Some(s) = self.sleep.as_mut() {
            if s.as_mut().poll(cx).is_ready() {
                return Err(io::Error::new(io::ErrorKind::TimedOut, "deadline exceeded"));
            }
        }
        Ok(())
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Deadline<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if let Err(e) = self.check(cx) {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Deadline<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if let Err(e) = self.check(cx) {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Err(e) = self.check(cx) {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
