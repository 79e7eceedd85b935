//! [`Timeout`]: runs a future against a deadline; [`timeout`] and
//! [`timeout_at`] build one.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::elapsed::Elapsed;
use super::sleep::{Sleep, sleep, sleep_until};

/// Requires `future` to complete within `duration`.
///
/// Resolves to `Ok(output)` if the future completes first, or
/// `Err(Elapsed)` once the duration has passed. Dropping the `Timeout`
/// (which `.await` does as soon as it resolves) drops, and so cancels, the
/// inner future. A future that is ready on its first poll wins even with a
/// zero duration: the future is always polled before the deadline is checked.
///
/// ```
/// use std::time::Duration;
/// use eddy::time::{sleep, timeout};
/// # eddy::run(async {
/// let quick = async { 42 };
/// assert_eq!(timeout(Duration::from_secs(10), quick).await, Ok(42));
///
/// let slow = sleep(Duration::from_secs(10));
/// let result = timeout(Duration::from_millis(10), slow).await;
/// assert!(result.is_err()); // `Elapsed`; the sleep was dropped
/// # });
/// ```
pub fn timeout<F: IntoFuture>(duration: Duration, future: F) -> Timeout<F::IntoFuture> {
    Timeout::new(future.into_future(), sleep(duration))
}

/// Requires `future` to complete before `deadline`. See [`timeout`].
///
/// One deadline for several steps:
///
/// ```
/// use std::time::{Duration, Instant};
/// use eddy::time::{sleep, timeout_at};
/// # eddy::run(async {
/// let deadline = Instant::now() + Duration::from_secs(10);
/// timeout_at(deadline, sleep(Duration::from_millis(1))).await.unwrap();
/// // The next step gets only what is left of the 10 seconds.
/// let second = timeout_at(deadline, async { "done" }).await;
/// assert_eq!(second, Ok("done"));
/// # });
/// ```
pub fn timeout_at<F: IntoFuture>(deadline: Instant, future: F) -> Timeout<F::IntoFuture> {
    Timeout::new(future.into_future(), sleep_until(deadline))
}

/// A future racing an inner future against a deadline. Built by
/// [`timeout`] and [`timeout_at`].
///
/// `Send`/`Sync`/`Unpin` exactly when `F` is: the deadline part is all three.
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Timeout<F> {
    /// The future being raced. Structurally pinned: once a `Timeout` is
    /// pinned, `value` is only reached through `Pin<&mut F>` and never moved
    /// (see the SAFETY note in `poll`).
    value: F,
    /// Completes at the deadline. `Sleep` is `Unpin`, so it needs no pinning
    /// guarantees of its own.
    delay: Sleep,
}

impl<F> Timeout<F> {
    /// Pairs the future with its deadline.
    fn new(value: F, delay: Sleep) -> Timeout<F> {
        Timeout { value, delay }
    }

    /// The inner future.
    pub fn get_ref(&self) -> &F {
        &self.value
    }

    /// The inner future, mutably. Needs `&mut Timeout`, which a pinned
    /// `Timeout` of a `!Unpin` future cannot hand out, so pinning holds.
    pub fn get_mut(&mut self) -> &mut F {
        &mut self.value
    }

    /// Takes the inner future back, abandoning the deadline.
    pub fn into_inner(self) -> F {
        self.value
    }

    /// The instant at which the timeout elapses.
    pub fn deadline(&self) -> Instant {
        self.delay.deadline()
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // Pin projection by hand: `value` is structurally pinned and `delay`
        // is not. `Timeout` has no `Drop` impl (which could move `value` out
        // of a pinned self); it is `Unpin` only through the auto trait, i.e.
        // only when `F: Unpin`; and the by-value or `&mut self` accessors
        // (`into_inner`, `get_mut`) cannot be reached from a
        // `Pin<&mut Timeout<F>>` unless `F: Unpin`.
        // SAFETY: so `value` is only ever exposed pinned, and `delay` is
        // `Unpin`: handing out `&mut Sleep` moves nothing promised to stay.
        let (value, delay) = unsafe {
            let this = self.get_unchecked_mut();
            (Pin::new_unchecked(&mut this.value), &mut this.delay)
        };
        let had_budget = crate::coop::has_budget();
        // The inner future first: a result that is ready counts even if the
        // deadline passed while it was waiting to be polled.
        if let Poll::Ready(output) = value.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        // Unbudgeted only if the inner future just spent the task's last
        // unit, so the deadline fires around a future that spends the whole
        // budget (finding 60); budgeted otherwise, or a loop of elapsed
        // timeouts never yielded (RELIABILITY finding 68).
        let budgeted = !had_budget || crate::coop::has_budget();
        match delay.poll_for_timeout(cx, budgeted) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed::new())),
            Poll::Pending => Poll::Pending,
        }
    }
}
