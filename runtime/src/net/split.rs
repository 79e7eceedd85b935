//! The read and write halves of a stream, written once for TCP and Unix
//! streams.
//!
//! A stream socket is full duplex: one task may read while another writes.
//! [`TcpStream::split`](crate::net::TcpStream::split) lends both halves for
//! use inside one task (for example to race a read against a write);
//! [`TcpStream::into_split`](crate::net::TcpStream::into_split) gives owned
//! halves that can move to different tasks, and
//! [`OwnedReadHalf::reunite`] puts them back together. `UnixStream` has the
//! same pair of methods.
//!
//! The halves are generic over the stream, and usually named through the
//! aliases in [`net::tcp`](crate::net::tcp) and
//! [`net::unix`](crate::net::unix) (`tcp::OwnedReadHalf` is
//! `OwnedReadHalf<TcpStream>`), which also add what only one stream has
//! (TCP's `peek`). Only eddy's streams can be split: the trait the halves
//! require is sealed.
//!
//! # Implementation
//!
//! Both halves reach the same socket and registration, shared by reference
//! or by `Arc`; readiness for reading and writing is tracked separately in
//! the socket's `ScheduledIo`, so neither half steals the other's
//! wake-ups. The owned write half shuts the write side down when dropped,
//! except inside `reunite`.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

pub(crate) use sealed::SplitStream;

mod sealed {
    use super::*;
    use crate::net::IoSource;

    /// What the halves (and `futures-io`'s traits) need from a byte stream:
    /// its registered socket. Everything else is provided once, here, for
    /// TCP and Unix streams alike, but for `poll_read_priv`, which
    /// `UnixStream` overrides: its reads go without TCP's short-read rule.
    ///
    /// Public only so that the halves' public methods may name it in their
    /// bounds; it lives in a private module, so nothing outside eddy can
    /// implement or call it.
    #[allow(unreachable_pub)]
    pub trait SplitStream: fmt::Debug {
        /// The mio stream type inside.
        type Socket: mio::event::Source + std::os::fd::AsFd;
        /// The stream's socket address type.
        type Addr;

        /// The registered socket.
        fn source(&self) -> &IoSource<Self::Socket>;

        /// The local address.
        fn local_addr(&self) -> io::Result<Self::Addr>;

        /// The peer's address.
        fn peer_addr(&self) -> io::Result<Self::Addr>;

        /// Reads into `buf` (the stream's `read`, as a poll function).
        fn poll_read_priv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
            self.source().poll_read_stream(cx, buf)
        }

        /// Reads now if the stream is known to be readable, else
        /// `WouldBlock` (the stream's `try_read`).
        fn try_read_priv(&self, buf: &mut [u8]) -> io::Result<usize> {
            self.source().try_read_stream(buf)
        }

        /// Writes now if the stream is known to be writable, else
        /// `WouldBlock` (the stream's `try_write`).
        fn try_write_priv(&self, buf: &[u8]) -> io::Result<usize> {
            self.source().try_write_stream(buf)
        }

        /// Writes from `buf` (the stream's `write`, as a poll function).
        fn poll_write_priv(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
            self.source().poll_write_stream(cx, buf)
        }

        /// Writes `bufs` with one `sendmsg`.
        fn poll_write_vectored_priv(
            &self,
            cx: &mut Context<'_>,
            bufs: &[io::IoSlice<'_>],
        ) -> Poll<io::Result<usize>> {
            self.source().poll_write_vectored_stream(cx, bufs)
        }

        /// `poll_close`: shuts down the write side, treating an already
        /// disconnected socket as closed.
        fn poll_shutdown_write(&self) -> Poll<io::Result<()>> {
            self.source().poll_shutdown_write()
        }

        /// Shuts down the write side, reporting every error.
        fn shutdown_write(&self) -> io::Result<()> {
            self.source().shutdown_write()
        }

        /// Waits until the stream is readable (the stream's `readable`).
        fn readable(&self) -> impl Future<Output = io::Result<()>> + '_ {
            self.source().ready(eddy_registration::Interest::READABLE)
        }

        /// Waits until the stream is writable (the stream's `writable`).
        fn writable(&self) -> impl Future<Output = io::Result<()>> + '_ {
            self.source().ready(eddy_registration::Interest::WRITABLE)
        }
    }
}

/// Implements `futures-io`'s `AsyncRead` and `AsyncWrite` for a stream type
/// through its [`SplitStream`] impl. A macro only because the traits are
/// foreign: one blanket impl over every `SplitStream` is not allowed.
macro_rules! impl_futures_io {
    ($stream:ty) => {
        impl futures_io::AsyncRead for $stream {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                $crate::net::split::SplitStream::poll_read_priv(&*self, cx, buf)
            }
        }

        impl futures_io::AsyncWrite for $stream {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                $crate::net::split::SplitStream::poll_write_priv(&*self, cx, buf)
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                $crate::net::split::SplitStream::poll_write_vectored_priv(&*self, cx, bufs)
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                // Writes go straight to the kernel: there is nothing to flush.
                std::task::Poll::Ready(Ok(()))
            }

            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                $crate::net::split::SplitStream::poll_shutdown_write(&*self)
            }
        }
    };
}
pub(crate) use impl_futures_io;

/// The byte-stream methods every whole stream type has (`read`,
/// `read_exact`, `write`, `write_all`, `try_read`, `try_write`, `readable`,
/// `writable`, `poll_read_ready`, `poll_write_ready`, `shutdown`,
/// `take_error`), written once through its [`SplitStream`] impl
/// and its `IoSource`. A macro because they are inherent methods of each
/// public type, where users look for them. `read` and friends return their
/// `poll_fn` or a hand-written future rather than being `async fn`s: they
/// are on every echo round trip, and the generated state machines cost ~40
/// instructions there (callgrind).
macro_rules! impl_stream_io {
    ($stream:ty) => {
        impl $stream {
            /// Reads now if the socket is known to be readable, else
            /// `WouldBlock`.
            pub fn try_read(&self, buf: &mut [u8]) -> std::io::Result<usize> {
                self.source.try_read_stream(buf)
            }

            /// Writes now if the socket is known to be writable, else
            /// `WouldBlock`.
            pub fn try_write(&self, buf: &[u8]) -> std::io::Result<usize> {
                self.source.try_write_stream(buf)
            }

            /// Waits until the socket is readable (or closed, or in error).
            ///
            /// Cancel safe: dropped before it completes, it leaves no wake
            /// behind; the next wait is woken by the next bytes.
            pub async fn readable(&self) -> std::io::Result<()> {
                self.source
                    .ready(eddy_registration::Interest::READABLE)
                    .await
            }

            /// Waits until the socket is writable (or closed, or in error).
            ///
            /// Cancel safe: dropped before it completes, it leaves no wake
            /// behind.
            pub async fn writable(&self) -> std::io::Result<()> {
                self.source
                    .ready(eddy_registration::Interest::WRITABLE)
                    .await
            }

            /// Polls for read readiness (readable, closed or in error): the
            /// poll form of `readable`, for a hand-written future or
            /// `AsyncRead` that reads with `try_read` (tokio's
            /// `poll_read_ready`, smol's `poll_readable`). `Ready` spends
            /// one unit of the task's budget, as a read does, so such a
            /// loop over a socket that stays ready still lets others run.
            ///
            /// The stream keeps one waker for this direction, shared with
            /// `read` and `AsyncRead`: only the task that polled last is
            /// woken. Tasks that wait together use `readable`.
            pub fn poll_read_ready(
                &self,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::ready!($crate::coop::poll_proceed(cx));
                self.source.registration().poll_read_ready(cx).map_ok(drop)
            }

            /// Polls for write readiness (writable, closed or in error):
            /// the poll form of `writable`, for a hand-written future or
            /// `AsyncWrite` that writes with `try_write` (tokio's
            /// `poll_write_ready`, smol's `poll_writable`). Budget and
            /// waker as for [`poll_read_ready`](Self::poll_read_ready).
            pub fn poll_write_ready(
                &self,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::ready!($crate::coop::poll_proceed(cx));
                self.source.registration().poll_write_ready(cx).map_ok(drop)
            }

            /// Shuts down the read side, the write side, or both. After
            /// `Shutdown::Write` the peer reads end-of-stream once it has
            /// read everything sent before, and writes fail with
            /// `BrokenPipe`.
            pub fn shutdown(&self, how: std::net::Shutdown) -> std::io::Result<()> {
                self.source.shutdown(how)?;
                if how != std::net::Shutdown::Read {
                    self.source.mark_write_shut_down();
                }
                Ok(())
            }

            /// Takes the pending socket error (`SO_ERROR`), if any.
            pub fn take_error(&self) -> std::io::Result<Option<std::io::Error>> {
                self.source.take_error()
            }

            /// Reads some bytes into `buf`; `Ok(0)` means the peer closed its
            /// side (or `buf` is empty).
            ///
            /// Cancel safe: dropped before it completes, it has read nothing.
            pub fn read(
                &mut self,
                buf: &mut [u8],
            ) -> impl std::future::Future<Output = std::io::Result<usize>> {
                std::future::poll_fn(move |cx| {
                    $crate::net::split::SplitStream::poll_read_priv(&*self, cx, buf)
                })
            }

            /// Reads exactly `buf.len()` bytes, or fails with `UnexpectedEof`.
            ///
            /// Not cancel safe: dropped before it completes, it may have read
            /// some bytes into `buf`, and how many is lost with it.
            pub fn read_exact(
                &mut self,
                buf: &mut [u8],
            ) -> impl std::future::Future<Output = std::io::Result<()>> {
                $crate::io::util::read_exact(buf, move |cx, buf| {
                    $crate::net::split::SplitStream::poll_read_priv(&*self, cx, buf)
                })
            }

            /// Writes some bytes of `buf`, returning how many.
            ///
            /// Cancel safe: dropped before it completes, it has written
            /// nothing.
            pub fn write(
                &mut self,
                buf: &[u8],
            ) -> impl std::future::Future<Output = std::io::Result<usize>> {
                std::future::poll_fn(move |cx| {
                    $crate::net::split::SplitStream::poll_write_priv(&*self, cx, buf)
                })
            }

            /// Writes all of `buf`.
            ///
            /// Not cancel safe: dropped before it completes, it may have
            /// written a prefix of `buf`, and how long a prefix is lost with
            /// it.
            pub fn write_all(
                &mut self,
                buf: &[u8],
            ) -> impl std::future::Future<Output = std::io::Result<()>> {
                $crate::io::util::write_all(buf, move |cx, buf| {
                    $crate::net::split::SplitStream::poll_write_priv(&*self, cx, buf)
                })
            }
        }
    };
}
pub(crate) use impl_stream_io;

/// The read half of a borrowed `split`.
#[derive(Debug)]
pub struct ReadHalf<'a, S> {
    /// The stream both halves borrow.
    pub(crate) stream: &'a S,
}

/// The write half of a borrowed `split`. Dropping it shuts nothing down
/// (the stream stays whole); its `poll_close` (`close` in the
/// `futures-io` extension traits) shuts down the stream's write side.
#[derive(Debug)]
pub struct WriteHalf<'a, S> {
    /// The stream both halves borrow.
    pub(crate) stream: &'a S,
}

/// The owned read half from `into_split`.
#[derive(Debug)]
pub struct OwnedReadHalf<S> {
    /// The stream, shared with the write half.
    pub(crate) stream: Arc<S>,
}

/// The owned write half from `into_split`. Dropping it shuts down the
/// write side, so the peer sees end-of-stream.
#[derive(Debug)]
pub struct OwnedWriteHalf<S: SplitStream> {
    /// The stream, shared with the read half.
    stream: Arc<S>,
    /// Cleared by `reunite`, which must not leave the stream half-closed.
    shutdown_on_drop: bool,
}

/// The error `reunite` returns when the halves came from different
/// streams; it hands both back.
pub struct ReuniteError<S: SplitStream>(
    /// The read half passed to `reunite`, handed back so it is not lost.
    pub OwnedReadHalf<S>,
    /// The write half passed to `reunite`, handed back: dropping it here
    /// would shut down its stream's write side.
    pub OwnedWriteHalf<S>,
);

pub(crate) fn split<S>(stream: &mut S) -> (ReadHalf<'_, S>, WriteHalf<'_, S>) {
    (ReadHalf { stream }, WriteHalf { stream })
}

pub(crate) fn into_split<S: SplitStream>(stream: S) -> (OwnedReadHalf<S>, OwnedWriteHalf<S>) {
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

impl<S: SplitStream> OwnedReadHalf<S> {
    /// Reads now if the stream is known to be readable, else
    /// `WouldBlock`: with [`readable`](OwnedReadHalf::readable), a read
    /// loop that needs no `&mut`.
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.stream.try_read_priv(buf)
    }

    /// Waits until the stream is readable (or closed, or in error).
    pub async fn readable(&self) -> io::Result<()> {
        self.stream.readable().await
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<S::Addr> {
        self.stream.peer_addr()
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<S::Addr> {
        self.stream.local_addr()
    }

    /// Puts the halves back together, if they came from the same stream.
    pub fn reunite(self, mut other: OwnedWriteHalf<S>) -> Result<S, ReuniteError<S>> {
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

impl<S: SplitStream> OwnedWriteHalf<S> {
    /// Writes now if the stream is known to be writable, else
    /// `WouldBlock`: with [`writable`](OwnedWriteHalf::writable), a write
    /// loop that needs no `&mut`.
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.stream.try_write_priv(buf)
    }

    /// Waits until the stream is writable (or closed, or in error).
    pub async fn writable(&self) -> io::Result<()> {
        self.stream.writable().await
    }

    /// Shuts down the write side now: the peer reads end-of-stream, and
    /// later writes fail with `BrokenPipe`.
    pub fn shutdown(&self) -> io::Result<()> {
        self.stream.shutdown_write()
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<S::Addr> {
        self.stream.peer_addr()
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<S::Addr> {
        self.stream.local_addr()
    }

    /// Puts the halves back together (see [`OwnedReadHalf::reunite`]).
    pub fn reunite(self, other: OwnedReadHalf<S>) -> Result<S, ReuniteError<S>> {
        other.reunite(self)
    }
}

impl<S: SplitStream> Drop for OwnedWriteHalf<S> {
    fn drop(&mut self) {
        if self.shutdown_on_drop {
            // The peer may already be gone; nothing useful to do about it.
            let _ = self.stream.shutdown_write();
        }
    }
}

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

            /// One `sendmsg` for all of `bufs`, as the whole stream's.
            /// Without it the trait's default wrote only the first non-empty
            /// slice per call: a frame's header and body went out as two
            /// sends, and Nagle could hold the body back until the peer's
            /// delayed ACK of the header.
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

impl<S: SplitStream> fmt::Debug for ReuniteError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReuniteError(..)")
    }
}

impl<S: SplitStream> fmt::Display for ReuniteError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tried to reunite halves that are not from the same stream")
    }
}

impl<S: SplitStream> std::error::Error for ReuniteError<S> {}
