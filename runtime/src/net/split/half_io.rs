//! The I/O both kinds of half do alike, through the stream they share.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, SplitStream, WriteHalf};

/// What the borrowed and the owned read half do alike, through the
/// stream they share: `read`, `read_exact` and `AsyncRead`.
macro_rules! impl_read_half {
    ($half:ty) => {
        impl<S: SplitStream> $half {
            /// Reads some bytes into `buf`; `Ok(0)` means the peer closed
            /// its side.
            ///
            /// Cancel safe: dropped before it completes, it has read nothing.
            pub fn read(&mut self, buf: &mut [u8]) -> impl Future<Output = io::Result<usize>> {
                std::future::poll_fn(move |cx| self.stream.poll_read_priv(cx, buf))
            }

            /// Reads exactly `buf.len()` bytes, or fails with `UnexpectedEof`.
            ///
            /// Not cancel safe: dropped midway, it may have read some bytes
            /// into `buf`, and how many is lost with it.
            pub fn read_exact(&mut self, buf: &mut [u8]) -> impl Future<Output = io::Result<()>> {
                crate::io::util::read_exact(buf, move |cx, buf| self.stream.poll_read_priv(cx, buf))
            }
        }

        impl<S: SplitStream> futures_io::AsyncRead for $half {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                self.stream.poll_read_priv(cx, buf)
            }
        }
    };
}

impl_read_half!(ReadHalf<'_, S>);
impl_read_half!(OwnedReadHalf<S>);

/// What the borrowed and the owned write half do alike, through the
/// stream they share: `write`, `write_all` and `AsyncWrite`.
macro_rules! impl_write_half {
    ($half:ty) => {
        impl<S: SplitStream> $half {
            /// Writes some bytes of `buf`, returning how many.
            ///
            /// Cancel safe: dropped before it completes, it has written
            /// nothing.
            pub fn write(&mut self, buf: &[u8]) -> impl Future<Output = io::Result<usize>> {
                std::future::poll_fn(move |cx| self.stream.poll_write_priv(cx, buf))
            }

            /// Writes all of `buf`.
            ///
            /// Not cancel safe: dropped midway, it may have written a prefix
            /// of `buf`, and how long a prefix is lost with it.
            pub fn write_all(&mut self, buf: &[u8]) -> impl Future<Output = io::Result<()>> {
                crate::io::util::write_all(buf, move |cx, buf| self.stream.poll_write_priv(cx, buf))
            }
        }

        impl<S: SplitStream> futures_io::AsyncWrite for $half {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                self.stream.poll_write_priv(cx, buf)
            }

            /// One `sendmsg` for all of `bufs`, as the whole stream's: the
            /// trait's default sent one slice per call (finding 13).
            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[io::IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                self.stream.poll_write_vectored_priv(cx, bufs)
            }

            fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }

            fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                self.stream.poll_shutdown_write()
            }
        }
    };
}

impl_write_half!(WriteHalf<'_, S>);
impl_write_half!(OwnedWriteHalf<S>);
