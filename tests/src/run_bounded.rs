//! Running a future on a fresh runtime, bounded in time.

use std::future::Future;
use std::time::Duration;

use crate::with_deadline;

/// Builds the future with `body` and runs it to completion on a fresh
/// runtime ([`eddy::run`]) on its own thread, failing the test if it has not
/// finished after `limit` (see [`with_deadline`]).
///
/// The future is built on that thread, so it need not be `Send`; only the
/// closure that builds it and its output cross threads.
///
/// # Panics
///
/// Panics if the future panics (re-raising its payload), if the runtime
/// cannot start, or if it runs past `limit`.
pub fn run_bounded<F, Fut>(limit: Duration, body: F) -> Fut::Output
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future,
    Fut::Output: Send + 'static,
{
    with_deadline(limit, move || eddy::run(body()))
}
