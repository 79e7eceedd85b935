//! The halves of a `UnixStream`: the shared stream halves of `net::split`
//! named for Unix streams.
//!
//! [`UnixStream::split`] lends both halves for use inside one task;
//! [`UnixStream::into_split`] gives owned halves that can move to different
//! tasks. See [`net::split`](crate::net::split) for how the halves share
//! the socket.

use super::UnixStream;
use crate::net::split as generic;

pub(super) use generic::{into_split, split};

/// The read half of a borrowed [`UnixStream::split`].
pub type ReadHalf<'a> = generic::ReadHalf<'a, UnixStream>;

/// The write half of a borrowed [`UnixStream::split`].
/// Dropping it shuts nothing down; `poll_close` shuts down the write side.
pub type WriteHalf<'a> = generic::WriteHalf<'a, UnixStream>;

/// The owned read half from [`UnixStream::into_split`].
pub type OwnedReadHalf = generic::OwnedReadHalf<UnixStream>;

/// The owned write half from [`UnixStream::into_split`]. Dropping it shuts
/// down the write side, so the peer sees end-of-stream.
pub type OwnedWriteHalf = generic::OwnedWriteHalf<UnixStream>;

/// The error `reunite` returns when the halves came from different
/// `UnixStream`s; it hands both back in `.0` and `.1`.
pub type ReuniteError = generic::ReuniteError<UnixStream>;
