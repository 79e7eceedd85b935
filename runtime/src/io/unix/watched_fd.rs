//! [`WatchedFd`]: the descriptor an `AsyncFd` registers with the driver.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use mio::event::Source;
use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};

/// A duplicate of the wrapped descriptor, owned by the `AsyncFd`, and the
/// only descriptor it registers with the OS poller.
///
/// Not the user's descriptor itself: one closed or swapped through
/// `AsyncFd::get_mut` while a `try_clone` kept its file open left an epoll
/// registration (which belongs to the pair open file, number) that no
/// number could remove, and its events carried the address of a released
/// `ScheduledIo` (io rule 8; RELIABILITY, "Memory safety of the
/// registration API"). No one else can close or replace this duplicate,
/// so removing it always works.
#[derive(Debug)]
pub(super) struct WatchedFd(OwnedFd);

impl WatchedFd {
    /// Takes `duplicate`, made close-on-exec (std's `try_clone_to_owned`)
    /// so that a child process never inherits it and keeps a pipe open
    /// behind the user's back.
    pub(super) fn new(duplicate: OwnedFd) -> WatchedFd {
        WatchedFd(duplicate)
    }
}

impl AsFd for WatchedFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

// Every method hands its call to mio's `SourceFd` over the owned
// duplicate: one descriptor, registered under the token given, nothing
// left behind when the OS refuses it (what `Registration::new` requires).
impl Source for WatchedFd {
    fn register(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        SourceFd(&self.0.as_raw_fd()).register(registry, token, interests)
    }

    fn reregister(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        SourceFd(&self.0.as_raw_fd()).reregister(registry, token, interests)
    }

    fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        SourceFd(&self.0.as_raw_fd()).deregister(registry)
    }
}
