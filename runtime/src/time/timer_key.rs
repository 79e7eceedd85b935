//! [`TimerKey`]: the name of one pending timer inside [`Timers`](super::timers::Timers).

/// Names one entry of [`Timers`](super::timers::Timers).
///
/// `index` says where the entry lives (its slab slot); `seq` says which
/// timer it is. Slab slots are reused once a timer fires or is cancelled,
/// but sequence numbers never are, so a stale key finds a slot that is
/// empty or holds a different `seq`: `cancel`, `update_waker` and
/// `reschedule` on it are harmless misses, never hits on a newer timer.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) struct TimerKey {
    /// Slab slot of the entry: makes every lookup O(1).
    pub(crate) index: u32,
    /// Insertion counter of the timer; must match the entry's for the key
    /// to be live (u64 cannot wrap in practice).
    pub(crate) seq: u64,
}
