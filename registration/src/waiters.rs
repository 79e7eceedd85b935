//! [`Waiters`]: everyone waiting on one `ScheduledIo`, behind its mutex.

use std::fmt;
use std::task::Waker;

use crate::linked_list::LinkedList;
use crate::waiter::Waiter;

/// The wakers of one resource. Always accessed under `ScheduledIo`'s mutex.
#[derive(Default)]
pub(crate) struct Waiters {
    /// `Readiness` futures, each with its own interest; several tasks can
    /// wait on one resource this way.
    pub(crate) list: LinkedList<Waiter, Waiter>,
    /// The task that last polled for `Direction::Read`.
    pub(crate) reader: Option<Waker>,
    /// The task that last polled for `Direction::Write`.
    pub(crate) writer: Option<Waker>,
}

// `Waiters` is only reached through `ScheduledIo`'s mutex. The `Waiter`
// nodes its list points to are touched only under that same lock (their
// mutable state) or are immutable (their interest).
// SAFETY: so, the wakers they hold being `Send`, whichever thread holds the
// lock may use them.
unsafe impl Send for Waiters {}

impl fmt::Debug for Waiters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Waiters")
            .field("has_list_waiters", &!self.list.is_empty())
            .field("reader", &self.reader.is_some())
            .field("writer", &self.writer.is_some())
            .finish()
    }
}
