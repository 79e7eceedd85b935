//! Giving the rest of the runtime a turn.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::runtime::context;

/// Yields to the runtime: the task is resumed after the runtime has polled
/// the I/O driver once more, so a task that yields in a loop cannot starve
/// sockets or timers.
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
///
/// eddy::run(async {
///     let done = Rc::new(Cell::new(false));
///     let task = eddy::spawn({
///         let done = done.clone();
///         async move { done.set(true) }
///     });
///     assert!(!done.get()); // spawned, not run yet
///     eddy::task::yield_now().await; // the task runs meanwhile
///     assert!(done.get());
/// #   task.await.unwrap();
/// });
/// ```
pub async fn yield_now() {
    YieldNow { yielded: false }.await
}

/// The future behind [`yield_now`].
struct YieldNow {
    /// Whether the first poll already deferred the task.
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        context::defer(cx.waker());
        Poll::Pending
    }
}
