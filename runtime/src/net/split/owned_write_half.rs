//! [`OwnedWriteHalf`]: the write half `into_split` gives away, and
//! `into_split` itself.

use std::io;
use std::sync::Arc;

use super::{OwnedReadHalf, ReuniteError, SplitStream};

/// The owned write half from `into_split`. Dropping it shuts down the
/// write side, so the peer sees end-of-stream.
#[derive(Debug)]
pub struct OwnedWriteHalf<S: SplitStream> {
    /// The stream, shared with the read half.
    pub(super) stream: Arc<S>,
    /// Cleared by `reunite`, which must not leave the stream half-closed.
    pub(super) shutdown_on_drop: bool,
}

impl<S: SplitStream> OwnedWriteHalf<S> {
    /// Writes now if the stream is known to be writable, else
    /// `WouldBlock`: with [`writable`](OwnedWriteHalf::writable), a write
    /// loop that needs no `&mut`.
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.stream.try_write_priv(buf)
    }

    /// Waits until the stream is writable (or closed, or in error). It may
    /// also complete when `try_write` would still return `WouldBlock`.
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
