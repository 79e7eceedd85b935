//! `Timers`' unit tests: a child module of `timers.rs`, in a file of its
//! own so that the wheel's code reads in one sitting.

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
