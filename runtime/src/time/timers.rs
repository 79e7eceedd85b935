//! [`Timers`]: every pending timer of one runtime, in a hierarchical
//! timing wheel.
//!
//! The runtime core owns one `Timers`. `Sleep` inserts an entry on its first
//! pending poll, refreshes the waker on later polls and cancels on drop; the
//! core asks [`Timers::next_deadline`] how long it may park and calls
//! [`Timers::drain_expired`] after every driver turn, waking what it
//! returns once its borrow of the timers has ended.

use std::cell::Cell;
use std::fmt;
use std::task::Waker;
use std::time::Instant;

use slab::Slab;

use super::timer_key::TimerKey;
use super::wheel::{Clock, Due, Entry, NIL, Slots, sort_due};

/// Slab capacity (entries) kept when the last timer goes: enough for a
/// busy runtime's steady state, small enough (64 KiB) to not matter.
const KEEP_CAPACITY: usize = 1024;

/// The pending timers of one runtime.
///
/// Entries live in a slab; six levels of 64 slot lists ([`Slots`]) sort
/// them by millisecond tick. Insert, cancel, reschedule and waker updates
/// are O(1); finding the next deadline is a scan of six `u64`s; firing
/// sorts each due millisecond's entries by exact deadline, so timers fire
/// in `(deadline, insertion)` order, up to one millisecond late, never
/// early. When the last timer goes, a large slab is freed.
pub(crate) struct Timers {
    /// Every pending timer; [`TimerKey::index`] is its slot here.
    entries: Slab<Entry>,
    /// The wheel's slot lists, threaded through `entries`.
    slots: Slots,
    /// Converts deadlines and the present to millisecond ticks.
    clock: Clock,
    /// Every tick up to and including this one has been drained: entries
    /// in the wheel are due after it (or at it, if inserted already due).
    elapsed: u64,
    /// Sequence number of the next insert or reschedule; only ever grows,
    /// so keys are unique for the life of the runtime (u64 cannot wrap in
    /// practice).
    next_seq: u64,
    /// Scratch for sorting one due millisecond by exact deadline: `(sort
    /// key, seq, slab index)` (see `fire`). Kept to reuse its allocation,
    /// trimmed after a burst.
    firing: Vec<Due>,
    /// Second buffer for the counting sort (see `sort_due`), kept likewise.
    sort_spare: Vec<Due>,
    /// The instant at which the next list comes up (`None`: the wheel is
    /// empty), once worked out, until the wheel changes (`wheel_changed`).
    /// The runtime asks twice a turn, before parking and after; a timeout
    /// pushed back without moving (`reschedule`) changes nothing, so an
    /// idle timeout reset once a message is a look-up here, not a scan of
    /// the levels and an `Instant` addition each time.
    next_due: Cell<Option<Option<Instant>>>,
    /// The tick last worked out from a deadline (`u64::MAX`: none yet).
    last_tick: u64,
    /// The deadlines whose tick is `last_tick` (see `Clock::deadlines_of`),
    /// once two deadlines in a row had it. Timeouts started or pushed back
    /// within one millisecond share a tick, and two `Instant` comparisons
    /// find it where `Clock::deadline_tick` costs a subtraction of
    /// `Instant`s and the rounding (about 70 instructions, callgrind).
    /// Not worked out for the first deadline of a tick: a program whose
    /// deadlines are all a millisecond or more apart (a loop of short
    /// sleeps) would pay for the span at every insert and never use it.
    last_tick_span: Option<(Instant, Instant)>,
}

impl Timers {
    /// An empty set of timers whose millisecond ticks count from now.
    pub(crate) fn new() -> Timers {
        Timers::starting_at(Instant::now())
    }

    /// An empty set of timers whose tick 0 begins at `start`; tests use it
    /// to put deadlines exactly on tick boundaries.
    pub(crate) fn starting_at(start: Instant) -> Timers {
        Timers {
            entries: Slab::new(),
            slots: Slots::new(),
            clock: Clock::new(start),
            elapsed: 0,
            next_seq: 0,
            firing: Vec::new(),
            sort_spare: Vec::new(),
            next_due: Cell::new(None),
            last_tick: u64::MAX,
            last_tick_span: None,
        }
    }

    /// Adds a timer that wakes `waker` once `deadline` has passed.
    ///
    /// Takes the waker already cloned: a clone is the caller's code, which
    /// may reach these timers, and must not run while they are borrowed.
    pub(crate) fn insert(&mut self, deadline: Instant, waker: Waker) -> TimerKey {
        let seq = self.take_seq();
        let tick = self.deadline_tick(deadline);
        let index = self.entries.insert(Entry {
            deadline,
            seq,
            tick,
            waker,
            prev: NIL,
            next: NIL,
            list: 0,
            moved_later: false,
        });
        // Four billion live timers would need 256 GiB of entries first.
        let index = u32::try_from(index)
            .ok()
            .filter(|&index| index != NIL)
            .expect("eddy: more than 4 billion pending timers");
        self.slots
            .link(Slots::place(tick, self.elapsed), index, &mut self.entries);
        self.wheel_changed();
        TimerKey { index, seq }
    }

    /// Whether the pending timer `key` would wake the same task as
    /// `waker` (`None`: it fired or was cancelled, insert anew). A
    /// comparison, no clone: the common re-poll from the same task costs
    /// no atomic increment.
    pub(crate) fn wakes_same_task(&self, key: TimerKey, waker: &Waker) -> Option<bool> {
        match self.entries.get(key.index as usize) {
            Some(entry) if entry.seq == key.seq => Some(entry.waker.will_wake(waker)),
            _ => None,
        }
    }

    /// Gives the pending timer `key` a new waker and returns the old one;
    /// `Err` gives `waker` back when `key` no longer names a pending timer.
    /// Either way the caller drops the waker it gets, after its borrow of
    /// the timers ends: dropping one runs the waker's own code.
    pub(crate) fn replace_waker(&mut self, key: TimerKey, waker: Waker) -> Result<Waker, Waker> {
        match self.entries.get_mut(key.index as usize) {
            Some(entry) if entry.seq == key.seq => Ok(std::mem::replace(&mut entry.waker, waker)),
            _ => Err(waker),
        }
    }

    /// Moves a pending timer to a new deadline, keeping its waker.
    ///
    /// Returns the new key, or `None` when `key` had already fired or been
    /// cancelled (its waker was already woken or dropped; nothing to move).
    /// The old key goes stale: the timer now sorts as if newly inserted.
    ///
    /// A timer moved later stays in its slot list, which comes up no later
    /// than its old tick: the drain that reaches it then works out its new
    /// tick and places it again by that instead of firing it (`settle`,
    /// `fire`, `cascade`). That is the idle timeout pushed back on every
    /// message, and leaving it in place, with its tick not even computed
    /// (an `Instant` comparison decides "later"), saves an unlink and a
    /// link per reset (about 100 instructions a message, callgrind) and the
    /// conversion of the deadline to a tick (about 90 more). Only a timer
    /// moved to an earlier tick must move now, or its list would come up
    /// too late.
    pub(crate) fn reschedule(&mut self, key: TimerKey, deadline: Instant) -> Option<TimerKey> {
        if !self.is_live(key) {
            return None;
        }
        let seq = self.take_seq();
        let entry = &mut self.entries[key.index as usize];
        entry.seq = seq;
        let key = TimerKey {
            index: key.index,
            seq,
        };
        if deadline >= entry.deadline {
            // Its tick can only have grown: `tick` stays a lower bound.
            entry.deadline = deadline;
            entry.moved_later = true;
            return Some(key);
        }
        let tick = self.deadline_tick(deadline);
        let entry = &mut self.entries[key.index as usize];
        // `entry.tick` is the old deadline's tick, or a lower bound of it
        // no earlier than when the entry's list comes up: a new tick at or
        // after it is still reached in time.
        let earlier = tick < entry.tick;
        entry.deadline = deadline;
        entry.tick = tick;
        entry.moved_later = false;
        if earlier {
            self.slots.unlink(key.index, &mut self.entries);
            self.slots.link(
                Slots::place(tick, self.elapsed),
                key.index,
                &mut self.entries,
            );
            self.wheel_changed();
        }
        Some(key)
    }

    /// Removes a timer and frees its entry. Harmless when it already fired.
    /// Returns the timer's waker for the caller to drop once its borrow of
    /// the timers ends (see [`replace_waker`](Self::replace_waker)).
    pub(crate) fn cancel(&mut self, key: TimerKey) -> Option<Waker> {
        if !self.is_live(key) {
            return None;
        }
        self.slots.unlink(key.index, &mut self.entries);
        self.wheel_changed();
        let entry = self.entries.remove(key.index as usize);
        self.release_if_empty();
        Some(entry.waker)
    }

    /// When the runtime must next call [`drain_expired`](Self::drain_expired):
    /// the parking limit.
    ///
    /// Never later than the moment the earliest timer becomes due (its
    /// deadline rounded up to the millisecond). It may be earlier: a slot
    /// above level 0 reports its first tick, when its entries must move
    /// down, and a timer rescheduled later still sits in its old slot
    /// until then; that drain fires nothing and the runtime parks again. Right
    /// after a drain it is always after that drain's `now` (the runtime
    /// never spins), unless a timer was inserted since that is already due,
    /// or that landed above level 0 in a slot which began before `now`:
    /// a drain with nothing due (and a wheel with no timer, which is not
    /// drained) leaves `elapsed` behind, and a timer placed relative to an
    /// old `elapsed` can land in a slot whose start has passed. Its slot
    /// then comes up at once: one driver turn that does not wait, whose
    /// drain moves it down and brings `elapsed` up to `now`, and no more.
    #[inline]
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        // The runtime asks before every park; with no timer pending (a
        // plain server) this answers without walking six levels.
        if self.is_empty() {
            return None;
        }
        self.next_due()
    }

    /// Removes every timer due by `now` (deadline rounded up to the
    /// millisecond, at or before `now`) and appends their wakers to `out`
    /// in `(deadline, insertion)` order, without waking them.
    ///
    /// Returns how many were removed. Lets the runtime wake outside whatever
    /// borrow guards its `Timers`. `now` must not go backwards (it is
    /// `Instant::now()`); an earlier `now` than last time fires nothing new.
    pub(crate) fn drain_expired(&mut self, now: Instant, out: &mut Vec<Waker>) -> usize {
        // Most drains (every driver turn while a timer is pending) find
        // nothing due: the cheap test first.
        if !self.needs_drain(now) {
            return 0;
        }
        self.wheel_changed();
        let before = out.len();
        let now_tick = self.clock.now_tick(now);
        while let Some(next) = self.slots.next_expiration(self.elapsed) {
            if next.tick > now_tick {
                break;
            }
            debug_assert!(next.tick >= self.elapsed, "the wheel ran backwards");
            self.elapsed = next.tick;
            let head = self.slots.take(next.list);
            if next.fires() {
                self.fire(head, next.tick, out);
            } else {
                self.cascade(head);
            }
        }
        // Nothing left is due by `now_tick`, so every entry still stands in
        // the same slot relative to it.
        self.elapsed = self.elapsed.max(now_tick);
        self.release_if_empty();
        out.len() - before
    }

    /// Whether [`drain_expired`](Self::drain_expired) at `now` has anything
    /// to do: a timer to fire or a list to move down. `false` means it
    /// would return 0 and change nothing that matters (its `elapsed` may
    /// stay behind, which is always allowed: entries are due after it).
    ///
    /// One addition and one comparison, where turning `now` into a tick
    /// costs a subtraction and a division: the same test as the drain's,
    /// since `first.tick > now_tick` exactly when `now` is before the
    /// instant at which `first.tick` begins.
    #[inline]
    pub(crate) fn needs_drain(&self, now: Instant) -> bool {
        self.next_due().is_some_and(|first| now >= first)
    }

    /// Every pending timer's waker, for a shutdown that drops them one at
    /// a time: inside the slab's drop, a second waker whose `Drop` panics
    /// aborted the process (time rule 10, RELIABILITY finding 20).
    pub(crate) fn into_wakers(self) -> impl Iterator<Item = Waker> {
        self.entries.into_iter().map(|(_, entry)| entry.waker)
    }

    /// How many timers are pending.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no timer is pending (lets the runtime skip the clock read).
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether `key` names a pending timer (not a fired or cancelled one
    /// whose slab slot may since hold another).
    fn is_live(&self, key: TimerKey) -> bool {
        self.entries
            .get(key.index as usize)
            .is_some_and(|entry| entry.seq == key.seq)
    }

    /// The next sequence number.
    fn take_seq(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }

    /// `Clock::deadline_tick`, answered from `last_tick_span` when the
    /// deadline falls in the same millisecond as the last ones.
    fn deadline_tick(&mut self, deadline: Instant) -> u64 {
        if let Some((after, up_to)) = self.last_tick_span {
            if deadline > after && deadline <= up_to {
                debug_assert_eq!(self.last_tick, self.clock.deadline_tick(deadline));
                return self.last_tick;
            }
        }
        let tick = self.clock.deadline_tick(deadline);
        if tick == self.last_tick {
            // The second deadline in a row in this millisecond (the span
            // is not kept yet, or this is tick 0, which has none).
            self.last_tick_span = self.clock.deadlines_of(tick);
        } else {
            self.last_tick = tick;
            self.last_tick_span = None;
        }
        tick
    }

    /// The instant at which the next list comes up: at or before the
    /// earliest deadline, rounded up to its tick. Kept in `next_due`.
    #[inline]
    fn next_due(&self) -> Option<Instant> {
        if let Some(next) = self.next_due.get() {
            debug_assert_eq!(next, self.work_out_next_due(), "next_due is stale");
            return next;
        }
        let next = self.work_out_next_due();
        self.next_due.set(Some(next));
        next
    }

    /// `next_due`, from the levels.
    fn work_out_next_due(&self) -> Option<Instant> {
        let next = self.slots.next_expiration(self.elapsed)?;
        Some(self.clock.instant_at(next.tick))
    }

    /// Forgets `next_due`: every change to the slot lists or to `elapsed`
    /// calls it.
    fn wheel_changed(&mut self) {
        *self.next_due.get_mut() = None;
    }

    /// The tick of entry `index`, first worked out from its deadline if that
    /// moved later since (see `reschedule`). Called as its list comes up.
    fn settle(&mut self, index: u32) -> u64 {
        let entry = &self.entries[index as usize];
        if !entry.moved_later {
            return entry.tick;
        }
        let tick = self.deadline_tick(entry.deadline);
        let entry = &mut self.entries[index as usize];
        entry.tick = tick;
        entry.moved_later = false;
        tick
    }

    /// Frees every entry of the level-0 list starting at `head`, the slot
    /// of `tick` (all due), pushing their wakers to `out` sorted by
    /// `(deadline, seq)`.
    fn fire(&mut self, head: u32, tick: u64, out: &mut Vec<Waker>) {
        // Every deadline in the slot is at or before the tick's start, so
        // "how long before it" is exact and never negative, even for a
        // deadline from before the wheel existed; as a `u64` of nanoseconds
        // it sorts several times faster than an `Instant`. The larger that
        // distance, the earlier the deadline: the key counts down from MAX.
        let end = self.clock.instant_at(tick);
        let mut index = head;
        while index != NIL {
            let entry_tick = self.settle(index);
            let entry = &self.entries[index as usize];
            let next = entry.next;
            if entry_tick > tick {
                // Rescheduled later while it sat here (see `reschedule`):
                // not due, so it goes to the slot of its new tick, which
                // lies ahead of `tick` (`elapsed` is `tick` now).
                let list = Slots::place(entry_tick, self.elapsed);
                self.slots.link(list, index, &mut self.entries);
            } else {
                let before = end.saturating_duration_since(entry.deadline).as_nanos();
                let key = u64::MAX - u64::try_from(before).unwrap_or(u64::MAX);
                self.firing.push((key, entry.seq, index));
            }
            index = next;
        }
        // Keys are unique (seq is), so the order is exact.
        sort_due(&mut self.firing, &mut self.sort_spare);
        out.reserve(self.firing.len());
        for &(_, _, index) in &self.firing {
            out.push(self.entries.remove(index as usize).waker);
        }
        self.firing.clear();
        self.sort_spare.clear();
        // A burst of a million timers in one millisecond must not pin
        // 48 MB of scratch for the life of the runtime.
        self.firing.shrink_to(KEEP_CAPACITY);
        self.sort_spare.shrink_to(KEEP_CAPACITY);
    }

    /// Places every entry of the list starting at `head` again, relative to
    /// the new `elapsed`: each lands on a lower level (or the wheel, for
    /// the overflow), or, if it was rescheduled later while it sat there,
    /// wherever its new tick belongs (always a slot ahead of `elapsed`).
    fn cascade(&mut self, head: u32) {
        let mut index = head;
        while index != NIL {
            let tick = self.settle(index);
            let next = self.entries[index as usize].next;
            self.slots
                .link(Slots::place(tick, self.elapsed), index, &mut self.entries);
            index = next;
        }
    }

    /// Frees a large slab once no timer is left. A slab never shrinks while
    /// in use (keys are indices, so entries cannot move); this is what makes
    /// a burst of a million timers cost nothing once they are gone.
    fn release_if_empty(&mut self) {
        if self.entries.is_empty() && self.entries.capacity() > KEEP_CAPACITY {
            self.entries = Slab::new();
        }
    }
}

impl Default for Timers {
    fn default() -> Timers {
        Timers::new()
    }
}

impl fmt::Debug for Timers {
    // Summarised on purpose: printing a million wakers helps nobody.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timers")
            .field("len", &self.entries.len())
            .field("next_deadline", &self.next_deadline())
            .field("elapsed_ms", &self.elapsed)
            .field("next_seq", &self.next_seq)
            .finish()
    }
}

// In a file of their own; a child module, so they see `Timers`' private
// parts.
#[cfg(test)]
#[path = "timers_tests.rs"]
mod tests;
