//! What the runtime needs from a task, whatever its future type.

use std::sync::Arc;

use super::Header;

/// A type-erased task, as the run queues and the task slab hold it.
pub(crate) trait Runnable: Send + Sync {
    /// The state, slab key and runtime shared by every task.
    fn header(&self) -> &Header;

    /// Polls the future once (or drops it if the task was aborted).
    ///
    /// # Safety
    ///
    /// Only the thread that runs the task's runtime may call this: the
    /// future may be `!Send` and is touched by nobody else. And never while
    /// another `run` or `cancel` of the same task is in progress (from its
    /// own poll or drop): `run` holds `&mut` to the future across the poll.
    /// The loop keeps both: it runs one task at a time and is never entered
    /// from a poll (`block_on` inside a runtime panics, and shutdown needs
    /// the `Runtime` by value).
    unsafe fn run(self: Arc<Self>) -> RunOutcome;

    /// Drops the future without polling it and tells the handle the task
    /// was cancelled (or, if the future's `Drop` panicked, that panic).
    /// Re-raises a panic of the handle's waker once the task is complete.
    /// Does nothing if the task already completed.
    ///
    /// # Safety
    ///
    /// As for [`Runnable::run`]: on the runtime's thread, and not during a
    /// `run` or `cancel` of the same task. One exception: a task that no
    /// runtime has seen (in no queue, with no waker, so no other thread can
    /// reach its future) and whose future is `Send` may be cancelled on the
    /// thread that built it (`Handle::spawn` refused by a closed runtime).
    unsafe fn cancel(&self);
}

/// What one `run` did, so the runtime knows whether to forget the task.
#[derive(Debug)]
pub(crate) enum RunOutcome {
    /// The future is still pending; a waker holds the way back.
    Pending,
    /// The future finished, panicked or was aborted during this run: the
    /// runtime removes the task from its slab, at this key (`None`: the
    /// task was never given one). The key comes back here so the loop
    /// does not have to ask the type-erased task for it on every poll.
    ///
    /// The second field is the panic of the `JoinHandle`'s waker, if it
    /// panicked when told (a foreign executor's waker): the runtime
    /// forgets the task first and re-raises it after. Unwinding straight
    /// out of `run` would leave the finished task in the slab for good.
    Finished(Option<usize>, Option<Box<dyn std::any::Any + Send>>),
    /// The task had already completed before this run (a stale queue entry).
    AlreadyComplete,
}

impl std::fmt::Debug for dyn Runnable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Task")
            .field("key", &self.header().key())
            .finish_non_exhaustive()
    }
}
