//! [`Direction`]: which of the two stored wakers a poll uses.

use crate::{Interest, Ready};

/// The half of a resource a `poll_readiness` caller waits on.
///
/// Each direction has one waker slot in the `ScheduledIo`: the reader (for
/// example `poll_read`) and the writer (`poll_write`) of a socket are usually
/// different tasks, and neither may evict the other's waker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Waiting to read.
    Read,
    /// Waiting to write.
    Write,
}

impl Direction {
    /// The interest this direction stands for.
    pub fn interest(self) -> Interest {
        match self {
            Direction::Read => Interest::READABLE,
            Direction::Write => Interest::WRITABLE,
        }
    }

    /// The readiness bits that complete a poll in this direction: the same
    /// as [`Interest::mask`] of [`Direction::interest`].
    pub fn mask(self) -> Ready {
        self.interest().mask()
    }
}
