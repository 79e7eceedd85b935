//! [`SplitStream`]: what a byte stream gives its halves and its
//! `futures-io` impls.

use std::fmt;
use std::future::Future;
use std::io;
use std::task::{Context, Poll};

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
