//! [`TimerKey`]: the name of one pending timer inside [`Timers`](super::timers::Timers).

use std::time::Instant;

/// Names one entry of [`Timers`](super::timers::Timers).
///
/// The key *is* the entry's position in the ordered map: its deadline first,
/// then a sequence number. Because the sequence number is never reused, a key
/// whose timer already fired (or was cancelled) can never name a newer timer,
/// so `cancel` and `update_waker` on a stale key simply find nothing.
///
/// The derived `Ord` compares `deadline` before `seq` (field order matters):
/// that is what makes the map iterate timers in deadline order, and timers
/// with equal deadlines in the order they were inserted.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub(crate) struct TimerKey {
    /// When the timer fires; first, so map order is deadline order.
    pub(crate) deadline: Instant,
    /// Insertion counter; tells apart equal deadlines and makes a fired key
    /// impossible to confuse with a later timer.
    pub(crate) seq: u64,
}
