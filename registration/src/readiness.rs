//! [`Readiness`]: the future returned by `ScheduledIo::readiness`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll};

use crate::scheduled_io::is_final;
use crate::waiter::Waiter;
use crate::{Interest, ReadyEvent, ScheduledIo};

/// Waits until any readiness in an interest is set on one `ScheduledIo`, or
/// it shuts down.
///
/// Unlike `poll_readiness`, which has one waker slot per direction, any
/// number of these futures can wait on one resource: each links its own
/// waiter node (stored inline, hence `!Unpin`) into the resource's waiters
/// list. Dropping the future unlinks the node.
pub struct Readiness<'a> {
    /// The resource waited on; the borrow guarantees it outlives the node.
    scheduled_io: &'a ScheduledIo,
    /// Where the future is in its life; see [`State`].
    state: State,
    /// The intrusive node linked into `scheduled_io`'s waiters while
    /// `state` is `Waiting`.
    waiter: Waiter,
}

/// The life of a [`Readiness`] future.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Not yet linked: check readiness, link the waiter if not ready.
    Init,
    /// Linked in the waiters list (until `wake` unlinks it and sets
    /// `notified`).
    Waiting,
    /// Woken or completed: report the current readiness.
    Done,
}

impl<'a> Readiness<'a> {
    /// A future waiting on `scheduled_io` for `interest`.
    pub(crate) fn new(scheduled_io: &'a ScheduledIo, interest: Interest) -> Readiness<'a> {
        Readiness {
            scheduled_io,
            state: State::Init,
            waiter: Waiter::new(interest),
        }
    }
}

impl Future for Readiness<'_> {
    type Output = ReadyEvent;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<ReadyEvent> {
        // SAFETY: nothing below moves out of `me`; the waiter stays where it
        // was pinned until `Drop` unlinks it.
        let me = unsafe { self.get_unchecked_mut() };
        let io = me.scheduled_io;
        let mask = me.waiter.interest().mask();

        loop {
            match me.state {
                State::Init => {
                    let event = io.event(mask);
                    if is_final(event) {
                        me.state = State::Done;
                        return Poll::Ready(event);
                    }
                    let mut waiters = io.lock_waiters();
                    // Re-check under the lock, or a `wake` that ran between
                    // the load above and linking the node would be missed.
                    let event = io.event(mask);
                    if is_final(event) {
                        me.state = State::Done;
                        return Poll::Ready(event);
                    }
                    // SAFETY: we hold the waiters lock.
                    unsafe {
                        me.waiter.with_state(|state| {
                            state.waker = Some(cx.waker().clone());
                            state.notified = false;
                            state.chosen = false;
                        });
                    }
                    // The node is pinned inside this future and `Drop` unlinks
                    // it under the lock before the memory can go away.
                    // SAFETY: in `Init` the waiter is in no list: never
                    // pushed, or unlinked by `wake` (setting `notified`)
                    // before `Waiting` became `Done` and `Done` `Init` again.
                    unsafe { waiters.list.push_front(NonNull::from(&me.waiter)) };
                    me.state = State::Waiting;
                    return Poll::Pending;
                }
                State::Waiting => {
                    let waiters = io.lock_waiters();
                    // SAFETY: we hold the waiters lock.
                    let (notified, old) = unsafe {
                        me.waiter.with_state(|state| {
                            if state.notified {
                                (true, None)
                            } else if state
                                .waker
                                .as_ref()
                                .is_some_and(|w| w.will_wake(cx.waker()))
                            {
                                (false, None)
                            } else {
                                (false, state.waker.replace(cx.waker().clone()))
                            }
                        })
                    };
                    drop(waiters);
                    drop(old);
                    if !notified {
                        return Poll::Pending;
                    }
                    me.state = State::Done;
                }
                State::Done => {
                    let event = io.event(mask);
                    if is_final(event) {
                        return Poll::Ready(event);
                    }
                    // Woken, but the readiness was cleared again before we
                    // looked (another task consumed it): wait again rather
                    // than report an empty event.
                    me.state = State::Init;
                }
            }
        }
    }
}

impl Drop for Readiness<'_> {
    /// Inline: most readiness futures end `Done` (or never waited), and
    /// the check is all their drop does; only a waiting one unlinks.
    #[inline]
    fn drop(&mut self) {
        if self.state == State::Waiting {
            self.unlink();
        }
    }
}

impl Readiness<'_> {
    /// `drop` for a future still waiting: takes its node off the
    /// resource's waiter list, and drops its waker.
    fn unlink(&mut self) {
        let mut waiters = self.scheduled_io.lock_waiters();
        // SAFETY: we hold the waiters lock.
        let notified = unsafe { self.waiter.with_state(|state| state.notified) };
        if !notified {
            // SAFETY: not notified means `wake` has not unlinked the node, so
            // it is still linked in this resource's list (we pushed it there),
            // and it is alive: we are its owner.
            unsafe { waiters.list.remove(NonNull::from(&self.waiter)) };
        }
        drop(waiters);
        // SAFETY: the node is unlinked now, so nothing else can reach its
        // state.
        let waker = unsafe { self.waiter.with_state(|state| state.waker.take()) };
        drop(waker);
    }
}

impl fmt::Debug for Readiness<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Readiness")
            .field("interest", &self.waiter.interest())
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}
