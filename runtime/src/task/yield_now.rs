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
/// eddy::run(async {
///     for _ in 0..3 {
///         eddy::task::yield_now().await;
///     }
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

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        context::defer(cx.waker());
        Poll::Pending
    }
}
