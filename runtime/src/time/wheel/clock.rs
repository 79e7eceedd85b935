//! [`Clock`]: converts between `Instant`s and the wheel's millisecond ticks.

use std::time::{Duration, Instant};

/// Measures time in whole milliseconds ("ticks") since the wheel was built.
///
/// Deadlines round *up* to a tick and the present rounds *down*, so a timer
/// whose tick has been reached is always due: the wheel may fire up to one
/// millisecond late, never early.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clock {
    /// Tick 0. Instants before it count as tick 0.
    start: Instant,
}

/// Nanoseconds in one tick.
const NANOS_PER_TICK: u32 = 1_000_000;

impl Clock {
    /// A clock whose tick 0 is `start`.
    pub(crate) fn new(start: Instant) -> Clock {
        Clock { start }
    }

    /// The first tick at or after `deadline`: reaching it means the
    /// deadline has passed.
    pub(crate) fn deadline_tick(&self, deadline: Instant) -> u64 {
        let since = deadline.saturating_duration_since(self.start);
        let whole = since.as_secs().saturating_mul(1000);
        // `div_ceil`, not `/`: a deadline 0.4 ms into tick 6 belongs to tick
        // 7, or it would fire 0.6 ms before it is due.
        whole.saturating_add(u64::from(since.subsec_nanos().div_ceil(NANOS_PER_TICK)))
    }

    /// The last tick at or before `now`: every tick up to it has begun.
    pub(crate) fn now_tick(&self, now: Instant) -> u64 {
        let since = now.saturating_duration_since(self.start);
        let whole = since.as_secs().saturating_mul(1000);
        whole.saturating_add(u64::from(since.subsec_nanos() / NANOS_PER_TICK))
    }

    /// The deadlines whose tick is `tick`: those after the first instant
    /// and at or before the second (the millisecond that ends as `tick`
    /// begins). `None` for tick 0, which also takes every deadline before
    /// the clock's start, and for a tick too far out for an `Instant`.
    pub(crate) fn deadlines_of(&self, tick: u64) -> Option<(Instant, Instant)> {
        let after = self
            .start
            .checked_add(Duration::from_millis(tick.checked_sub(1)?))?;
        let up_to = self.start.checked_add(Duration::from_millis(tick))?;
        Some((after, up_to))
    }

    /// The instant at which `tick` begins.
    pub(crate) fn instant_at(&self, tick: u64) -> Instant {
        // Ticks the wheel reports lie within about two years of the present,
        // so this cannot overflow on a real clock; should it, waking 30
        // years out is a harmless early wake, not a hang.
        self.start
            .checked_add(Duration::from_millis(tick))
            .unwrap_or_else(|| super::super::sleep::far_future(self.start))
    }
}
