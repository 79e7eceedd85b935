//! [`Entry`]: one pending timer, as stored in the wheel's slab.

use std::task::Waker;
use std::time::Instant;

/// One pending timer: what to wake, when, and where it sits in the wheel.
///
/// Entries live in a `Slab`; the wheel's slot lists are doubly linked
/// through `prev`/`next`, which are slab indices (so no pointers and no
/// `unsafe`), with [`NIL`](super::NIL) for "none".
#[derive(Debug)]
pub(crate) struct Entry {
    /// The exact deadline: orders timers within one millisecond tick.
    pub(crate) deadline: Instant,
    /// Insertion counter, unique for the life of the wheel: orders equal
    /// deadlines and tells a live key from a stale one that names a
    /// reused slab slot.
    pub(crate) seq: u64,
    /// `deadline` rounded up to the wheel's tick, kept so cascading an
    /// entry down a level needs no clock arithmetic; but see `moved_later`.
    pub(crate) tick: u64,
    /// Woken when the timer fires.
    pub(crate) waker: Waker,
    /// Previous entry in the same slot list, or `NIL` at the head.
    pub(crate) prev: u32,
    /// Next entry in the same slot list, or `NIL` at the tail.
    pub(crate) next: u32,
    /// Which list holds this entry (see `Slots`), so cancel can unlink it
    /// and clear the slot's occupancy bit without recomputing its place.
    pub(crate) list: u16,
    /// The deadline moved later since `tick` was computed, and `tick` was
    /// left as it was: a lower bound of the deadline's tick, no earlier
    /// than the tick at which the entry's list comes up. The entry's real
    /// tick is worked out when that list comes up (`Timers::settle`), so a
    /// reset pushing an idle timeout back costs no clock arithmetic.
    pub(crate) moved_later: bool,
}
