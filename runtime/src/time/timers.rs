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
    /// a time: dropping the whole `Timers` would drop them inside the
    /// slab's drop, where one waker whose `Drop` panics (foreign code)
    /// unwinds out and a second aborts the process.
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use std::task::Wake;
    use std::time::Duration;

    /// Fires what is due the way the runtime does: drain, then wake.
    fn fire(timers: &mut Timers, now: Instant) -> usize {
        let mut fired = Vec::new();
        let count = timers.drain_expired(now, &mut fired);
        fired.into_iter().for_each(Waker::wake);
        count
    }

    /// A waker that records its label in a shared log each time it is woken.
    struct Recorder {
        /// Which timer this is, as written to the log.
        label: u32,
        /// Shared record of wake-ups, in the order they happened.
        log: Arc<Mutex<Vec<u32>>>,
    }

    impl Wake for Recorder {
        fn wake(self: Arc<Self>) {
            self.log.lock().unwrap().push(self.label);
        }
    }

    fn recorder(label: u32, log: &Arc<Mutex<Vec<u32>>>) -> Waker {
        Waker::from(Arc::new(Recorder {
            label,
            log: Arc::clone(log),
        }))
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn fire_expired_wakes_only_due_timers_in_deadline_order() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let base = Instant::now();
        let mut timers = Timers::starting_at(base);
        timers.insert(base + ms(30), recorder(3, &log));
        timers.insert(base + ms(10), recorder(1, &log));
        timers.insert(base + ms(20), recorder(2, &log));

        assert_eq!(fire(&mut timers, base + ms(20)), 2);
        assert_eq!(*log.lock().unwrap(), vec![1, 2]);
        assert_eq!(timers.len(), 1);

        assert_eq!(fire(&mut timers, base + ms(29)), 0);
        assert_eq!(fire(&mut timers, base + ms(30)), 1);
        assert_eq!(*log.lock().unwrap(), vec![1, 2, 3]);
        assert_eq!(timers.len(), 0);
    }

    #[test]
    fn equal_deadlines_fire_in_insertion_order() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let at = Instant::now();
        let mut timers = Timers::starting_at(at);
        for label in 0..5 {
            timers.insert(at, recorder(label, &log));
        }
        assert_eq!(fire(&mut timers, at), 5);
        assert_eq!(*log.lock().unwrap(), vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn next_deadline_is_the_earliest_pending_one() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let base = Instant::now();
        let mut timers = Timers::starting_at(base);
        assert_eq!(timers.next_deadline(), None);
        let late = timers.insert(base + ms(50), recorder(0, &log));
        assert_eq!(timers.next_deadline(), Some(base + ms(50)));
        let early = timers.insert(base + ms(5), recorder(1, &log));
        assert_eq!(timers.next_deadline(), Some(base + ms(5)));
        timers.cancel(early);
        assert_eq!(timers.next_deadline(), Some(base + ms(50)));
        timers.cancel(late);
        assert_eq!(timers.next_deadline(), None);
    }

    #[test]
    fn cancelled_timer_never_wakes() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let base = Instant::now();
        let mut timers = Timers::starting_at(base);
        let key = timers.insert(base, recorder(7, &log));
        timers.insert(base, recorder(8, &log));
        timers.cancel(key);
        assert_eq!(timers.len(), 1);
        assert_eq!(fire(&mut timers, base), 1);
        assert_eq!(*log.lock().unwrap(), vec![8]);
    }

    #[test]
    fn cancel_after_fire_is_harmless_and_spares_newer_timers() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let at = Instant::now();
        let mut timers = Timers::starting_at(at);
        let fired = timers.insert(at, recorder(1, &log));
        assert_eq!(fire(&mut timers, at), 1);
        // A newer timer with the very same deadline reuses the fired one's
        // slab slot; it must not be taken for it: the sequence number tells
        // them apart.
        let newer = timers.insert(at, recorder(2, &log));
        timers.cancel(fired);
        timers.cancel(fired);
        assert_eq!(timers.len(), 1);
        assert!(timers.replace_waker(fired, recorder(3, &log)).is_err());
        assert_eq!(timers.wakes_same_task(fired, &recorder(3, &log)), None);
        assert_eq!(timers.reschedule(fired, at), None);
        assert_eq!(fire(&mut timers, at), 1);
        assert_eq!(*log.lock().unwrap(), vec![1, 2]);
        timers.cancel(newer);
        assert!(timers.is_empty());
    }

    #[test]
    fn replace_waker_replaces_the_waker_that_fires() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let at = Instant::now();
        let mut timers = Timers::starting_at(at);
        let key = timers.insert(at, recorder(1, &log));
        assert_eq!(timers.wakes_same_task(key, &recorder(2, &log)), Some(false));
        assert!(timers.replace_waker(key, recorder(2, &log)).is_ok());
        assert_eq!(fire(&mut timers, at), 1);
        assert_eq!(*log.lock().unwrap(), vec![2]);
    }

    #[test]
    fn reschedule_moves_deadline_and_keeps_waker() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let base = Instant::now();
        let mut timers = Timers::starting_at(base);
        let key = timers.insert(base + ms(10), recorder(1, &log));
        let moved = timers.reschedule(key, base + ms(40)).unwrap();
        assert_ne!(moved, key);
        assert_eq!(timers.len(), 1);
        assert_eq!(fire(&mut timers, base + ms(39)), 0);
        assert_eq!(timers.next_deadline(), Some(base + ms(40)));
        timers.cancel(key); // the old key is stale and must not touch the moved timer
        assert_eq!(fire(&mut timers, base + ms(40)), 1);
        assert_eq!(*log.lock().unwrap(), vec![1]);
    }

    #[test]
    fn a_timer_moved_later_is_not_fired_at_its_old_deadline() {
        // Left in its old slot, it must be placed again there, not fired,
        // and still fire in deadline order with a timer that never moved.
        let log = Arc::new(Mutex::new(Vec::new()));
        let base = Instant::now();
        let mut timers = Timers::starting_at(base);
        let key = timers.insert(base + ms(10), recorder(1, &log));
        timers.insert(base + ms(500), recorder(2, &log));
        let key = timers.reschedule(key, base + ms(300)).unwrap();
        let key = timers.reschedule(key, base + ms(600)).unwrap();
        let next = timers.next_deadline().unwrap();
        assert!(next <= base + ms(500), "parks past a due timer: {next:?}");
        assert_eq!(fire(&mut timers, base + ms(10)), 0);
        assert_eq!(fire(&mut timers, base + ms(300)), 0);
        assert_eq!(timers.len(), 2);
        assert_eq!(fire(&mut timers, base + ms(500)), 1);
        assert_eq!(*log.lock().unwrap(), vec![2]);
        assert!(timers.wakes_same_task(key, &recorder(1, &log)).is_some());
        assert!(timers.next_deadline().unwrap() <= base + ms(600));
        assert_eq!(fire(&mut timers, base + ms(599)), 0);
        assert_eq!(fire(&mut timers, base + ms(600)), 1);
        assert_eq!(*log.lock().unwrap(), vec![2, 1]);
        assert!(timers.is_empty());
    }

    #[test]
    fn a_timer_moved_later_then_back_fires_at_its_last_deadline() {
        // Moved later, its tick is left unworked; moved back after that,
        // whether before or after its first tick, it must still fire at
        // its last deadline, neither early nor late.
        let log = Arc::new(Mutex::new(Vec::new()));
        let base = Instant::now();
        let mut timers = Timers::starting_at(base);
        let a = timers.insert(base + ms(10), recorder(1, &log));
        let a = timers.reschedule(a, base + ms(300)).unwrap();
        timers.reschedule(a, base + ms(200)).unwrap();
        let b = timers.insert(base + ms(100), recorder(2, &log));
        let b = timers.reschedule(b, base + ms(300)).unwrap();
        timers.reschedule(b, base + ms(50)).unwrap();
        assert_eq!(fire(&mut timers, base + ms(49)), 0);
        assert_eq!(fire(&mut timers, base + ms(50)), 1);
        assert_eq!(fire(&mut timers, base + ms(199)), 0);
        assert_eq!(fire(&mut timers, base + ms(200)), 1);
        assert_eq!(*log.lock().unwrap(), vec![2, 1]);
        assert!(timers.is_empty());
    }

    #[test]
    fn a_deadline_tick_from_the_last_millisecond_matches_the_clock() {
        // The kept millisecond is open at its start and closed at its end,
        // like the rounding up: a deadline on a tick boundary belongs to
        // that tick, one a nanosecond later to the next.
        let base = Instant::now();
        let mut timers = Timers::starting_at(base);
        let clock = Clock::new(base);
        let ns = Duration::from_nanos;
        let deadlines = [
            base + ms(5),
            base + ms(5) - ns(1),
            base + ms(4) + ns(1),
            base + ms(5),
            base + ms(4),
            base + ms(5) + ns(1),
            base + ms(5),
            base,
            base + ns(1),
            base,
            base + ms(1),
            base + ms(1) + ns(1),
            base + ms(30_000),
            base + ms(30_000) - ns(999_999),
            base + ms(30_000) - ns(1_000_000),
        ];
        for deadline in deadlines {
            assert_eq!(
                timers.deadline_tick(deadline),
                clock.deadline_tick(deadline),
                "{:?} after the start",
                deadline - base
            );
        }
    }

    #[test]
    fn a_timer_moved_later_then_back_inside_its_old_upper_slot_fires_on_time() {
        // 5 s from a wheel at 0 sits in level 2's slot of 4096..8191 ms.
        // Moved later it stays there with its old tick; moved back to a
        // tick still in that slot (not earlier than the old one), it stays
        // too, and the slot's cascade must place it by the last deadline.
        let log = Arc::new(Mutex::new(Vec::new()));
        let base = Instant::now();
        let mut timers = Timers::starting_at(base);
        let a = timers.insert(base + ms(5_000), recorder(1, &log));
        let a = timers.reschedule(a, base + ms(400_000)).unwrap();
        timers.reschedule(a, base + ms(6_000)).unwrap();
        let b = timers.insert(base + ms(5_500), recorder(2, &log));
        let b = timers.reschedule(b, base + ms(900_000)).unwrap();
        let b = timers.reschedule(b, base + ms(4_500)).unwrap();
        let b = timers.reschedule(b, base + ms(4_700)).unwrap();
        assert_eq!(fire(&mut timers, base + ms(4_699)), 0);
        assert_eq!(fire(&mut timers, base + ms(4_700)), 1);
        assert_eq!(fire(&mut timers, base + ms(5_999)), 0);
        assert!(timers.reschedule(b, base + ms(1)).is_none(), "b fired");
        assert_eq!(timers.len(), 1);
        assert_eq!(fire(&mut timers, base + ms(6_000)), 1);
        assert_eq!(*log.lock().unwrap(), vec![2, 1]);
        assert!(timers.is_empty());
    }

    #[test]
    fn timers_moved_later_are_all_handed_back_at_shutdown() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let base = Instant::now();
        let mut timers = Timers::starting_at(base);
        for label in 0..10 {
            let key = timers.insert(base + ms(10 * u64::from(label)), recorder(label, &log));
            timers.reschedule(key, base + ms(60_000)).unwrap();
        }
        assert_eq!(fire(&mut timers, base + ms(100)), 0);
        let wakers: Vec<Waker> = timers.into_wakers().collect();
        assert_eq!(wakers.len(), 10);
        wakers.into_iter().for_each(Waker::wake);
        let mut woken = log.lock().unwrap().clone();
        woken.sort_unstable();
        assert_eq!(woken, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn a_timer_placed_behind_a_lagging_wheel_costs_at_most_one_early_wakeup() {
        // A drain that finds nothing due leaves `elapsed` at 0; a timer
        // inserted at 5 s for 5.010 s then lands in level 2's slot of
        // 4096..8191 ms, which has begun: the runtime does not wait once,
        // and that drain must leave it waiting for 5.010 s exactly, and
        // fire it then, not before.
        let log = Arc::new(Mutex::new(Vec::new()));
        let base = Instant::now();
        let mut timers = Timers::starting_at(base);
        timers.insert(base + ms(60_000), recorder(1, &log));
        assert_eq!(fire(&mut timers, base + ms(5_000)), 0);
        timers.insert(base + ms(5_010), recorder(2, &log));
        let early = timers.next_deadline().unwrap();
        assert!(early <= base + ms(5_010), "parks past a timer: {early:?}");
        assert_eq!(fire(&mut timers, base + ms(5_000)), 0);
        assert_eq!(timers.next_deadline(), Some(base + ms(5_010)));
        assert_eq!(
            fire(&mut timers, base + ms(5_010) - Duration::from_nanos(1)),
            0
        );
        assert_eq!(fire(&mut timers, base + ms(5_010)), 1);
        assert_eq!(*log.lock().unwrap(), vec![2]);
    }

    #[test]
    fn a_timer_moved_earlier_fires_at_its_new_deadline() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let base = Instant::now();
        let mut timers = Timers::starting_at(base);
        let key = timers.insert(base + ms(60_000), recorder(1, &log));
        timers.reschedule(key, base + ms(5)).unwrap();
        assert_eq!(timers.next_deadline(), Some(base + ms(5)));
        assert_eq!(fire(&mut timers, base + ms(5)), 1);
        assert_eq!(*log.lock().unwrap(), vec![1]);
    }

    #[test]
    fn drain_expired_hands_back_wakers_without_waking() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let at = Instant::now();
        let mut timers = Timers::starting_at(at);
        timers.insert(at, recorder(1, &log));
        timers.insert(at + ms(1), recorder(2, &log));
        let mut out = Vec::new();
        assert_eq!(timers.drain_expired(at, &mut out), 1);
        assert!(log.lock().unwrap().is_empty());
        out.pop().unwrap().wake();
        assert_eq!(*log.lock().unwrap(), vec![1]);
        assert_eq!(timers.len(), 1);
    }

    #[test]
    #[cfg_attr(miri, ignore = "Miri: too slow interpreted (safe code at scale)")]
    fn a_million_timers_cancelled_leave_none_behind() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let waker = recorder(0, &log);
        let base = Instant::now();
        let mut timers = Timers::starting_at(base);
        // Spread deadlines so the map has a real shape, not one long run.
        let keys: Vec<TimerKey> = (0..1_000_000u64)
            .map(|i| {
                timers.insert(
                    base + Duration::from_micros((i * 7919) % 1_000_003),
                    waker.clone(),
                )
            })
            .collect();
        assert_eq!(timers.len(), 1_000_000);
        for key in keys {
            timers.cancel(key);
        }
        assert_eq!(timers.len(), 0);
        assert_eq!(timers.next_deadline(), None);
        // The slab cannot shrink while keys point into it, but once the
        // last timer is gone its memory is given back.
        assert!(timers.entries.capacity() <= KEEP_CAPACITY);
        assert_eq!(fire(&mut timers, base + Duration::from_secs(10)), 0);
        assert!(log.lock().unwrap().is_empty());
    }

    #[test]
    fn a_deadline_inside_a_millisecond_fires_at_its_end_never_before() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let base = Instant::now();
        let mut timers = Timers::starting_at(base);
        timers.insert(base + Duration::from_micros(10_500), recorder(1, &log));
        assert_eq!(timers.next_deadline(), Some(base + ms(11)));
        assert_eq!(fire(&mut timers, base + Duration::from_micros(10_499)), 0);
        // Past the deadline but inside its millisecond: rounding the
        // deadline down instead of up would fire it before 10.5 ms.
        assert_eq!(fire(&mut timers, base + Duration::from_micros(10_999)), 0);
        assert_eq!(fire(&mut timers, base + ms(11)), 1);
        assert_eq!(*log.lock().unwrap(), vec![1]);
    }

    #[test]
    fn a_deadline_already_past_fires_at_the_next_drain() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let base = Instant::now();
        let mut timers = Timers::starting_at(base);
        assert_eq!(fire(&mut timers, base + ms(500)), 0);
        timers.insert(base + ms(100), recorder(1, &log));
        timers.insert(base, recorder(2, &log));
        // Due already: the runtime must not park at all.
        assert!(timers.next_deadline().unwrap() <= base + ms(500));
        assert_eq!(fire(&mut timers, base + ms(500)), 2);
        assert_eq!(*log.lock().unwrap(), vec![2, 1]);
    }

    #[test]
    fn far_deadlines_fire_on_time_after_a_few_early_wakeups() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let base = Instant::now();
        let mut timers = Timers::starting_at(base);
        let year = Duration::from_secs(365 * 24 * 3600);
        // Level 1, level 3, level 5, the overflow list, and what
        // `sleep(Duration::MAX)` asks for.
        let deadlines = [ms(100), ms(1_000_000), year, year * 3, year * 30];
        for (label, &after) in deadlines.iter().enumerate() {
            timers.insert(
                base + after + Duration::from_micros(300),
                recorder(label as u32, &log),
            );
        }
        // Park until next_deadline and drain, the way the runtime does.
        let mut wakeups = 0;
        while let Some(next) = timers.next_deadline() {
            let fired_before = log.lock().unwrap().len();
            fire(&mut timers, next);
            for &label in &log.lock().unwrap()[fired_before..] {
                let deadline = base + deadlines[label as usize] + Duration::from_micros(300);
                assert!(deadline <= next, "timer {label} fired early");
                assert!(next - deadline < ms(1), "timer {label} fired late");
            }
            wakeups += 1;
            assert!(wakeups < 100, "the wheel keeps waking without firing");
        }
        assert_eq!(*log.lock().unwrap(), vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn thousands_of_timers_in_one_millisecond_fire_in_exact_deadline_order() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let base = Instant::now();
        let mut timers = Timers::starting_at(base);
        // Enough to take the counting sort; offsets repeat, so many ties
        // must fall back on insertion order.
        let offset = |label: u32| Duration::from_nanos(u64::from(label * 7_919 % 1_000) * 997);
        for label in 0..5_000u32 {
            timers.insert(base + ms(40) + offset(label), recorder(label, &log));
        }
        assert_eq!(fire(&mut timers, base + ms(41)), 5_000);
        let mut expected: Vec<u32> = (0..5_000).collect();
        expected.sort_by_key(|&label| (offset(label), label));
        assert_eq!(*log.lock().unwrap(), expected);
    }
}
