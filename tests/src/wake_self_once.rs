//! A future that is ready again as soon as it has yielded.

use std::future::poll_fn;
use std::task::Poll;

/// Wakes its own waker, returns `Pending` once, then completes: what
/// `futures_lite`'s `yield_now` does, what a future whose coop budget ran out
/// does, and the shape of a task whose socket never runs dry. A task looping
/// on it is always in the run queue, so only the runtime's fairness lets
/// anything else run.
pub async fn wake_self_once() {
    let mut woke = false;
    poll_fn(|cx| {
        if woke {
            return Poll::Ready(());
        }
        woke = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await;
}
