//! [`Timers`]: every pending timer of one runtime, ordered by deadline.
//!
//! The runtime core owns one `Timers`. `Sleep` inserts an entry on its first
//! pending poll, refreshes the waker on later polls and cancels on drop; the
//! core asks [`Timers::next_deadline`] how long it may park and calls
//! [`Timers::drain_expired`] after every driver turn, waking what it
//! returns once its borrow of the timers has ended.

use std::collections::BTreeMap;
use std::fmt;
use std::task::Waker;
use std::time::Instant;

use super::timer_key::TimerKey;

/// The pending timers of one runtime.
///
/// An ordered map from `(deadline, seq)` to the waker to wake. Insert, cancel
/// and waker updates are O(log n); finding the next deadline is O(log n) (the
/// leftmost leaf); firing k expired timers is O(k log n). Removing an entry
/// frees its slot: a million cancelled timers leave nothing behind.
pub(crate) struct Timers {
    /// Every pending timer, iterated in deadline order (see [`TimerKey`]).
    entries: BTreeMap<TimerKey, Waker>,
    /// Sequence number of the next insert; only ever grows, so keys are
    /// unique for the life of the runtime (u64 cannot wrap in practice).
    next_seq: u64,
}

impl Timers {
    /// An empty set of timers.
    pub(crate) fn new() -> Timers {
        Timers {
            entries: BTreeMap::new(),
            next_seq: 0,
        }
    }

    /// Adds a timer that wakes `waker` once `deadline` has passed.
    pub(crate) fn insert(&mut self, deadline: Instant, waker: &Waker) -> TimerKey {
        let key = TimerKey {
            deadline,
            seq: self.next_seq,
        };
        self.next_seq += 1;
        self.entries.insert(key, waker.clone());
        key
    }

    /// Replaces the waker of a pending timer.
    ///
    /// Clones only when the stored waker would not wake the same task (the
    /// common re-poll from the same task costs a comparison, not an atomic
    /// increment). Returns `false` when the key no longer names a pending
    /// timer (it fired or was cancelled): the caller must insert anew.
    pub(crate) fn update_waker(&mut self, key: TimerKey, waker: &Waker) -> bool {
        match self.entries.get_mut(&key) {
            Some(stored) => {
                if !stored.will_wake(waker) {
                    *stored = waker.clone();
                }
                true
            }
            None => false,
        }
    }

    /// Moves a pending timer to a new deadline, keeping its waker.
    ///
    /// Returns the new key, or `None` when `key` had already fired or been
    /// cancelled (its waker was already woken or dropped; nothing to move).
    pub(crate) fn reschedule(&mut self, key: TimerKey, deadline: Instant) -> Option<TimerKey> {
        let waker = self.entries.remove(&key)?;
        let new_key = TimerKey {
            deadline,
            seq: self.next_seq,
        };
        self.next_seq += 1;
        self.entries.insert(new_key, waker);
        Some(new_key)
    }

    /// Removes a timer and frees its entry. Harmless when it already fired.
    pub(crate) fn cancel(&mut self, key: TimerKey) {
        self.entries.remove(&key);
    }

    /// The earliest pending deadline: the runtime parks at most until then.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.entries.first_key_value().map(|(key, _)| key.deadline)
    }

    /// Removes every timer whose deadline is at or before `now` and appends
    /// their wakers to `out` in deadline order, without waking them.
    ///
    /// Returns how many were removed. Lets the runtime wake outside whatever
    /// borrow guards its `Timers`.
    pub(crate) fn drain_expired(&mut self, now: Instant, out: &mut Vec<Waker>) -> usize {
        let mut count = 0;
        while let Some(entry) = self.entries.first_entry() {
            if entry.key().deadline > now {
                break;
            }
            out.push(entry.remove());
            count += 1;
        }
        count
    }

    /// How many timers are pending.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no timer is pending (lets the runtime skip the clock read).
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
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
        let mut timers = Timers::new();
        timers.insert(base + ms(30), &recorder(3, &log));
        timers.insert(base + ms(10), &recorder(1, &log));
        timers.insert(base + ms(20), &recorder(2, &log));

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
        let mut timers = Timers::new();
        for label in 0..5 {
            timers.insert(at, &recorder(label, &log));
        }
        assert_eq!(fire(&mut timers, at), 5);
        assert_eq!(*log.lock().unwrap(), vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn next_deadline_is_the_earliest_pending_one() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let base = Instant::now();
        let mut timers = Timers::new();
        assert_eq!(timers.next_deadline(), None);
        let late = timers.insert(base + ms(50), &recorder(0, &log));
        assert_eq!(timers.next_deadline(), Some(base + ms(50)));
        let early = timers.insert(base + ms(5), &recorder(1, &log));
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
        let mut timers = Timers::new();
        let key = timers.insert(base, &recorder(7, &log));
        timers.insert(base, &recorder(8, &log));
        timers.cancel(key);
        assert_eq!(timers.len(), 1);
        assert_eq!(fire(&mut timers, base), 1);
        assert_eq!(*log.lock().unwrap(), vec![8]);
    }

    #[test]
    fn cancel_after_fire_is_harmless_and_spares_newer_timers() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let at = Instant::now();
        let mut timers = Timers::new();
        let fired = timers.insert(at, &recorder(1, &log));
        assert_eq!(fire(&mut timers, at), 1);
        // A newer timer with the very same deadline must not be taken for
        // the fired one: the sequence number tells them apart.
        let newer = timers.insert(at, &recorder(2, &log));
        timers.cancel(fired);
        timers.cancel(fired);
        assert_eq!(timers.len(), 1);
        assert!(!timers.update_waker(fired, &recorder(3, &log)));
        assert_eq!(timers.reschedule(fired, at), None);
        assert_eq!(fire(&mut timers, at), 1);
        assert_eq!(*log.lock().unwrap(), vec![1, 2]);
        timers.cancel(newer);
        assert!(timers.is_empty());
    }

    #[test]
    fn update_waker_replaces_the_waker_that_fires() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let at = Instant::now();
        let mut timers = Timers::new();
        let key = timers.insert(at, &recorder(1, &log));
        assert!(timers.update_waker(key, &recorder(2, &log)));
        assert_eq!(fire(&mut timers, at), 1);
        assert_eq!(*log.lock().unwrap(), vec![2]);
    }

    #[test]
    fn reschedule_moves_deadline_and_keeps_waker() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let base = Instant::now();
        let mut timers = Timers::new();
        let key = timers.insert(base + ms(10), &recorder(1, &log));
        let moved = timers.reschedule(key, base + ms(40)).unwrap();
        assert_eq!(moved.deadline, base + ms(40));
        assert_eq!(timers.len(), 1);
        assert_eq!(fire(&mut timers, base + ms(39)), 0);
        timers.cancel(key); // the old key is stale and must not touch the moved timer
        assert_eq!(fire(&mut timers, base + ms(40)), 1);
        assert_eq!(*log.lock().unwrap(), vec![1]);
    }

    #[test]
    fn drain_expired_hands_back_wakers_without_waking() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let at = Instant::now();
        let mut timers = Timers::new();
        timers.insert(at, &recorder(1, &log));
        timers.insert(at + ms(1), &recorder(2, &log));
        let mut out = Vec::new();
        assert_eq!(timers.drain_expired(at, &mut out), 1);
        assert!(log.lock().unwrap().is_empty());
        out.pop().unwrap().wake();
        assert_eq!(*log.lock().unwrap(), vec![1]);
        assert_eq!(timers.len(), 1);
    }

    #[test]
    fn a_million_timers_cancelled_leave_none_behind() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let waker = recorder(0, &log);
        let base = Instant::now();
        let mut timers = Timers::new();
        // Spread deadlines so the map has a real shape, not one long run.
        let keys: Vec<TimerKey> = (0..1_000_000u64)
            .map(|i| timers.insert(base + Duration::from_micros((i * 7919) % 1_000_003), &waker))
            .collect();
        assert_eq!(timers.len(), 1_000_000);
        for key in keys {
            timers.cancel(key);
        }
        assert_eq!(timers.len(), 0);
        assert_eq!(timers.next_deadline(), None);
        assert_eq!(fire(&mut timers, base + Duration::from_secs(10)), 0);
        assert!(log.lock().unwrap().is_empty());
    }
}
