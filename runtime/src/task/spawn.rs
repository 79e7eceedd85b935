//! The free functions users spawn with.

use std::future::Future;

use super::{JoinHandle, TaskCell, UninitTask};
use crate::runtime::context;

/// Spawns a task on the runtime running on this thread.
///
/// The future need not be `Send`: eddy runs every task on one thread. The
/// task starts at the runtime's next tick; the returned [`JoinHandle`]
/// resolves to its output. A panic in the task is caught and reported
/// through the handle; the runtime keeps running.
///
/// Called while the runtime shuts down (from the `Drop` of one of its
/// futures), it refuses the task: the future is dropped before `spawn`
/// returns, and the handle resolves to a cancelled
/// [`JoinError`](crate::task::JoinError) (a panicked one if that drop
/// panics). So a future whose `Drop` always
/// spawns another like itself recurses there until the stack overflows.
///
/// ```
/// use std::rc::Rc;
///
/// eddy::run(async {
///     let shared = Rc::new(5); // not Send, and that is fine
///     let task = eddy::spawn(async move { *shared * 2 });
///     assert_eq!(task.await.unwrap(), 10);
/// });
/// ```
///
/// # Panics
///
/// Panics when called outside a runtime (there is nothing to run the task).
/// From another thread, use [`Handle::spawn`](crate::Handle::spawn).
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    // Allocated before `future` moves, and filled here, not in a closure or
    // a helper taking the future: each move would be a copy (see
    // `UninitTask`).
    let task = UninitTask::allocate();
    // SAFETY: `core` is used only in this call.
    let Some(core) = (unsafe { context::current_core() }) else {
        panic!(
            "eddy::spawn called outside an eddy runtime: call it inside `block_on` or a task, \
             or use `Handle::spawn` from other threads"
        )
    };
    let task = TaskCell::init(task, future, core.shared_arc().clone());
    // SAFETY: built just now, for the runtime of this thread, and published
    // nowhere.
    unsafe { core.spawn_task(task) }
}

/// Runs blocking code (file I/O, CPU-heavy work, a blocking library) on a
/// pool thread, so the runtime's own thread keeps serving tasks.
///
/// The pool starts threads on demand (at most
/// [`Builder::max_blocking_threads`](crate::Builder::max_blocking_threads))
/// and retires them when idle. A panic in `f` is reported through the handle.
/// A job the pool cannot take never runs, and its handle resolves to a
/// cancelled [`JoinError`](crate::task::JoinError): once the runtime's
/// shutdown has closed the pool (after every task's future is dropped; a
/// job spawned from such a drop is still taken and run, as in tokio), or
/// when no pool thread is alive and the OS refuses to
/// start one (out of memory or threads; tokio panics there instead). With
/// threads alive, a refused start just queues the job for them.
/// Dropping the runtime does not wait for blocking jobs (see
/// [`Runtime`](crate::Runtime)).
///
/// `f` runs outside the runtime: `eddy::spawn` and `Handle::current` there
/// panic (tokio's blocking threads enter their runtime; eddy's do not).
/// To hand work back, move a [`Handle`](crate::Handle) into the closure
/// and use [`Handle::spawn`](crate::Handle::spawn).
///
/// ```
/// eddy::run(async {
///     let sum = eddy::task::spawn_blocking(|| (1..=10u64).sum::<u64>()).await.unwrap();
///     assert_eq!(sum, 55);
/// });
/// ```
///
/// # Panics
///
/// Panics when called outside a runtime. From another thread, use
/// [`Handle::spawn_blocking`](crate::Handle::spawn_blocking).
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let Some(pool) = context::with_core(|core| core.shared().blocking().clone()) else {
        panic!("eddy::task::spawn_blocking called outside an eddy runtime");
    };
    crate::blocking::spawn(&pool, f)
}
