//! The handle a spawn returns.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::{JoinError, JoinSlot};

/// What a `JoinHandle` needs from the thing it joins: a spawned task or a
/// blocking job.
pub(crate) trait JoinTarget<T>: Send + Sync {
    /// Where the outcome is left.
    fn slot(&self) -> &JoinSlot<T>;
    /// Asks the work to stop (a no-op once it finished).
    fn abort(self: Arc<Self>);
}

/// An owned permission to wait for a spawned task's result.
///
/// Awaiting it gives `Ok(value)` when the task finished, or a [`JoinError`]
/// when it panicked or was cancelled (aborted, or still pending when the
/// runtime shut down). Dropping the handle *detaches* the task: it keeps
/// running and its output is dropped when it finishes (or at once, if it
/// already has). A panic in that output's `Drop` goes nowhere: nobody
/// would read it, and `JoinHandle`'s own drop never panics.
///
/// Cancel safe: awaiting `&mut handle` as the losing side of a race takes
/// nothing; the task runs on, and a later await gets its output.
///
/// ```
/// eddy::run(async {
///     let task = eddy::spawn(async { "done" });
///     assert_eq!(task.await.unwrap(), "done");
///
///     // A panic ends the task, not the runtime.
///     let task = eddy::spawn(async { panic!("boom") });
///     assert!(task.await.unwrap_err().is_panic());
/// });
/// ```
///
/// The handle is `Send` when `T` is, so the result of a task spawned with
/// [`Handle::spawn`](crate::Handle::spawn) can be awaited on any thread;
/// and only then, for the output travels to the thread that awaits it:
///
/// ```compile_fail
/// fn send<T: Send>(_: T) {}
/// let rt = eddy::Runtime::new().unwrap();
/// send(rt.spawn(async { std::rc::Rc::new(1) }));
/// ```
pub struct JoinHandle<T> {
    /// The task (or blocking job) behind the handle.
    target: Arc<dyn JoinTarget<T>>,
    /// Makes the handle `Send`/`Sync` only when `T` is: the output travels
    /// to whichever thread awaits the handle.
    _output: PhantomData<T>,
}

impl<T> JoinHandle<T> {
    pub(crate) fn new(target: Arc<dyn JoinTarget<T>>) -> JoinHandle<T> {
        JoinHandle {
            target,
            _output: PhantomData,
        }
    }

    /// Cancels the task: the runtime drops its future the next time it would
    /// poll it, and the handle resolves to a cancelled [`JoinError`]. Does
    /// nothing if the task already finished. A task aborted while it is
    /// being polled (by itself, or from another thread) stops at its next
    /// suspension point; if that poll finishes it instead, the handle gets
    /// its output, as tokio's does. A blocking job that already started
    /// cannot be stopped and runs to the end.
    ///
    /// ```
    /// eddy::run(async {
    ///     let task = eddy::spawn(std::future::pending::<()>());
    ///     task.abort();
    ///     let error = task.await.unwrap_err();
    ///     assert!(error.is_cancelled());
    /// });
    /// ```
    pub fn abort(&self) {
        self.target.clone().abort();
    }

    /// Whether the task has ended (finished, panicked or been cancelled)
    /// and its outcome is in: once this returns `true`, awaiting the handle
    /// completes at once.
    ///
    /// It reads the slot the outcome is left in, not the task's state: the
    /// runtime marks a task complete a moment before it stores the output,
    /// and a caller on another thread that saw the mark, then polled the
    /// handle once, found it still pending.
    ///
    /// ```
    /// eddy::run(async {
    ///     let task = eddy::spawn(async { 1 });
    ///     assert!(!task.is_finished()); // spawned, not yet run
    ///     eddy::task::yield_now().await; // the runtime runs it meanwhile
    ///     assert!(task.is_finished());
    ///     assert_eq!(task.await.unwrap(), 1); // at once
    /// });
    /// ```
    pub fn is_finished(&self) -> bool {
        self.target.slot().has_outcome()
    }
}

// The handle never pins its output: it only moves `T` out of the slot by
// value. Without this, a `!Unpin` output would make the handle `!Unpin` and
// force callers to box it before polling.
impl<T> Unpin for JoinHandle<T> {}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.target.slot().poll(cx)
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        self.target.slot().drop_handle();
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("is_finished", &self.is_finished())
            .finish()
    }
}
