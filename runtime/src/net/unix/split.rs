//! The halves of a `UnixStream`: the shared stream halves of `net::split`
//! named for Unix streams.
//!
//! [`UnixStream::split`] lends both halves for use inside one task;
//! [`UnixStream::into_split`] gives owned halves that can move to different
//! tasks. See [`net::split`](crate::net::split) for how the halves share
//! the socket.

use std::future::Future;
use std::io;
use std::net::Shutdown;
use std::os::unix::net::SocketAddr;
use std::task::{Context, Poll};

use super::UnixStream;
use crate::net::split::{self as generic, SplitStream};

pub(super) use generic::{into_split, split};

/// The read half of a borrowed [`UnixStream::split`].
pub type ReadHalf<'a> = generic::ReadHalf<'a, UnixStream>;

/// The write half of a borrowed [`UnixStream::split`].
pub type WriteHalf<'a> = generic::WriteHalf<'a, UnixStream>;

/// The owned read half from [`UnixStream::into_split`].
pub type OwnedReadHalf = generic::OwnedReadHalf<UnixStream>;

/// The owned write half from [`UnixStream::into_split`]. Dropping it shuts
/// down the write side, so the peer sees end-of-stream.
pub type OwnedWriteHalf = generic::OwnedWriteHalf<UnixStream>;

/// The error `reunite` returns when the halves came from different
/// `UnixStream`s; it hands both back in `.0` and `.1`.
pub type ReuniteError = generic::ReuniteError<UnixStream>;

impl SplitStream for UnixStream {
    type Addr = SocketAddr;

    fn poll_read_priv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        UnixStream::poll_read_priv(self, cx, buf)
    }

    fn poll_write_priv(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        UnixStream::poll_write_priv(self, cx, buf)
    }

    fn poll_shutdown_write(&self) -> Poll<io::Result<()>> {
        UnixStream::poll_shutdown_write(self)
    }

    fn shutdown_write(&self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }

    fn readable(&self) -> impl Future<Output = io::Result<()>> + '_ {
        UnixStream::readable(self)
    }

    fn writable(&self) -> impl Future<Output = io::Result<()>> + '_ {
        UnixStream::writable(self)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        UnixStream::local_addr(self)
    }

    fn peer_addr(&self) -> io::Result<SocketAddr> {
        UnixStream::peer_addr(self)
    }
}
