//! The halves of a `TcpStream`: the shared stream halves of `net::split`
//! named for TCP, plus TCP's `peek`.
//!
//! [`TcpStream::split`] lends both halves for use inside one task;
//! [`TcpStream::into_split`] gives owned halves that can move to different
//! tasks. See [`net::split`](crate::net::split) for how the halves share
//! the socket.

use std::future::Future;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::task::{Context, Poll};

use super::TcpStream;
use crate::net::split::{self as generic, SplitStream};

pub(super) use generic::{into_split, split};

/// The read half of a borrowed [`TcpStream::split`].
pub type ReadHalf<'a> = generic::ReadHalf<'a, TcpStream>;

/// The write half of a borrowed [`TcpStream::split`].
pub type WriteHalf<'a> = generic::WriteHalf<'a, TcpStream>;

/// The owned read half from [`TcpStream::into_split`].
pub type OwnedReadHalf = generic::OwnedReadHalf<TcpStream>;

/// The owned write half from [`TcpStream::into_split`]. Dropping it shuts
/// down the write side, so the peer sees end-of-stream.
pub type OwnedWriteHalf = generic::OwnedWriteHalf<TcpStream>;

/// The error `reunite` returns when the halves came from different
/// `TcpStream`s; it hands both back in `.0` and `.1`.
pub type ReuniteError = generic::ReuniteError<TcpStream>;

impl SplitStream for TcpStream {
    type Addr = SocketAddr;

    fn poll_read_priv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        TcpStream::poll_read_priv(self, cx, buf)
    }

    fn poll_write_priv(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        TcpStream::poll_write_priv(self, cx, buf)
    }

    fn poll_shutdown_write(&self) -> Poll<io::Result<()>> {
        TcpStream::poll_shutdown_write(self)
    }

    fn shutdown_write(&self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }

    fn readable(&self) -> impl Future<Output = io::Result<()>> + '_ {
        TcpStream::readable(self)
    }

    fn writable(&self) -> impl Future<Output = io::Result<()>> + '_ {
        TcpStream::writable(self)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        TcpStream::local_addr(self)
    }

    fn peer_addr(&self) -> io::Result<SocketAddr> {
        TcpStream::peer_addr(self)
    }
}

impl ReadHalf<'_> {
    /// See [`TcpStream::peek`].
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.stream.peek(buf).await
    }
}

impl OwnedReadHalf {
    /// See [`TcpStream::peek`].
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.stream.peek(buf).await
    }
}
