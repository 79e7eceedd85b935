//! [`FirstPanic`]: run every call of a batch, re-raise the first panic after.

use std::any::Any;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

use crate::drop_quietly;

/// The first panic of a batch of calls that must all run.
///
/// Waking is such a batch: a waker is foreign code (another executor's,
/// a test's), and one that panics must not cost the others their wake-up.
/// A resource's wakers (`ScheduledIo::wake_linked`), the driver's
/// shutdown, the runtime's shutdown, fired timers and deferred yields,
/// and the signal listeners all wake through one. (The driver's turn has its own guard,
/// `Dispatch` in eddy-io-driver, for the same bug: a panic in one waker
/// unwound out of the turn and every later event of the same
/// `epoll_wait` was dropped; edge-triggered polling never reports them
/// again, so their tasks slept forever.)
///
/// Each call runs under `catch_unwind`; the first payload is kept, later
/// ones are dropped (through [`drop_quietly`]: a payload's own `Drop` may
/// panic), and [`resume`](FirstPanic::resume) re-raises the kept
/// one once the batch is done. On the path where nothing panics a
/// `catch_unwind` costs no instructions, only a landing pad.
#[derive(Default)]
pub struct FirstPanic {
    /// The payload of the first call that panicked, if any did.
    payload: Option<Box<dyn Any + Send>>,
}

impl FirstPanic {
    /// Nothing caught yet.
    pub fn new() -> FirstPanic {
        FirstPanic::default()
    }

    /// Runs `f`, keeping its panic if it is the batch's first.
    #[inline]
    pub fn run(&mut self, f: impl FnOnce()) {
        if let Err(payload) = catch_unwind(AssertUnwindSafe(f)) {
            if self.payload.is_none() {
                self.payload = Some(payload);
            } else {
                drop_quietly(payload);
            }
        }
    }

    /// Re-raises the first panic caught, if any. Call when the batch is
    /// done.
    #[inline]
    pub fn resume(self) {
        if let Some(payload) = self.payload {
            resume_unwind(payload);
        }
    }
}

impl fmt::Debug for FirstPanic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FirstPanic")
            .field("panicked", &self.payload.is_some())
            .finish()
    }
}
