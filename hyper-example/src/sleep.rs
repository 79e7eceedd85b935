//! [`EddySleep`]: an eddy timer as a hyper `Sleep`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

/// An [`eddy::time::Sleep`] that hyper can hold as a `Pin<Box<dyn
/// hyper::rt::Sleep>>`. Built by [`EddyTimer`](crate::EddyTimer).
///
/// A wrapper, because Rust's orphan rule forbids implementing hyper's trait
/// for eddy's type in a third crate. hyper's `Sleep` must be `Send + Sync`,
/// and eddy's `Sleep` is both (and `Unpin`), so the wrapper adds nothing.
#[derive(Debug)]
pub struct EddySleep {
    /// The eddy timer that does the waiting.
    inner: eddy::time::Sleep,
}

impl EddySleep {
    /// Wraps `inner`.
    pub(crate) fn new(inner: eddy::time::Sleep) -> EddySleep {
        EddySleep { inner }
    }

    /// Moves the deadline, keeping the timer entry (see
    /// [`eddy::time::Sleep::reset`]).
    pub(crate) fn reset(&mut self, deadline: Instant) {
        Pin::new(&mut self.inner).reset(deadline);
    }
}

impl Future for EddySleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.get_mut().inner).poll(cx)
    }
}

impl hyper::rt::Sleep for EddySleep {}
