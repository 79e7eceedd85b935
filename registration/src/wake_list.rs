//! [`WakeList`]: a fixed-size batch of wakers collected under a lock.

use std::fmt;
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
pub(crate) struct WakeList {
    /// The collected wakers; slots `0..len` are `Some`.
    wakers: [Option<Waker>; BATCH],
    /// How many slots are filled.
    len: usize,
}

impl WakeList {
    /// An empty batch.
    pub(crate) fn new() -> WakeList {
        WakeList {
            wakers: std::array::from_fn(|_| None),
            len: 0,
        }
    }

    /// Whether another waker fits.
    pub(crate) fn can_push(&self) -> bool {
        self.len < BATCH
    }

    /// Adds `waker`; the caller checks `can_push` first.
    pub(crate) fn push(&mut self, waker: Waker) {
        debug_assert!(self.can_push());
        self.wakers[self.len] = Some(waker);
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
        let len = std::mem::replace(&mut self.len, 0);
        for slot in &mut self.wakers[..len] {
            if let Some(waker) = slot.take() {
                panics.run(|| waker.wake());
            }
        }
    }
}

impl fmt::Debug for WakeList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WakeList").field("len", &self.len).finish()
    }
}
