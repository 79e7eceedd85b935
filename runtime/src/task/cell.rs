//! One spawned task: a single allocation holding its header, its future and
//! the slot its outcome is left in.

use std::any::Any;
use std::cell::UnsafeCell;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::ptr;
use std::sync::Arc;
use std::task::{Context, Poll};

use eddy_registration::drop_quietly;
use futures_task::{ArcWake, waker_ref};

use super::{Header, JoinError, JoinSlot, JoinTarget, RunOutcome, Runnable, UninitTask};
use crate::runtime::Shared;

/// A task. The run queue, the slab, every waker and the `JoinHandle` hold
/// an `Arc` of this one allocation; a waker is this `Arc` (through
/// `futures-task`'s `ArcWake`), so a late wake of a finished task only sees
/// the `COMPLETE` bit and does nothing.
pub(crate) struct TaskCell<F: Future> {
    /// State, slab key and owning runtime.
    header: Header,
    /// The future while it runs; `None` once it finished or was dropped.
    /// Only the runtime's thread touches it (see the `Send`/`Sync` impls).
    future: UnsafeCell<Option<F>>,
    /// Where the outcome waits for the `JoinHandle`.
    slot: JoinSlot<F::Output>,
}

// The cell is shared with wakers and the join handle on any thread, but
// those only touch `header` (atomics and an `Arc`) and `slot` (a mutex).
// `future` is touched only through `Runnable::run` and `Runnable::cancel`,
// whose contracts restrict them to the owning runtime's thread (or, for a
// `Send` future no runtime has seen, the thread that built it), and the
// runtime drops every future before it lets go of the task (at completion or
// at shutdown), so the last `Arc`, wherever it is released, drops `None`.
// SAFETY: as above; and `F::Output` is only dropped by `JoinSlot` on the
// completing thread or the handle's, and `JoinHandle<T>` is `Send` only
// when `T` is.
unsafe impl<F: Future> Send for TaskCell<F> {}
// SAFETY: see the `Send` impl above: shared access never reaches `future`.
unsafe impl<F: Future> Sync for TaskCell<F> {}

impl<F: Future> TaskCell<F> {
    /// Moves `future` into `task`'s allocation and returns the task.
    /// Nothing here can unwind in a std build, which would oblige the
    /// compiler to keep a copy of the future to drop.
    ///
    /// `task.ptr` came from the unique `&mut` that `allocate` got from
    /// `Arc::get_mut`, and nothing has touched the allocation since: an
    /// `UninitTask` is its only handle and cannot be cloned. Each field is
    /// written through `&raw mut`, so no reference to uninitialised memory
    /// is made.
    #[inline(always)]
    pub(crate) fn init(task: UninitTask<F>, future: F, shared: Arc<Shared>) -> Arc<TaskCell<F>> {
        let ptr = task.ptr.as_ptr();
        // SAFETY: `ptr` is the unique pointer to the cell (see above); each
        // field is written exactly once.
        unsafe {
            (&raw mut (*ptr).header).write(Header::new(shared));
            (&raw mut (*ptr).future).write(UnsafeCell::new(Some(future)));
            (&raw mut (*ptr).slot).write(JoinSlot::new());
        }
        // SAFETY: all three fields were written above.
        unsafe { task.cell.assume_init() }
    }

    /// Drops the future in place and leaves `None` behind, even if the
    /// future's `Drop` panics. Returns the panic payload if it did.
    ///
    /// # Safety
    ///
    /// Runtime thread only, and no reference into the future may be live.
    unsafe fn drop_future(&self) -> Option<Box<dyn Any + Send>> {
        let slot = self.future.get();
        // Dropping in place keeps the pinning promise (the future is never
        // moved), and writing `None` afterwards, even after a panic in
        // `drop`, means it can never be dropped twice.
        // SAFETY: the caller guarantees exclusive access on the owning thread.
        unsafe {
            let result = catch_unwind(AssertUnwindSafe(|| ptr::drop_in_place(slot)));
            ptr::write(slot, None);
            result.err()
        }
    }

    /// Drops the future without polling it and ends the task: cancelled, or
    /// with the panic the future's `Drop` raised. Returns the panic of the
    /// handle's waker, as [`finish`](TaskCell::finish) does. Shared by an
    /// aborted task's next run and by `cancel`.
    ///
    /// # Safety
    ///
    /// As for `drop_future`: runtime thread only, no reference into the
    /// future live.
    unsafe fn finish_unpolled(&self) -> Option<Box<dyn Any + Send>> {
        // SAFETY: forwarded from this method's contract.
        let outcome = match unsafe { self.drop_future() } {
            Some(payload) => JoinError::panic(payload),
            None => JoinError::cancelled(),
        };
        self.finish(Err(outcome))
    }

    /// Ends the task with `outcome`, exactly once. Returns the panic of the
    /// handle's waker if it panicked when told, for the caller to re-raise
    /// once the runtime's bookkeeping is done.
    fn finish(&self, outcome: Result<F::Output, JoinError>) -> Option<Box<dyn Any + Send>> {
        if !self.header.state.transition_to_complete() {
            return None;
        }
        catch_unwind(AssertUnwindSafe(|| self.slot.complete(outcome))).err()
    }
}

impl<F: Future + 'static> Runnable for TaskCell<F> {
    fn header(&self) -> &Header {
        &self.header
    }

    unsafe fn run(self: Arc<Self>) -> RunOutcome {
        crate::trace::task_polled(|| self.header.key());
        let snapshot = self.header.state.transition_to_running();
        if snapshot.is_complete() {
            return RunOutcome::AlreadyComplete;
        }
        if snapshot.is_cancelled() {
            // SAFETY: forwarded from this method's contract.
            let waker_panic = unsafe { self.finish_unpolled() };
            return RunOutcome::Finished(self.header.key(), waker_panic);
        }
        // SAFETY: runtime thread only (this method's contract), and nothing
        // else holds a reference into the cell while we poll.
        let future = unsafe { &mut *self.future.get() };
        let Some(future) = future.as_mut() else {
            return RunOutcome::AlreadyComplete;
        };
        // SAFETY: the future lives inside the `Arc` allocation and is only
        // ever dropped in place (`drop_future`), never moved.
        let future = unsafe { Pin::new_unchecked(future) };
        let waker = waker_ref(&self);
        let mut cx = Context::from_waker(&waker);
        let outcome = match catch_unwind(AssertUnwindSafe(|| future.poll(&mut cx))) {
            Ok(Poll::Pending) => return RunOutcome::Pending,
            Ok(Poll::Ready(value)) => Ok(value),
            Err(payload) => Err(JoinError::panic(payload)),
        };
        // SAFETY: as above; the `Pin` borrow ended with the poll.
        let drop_panic = unsafe { self.drop_future() };
        let outcome = match (outcome, drop_panic) {
            (Ok(value), Some(payload)) => {
                // Ready, then a panic in `drop`: the task reports that panic,
                // and the value goes quietly, since a panic of its own `Drop`
                // unwound into the loop and left the task in the slab (14).
                drop_quietly(value);
                Err(JoinError::panic(payload))
            }
            (Err(error), Some(payload)) => {
                // Panicked in `poll`, then in `drop`: the task reports the
                // first panic, and the second's payload goes quietly, since
                // one whose `Drop` panicked left the task in the slab (14).
                drop_quietly(payload);
                Err(error)
            }
            (outcome, None) => outcome,
        };
        let waker_panic = self.finish(outcome);
        RunOutcome::Finished(self.header.key(), waker_panic)
    }

    unsafe fn cancel(&self) {
        if self.header.state.is_complete() {
            return;
        }
        // SAFETY: forwarded from this method's contract.
        if let Some(payload) = unsafe { self.finish_unpolled() } {
            resume_unwind(payload);
        }
    }
}

impl<F: Future + 'static> ArcWake for TaskCell<F> {
    fn wake_by_ref(arc_self: &Arc<Self>) {
        if arc_self.header.state.transition_to_notified() {
            Shared::schedule(arc_self.clone());
        }
    }

    fn wake(self: Arc<Self>) {
        if self.header.state.transition_to_notified() {
            Shared::schedule(self);
        }
    }
}

impl<F: Future + 'static> JoinTarget<F::Output> for TaskCell<F> {
    fn slot(&self) -> &JoinSlot<F::Output> {
        &self.slot
    }

    fn abort(self: Arc<Self>) {
        if self.header.state.request_cancel() {
            ArcWake::wake(self);
        }
    }
}

impl<F: Future> std::fmt::Debug for TaskCell<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskCell")
            .field("header", &self.header)
            .finish_non_exhaustive()
    }
}
