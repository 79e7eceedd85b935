//! [`WakeList`]: a fixed-size batch of wakers collected under a lock.

use std::fmt;
use std::mem::MaybeUninit;
use std::task::Waker;

use crate::FirstPanic;

/// How many wakers are collected before the lock is released to wake them.
/// Bounds both the stack space and how long the waiters lock is held.
pub(crate) const BATCH: usize = 32;

/// Wakers taken out under the waiters lock, to be woken after releasing it.
///
/// Waking under the lock is a bug twice over: a woken task may run inline
/// (some executors poll on wake) and try to take the same lock, and it may
/// drop the resource that owns the lock.
///
/// The slots are `MaybeUninit`, not `Option`: an empty batch then costs no
/// stores, and only the filled slots are ever looked at. With
/// `[Option<Waker>; 32]` the compiler wrote 32 `None`s for every batch and
/// unrolled the array's drop into 32 checks, 1.3 KB of code in every
/// program that links the driver, for a path (a resource with `readiness`
/// futures linked) that most never take.
pub(crate) struct WakeList {
    /// The collected wakers. Invariant: slots `0..len` are initialised and
    /// owned by the batch; the rest are not.
    wakers: [MaybeUninit<Waker>; BATCH],
    /// How many slots are filled.
    len: usize,
}

impl WakeList {
    /// An empty batch.
    pub(crate) fn new() -> WakeList {
        WakeList {
            wakers: [const { MaybeUninit::uninit() }; BATCH],
            len: 0,
        }
    }

    /// Whether another waker fits.
    pub(crate) fn can_push(&self) -> bool {
        self.len < BATCH
    }

    /// Adds `waker`; the caller checks `can_push` first.
    pub(crate) fn push(&mut self, waker: Waker) {
        // Indexing checks the bound even in release builds: a caller that
        // skipped `can_push` panics instead of writing past the array.
        self.wakers[self.len].write(waker);
        self.len += 1;
    }

    /// Adds `waker` if there is one; the caller checks `can_push` first.
    pub(crate) fn extend(&mut self, waker: Option<Waker>) {
        if let Some(waker) = waker {
            self.push(waker);
        }
    }

    /// Wakes and removes every collected waker, each one even if another
    /// panics (the first panic is kept in `panics`). Call with no lock held.
    pub(crate) fn wake_all(&mut self, panics: &mut FirstPanic) {
        // The batch gives up the wakers before the first is woken: should
        // anything unwind from here, no slot is dropped twice.
        let len = std::mem::replace(&mut self.len, 0);
        for slot in &self.wakers[..len] {
            // SAFETY: `slot` is one of the `len` filled slots, and with
            // `self.len` now 0 the batch no longer owns it, so this read
            // moves the waker out exactly once.
            let waker = unsafe { slot.assume_init_read() };
            panics.run(|| waker.wake());
        }
    }
}

impl Drop for WakeList {
    /// Drops the wakers `wake_all` has not taken: only the ones of a batch
    /// abandoned by a panic between `push` and `wake_all`.
    fn drop(&mut self) {
        for slot in &mut self.wakers[..self.len] {
            // SAFETY: slots `0..len` are initialised and owned by the batch
            // (see `wakers`), and the batch is going away, so each is
            // dropped exactly once.
            unsafe { slot.assume_init_drop() };
        }
    }
}

impl fmt::Debug for WakeList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WakeList").field("len", &self.len).finish()
    }
}
