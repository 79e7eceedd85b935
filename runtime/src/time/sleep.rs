//! [`Sleep`]: a future that completes at a deadline; [`sleep`] and
//! [`sleep_until`] build one.

use std::future::Future;
use std::pin::Pin;
use std::sync::Weak;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::timer_key::TimerKey;
use super::timer_request::TimerRequest;
use crate::coop::{self, Refused};
use crate::runtime::{Shared, context};

/// Waits until `duration` has passed.
///
/// No work happens until the returned [`Sleep`] is polled: it registers with
/// the runtime's timers on its first pending poll. A duration so long that
/// the deadline cannot be represented sleeps for roughly 30 years instead.
///
/// # Panics
///
/// Polling the `Sleep` before its deadline on a thread that runs no eddy
/// runtime panics with a message that says so.
///
/// ```
/// use std::time::{Duration, Instant};
/// # eddy::run(async {
/// let start = Instant::now();
/// eddy::time::sleep(Duration::from_millis(10)).await;
/// assert!(start.elapsed() >= Duration::from_millis(10)); // never early
/// # });
/// ```
#[inline]
pub fn sleep(duration: Duration) -> Sleep {
    Sleep::new(deadline_after(Instant::now(), duration))
}

/// Waits until `deadline`. A deadline in the past completes on first poll.
///
/// ```
/// use std::time::{Duration, Instant};
/// # eddy::run(async {
/// let deadline = Instant::now() + Duration::from_millis(10);
/// eddy::time::sleep_until(deadline).await;
/// assert!(Instant::now() >= deadline);
/// # });
/// ```
///
/// # Panics
///
/// Polling the `Sleep` before its deadline on a thread that runs no eddy
/// runtime panics with a message that says so.
#[inline]
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep::new(deadline)
}

/// `now + duration`, or a far-away instant when that overflows `Instant`.
#[inline]
pub(crate) fn deadline_after(now: Instant, duration: Duration) -> Instant {
    now.checked_add(duration).unwrap_or_else(|| far_future(now))
}

/// About 30 years from `now`: "never" for any real program, yet still an
/// `Instant` the OS can represent (`Instant` has no MAX).
pub(crate) fn far_future(now: Instant) -> Instant {
    const THIRTY_YEARS: Duration = Duration::from_secs(60 * 60 * 24 * 365 * 30);
    // Falls back to `now` only on a platform whose Instant cannot reach 30
    // years ahead; eddy runs on 64-bit Unix, where it always can.
    now.checked_add(THIRTY_YEARS).unwrap_or(now)
}

/// A future that completes once its deadline has passed. Built by
/// [`sleep`] and [`sleep_until`].
///
/// `Sleep` is `Unpin`, `Send` and `Sync`. It may be polled from any task and
/// even moved to another thread's runtime: it re-registers where it is
/// polled. Dropping it cancels its timer and frees the entry, at once on its
/// runtime's thread and at the runtime's next turn from anywhere else (as
/// does moving it to another runtime). Completing spends one unit of the
/// task's cooperative budget, like a socket operation, so a task looping
/// over already-expired sleeps still lets others run.
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Sleep {
    /// The instant at which this sleep completes.
    deadline: Instant,
    /// Which runtime holds our timer entry, and its key there (module rule
    /// 2). `None` before the first pending poll and once completed. Weak,
    /// so that a sleep does not keep a dropped runtime's shared state
    /// alive, yet can still ask a live one to cancel the entry from
    /// anywhere.
    entry: Option<(Weak<Shared>, TimerKey)>,
    /// The poll (see `coop::refuse`) that found the deadline passed and
    /// the task's budget spent, so it yielded instead of completing: the
    /// next poll that finds the deadline passed, if a later one, completes
    /// even with the budget spent again (see `poll_deadline`).
    refused: Refused,
}

impl Sleep {
    /// A sleep until `deadline`, not yet registered anywhere.
    fn new(deadline: Instant) -> Sleep {
        Sleep {
            deadline,
            entry: None,
            refused: Refused::new(),
        }
    }

    /// The instant at which this sleep completes.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether the deadline has passed: polling now completes the sleep
    /// (unless the task has spent its cooperative budget, see above).
    pub fn is_elapsed(&self) -> bool {
        Instant::now() >= self.deadline
    }

    /// Moves the deadline to `deadline`, whether or not the sleep already
    /// completed: a completed sleep becomes pending again if the new
    /// deadline is in the future.
    ///
    /// Called on the thread of the runtime that polls the sleep, a task
    /// already waiting on it keeps waiting and is woken at the new deadline;
    /// there is no need to poll again first. Called from anywhere else (the
    /// sleep shared across threads behind a lock), or from code that runs
    /// inside that runtime's own use of its timers (a global allocator, a
    /// panic hook), the runtime is unparked and wakes the waiting task at
    /// its next turn; the task's next poll waits for the new deadline.
    ///
    /// An idle timeout that starts again at every message:
    ///
    /// ```
    /// use std::pin::Pin;
    /// use std::time::{Duration, Instant};
    /// # eddy::run(async {
    /// let idle = Duration::from_secs(60);
    /// let mut idle_timeout = eddy::time::sleep(idle);
    /// // A message arrived: the connection was not idle, start again.
    /// Pin::new(&mut idle_timeout).reset(Instant::now() + idle);
    /// assert!(!idle_timeout.is_elapsed());
    /// // Shutting down: 10 ms more at most.
    /// let deadline = Instant::now() + Duration::from_millis(10);
    /// Pin::new(&mut idle_timeout).reset(deadline);
    /// (&mut idle_timeout).await; // `Sleep` is `Unpin`
    /// assert!(Instant::now() >= deadline);
    /// # });
    /// ```
    pub fn reset(self: Pin<&mut Self>, deadline: Instant) {
        let this = self.get_mut();
        this.deadline = deadline;
        let Some((runtime, key)) = this.entry.take() else {
            return;
        };
        if !context::runs(&runtime) {
            // The entry lives in a runtime we cannot reach from here: it
            // takes the entry out and wakes the waiting task at its next
            // turn, and the task's poll then waits for the new deadline.
            request_later(&runtime, TimerRequest::Wake(key));
            return;
        }
        match context::try_with_timers(|timers| timers.reschedule(key, deadline)) {
            Some(Some(new_key)) => this.entry = Some((runtime, new_key)),
            // The old entry already fired: its waker has been woken, and the
            // coming poll registers again.
            Some(None) => {}
            // Inside the store's own borrow (a global allocator, a panic
            // hook): queued as off the runtime, since dropping the key here
            // left the entry until its old deadline (RELIABILITY finding 28).
            None => request_later(&runtime, TimerRequest::Wake(key)),
        }
    }

    /// Cancels our timer entry, if we have one: at once when its runtime
    /// runs here, otherwise at that runtime's next turn. An entry of a
    /// runtime that is gone went with it.
    #[inline]
    fn deregister(&mut self) {
        if let Some((runtime, key)) = self.entry.take() {
            cancel_entry(runtime, key);
        }
    }
}

/// `Sleep::deregister` once there is an entry to cancel.
fn cancel_entry(runtime: Weak<Shared>, key: TimerKey) {
    // The waker is dropped once the timers' borrow has ended: its drop may
    // be code that polls or drops a sleep of its own.
    if let Some(waker) = context::cancel_timer_here(&runtime, key) {
        drop(waker);
        return;
    }
    // Another thread, another runtime, this thread outside `block_on`, or
    // code running inside the timers' borrow.
    request_later(&runtime, TimerRequest::Cancel(key));
}

/// Queues `request` on the entry's runtime, which applies it at its next
/// turn; a runtime that is gone took its timers along.
#[cold]
fn request_later(runtime: &Weak<Shared>, request: TimerRequest) {
    if let Some(shared) = runtime.upgrade() {
        shared.queue_timer_request(request);
    }
}

impl Future for Sleep {
    type Output = ();

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.get_mut().poll_deadline(cx, true)
    }
}

impl Sleep {
    /// `poll` for [`Timeout`], without spending cooperative budget unless
    /// `budgeted`: an inner future that used up the budget must not also
    /// stop its deadline from firing, or a timeout around an always-ready
    /// socket would never elapse.
    ///
    /// [`Timeout`]: super::Timeout
    #[inline]
    pub(crate) fn poll_for_timeout(&mut self, cx: &mut Context<'_>, budgeted: bool) -> Poll<()> {
        self.poll_deadline(cx, budgeted)
    }

    /// The body of `poll`. With `budgeted`, completing spends one unit of
    /// the task's cooperative budget, so a loop over always-ready sleeps
    /// (`sleep(ZERO)`, an `Interval` bursting through a long backlog) yields
    /// to other tasks instead of starving them.
    ///
    /// A sleep that has yielded once for want of budget completes at its
    /// next poll of the task, budget or not, or one raced after a future
    /// that spends the whole budget at every poll never fired (RELIABILITY
    /// finding 60); each such completion follows a yield of its own, so a
    /// loop over expired sleeps still yields (module rule 9).
    fn poll_deadline(&mut self, cx: &mut Context<'_>, budgeted: bool) -> Poll<()> {
        if Instant::now() >= self.deadline {
            if budgeted && coop::poll_proceed_once_refused(cx, &mut self.refused).is_pending() {
                // The task has been re-queued; we complete on its next poll.
                return Poll::Pending;
            }
            // Usually the runtime already fired (removed) our entry; cancel
            // covers a poll that got here first, so no entry outlives us.
            self.deregister();
            return Poll::Ready(());
        }
        // Wakers are cloned and dropped outside `with_timers`, or one that
        // polls a sleep panicked inside the borrow (module rule 5,
        // RELIABILITY finding 15).
        let still_registered_here = match self.entry {
            Some((ref runtime, key)) if context::runs(runtime) => {
                match context::with_timers(|timers| timers.wakes_same_task(key, cx.waker())) {
                    Some(true) => true,
                    Some(false) => {
                        let fresh = cx.waker().clone();
                        let replaced =
                            context::with_timers(|timers| timers.replace_waker(key, fresh));
                        let still = replaced.is_ok();
                        drop(replaced);
                        still
                    }
                    None => false,
                }
            }
            _ => false,
        };
        if still_registered_here {
            return Poll::Pending;
        }
        // Not registered yet, registered in another runtime (this sleep
        // moved), or the entry is gone: cancel whatever is left of the old
        // one, which would otherwise stay until its deadline, and register
        // afresh. `with_timers` panics outside a runtime, with a message
        // that says so.
        self.deregister();
        let waker = cx.waker().clone();
        let key = context::with_timers(|timers| timers.insert(self.deadline, waker));
        let runtime =
            context::current_runtime().expect("with_timers returned, so a runtime runs here");
        self.entry = Some((runtime, key));
        Poll::Pending
    }
}

impl Drop for Sleep {
    #[inline]
    fn drop(&mut self) {
        self.deregister();
    }
}
