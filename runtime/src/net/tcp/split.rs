//! The halves of a `TcpStream`: the shared stream halves of `net::split`
//! named for TCP, plus TCP's `peek`.
//!
//! [`TcpStream::split`] lends both halves for use inside one task;
//! [`TcpStream::into_split`] gives owned halves that can move to different
//! tasks. See [`net::split`](crate::net::split) for how the halves share
//! the socket.

use std::io;

use super::TcpStream;
use crate::net::split as generic;

pub(super) use generic::{into_split, split};

/// The read half of a borrowed [`TcpStream::split`].
pub type ReadHalf<'a> = generic::ReadHalf<'a, TcpStream>;

/// The write half of a borrowed [`TcpStream::split`].
/// Dropping it shuts nothing down; `poll_close` shuts down the write side.
pub type WriteHalf<'a> = generic::WriteHalf<'a, TcpStream>;

/// The owned read half from [`TcpStream::into_split`].
pub type OwnedReadHalf = generic::OwnedReadHalf<TcpStream>;

/// The owned write half from [`TcpStream::into_split`]. Dropping it shuts
/// down the write side, so the peer sees end-of-stream.
pub type OwnedWriteHalf = generic::OwnedWriteHalf<TcpStream>;

/// The error `reunite` returns when the halves came from different
/// `TcpStream`s; it hands both back in `.0` and `.1`.
pub type ReuniteError = generic::ReuniteError<TcpStream>;

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
