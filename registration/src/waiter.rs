//! [`Waiter`]: the intrusive node a `Readiness` future links into the
//! waiters list of its `ScheduledIo`.

use std::fmt;
use std::ptr::NonNull;
use std::task::Waker;

use crate::Interest;
use crate::linked_list::{Link, Pointers};
use crate::loom::cell::UnsafeCell;

/// One task waiting, through a `Readiness` future, for some interest.
///
/// It lives inside the pinned future, so waiting allocates nothing. The list
/// holds only its address; the future unlinks it before it goes away.
pub(crate) struct Waiter {
    /// Links in the `ScheduledIo`'s waiters list.
    pointers: Pointers<Waiter>,
    /// What the waiter wants; fixed for the life of the future, so read
    /// without the lock.
    interest: Interest,
    /// Mutable state, only touched with the waiters lock held.
    state: UnsafeCell<WaiterState>,
}

/// The part of a [`Waiter`] that `wake` and the future share.
#[derive(Debug, Default)]
pub(crate) struct WaiterState {
    /// The task to wake; replaced when the future is polled by another task.
    pub(crate) waker: Option<Waker>,
    /// Set by `wake` when it unlinks this waiter: tells the future it was
    /// woken *and* that it is no longer in the list (so `Drop` must not
    /// unlink it again).
    pub(crate) notified: bool,
    /// Set by a `wake` that began while this waiter was linked and matched
    /// its interest: only such a wake unlinks it. Cleared when it links
    /// again, so a wake passes over waiters that linked after it began.
    pub(crate) chosen: bool,
}

impl Waiter {
    /// An unlinked waiter for `interest`.
    pub(crate) fn new(interest: Interest) -> Waiter {
        Waiter {
            pointers: Pointers::new(),
            interest,
            state: UnsafeCell::new(WaiterState::default()),
        }
    }

    /// What this waiter waits for.
    pub(crate) fn interest(&self) -> Interest {
        self.interest
    }

    /// Runs `f` on the mutable state.
    ///
    /// # Safety
    ///
    /// The caller must hold the lock of the waiters list this waiter belongs
    /// (or is about to belong) to: that lock is what serialises `wake` and
    /// the owning future.
    pub(crate) unsafe fn with_state<R>(&self, f: impl FnOnce(&mut WaiterState) -> R) -> R {
        // SAFETY: the caller holds the waiters lock, so no other access to
        // `state` overlaps this one.
        self.state.with_mut(|state| f(unsafe { &mut *state }))
    }
}

impl fmt::Debug for Waiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Waiter")
            .field("interest", &self.interest)
            .finish_non_exhaustive()
    }
}

// The handle is a plain address that owns nothing, so `from_raw` may hand
// it out any number of times.
// SAFETY: a `Waiter` lives in a pinned `Readiness` future that unlinks it in
// `Drop` before its memory goes away; `pointers` serves one list only.
unsafe impl Link for Waiter {
    type Handle = NonNull<Waiter>;
    type Target = Waiter;

    fn as_raw(handle: &NonNull<Waiter>) -> NonNull<Waiter> {
        *handle
    }

    unsafe fn from_raw(ptr: NonNull<Waiter>) -> NonNull<Waiter> {
        ptr
    }

    unsafe fn pointers(target: NonNull<Waiter>) -> NonNull<Pointers<Waiter>> {
        // SAFETY: the caller promises `target` is live; `&raw mut` computes
        // the field address without asserting exclusive access to the waiter.
        unsafe { NonNull::new_unchecked(&raw mut (*target.as_ptr()).pointers) }
    }
}
