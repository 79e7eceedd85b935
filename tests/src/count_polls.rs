//! A future wrapper that counts how often it is polled.

use std::cell::Cell;
use std::future::{Future, poll_fn};
use std::rc::Rc;

/// Runs `future`, adding one to `polls` every time it is polled.
///
/// How a test tells a task that waits from one that spins: over any stretch
/// of time in which nothing happens to it, a waiting task is polled once
/// (or not at all), while a spinning one is polled again after every spent
/// budget, thousands of times. The count, unlike CPU time, does not depend
/// on how busy the machine is.
pub fn count_polls<F: Future>(polls: Rc<Cell<u64>>, future: F) -> impl Future<Output = F::Output> {
    let mut future = Box::pin(future);
    poll_fn(move |cx| {
        polls.set(polls.get() + 1);
        future.as_mut().poll(cx)
    })
}
