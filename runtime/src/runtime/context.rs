//! Which runtime, if any, is running on this thread.
//!
//! `eddy::spawn`, `yield_now`, timers and sockets find their runtime here
//! instead of taking a handle argument. The thread-local is a single
//! pointer, set while the runtime runs (`block_on`, shutdown) and restored
//! by a guard, so a wake on the runtime's own thread can reach the local run
//! queue without any lock.

use std::cell::Cell;
use std::io;
use std::marker::PhantomData;
use std::ptr::{self, NonNull};
use std::sync::Arc;
use std::task::Waker;

use super::{Core, Shared};
use crate::task::Runnable;
use crate::time::timers::Timers;

thread_local! {
    /// The core of the runtime running on this thread.
    static CURRENT: Cell<Option<NonNull<Core>>> = const { Cell::new(None) };
}

/// Restores the previous runtime (usually none) when dropped.
#[derive(Debug)]
pub(crate) struct EnterGuard<'a> {
    /// What `CURRENT` held before `enter`.
    previous: Option<NonNull<Core>>,
    /// Ties the guard to the borrow of the core it points to, and keeps it
    /// on this thread.
    _core: PhantomData<&'a Core>,
}

/// Makes `core` this thread's runtime until the guard is dropped.
pub(crate) fn enter(core: &Core) -> EnterGuard<'_> {
    let previous = CURRENT.with(|current| current.replace(Some(NonNull::from(core))));
    EnterGuard {
        previous,
        _core: PhantomData,
    }
}

impl Drop for EnterGuard<'_> {
    fn drop(&mut self) {
        CURRENT.with(|current| current.set(self.previous));
        crate::coop::lift();
    }
}

/// Runs `f` with this thread's runtime core, if a runtime is running here.
pub(crate) fn with_core<R>(f: impl FnOnce(&Core) -> R) -> Option<R> {
    // SAFETY: the reference is only lent to `f` and ends with this call.
    unsafe { current_core() }.map(f)
}

/// This thread's runtime core, if a runtime is running here: the one place
/// the pointer in `CURRENT` becomes a reference.
///
/// [`with_core`] is the safe way in. `spawn` uses this directly, because
/// moving a future into `with_core`'s closure copies it, and a server's
/// connection future is mostly its buffer.
///
/// # Safety
///
/// The reference must not outlive the caller's own call: not stored, not
/// held across an `.await`. The core lives as long as the `EnterGuard` that
/// published it, and that guard sits in a frame (`block_on`, `shutdown`)
/// beneath every call made while it is set, so any one call is covered.
#[inline]
pub(crate) unsafe fn current_core<'a>() -> Option<&'a Core> {
    let core = CURRENT.try_with(Cell::get).ok().flatten()?;
    // SAFETY: a pointer in `CURRENT` is backed by a live `EnterGuard` on
    // this thread, which outlives the caller's call (see above).
    Some(unsafe { core.as_ref() })
}

/// Whether a runtime is running on this thread.
pub(crate) fn is_inside_runtime() -> bool {
    with_core(|_| ()).is_some()
}

/// Pushes `task` on this thread's local run queue if this thread runs the
/// task's runtime; otherwise gives the task back.
#[inline]
pub(crate) fn push_local<T: Runnable + 'static>(task: Arc<T>) -> Result<(), Arc<dyn Runnable>> {
    let Ok(Some(core)) = CURRENT.try_with(Cell::get) else {
        return Err(task);
    };
    // SAFETY: as in `with_core`: a pointer in `CURRENT` is backed by a live
    // `EnterGuard` on this thread.
    let core = unsafe { core.as_ref() };
    if ptr::eq(core.shared(), &*task.header().shared) {
        core.push_local(task)
    } else {
        Err(task)
    }
}

/// Whether this thread is running the runtime `shared` belongs to.
pub(crate) fn is_current(shared: &Shared) -> bool {
    with_core(|core| ptr::eq(core.shared(), shared)).unwrap_or(false)
}

/// Wakes `waker` after the runtime's next driver turn (see `yield_now`).
/// Outside a runtime it wakes at once.
pub(crate) fn defer(waker: &Waker) {
    if with_core(|core| core.defer(waker)).is_none() {
        waker.wake_by_ref();
    }
}

/// The I/O driver handle of this thread's runtime, for sockets.
pub(crate) fn io_handle() -> io::Result<eddy_io_driver::Handle> {
    with_core(|core| core.shared().driver().clone()).ok_or_else(|| {
        io::Error::other(
            "this eddy I/O object must be created inside an eddy runtime (in `block_on` or a task)",
        )
    })
}

/// Runs `f` with this thread's runtime timers.
///
/// # Panics
///
/// Panics when no runtime runs on this thread: a timer outside a runtime
/// would never fire.
pub(crate) fn with_timers<R>(f: impl FnOnce(&mut Timers) -> R) -> R {
    try_with_timers(f).expect(
        "eddy::time used outside an eddy runtime: timers must be polled inside `block_on` or a task",
    )
}

/// Runs `f` with this thread's runtime timers, or returns `None` outside a
/// runtime (for `Drop` impls, which must not panic).
pub(crate) fn try_with_timers<R>(f: impl FnOnce(&mut Timers) -> R) -> Option<R> {
    with_core(|core| core.try_with_timers(f)).flatten()
}

/// The id of the runtime running on this thread, if any.
pub(crate) fn current_runtime_id() -> Option<u64> {
    with_core(|core| core.shared().id())
}
