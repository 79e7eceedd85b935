//! Splitting a `TcpStream` into a read half and a write half.
//!
//! A TCP socket is full duplex: one task may read while another writes.
//! [`TcpStream::split`] lends both halves for use inside one task (for
//! example to race a read against a write); [`TcpStream::into_split`]
//! gives owned halves that can move to different tasks. Both halves reach
//! the same socket and registration; readiness for reading and writing is
//! tracked separately, so neither half steals the other's wake-ups.

use std::fmt;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::TcpStream;

/// The read half of a borrowed [`TcpStream::split`].
#[derive(Debug)]
pub struct ReadHalf<'a> {
    /// The stream both halves borrow.
    stream: &'a TcpStream,
}

/// The write half of a borrowed [`TcpStream::split`].
#[derive(Debug)]
pub struct WriteHalf<'a> {
    /// The stream both halves borrow.
    stream: &'a TcpStream,
}

/// The owned read half from [`TcpStream::into_split`].
#[derive(Debug)]
pub struct OwnedReadHalf {
    /// The stream, shared with the write half.
    stream: Arc<TcpStream>,
}

/// The owned write half from [`TcpStream::into_split`]. Dropping it shuts
/// down the write side, so the peer sees end-of-stream.
#[derive(Debug)]
pub struct OwnedWriteHalf {
    /// The stream, shared with the read half.
    stream: Arc<TcpStream>,
    /// Cleared by `reunite`, which must not leave the stream half-closed.
    shutdown_on_drop: bool,
}

/// The error [`OwnedReadHalf::reunite`] returns when the halves came from
/// different streams; it hands both back.
pub struct ReuniteError(pub OwnedReadHalf, pub OwnedWriteHalf);

pub(super) fn split(stream: &mut TcpStream) -> (ReadHalf<'_>, WriteHalf<'_>) {
    (ReadHalf { stream }, WriteHalf { stream })
}

pub(super) fn into_split(stream: TcpStream) -> (OwnedReadHalf, OwnedWriteHalf) {
    let stream = Arc::new(stream);
    let read = OwnedReadHalf {
        stream: stream.clone(),
    };
    let write = OwnedWriteHalf {
        stream,
        shutdown_on_drop: true,
    };
    (read, write)
}

impl ReadHalf<'_> {
    /// See [`TcpStream::read`].
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        std::future::poll_fn(|cx| self.stream.poll_read_priv(cx, buf)).await
    }

    /// See [`TcpStream::read_exact`].
    pub async fn read_exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
        crate::io::util::read_exact(buf, |cx, buf| self.stream.poll_read_priv(cx, buf)).await
    }

    /// See [`TcpStream::peek`].
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.stream.peek(buf).await
    }
}

impl WriteHalf<'_> {
    /// See [`TcpStream::write`].
    pub async fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        std::future::poll_fn(|cx| self.stream.poll_write_priv(cx, buf)).await
    }

    /// See [`TcpStream::write_all`].
    pub async fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        crate::io::util::write_all(buf, |cx, buf| self.stream.poll_write_priv(cx, buf)).await
    }
}

impl OwnedReadHalf {
    /// See [`TcpStream::read`].
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        std::future::poll_fn(|cx| self.stream.poll_read_priv(cx, buf)).await
    }

    /// See [`TcpStream::read_exact`].
    pub async fn read_exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
        crate::io::util::read_exact(buf, |cx, buf| self.stream.poll_read_priv(cx, buf)).await
    }

    /// See [`TcpStream::peek`].
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.stream.peek(buf).await
    }

    /// See [`TcpStream::readable`].
    pub async fn readable(&self) -> io::Result<()> {
        self.stream.readable().await
    }

    /// See [`TcpStream::peer_addr`].
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.stream.peer_addr()
    }

    /// See [`TcpStream::local_addr`].
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.stream.local_addr()
    }

    /// Puts the halves back together, if they came from the same stream.
    pub fn reunite(self, mut other: OwnedWriteHalf) -> Result<TcpStream, ReuniteError> {
        if !Arc::ptr_eq(&self.stream, &other.stream) {
            return Err(ReuniteError(self, other));
        }
        other.shutdown_on_drop = false;
        let stream = other.stream.clone();
        drop(other);
        drop(self);
        Ok(Arc::try_unwrap(stream).expect("both halves were just dropped"))
    }
}

impl OwnedWriteHalf {
    /// See [`TcpStream::write`].
    pub async fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        std::future::poll_fn(|cx| self.stream.poll_write_priv(cx, buf)).await
    }

    /// See [`TcpStream::write_all`].
    pub async fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        crate::io::util::write_all(buf, |cx, buf| self.stream.poll_write_priv(cx, buf)).await
    }

    /// See [`TcpStream::writable`].
    pub async fn writable(&self) -> io::Result<()> {
        self.stream.writable().await
    }

    /// Shuts down the write side now (the peer reads end-of-stream).
    pub fn shutdown(&self) -> io::Result<()> {
        self.stream.shutdown(Shutdown::Write)
    }

    /// See [`TcpStream::peer_addr`].
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.stream.peer_addr()
    }

    /// See [`OwnedReadHalf::reunite`].
    pub fn reunite(self, other: OwnedReadHalf) -> Result<TcpStream, ReuniteError> {
        other.reunite(self)
    }
}

impl Drop for OwnedWriteHalf {
    fn drop(&mut self) {
        if self.shutdown_on_drop {
            // The peer may already be gone; nothing useful to do about it.
            let _ = self.stream.shutdown(Shutdown::Write);
        }
    }
}

impl futures_io::AsyncRead for ReadHalf<'_> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.stream.poll_read_priv(cx, buf)
    }
}

impl futures_io::AsyncRead for OwnedReadHalf {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.stream.poll_read_priv(cx, buf)
    }
}

impl futures_io::AsyncWrite for WriteHalf<'_> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.stream.poll_write_priv(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.stream.poll_shutdown_write()
    }
}

impl futures_io::AsyncWrite for OwnedWriteHalf {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.stream.poll_write_priv(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.stream.poll_shutdown_write()
    }
}

impl fmt::Debug for ReuniteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReuniteError(..)")
    }
}

impl fmt::Display for ReuniteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tried to reunite halves that are not from the same TcpStream")
    }
}

impl std::error::Error for ReuniteError {}
