//! [`EddyExecutor`]: hyper's `Executor` as `eddy::spawn`.

use std::future::Future;

use hyper::rt::Executor;

/// Lets hyper start background tasks on the eddy runtime of the calling
/// thread: `execute` is [`eddy::spawn`] with the join handle dropped (the
/// task runs on, detached).
///
/// hyper asks for an executor where a connection needs tasks of its own:
/// HTTP/2 (one per stream) and the client's connection pool. The HTTP/1
/// server in this crate's example needs none, but the adapter is part of
/// the set that lets hyper run on eddy.
///
/// Unlike tokio's multi-threaded executor it accepts futures that are not
/// `Send`: eddy runs every task on one thread.
///
/// # Panics
///
/// `execute` panics when called outside an eddy runtime, as
/// [`eddy::spawn`] does: there would be nothing to run the task.
#[derive(Clone, Copy, Debug, Default)]
pub struct EddyExecutor;

impl<F> Executor<F> for EddyExecutor
where
    F: Future + 'static,
    F::Output: 'static,
{
    fn execute(&self, future: F) {
        // Dropping the JoinHandle detaches the task; it is not cancelled.
        drop(eddy::spawn(future));
    }
}
