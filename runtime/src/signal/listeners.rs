//! [`Listeners`]: the wakers of one runtime's signal listeners, woken all
//! at once.

use std::fmt;
use std::sync::{Arc, PoisonError};

use crate::loom::sync::{Mutex, MutexGuard};
use std::task::Waker;

use eddy_registration::FirstPanic;
use futures_task::ArcWake;
use slab::Slab;

/// Every listener of one runtime, each with the waker of the task that
/// last waited in its `recv`.
///
/// As a waker itself (`ArcWake`) it sits in the reader slot of the hub's
/// pipe registration: the driver wakes it when the pipe turns readable or
/// the runtime shuts down, and it passes the wake on to every listener. A
/// runtime that drains the pipe wakes it too (see `every_hub.rs`).
/// One slot holds one waker, or a second listener's would replace the
/// first's (module rule 5). The pipe's byte does not say which signal
/// arrived, so everyone is woken and each compares its own signal's
/// counter.
pub(crate) struct Listeners {
    /// A slot per listener (its key lives in its `Signal`); `None` while
    /// it is not waiting.
    wakers: Mutex<Slab<Option<Waker>>>,
}

impl Listeners {
    /// No listeners yet.
    pub(super) fn new() -> Listeners {
        Listeners {
            wakers: Mutex::new(Slab::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Slab<Option<Waker>>> {
        // Wakers are woken and dropped outside this lock; the only foreign
        // code under it is `park`'s clone of a waker, and a clone that
        // panics leaves the slab as it was. So a poisoned lock still holds
        // a good slab.
        self.wakers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a listener that is not waiting yet; returns its key.
    pub(super) fn join(&self) -> usize {
        self.lock().insert(None)
    }

    /// Removes the listener `key`.
    pub(super) fn leave(&self, key: usize) {
        let waker = self.lock().try_remove(key);
        drop(waker);
    }

    /// Stores `waker` for the listener `key`, unless the one it holds
    /// already wakes the same task.
    pub(super) fn park(&self, key: usize, waker: &Waker) {
        let replaced = match self.lock().get_mut(key) {
            Some(Some(stored)) if stored.will_wake(waker) => None,
            Some(slot) => slot.replace(waker.clone()),
            None => None,
        };
        drop(replaced);
    }
}

impl ArcWake for Listeners {
    fn wake_by_ref(this: &Arc<Self>) {
        // Pushed in a loop, not collected: every `collect` compiles its own
        // copy of `Vec`'s from-iterator code, for one iterator type.
        let mut waiting = Vec::new();
        for (_, slot) in this.lock().iter_mut() {
            if let Some(waker) = slot.take() {
                waiting.push(waker);
            }
        }
        // A listener's waker is foreign code: one that panics must not
        // cost the others their wake-up.
        let mut first_panic = FirstPanic::new();
        for waker in waiting {
            first_panic.run(|| waker.wake());
        }
        first_panic.resume();
    }
}

impl fmt::Debug for Listeners {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Listeners")
            .field("listeners", &self.lock().len())
            .finish()
    }
}

/// A loom model of the hand-off between a listener and a drain on another
/// thread (another runtime's, or this one's polled off its thread): the
/// listener parks its waker in the real [`Listeners`], then reads its
/// signal's counter; the handler bumps the counter, and whoever drains the
/// pipe wakes every listener. The steps replay `Signal::poll_recv` and
/// `Hub::poll_drain` + `every_hub::wake_all`; the counter is a loom atomic
/// standing in for the `static` one in `pipe.rs` (loom cannot model a
/// `static`), with the same `SeqCst`; the pipe and epoll are left out (loom
/// cannot model system calls), which is the case the protocol is for: a
/// drain that leaves this runtime's epoll nothing to report.
///
/// Run with
/// `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test --release -p eddy --lib -- loom`.
#[cfg(all(test, loom))]
#[path = "listeners_loom_tests.rs"]
mod loom_tests;
