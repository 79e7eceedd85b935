//! Waiting for a future with a deadline that wins every tie.

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

/// Runs `future` until it completes (`Some(output)`) or `limit` has passed
/// (`None`), inside an eddy runtime.
///
/// Unlike [`eddy::time::timeout`], the deadline is looked at first on every
/// poll: once it has passed, `future` is not polled again. With `timeout`,
/// the deadline's own timer polls the inner future one last time, and a
/// future that was ready all along but never woken (a lost wake-up)
/// completes then: the test passes, only slower. Here it fails.
pub async fn woken_within<F: Future>(limit: Duration, future: F) -> Option<F::Output> {
    let mut deadline = pin!(eddy::time::sleep(limit));
    let mut future = pin!(future);
    poll_fn(|cx| {
        if deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        future.as_mut().poll(cx).map(Some)
    })
    .await
}
