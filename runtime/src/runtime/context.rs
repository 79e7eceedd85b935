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
use std::ptr::NonNull;
use std::sync::{Arc, Weak};
use std::task::Waker;

use super::{Core, Shared};
use crate::task::Runnable;
use crate::time::timer_key::TimerKey;
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
    /// The cooperative budget the outer runtime's task had left, and its
    /// poll count, when `previous` is a runtime: a runtime dropped inside
    /// a task (its shutdown enters it) hands that task both back on
    /// leaving.
    coop: crate::coop::Saved,
    /// Ties the guard to the borrow of the core it points to, and keeps it
    /// on this thread.
    _core: PhantomData<&'a Core>,
}

/// Makes `core` this thread's runtime until the guard is dropped.
///
/// Guards are locals of `Core::block_on` and `Core::shutdown`, dropped in
/// the reverse order they were made and never forgotten: that is what lets
/// `current_core` lend out `&Core` for the length of a call.
///
/// # Safety
///
/// The guard must be dropped, not forgotten (`mem::forget`, a leaked
/// `Box`, an `Rc` cycle), before `core` moves or is freed, and after any
/// guard made later on this thread. Otherwise `CURRENT` keeps (or gets
/// back) a pointer to a core that is gone, and the next `with_core`, a
/// safe call, reads freed memory. A guard held as a local of the frame
/// that borrows `core`, and not moved out of it, keeps all of this.
pub(crate) unsafe fn enter(core: &Core) -> EnterGuard<'_> {
    let previous = CURRENT.with(|current| current.replace(Some(NonNull::from(core))));
    if previous.is_none() {
        crate::coop::tag_thread();
    }
    EnterGuard {
        previous,
        coop: crate::coop::current(),
        _core: PhantomData,
    }
}

impl Drop for EnterGuard<'_> {
    fn drop(&mut self) {
        CURRENT.with(|current| current.set(self.previous));
        if self.previous.is_some() {
            // Back in the outer runtime's task: restore what it had left,
            // since lifting it let that task's poll loop unyielded (12).
            crate::coop::restore(self.coop);
        } else {
            crate::coop::lift();
        }
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
/// [`with_core`] is the safe way in. `spawn` calls this directly: moving
/// its future into `with_core`'s closure, or past that closure's call,
/// costs copies of the future, and a server's connection future is mostly
/// its buffer.
///
/// # Safety
///
/// The reference must not be used after the `EnterGuard` that is current
/// now is dropped. Not keeping it beyond the caller's own call (not
/// storing it, not holding it across an `.await`) is enough: that guard is
/// a local of a frame (`block_on`, `shutdown`) beneath every call made
/// while it is set (see [`enter`]).
#[inline]
pub(crate) unsafe fn current_core<'a>() -> Option<&'a Core> {
    let core = CURRENT.try_with(Cell::get).ok().flatten()?;
    // SAFETY: a pointer in `CURRENT` is backed by the live `EnterGuard` that
    // set it, which outlives the caller's use (see above).
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
    // SAFETY: the reference is used only in this call.
    match unsafe { current_core() } {
        Some(core) if core.runs(&task.header().shared) => core.push_local(task),
        _ => Err(task),
    }
}

/// Whether this thread is running the runtime `shared` belongs to.
#[inline]
pub(crate) fn is_current(shared: &Shared) -> bool {
    with_core(|core| core.runs(shared)).unwrap_or(false)
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
    with_core(|core| core.shared().driver().clone()).ok_or_else(outside_runtime_error)
}

/// The error for an I/O object (socket, signal listener) made where no
/// runtime runs.
pub(crate) fn outside_runtime_error() -> io::Error {
    io::Error::other(
        "this eddy I/O object must be created inside an eddy runtime (in `block_on` or a task)",
    )
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
/// runtime or while the runtime itself holds its timers (for
/// `Sleep::reset`, which must not panic).
pub(crate) fn try_with_timers<R>(f: impl FnOnce(&mut Timers) -> R) -> Option<R> {
    with_core(|core| core.try_with_timers(f)).flatten()
}

/// A weak pointer to the runtime running on this thread, if any: how a
/// timer finds its runtime again from wherever it is dropped.
pub(crate) fn current_runtime() -> Option<Weak<Shared>> {
    with_core(|core| Arc::downgrade(core.shared_arc()))
}

/// Cancels the timer `key` if `runtime` is the one running here and its
/// timers are free, handing back its waker (if it had not fired) for the
/// caller to drop outside the borrow. `None` when it cannot be done here;
/// see `Shared::queue_timer_request` for that case.
pub(crate) fn cancel_timer_here(runtime: &Weak<Shared>, key: TimerKey) -> Option<Option<Waker>> {
    with_core(|core| {
        if !is_runtime(core, runtime) {
            return None;
        }
        core.try_with_timers(|timers| timers.cancel(key))
    })
    .flatten()
}

/// Whether this thread is running the runtime `runtime` points to.
pub(crate) fn runs(runtime: &Weak<Shared>) -> bool {
    with_core(|core| is_runtime(core, runtime)).unwrap_or(false)
}

/// Whether `core` runs the runtime `runtime` points to.
///
/// Compares addresses only. That cannot mistake a new runtime for a dropped
/// one: the `Weak` keeps the old allocation, so no other runtime can sit at
/// its address while `runtime` exists.
fn is_runtime(core: &Core, runtime: &Weak<Shared>) -> bool {
    std::ptr::eq(Arc::as_ptr(core.shared_arc()), runtime.as_ptr())
}
