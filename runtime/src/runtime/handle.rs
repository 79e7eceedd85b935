//! Reaching a runtime from anywhere.

use std::future::Future;
use std::sync::Arc;

use super::{Shared, context};
use crate::Metrics;
use crate::task::{JoinHandle, TaskCell, UninitTask};

/// A cheap, cloneable, `Send + Sync` reference to a runtime: spawn `Send`
/// tasks and blocking jobs on it from any thread, and read its metrics.
///
/// ```
/// let rt = eddy::Runtime::new().unwrap();
/// let handle = rt.handle();
/// let from_thread = std::thread::spawn(move || handle.spawn(async { 7 }))
///     .join()
///     .unwrap();
/// assert_eq!(rt.block_on(from_thread).unwrap(), 7);
/// ```
///
/// Embedding: run the runtime's `block_on` on a thread of your own, with a
/// main future that waits for a stop message, and spawn work onto it from
/// anywhere. A [`JoinHandle`] is `Send` and wakes across threads, so a plain
/// thread can wait for one with any small executor's `block_on` (for
/// example `futures_lite::future::block_on(handle.spawn(work))`); eddy has
/// no `Handle::block_on`. `examples/embed.rs` is the whole pattern.
#[derive(Clone, Debug)]
pub struct Handle {
    /// The runtime's cross-thread half.
    shared: Arc<Shared>,
}

impl Handle {
    pub(crate) fn new(shared: Arc<Shared>) -> Handle {
        Handle { shared }
    }

    /// The handle of the runtime running on this thread.
    ///
    /// ```
    /// eddy::run(async {
    ///     let handle = eddy::Handle::current();
    ///     // For a thread that has blocking work and results to hand back.
    ///     let worker = std::thread::spawn(move || handle.spawn(async { "back on the runtime" }));
    ///     let task = worker.join().unwrap();
    ///     assert_eq!(task.await.unwrap(), "back on the runtime");
    /// });
    /// ```
    ///
    /// # Panics
    ///
    /// Panics outside a runtime; see [`Handle::try_current`].
    pub fn current() -> Handle {
        Handle::try_current().expect(
            "eddy::Handle::current() called outside an eddy runtime (in `block_on` or a task)",
        )
    }

    /// The handle of the runtime running on this thread, if any.
    ///
    /// ```
    /// assert!(eddy::Handle::try_current().is_none());
    /// eddy::run(async {
    ///     assert!(eddy::Handle::try_current().is_some());
    /// });
    /// ```
    pub fn try_current() -> Option<Handle> {
        context::with_core(|core| Handle::new(core.shared_arc().clone()))
    }

    /// Spawns a `Send` task from any thread, waking the runtime if it is
    /// parked. On the runtime's own thread this is [`crate::spawn`]. If the
    /// runtime has shut down, the future is dropped and the handle resolves
    /// to a cancelled [`JoinError`](crate::task::JoinError) (a panicked one
    /// if that drop panics).
    ///
    /// The task runs while the runtime's thread is inside
    /// [`block_on`](crate::Runtime::block_on): spawned between two calls,
    /// it waits for the next one (a thread blocked on its `JoinHandle`
    /// waits too), and it is cancelled if the runtime is dropped first.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = eddy::Runtime::new()?;
    /// let handle = rt.handle();
    /// let worker = std::thread::spawn(move || {
    ///     // Not the runtime's thread: the task is queued for it.
    ///     handle.spawn(async {
    ///         eddy::time::sleep(Duration::from_millis(1)).await;
    ///         "slept on the runtime"
    ///     })
    /// });
    /// let task = worker.join().unwrap();
    /// assert_eq!(rt.block_on(task).unwrap(), "slept on the runtime");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        // Allocated before `future` moves, as in `crate::spawn`.
        let task = TaskCell::init(UninitTask::allocate(), future, self.shared.clone());
        if !context::is_current(&self.shared) {
            return self.spawn_remote(task);
        }
        // SAFETY: built just now, for this runtime, which runs on this
        // thread; published nowhere.
        context::with_core(|core| unsafe { core.spawn_task(task) })
            .expect("is_current implies a runtime on this thread")
    }

    /// Runs blocking code on the runtime's blocking pool, from any thread:
    /// on the runtime's own thread this is
    /// [`task::spawn_blocking`](crate::task::spawn_blocking), and its docs
    /// (thread limit, panics, abort) hold here too. The job needs no
    /// `block_on` to run: it starts on a pool thread at once, and the
    /// [`JoinHandle`] can be awaited by a task of any runtime or by a plain
    /// thread with any small executor.
    ///
    /// If the runtime has shut down (from before
    /// [`is_shutdown`](Handle::is_shutdown) reads true), `f` is dropped
    /// without running (on this thread, before the call returns) and the
    /// handle resolves to a cancelled [`JoinError`](crate::task::JoinError),
    /// as tokio's does. So it does when no pool thread is alive and the OS
    /// refuses to start one (tokio panics there); then every job queued
    /// meanwhile, from any thread, is refused with it, its closure dropped
    /// on the thread whose start failed. A job spawned while the runtime's
    /// drop is under way, before the drop closes the pool (as soon as it
    /// has dropped every task's future), still runs, and the drop does not
    /// wait for it.
    ///
    /// ```
    /// let rt = eddy::Runtime::new().unwrap();
    /// let handle = rt.handle();
    /// // A thread that is not the runtime's starts a job, and a task awaits it.
    /// let job = std::thread::spawn(move || handle.spawn_blocking(|| 6 * 7))
    ///     .join()
    ///     .unwrap();
    /// assert_eq!(rt.block_on(job).unwrap(), 42);
    ///
    /// // Once the runtime is gone, the job is refused and its handle says so.
    /// let handle = rt.handle();
    /// drop(rt);
    /// let late = handle.spawn_blocking(|| 1);
    /// // Any executor can wait for it: here, another runtime.
    /// let error = eddy::Runtime::new().unwrap().block_on(late).unwrap_err();
    /// assert!(error.is_cancelled());
    /// ```
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        crate::blocking::spawn(self.shared.blocking(), f)
    }

    /// Queues `task` for the runtime from another thread.
    fn spawn_remote<F>(&self, task: Arc<TaskCell<F>>) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        if let Err(refused) = self.shared.push_remote(task.clone()) {
            // SAFETY: `cancel`'s off-thread exception: the push was
            // refused, so no runtime saw the task and nothing else can reach
            // its future, and `F: Send` lets it be dropped on this thread.
            unsafe { refused.cancel() };
        }
        JoinHandle::new(task)
    }

    /// A snapshot of the runtime's counters. On the runtime's own thread it
    /// is exact, but for [`Metrics::polls`], which is updated once per round
    /// of tasks; from other threads it is as of the runtime's last tick.
    ///
    /// ```
    /// let rt = eddy::Runtime::new()?;
    /// let handle = rt.handle();
    /// rt.block_on(async {
    ///     eddy::spawn(async {}).await.unwrap();
    ///     let _forever = eddy::spawn(std::future::pending::<()>());
    /// });
    /// // A monitoring thread reads the counters.
    /// let metrics = std::thread::spawn(move || handle.metrics()).join().unwrap();
    /// assert_eq!(metrics.tasks_spawned, 2);
    /// assert_eq!(metrics.tasks_alive, 1); // the pending one
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn metrics(&self) -> Metrics {
        context::with_core(|core| {
            if std::ptr::eq(core.shared(), &*self.shared) {
                core.publish_metrics();
            }
        });
        self.shared
            .metrics()
            .snapshot(self.shared.driver(), self.shared.blocking())
    }

    /// Whether the runtime has shut down: true from the moment its drop
    /// closes the queue other threads spawn into, which comes after it
    /// has dropped its tasks' futures (so a task's `Drop` run by the
    /// shutdown still reads false) and before the driver shuts down. Once
    /// it reads true, [`spawn_blocking`](Handle::spawn_blocking) refuses
    /// every job: the drop closes the blocking pool first.
    ///
    /// ```
    /// let rt = eddy::Runtime::new()?;
    /// let handle = rt.handle();
    /// assert!(!handle.is_shutdown());
    /// drop(rt);
    /// assert!(handle.is_shutdown());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_shutdown(&self) -> bool {
        self.shared.is_closed()
    }
}
