//! Where a finished task leaves its outcome for its `JoinHandle`.

use crate::loom::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use eddy_registration::drop_quietly;

use super::JoinError;

/// The meeting point of a task and its `JoinHandle`, which may be on
/// another thread. A plain mutex is enough: each side takes it once or twice
/// per task, never while running user code.
#[derive(Debug)]
pub(crate) struct JoinSlot<T> {
    /// The outcome and the waiting handle's waker.
    inner: Mutex<SlotInner<T>>,
}

#[derive(Debug)]
struct SlotInner<T> {
    /// The task's outcome, until the handle takes it.
    output: Option<Result<T, JoinError>>,
    /// The task awaiting the handle, woken when `output` arrives.
    waker: Option<Waker>,
    /// The handle is gone: an outcome arriving now is dropped at once, on
    /// the completing thread. This is what keeps a `!Send` output from being
    /// dropped later by whichever thread releases the task's last reference.
    handle_dropped: bool,
    /// The handle already took the outcome; a further poll is a caller bug.
    taken: bool,
}

impl<T> SlotInner<T> {
    /// Hands the outcome to the handle, if it has arrived, and records that
    /// it was taken.
    fn take_outcome(&mut self) -> Option<Result<T, JoinError>> {
        let outcome = self.output.take()?;
        self.taken = true;
        Some(outcome)
    }
}

impl<T> JoinSlot<T> {
    pub(crate) fn new() -> JoinSlot<T> {
        JoinSlot {
            inner: Mutex::new(SlotInner {
                output: None,
                waker: None,
                handle_dropped: false,
                taken: false,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, SlotInner<T>> {
        // No caller code runs under the lock (outputs and wakers are cloned
        // and dropped after unlocking); only `poll`'s assert can panic
        // there, having changed nothing, so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Hands the outcome to the handle and wakes it, or drops the outcome
    /// if nobody will ever read it.
    pub(crate) fn complete(&self, outcome: Result<T, JoinError>) {
        let mut inner = self.lock();
        if inner.handle_dropped {
            drop(inner);
            // Nobody will read it: a panic in its `Drop` goes nowhere, since
            // one unwound out of `block_on` and left the task in the slab (14).
            drop_quietly(outcome);
            return;
        }
        inner.output = Some(outcome);
        let waker = inner.waker.take();
        drop(inner);
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Whether the outcome has been stored (and perhaps already taken by
    /// the handle): `JoinHandle::is_finished`.
    pub(crate) fn has_outcome(&self) -> bool {
        let inner = self.lock();
        inner.output.is_some() || inner.taken
    }

    /// The handle's poll.
    ///
    /// # Panics
    ///
    /// Panics if polled again after it returned `Ready`, as futures may.
    pub(crate) fn poll(&self, cx: &mut Context<'_>) -> Poll<Result<T, JoinError>> {
        let mut inner = self.lock();
        if let Some(outcome) = inner.take_outcome() {
            return Poll::Ready(outcome);
        }
        assert!(!inner.taken, "JoinHandle polled after it completed");
        if inner
            .waker
            .as_ref()
            .is_some_and(|waker| waker.will_wake(cx.waker()))
        {
            return Poll::Pending;
        }
        drop(inner);
        // The caller's waker is cloned, and the old one dropped, outside the
        // lock: a waker whose drop waited for the runtime, dropped under it,
        // deadlocked `complete` on the runtime's thread (15).
        let fresh = cx.waker().clone();
        let mut inner = self.lock();
        if let Some(outcome) = inner.take_outcome() {
            // The task completed while the lock was free; it woke the old
            // waker, and this poll has its outcome anyway.
            drop(inner);
            drop(fresh);
            return Poll::Ready(outcome);
        }
        let replaced = inner.waker.replace(fresh);
        drop(inner);
        drop(replaced);
        Poll::Pending
    }

    /// The handle is being dropped: from now on outcomes are discarded.
    pub(crate) fn drop_handle(&self) {
        let mut inner = self.lock();
        inner.handle_dropped = true;
        let output = inner.output.take();
        let waker = inner.waker.take();
        drop(inner);
        drop(waker);
        if let Some(output) = output {
            // Nobody read it: a panic in its `Drop` goes nowhere, since one
            // let out of `JoinHandle::drop` failed the task dropping the
            // handle, or aborted a thread doing so while unwinding (12).
            drop_quietly(output);
        }
    }
}
