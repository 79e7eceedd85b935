//! [`MissedTickBehavior`]: what an [`Interval`](super::Interval) does after
//! falling behind its schedule.

use std::time::{Duration, Instant};

use super::sleep::far_future;

/// What an [`Interval`](super::Interval) does when a tick is returned late
/// (a slow loop body, a blocked thread, a busy runtime): observed more
/// than 5 ms after it was due, as in tokio. The timers count whole
/// milliseconds and a parked runtime wakes a little after a deadline, so
/// nearly every tick is observed slightly late; a smaller slack would make
/// `Delay` drift and `Skip` skip on an idle machine. So with a period under
/// 5 ms, a stall shorter than 5 ms is caught up tick by tick whatever the
/// behaviour, as `Burst` does.
///
/// Example with a 10 ms period started at 0 ms, where the tick due at 10 ms
/// is only observed at 35 ms:
///
/// ```text
///  behaviour   ticks returned (scheduled instants)       next deadlines after 35
///  Burst       0, 10, 20, 30 (20, 30 immediately), 40     20, 30, 40, 50 ...
///  Delay       0, 10, then 45, 55 ...                     45, 55, 65 ...
///  Skip        0, 10, then 40, 50 ...                     40, 50, 60 ...
/// ```
///
/// The same with `Burst`, which returns the scheduled instants:
///
/// ```
/// use std::time::{Duration, Instant};
/// # eddy::run(async {
/// let start = Instant::now();
/// let ms = Duration::from_millis;
/// let mut every = eddy::time::interval_at(start, ms(10));
/// assert_eq!(every.tick().await, start);
/// assert_eq!(every.tick().await, start + ms(10));
/// std::thread::sleep(ms(25)); // a slow step (blocking the runtime!)
/// // Burst (the default) catches up: 20 and 30 are returned at once.
/// assert_eq!(every.tick().await, start + ms(20));
/// assert_eq!(every.tick().await, start + ms(30));
/// assert_eq!(every.tick().await, start + ms(40));
/// # });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MissedTickBehavior {
    /// Catch up: return every missed tick as fast as possible until back on
    /// the original schedule. The default, as in tokio.
    #[default]
    Burst,
    /// Restart the schedule from now: the next tick is one period after the
    /// late one was observed. Ticks are never closer than one period.
    Delay,
    /// Drop the missed ticks and resume on the original grid: the next tick
    /// is the first multiple of the period after now.
    Skip,
}

impl MissedTickBehavior {
    /// The deadline of the tick after one scheduled at `due` but observed
    /// (late) at `now`.
    pub(crate) fn next_deadline(self, due: Instant, now: Instant, period: Duration) -> Instant {
        let next = match self {
            MissedTickBehavior::Burst => due.checked_add(period),
            MissedTickBehavior::Delay => now.checked_add(period),
            MissedTickBehavior::Skip => {
                let late = now.saturating_duration_since(due).as_nanos();
                // `period` is never zero (Interval rejects it), so `%` cannot
                // divide by zero; the remainder is below `period`, so the
                // subtraction below cannot underflow.
                let into_period = late % period.as_nanos();
                let into_period =
                    Duration::from_nanos(u64::try_from(into_period).unwrap_or(u64::MAX));
                now.checked_add(period.saturating_sub(into_period))
            }
        };
        next.unwrap_or_else(|| far_future(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn burst_keeps_the_original_schedule() {
        let t0 = Instant::now();
        let next = MissedTickBehavior::Burst.next_deadline(t0 + ms(10), t0 + ms(35), ms(10));
        assert_eq!(next, t0 + ms(20));
    }

    #[test]
    fn delay_restarts_the_schedule_from_now() {
        let t0 = Instant::now();
        let next = MissedTickBehavior::Delay.next_deadline(t0 + ms(10), t0 + ms(35), ms(10));
        assert_eq!(next, t0 + ms(45));
    }

    #[test]
    fn skip_resumes_on_the_next_multiple_of_the_period() {
        let t0 = Instant::now();
        let next = MissedTickBehavior::Skip.next_deadline(t0 + ms(10), t0 + ms(35), ms(10));
        assert_eq!(next, t0 + ms(40));
        // Observed exactly on a grid point: the next grid point, not now.
        let next = MissedTickBehavior::Skip.next_deadline(t0 + ms(10), t0 + ms(30), ms(10));
        assert_eq!(next, t0 + ms(40));
    }

    #[test]
    fn the_default_is_burst() {
        assert_eq!(MissedTickBehavior::default(), MissedTickBehavior::Burst);
    }
}
