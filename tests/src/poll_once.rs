//! One poll of a future, from inside a task.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::Poll;

/// Polls `future` exactly once, with the calling task's waker, and returns
/// what it answered: how a test proves that an operation completes at once
/// rather than after some wake.
pub async fn poll_once<F: Future>(mut future: Pin<&mut F>) -> Poll<F::Output> {
    poll_fn(|cx| Poll::Ready(future.as_mut().poll(cx))).await
}
