//! [`Interval`]: ticks at a fixed period; [`interval`] and [`interval_at`]
//! build one.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::missed_tick_behavior::MissedTickBehavior;
use super::sleep::{Sleep, deadline_after, sleep_until};

/// How late a tick may be observed and still count as on time.
///
/// The timers have millisecond resolution and a parked runtime wakes a
/// little after a deadline, so nearly every tick is observed slightly late.
/// Without this slack, `Delay` and `Skip` would treat every such tick as
/// missed and drift or skip on an idle machine.
const ON_TIME_SLACK: Duration = Duration::from_millis(5);

/// An interval whose first tick completes immediately and later ticks every
/// `period` after that. Missed ticks are caught up in a burst (see
/// [`MissedTickBehavior`]).
///
/// # Panics
///
/// Panics if `period` is zero: such an interval would always be ready and
/// spin its task forever (tokio panics the same way).
///
/// ```
/// use std::time::Duration;
/// # eddy::run(async {
/// let mut every = eddy::time::interval(Duration::from_millis(10));
/// let first = every.tick().await; // at once
/// for n in 1..3 {
///     let tick = every.tick().await; // 10 ms, then 20 ms, after the first
///     assert_eq!(tick - first, n * Duration::from_millis(10));
/// }
/// # });
/// ```
pub fn interval(period: Duration) -> Interval {
    interval_at(Instant::now(), period)
}

/// An interval whose first tick completes at `start` and later ticks every
/// `period` after that. See [`interval`].
///
/// ```
/// use std::time::{Duration, Instant};
/// # eddy::run(async {
/// let start = Instant::now() + Duration::from_millis(5);
/// let mut every = eddy::time::interval_at(start, Duration::from_millis(10));
/// assert_eq!(every.tick().await, start); // not before `start`
/// assert_eq!(every.tick().await, start + Duration::from_millis(10));
/// # });
/// ```
///
/// # Panics
///
/// Panics if `period` is zero.
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(
        !period.is_zero(),
        "eddy::time::interval: `period` must be non-zero"
    );
    Interval {
        delay: sleep_until(start),
        period,
        missed_tick_behavior: MissedTickBehavior::default(),
    }
}

/// A stream of ticks at a fixed period. Built by [`interval`] and
/// [`interval_at`]; await [`Interval::tick`] for each tick.
///
/// It is not a `futures` `Stream` (eddy does not depend on
/// `futures-core`; tokio's is not one either). For `StreamExt`'s
/// combinators, wrap it:
/// `futures_lite::stream::poll_fn(move |cx| every.poll_tick(cx).map(Some))`.
#[derive(Debug)]
pub struct Interval {
    /// Completes at the next scheduled tick; its deadline *is* the schedule.
    delay: Sleep,
    /// Time between two scheduled ticks; never zero.
    period: Duration,
    /// How the schedule recovers after a tick is observed late.
    missed_tick_behavior: MissedTickBehavior,
}

impl Interval {
    /// Completes at the next tick, returning the instant it was scheduled
    /// for (not the possibly later instant it was observed).
    ///
    /// Cancel safe: dropping the future before it completes loses no tick.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// # eddy::run(async {
    /// let start = Instant::now();
    /// let period = Duration::from_millis(10);
    /// let mut every = eddy::time::interval_at(start, period);
    /// assert_eq!(every.tick().await, start);
    /// let tick = every.tick().await;
    /// assert_eq!(tick, start + period); // the instant it was due
    /// assert!(Instant::now() >= tick); // never early
    /// # });
    /// ```
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick; `Ready` with the tick's scheduled instant.
    ///
    /// When it returns `Pending`, the waker of `cx` is woken at the tick.
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        if Pin::new(&mut self.delay).poll(cx).is_pending() {
            return Poll::Pending;
        }
        let due = self.delay.deadline();
        let now = Instant::now();
        let next = if now.saturating_duration_since(due) > ON_TIME_SLACK {
            self.missed_tick_behavior
                .next_deadline(due, now, self.period)
        } else {
            deadline_after(due, self.period)
        };
        Pin::new(&mut self.delay).reset(next);
        Poll::Ready(due)
    }

    /// Restarts the schedule: the next tick is one period from now.
    pub fn reset(&mut self) {
        self.reset_at(deadline_after(Instant::now(), self.period));
    }

    /// Restarts the schedule: the next tick completes immediately.
    pub fn reset_immediately(&mut self) {
        self.reset_at(Instant::now());
    }

    /// Restarts the schedule: the next tick is `after` from now.
    pub fn reset_after(&mut self, after: Duration) {
        self.reset_at(deadline_after(Instant::now(), after));
    }

    /// Restarts the schedule: the next tick is at `deadline`.
    pub fn reset_at(&mut self, deadline: Instant) {
        Pin::new(&mut self.delay).reset(deadline);
    }

    /// How this interval recovers from missed ticks.
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed_tick_behavior
    }

    /// Sets how this interval recovers from missed ticks.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use eddy::time::MissedTickBehavior;
    /// # eddy::run(async {
    /// let period = Duration::from_millis(10);
    /// let mut every = eddy::time::interval(period);
    /// every.set_missed_tick_behavior(MissedTickBehavior::Delay);
    /// every.tick().await;
    /// let slow_step = Instant::now();
    /// std::thread::sleep(Duration::from_millis(35)); // (blocking the runtime!)
    /// every.tick().await; // late: returned at once
    /// // Delay: the schedule starts again a period after the late tick.
    /// let next = every.tick().await;
    /// assert!(next >= slow_step + Duration::from_millis(35) + period);
    /// # });
    /// ```
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed_tick_behavior = behavior;
    }

    /// Time between two scheduled ticks.
    pub fn period(&self) -> Duration {
        self.period
    }
}
